"""Rebuild a student's answers from the plain data a kernel handed over. Trusted: no student code runs here.

``load_handover`` reads the bytes with ``torch.load(..., weights_only=True)``: PyTorch's
restricted unpickler, which rebuilds tensors, numbers, strings, lists and dicts and refuses
anything else, so loading runs no code of the sender's. ``rebuild`` then makes fresh objects
of known classes from that data (``grading/kernel/handover.py`` writes it):

* torch.nn's own layers from their class name and settings, checked against the layer's
  ``repr`` as the kernel printed it; a module of the student's own class as a
  ``HandedOverModule`` that holds the same layers and runs the traced forward pass step by step.
  A step may call a submodule, a public method of a tensor, or a function of an allow-list
  (``torch``'s tensor operations, ``torch.nn.functional``, ``operator``, ``math``); nothing is
  looked up by a name that the data chose, and nothing is compiled or evaluated;
* optimizers of ``torch.optim`` over the rebuilt parameters, the same objects as the model's;
* matplotlib figures with the same axes, lines, points, filled regions and images;
* datasets, DataLoaders, NumPy values, and functions that answer the inputs they were tried on.

Malformed data raises ``MalformedHandover``, which fails the exercise that handed it over.
"""

import io
import math
import operator

import numpy as np
import torch
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from torch import nn
from torch.utils.data import DataLoader, Dataset

from grading.kernel.handover import HANDOVER_FORMAT, HANDOVER_LIMIT_BYTES


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


# ---------------------------------------------------------------------- what a traced forward pass may call
_TORCH_FUNCTIONS = """
abs absolute acos add addmm all amax amin any arange argmax argmin argsort asin atan atan2 bmm cat ceil chunk clamp
clamp_max clamp_min clip clone conv1d conv2d cos cosh cumprod cumsum detach diag div dot dropout einsum empty_like eq
erf exp expm1 flatten flip floor fmod full full_like gather ge gelu gt hardtanh hstack index_select isnan le
leaky_relu lerp log log10 log1p log2 log_softmax logical_and logical_not logical_or logsumexp lt masked_fill matmul max
max_pool2d maximum mean median min minimum mm mul narrow ne neg nonzero norm ones ones_like permute pow prod rand_like
randn_like reciprocal relu remainder repeat_interleave reshape round rsqrt select sigmoid sign sin sinh softmax sort
split sqrt square squeeze stack std sub sum t tanh tensor tile topk transpose tril triu true_divide unbind unsqueeze
var var_mean vstack where zeros zeros_like
""".split()
_OPERATORS = """
abs add and_ eq floordiv ge getitem gt iadd imul invert isub itruediv le lt matmul mod mul ne neg or_ pos pow sub
truediv xor
""".split()
_MATH = "ceil floor sqrt prod".split()
_TENSOR_METHODS_REFUSED = {"apply_", "map_", "map2_", "register_hook", "register_post_accumulate_grad_hook", "storage"}


def _allowed_functions():
    allowed = {f"torch.{name}": getattr(torch, name) for name in _TORCH_FUNCTIONS if hasattr(torch, name)}
    functional = torch.nn.functional
    for name in dir(functional):
        value = getattr(functional, name)
        if not name.startswith("_") and callable(value) and not isinstance(value, type):
            allowed[f"torch.nn.functional.{name}"] = value
    allowed |= {f"operator.{name}": getattr(operator, name) for name in _OPERATORS}
    allowed |= {f"math.{name}": getattr(math, name) for name in _MATH}
    allowed["builtins.getattr"] = _public_getattr
    return allowed


def _public_getattr(obj, name, *default):
    if not isinstance(name, str) or name.startswith("_"):
        raise AttributeError(f"a traced forward pass may read public attributes only, not {name!r}")
    return getattr(obj, name, *default)


ALLOWED_FUNCTIONS = _allowed_functions()


def _tensor_method(name):
    return (
        isinstance(name, str)
        and not name.startswith("_")
        and name not in _TENSOR_METHODS_REFUSED
        and callable(getattr(torch.Tensor, name, None))
    )


class HandedOverModule(nn.Module):
    """A module of the student's own class, rebuilt: the same layers, and its forward pass as traced steps."""

    def __init__(self, steps=None, graph_error=""):
        super().__init__()
        self.__dict__["_steps"] = steps  # not a submodule or a parameter: kept out of nn.Module's registries
        self.__dict__["_graph_error"] = graph_error

    def forward(self, *args, **kwargs):
        steps = self.__dict__["_steps"]
        if steps is None:
            raise RuntimeError(
                f"the forward pass of {type(self).__name__} could not be handed over: {self.__dict__['_graph_error']}. "
                "Write forward() with torch operations and layers only (no Python control flow on tensor values)"
            )
        values, positional = [], list(args)
        for step in steps:
            op, target = step["op"], step["target"]
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
                    raise TypeError(f"{type(self).__name__}.forward() is missing its argument {target!r}")
            elif op == "get_attr":
                value = _resolve(self, target)
            elif op == "constant":
                value = step_args[0]
            elif op == "call_module":
                value = self.get_submodule(target)(*step_args, **step_kwargs)
            elif op == "call_function":
                value = ALLOWED_FUNCTIONS[target](*step_args, **step_kwargs)
            elif op == "call_method":
                value = getattr(step_args[0], target)(*step_args[1:], **step_kwargs)
            else:  # output
                return step_args[0]
            values.append(value)
        raise RuntimeError("the traced forward pass has no output")


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


def _resolve(module, target):
    obj = module
    for part in target.split("."):
        obj = obj._modules.get(part) or obj._parameters.get(part) or obj._buffers.get(part)
        if obj is None:
            raise MalformedHandover(f"a step reads {target!r}, which the module does not have")
    return obj


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
        self.device = {}

    def value(self, node):
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
            raise MalformedHandover(f"unexpected {type(node).__name__} in the hand-over")
        kind = node["kind"]
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
            return np.dtype(_text(node, "dtype")).type(node.get("value"))
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
                (self.value(args), {k: self.value(v) if k == "value" else str(v) for k, v in result.items()})
                for args, result in _list(node, "calls")
            ]
            return HandedOverFunction(_text(node, "name"), calls)
        if kind == "unsupported":
            return _stand_in(_text(node, "type"), str(node.get("reason", "")))
        raise MalformedHandover(f"unknown kind {kind!r}")

    def ref(self, number):
        if not isinstance(number, int) or not 0 <= number < len(self.objects):
            raise MalformedHandover(f"a reference to object {number!r}, which is not in the hand-over")
        if number in self.built:
            if self.built[number] is None:
                raise MalformedHandover("an object refers to itself")
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
            raise MalformedHandover(f"object {number} is of unknown kind {kind!r}")
        self.built[number] = builders[kind](node)
        return self.built[number]

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
            cls = getattr(nn, _text(node, "torch_class"), None)
            if not (isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__.startswith("torch.nn.")):
                raise MalformedHandover(f"nn.{torch_class} is not one of torch.nn's layers")
            module = cls() if node.get("settings") is None else self.layer(cls, node)
        else:
            steps = None if node.get("graph") is None else self.steps(_list(node, "graph"))
            name = _text(node, "class")
            cls = type(name if name.isidentifier() else "HandedOverModule", (HandedOverModule,), {})
            module = cls(steps, str(node.get("graph_error", "")))
        for name, child in _pairs(node, "children"):
            child = self.value(child)
            if not isinstance(child, nn.Module):
                raise MalformedHandover(f"the child {name!r} of a module is not a module")
            module._modules[_attribute(name)] = child
        for registry, key in ((module._parameters, "parameters"), (module._buffers, "buffers")):
            for name, tensor in _pairs(node, key):
                value = self.value(tensor)
                if value is not None and not isinstance(value, torch.Tensor):
                    raise MalformedHandover(f"the {key[:-1]} {name!r} of a module is not a tensor")
                expected = registry.get(name)
                if isinstance(expected, torch.Tensor) and value is not None and expected.shape != value.shape:
                    raise MalformedHandover(
                        f"{type(module).__name__}.{name} has shape {tuple(value.shape)}, but the layer "
                        f"its settings build has {tuple(expected.shape)}"
                    )
                if key == "parameters" and value is not None and not isinstance(value, nn.Parameter):
                    raise MalformedHandover(f"the parameter {name!r} of a module is not a parameter")
                registry[_attribute(name)] = value
        module.train(bool(node.get("training")))
        if torch_class is not None and node.get("settings") is not None and repr(module) != node.get("repr"):
            raise MalformedHandover(
                f"nn.{torch_class} rebuilt from its settings reads {repr(module)[:200]!r}, "
                f"but the notebook's reads {str(node.get('repr'))[:200]!r}"
            )
        return module

    def layer(self, cls, node):
        if not isinstance(node["settings"], dict):
            raise MalformedHandover("a layer's settings are not a dict")
        settings = {_attribute(k): self.value(v) for k, v in node["settings"].items()}
        try:
            return cls(**settings)
        except Exception as error:  # the settings do not build this layer
            raise MalformedHandover(f"nn.{cls.__name__} cannot be built from {settings}: {error}") from None

    def steps(self, graph):
        steps, count = [], 0
        for step in graph:
            op, target = step.get("op"), step.get("target")
            if op not in (
                "placeholder",
                "get_attr",
                "constant",
                "call_module",
                "call_function",
                "call_method",
                "output",
            ):
                raise MalformedHandover(f"a step of a forward pass does {op!r}")
            if op == "call_function" and target not in ALLOWED_FUNCTIONS:
                raise MalformedHandover(f"the forward pass calls {target!r}, which is not among the functions allowed")
            if op == "call_method" and not _tensor_method(target):
                raise MalformedHandover(f"the forward pass calls the method {target!r}, which is not a tensor's")
            if op in ("placeholder", "get_attr", "call_module") and not (
                isinstance(target, str) and all(part.isidentifier() or part.isdigit() for part in target.split("."))
            ):
                raise MalformedHandover(f"a step names {target!r}")
            steps.append(
                {
                    "op": op,
                    "target": target,
                    "args": self.step_argument(step.get("args"), count),
                    "kwargs": self.step_argument(step.get("kwargs"), count),
                }
            )
            count += 1
        return steps

    def step_argument(self, node, available):
        """A step's arguments: constants rebuilt now, references to the values of earlier steps kept."""
        if isinstance(node, dict) and node.get("kind") == "node":
            if not isinstance(node.get("index"), int) or not 0 <= node["index"] < available:
                raise MalformedHandover("a step uses a value that no earlier step computed")
            return {"kind": "node", "index": node["index"]}
        if isinstance(node, dict) and node.get("kind") in ("list", "tuple", "slice"):
            return {
                "kind": node["kind"],
                "items": [self.step_argument(item, available) for item in _list(node, "items")],
            }
        if isinstance(node, dict) and node.get("kind") == "dict":
            return {
                "kind": "dict",
                "items": [[_attribute(k), self.step_argument(v, available)] for k, v in _pairs(node)],
            }
        return {"kind": "constant", "value": self.value(node)}

    def optimizer(self, node):
        cls = getattr(torch.optim, str(node.get("torch_class")), None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            return _stand_in(_text(node, "class"), "an optimizer of its own class, not one of torch.optim's")
        groups = []
        for group in _list(node, "param_groups"):
            params = [self.value(p) for p in _list(group, "params")]
            if not all(isinstance(p, torch.Tensor) for p in params):
                raise MalformedHandover("an optimizer's parameters are not tensors")
            settings = {_attribute(k): self.value(v) for k, v in dict(group.get("settings") or {}).items()}
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
            raise MalformedHandover(f"a DataLoader's batch size is {batch_size!r}")
        return DataLoader(
            dataset, batch_size=batch_size, shuffle=bool(node.get("shuffle")), drop_last=bool(node.get("drop_last"))
        )


def _tensor(value):
    if not isinstance(value, torch.Tensor):
        raise MalformedHandover(f"expected a tensor, found {type(value).__name__}")
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
        raise MalformedHandover(f"{name!r} is not a name")
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
