"""The honest corpus: forward passes written as students write them, each of which the checker must judge as it ran.

Each entry is a model of the student's own class, as code a notebook cell holds, drawn from the
course's lessons, the upstream course's notebooks and PyTorch's tutorials: plain stacks, residual
branches and concatenations, in-place activations, the named fields of what torch returns,
normalisation, Python that reads shapes (``if x.dim() == 1``, ``len(x)``, ``torch.zeros(x.shape[0],
1)``), debug prints. ``tests/test_honest_models.py`` runs every one in a Jupyter kernel, hands it
over as the grader does, replays it in the checker on fresh inputs of other batch sizes, and
compares with what the kernel computed. A few are truly beyond a replay (Python control flow on a
tensor's values): for those the feedback must name the line of ``forward`` and what to write instead.

Run: ``python tests/honest_models.py`` lists the corpus.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Honest:
    """One model: its class's code, how to build it, the shape of one sample, and what else the kernel does."""

    code: str
    build: str
    sample: tuple[int, ...]
    single: bool = False  # also called on one sample alone (a 1-D input), which forward() accepts
    never_called: bool = False  # handed over before anything calls it, as "build it, then check" exercises do
    unjudgeable: str = ""  # for a forward pass no replay can follow: a phrase the feedback must hold


def _linear(name: str, body: str, init: str = "", sample: tuple[int, ...] = (2,), **flags) -> Honest:
    """A model with ``layer_1`` (2 -> 8) and ``layer_2`` (8 -> 3) besides ``init``, whose forward() is ``body``."""
    code = f"""
class {name}(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear({sample[-1]}, 8)
        self.layer_2 = nn.Linear(8, 3)
{textwrap.indent(init.strip(chr(10)), " " * 8)}

    def forward(self, x):
{textwrap.indent(body.strip(chr(10)), " " * 8)}
"""
    return Honest(code, f"{name}()", sample, **flags)


CORPUS: dict[str, Honest] = {
    # ---------------------------------------------------------------- the lessons' and the upstream course's models
    "circle_v0": _linear(
        "CircleModelV0",
        """
return self.layer_2(self.layer_1(x))
""",
    ),
    "circle_v2_relu": _linear(
        "CircleModelV2",
        """
return self.layer_2(torch.relu(self.layer_1(x)))
""",
    ),
    "circle_v1_three_layers": Honest(
        """
class CircleModelV1(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=10)
        self.layer_2 = nn.Linear(in_features=10, out_features=10)
        self.layer_3 = nn.Linear(in_features=10, out_features=1)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))
""",
        "CircleModelV1()",
        (2,),
    ),
    "blob_model_sequential": Honest(
        """
class BlobModel(nn.Module):
    def __init__(self, input_features, output_features, hidden_units=8):
        super().__init__()
        self.linear_layer_stack = nn.Sequential(
            nn.Linear(in_features=input_features, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=output_features),
        )

    def forward(self, x):
        return self.linear_layer_stack(x)
""",
        "BlobModel(input_features=2, output_features=4, hidden_units=8)",
        (2,),
    ),
    "linear_regression_by_hand": Honest(
        """
class LinearRegressionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(1, dtype=torch.float), requires_grad=True)
        self.bias = nn.Parameter(torch.randn(1, dtype=torch.float), requires_grad=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weights * x + self.bias
""",
        "LinearRegressionModel()",
        (1,),
    ),
    "perceptron_or_gate": Honest(
        """
class Perceptron(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))
""",
        "Perceptron()",
        (2,),
    ),
    "by_hand_two_layers": Honest(
        """
class TwoLayersByHand(nn.Module):
    def __init__(self):
        super().__init__()
        self.W1 = nn.Parameter(torch.randn(2, 16) * 0.5)
        self.b1 = nn.Parameter(torch.zeros(16))
        self.W2 = nn.Parameter(torch.randn(16, 3) * 0.5)
        self.b2 = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        hidden = torch.tanh(x @ self.W1 + self.b1)
        return hidden @ self.W2 + self.b2
""",
        "TwoLayersByHand()",
        (2,),
    ),
    "fashion_v0_flatten": Honest(
        """
class FashionMNISTModelV0(nn.Module):
    def __init__(self, input_shape, hidden_units, output_shape):
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=input_shape, out_features=hidden_units),
            nn.Linear(in_features=hidden_units, out_features=output_shape),
        )

    def forward(self, x):
        return self.layer_stack(x)
""",
        "FashionMNISTModelV0(input_shape=64, hidden_units=10, output_shape=10)",
        (1, 8, 8),
    ),
    "fashion_v1_nonlinear": Honest(
        """
class FashionMNISTModelV1(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int):
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features=input_shape, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=output_shape),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor):
        return self.layer_stack(x)
""",
        "FashionMNISTModelV1(64, 10, 10)",
        (1, 8, 8),
    ),
    "tiny_vgg": Honest(
        """
class TinyVGG(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int):
        super().__init__()
        self.block_1 = nn.Sequential(
            nn.Conv2d(in_channels=input_shape, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(in_channels=hidden_units, out_channels=hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features=hidden_units * 7 * 7, out_features=output_shape)
        )

    def forward(self, x: torch.Tensor):
        x = self.block_1(x)
        x = self.block_2(x)
        x = self.classifier(x)
        return x
""",
        "TinyVGG(input_shape=1, hidden_units=4, output_shape=10)",
        (1, 28, 28),
    ),
    "lenet_tutorial_num_flat_features": Honest(
        """
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features
""",
        "LeNet()",
        (1, 32, 32),
    ),
    "cnn_view_size0": Honest(
        """
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        x = x.view(x.size(0), -1)
        return self.fc(x)
""",
        "SmallCNN()",
        (1, 8, 8),
    ),
    "cnn_torch_flatten": Honest(
        """
class FlatCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3)
        self.fc = nn.Linear(5 * 6 * 6, 4)

    def forward(self, x):
        x = torch.flatten(F.relu(self.conv(x)), 1)
        return self.fc(x)
""",
        "FlatCNN()",
        (3, 8, 8),
    ),
    "cnn_adaptive_pool_batchnorm": Honest(
        """
class PooledCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.head(x.flatten(start_dim=1))
""",
        "PooledCNN()",
        (1, 12, 12),
    ),
    "conv1d_unsqueeze": Honest(
        """
class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=3, padding=1)
        self.fc = nn.Linear(4 * 6, 2)

    def forward(self, x):
        h = F.relu(self.conv(x.unsqueeze(1)))
        return self.fc(h.reshape(h.shape[0], -1))
""",
        "Conv1dNet()",
        (6,),
    ),
    # ---------------------------------------------------------------- residual branches and concatenations
    "residual_add": _linear(
        "ResidualAdd",
        """
h = F.relu(self.layer_1(x))
h = h + F.relu(self.hidden(h))
return self.layer_2(h)
""",
        init="""
self.hidden = nn.Linear(8, 8)
""",
    ),
    "residual_in_place_identity": _linear(
        "ResidualIdentity",
        """
out = F.relu(self.layer_1(x))
identity = out
out = self.hidden(out)
out += identity
return self.layer_2(F.relu(out))
""",
        init="""
self.hidden = nn.Linear(8, 8)
""",
    ),
    "residual_alias_then_in_place": _linear(
        "ResidualAlias",
        """
h = self.layer_1(x)
skip = h
h += 1.0  # skip is the same tensor: it changes too
return self.layer_2(h + skip)
""",
    ),
    "residual_block_module": Honest(
        """
class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(x)))


class ResNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(2, 8)
        self.blocks = nn.ModuleList([Block(8) for _ in range(3)])
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)
""",
        "ResNetLike()",
        (2,),
    ),
    "concat_features": _linear(
        "ConcatFeatures",
        """
a = F.relu(self.layer_1(x))
b = torch.tanh(self.other(x))
return self.head(torch.cat([a, b], dim=1))
""",
        init="""
self.other = nn.Linear(2, 4)
self.head = nn.Linear(12, 3)
""",
    ),
    "polynomial_features": _linear(
        "PolynomialFeatures",
        """
x = torch.cat((x, x ** 2, x[:, :1] * x[:, 1:]), dim=1)
return self.head(x)
""",
        init="""
self.head = nn.Linear(5, 2)
""",
    ),
    "stack_two_heads": _linear(
        "TwoHeads",
        """
h = F.relu(self.layer_1(x))
return torch.stack([self.a(h), self.b(h)], dim=1).sum(dim=2)
""",
        init="""
self.a = nn.Linear(8, 2)
self.b = nn.Linear(8, 2)
""",
    ),
    "dense_connections": _linear(
        "DenseLike",
        """
h1 = F.relu(self.layer_1(x))
h2 = F.relu(self.mid(torch.cat([x, h1], 1)))
return self.head(torch.cat([x, h1, h2], 1))
""",
        init="""
self.mid = nn.Linear(10, 8)
self.head = nn.Linear(18, 3)
""",
    ),
    "shared_layer_twice": _linear(
        "SharedTwice",
        """
h = F.relu(self.layer_1(x))
h = F.relu(self.square(h))
h = F.relu(self.square(h))
return self.layer_2(h)
""",
        init="""
self.square = nn.Linear(8, 8)
""",
    ),
    # ---------------------------------------------------------------- in-place activations
    "relu_inplace_layer": Honest(
        """
class InPlaceStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(inplace=True), nn.Linear(16, 16), nn.ReLU(inplace=True))
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(self.net(x))
""",
        "InPlaceStack()",
        (2,),
    ),
    "relu_inplace_functional": _linear(
        "InPlaceFunctional",
        """
h = F.relu(self.layer_1(x), inplace=True)
return self.layer_2(h)
""",
    ),
    "relu_method_in_place": _linear(
        "InPlaceMethod",
        """
h = self.layer_1(x)
h.relu_()
return self.layer_2(h)
""",
    ),
    "clamp_in_place_and_scale": _linear(
        "ClampInPlace",
        """
h = self.layer_1(x)
h.clamp_(min=-1.0, max=1.0)
h *= 0.5
return self.layer_2(h)
""",
    ),
    "leaky_relu_in_place": _linear(
        "LeakyInPlace",
        """
h = F.leaky_relu(self.layer_1(x), negative_slope=0.1, inplace=True)
return self.layer_2(h)
""",
    ),
    "input_scaled_in_place": _linear(
        "ScalesItsInput",
        """
x /= 2.0  # changes the caller's tensor in the notebook
return self.layer_2(self.layer_1(x))
""",
    ),
    "setitem_on_own_tensor": _linear(
        "SetItem",
        """
h = self.layer_1(x)
h[:, 0] = 0.0
return self.layer_2(h)
""",
    ),
    # ---------------------------------------------------------------- the named fields of what torch returns
    "max_values": _linear(
        "MaxValues",
        """
h = self.layer_1(x)
return self.layer_2(h) + h.max(dim=1).values.unsqueeze(1)
""",
    ),
    "max_tuple_index": _linear(
        "MaxIndex",
        """
h = self.layer_1(x)
best = torch.max(h, 1)[0]
return self.layer_2(h) * best[:, None]
""",
    ),
    "min_indices": _linear(
        "MinIndices",
        """
h = self.layer_1(x)
return self.layer_2(h) + h.min(dim=1).indices.float().unsqueeze(1)
""",
    ),
    "topk_values": _linear(
        "TopK",
        """
h = self.layer_1(x)
return self.layer_2(h) + h.topk(2, dim=1).values.sum(dim=1, keepdim=True)
""",
    ),
    "in_place_on_a_field_another_name_holds": _linear(
        "InPlaceOnAField",
        """
h = torch.sort(self.layer_1(x), dim=1).values
kept = h
h += 0.5  # kept is the same tensor: it changes too
return self.layer_2(h + kept)
""",
    ),
    "sort_values": _linear(
        "SortValues",
        """
h = torch.sort(self.layer_1(x), dim=1).values
return self.layer_2(h)
""",
    ),
    "median_values": _linear(
        "MedianValues",
        """
h = self.layer_1(x)
return self.layer_2(h) - torch.median(h, dim=1).values.unsqueeze(-1)
""",
    ),
    # ---------------------------------------------------------------- normalisation
    "batchnorm1d": _linear(
        "WithBatchNorm",
        """
return self.layer_2(F.relu(self.norm(self.layer_1(x))))
""",
        init="""
self.norm = nn.BatchNorm1d(8)
""",
    ),
    "layernorm": _linear(
        "WithLayerNorm",
        """
return self.layer_2(self.norm(F.gelu(self.layer_1(x))))
""",
        init="""
self.norm = nn.LayerNorm(8)
""",
    ),
    "f_normalize": _linear(
        "Normalized",
        """
return self.layer_2(F.normalize(self.layer_1(x), dim=1))
""",
    ),
    "standardize_by_hand": _linear(
        "Standardized",
        """
h = self.layer_1(x)
h = (h - h.mean(dim=1, keepdim=True)) / (h.std(dim=1, keepdim=True) + 1e-5)
return self.layer_2(h)
""",
    ),
    "norm_by_hand": _linear(
        "NormByHand",
        """
h = self.layer_1(x)
length = h.pow(2).sum(dim=1, keepdim=True).sqrt()
return self.layer_2(h / length)
""",
    ),
    "torch_norm_defaults": _linear(
        "TorchNorm",
        """
h = self.layer_1(x)
return self.layer_2(h) / (1.0 + torch.norm(h))
""",
    ),
    "groupnorm_dropout": _linear(
        "GroupNormDropout",
        """
h = self.drop(F.silu(self.norm(self.layer_1(x))))
return self.layer_2(h)
""",
        init="""
self.norm = nn.GroupNorm(2, 8)
self.drop = nn.Dropout(0.3)
""",
    ),
    "functional_dropout_training_flag": _linear(
        "FunctionalDropout",
        """
h = F.dropout(F.relu(self.layer_1(x)), p=0.5, training=self.training)
return self.layer_2(h)
""",
    ),
    "log_softmax_output": _linear(
        "LogSoftmax",
        """
return F.log_softmax(self.layer_2(torch.relu(self.layer_1(x))), dim=1)
""",
    ),
    # ---------------------------------------------------------------- Python that reads shapes
    "dim_check_unsqueeze": _linear(
        "AcceptsOneSample",
        """
if x.dim() == 1:
    x = x.unsqueeze(0)
return self.layer_2(self.layer_1(x))
""",
        single=True,
    ),
    "view_len": _linear(
        "ViewLen",
        """
h = self.layer_1(x).view(len(x), -1)
return self.layer_2(h)
""",
    ),
    "zeros_from_shape": _linear(
        "ZerosFromShape",
        """
bias = torch.zeros(x.shape[0], 3)
return self.layer_2(self.layer_1(x)) + bias
""",
    ),
    "ones_len_device": _linear(
        "OnesLen",
        """
extra = torch.ones(len(x), 1, device=x.device)
return self.layer_2(self.layer_1(x)) * extra
""",
    ),
    "new_zeros_from_size": _linear(
        "NewZeros",
        """
h = self.layer_1(x)
pad = h.new_zeros(h.size(0), 2)
return self.layer_2(torch.cat([h[:, :6], pad], 1))
""",
    ),
    "squeeze_when_single_column": _linear(
        "SqueezeWhenOne",
        """
out = self.layer_2(self.layer_1(x))
if out.shape[-1] == 1:
    out = out.squeeze(-1)
return out
""",
    ),
    "batch_size_reshape": Honest(
        """
class ReshapesByBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        batch_size = x.shape[0]
        x = x.reshape(batch_size, -1)
        return self.fc(x)
""",
        "ReshapesByBatch()",
        (1, 4, 4),
    ),
    "shape_assertion": _linear(
        "AssertsShape",
        """
assert x.ndim == 2, f'expected a batch of points, got {x.shape}'
return self.layer_2(self.layer_1(x))
""",
    ),
    "raises_on_wrong_features": _linear(
        "RaisesOnWrongFeatures",
        """
if x.shape[-1] != 2:
    raise ValueError(f'expected 2 features, got {x.shape[-1]}')
return self.layer_2(F.relu(self.layer_1(x)))
""",
    ),
    "flag_attribute": _linear(
        "WithFlag",
        """
h = F.relu(self.layer_1(x))
if self.use_skip:
    h = h + self.skip(x)
return self.layer_2(h)
""",
        init="""
self.use_skip = True
self.skip = nn.Linear(2, 8)
""",
    ),
    "loop_over_module_list_by_index": _linear(
        "IndexedLayers",
        """
h = self.layer_1(x)
for i in range(len(self.hidden)):
    h = torch.tanh(self.hidden[i](h))
return self.layer_2(h)
""",
        init="""
self.hidden = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
""",
    ),
    "getattr_layers_by_name": _linear(
        "LayersByName",
        """
h = x
for name in ('layer_1', 'act', 'layer_2'):
    h = getattr(self, name)(h)
return h
""",
        init="""
self.act = nn.Tanh()
""",
    ),
    "module_dict_branches": Honest(
        """
class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.branches = nn.ModuleDict({"left": nn.Linear(2, 4), "right": nn.Linear(2, 4)})
        self.mode = "left"

    def forward(self, x):
        return self.branches[self.mode](x) - self.branches["right"](x).abs()
""",
        "Branches()",
        (2,),
    ),
    "size_loop_never_called": _linear(
        "NeverCalled",
        """
rows = len(x)
return self.layer_2(self.layer_1(x)).reshape(rows, -1)
""",
        never_called=True,
    ),
    # ---------------------------------------------------------------- debug prints and other habits
    "debug_print_shapes": _linear(
        "PrintsShapes",
        """
print('input', x.shape)
h = self.layer_1(x)
print(f'after layer_1: {h.shape}')
return self.layer_2(h)
""",
    ),
    "debug_print_and_len": _linear(
        "PrintsLen",
        """
print('batch of', len(x))
return self.layer_2(self.layer_1(x))
""",
    ),
    "torch_where_leaky": _linear(
        "WhereLeaky",
        """
h = self.layer_1(x)
h = torch.where(h > 0, h, 0.1 * h)
return self.layer_2(h)
""",
    ),
    "einsum_weights": _linear(
        "EinsumWeights",
        """
h = torch.einsum('bi,oi->bo', x, self.layer_1.weight) + self.layer_1.bias
return self.layer_2(h)
""",
    ),
    "matmul_transpose_weights": _linear(
        "MatmulTranspose",
        """
h = F.gelu(x @ self.layer_1.weight.T + self.layer_1.bias)
return self.layer_2(h)
""",
    ),
    "chunk_and_gate": _linear(
        "Gated",
        """
a, b = self.gate(x).chunk(2, dim=1)
return self.layer_2(a * torch.sigmoid(b))
""",
        init="""
self.gate = nn.Linear(2, 16)
""",
    ),
    "masked_fill_negative": _linear(
        "MaskedFill",
        """
h = self.layer_1(x)
return self.layer_2(h.masked_fill(h < 0, 0.0))
""",
    ),
    "softmax_probabilities": _linear(
        "Probabilities",
        """
return torch.softmax(self.layer_2(F.silu(self.layer_1(x))), dim=1)
""",
    ),
    "ellipsis_slicing": _linear(
        "EllipsisSlicing",
        """
h = self.layer_1(x)
return self.layer_2(h)[..., :2] + h[..., -1:]
""",
    ),
    "temperature_attribute": _linear(
        "Temperature",
        """
return self.layer_2(torch.relu(self.layer_1(x))) / self.temperature
""",
        init="""
self.temperature = 2.5
""",
    ),
    "buffer_mean_centering": _linear(
        "CentredByBuffer",
        """
return self.layer_2(self.layer_1(x - self.mean))
""",
        init="""
self.register_buffer('mean', torch.tensor([0.5, -0.5]))
""",
    ),
    "constant_tensor_in_forward": _linear(
        "ConstantInForward",
        """
scale = torch.tensor([1.0, 2.0, 3.0])
return self.layer_2(self.layer_1(x)) * scale
""",
    ),
    "nn_sequential_subclass": Honest(
        """
class MyStack(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        return super().forward(x) * 2
""",
        "MyStack()",
        (2,),
    ),
    # ---------------------------------------------------------------- beyond any replay: Python decides on values
    "if_on_a_mean": _linear(
        "IfOnMean",
        """
h = self.layer_1(x)
if h.mean() > 0:
    h = -h
return self.layer_2(h)
""",
        unjudgeable="torch.where",
    ),
    "item_in_python": _linear(
        "ItemInPython",
        """
h = self.layer_1(x)
scale = h.abs().max().item()
if scale > 1:
    h = h / scale
return self.layer_2(h)
""",
        unjudgeable="torch.where",
    ),
    "loop_to_a_value": _linear(
        "LoopToAValue",
        """
h = self.layer_1(x)
for _ in range(int(h.abs().sum()) % 3):
    h = torch.tanh(h)
return self.layer_2(h)
""",
        unjudgeable="a tensor's values",
    ),
}

if __name__ == "__main__":
    for name, model in CORPUS.items():
        print(f"{name:40} {model.build:50} {model.unjudgeable and 'unjudgeable'}")
    print(f"{len(CORPUS)} models, {sum(1 for m in CORPUS.values() if not m.unjudgeable)} judgeable")
