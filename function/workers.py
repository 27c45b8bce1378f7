"""Two processes for a long list: the per-item work shared between them.

Reading, wiring and diffing one workload depends on no other workload, and it is
most of a run on a list of hundreds of them. With two or more CPUs at hand, `run`
forks once: the child takes the second half of the workloads and sends back their
results and text edits; the parent does the first half and whatever needs the
whole list. The output is byte for byte that of one process. If the child does
not deliver its whole share, or a piece of the list does not read as one item, the
parent stops the child and does all the work itself; any other error in the parent
stops the child before it propagates.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from typing import TYPE_CHECKING, Any

import yaml

from function import resourcelist, transform
from function.results import Result
from function.textpatch import Edit

if TYPE_CHECKING:
    from function.config import Config
    from function.resourcelist import ItemEdits, ResourceList
    from function.transform import Outcome, Step

# Below this many workloads a second process costs about what it saves.
MIN_ITEMS = 100

Child = tuple[int, int]  # process id, the read end of its pipe
_SIZE = 8  # bytes of the share's size, sent in front of it


def run(
    config: Config, rl: ResourceList, min_items: int = MIN_ITEMS
) -> tuple[Outcome, dict[int, ItemEdits]]:
    """The outcome of the transformation, and the edits of the items it changed that
    are already made (to pass to `resourcelist.write`)."""
    kinds = transform.kinds_to_read(config)
    wanted = [i for i, kind in enumerate(rl.kinds) if kind in kinds]
    movable = [i for i in wanted if rl.kinds[i] not in transform.WHOLE_KINDS]
    if config.mode == "audit" or rl.layout is None or not movable or len(movable) < min_items:
        return _alone(config, rl, kinds)
    if not hasattr(os, "fork") or _cpus() < 2:
        return _alone(config, rl, kinds)
    theirs = movable[len(movable) // 2 :]
    child = _fork(config, rl, theirs)
    if child is None:
        return _alone(config, rl, kinds)
    given = set(theirs)
    # The parent makes its own items' edits now too, while the child is still busy.
    try:
        steps, premade = _share(config, rl, [i for i in wanted if i not in given])
    except (resourcelist.Misread, yaml.YAMLError):
        _abandon(child)
        return _alone(config, rl, kinds)
    except BaseException:
        _abandon(child)
        raise
    received = _receive(child)
    if received is None:
        return _alone(config, rl, kinds)
    their_steps, their_edits = received
    return transform.combine(config, steps + their_steps), premade | their_edits


def _alone(
    config: Config, rl: ResourceList, kinds: frozenset[str]
) -> tuple[Outcome, dict[int, ItemEdits]]:
    return transform.transform(config, rl.items_of_kinds(kinds)), {}


def _cpus() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup CPU quota.

    A container limited to one CPU (`docker run --cpus 1`, a pod's CPU limit) still
    sees every CPU of the node; its quota is what says two processes would only
    take turns.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    return count if quota is None else max(1, min(count, int(quota + 0.5)))


def _cgroup_quota() -> float | None:
    """The cgroup's CPU quota in CPUs (v2 `cpu.max`, or v1 CFS files); None: no limit."""
    for quota_file, period_file in CPU_QUOTA_FILES:
        try:
            with open(quota_file) as f:
                fields = f.read().split()
            if period_file is not None:
                with open(period_file) as f:
                    fields += f.read().split()
        except OSError:
            continue
        if len(fields) < 2 or fields[0] in ("max", "-1"):
            return None
        try:
            quota, period = int(fields[0]), int(fields[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


# cgroup v2 has one file ("quota period"); v1 has two.
CPU_QUOTA_FILES: tuple[tuple[str, str | None], ...] = (
    ("/sys/fs/cgroup/cpu.max", None),
    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def _fork(config: Config, rl: ResourceList, indices: list[int]) -> Child | None:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:
        # The child leaves by os._exit whatever happens: it must never go on to run
        # the parent's code, print, or flush the parent's buffers.
        status = 1
        try:
            os.close(read_end)
            payload = marshal.dumps(_work(config, rl, indices))
            with os.fdopen(write_end, "wb") as sink:
                sink.write(len(payload).to_bytes(_SIZE, "little") + payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _share(
    config: Config, rl: ResourceList, indices: list[int]
) -> tuple[list[Step], dict[int, ItemEdits]]:
    """Steps for the items `indices`, and the edits of those that changed.

    The steps keep no new values: their edits stand for them.
    """
    style = resourcelist.items_style(rl)
    steps: list[Step] = []
    edits: dict[int, ItemEdits] = {}
    for index in indices:
        one = transform.step(config, index, rl.item(index))
        if one.new is not None:
            edits[index] = resourcelist.item_edits(rl, index, one.new, style)
        steps.append(one._replace(new=None))
    return steps, edits


def _work(config: Config, rl: ResourceList, indices: list[int]) -> list[Any]:
    """The child's share, as plain tuples that marshal can carry."""
    steps, edits = _share(config, rl, indices)
    rows = []
    for one in steps:
        made = edits.get(one.index)
        if made is not None:
            made = ([tuple(e) for e in made[0]], tuple(made[1]) if made[1] else None)
        rows.append((one.index, [tuple(r) for r in one.results], one.mode, one.namespace, made))
    return rows


def _receive(child: Child) -> tuple[list[Step], dict[int, ItemEdits]] | None:
    """The child's steps and edits; None when it did not finish its share."""
    pid, read_end = child
    try:
        with os.fdopen(read_end, "rb") as source:
            payload = source.read()
    except BaseException:
        _stop(pid)
        raise
    exited_well = _reap(pid)
    # The child writes its whole share in one go, last thing before it exits:
    # the size it states in front proves the share complete when the exit
    # status cannot be had.
    stated = int.from_bytes(payload[:_SIZE], "little")
    if exited_well is False or len(payload) < _SIZE or stated != len(payload) - _SIZE:
        return None
    try:
        rows = marshal.loads(payload[_SIZE:])
    except (EOFError, ValueError, TypeError):
        return None
    steps: list[Step] = []
    premade: dict[int, ItemEdits] = {}
    for index, results, mode, namespace, made in rows:
        steps.append(transform.Step(index, [Result(*r) for r in results], mode, namespace, None))
        if made is not None:
            edits, problem = made
            premade[index] = ([Edit(*e) for e in edits], Result(*problem) if problem else None)
    return steps, premade


def _abandon(child: Child) -> None:
    """Stop the child, whose share is no longer wanted, and reap it."""
    pid, read_end = child
    os.close(read_end)
    _stop(pid)


def _stop(pid: int) -> None:
    import signal  # only this rare path needs it

    with contextlib.suppress(ProcessLookupError):  # reaped already (see _reap)
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> bool | None:
    """Wait for the child to end: whether it exited well, None when that cannot be
    told (a parent process that ignores SIGCHLD, which children inherit, has the
    kernel reap them at once)."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return status == 0
