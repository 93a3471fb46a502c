"""The replay of a handed-over forward pass: every step checked, every write and allocation judged by its effect.

This module is the checker's trust boundary, with ``self_check.rebuilder`` (which makes the objects)
and ``self_check.vocabulary`` (the names a step may call). It imports nothing from the kernel's
side (``self_check.handover``): it never sees a student's object, only the plain data a kernel
handed over, and the steps it replays come from that data. Three walls hold each step:

1. **The vocabulary** (``vocabulary.FUNCTIONS``, ``TENSOR_METHODS``, ``TENSOR_ATTRIBUTES``): a step
   calls only what is named there, on tensors; ``getattr`` reads only a tensor's data attributes
   and the named fields of what torch returns (``values``, ``indices``).
2. **Every value checked** (``check_plain``) as a step receives and produces it: tensors, numbers,
   booleans, ``None``, sequences of those, sizes, dtypes, devices, layouts, slices; within the limits.
3. **The effect of every operator** (``ReplayGuard``, a ``TorchDispatchMode``), judged from ATen's
   own schema as the operator runs, whatever Python spelled it: an operator that would write into
   a tensor the replay did not create (by ``out=``, by position, ``inplace=True``, a method ending
   in ``_``) is refused before it runs, and so is one whose result would exceed ``MAX_ELEMENTS``
   (worked out on the meta device first). A forward pass gets copies of its inputs, so even a write
   it may make (into its input, as ``x /= 255`` does) never reaches the caller's tensors.

A refusal is a ``MalformedHandover`` and is recorded in ``refusals``; an honest forward pass that
cannot be replayed (traced only for other inputs, or never traced) raises ``Unjudgeable`` and is
recorded in ``unjudgeable``, so that a check which catches either still fails, and says which.
"""

import contextlib
import string

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode
from torch.utils._pytree import tree_flatten, tree_map

from self_check.vocabulary import FUNCTIONS, TENSOR_ATTRIBUTES, TENSOR_METHODS

MAX_NESTING = 32  # levels of lists, dicts and objects in a hand-over
MAX_STEPS = 10_000  # steps of one forward pass
MAX_ELEMENTS = 2**26  # elements of a tensor a step produces or that a hand-over holds (256 MiB of float32)
MAX_ITEMS = 1_024  # items of a tuple or list a step receives or produces
MAX_INT = 2**62  # magnitude of an integer a step receives or produces
END_OF_DIMENSION = 2**63 - 1  # the constant ATen writes for "to the end" in a slice, allowed as a constant
MAX_TEXT = 64  # characters of a text constant (an attribute's name, an einsum equation, a mode)
_TEXT_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_,.-> ")
PLAIN_KINDS = (
    "tensors, Python numbers, booleans and None, tuples and lists of those, torch.Size, dtypes, devices, "
    "layouts, slices and Ellipsis"
)
STEP_OPS = ("placeholder", "get_attr", "constant", "call_module", "call_function", "call_method", "output")
MODES = ("either", "train", "eval")

refusals: list[str] = []  # every refusal of a replay since judging began (judge() reads and clears it)
unjudgeable: list[str] = []  # every honest forward pass that could not be replayed, and why (likewise)


class MalformedHandover(ValueError):
    """The data handed over is not what a kernel writes; the message says what is wrong."""


class Unjudgeable(RuntimeError):
    """An honest forward pass the checker cannot replay here; the message says why and what to write instead."""


def _sequence_product(step_args):
    """How long a sequence ``operator.mul`` of a sequence and an int builds (0 for anything else)."""
    a, b = (*step_args, None, None)[:2]
    if isinstance(a, tuple | list) and type(b) is int:
        return len(a) * b
    if isinstance(b, tuple | list) and type(a) is int:
        return len(b) * a
    return 0


def check_plain(value, where, constant=False, depth=0):
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
    plain = (bool, float, torch.dtype, torch.device, torch.memory_format, torch.layout)
    if value is None or value is Ellipsis or kind in plain:
        return value
    if kind is int:
        if abs(value) > MAX_INT and not (constant and value == END_OF_DIMENSION):
            raise MalformedHandover(f"{where} gives an integer of {value.bit_length()} bits, over the limit of 62")
        return value
    if kind is str and constant:
        if len(value) > MAX_TEXT or not set(value) <= _TEXT_CHARACTERS:
            raise MalformedHandover(f"{where} takes the text {value[:40]!r}, which is not a short name or equation")
        return value
    if kind is slice:
        for bound in (value.start, value.stop, value.step):
            check_plain(bound, where, constant, depth + 1)
        return value
    if kind in (tuple, list, torch.Size) or kind.__module__ == "torch.return_types":
        if depth >= 8:
            raise MalformedHandover(f"{where} gives lists nested more than 8 deep")
        if len(value) > MAX_ITEMS:
            raise MalformedHandover(f"{where} gives a sequence of {len(value)} items, over the limit of {MAX_ITEMS}")
        items = [check_plain(item, where, constant, depth + 1) for item in value]
        if kind is list:
            return items
        return value if kind is torch.Size else tuple(items) if kind is tuple else kind(items)
    raise MalformedHandover(f"{where} gives a {kind.__name__}; a forward pass may hold only {PLAIN_KINDS}")


# ---------------------------------------------------------------------- wall 3: each operator, by its effect
def _storage(tensor):
    """The identity of the memory ``tensor`` lives in, shared by all its views."""
    return tensor.untyped_storage()._cdata


def _on_meta(value):
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")
    return torch.device("meta") if isinstance(value, torch.device) else value


class ReplayGuard(TorchDispatchMode):
    """Judges every ATen operator a replay runs by its schema: what it writes, and how much it would allocate.

    ``owned`` holds the memory the replay may write into: what its operators allocated, the copies
    of its inputs and the model's own buffers (a layer such as BatchNorm updates them in training).
    A parameter, a constant of the forward pass and every tensor of the caller's are not in it.
    """

    def __init__(self, owned=()):
        super().__init__()
        self.owned = set(owned)
        self.where = "the forward pass"

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        schema = func._schema
        positional = [argument for argument in schema.arguments if not argument.kwarg_only]
        for argument in schema.arguments:
            if argument.alias_info is None or not argument.alias_info.is_write:
                continue
            index = positional.index(argument) if argument in positional else len(args)
            written = args[index] if index < len(args) else kwargs.get(argument.name)
            for tensor in tree_flatten(written)[0]:
                if isinstance(tensor, torch.Tensor) and _storage(tensor) not in self.owned:
                    raise MalformedHandover(
                        f"{self.where} writes into a tensor it did not create ({func}, argument {argument.name!r})"
                    )
        self._bounded(func, schema, args, kwargs)
        result = func(*args, **kwargs)
        results = result if isinstance(result, tuple | list) else (result,)
        for returned, value in zip(schema.returns, results, strict=False):
            if returned.alias_info is None:  # newly allocated: the replay's own
                for tensor in tree_flatten(value)[0]:
                    if isinstance(tensor, torch.Tensor):
                        self.owned.add(_storage(tensor))
        return result

    def _bounded(self, func, schema, args, kwargs):
        """Refuse ``func`` when what it would return holds over ``MAX_ELEMENTS``, worked out without allocating."""
        meta_args, meta_kwargs = tree_map(_on_meta, (args, kwargs))
        if any(argument.name == "device" and argument.kwarg_only for argument in schema.arguments):
            meta_kwargs["device"] = torch.device("meta")  # a builder with no device given would build on the CPU
        try:
            result = func(*meta_args, **meta_kwargs)
        except Exception:  # noqa: BLE001  (no meta kernel, or a size that depends on the data: it runs, then is checked)
            return
        for tensor in tree_flatten(result)[0]:
            if isinstance(tensor, torch.Tensor) and tensor.numel() > MAX_ELEMENTS:
                raise MalformedHandover(
                    f"{self.where} would build {tensor.numel()} elements, over the limit of {MAX_ELEMENTS}"
                )


def _active_guard():
    mode = _get_current_dispatch_mode()
    return mode if isinstance(mode, ReplayGuard) else None


# ---------------------------------------------------------------------- the steps
def _call_function(target, args, kwargs, where):
    if target == "builtins.getattr":
        return _attribute_of(args, kwargs, where)
    if target == "operator.mul" or target == "operator.imul":
        if _sequence_product(args) > MAX_ITEMS:
            raise MalformedHandover(f"{where} repeats a sequence to more than {MAX_ITEMS} items")
    if target in ("operator.pow", "operator.ipow") and all(type(a) is int for a in args) and abs(args[1]) > 64:
        raise MalformedHandover(f"{where} raises an integer to the power {args[1]}, over the limit of 64")
    return FUNCTIONS[target](*args, **kwargs)


def _attribute_of(args, kwargs, where):
    """``getattr(obj, name)``: a tensor's data attribute, or a named field of what a torch function returned."""
    obj, name, *default = (*args, None, None)[: max(2, len(args))]
    fields = getattr(type(obj), "__match_args__", ()) if type(obj).__module__ == "torch.return_types" else ()
    allowed = TENSOR_ATTRIBUTES if type(obj) in (torch.Tensor, nn.Parameter) else frozenset(fields)
    if type(name) is not str or name not in allowed:
        shown = repr(name) if type(name) is str else f"a {type(name).__name__}"  # never a tensor's repr: it imports
        raise MalformedHandover(
            f"{where} reads {shown} of a {type(obj).__name__}; a forward pass may read only "
            f"{', '.join(sorted(TENSOR_ATTRIBUTES))} of a tensor, and the named fields of torch's results"
        )
    if default or kwargs:
        raise MalformedHandover(f"{where} reads an attribute with a default; a tensor's data attributes need none")
    return getattr(obj, name)


def _call_method(name, args, kwargs, where):
    obj = args[0] if args else None
    if type(obj) not in (torch.Tensor, nn.Parameter):
        raise MalformedHandover(
            f"{where} calls the method {name!r} of a {type(obj).__name__}; methods are called on tensors only"
        )
    return getattr(obj, name)(*args[1:], **kwargs)


def _argument(node, values):
    """A step's argument, as the rebuild checked it: a constant, or an earlier step's value."""
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


def _copies(values):
    """The forward pass's own copies of its inputs: what it writes into them stays with it."""
    return tree_map(lambda value: value.clone() if isinstance(value, torch.Tensor) else value, values)


def describe_inputs(spec):
    """How a graph's input spec reads in a message: ``(N ≥ 2, 2) float32``."""
    shapes = []
    for one in spec:
        dims = [str(d) if type(d) is int else f"N{'≥' + str(d[0]) if d[0] > 0 else ''}" for d in one["shape"]]
        shapes.append(f"({', '.join(dims)}{',' if len(dims) == 1 else ''}) {str(one['dtype']).removeprefix('torch.')}")
    return " and ".join(shapes) or "no tensors"


def _fits(spec, args):
    """Whether the tensors ``args`` are of the shapes and dtypes a graph exported for ``spec`` accepts."""
    if len(args) != len(spec):
        return False
    for value, one in zip(args, spec, strict=True):
        if not isinstance(value, torch.Tensor) or value.dtype != one["dtype"] or value.ndim != len(one["shape"]):
            return False
        for size, dim in zip(value.shape, one["shape"], strict=True):
            if type(dim) is int and size != dim:
                return False
            if type(dim) is not int and not (dim[0] <= size and (dim[1] is None or size <= dim[1])):
                return False
    return True


def _shapes(args):
    return ", ".join(
        f"{tuple(a.shape)} {str(a.dtype).removeprefix('torch.')}" if isinstance(a, torch.Tensor) else type(a).__name__
        for a in args
    )


class HandedOverModule(nn.Module):
    """A module of the student's own class, rebuilt: the same layers, and its forward pass as traced steps.

    ``graphs``: each ``{"mode", "inputs", "steps"}``; ``mode`` says whether it holds in training,
    in evaluation or in either, ``inputs`` the shapes an exported graph holds for (``None``: any).
    """

    def __init__(self, graphs=(), graph_error="", refusal=""):
        super().__init__()
        # not submodules or parameters: kept out of nn.Module's registries
        self.__dict__["_graphs"] = list(graphs)
        self.__dict__["_graph_error"] = graph_error  # why the kernel could not trace forward()
        self.__dict__["_refusal"] = refusal  # why the rebuild refused the steps it was handed

    def forward(self, *args, **kwargs):
        try:
            return self._replay(args, kwargs)
        except MalformedHandover as refusal:
            refusals.append(str(refusal))
            raise
        except Unjudgeable as reason:
            unjudgeable.append(str(reason))
            raise

    def _graph(self, args):
        owner = type(self).__name__
        if self.__dict__["_refusal"]:
            raise MalformedHandover(self.__dict__["_refusal"])
        if not self.__dict__["_graphs"]:
            raise Unjudgeable(f"the forward pass of {owner} could not be handed over: {self.__dict__['_graph_error']}")
        mode = "train" if self.training else "eval"
        graphs = [graph for graph in self.__dict__["_graphs"] if graph["mode"] in ("either", mode)]
        for graph in graphs:
            if graph["inputs"] is None or _fits(graph["inputs"], args):
                return graph["steps"]
        traced = "; ".join(describe_inputs(graph["inputs"]) for graph in graphs if graph["inputs"] is not None)
        raise Unjudgeable(
            f"the forward pass of {owner} could be traced only for inputs {traced or 'in the other mode'} "
            f"({'training' if self.training else 'evaluation'} mode), and this check gives it {_shapes(args)}. "
            "Its Python reads the input's shape, so it was traced on the inputs your notebook gave it"
        )

    def _replay(self, args, kwargs):
        steps = self._graph(args)
        guard = _active_guard()
        if guard is not None:  # a handed-over module inside another's replay: the outer guard judges it
            guard.owned.update(_storage(buffer) for buffer in self.buffers())
            return self._run(steps, _copies(list(args)), _copies(kwargs), guard)
        with ReplayGuard(_storage(buffer) for buffer in self.buffers()) as guard:
            return self._run(steps, _copies(list(args)), _copies(kwargs), guard)

    def _run(self, steps, positional, kwargs, guard):
        owner = f"{type(self).__name__}.forward"
        values = []
        for index, step in enumerate(steps):
            op, target = step["op"], step["target"]
            where = f"step {index} of {owner} ({op} {target})".replace(" )", ")")
            guard.where = where
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
                return check_plain(step_args[0], where)
            values.append(check_plain(value, where))
        raise MalformedHandover(f"{owner} has no output step")


def warm_up(every_operator=False):
    """Call the replay's vocabulary once on small tensors, so that what torch imports on first use it imports now.

    The checker does this before its walls go up, so that no judging child pays for it: the
    functions and methods a traced forward pass calls, and the guard on a few of ATen's operators.
    ``every_operator`` calls each ATen operator under the guard too (seconds: the fuzz tests of the
    replay, whose audit hook counts an import as an event, start that way).
    """
    x = torch.randn(3, 4)
    traced = [function for name, function in FUNCTIONS.items() if not name.startswith("aten.")]
    calls = [(function, arguments) for function in traced for arguments in _WARM_UP_ARGUMENTS(x)]
    calls += [(getattr, (x, method)) for method in TENSOR_METHODS]
    for function, arguments in calls:
        try:
            result = function(*arguments)
            if callable(result) and function is getattr:  # a method: called as a step would
                for more in ((), (1,), (x,), (0, 1)):
                    with contextlib.suppress(Exception):
                        getattr(x.clone(), arguments[1])(*more)
        except Exception:  # noqa: S112  (most signatures refuse most of these arguments; calling is the point)
            continue
    guarded = FUNCTIONS if every_operator else {name: FUNCTIONS[name] for name in _GUARD_WARM_UP}
    with ReplayGuard() as guard:
        guard.owned.add(_storage(x))
        for function in guarded.values():
            for arguments in _WARM_UP_ARGUMENTS(x):
                with contextlib.suppress(Exception):
                    function(*arguments)


def _WARM_UP_ARGUMENTS(x):  # noqa: N802  (a table, called for the tensor it holds)
    return ((x,), (x, x), (x, 1), (x, 0, 1), ((3, 4),), ([3, 4], 0.0))


_GUARD_WARM_UP = ("aten.linear.default", "aten.relu_.default", "aten.view.default", "aten.cat.default", "torch.zeros")
