"""What wiring a workload produces: the record of changes and the notes for results."""

from __future__ import annotations

from typing import NamedTuple

from function.marker import Record
from function.results import Severity

# (severity, message, field path inside the pod spec or None)
Note = tuple[Severity, str, str | None]


class Wiring(NamedTuple):
    record: Record | None  # None: the workload could not be wired and stays as it was
    notes: list[Note]
