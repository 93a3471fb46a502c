"""Hand a student's answers over as plain data. Runs in the student's kernel: nothing here is trusted.

An exercise's check reads a few of the notebook's variables (its ``reads``). This module turns
their values into plain data: numbers, strings, tensors, and lists and dicts of those, with
every object that two variables share written once and referred to by number (an optimizer
names the model's own parameters, a DataLoader its dataset). ``hand_over_bytes`` saves that
with ``torch.save``; the checker loads it with ``torch.load(..., weights_only=True)``, which
rebuilds tensors and containers and runs no code (``grading/checker/rebuild.py``).

What can be handed over, and as what:

* tensors, NumPy arrays and scalars, numbers, strings, lists, tuples, dicts, ranges;
* a model as its module tree: each layer's class, its settings and its parameters and buffers;
  the forward pass of a module of the student's own class as its ``torch.fx`` graph, written
  as data (which layer or which torch function each step calls, on what);
* an optimizer as its class and ``param_groups``; a loss function as a module;
* a figure as its axes and the data of their lines, points, filled regions and images;
* a dataset as its items, a DataLoader as its dataset, batch size and order;
* a function as its outputs on the inputs that the exercise names (its ``probes``).

Anything else is handed over as its type's name, so a check can say what it found. What a
kernel hands over can be false only the way an answer can be wrong: the checker judges it.
"""

import inspect
import io
import math
import operator

import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler

HANDOVER_FORMAT = 1
HANDOVER_LIMIT_BYTES = 96 * 2**20  # one exercise's hand-over, as saved: the FashionMNIST test split is 31 MB
_MAX_DEPTH = 12  # nesting of lists and dicts; deeper is not an answer
_MAX_ITEMS = 100_000  # items of a list, dict or dataset
_MAX_TEXT = 100_000  # characters of a string
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
        if depth > _MAX_DEPTH:
            raise HandOverError(f"`{name}` is nested more than {_MAX_DEPTH} levels deep")
        if obj is None or isinstance(obj, bool | int | float):
            return obj
        if isinstance(obj, str):
            if len(obj) > _MAX_TEXT:
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
            if len(obj) > _MAX_ITEMS:
                raise HandOverError(f"`{name}` holds {len(obj)} items")
            kind = "list" if isinstance(obj, list) else "tuple"
            return {"kind": kind, "items": [self.value(item, name, depth + 1) for item in obj]}
        if isinstance(obj, dict):
            if len(obj) > _MAX_ITEMS:
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
            "repr": repr(m)[:_MAX_TEXT] if torch_class else "",
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
        if length > _MAX_ITEMS:
            raise HandOverError(f"a dataset of {length} items is more than {_MAX_ITEMS}")
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
