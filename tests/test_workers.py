"""Sharing the work with a second process changes nothing in the output.

`workers.run` forks only for lists of MIN_ITEMS workloads or more; here it is made
to fork for any list with one, and its output, results and errors are compared
with those of one process on every golden case and on a generated list.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from function import defaults, resourcelist, workers
from tests.support import GOLDEN, with_config

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


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The shares handed to a child process, as the parent saw them.

    Two CPUs and no quota are what the tests see, whatever the machine has.
    """
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(workers, "_cgroup_quota", lambda: None)
    handed: list[list[int]] = []
    real = workers._fork

    def spy(config, rl, indices):  # type: ignore[no-untyped-def]
        handed.append(list(indices))
        return real(config, rl, indices)

    monkeypatch.setattr(workers, "_fork", spy)
    return handed


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_two_processes_write_what_one_writes(case: str, forks: list[list[int]]) -> None:
    folder = GOLDEN / case
    config = folder / "config.yaml"
    text = with_config(
        (folder / "input.yaml").read_text(), config.read_text() if config.exists() else None
    )
    assert _run(text, 1) == _run(text, ONE_PROCESS)


def test_a_long_list_is_shared_and_written_alike(forks: list[list[int]]) -> None:
    text = workload.resource_list(250)
    shared = _run(text, workers.MIN_ITEMS)
    assert forks and len(forks[0]) == workload.expected_injected(250) // 2
    assert shared == _run(text, ONE_PROCESS)


def test_a_failing_child_leaves_the_work_to_the_parent(
    monkeypatch: pytest.MonkeyPatch, forks: list[list[int]]
) -> None:
    def broken(*_args: object) -> list:
        raise RuntimeError("the child's share failed")

    monkeypatch.setattr(workers, "_work", broken)
    text = workload.resource_list(250)
    assert _run(text, 2) == _run(text, ONE_PROCESS)
    assert forks, "the list was not shared, so the failure was never met"


def test_a_piece_that_does_not_read_makes_both_give_the_same_answer(
    forks: list[list[int]],
) -> None:
    # A stray line in the first workload: its piece no longer reads as one item.
    text = workload.resource_list(250).replace(
        "    restartPolicy: Never\n", "    restartPolicy: Never\n   stray: line\n", 1
    )
    assert _run(text, 2) == _run(text, ONE_PROCESS)
    assert forks


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


def test_one_cpu_of_quota_means_one_process(
    monkeypatch: pytest.MonkeyPatch, forks: list[list[int]]
) -> None:
    monkeypatch.setattr(workers, "_cgroup_quota", lambda: 1.0)
    text = workload.resource_list(250)
    assert _run(text, 1) == _run(text, ONE_PROCESS)
    assert not forks
