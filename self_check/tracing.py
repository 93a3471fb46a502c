"""A model's forward pass as steps the checker can replay: traced in the student's kernel, never trusted there.

The kernel's side of the hand-over (with ``self_check.handover``). ``forward_graphs`` traces a
module of the student's own class two ways:

* by ``torch.fx.symbolic_trace``, which needs no input and gives steps that hold for any input:
  the calls as the student wrote them;
* where fx cannot follow the Python (``if x.dim() == 1``, ``len(x)``, ``torch.zeros(x.shape[0], 1)``,
  a ``squeeze()`` that depends on a shape), by ``torch.export`` on an example input: the shapes
  the model was last called with in this kernel (``record_inputs``), each dimension left dynamic
  where the code allows (``Dim.AUTO``). The steps are then ATen operators, and they hold for the
  inputs the export says (``inputs``: each dimension a size or a range), which the checker checks
  before it replays them.

Each is traced in training and in evaluation mode, since Python may read ``self.training``; the
model's modes, its tensors and torch's random state are left as they were. A forward pass that
neither can trace (Python control flow on a tensor's values) is handed over with a message that
names the line of ``forward`` and what to write instead.
"""

import builtins
import contextlib
import io
import linecache
import operator
import sys
import weakref
from pathlib import Path

import torch
from torch import nn

_MAX_SIGNATURES = 3  # the input shapes kept per module: a batch of several and one of a single sample, say
_CACHE_SIZE = 32  # exported forward passes kept, per model, its structure and the inputs they were exported for
_seen_inputs: "weakref.WeakKeyDictionary[nn.Module, list]" = weakref.WeakKeyDictionary()
_exported: dict = {}
_recording: list = []  # the hook's handle while inputs are recorded
_tracing: list = []  # not empty while this module traces a model


def _is_torch_layer(module):
    cls = type(module)
    return cls.__module__.startswith("torch.nn.") and getattr(nn, cls.__name__, None) is cls


def _signature(tensors):
    """What an input is, for tracing: shape, dtype and device of each tensor, and whether it is a single sample."""
    return tuple((tuple(t.shape), t.dtype, t.device) for t in tensors)


def _remember(module, args):
    plain = args and all(type(a) in (torch.Tensor, nn.Parameter) for a in args)
    if _tracing or not plain or _is_torch_layer(module):
        return  # a trace calls forward() on stand-ins of symbolic shapes: those are no inputs to remember
    try:
        signature = _signature(args)
        kind = tuple((len(shape), shape[1:], dtype, shape[:1] == (1,)) for shape, dtype, _ in signature)
        seen = [s for s in _seen_inputs.get(module, []) if s[0] != kind]
        _seen_inputs[module] = [(kind, signature), *seen][:_MAX_SIGNATURES]
    except Exception:  # noqa: BLE001, S110  (recording must never break the student's own call)
        pass


def record_inputs():
    """Remember, from now on, the input shapes each module of the student's own class is called with."""
    if not _recording:
        _recording.append(nn.modules.module.register_module_forward_pre_hook(lambda m, args: _remember(m, args)))


def stop_recording():
    while _recording:
        _recording.pop().remove()


def recorded_inputs(module):
    """The inputs ``module`` was called with, most recent first: a tuple of (shape, dtype, device) per tensor."""
    return [signature for _, signature in _seen_inputs.get(module, [])]


@contextlib.contextmanager
def _quietly_in_mode(module, training):
    """``module`` in training or evaluation mode, its prints and torch's random state kept out of the notebook."""
    modes = [(each, each.training) for each in module.modules()]
    random_state = torch.get_rng_state()
    module.train(training)
    _tracing.append(module)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        _tracing.pop()
        for each, was_training in modes:
            each.training = was_training
        torch.set_rng_state(random_state)


@contextlib.contextmanager
def _len_gives_a_size():
    """``len(tensor)`` as the tensor's first size, which export keeps symbolic; everything else as before."""
    real_len = builtins.len

    def symbolic_len(obj):
        return obj.shape[0] if isinstance(obj, torch.Tensor) and obj.ndim else real_len(obj)

    builtins.len = symbolic_len
    try:
        yield
    finally:
        builtins.len = real_len


def _in_place(function):
    def method(self, other):
        return self.tracer.create_proxy("call_function", function, (self, other), {})

    return method


class _InPlace:
    """What keeps ``h += x`` and ``h[i] = v`` in place in a trace: plain fx records ``h = h + x`` and cannot trace
    the second, and the first differs from what ran when another name holds ``h`` too."""

    __iadd__ = _in_place(operator.iadd)
    __isub__ = _in_place(operator.isub)
    __imul__ = _in_place(operator.imul)
    __itruediv__ = _in_place(operator.itruediv)
    __ifloordiv__ = _in_place(operator.ifloordiv)
    __imod__ = _in_place(operator.imod)
    __ipow__ = _in_place(operator.ipow)
    __iand__ = _in_place(operator.iand)
    __ior__ = _in_place(operator.ior)
    __ixor__ = _in_place(operator.ixor)

    def __setitem__(self, index, value):
        self.tracer.create_proxy("call_function", operator.setitem, (self, index, value), {})

    def __getattr__(self, name):  # a field such as .values is a value too, in place as any other
        return _InPlaceAttribute(self, name)


class _InPlaceProxy(_InPlace, torch.fx.Proxy):
    pass


class _InPlaceAttribute(_InPlace, torch.fx.proxy.Attribute):
    pass


class _Tracer(torch.fx.Tracer):
    def proxy(self, node):
        return _InPlaceProxy(node, self)


def _fx_trace(module):
    """``torch.fx.symbolic_trace(module)`` with in-place operators kept, leaving ``module`` as it found it."""
    before = set(vars(module))
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
        return torch.fx.GraphModule(tracer.root, graph, type(module).__name__)
    finally:
        for added in set(vars(module)) - before:  # fx keeps a tensor made in forward() as an attribute of the model
            delattr(module, added)


def fx_graphs(module, encode_fx):
    """``[{"mode", "inputs": None, "steps"}]`` from torch.fx, traced in each mode; one graph when both agree."""
    steps = {}
    for mode, training in (("train", True), ("eval", False)):
        with _quietly_in_mode(module, training):
            traced = _fx_trace(module)
        steps[mode] = encode_fx(traced)
    if steps["train"] == steps["eval"]:
        return [{"mode": "either", "inputs": None, "steps": steps["train"]}]
    return [{"mode": mode, "inputs": None, "steps": each} for mode, each in steps.items()]


def _examples(module, candidates):
    """Example inputs to export ``module`` with: the shapes it was called with, else guesses from its first layer."""
    examples = [
        tuple(torch.zeros(shape, dtype=dtype, device=device) for shape, dtype, device in signature)
        for signature in recorded_inputs(module)
    ]
    if not examples:
        first = next((m for m in module.modules() if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d)), None)
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        if isinstance(first, nn.Linear):
            examples.append((torch.zeros(7, first.in_features, device=device),))
        examples += [(c[:7].to(device),) for c in candidates if isinstance(c, torch.Tensor) and c.is_floating_point()]
    return examples


def _structure(module):
    """What an exported graph depends on besides its inputs: the classes, the tensors' shapes, the plain settings."""
    parts = []
    for name, each in module.named_modules():
        tensors = [
            (n, tuple(t.shape), t.dtype)
            for n, t in (*each._parameters.items(), *each._buffers.items())
            if t is not None
        ]
        plain = [
            (key, value)
            for key, value in vars(each).items()
            if not key.startswith("_") and isinstance(value, bool | int | float | str | tuple | type(None))
        ]
        parts.append((name, id(type(each)), tuple(tensors), repr(plain)))
    return tuple(parts)


def exported_graphs(module, candidates, encode_export):
    """``[{"mode", "inputs", "steps"}]`` from torch.export on each example input, in each mode."""
    examples = _examples(module, candidates)
    if not examples:
        raise LookupError("never called")
    graphs, error = [], None
    for example in examples:
        key = (id(module), _structure(module), _signature(example))
        if key not in _exported:
            try:
                _exported[key] = _export_both_modes(module, example, encode_export)
            except Exception as failure:  # noqa: BLE001  (the next example may do; the last failure says why)
                error = failure
                continue
            while len(_exported) > _CACHE_SIZE:
                del _exported[next(iter(_exported))]
        graphs += _exported[key]
    if not graphs:
        raise error or LookupError("never called")
    return graphs


def _export_both_modes(module, example, encode_export):
    dynamic = tuple({dim: torch.export.Dim.AUTO for dim in range(t.ndim)} for t in example)
    encoded = {}
    for mode, training in (("train", True), ("eval", False)):
        with _quietly_in_mode(module, training):
            try:
                with _len_gives_a_size():
                    program = torch.export.export(module, example, dynamic_shapes=dynamic, strict=False)
            except Exception:  # noqa: BLE001  (len() given a size broke the code, say range(len(x))): as Python has it
                program = torch.export.export(module, example, dynamic_shapes=dynamic, strict=False)
        encoded[mode] = encode_export(program)
    if encoded["train"] == encoded["eval"]:
        return [{"mode": "either", **encoded["train"]}]
    return [{"mode": mode, **each} for mode, each in encoded.items()]


def input_specs(program):
    """Each user input of an exported program: its dtype and, per dimension, a size or a ``[low, high]`` range."""
    users = {spec.arg.name for spec in program.graph_signature.input_specs if spec.kind.name == "USER_INPUT"}
    specs = []
    for node in program.graph.nodes:
        if node.op != "placeholder" or node.name not in users:
            continue
        value = node.meta["val"]
        dims = []
        for size in value.shape:
            fixed = size if isinstance(size, int) else size.node.maybe_as_int()  # a symbol export pinned to a value
            if fixed is not None:
                dims.append(int(fixed))
                continue
            ranges = program.range_constraints.get(size.node.expr)
            low, high = (_bound(ranges.lower), _bound(ranges.upper)) if ranges is not None else (0, None)
            low = max(low or 0, 0)
            dims.append([low, high])
        specs.append({"dtype": str(value.dtype).removeprefix("torch."), "shape": dims})
    return specs


def _bound(value):
    """A range's end as an int, or None where it is unbounded (sympy's infinities)."""
    try:
        return int(value)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def why_not_traced(module, fx_error, export_error):
    """Why ``module``'s forward pass could not be traced, naming the line of the student's code and the fix."""
    line = _students_line(export_error) or _students_line(fx_error)
    text = f"{type(export_error).__name__}: {export_error}"
    if isinstance(export_error, LookupError) and "never called" in str(export_error):
        return (
            f"torch.fx could not trace it{' at ' + line if line else ''} ({type(fx_error).__name__}: "
            f"{str(fx_error)[:300]}), and it was never called in this notebook, so it could not be traced on an "
            "input either. Call it once on a batch (for example model(X_test)) before the check"
        )
    if "data-dependent" in text or "DataDependent" in text or "GuardOn" in text:
        return (
            f"{line or 'its forward()'} decides something from a tensor's values, which only your notebook can run. "
            "Compute on tensors instead: torch.where(condition, a, b) for an if on values, tensor operations for "
            "a loop over values, and no .item() or bool() of a tensor in forward()"
        )
    return (
        f"it could not be traced{' at ' + line if line else ''} ({text[:300]}). Write forward() with torch "
        "operations and layers; Python may read shapes (x.shape, x.dim(), len(x)), not values"
    )


def _students_line(error):
    """``line N of forward (`code`)`` for the deepest frame of ``error`` in the student's own code, if any."""
    library = (str(Path(torch.__file__).parent.parent), str(Path(__file__).parent), sys.prefix, sys.base_prefix)
    found = ""
    seen = set()
    while error is not None and id(error) not in seen:  # the error, and what it was raised from
        seen.add(id(error))
        trace = error.__traceback__
        while trace is not None:
            code = trace.tb_frame.f_code
            if not code.co_filename.startswith((*library, "<frozen")):
                source = linecache.getline(code.co_filename, trace.tb_lineno).strip()
                found = f"line {trace.tb_lineno} of {code.co_name}" + (f" (`{source}`)" if source else "")
            trace = trace.tb_next
        if found:
            return found
        error = error.__cause__ or error.__context__
    return found
