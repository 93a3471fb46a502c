"""What a submission's cells replaced that graders rely on: information for the instructor, never points.

The grader's driver runs this module's code in the student's kernel before the first cell (it
records how things stand), then asks ``changes()`` after every cell, in the same request as the
cell (a user expression), and names in the feedback the cell after which something new changed:
functions of ``json``, ``torch``, ``torch.fx``, ``torch.export``, ``numpy``, ``signal``, ``nbformat``, ``jupytext``,
``builtins`` and the course's harness, the ``self_check`` package,
entries of ``sys.modules``, a trace or profile hook, IPython's traceback display and hooks, the
garbage collector's callbacks, threads the notebook started that are still running. The student's kernel can
hide all of this from the probe; that is why it only informs. Points come from the checker alone.
"""

import builtins
import gc
import importlib
import sys
import threading

# torch.fx and torch.export trace a model for its hand-over, and self_check is the harness that hands it over
WATCHED_MODULES = (
    "json",
    "torch",
    "torch.fx",
    "torch.export",
    "numpy",
    "signal",
    "nbformat",
    "jupytext",
    "pickle",
    "base64",
    "threading",
    "self_check",
    "self_check.handover",
    "self_check.judging",
    "self_check.library",
    "self_check.tracing",
    "self_check.rebuilder",
    "self_check.replay",
    "self_check.vocabulary",
)
# imported by start() to record them: the others would cost seconds in every kernel, and are compared from
# when they are first seen, and for functions defined in the notebook itself
IMPORTED_AT_START = ("json", "signal", "pickle", "base64", "threading")
SYS_HOOKS = ("stdout", "stderr", "meta_path", "path_hooks", "settrace", "setprofile")
_baseline: dict = {}


def _namespace_ids(module):
    return {name: id(value) for name, value in list(vars(module).items()) if name.strip("_")}


def _from_the_notebook(value):
    """True for a function, method or class defined in the notebook's cells (libraries replace their own, too)."""
    value = getattr(value, "__func__", value)
    return getattr(value, "__module__", None) == "__main__"


def _the_students(callbacks):
    """The ids of the callbacks defined in the notebook itself (the libraries' own come and go)."""
    return sorted(id(c) for c in callbacks if getattr(c, "__module__", "__main__") in ("__main__", None))


def _state():
    state = {"builtins": _namespace_ids(builtins)}
    for name in WATCHED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            state[f"sys.modules['{name}']"] = id(module)
            state[name] = _namespace_ids(module)
    state |= {f"sys.{name}": id(getattr(sys, name, None)) for name in SYS_HOOKS}
    state["a trace hook"] = id(sys.gettrace())
    state["a profile hook"] = id(sys.getprofile())
    state["the garbage collector's callbacks"] = _the_students(gc.callbacks)
    shell = _shell()
    if shell is not None:
        shown = shell.showtraceback
        state["IPython's traceback display"] = id(getattr(shown, "__func__", shown))
        state["IPython's input transformers"] = _the_students(shell.input_transformers_post)
        state["IPython's AST transformers"] = _the_students(shell.ast_transformers)
        state["IPython's event callbacks"] = _the_students(
            [callback for callbacks in shell.events.callbacks.values() for callback in callbacks]
        )
    return state


def _shell():
    """The IPython shell the kernel runs, if any (``get_ipython`` is in builtins only while a cell runs)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def start():
    """Record how things stand now, before any of the submission's cells ran."""
    for name in IMPORTED_AT_START:
        importlib.import_module(name)
    _baseline.update(_state())


def changes():
    """What differs from the start, one short phrase each."""
    now, found = _state(), []
    for key, value in now.items():
        before = _baseline.get(key)
        if before is None and key in WATCHED_MODULES:
            _baseline[key] = value  # imported after the start: what it held when first seen
            continue
        if isinstance(value, dict) and isinstance(before, dict) and key in ("builtins", *WATCHED_MODULES):
            module = builtins if key == "builtins" else sys.modules.get(key)
            replaced = sorted(
                name
                for name, ident in value.items()
                if before.get(name, ident) != ident and _from_the_notebook(vars(module).get(name))
            )
            found += [f"{key}.{name}" for name in replaced[:8]]
            if len(replaced) > 8:
                found.append(f"{len(replaced) - 8} more names of {key}")
        elif before is not None and value != before:
            found.append(key)
    for name in WATCHED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            found += [
                f"{name}.{attribute}" for attribute, value in list(vars(module).items()) if _from_the_notebook(value)
            ]
    found += [
        f"a thread of its own, still running ({getattr(thread, '_target', None).__name__})"
        if getattr(thread, "_target", None) is not None
        else f"a thread of its own, still running ({type(thread).__name__})"
        for thread in threading.enumerate()
        if _started_in_the_notebook(thread)
    ]
    return sorted(set(found))


def _started_in_the_notebook(thread):
    target = getattr(thread, "_target", None)
    return (
        type(thread).__module__ == "__main__" or getattr(target, "__module__", None) == "__main__"
    ) and thread.is_alive()
