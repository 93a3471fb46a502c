"""The mutants of the checker's walls: each a wall broken on purpose, and the tests that must then fail.

``tests/test_wall_mutants.py`` (``make test-long``) applies each mutant to a copy of the course
and runs the tests it names there: a mutant those tests let pass survives, and fails the target.
A mutant is one exact piece of code replaced: the replay's guards and its vocabulary, the audit
hook's rules, the drop to ``nobody``, ``no_new_privs``, the judging process's limits and the
sandbox's arguments. Run ``python tests/wall_mutants.py`` to list them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """One wall broken: in ``path``, ``old`` (found exactly once) becomes ``new``; ``tests`` must fail then."""

    path: str
    old: str
    new: str
    tests: tuple[str, ...]


REPLAY_GUARDS = "tests/test_replay_guards.py"
CONFIGURATIONS = "tests/test_wall_configurations.py::test_every_escape_fails_in_each_configuration_an_instructor_runs"
ALONE = "tests/test_wall_configurations.py::test_each_layer_alone_stops_exactly_what_the_readme_says"
JUDGING_PROCESS = "tests/test_checker_process.py::test_a_judging_process_may_start_no_process_and_root_becomes_nobody"
HOOK = "tests/test_checker_process.py::test_the_audit_hook_refuses_what_a_checker_never_does"

MUTANTS = {
    # ---------------------------------------------------------------- the replay's vocabulary and guards
    "the vocabulary lets builtins.open in": Mutant(
        "self_check/vocabulary.py",
        'FUNCTIONS["builtins.getattr"] = getattr',
        'FUNCTIONS["builtins.open"] = open\nFUNCTIONS["builtins.getattr"] = getattr',
        (f"{REPLAY_GUARDS}::test_each_hostile_case_is_refused_by_the_rebuild_or_the_replay_itself",),
    ),
    "a write into a tensor the replay did not create goes through": Mutant(
        "self_check/replay.py",
        "                if isinstance(tensor, torch.Tensor) and _storage(tensor) not in self.owned:",
        "                if False:",
        (f"{REPLAY_GUARDS}::test_each_guard_of_the_replay_refuses_its_attack_and_records_it",),
    ),
    "an allocation is not bounded before it is made": Mutant(
        "self_check/replay.py",
        "            if isinstance(tensor, torch.Tensor) and tensor.numel() > MAX_ELEMENTS:",
        "            if False:",
        (f"{REPLAY_GUARDS}::test_the_guard_works_out_the_size_that_torch_then_builds",),
    ),
    "a forward pass computes on the caller's own tensors": Mutant(
        "self_check/replay.py",
        "    return tree_map(lambda value: value.clone() if isinstance(value, torch.Tensor) else value, values)",
        "    return values",
        (
            f"{REPLAY_GUARDS}::test_a_write_into_the_input_changes_what_the_replay_computes_as_in_the_kernel_never_the_callers_tensor",
        ),
    ),
    "getattr reads any attribute": Mutant(
        "self_check/replay.py",
        "    allowed = TENSOR_ATTRIBUTES if type(obj) in (torch.Tensor, nn.Parameter) else frozenset(fields)",
        "    allowed = frozenset({name}) if type(name) is str else frozenset()",
        (f"{REPLAY_GUARDS}::test_each_hostile_case_is_refused_by_the_rebuild_or_the_replay_itself",),
    ),
    "any text is a constant": Mutant(
        "self_check/replay.py",
        "        if len(value) > MAX_TEXT or not set(value) <= _TEXT_CHARACTERS:",
        "        if False:",
        (f"{REPLAY_GUARDS}::test_each_hostile_case_is_refused_by_the_rebuild_or_the_replay_itself",),
    ),
    "any torch.nn class is a layer": Mutant(
        "self_check/rebuilder.py",
        "            if torch_class not in LAYERS:",
        "            if False:",
        (f"{REPLAY_GUARDS}::test_each_hostile_case_is_refused_by_the_rebuild_or_the_replay_itself",),
    ),
    # ---------------------------------------------------------------- the audit hook's rules
    "the hook lets the checker write wherever it may read": Mutant(
        "grading/checker/walls.py",
        "            if writes and not _within(path, writable):",
        "            if writes and not _within(path, readable_roots):",
        (CONFIGURATIONS,),
    ),
    "the hook lets the checker read anywhere": Mutant(
        "grading/checker/walls.py",
        "            if not _within(path, readable_roots + own):",
        "            if False:",
        (CONFIGURATIONS,),
    ),
    "the hook lets sockets through": Mutant("grading/checker/walls.py", '    "socket.",\n', "", (HOOK,)),
    "the hook lets processes start": Mutant("grading/checker/walls.py", '    "subprocess.",\n', "", (HOOK,)),
    "the hook lets a judging process fork": Mutant(
        "grading/checker/walls.py",
        'REFUSED_WHILE_JUDGING = ("os.fork", "os.kill", "os.killpg", "signal.pthread_kill")',
        'REFUSED_WHILE_JUDGING = ("os.kill", "os.killpg", "signal.pthread_kill")',
        ("tests/test_checker_process.py::test_each_handover_is_judged_apart_and_a_hang_or_a_crash_fails_only_its_own",),
    ),
    # ---------------------------------------------------------------- the drop to nobody, no_new_privs
    "a checker started as root stays root": Mutant(
        "grading/checker/walls.py",
        "    if os.geteuid() != 0 and os.getuid() != 0:\n        return\n    os.setgroups([])",
        "    return\n    os.setgroups([])",
        (JUDGING_PROCESS, CONFIGURATIONS),
    ),
    "no_new_privs is never set": Mutant(
        "grading/checker/walls.py",
        "    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)",
        "    pass",
        (JUDGING_PROCESS,),
    ),
    # ---------------------------------------------------------------- the judging process's limits
    "a judging process may start processes": Mutant(
        "grading/checker/walls.py",
        "        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))",
        "        pass",
        (JUDGING_PROCESS,),
    ),
    "a judging process may take any memory": Mutant(
        "grading/checker/walls.py",
        "    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))",
        "    pass",
        (JUDGING_PROCESS,),
    ),
    # ---------------------------------------------------------------- the sandbox's arguments
    "the sandbox shares the network": Mutant(
        "grading/sandbox.py",
        '"--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"',
        '"--unshare-ipc", "--unshare-pid", "--unshare-uts"',
        (f"{ALONE}[sandbox]",),
    ),
    "the sandbox shows the whole file system": Mutant(
        "grading/sandbox.py",
        'arguments = ["bwrap", "--ro-bind", "/usr", "/usr"]',
        'arguments = ["bwrap", "--ro-bind", "/", "/"]',
        (f"{ALONE}[sandbox]",),
    ),
    "the sandbox shares the host's /tmp": Mutant(
        "grading/sandbox.py",
        'arguments += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]',
        'arguments += ["--bind", "/tmp", "/tmp"]',
        (f"{ALONE}[sandbox]",),
    ),
}

if __name__ == "__main__":
    for name, mutant in MUTANTS.items():
        print(f"{name:60} {mutant.path:28} {', '.join(test.split('::')[-1][:50] for test in mutant.tests)}")
