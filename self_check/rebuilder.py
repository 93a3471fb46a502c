"""The rebuild: fresh objects of known classes from the plain data one exercise's hand-over holds.

The checker's side of the trust boundary, with ``self_check.replay``: ``load_handover`` reads the
bytes a kernel saved with ``torch.load(..., weights_only=True)``, which runs no code of the
sender's, and ``rebuild`` makes each value anew: tensors, numbers and containers as they are;
torch.nn's own layers (``vocabulary.LAYERS``) from their settings; a module of the student's own
class as a ``HandedOverModule`` whose forward pass is replayed from its traced steps; optimizers,
figures, datasets and data loaders of torch's and matplotlib's own classes. Every reference,
name, text and number is checked as it is read (``MalformedHandover`` says what was wrong).
Nothing here imports from the kernel's side.
"""

import io

import numpy as np
import torch
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from torch import nn
from torch.utils.data import DataLoader, Dataset

from self_check.replay import (
    MAX_ELEMENTS,
    MAX_INT,
    MAX_ITEMS,
    MAX_NESTING,
    MAX_STEPS,
    MODES,
    STEP_OPS,
    HandedOverModule,
    MalformedHandover,
    check_plain,
)
from self_check.vocabulary import FUNCTIONS, LAYERS, OPTIMIZERS, TENSOR_METHODS

HANDOVER_FORMAT = 2  # 2: a module's forward pass as "graphs", each for a mode and, when exported, for its inputs
HANDOVER_LIMIT_BYTES = 96 * 2**20  # one exercise's hand-over, as saved: the FashionMNIST test split is 31 MB


class NotHandedOver:
    """Stands for a value that could not be handed over; its class is named after the value's type."""

    def __init__(self, reason=""):
        self.reason = reason

    def __repr__(self):
        return f"<{type(self).__name__} that could not be handed over{': ' + self.reason if self.reason else ''}>"


def _stand_in(type_name, reason=""):
    name = type_name if type_name.isidentifier() else "Unknown"
    return type(name, (NotHandedOver,), {})(reason)


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
        if kind == "layout":
            return _torch_attribute(_text(node, "name"), torch.layout)
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
        value = check_plain(self.value(node), where, constant=True)
        if isinstance(value, torch.device) and value.type == "cuda" and not torch.cuda.is_available():
            return torch.device("cpu")  # a forward pass traced on a GPU replays on the CPU, as its tensors do
        return value

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
            try:
                module = cls(
                    [self.graph(graph, name) for graph in _list(node, "graphs")], _plain_text(node.get("graph_error"))
                )
            except MalformedHandover as refusal:  # refused now, failing only the checks that run it
                module = cls(refusal=str(refusal))
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

    def graph(self, node, owner):
        """One traced forward pass: the mode it holds in, the inputs it was exported for (or None), its steps."""
        mode = node.get("mode") if isinstance(node, dict) else None
        if mode not in MODES:
            raise MalformedHandover(f"a forward pass of {owner} is for the mode {_named(mode)}")
        inputs = node.get("inputs")
        if inputs is not None:
            inputs = [self.input_spec(one, owner) for one in _list(node, "inputs")[:MAX_ITEMS]]
        return {"mode": mode, "inputs": inputs, "steps": self.steps(_list(node, "steps"), owner)}

    @staticmethod
    def input_spec(node, owner):
        """The shape and dtype of one input of an exported forward pass: each dimension a size or a range."""
        dims = []
        for dim in _list(node, "shape")[:64]:
            if type(dim) is int and 0 <= dim <= MAX_INT:
                dims.append(dim)
            elif (
                isinstance(dim, list | tuple)
                and len(dim) == 2
                and type(dim[0]) is int
                and (dim[1] is None or type(dim[1]) is int)
            ):
                dims.append((dim[0], dim[1]))
            else:
                raise MalformedHandover(f"an input of {owner}'s forward pass has a dimension {_named(dim)}")
        return {"dtype": _torch_attribute(_text(node, "dtype"), torch.dtype), "shape": dims}

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
