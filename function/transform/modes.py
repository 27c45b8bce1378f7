"""The wiring modes, looked up by name: what sidecar and daemonset mode each do.

The driver in `workloads` knows no mode by name: it finds the workload's mode
here once, and calls its functions. The modes' list-level work runs in the
order of this table (the node daemon first: it emits resources).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from function.transform import daemonset, sidecar
from function.transform.migrate import Carried
from function.transform.outcome import Outcome, Wired, Wiring

if TYPE_CHECKING:
    from function.config.model import Config

Spec = dict[str, Any]


class Mode(NamedTuple):
    # Add the daemon (or the way to it) to a pod spec and connect the clients, given
    # the daemon container an earlier run added (if any), what the daemon takes over
    # from one it replaces, and the oldest API version the clients speak.
    wire: Callable[[Config, Spec, list[str], dict[str, Any] | None, Carried, str | None], Wiring]
    # Where the clients find the daemon's socket (None: they reach it over TCP).
    client_socket: Callable[[Config], str | None]
    # Whether the daemon runs in the workload's own pod (and network).
    in_pod: bool
    # The config setting for tools that ignore DOCKER_HOST, unless it is on.
    hard_coded_hint: Callable[[Config], str | None]
    # (message, field in the pod spec) warnings about the clients, before wiring.
    client_notes: Callable[[Config, Spec, list[str], str], list[tuple[str, str]]]
    # Warnings about a workload of this kind once it was changed.
    changed_notes: Callable[[Config, str], list[str]]
    # The info result for a changed workload: its clients, and whether it was wired before.
    summary: Callable[[Config, list[str], bool], str]
    # Kinds of list items that the list-level work looks at (besides workloads).
    list_kinds: frozenset[str]
    # Items the list-level work manages itself: never wired as workloads.
    owns: Callable[[Config, dict[str, Any]], bool]
    # The list-level work, given what the workloads wired in this mode need and the
    # (index, item) of every item of the modes' `list_kinds`.
    finish: Callable[[Config, Wired, list[tuple[int, dict[str, Any]]]], Outcome]


MODES: dict[str, Mode] = {
    "daemonset": Mode(
        daemonset.wire,
        daemonset.client_socket,
        False,
        daemonset.hard_coded_hint,
        daemonset.client_notes,
        daemonset.changed_notes,
        daemonset.summary,
        daemonset.LIST_KINDS,
        daemonset.owns,
        daemonset.finish,
    ),
    "sidecar": Mode(
        sidecar.wire,
        sidecar.client_socket,
        True,
        sidecar.hard_coded_hint,
        sidecar.client_notes,
        sidecar.changed_notes,
        sidecar.summary,
        sidecar.LIST_KINDS,
        sidecar.owns,
        sidecar.finish,
    ),
}

LIST_KINDS = frozenset().union(*(m.list_kinds for m in MODES.values()))
