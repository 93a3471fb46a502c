"""The replay's closed vocabulary: every function, method and attribute a handed-over forward pass may use.

This module belongs to the checker's side of the trust boundary: it names what a replayed step
may call, and nothing the data sends can add to it. A forward pass arrives in one of two forms,
and each has its names here:

* traced by ``torch.fx`` (``FUNCTIONS`` under ``torch.``, ``torch.nn.functional.``, ``operator.``,
  ``math.`` and ``builtins.getattr``; ``TENSOR_METHODS``; ``TENSOR_ATTRIBUTES``), the calls as the
  student wrote them;
* exported by ``torch.export`` (``FUNCTIONS`` under ``aten.``), the ATen operators those calls
  become, for a forward pass whose Python reads shapes (``if x.dim() == 1``, ``len(x)``).

What a step writes and how much it allocates is judged by its effect, when it runs
(``self_check.replay``), so the vocabulary may hold in-place forms and ``out=`` overloads: a write
into a tensor the replay did not create is refused whoever spells it. ``LEFT_OUT`` names what tensor
code in a forward pass might use but the replay refuses, each with its reason.
"""

import math
import operator

import torch

# Tensor math that is both a torch function and a tensor method: pure, on tensors, no callables.
_TENSOR_MATH = """
abs add addcdiv addcmul addmm all amax amin any argmax argmin argsort atan2 baddbmm bmm ceil chunk clamp clamp_max
clamp_min clip clone cos cosh cummax cummin cumprod cumsum detach diag diagonal diff div dot eq erf exp expm1 flatten
flip floor floor_divide fmod gather ge gt hypot index_add index_fill index_select isfinite isinf isnan kthvalue le
lerp log log10 log1p log2 logaddexp logical_and logical_not logical_or logical_xor logsumexp lt masked_fill matmul max
maximum mean median min minimum mm movedim mul nan_to_num narrow ne neg norm outer permute pow prod reciprocal relu
remainder repeat_interleave reshape roll rot90 round rsqrt scatter scatter_add select sigmoid sign sin sinh softmax
sort split sqrt square squeeze std sub sum swapaxes t tan tanh tile topk transpose tril triu true_divide trunc
unbind unflatten unsqueeze var where
""".split()
# Functions that only torch has: joining tensors, and tensors built from sizes, constants or other tensors.
_TORCH_ONLY = """
arange as_tensor broadcast_to cat cdist column_stack concat concatenate einsum eye full full_like hstack linspace
ones ones_like rand rand_like randn randn_like scalar_tensor stack tensor vstack zeros zeros_like
sym_float sym_int sym_max sym_min sym_not
""".split()
# The layers' functional forms.
_FUNCTIONAL = """
adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool1d adaptive_max_pool2d alpha_dropout avg_pool1d avg_pool2d
batch_norm bilinear celu conv1d conv2d conv_transpose1d conv_transpose2d cosine_similarity dropout dropout1d
dropout2d elu embedding gelu glu group_norm hardshrink hardsigmoid hardswish hardtanh instance_norm interpolate
layer_norm leaky_relu linear log_softmax logsigmoid max_pool1d max_pool2d mish normalize one_hot pad
pairwise_distance pixel_shuffle prelu relu relu6 selu sigmoid silu softmax softmin softplus softshrink softsign tanh
tanhshrink threshold unfold
""".split()
# Methods that only tensors have: views, shapes, conversions, and the `new_*` builders.
_METHODS_ONLY = """
bfloat16 bool contiguous cpu dim double element_size expand expand_as float half int is_contiguous
is_floating_point item long new_full new_ones new_tensor new_zeros numel repeat reshape_as size to type_as view
view_as
""".split()
# In-place forms: replayed as written, on the replay's own tensors only (self_check.replay judges the write).
_IN_PLACE_METHODS = sorted(
    {f"{name}_" for name in _TENSOR_MATH if hasattr(torch.Tensor, f"{name}_")} | {"fill_", "zero_", "copy_"}
)
_OPERATORS = """
abs add and_ eq floordiv ge getitem gt iadd iand ifloordiv imod imul invert ior ipow isub itruediv ixor le lt matmul
mod mul ne neg not_ or_ pos pow setitem sub truediv truth xor
""".split()
_MATH = "ceil floor sqrt".split()

# The ATen operators of an exported forward pass, by name: each one's overloads on tensors.
_ATEN = """
_adaptive_avg_pool2d _log_softmax _native_batch_norm_legit _native_batch_norm_legit_no_training _softmax _to_copy
_unsafe_view abs adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool1d adaptive_max_pool2d add addcdiv
addcmul addmm alias all alpha_dropout amax amin any arange argmax argmin argsort atan2 avg_pool1d avg_pool2d
baddbmm batch_norm bilinear bitwise_and bitwise_not bitwise_or bitwise_xor bmm broadcast_to cat cdist ceil celu
chunk clamp clamp_max clamp_min clip clone constant_pad_nd contiguous conv1d conv2d conv_transpose1d
conv_transpose2d convolution copy copy_ cos cosh cosine_similarity cummax cummin cumprod cumsum detach diag
diagonal diff div dot dropout einsum elu embedding eq erf exp expand expand_as expm1 eye feature_alpha_dropout
feature_dropout fill fill_ flatten flip floor floor_divide fmod full full_like gather ge gelu glu group_norm gt
hardshrink hardsigmoid hardswish hardtanh hypot index index_add index_fill index_put index_put_ index_select
instance_norm isfinite isinf isnan item kthvalue layer_norm le leaky_relu lerp lift_fresh_copy linalg_vector_norm
linear linspace log log10 log1p log2 log_sigmoid_forward log_softmax logaddexp logical_and logical_not logical_or
logical_xor logsumexp lt masked_fill matmul max max_pool1d max_pool2d max_pool2d_with_indices maximum mean median
min minimum mish mm movedim mul nan_to_num narrow native_batch_norm native_dropout native_group_norm
native_layer_norm ne neg new_full new_ones new_zeros norm one_hot ones ones_like outer pad permute pixel_shuffle
pow prelu prod rand rand_like randn randn_like reciprocal relu relu6 remainder repeat repeat_interleave reshape
roll rot90 round rsqrt rsub scalar_tensor scatter scatter_add select select_scatter selu sigmoid sign silu sin sinh
slice slice_scatter softmax softplus softshrink sort split split_with_sizes sqrt square squeeze stack std sub sum
swapaxes sym_numel sym_size sym_storage_offset sym_stride t tan tanh threshold tile topk transpose tril triu
true_divide trunc type_as unbind unflatten unfold unsqueeze upsample_bilinear2d upsample_nearest2d var view view_as
where zero zero_ zeros zeros_like
_assert_tensor_metadata
""".split()

# What tensor code in a forward pass could use, refused, each with its reason.
LEFT_OUT = {
    "empty empty_like new_empty empty_strided": "uninitialised memory: it may hold what the checker computed before",
    "numpy tolist data_ptr storage untyped_storage storage_offset": "they leave tensors for raw memory or Python lists",
    "save load from_file set_ resize_ as_strided": "files, and tensors that rebind or reinterpret memory",
    "register_hook apply_ map_ backward retain_grad": "they run a callable the data would choose, or autograd",
    "nonzero unique masked_select": "their output's size depends on the data, so it cannot be bounded before they run",
}


def _overloads_on_tensors(name):
    """``{"aten.NAME.OVERLOAD": operator}`` for the overloads of ``aten.NAME`` that take or give tensors."""
    packet = getattr(torch.ops.aten, name, None)
    if packet is None:  # an operator this release of torch does not have
        return {}
    found = {}
    for overload in packet.overloads():
        op = getattr(packet, overload)
        types = [str(argument.type) for argument in (*op._schema.arguments, *op._schema.returns)]
        returns = [str(argument.type) for argument in op._schema.returns]
        on_tensors = any("Tensor" in kind or "SymInt" in kind for kind in types)
        generic = any(kind.split("[")[0].rstrip("?") == "t" for kind in types)  # TorchScript's list operators
        if on_tensors and not generic and "str" not in returns:
            found[f"aten.{name}.{overload}"] = op
    return found


FUNCTIONS = {f"torch.{name}": getattr(torch, name) for name in _TENSOR_MATH + _TORCH_ONLY if hasattr(torch, name)}
FUNCTIONS |= {f"torch.nn.functional.{name}": getattr(torch.nn.functional, name) for name in _FUNCTIONAL}
FUNCTIONS |= {f"operator.{name}": getattr(operator, name) for name in _OPERATORS}
FUNCTIONS |= {f"math.{name}": getattr(math, name) for name in _MATH}
FUNCTIONS["builtins.getattr"] = getattr  # replayed apart: a tensor's data attributes, a result's named fields
for _name in _ATEN:  # each operator, and its in-place form where it has one (aten.relu_ for relu)
    FUNCTIONS |= _overloads_on_tensors(_name) | _overloads_on_tensors(f"{_name}_")
# what export writes for a condition its trace assumed (its message shortened to a name by the hand-over)
FUNCTIONS["aten._assert_scalar.default"] = torch.ops.aten._assert_scalar.default
FUNCTIONS["aten.sym_constrain_range_for_size.default"] = torch.ops.aten.sym_constrain_range_for_size.default
TENSOR_METHODS = frozenset([name for name in _TENSOR_MATH if hasattr(torch.Tensor, name)] + _METHODS_ONLY)
TENSOR_METHODS |= frozenset(_IN_PLACE_METHODS)
TENSOR_ATTRIBUTES = frozenset("T data device dtype is_cuda mT ndim requires_grad shape".split())

# torch.nn's layers that a hand-over may name, rebuilt from their settings
LAYERS = frozenset(
    """
    Module Sequential ModuleList ModuleDict Identity Linear Bilinear Conv1d Conv2d Conv3d ConvTranspose1d
    ConvTranspose2d MaxPool1d MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool2d
    BatchNorm1d BatchNorm2d LayerNorm GroupNorm Dropout Dropout1d Dropout2d Flatten Unflatten Embedding
    ReLU ReLU6 LeakyReLU PReLU ELU SELU CELU GELU SiLU Mish Softplus Softsign Hardtanh Hardswish Hardsigmoid Tanh
    Sigmoid LogSigmoid Softmax LogSoftmax Softmin
    BCELoss BCEWithLogitsLoss CrossEntropyLoss NLLLoss MSELoss L1Loss SmoothL1Loss HuberLoss
    """.split()
)
OPTIMIZERS = frozenset("SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam ASGD Rprop".split())
