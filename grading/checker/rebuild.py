"""Rebuild a student's answers from the plain data a kernel handed over. Trusted: no student code runs here.

``load_handover`` reads the bytes with ``torch.load(..., weights_only=True)``: PyTorch's
restricted unpickler, which rebuilds tensors, numbers, strings, lists and dicts and refuses
anything else, so loading runs no code of the sender's. ``rebuild`` then makes fresh objects
of known classes from that data (``grading/kernel/handover.py`` writes it):

* torch.nn's own layers, from a named list, from their class name and settings, checked against
  the layer's ``repr`` as the kernel printed it; a module of the student's own class as a
  ``HandedOverModule`` that holds the same layers and replays the traced forward pass step by step;
* optimizers of ``torch.optim`` over the rebuilt parameters, the same objects as the model's;
* matplotlib figures with the same axes, lines, points, filled regions and images;
* datasets, DataLoaders, NumPy values, and functions that answer the inputs they were tried on.

The replay is the one place where data chooses what runs, so its vocabulary is closed. Every value
a step receives or produces is a plain kind (``PLAIN_KINDS``: tensors, numbers, booleans, ``None``,
tuples and lists of those, sizes, dtypes, devices, slices, ``Ellipsis``; short text only as a
constant), checked as it is produced. A step calls a submodule, a function of ``FUNCTIONS`` (tensor
math and the layers' functional forms, each listed by name), a method of ``TENSOR_METHODS`` on a
tensor, or reads one of ``TENSOR_ATTRIBUTES`` of a tensor. Nothing is looked up by a name the data
chose, nothing that takes a callable or touches a file, a storage or global state is listed, and
whatever a step builds from constants is bounded in size. A step outside that vocabulary is refused
before the first step runs, with its number and what it does; every refusal is recorded
(``refusals``), so that a check that swallows the error still fails as malformed.

Malformed data raises ``MalformedHandover``, which fails the exercise that handed it over.
"""

import inspect
import io
import math
import operator
import string

import numpy as np
import torch
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from torch import nn
from torch.utils.data import DataLoader, Dataset

from grading.kernel.handover import HANDOVER_FORMAT, HANDOVER_LIMIT_BYTES

MAX_NESTING = 32  # levels of lists, dicts and objects in a hand-over
MAX_STEPS = 10_000  # steps of one forward pass
MAX_ELEMENTS = 2**26  # elements of a tensor a step produces or that a hand-over holds (256 MiB of float32)
MAX_ITEMS = 1_024  # items of a tuple or list a step receives or produces
MAX_INT = 2**62  # magnitude of an integer a step receives or produces
MAX_TEXT = 64  # characters of a text constant (an attribute's name, an einsum equation, a mode)
_TEXT_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_,.-> ")


class MalformedHandover(ValueError):
    """The data handed over is not what a kernel writes; the message says what is wrong."""


class NotHandedOver:
    """Stands for a value that could not be handed over; its class is named after the value's type."""

    def __init__(self, reason=""):
        self.reason = reason

    def __repr__(self):
        return f"<{type(self).__name__} that could not be handed over{': ' + self.reason if self.reason else ''}>"


def _stand_in(type_name, reason=""):
    name = type_name if type_name.isidentifier() else "Unknown"
    return type(name, (NotHandedOver,), {})(reason)


# ---------------------------------------------------------------------- the replay's vocabulary, by name
# Tensor math that is both a torch function and a tensor method: pure, on tensors, no callables.
_TENSOR_MATH = """
abs add addmm all amax amin any argmax argmin atan2 bmm ceil chunk clamp clip clone cos cumsum detach div dot eq
erf exp expm1 flatten flip floor fmod gather ge gt index_select isnan le lerp log log10 log1p log2 log_softmax
logical_and logical_not logical_or logsumexp lt masked_fill matmul max maximum mean min minimum mm mul narrow ne neg
norm permute pow prod reciprocal relu remainder reshape round rsqrt select sigmoid sign sin softmax split sqrt square
squeeze std sub sum t tanh transpose tril triu true_divide unbind unsqueeze var where
""".split()
# Functions that only torch has: joining tensors, and tensors built from sizes or from other tensors.
_TORCH_ONLY = "arange cat concat einsum full full_like hstack ones ones_like stack vstack zeros zeros_like".split()
# The layers' functional forms.
_FUNCTIONAL = """
adaptive_avg_pool1d adaptive_avg_pool2d avg_pool1d avg_pool2d celu conv1d conv2d dropout elu gelu hardsigmoid
hardswish hardtanh layer_norm leaky_relu linear log_softmax logsigmoid max_pool1d max_pool2d mish normalize pad relu
relu6 selu sigmoid silu softmax softmin softplus tanh
""".split()
# Methods that only tensors have: views, shapes and conversions.
_METHODS_ONLY = """
bfloat16 bool contiguous cpu dim double expand expand_as float half int item long numel repeat reshape_as size to
type_as view view_as
""".split()
_OPERATORS = (
    "abs add and_ eq floordiv ge getitem gt invert le lt matmul mod mul ne neg or_ pos pow sub truediv xor".split()
)
_IN_PLACE_OPERATORS = {"iadd": "add", "isub": "sub", "imul": "mul", "itruediv": "truediv", "ifloordiv": "floordiv"}
_MATH = "ceil floor sqrt".split()

FUNCTIONS = {f"torch.{name}": getattr(torch, name) for name in _TENSOR_MATH + _TORCH_ONLY}
FUNCTIONS |= {f"torch.nn.functional.{name}": getattr(torch.nn.functional, name) for name in _FUNCTIONAL}
FUNCTIONS |= {f"operator.{name}": getattr(operator, name) for name in _OPERATORS}
# an in-place operator on a step's value is replayed as its pure form: the same result, nothing overwritten
FUNCTIONS |= {f"operator.{name}": getattr(operator, pure) for name, pure in _IN_PLACE_OPERATORS.items()}
FUNCTIONS |= {f"math.{name}": getattr(math, name) for name in _MATH}
FUNCTIONS["builtins.getattr"] = getattr  # replayed by _tensor_attribute: data attributes of tensors only
TENSOR_METHODS = frozenset(_TENSOR_MATH + _METHODS_ONLY)
TENSOR_ATTRIBUTES = frozenset("T data device dtype is_cuda mT ndim requires_grad shape".split())
PLAIN_KINDS = (
    "tensors, Python numbers, booleans and None, tuples and lists of those, torch.Size, dtypes, devices, "
    "slices and Ellipsis"
)
STEP_OPS = ("placeholder", "get_attr", "constant", "call_module", "call_function", "call_method", "output")

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

refusals: list[str] = []  # every refusal of a replay since judging began (self_check's judge reads and clears it)


def _size(sizes):
    """The number of elements of a shape given as ints, or as one tuple, list or torch.Size of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
        sizes = sizes[0]
    if not all(type(n) is int for n in sizes):
        raise ValueError("a size that is not made of integers")
    return math.prod(max(n, 0) for n in sizes)


def _arange_size(*args, **kwargs):
    bounds = [kwargs.get(name) for name in ("start", "end", "step") if name in kwargs] or list(args[:3])
    start, end, step = (0, bounds[0], 1) if len(bounds) == 1 else (*bounds[:2], bounds[2] if len(bounds) > 2 else 1)
    if not all(type(n) in (int, float) for n in (start, end, step)) or step == 0:
        raise ValueError("arange's bounds are not numbers")
    return max(0, math.ceil((end - start) / step))


def _pad_size(tensor, pad, *rest, **kwargs):
    shape = list(tensor.shape)
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise ValueError("pad's widths do not fit the tensor")
    for i in range(len(pad) // 2):
        shape[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    return math.prod(max(n, 0) for n in shape)


def _repeat_size(tensor, *sizes):
    return tensor.numel() * _size(sizes)


# what a step that builds a tensor from constants would build, worked out before it runs
_BUILT_SIZE = {
    "torch.zeros": lambda *a, **k: _size(a),
    "torch.ones": lambda *a, **k: _size(a),
    "torch.full": lambda size, *a, **k: _size((size,)),
    "torch.arange": _arange_size,
    "torch.nn.functional.pad": _pad_size,
    "repeat": _repeat_size,
}


def _sequence_product(step_args):
    """How long a sequence ``operator.mul`` of a sequence and an int builds (0 for anything else)."""
    a, b = (*step_args, None, None)[:2]
    if isinstance(a, tuple | list) and type(b) is int:
        return len(a) * b
    if isinstance(b, tuple | list) and type(a) is int:
        return len(b) * a
    return 0


def _check_plain(value, where, constant=False, depth=0):
    """``value`` when it is of a plain kind, within the bounds; a refusal naming ``where`` otherwise."""
    kind = type(value)
    if kind is torch.Tensor or kind is nn.Parameter:
        if value.layout is not torch.strided or value.is_quantized:
            raise MalformedHandover(f"{where} gives a {value.layout} tensor; only dense tensors may be computed on")
        if value.numel() > MAX_ELEMENTS:
            raise MalformedHandover(
                f"{where} gives a tensor of {value.numel()} elements, over the limit of {MAX_ELEMENTS}"
            )
        return value
    if value is None or value is Ellipsis or kind in (bool, float, torch.dtype, torch.device, torch.memory_format):
        return value
    if kind is int:
        if abs(value) > MAX_INT:
            raise MalformedHandover(f"{where} gives an integer of {value.bit_length()} bits, over the limit of 62")
        return value
    if kind is str and constant:
        if len(value) > MAX_TEXT or not set(value) <= _TEXT_CHARACTERS:
            raise MalformedHandover(f"{where} takes the text {value[:40]!r}, which is not a short name or equation")
        return value
    if kind is slice:
        for bound in (value.start, value.stop, value.step):
            _check_plain(bound, where, constant, depth + 1)
        return value
    if kind in (tuple, list, torch.Size) or kind.__module__ == "torch.return_types":
        if depth >= 8:
            raise MalformedHandover(f"{where} gives lists nested more than 8 deep")
        if len(value) > MAX_ITEMS:
            raise MalformedHandover(f"{where} gives a sequence of {len(value)} items, over the limit of {MAX_ITEMS}")
        items = [_check_plain(item, where, constant, depth + 1) for item in value]
        return items if kind is list else value if kind is torch.Size else tuple(items)
    raise MalformedHandover(f"{where} gives a {kind.__name__}; a forward pass may hold only {PLAIN_KINDS}")


def warm_up():
    """Call the replay's vocabulary once on small tensors, so that what torch imports on first use it imports now.

    The checker does this before its walls go up: a process that judges a hand-over may import
    nothing, and a listed function that imported a module on its first call would fail an honest
    forward pass. The fuzz test of the replay starts the same way.
    """
    x = torch.randn(3, 4)
    for function in FUNCTIONS.values():
        for arguments in ((x,), (x, x), (x, 1), (x, 0, 1), ((3, 4),)):
            try:
                function(*arguments)
            except Exception:  # noqa: S112  (most signatures refuse most of these arguments; calling is the point)
                continue
    for method in TENSOR_METHODS:
        for arguments in ((), (1,), (x,), (0, 1)):
            try:
                getattr(x, method)(*arguments)
            except Exception:  # noqa: S112
                continue


def _inplace_position(function):
    """Where ``function`` takes ``inplace`` positionally (a functional form that can overwrite its input), or None."""
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # a builtin without a signature: it has no `inplace`
        return None
    return parameters.index("inplace") if "inplace" in parameters else None


_INPLACE_AT = {name: _inplace_position(function) for name, function in FUNCTIONS.items()}


def _call_function(target, args, kwargs, where):
    if target == "builtins.getattr":
        obj, name, *default = (*args, None, None)[: max(2, len(args))]
        if type(obj) not in (torch.Tensor, nn.Parameter) or type(name) is not str or name not in TENSOR_ATTRIBUTES:
            shown = repr(name) if type(name) is str else f"a {type(name).__name__}"  # never a tensor's repr: it imports
            raise MalformedHandover(
                f"{where} reads {shown} of a {type(obj).__name__}; a forward pass may read only "
                f"{', '.join(sorted(TENSOR_ATTRIBUTES))} of a tensor"
            )
        if default or kwargs:
            raise MalformedHandover(f"{where} reads an attribute with a default; a tensor's data attributes need none")
        return getattr(obj, name)
    position = _INPLACE_AT[target]
    if "out" in kwargs or kwargs.get("inplace") or (position is not None and len(args) > position and args[position]):
        raise MalformedHandover(f"{where} writes into a tensor it was given (out= or inplace=)")
    if target in _BUILT_SIZE:
        _bounded(_BUILT_SIZE[target], args, kwargs, where)
    if target in ("operator.mul", "operator.imul") and _sequence_product(args) > MAX_ITEMS:
        raise MalformedHandover(f"{where} repeats a sequence to more than {MAX_ITEMS} items")
    if target == "operator.pow" and all(type(a) is int for a in args) and abs(args[1]) > 64:
        raise MalformedHandover(f"{where} raises an integer to the power {args[1]}, over the limit of 64")
    return FUNCTIONS[target](*args, **kwargs)


def _call_method(name, args, kwargs, where):
    obj = args[0] if args else None
    if type(obj) not in (torch.Tensor, nn.Parameter):
        raise MalformedHandover(
            f"{where} calls the method {name!r} of a {type(obj).__name__}; methods are called on tensors only"
        )
    if "out" in kwargs or kwargs.get("inplace"):
        raise MalformedHandover(f"{where} writes into a tensor it was given (out= or inplace=)")
    if name in _BUILT_SIZE:
        _bounded(_BUILT_SIZE[name], args, kwargs, where)
    return getattr(obj, name)(*args[1:], **kwargs)


def _bounded(size_of, args, kwargs, where):
    try:
        size = size_of(*args, **kwargs)
    except (TypeError, ValueError, IndexError, AttributeError) as error:
        raise MalformedHandover(f"{where} is given arguments that do not describe a size ({error})") from None
    if size > MAX_ELEMENTS:
        raise MalformedHandover(f"{where} would build {size} elements, over the limit of {MAX_ELEMENTS}")


class HandedOverModule(nn.Module):
    """A module of the student's own class, rebuilt: the same layers, and its forward pass as traced steps."""

    def __init__(self, steps=None, graph_error="", refusal=""):
        super().__init__()
        # not submodules or parameters: kept out of nn.Module's registries
        self.__dict__["_steps"] = steps
        self.__dict__["_graph_error"] = graph_error  # why the kernel could not trace forward()
        self.__dict__["_refusal"] = refusal  # why the rebuild refused the steps it was handed

    def forward(self, *args, **kwargs):
        try:
            return self._replay(args, kwargs)
        except MalformedHandover as refusal:
            refusals.append(str(refusal))
            raise

    def _replay(self, args, kwargs):
        owner = f"{type(self).__name__}.forward"
        if self.__dict__["_refusal"]:
            raise MalformedHandover(self.__dict__["_refusal"])
        steps = self.__dict__["_steps"]
        if steps is None:
            raise RuntimeError(
                f"the forward pass of {type(self).__name__} could not be handed over: {self.__dict__['_graph_error']}. "
                "Write forward() with torch operations and layers only (no Python control flow on tensor values)"
            )
        values, positional = [], list(args)
        for index, step in enumerate(steps):
            op, target = step["op"], step["target"]
            where = f"step {index} of {owner} ({op} {target})".replace(" )", ")")
            step_args = _argument(step["args"], values)
            step_kwargs = _argument(step["kwargs"], values)
            if op == "placeholder":
                if positional:
                    value = positional.pop(0)
                elif target in kwargs:
                    value = kwargs[target]
                elif step_args:
                    value = step_args[0]  # the parameter's default
                else:
                    raise TypeError(f"{owner}() is missing its argument {target!r}")
            elif op == "get_attr":
                value = _resolve(self, target, where, tensor=True)
            elif op == "constant":
                value = step_args[0]
            elif op == "call_module":
                value = _resolve(self, target, where, tensor=False)(*step_args, **step_kwargs)
            elif op == "call_function":
                value = _call_function(target, step_args, step_kwargs, where)
            elif op == "call_method":
                value = _call_method(target, step_args, step_kwargs, where)
            else:  # output
                return _check_plain(step_args[0], where)
            values.append(_check_plain(value, where))
        raise MalformedHandover(f"{owner} has no output step")


def _argument(node, values):
    """A step's argument, as ``_Rebuilder.step_argument`` checked it: a constant, or an earlier step's value."""
    kind = node["kind"]
    if kind == "constant":
        return node["value"]
    if kind == "node":
        return values[node["index"]]
    if kind == "dict":
        return {key: _argument(value, values) for key, value in node["items"]}
    items = [_argument(item, values) for item in node["items"]]
    return items if kind == "list" else tuple(items) if kind == "tuple" else slice(*items)


def _resolve(module, target, where, tensor):
    """The submodule (``tensor`` False) or the parameter or buffer (True) that ``target`` names in ``module``."""
    *path, last = target.split(".")
    for part in path:
        module = module._modules.get(part)
        if module is None:
            raise MalformedHandover(f"{where} reads {target!r}, which the module does not have")
    found = (
        (module._parameters.get(last) if last in module._parameters else module._buffers.get(last))
        if tensor
        else module._modules.get(last)
    )
    if found is None:
        raise MalformedHandover(
            f"{where} reads {target!r}, which the module does not have as a {'tensor' if tensor else 'layer'}"
        )
    return found


class HandedOverDataset(Dataset):
    """A dataset rebuilt from its items: ``len``, indexing and the class names, as the original had them."""

    def __init__(self, features=None, labels=None, label_type="int", items=None):
        self.features, self.labels, self.label_type, self.items = features, labels, label_type, items
        if labels is not None:
            self.targets = labels

    def __len__(self):
        return len(self.items) if self.items is not None else len(self.labels)

    def __getitem__(self, index):
        if self.items is not None:
            return self.items[index]
        label = self.labels[index]
        return self.features[index], int(label) if self.label_type == "int" else label


class HandedOverFunction:
    """A function, as its results on the inputs the exercise tried it on."""

    def __init__(self, name, calls):
        self.__name__, self.calls = name, calls

    def __call__(self, *arguments):
        for tried, result in self.calls:
            if _same(tried, arguments):
                if "raised" in result:
                    raise RuntimeError(f"{self.__name__}{_shown(arguments)} raised {result['raised']}")
                return result["value"]
        raise LookupError(
            f"{self.__name__} was handed over with its results on {len(self.calls)} inputs, and this is not one of "
            "them: the exercise's probes must name every input its check tries"
        )


def _shown(arguments):
    return (
        "("
        + ", ".join(f"tensor of shape {tuple(a.shape)}" if isinstance(a, torch.Tensor) else repr(a) for a in arguments)
        + ")"
    )


def _same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and torch.equal(a.cpu(), b.cpu())
        )
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


class _Rebuilder:
    def __init__(self, plain):
        if not isinstance(plain, dict) or plain.get("format") != HANDOVER_FORMAT:
            raise MalformedHandover("this is not a hand-over of the course's format")
        self.objects = plain.get("objects")
        if not isinstance(self.objects, list):
            raise MalformedHandover("the hand-over has no list of objects")
        self.built = {}
        self.depth = 0  # how deep in lists, dicts and objects the rebuild is now

    def value(self, node):
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
            raise MalformedHandover(f"unexpected {type(node).__name__} in the hand-over")
        if self.depth >= MAX_NESTING:
            raise MalformedHandover(f"the hand-over nests lists, dicts and objects more than {MAX_NESTING} deep")
        self.depth += 1
        try:
            return self._value(node, node["kind"])
        finally:
            self.depth -= 1

    def _value(self, node, kind):
        if kind == "ref":
            return self.ref(node.get("id"))
        if kind in ("list", "tuple"):
            items = [self.value(item) for item in _list(node, "items")]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            return {_hashable(self.value(k)): self.value(v) for k, v in _pairs(node)}
        if kind == "ndarray":
            return _tensor(node.get("data")).numpy()
        if kind == "npscalar":
            dtype = np.dtype(_text(node, "dtype"))
            if dtype.kind not in "biuf":
                raise MalformedHandover(f"a NumPy scalar of {dtype}, not of numbers")
            return dtype.type(node.get("value"))
        if kind == "dtype":
            return _torch_attribute(_text(node, "name"), torch.dtype)
        if kind == "device":
            return torch.device(_text(node, "name"))
        if kind == "memory_format":
            return _torch_attribute(_text(node, "name"), torch.memory_format)
        if kind == "size":
            return torch.Size([int(n) for n in _list(node, "items")])
        if kind == "slice":
            return slice(*(self.value(item) for item in _list(node, "items")))
        if kind == "ellipsis":
            return Ellipsis
        if kind == "range":
            return range(*(int(n) for n in _list(node, "items")))
        if kind == "function":
            calls = [
                (self.value(args), {k: self.value(v) if k == "value" else _plain_text(v) for k, v in result.items()})
                for args, result in _list(node, "calls")
            ]
            return HandedOverFunction(_text(node, "name"), calls)
        if kind == "unsupported":
            return _stand_in(_text(node, "type"), _plain_text(node.get("reason")))
        raise MalformedHandover(f"unknown kind {_named(kind)}")

    def ref(self, number):
        if not isinstance(number, int) or not 0 <= number < len(self.objects):
            raise MalformedHandover(f"a reference to object {_named(number)}, which is not in the hand-over")
        if number in self.built:
            if self.built[number] is None:
                raise MalformedHandover("an object refers back to itself (a loop of references)")
            return self.built[number]
        self.built[number] = None
        node = self.objects[number]
        kind = node.get("kind") if isinstance(node, dict) else None
        builders = {
            "tensor": self.tensor,
            "module": self.module,
            "optimizer": self.optimizer,
            "figure": self.figure,
            "dataset": self.dataset,
            "dataloader": self.loader,
        }
        if kind not in builders:
            raise MalformedHandover(f"object {number} is of unknown kind {_named(kind)}")
        self.built[number] = builders[kind](node)
        return self.built[number]

    def plain(self, node, where):
        """A constant of a forward pass or a layer's setting, rebuilt: of a plain kind, or text, or refused."""
        return _check_plain(self.value(node), where, constant=True)

    # ------------------------------------------------------------------ one kind each
    @staticmethod
    def tensor(node):
        data = _tensor(node.get("data"))
        device = torch.device(_text(node, "device"))
        if device.type == "cuda" and not torch.cuda.is_available():
            device = torch.device("cpu")
        data = data.to(device)
        if node.get("parameter"):
            return nn.Parameter(data, requires_grad=bool(node.get("requires_grad")))
        return data.requires_grad_(bool(node.get("requires_grad")) and data.is_floating_point())

    def module(self, node):
        torch_class = node.get("torch_class")
        if torch_class is not None:
            if torch_class not in LAYERS:
                raise MalformedHandover(
                    f"nn.{_plain_text(torch_class)} is not one of the torch.nn layers a hand-over may name"
                )
            cls = getattr(nn, torch_class)
            module = cls() if node.get("settings") is None else self.layer(cls, node)
        else:
            name = _text(node, "class")
            cls = type(name if name.isidentifier() else "HandedOverModule", (HandedOverModule,), {})
            if node.get("graph") is None:
                module = cls(None, _plain_text(node.get("graph_error")))
            else:
                try:
                    module = cls(self.steps(_list(node, "graph"), name))
                except MalformedHandover as refusal:  # refused now, failing only the checks that run it
                    module = cls(None, refusal=str(refusal))
        for name, child in _pairs(node, "children"):
            child = self.value(child)
            if not isinstance(child, nn.Module):
                raise MalformedHandover(f"the child {_named(name)} of a module is not a module")
            module._modules[_attribute(name)] = child
        for registry, key in ((module._parameters, "parameters"), (module._buffers, "buffers")):
            for name, tensor in _pairs(node, key):
                value = self.value(tensor)
                if value is not None and not isinstance(value, torch.Tensor):
                    raise MalformedHandover(f"the {key[:-1]} {_named(name)} of a module is not a tensor")
                expected = registry.get(name)
                if isinstance(expected, torch.Tensor) and value is not None and expected.shape != value.shape:
                    raise MalformedHandover(
                        f"{type(module).__name__}.{name} has shape {tuple(value.shape)}, but the layer "
                        f"its settings build has {tuple(expected.shape)}"
                    )
                if key == "parameters" and value is not None and not isinstance(value, nn.Parameter):
                    raise MalformedHandover(f"the parameter {_named(name)} of a module is not a parameter")
                registry[_attribute(name)] = value
        module.train(bool(node.get("training")))
        if torch_class is not None and node.get("settings") is not None and repr(module) != node.get("repr"):
            raise MalformedHandover(
                f"nn.{torch_class} rebuilt from its settings reads {repr(module)[:200]!r}, "
                f"but the notebook's reads {_named(node.get('repr'))[:200]}"
            )
        return module

    def layer(self, cls, node):
        if not isinstance(node["settings"], dict):
            raise MalformedHandover("a layer's settings are not a dict")
        settings = {
            _attribute(k): self.plain(v, f"the setting {_named(k)} of nn.{cls.__name__}")
            for k, v in node["settings"].items()
        }
        try:
            return cls(**settings)
        except Exception:  # the settings do not build this layer
            raise MalformedHandover(f"nn.{cls.__name__} cannot be built from its settings {sorted(settings)}") from None

    def steps(self, graph, owner):
        """The steps of a traced forward pass, each checked against the replay's vocabulary before any runs."""
        if len(graph) > MAX_STEPS:
            raise MalformedHandover(
                f"the forward pass of {owner} has {len(graph)} steps, over the limit of {MAX_STEPS}"
            )
        steps = []
        for index, step in enumerate(graph):
            op, target = (step.get("op"), step.get("target")) if isinstance(step, dict) else (None, None)
            where = f"step {index} of {owner}.forward ({_plain_text(op)} {_plain_text(target)})"
            if op not in STEP_OPS:
                raise MalformedHandover(f"{where} does {_named(op)}, which a forward pass may not do")
            if op == "call_function" and target not in FUNCTIONS:
                raise MalformedHandover(f"{where} calls {_named(target)}, which is not among the functions allowed")
            if op == "call_method" and target not in TENSOR_METHODS:
                raise MalformedHandover(
                    f"{where} calls the method {_named(target)}, which is not among a tensor's allowed"
                )
            if op in ("placeholder", "get_attr", "call_module") and not (
                isinstance(target, str) and all(part.isidentifier() or part.isdigit() for part in target.split("."))
            ):
                raise MalformedHandover(f"{where} names {_named(target)}, which is not a name")
            steps.append(
                {
                    "op": op,
                    "target": target,
                    "args": self.step_argument(step.get("args"), index, where),
                    "kwargs": self.step_argument(step.get("kwargs"), index, where, keywords=True),
                }
            )
        return steps

    def step_argument(self, node, available, where, keywords=False):
        """A step's arguments: plain constants rebuilt and checked now, references to earlier steps' values kept."""
        kind = node.get("kind") if isinstance(node, dict) else None
        if keywords:
            if kind != "dict":
                raise MalformedHandover(f"{where} has keyword arguments that are not a dict")
            return {
                "kind": "dict",
                "items": [[_attribute(k), self.step_argument(v, available, where)] for k, v in _pairs(node)],
            }
        if kind == "node":
            if not isinstance(node.get("index"), int) or not 0 <= node["index"] < available:
                raise MalformedHandover(f"{where} uses a value that no earlier step computed")
            return {"kind": "node", "index": node["index"]}
        if kind in ("list", "tuple", "slice"):
            items = _list(node, "items")
            if len(items) > MAX_ITEMS or self.depth >= MAX_NESTING:
                raise MalformedHandover(f"{where} has arguments nested or listed beyond the limits")
            self.depth += 1
            try:
                return {"kind": kind, "items": [self.step_argument(item, available, where) for item in items]}
            finally:
                self.depth -= 1
        return {"kind": "constant", "value": self.plain(node, where)}

    def optimizer(self, node):
        if node.get("torch_class") not in OPTIMIZERS:
            return _stand_in(_text(node, "class"), "an optimizer of its own class, not one of torch.optim's")
        cls = getattr(torch.optim, node["torch_class"])
        groups = []
        for group in _list(node, "param_groups"):
            params = [self.value(p) for p in _list(group, "params")]
            if not all(isinstance(p, torch.Tensor) for p in params):
                raise MalformedHandover("an optimizer's parameters are not tensors")
            settings = {
                _attribute(k): self.plain(v, f"the setting {_named(k)} of {cls.__name__}")
                for k, v in dict(group.get("settings") or {}).items()
            }
            groups.append((params, settings))
        try:
            optimizer = cls([{"params": params} for params, _ in groups]) if groups else None
        except Exception as error:  # e.g. an optimizer whose constructor needs arguments it has no default for
            return _stand_in(cls.__name__, f"cannot be rebuilt: {error}")
        if optimizer is None:
            return _stand_in(cls.__name__, "an optimizer with no parameters")
        for group, (_, settings) in zip(optimizer.param_groups, groups, strict=True):
            group.update(settings)
        return optimizer

    def figure(self, node):
        width, height = (float(v) for v in _list(node, "size"))
        figure = Figure(figsize=(width, height))
        for axes in _list(node, "axes"):
            ax = figure.add_axes([float(v) for v in _list(axes, "bounds")])
            ax.set_title(_text(axes, "title"), color=tuple(float(v) for v in _list(axes, "title_color")))
            ax.set_xlabel(_text(axes, "xlabel"))
            ax.set_ylabel(_text(axes, "ylabel"))
            for line in _list(axes, "lines"):
                color = tuple(float(v) for v in _list(line, "color"))
                ax.plot(
                    _tensor(line.get("x")).numpy(),
                    _tensor(line.get("y")).numpy(),
                    label=_text(line, "label"),
                    color=color,
                )
            for collection in _list(axes, "collections"):
                kind = _text(collection, "type")
                if kind == "ContourSet":
                    paths = [
                        [MplPath(_tensor(v).numpy(), None if c is None else _tensor(c).numpy())]
                        for v, c in _list(collection, "paths")
                    ]
                    segments = [[p[0].vertices] for p in paths]
                    kinds = [[p[0].codes] for p in paths]
                    levels = _tensor(collection.get("levels")).numpy()
                    ContourSet(ax, levels, segments, kinds, filled=bool(collection.get("filled")))
                elif kind == "PathCollection":
                    offsets = _tensor(collection.get("offsets")).numpy().reshape(-1, 2)
                    array = collection.get("array")
                    colors = None if array is None else _tensor(array).numpy()
                    ax.scatter(
                        offsets[:, 0],
                        offsets[:, 1],
                        c=colors if colors is not None and len(colors) == len(offsets) else None,
                    )
                # other collections (bars, fills) are not read by any check
            for image in _list(axes, "images"):
                cmap = _text(image, "cmap")
                ax.imshow(_tensor(image.get("array")).numpy(), cmap=cmap if cmap.replace("_", "").isalnum() else None)
            if not axes.get("axis_on", True):
                ax.set_axis_off()
        if node.get("suptitle"):
            figure.suptitle(_text(node, "suptitle"))
        return figure

    def dataset(self, node):
        if node.get("items") is not None:
            dataset = HandedOverDataset(items=[self.value(item) for item in _list(node, "items")])
        else:
            features, labels = _tensor(node.get("features")), _tensor(node.get("labels"))
            if len(features) != len(labels):
                raise MalformedHandover("a dataset's features and labels differ in number")
            dataset = HandedOverDataset(features, labels, "int" if node.get("label_type") == "int" else "tensor")
        for name, value in dict(node.get("attributes") or {}).items():
            if name in ("classes", "class_to_idx"):
                setattr(dataset, name, self.value(value))
        name = _text(node, "class")
        dataset.__class__ = type(name if name.isidentifier() else "HandedOverDataset", (HandedOverDataset,), {})
        return dataset

    def loader(self, node):
        dataset = self.value(node.get("dataset"))
        if not isinstance(dataset, Dataset):
            raise MalformedHandover("a DataLoader's dataset is not a dataset")
        batch_size = node.get("batch_size")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise MalformedHandover(f"a DataLoader's batch size is {_named(batch_size)}")
        return DataLoader(
            dataset, batch_size=batch_size, shuffle=bool(node.get("shuffle")), drop_last=bool(node.get("drop_last"))
        )


def _named(value):
    """How a message shows a value the data chose: plain ones as they are, anything else by its type alone."""
    if value is None or type(value) in (bool, int, float) or type(value) is str:
        return repr(value)[:100]
    return f"a {type(value).__name__}"


def _plain_text(value):
    """Text the data sent, at most 2000 characters of it; anything that is not text is shown as nothing."""
    return value[:2000] if type(value) is str else ""


def _tensor(value):
    if type(value) is not torch.Tensor:
        raise MalformedHandover(f"expected a tensor, found {type(value).__name__}")
    if value.layout is not torch.strided:
        raise MalformedHandover(f"a tensor of layout {value.layout}; only dense tensors are handed over")
    if value.numel() > MAX_ELEMENTS:
        raise MalformedHandover(f"a tensor of {value.numel()} elements, over the limit of {MAX_ELEMENTS}")
    if value.numel() * value.element_size() > value.untyped_storage().nbytes():  # a view that repeats its data
        raise MalformedHandover("a tensor that claims more elements than its data holds")
    return value


def _text(node, key):
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, str):
        raise MalformedHandover(f"expected text for {key!r}, found {type(value).__name__}")
    return value


def _list(node, key):
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, list | tuple):
        raise MalformedHandover(f"expected a list for {key!r}, found {type(value).__name__}")
    return value


def _pairs(node, key="items"):
    pairs = _list(node, key)
    if not all(isinstance(pair, list | tuple) and len(pair) == 2 for pair in pairs):
        raise MalformedHandover(f"expected pairs for {key!r}")
    return pairs


def _attribute(name):
    if not isinstance(name, str) or not (name.isidentifier() or name.isdigit()):
        raise MalformedHandover(f"{_named(name)} is not a name")
    return name


def _hashable(key):
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    if isinstance(key, dict | set | torch.Tensor | np.ndarray):
        raise MalformedHandover("a dict key that is not a number, a string or a tuple")
    return key


def _torch_attribute(name, kind):
    value = getattr(torch, name, None) if name.isidentifier() else None
    if not isinstance(value, kind):
        raise MalformedHandover(f"torch.{name} is not a {kind.__name__}")
    return value


def load_handover(data, limit=HANDOVER_LIMIT_BYTES):
    """The plain data in ``data`` (bytes a kernel saved), read without running any code of its sender's."""
    if not isinstance(data, bytes | bytearray):
        raise MalformedHandover("the hand-over is not bytes")
    if len(data) > limit:
        raise MalformedHandover(
            f"the hand-over takes {len(data) / 2**20:.1f} MB, over the limit of {limit / 2**20:.0f} MB"
        )
    try:
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as error:  # truncated, not torch's format, or a class the safe loader refuses
        raise MalformedHandover(f"the hand-over cannot be read: {type(error).__name__}: {str(error)[:300]}") from None


def rebuild(plain):
    """``{variable: fresh object}`` from the plain data of one exercise's hand-over."""
    rebuilder = _Rebuilder(plain)
    values = plain.get("values")
    if not isinstance(values, dict):
        raise MalformedHandover("the hand-over has no values")
    return {_attribute(name): rebuilder.value(node) for name, node in values.items()}
