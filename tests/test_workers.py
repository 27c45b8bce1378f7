"""Sharing the work with a second process changes nothing in the output.

`workers.run` forks only for lists of MIN_ITEMS workloads or more; here it is made
to fork for any list with one, and its output, results and errors are compared
with those of one process on every golden case and on a generated list.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from function import defaults, resourcelist, workers
from tests.support import GOLDEN_CASES, golden_stdin, run_function

# The benchmark's generator, a plain module beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import workload

ONE_PROCESS = 10**9


def _run(text: str, min_items: int) -> tuple[str, list[tuple]] | str:
    """Output text and results, or the error that stopped the run."""
    try:
        rl = resourcelist.read(text)
        config = defaults.load(rl.function_config)
        outcome, premade = workers.run(config, rl, min_items)
        output, extra = resourcelist.write(
            rl, outcome.changed, outcome.added, outcome.results, premade
        )
    except (resourcelist.InputError, defaults.ConfigError) as error:
        return f"{type(error).__name__}: {error}"
    return output, [tuple(r) for r in outcome.results + extra]


class Spied:
    """What `workers.run` did: the shares it handed to a child, and how often it
    went back to doing everything in one process after handing one."""

    def __init__(self) -> None:
        self.forks: list[list[int]] = []
        self.fallbacks = 0


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> Spied:
    """Two CPUs and no quota are what the tests see, whatever the machine has."""
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(workers, "_cgroup_quota", lambda: None)
    seen = Spied()
    run, fork, alone = workers.run, workers._fork, workers._alone
    forked = [False]  # in the run under way

    def run_spy(*args):  # type: ignore[no-untyped-def]
        forked[0] = False
        return run(*args)

    def fork_spy(config, rl, indices):  # type: ignore[no-untyped-def]
        forked[0] = True
        seen.forks.append(list(indices))
        return fork(config, rl, indices)

    def alone_spy(config, rl, kinds):  # type: ignore[no-untyped-def]
        seen.fallbacks += forked[0]
        return alone(config, rl, kinds)

    monkeypatch.setattr(workers, "run", run_spy)
    monkeypatch.setattr(workers, "_fork", fork_spy)
    monkeypatch.setattr(workers, "_alone", alone_spy)
    return seen


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[c.name for c in GOLDEN_CASES])
def test_two_processes_write_what_one_writes(case: Path, spied: Spied) -> None:
    text = golden_stdin(case)
    assert _run(text, 1) == _run(text, ONE_PROCESS)


def test_a_long_list_is_shared_and_written_alike(spied: Spied) -> None:
    text = workload.resource_list(250)
    shared = _run(text, workers.MIN_ITEMS)
    assert len(spied.forks) == 1 and spied.fallbacks == 0
    assert len(spied.forks[0]) == workload.expected_injected(250) // 2
    assert shared == _run(text, ONE_PROCESS)


def test_a_failing_child_leaves_the_work_to_the_parent(
    monkeypatch: pytest.MonkeyPatch, spied: Spied
) -> None:
    def broken(*_args: object) -> list:
        raise RuntimeError("the child's share failed")

    monkeypatch.setattr(workers, "_work", broken)
    text = workload.resource_list(250)
    assert _run(text, 2) == _run(text, ONE_PROCESS)
    assert spied.forks and spied.fallbacks == 1


def _aliased(anchor_item: int, alias_item: int) -> str:
    """A generated list whose item `alias_item` reuses a container list anchored in
    item `anchor_item`: the whole list reads, the alias's piece alone does not."""
    pieces = workload.resource_list(250).split("\n- ")
    pieces[anchor_item + 1] = pieces[anchor_item + 1].replace(
        "    containers:\n", "    containers: &shared\n", 1
    )
    head, _, _ = pieces[alias_item + 1].partition("    containers:\n")
    pieces[alias_item + 1] = head + "    containers: *shared"
    return "\n- ".join(pieces)


@pytest.mark.parametrize(
    ("anchor_item", "alias_item"),
    [(0, 5), (0, 245)],
    ids=["alias-in-the-parents-share", "alias-in-the-childs-share"],
)
def test_a_piece_that_reads_only_with_the_whole_list(
    spied: Spied, anchor_item: int, alias_item: int
) -> None:
    text = _aliased(anchor_item, alias_item)
    two = _run(text, 2)
    assert spied.forks and spied.fallbacks == 1
    assert not isinstance(two, str), two
    assert two == _run(text, ONE_PROCESS)


def test_an_error_in_the_parent_stops_and_reaps_the_child(
    monkeypatch: pytest.MonkeyPatch, spied: Spied
) -> None:
    parent, share = os.getpid(), workers._share

    def failing_in_the_parent(*args):  # type: ignore[no-untyped-def]
        if os.getpid() == parent:
            raise RuntimeError("the parent's share failed")
        return share(*args)

    monkeypatch.setattr(workers, "_share", failing_in_the_parent)
    with pytest.raises(RuntimeError, match="the parent's share failed"):
        _run(workload.resource_list(250), 2)
    assert spied.forks
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, ended or not


def test_a_caller_that_ignores_sigchld_still_gets_the_childs_share(spied: Spied) -> None:
    text = workload.resource_list(250)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        two = _run(text, 2)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert spied.forks and spied.fallbacks == 0
    assert two == _run(text, ONE_PROCESS)


@pytest.mark.parametrize(
    ("files", "cpus"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "100000 100000\n"}, 1.0),
        ({"cpu.max": "250000 100000\n"}, 2.5),
        ({"cfs_quota_us": "-1\n", "cfs_period_us": "100000\n"}, None),
        ({"cfs_quota_us": "50000\n", "cfs_period_us": "100000\n"}, 0.5),
        ({}, None),
    ],
)
def test_a_cgroup_cpu_quota_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], cpus: float | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(
        workers,
        "CPU_QUOTA_FILES",
        (
            (str(tmp_path / "cpu.max"), None),
            (str(tmp_path / "cfs_quota_us"), str(tmp_path / "cfs_period_us")),
        ),
    )
    assert workers._cgroup_quota() == cpus


def test_one_cpu_of_quota_means_one_process(monkeypatch: pytest.MonkeyPatch, spied: Spied) -> None:
    monkeypatch.setattr(workers, "_cgroup_quota", lambda: 1.0)
    text = workload.resource_list(250)
    assert _run(text, 1) == _run(text, ONE_PROCESS)
    assert not spied.forks


def test_the_command_line_writes_what_one_process_writes() -> None:
    # A real run of the command, which shares a list this long when it has two CPUs.
    text = workload.resource_list(300)
    done = run_function(text)
    one = _run(text, ONE_PROCESS)
    assert not isinstance(one, str), one
    assert done.code == 0, done.stderr
    assert done.stdout == one[0]
