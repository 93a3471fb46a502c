"""The course's self-check: your answers handed over as data, rebuilt, and judged by the exercise's checks.

An exercise notebook imports this file as it imports ``helper_functions.py``: its setup cell finds
both in the course's folder, or fetches them (Colab), and its self-check cell loads the checks of
its exercises (``use_checks``). ``check("ex3")`` then runs exercise 3's check, and ``check()``
every check so far. The grader uses this same file, so your self-check and your grade agree.

A check never judges your objects themselves. It judges what they hand over as plain data
(tensors, numbers, a model's layers and weights, a figure's lines and points), rebuilt into fresh
objects, exactly as the grader does in a process of its own. The file has three parts, and where
each runs is what makes a grade trustworthy:

1. **The hand-over** runs in the student's kernel, so nothing in it is trusted:
   ``hand_over_bytes`` turns the variables an exercise reads into plain data (a model as its
   layers, weights and traced forward pass; a figure as its lines and points; ...) saved with
   ``torch.save``.
2. **The rebuild** runs in the grader's checker, a sandboxed process of its own: ``load_handover``
   reads the bytes with ``torch.load(..., weights_only=True)``, which runs no code of the sender's,
   and ``rebuild`` makes fresh objects of known classes. A model's forward pass is replayed with a
   closed vocabulary of tensor operations (``FUNCTIONS``, ``TENSOR_METHODS``, ``PLAIN_KINDS``).
3. **The checks**: ``exercise`` registers an exercise's check, ``expect`` fails one part of it with
   a message and a hint, ``judge`` gives the result on handed-over bytes, and ``check`` runs it in
   a notebook. The checks of an assignment live in its master and use this library
   (``from self_check import *``); ``make exercises`` writes the students' copy of them.
"""

import inspect
import io
import math
import operator
import signal
import string
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler

# what a notebook's checks are written with: `from self_check import *` brings these
__all__ = [
    "CheckFailed",
    "DataLoader",
    "EXERCISES",
    "Figure",
    "_accuracy",
    "_array",
    "_assert_optimizes",
    "_expect_boundary",
    "_is_affine",
    "_labels",
    "_logits",
    "_need",
    "_plots_values",
    "_points_and_regions",
    "check",
    "exercise",
    "expect",
    "hidden_part",
    "math",
    "nn",
    "np",
    "torch",
]


# ---------------------------------------- 1. the hand-over: runs in the student's kernel
HANDOVER_FORMAT = 1
HANDOVER_LIMIT_BYTES = 96 * 2**20  # one exercise's hand-over, as saved: the FashionMNIST test split is 31 MB
_HANDOVER_DEPTH = 12  # nesting of lists and dicts; deeper is not an answer
_HANDOVER_ITEMS = 100_000  # items of a list, dict or dataset
_HANDOVER_TEXT = 100_000  # characters of a string
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")


class HandOverError(ValueError):
    """A value cannot be handed over as plain data; the message says which and why."""


def _torch_class(module):
    """The class name when ``module`` is one of torch.nn's own layers (rebuilt from its settings), else None."""
    cls = type(module)
    if cls.__module__.startswith("torch.nn.") and getattr(nn, cls.__name__, None) is cls:
        return cls.__name__
    return None


def _layer_settings(module):
    """The arguments that rebuild one of torch.nn's layers: its constructor's parameters, read back from it."""
    settings = {}
    for name, parameter in inspect.signature(type(module).__init__).parameters.items():
        if (
            name in ("self", "device", "dtype")
            or name.startswith("_")
            or parameter.kind
            in (
                parameter.VAR_POSITIONAL,
                parameter.VAR_KEYWORD,
            )
        ):
            continue
        if not hasattr(module, name):
            continue
        value = getattr(module, name)
        if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
            settings[name] = value is not None  # a layer's bias is a switch of its constructor
        elif not isinstance(value, nn.Module):
            settings[name] = value
    return settings


def _callable_name(function):
    """The name the checker knows ``function`` by, for a step of a traced forward pass."""
    name = getattr(function, "__name__", "")
    for prefix, namespace in (
        ("torch.nn.functional.", torch.nn.functional),
        ("torch.", torch),
        ("operator.", operator),
    ):
        if name and getattr(namespace, name, None) is function:
            return prefix + name
    if function is getattr:
        return "builtins.getattr"
    if getattr(math, name, None) is function:
        return "math." + name
    raise HandOverError(f"its forward pass calls {name or function!r}, which the checker cannot rebuild")


class _Encoder:
    """Turns values into plain data; objects that may be shared are written once, in ``objects``."""

    def __init__(self, probes):
        self.objects = []
        self.refs = {}  # id(object) -> its index in self.objects
        self.alive = []  # keeps every encoded object alive, so that no id is reused while encoding
        self.probes = probes

    # ------------------------------------------------------------------ the shared objects
    def ref(self, obj, encode):
        key = id(obj)
        if key not in self.refs:
            self.refs[key] = len(self.objects)
            self.objects.append(None)
            self.alive.append(obj)
            self.objects[self.refs[key]] = encode(obj)
        return {"kind": "ref", "id": self.refs[key]}

    def value(self, obj, name="", depth=0):
        if depth > _HANDOVER_DEPTH:
            raise HandOverError(f"`{name}` is nested more than {_HANDOVER_DEPTH} levels deep")
        if obj is None or isinstance(obj, bool | int | float):
            return obj
        if isinstance(obj, str):
            if len(obj) > _HANDOVER_TEXT:
                raise HandOverError(f"`{name}` is a string of {len(obj)} characters")
            return obj
        if isinstance(obj, torch.Tensor):
            return self.ref(obj, self.tensor)
        if isinstance(obj, np.ndarray):
            return {"kind": "ndarray", "data": self.array(obj, name)}
        if isinstance(obj, np.generic) and (np.issubdtype(obj.dtype, np.number) or obj.dtype == np.bool_):
            return {"kind": "npscalar", "dtype": obj.dtype.name, "value": obj.item()}
        if isinstance(obj, torch.dtype | torch.device | torch.memory_format):
            return {"kind": type(obj).__name__, "name": str(obj).removeprefix("torch.")}
        if isinstance(obj, torch.Size):
            return {"kind": "size", "items": [int(n) for n in obj]}
        if isinstance(obj, slice):
            return {
                "kind": "slice",
                "items": [self.value(getattr(obj, a), name, depth + 1) for a in ("start", "stop", "step")],
            }
        if obj is Ellipsis:
            return {"kind": "ellipsis"}
        if isinstance(obj, range):
            return {"kind": "range", "items": [obj.start, obj.stop, obj.step]}
        if isinstance(obj, list | tuple):
            if len(obj) > _HANDOVER_ITEMS:
                raise HandOverError(f"`{name}` holds {len(obj)} items")
            kind = "list" if isinstance(obj, list) else "tuple"
            return {"kind": kind, "items": [self.value(item, name, depth + 1) for item in obj]}
        if isinstance(obj, dict):
            if len(obj) > _HANDOVER_ITEMS:
                raise HandOverError(f"`{name}` holds {len(obj)} items")
            items = [[self.value(k, name, depth + 1), self.value(v, name, depth + 1)] for k, v in obj.items()]
            return {"kind": "dict", "type": type(obj).__name__, "items": items}
        if isinstance(obj, nn.Module):
            return self.ref(obj, self.module)
        if isinstance(obj, torch.optim.Optimizer):
            return self.ref(obj, self.optimizer)
        if isinstance(obj, Figure):
            return self.ref(obj, self.figure)
        if isinstance(obj, DataLoader):
            return self.ref(obj, self.loader)
        if isinstance(obj, Dataset):
            return self.ref(obj, self.dataset)
        if callable(obj) and name in self.probes and depth == 0:
            return self.function(obj, name)
        return {"kind": "unsupported", "type": type(obj).__name__}

    # ------------------------------------------------------------------ one kind each
    @staticmethod
    def tensor(t):
        if t.layout != torch.strided or t.is_quantized or t.device.type == "meta":
            raise HandOverError(f"a {t.layout} tensor on {t.device} cannot be handed over")
        data = t.detach().to("cpu").as_subclass(torch.Tensor).clone()  # its own storage, not a view's whole base
        return {
            "kind": "tensor",
            "data": data,
            "device": str(t.device),
            "requires_grad": bool(t.requires_grad),
            "parameter": isinstance(t, nn.Parameter),
        }

    @staticmethod
    def array(a, name):
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
            raise HandOverError(f"`{name}` is an array of {a.dtype}, not of numbers")
        return torch.from_numpy(np.array(a, copy=True))

    def module(self, m):
        torch_class = _torch_class(m)
        own = {
            "kind": "module",
            "class": type(m).__name__,
            "torch_class": torch_class,
            "repr": repr(m)[:_HANDOVER_TEXT] if torch_class else "",
            "training": bool(m.training),
            "settings": None,
            "children": [[n, self.value(c, n, 1)] for n, c in m._modules.items() if c is not None],
            "parameters": [[n, self.value(p, n, 1)] for n, p in m._parameters.items()],
            "buffers": [[n, self.value(b, n, 1)] for n, b in m._buffers.items()],
            "graph": None,
            "graph_error": "",
        }
        if torch_class and torch_class not in _CONTAINERS:
            own["settings"] = {k: self.value(v, k, 1) for k, v in _layer_settings(m).items()}
        if torch_class is None:
            try:
                own["graph"] = self.graph(m)
            except Exception as error:  # tracing runs the student's forward with stand-ins: anything can go wrong
                own["graph_error"] = f"{type(error).__name__}: {error}"[:2000]
        return own

    def graph(self, m):
        """The forward pass of ``m`` as ``torch.fx`` traces it, as a list of steps with plain arguments."""
        traced = torch.fx.symbolic_trace(m)
        index = {}
        steps = []

        def argument(a):
            if isinstance(a, torch.fx.Node):
                return {"kind": "node", "index": index[a]}
            if isinstance(a, list | tuple):
                return {"kind": "list" if isinstance(a, list) else "tuple", "items": [argument(x) for x in a]}
            if isinstance(a, dict):
                return {"kind": "dict", "type": "dict", "items": [[k, argument(v)] for k, v in a.items()]}
            if isinstance(a, slice):
                return {"kind": "slice", "items": [argument(a.start), argument(a.stop), argument(a.step)]}
            return self.value(a, "a constant of its forward pass", 1)

        for node in traced.graph.nodes:
            index[node] = len(steps)
            step = {"op": node.op, "target": node.target, "args": argument(node.args), "kwargs": argument(node.kwargs)}
            if node.op == "call_function":
                step["target"] = _callable_name(node.target)
            elif node.op == "get_attr" and not _has_path(m, node.target):
                # a tensor the trace made from constants in forward(): handed over as its value
                step = {
                    "op": "constant",
                    "target": "",
                    "args": argument((_path(traced, node.target),)),
                    "kwargs": argument({}),
                }
            steps.append(step)
        return steps

    def optimizer(self, opt):
        groups = []
        for group in opt.param_groups:
            settings = {k: self.value(v, k, 1) for k, v in group.items() if k != "params"}
            groups.append({"params": [self.value(p, "params", 1) for p in group["params"]], "settings": settings})
        torch_class = type(opt).__name__ if getattr(torch.optim, type(opt).__name__, None) is type(opt) else None
        return {"kind": "optimizer", "class": type(opt).__name__, "torch_class": torch_class, "param_groups": groups}

    def figure(self, fig):
        axes = []
        for ax in fig.axes:
            lines = [
                {
                    "x": torch.as_tensor(np.asarray(line.get_xdata(), dtype=float)),
                    "y": torch.as_tensor(np.asarray(line.get_ydata(), dtype=float)),
                    "label": str(line.get_label()),
                    "color": list(to_rgba(line.get_color())),
                }
                for line in ax.get_lines()
            ]
            collections = []
            for c in ax.collections:
                if isinstance(c, ContourSet):
                    paths = [[torch.as_tensor(p.vertices, dtype=torch.float64), _codes(p)] for p in c.get_paths()]
                    levels = torch.as_tensor(np.asarray(c.levels, dtype=float))
                    collections.append(
                        {"type": "ContourSet", "filled": bool(c.filled), "levels": levels, "paths": paths}
                    )
                elif isinstance(c, PathCollection):
                    offsets = torch.as_tensor(np.asarray(c.get_offsets(), dtype=float).reshape(-1, 2))
                    values = c.get_array()
                    array = None if values is None else torch.as_tensor(np.asarray(values, dtype=float))
                    collections.append({"type": "PathCollection", "offsets": offsets, "array": array})
                else:
                    collections.append({"type": type(c).__name__})
            images = [
                {"array": torch.as_tensor(np.asarray(image.get_array(), dtype=float)), "cmap": image.get_cmap().name}
                for image in ax.images
            ]
            axes.append(
                {
                    "bounds": [float(v) for v in ax.get_position().bounds],
                    "title": ax.get_title(),
                    "title_color": list(to_rgba(ax.title.get_color())),
                    "xlabel": ax.get_xlabel(),
                    "ylabel": ax.get_ylabel(),
                    "axis_on": bool(ax.axison),
                    "lines": lines,
                    "collections": collections,
                    "images": images,
                }
            )
        suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
        return {"kind": "figure", "size": [float(v) for v in fig.get_size_inches()], "suptitle": suptitle, "axes": axes}

    def dataset(self, ds):
        length = len(ds)
        if length > _HANDOVER_ITEMS:
            raise HandOverError(f"a dataset of {length} items is more than {_HANDOVER_ITEMS}")
        items = [ds[i] for i in range(length)]
        attributes = {
            k: self.value(getattr(ds, k), k, 1)
            for k in ("classes", "class_to_idx")
            if isinstance(getattr(ds, k, None), list | dict)
        }
        pairs = all(isinstance(item, tuple | list) and len(item) == 2 for item in items)
        if pairs and items and all(isinstance(x, torch.Tensor) for x, _ in items):
            shapes = {tuple(x.shape) for x, _ in items}
            ints = all(isinstance(y, int) and not isinstance(y, bool) for _, y in items)
            if len(shapes) == 1 and (ints or all(isinstance(y, torch.Tensor) and y.ndim == 0 for _, y in items)):
                return {
                    "kind": "dataset",
                    "class": type(ds).__name__,
                    "features": torch.stack([x.detach().cpu().as_subclass(torch.Tensor) for x, _ in items]),
                    "labels": torch.as_tensor([int(y) for _, y in items]),
                    "label_type": "int" if ints else "tensor",
                    "items": None,
                    "attributes": attributes,
                }
        return {
            "kind": "dataset",
            "class": type(ds).__name__,
            "features": None,
            "labels": None,
            "label_type": "",
            "items": [self.value(item, "an item of a dataset", 2) for item in items],
            "attributes": attributes,
        }

    def loader(self, loader):
        return {
            "kind": "dataloader",
            "dataset": self.value(loader.dataset, "dataset", 1),
            "batch_size": loader.batch_size,
            "shuffle": isinstance(loader.sampler, RandomSampler),
            "sampler": type(loader.sampler).__name__,
            "drop_last": bool(loader.drop_last),
        }

    def function(self, function, name):
        calls = []
        for arguments in self.probes[name]:
            try:
                result = {"value": self.value(function(*arguments), name, 1)}
            except Exception as error:  # the student's function raised on the exercise's input
                result = {"raised": f"{type(error).__name__}: {error}"[:2000]}
            calls.append([self.value(tuple(arguments), name, 1), result])
        return {"kind": "function", "name": getattr(function, "__name__", name), "calls": calls}


def _codes(path):
    return None if path.codes is None else torch.as_tensor(np.asarray(path.codes, dtype=np.uint8))


def _has_path(module, target):
    try:
        _path(module, target)
    except AttributeError:
        return False
    return True


def _path(obj, target):
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def hand_over(namespace, reads, probes=None):
    """The variables ``reads`` of ``namespace`` as plain data; a variable that is not there is left out.

    A value that cannot be handed over is written as ``{"kind": "unsupported", ...}`` with the
    reason, so that only the checks that read it fail.
    """
    encoder = _Encoder(dict(probes or {}))
    values = {}
    for name in reads:
        if name not in namespace:
            continue
        try:
            values[name] = encoder.value(namespace[name], name)
        except Exception as error:  # one bad value fails the checks that read it, not the others
            values[name] = {"kind": "unsupported", "type": type(namespace[name]).__name__, "reason": str(error)[:2000]}
    return {"format": HANDOVER_FORMAT, "values": values, "objects": encoder.objects}


def hand_over_bytes(namespace, reads, probes=None, limit=HANDOVER_LIMIT_BYTES):
    """``hand_over``, saved with ``torch.save``; ``HandOverError`` when it is larger than ``limit`` bytes."""
    buffer = io.BytesIO()
    torch.save(hand_over(namespace, reads, probes), buffer)
    if buffer.tell() > limit:
        raise HandOverError(
            f"what this exercise reads ({', '.join(reads)}) takes {buffer.tell() / 2**20:.1f} MB, "
            f"over the limit of {limit / 2**20:.0f} MB"
        )
    return buffer.getvalue()


# ---------------------------------------- 2. the rebuild: runs in the grader's checker, and in check()
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


# ---------------------------------------- 3. the checks: registered by an assignment, run by check() and the grader
EXERCISES: dict = {}  # name -> {"points", "hint", "reads", "probes", "parts": [{"name", "points", "check", ...}]}
_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object it handed over})


def exercise(name, points, hint, reads=(), probes=None, part=""):
    """Register the decorated function as a check of exercise `name`, worth `points`.

    An exercise can be worth several points, split across named parts: one `@exercise(...,
    part="the values")` per part, each judged on its own, so that a part that fails costs its own
    points only. `reads` names the variables the check reads; `probes` maps a function's name to
    the argument tuples the check calls it with (a function is handed over as its results on those).
    """

    def register(check_fn):
        _register(name, {"name": part, "points": points, "hint": hint, "reads": tuple(reads), "check": check_fn})
        EXERCISES[name]["probes"].update(probes or {})
        return check_fn

    return register


def hidden_part(name, part, points, reads=()):
    """Declare a hidden part of exercise `name`: the grader judges it; your notebook only counts it.

    The students' module of checks declares each hidden part this way, with none of its code.
    """
    _register(name, {"name": part, "points": points, "hint": "", "reads": tuple(reads), "check": None})


def _register(name, part):
    entry = EXERCISES.setdefault(name, {"hint": part["hint"], "reads": (), "probes": {}, "parts": []})
    names = [each["name"] for each in entry["parts"]]
    if part["name"] in names:  # the cell ran again: its part is replaced where it stood
        entry["parts"][names.index(part["name"])] = part
    else:
        entry["parts"].append(part)
    entry["reads"] = tuple(dict.fromkeys(variable for each in entry["parts"] for variable in each["reads"]))
    entry["points"] = sum(each["points"] for each in entry["parts"])
    entry["hint"] = entry["hint"] or part["hint"]


class CheckFailed(AssertionError):
    """One part of a check failed: `part` names it, the message says what was expected and found."""

    def __init__(self, part, message, hint):
        super().__init__(message)
        self.part, self.hint = part, hint


def expect(condition, part, message, hint):
    """Fail the check at `part`, with `message` and a hint for that part alone, when `condition` is false."""
    if not condition:
        raise CheckFailed(part, message, hint)


class _ReadTracker(dict):
    """The values handed over, remembering which names a check looked up."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


class CheckTimeout(BaseException):  # not an Exception: a check's own `except Exception` must not swallow it
    """A part of a check ran past the time the grader gives it."""


def _on_alarm(signum, frame):
    raise CheckTimeout


def _failed(part, message, hint):
    return {"passed": False, "part": part, "message": message, "hint": hint}


def run_check(name, values, time_limit=None, part=None):
    """Run a check of exercise `name` (`part`: its part, by default its first) on `values`, rebuilt from a hand-over.

    Returns passed, part (where it failed), message and hint. With `time_limit` (seconds), the
    check is stopped when it runs longer, and fails saying so.
    """
    check_part = part or EXERCISES[name]["parts"][0]
    tracker = _ReadTracker(values)
    if time_limit is not None:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        check_part["check"](tracker)
        result = {"passed": True, "part": "", "message": "passed", "hint": ""}
    except CheckFailed as failure:
        result = _failed(failure.part, str(failure), failure.hint)
    except NotImplementedError:
        message = "your code still raises NotImplementedError, the placeholder of an unsolved exercise"
        result = _failed("your code", message, "Replace `raise NotImplementedError` with your code, then run the cell.")
    except CheckTimeout:
        message = f"the check ran longer than {time_limit:g} s and was stopped"
        result = _failed("time limit", message, check_part["hint"])
    except Exception as error:  # a check must report, never crash the notebook
        result = _failed("running the check", f"checking your objects raised {type(error).__name__}: {error}", "")
        result["hint"] = check_part["hint"]
    finally:
        if time_limit is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
    undeclared = sorted(tracker.read - set(check_part["reads"]))
    if undeclared:  # a fault of the course's master, not of the student's: say so loudly
        message = f"the check of {name} reads {undeclared}, which its @exercise(reads=...) does not name"
        hint = "This is a fault in the course's notebook, not in your work: tell your instructor."
        result = _failed("the check itself", message, hint)
    return result


def hand_over_exercise(name, namespace, limit=None, exercises=None):
    """What exercise `name` reads of `namespace`, as the bytes a kernel hands over, or why it could not be.

    `exercises`: the registry the exercise is in (``checks_from``), by default this notebook's.
    """
    exercise = (EXERCISES if exercises is None else exercises)[name]
    try:
        if limit is None:
            return hand_over_bytes(namespace, exercise["reads"], exercise["probes"])
        return hand_over_bytes(namespace, exercise["reads"], exercise["probes"], limit)
    except Exception as error:  # e.g. over the size limit: this exercise alone fails
        return f"{type(error).__name__}: {error}"[:2000]


def judge(name, handed_over, time_limit=None):
    """Exercise `name`'s result on what was handed over: bytes, or the text of why the hand-over failed.

    Each part of the exercise is judged on its own (with `time_limit` seconds each, when given);
    a hidden part that this notebook only declares is counted, not judged. The result says
    whether every judged part passed, their points, each part's result in `parts`, and, as
    `part`, `message` and `hint`, why the first part that failed did. The grader's checker calls
    this in a process of its own; check() calls it in your notebook.
    """
    parts = EXERCISES[name]["parts"]
    judged = [part for part in parts if part["check"] is not None]
    if isinstance(handed_over, str):
        hint = (
            "Keep to the objects the exercise asks for: tensors, arrays, numbers, lists, dicts, "
            "models built from torch.nn layers, optimizers, figures."
        )
        failure = _failed("handing over your answer", f"your answer could not be handed over: {handed_over}", hint)
        return _summary(name, {part["name"]: failure for part in judged})
    refusals.clear()
    results = {}
    try:
        values = rebuild(load_handover(handed_over))
        results = {part["name"]: run_check(name, values, time_limit, part) for part in judged}
    except MalformedHandover as error:
        refusals.append(str(error))
    if refusals:  # even when a check caught the error: what the forward pass asked for was refused
        message = f"what your notebook handed over is malformed: {refusals[0]}"
        failure = _failed("handing over your answer", message, "Run the notebook again from the top in a fresh kernel.")
        results = {part["name"]: failure for part in judged}
    return _summary(name, results)


def _summary(name, results):
    """An exercise's result from its parts' (`results`: part name -> result): all of them, and the first failure."""
    parts = [
        {"name": part["name"], "points": part["points"], "hidden": part["check"] is None}
        | ({"judged": False} if part["check"] is None else {"judged": True, **results[part["name"]]})
        for part in EXERCISES[name]["parts"]
    ]
    judged = [part for part in parts if part["judged"]]
    failed = [part for part in judged if not part["passed"]]
    first = failed[0] if failed else {"part": "", "message": "passed", "hint": ""}
    return {
        "passed": not failed,
        "points": sum(part["points"] for part in judged if part["passed"]),
        "part": first["part"],
        "message": first["message"],
        "hint": first["hint"],
        "parts": parts,
    }


def reassigned(seen, namespace):
    """The variables in `seen` (name -> object) that `namespace` no longer holds, or holds as another object."""
    return sorted(name for name, value in seen.items() if name not in namespace or namespace[name] is not value)


def _points(points):
    return f"{points:g} point{'s' * (points != 1)}"


class CheckReport:
    """The outcome of check(): one row per exercise, shown as PASS/FAIL lines."""

    def __init__(self, rows):
        self.rows = rows  # (name, result now, result where it stands or None, variables reassigned since)
        # the grader keeps what an exercise scored where it stands
        self.score = sum((then or now)["points"] for name, now, then, _ in rows)
        self.max_score = sum(_judged_points(name) for name, *_ in rows)
        self.hidden_points = sum(EXERCISES[name]["points"] - _judged_points(name) for name, *_ in rows)

    def __repr__(self):
        lines = []
        for name, now, then, changed in self.rows:
            lines += _exercise_lines(name, now, then, changed)
        if len(self.rows) > 1:
            hidden = f" (and {_points(self.hidden_points)} of hidden parts, judged when graded)"
            lines.append(f"score: {self.score:g}/{self.max_score:g}{hidden if self.hidden_points else ''}")
        return "\n".join(lines)


def _judged_points(name):
    return sum(part["points"] for part in EXERCISES[name]["parts"] if part["check"] is not None)


def _exercise_lines(name, now, then, changed):
    """The lines check() shows for one exercise: PASS or FAIL, each failing part's reason and hint."""
    official = then or now
    parts = [part for part in official["parts"] if part["judged"]]
    hidden = [part for part in official["parts"] if not part["judged"]]
    earned = _points(_judged_points(name)) if official["passed"] else None
    if official["passed"] and now["passed"]:
        lines = [f"{name}: PASS ({earned})"]
    elif official["passed"]:
        since = f"`{'`, `'.join(changed)}` changed" if changed else "its objects changed"
        lines = [
            f"{name}: PASS where it stands ({earned}). Since then {since}, so it would fail now "
            f"({now['part']}: {now['message']}). An exercise is graded right after its own cells, "
            f"so it keeps its point{'s' * (_judged_points(name) != 1)}."
        ]
    elif len(parts) == 1:
        lines = [f"{name}: FAIL at {official['part']}: {official['message']}\n     hint: {official['hint']}"]
    else:
        lines = [f"{name}: {official['points']:g} of {_points(_judged_points(name))}"]
        for part in parts:
            verdict = (
                "PASS" if part["passed"] else f"FAIL at {part['part']}: {part['message']}\n       hint: {part['hint']}"
            )
            lines.append(f"   {part['name']} ({_points(part['points'])}): {verdict}")
    if not official["passed"] and then is not None and now["passed"]:
        lines.append(
            f"     It passes now, so a later cell fixed it; it is graded where check({name!r}) "
            "stands: move the fix into the exercise's cells, or run its check again after the fix."
        )
    if hidden:
        worth = _points(sum(part["points"] for part in hidden))
        count = f"{len(hidden)} hidden part{'s' * (len(hidden) != 1)}"
        lines.append(f"     and {count} worth {worth}, judged only when your notebook is graded")
    return lines


def check(name=None):
    """Check exercise `name` (e.g. "ex3") where it stands, or, with no name, every exercise defined so far."""
    namespace = sys._getframe(1).f_globals  # the notebook's variables: check() is called from one of its cells
    if name is not None:
        if name not in EXERCISES:
            raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(EXERCISES)}")
        result = judge(name, hand_over_exercise(name, namespace))
        seen = {variable: namespace[variable] for variable in EXERCISES[name]["reads"] if variable in namespace}
        _WHERE_IT_STANDS[name] = (result, seen)
        return CheckReport([(name, result, None, [])])
    rows = []
    for each in EXERCISES:
        then, seen = _WHERE_IT_STANDS.get(each, (None, {}))
        rows.append((each, judge(each, hand_over_exercise(each, namespace)), then, reassigned(seen, namespace)))
    return CheckReport(rows)


def _need(ns, name, kind=None):
    """Return ns[name]; fail with a message when it is missing or not of type `kind`."""
    expect(
        name in ns,
        f"`{name}`",
        f"`{name}` is not defined: the exercise cell must create it (did the cell run?)",
        f"Create `{name}` in the exercise's cell, with exactly this name, and run the cell.",
    )
    value = ns[name]
    if kind is not None:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        expect(
            isinstance(value, kind),
            f"`{name}`",
            f"`{name}` should be a {expected}, got {type(value).__name__}",
            f"`{name}` must be a {expected}.",
        )
    return value


def _array(ns, name):
    """Return ns[name] (a tensor, array or list of numbers) as a float NumPy array."""
    value = _need(ns, name, (torch.Tensor, np.ndarray, list, tuple))
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _logits(model, X):
    """Run `model` on X in eval mode without gradients, on the model's device; restore its mode."""
    param = next(model.parameters(), None)
    model_device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return model(X.to(model_device)).detach().float().cpu()
    finally:
        model.train(was_training)


def _labels(logits):
    """One logit per sample means binary (positive logit = class 1); several mean argmax."""
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    return (logits > 0).long() if logits.ndim == 1 else logits.argmax(dim=1)


def _accuracy(model, X, y):
    """Percentage of the samples in X that `model` labels correctly, computed here."""
    labels = _labels(_logits(model, X))
    expect(
        labels.shape == y.shape,
        "the predictions' shape",
        f"the model's predictions have shape {tuple(labels.shape)}, expected {tuple(y.shape)}",
        "The model should return one row of logits per sample.",
    )
    return (labels == y.long()).sum().item() / len(y) * 100


def _is_affine(model, features=2):
    """True when model(t*a + (1-t)*b) == t*model(a) + (1-t)*model(b): the model is linear (plus a bias)."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, features, generator=generator), torch.randn(256, features, generator=generator)
    mixed = _logits(model, 0.3 * a + 0.7 * b)
    return torch.allclose(mixed, 0.3 * _logits(model, a) + 0.7 * _logits(model, b), rtol=1e-3, atol=1e-4)


def _assert_optimizes(optimizer, model, optimizer_name, model_name):
    """`optimizer` updates exactly the parameters of `model`."""
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(
        owned == {id(p) for p in model.parameters()},
        f"`{optimizer_name}`'s parameters",
        f"`{optimizer_name}` does not hold the parameters of `{model_name}`",
        f"Build {optimizer_name} from {model_name}.parameters(): an optimizer built for another model "
        f"leaves {model_name} untouched.",
    )


def _plots_values(fig, values):
    """True when some line in `fig` has exactly these y values."""
    return any(
        len(line.get_ydata()) == len(values) and np.allclose(np.asarray(line.get_ydata(), dtype=float), values)
        for ax in fig.axes
        for line in ax.get_lines()
    )


def _points_and_regions(ax):
    """(number of scattered points, whether filled decision regions are drawn) for one plot."""
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    return points, any(isinstance(c, ContourSet) for c in ax.collections)


def _expect_boundary(ax, part, where):
    """`ax` shows filled decision regions; no plot, or an empty one, means they went to a figure of its own."""
    points, regions = _points_and_regions(ax) if ax is not None else (0, False)
    expect(
        regions or points,
        part,
        f"{where} is empty: the decision boundary was drawn somewhere else. A plotting function that "
        "calls plt.figure() opens a figure of its own and leaves this one blank",
        "Draw on the current axes: use the course's plot_decision_boundary, or take plt.figure() out of your own.",
    )
    expect(
        regions,
        part,
        f"{where} shows no decision regions",
        "Draw it with plot_decision_boundary(model, X, y), which fills the regions and scatters the points.",
    )
    return points


def checks_from(code):
    """The exercises that checks ``code`` registers, apart from those this process registered before."""
    global EXERCISES
    before, EXERCISES = EXERCISES, {}
    try:
        exec(compile(code, "<course checks>", "exec"), {"__name__": "__course_checks__"})
        return EXERCISES
    finally:
        EXERCISES = before


class LoadedChecks(list):
    """The names of the exercises ``use_checks`` loaded, shown as one line in the notebook."""

    def __repr__(self):
        return f"the self-check is ready: {len(self)} exercises ({', '.join(self)}); check('{self[0]}') runs one"


def use_checks(path):
    """Load the checks of an exercise notebook from ``path``, relative to the course's folder (this file's)."""
    file = Path(__file__).resolve().parent / path
    namespace = {"__name__": "__course_checks__", "__file__": str(file)}
    exec(compile(file.read_text(encoding="utf-8"), str(file), "exec"), namespace)
    return LoadedChecks(EXERCISES)
