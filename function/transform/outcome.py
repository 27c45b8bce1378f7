"""What the transformation produces: for a workload, for one item, and for the whole list."""

from __future__ import annotations

from typing import Any, NamedTuple

from function.krm.results import Result, Severity
from function.kube.record import Record

# (severity, message, field path inside the pod spec or None)
Note = tuple[Severity, str, str | None]


class Wiring(NamedTuple):
    """What wiring one workload for a mode gave."""

    record: Record | None  # None: the workload could not be wired and stays as it was
    notes: list[Note]


class Step(NamedTuple):
    """What one item contributes to the outcome."""

    position: int  # the item's index in the list
    results: list[Result]
    mode: str | None  # the mode the workload was wired for; None: not wired
    namespace: str  # the workload's namespace, "" when it sets none
    new: dict[str, Any] | None  # the wired workload, when it differs from the input
    noticed: dict[str, Any] | None = None  # an item the modes' list-level work looks at
    min_api: str | None = None  # the oldest API version the workload's clients speak
    unmatched: tuple[str, ...] = ()  # `containers` of the config that it does not have


class Wired(NamedTuple):
    """What the list-level work of a mode learns from the workloads wired in it."""

    namespaces: set[str]  # "" for workloads that set none
    min_api: str | None  # the oldest API version any of their clients speaks


class Outcome(NamedTuple):
    """The transformation of a whole list."""

    changed: dict[int, dict[str, Any]]  # item index -> new value
    added: list[dict[str, Any]]  # resources to append
    results: list[Result]
