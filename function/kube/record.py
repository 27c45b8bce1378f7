"""The record of what the function added to a workload, so a later run can update it.

The record lives in one annotation on the workload's own metadata (not on the
pod template, so writing it never restarts a Deployment's pods). A run first
takes out everything the record names, then wires the workload afresh: running
the function again with the same config gives the same bytes, and with a new
config replaces the old wiring instead of adding a second daemon.
"""

from __future__ import annotations

import json
from typing import Any

from function.kube.containers import CONTAINER_LISTS, containers_of, remove_named
from function.kube.metadata import annotations_of

# The annotation that holds the record (its name predates the module's).
RECORD_ANNOTATION = "inject-docker.dev/injected"
# On resources the function made itself (the node daemon's DaemonSet and Namespace).
GENERATED_ANNOTATION = "inject-docker.dev/generated"


class Record:
    # A plain class, not a dataclass: importing dataclasses costs a run more than
    # reading a small list does. The fields are those of the annotation's JSON.
    __slots__ = (
        "annotations",
        "carried",
        "clients",
        "containers",
        "env",
        "migrated",
        "mode",
        "pod",
        "volumes",
    )

    def __init__(
        self,
        mode: str,
        containers: list[str] | None = None,  # daemon containers added
        volumes: list[str] | None = None,  # volumes added (their mounts too)
        clients: list[str] | None = None,  # containers given DOCKER_HOST etc.
        env: list[str] | None = None,  # env variables added to the clients
        pod: dict[str, Any] | None = None,  # pod-level fields set
        migrated: bool = False,  # the clients are those a migration found; keep them on reruns
        carried: dict[str, Any] | None = None,  # settings taken over from a replaced daemon
        annotations: dict[str, str] | None = None,  # set on the pod (template)
    ) -> None:
        self.mode = mode
        self.containers = list(containers or ())
        self.volumes = list(volumes or ())
        self.clients = list(clients or ())
        self.env = list(env or ())
        self.pod = dict(pod or {})
        self.migrated = migrated
        self.carried = dict(carried or {})
        self.annotations = dict(annotations or {})

    def to_annotation(self) -> str:
        fields = {name: getattr(self, name) for name in self.__slots__}
        kept = {k: v for k, v in fields.items() if v or k == "mode"}
        return json.dumps(kept, separators=(",", ":"), sort_keys=True)


def read(resource: dict[str, Any]) -> Record | None:
    """The record on `resource`, or None when it has none that can be read."""
    meta = resource.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    raw = annotations.get(RECORD_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        data = json.loads(raw)
        return Record(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None


def read_units(resource: dict[str, Any]) -> dict[str, Record]:
    """The records of a resource wired in several places (a Pipeline's tasks): by path."""
    raw = annotations_of(resource).get(RECORD_ANNOTATION)
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
        units = data.get("units") if isinstance(data, dict) else None
        if not isinstance(units, dict):
            return {}
        return {str(k): Record(**v) for k, v in units.items() if isinstance(v, dict)}
    except (ValueError, TypeError):
        return {}


def read_run_settings(resource: dict[str, Any]) -> dict[str, Any]:
    """What an earlier run set in the pod template of a TaskRun or PipelineRun."""
    raw = annotations_of(resource).get(RECORD_ANNOTATION)
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return {}
    found = data.get("podTemplate") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def write_units(
    resource: dict[str, Any], records: dict[str, Record], run_settings: dict[str, Any]
) -> None:
    """The record of a resource wired in several places, and of what was set in its pod
    template (`run_settings`)."""
    if not isinstance(resource.get("metadata"), dict):
        resource["metadata"] = {}
    meta = resource["metadata"]
    if not isinstance(meta.get("annotations"), dict):
        meta["annotations"] = {}
    fields: dict[str, Any] = {
        "units": {path: json.loads(r.to_annotation()) for path, r in records.items()}
    }
    if run_settings:
        fields["podTemplate"] = run_settings
    meta["annotations"][RECORD_ANNOTATION] = json.dumps(
        fields, separators=(",", ":"), sort_keys=True
    )


def write(resource: dict[str, Any], record: Record) -> None:
    if not isinstance(resource.get("metadata"), dict):
        resource["metadata"] = {}  # `metadata: null` reads as absent
    meta = resource["metadata"]
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict):
        annotations = meta["annotations"] = {}
    annotations[RECORD_ANNOTATION] = record.to_annotation()


def undo(spec: dict[str, Any], record: Record) -> None:
    """Take out of the pod spec everything `record` says the function added."""
    for key in CONTAINER_LISTS:
        remove_named(spec, key, set(record.containers))
    remove_named(spec, "volumes", set(record.volumes))
    for container in containers_of(spec):
        remove_named(container, "volumeMounts", set(record.volumes))
        if container.get("name") in record.clients:
            remove_named(container, "env", set(record.env))
    for key, value in record.pod.items():
        _take_out(spec, key, value)


def _take_out(holder: dict[str, Any], key: str, value: Any) -> None:
    """Take `value` (what the function set) out of `holder[key]`, and the key if emptied."""
    current = holder.get(key)
    if isinstance(value, list) and isinstance(current, list):
        kept = [entry for entry in current if entry not in value]
        if kept:
            holder[key] = kept
        else:
            del holder[key]
    elif isinstance(value, dict) and isinstance(current, dict):
        for sub_key, sub_value in value.items():
            if isinstance(sub_value, (dict, list)):
                _take_out(current, sub_key, sub_value)
            elif current.get(sub_key) == sub_value:
                del current[sub_key]
        if not current:
            del holder[key]
    elif current == value:
        del holder[key]


def is_generated(resource: dict[str, Any]) -> bool:
    """A resource the function made itself: it is never wired as a workload."""
    return str(annotations_of(resource).get(GENERATED_ANNOTATION, "")).lower() == "true"
