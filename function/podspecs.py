"""Where the pod spec of each workload kind lives."""

from __future__ import annotations

from typing import Any

# kind -> (API groups the kind is served from, path to its pod spec)
_POD_SPEC_PATHS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "Pod": (frozenset({""}), ("spec",)),
    "PodTemplate": (frozenset({""}), ("template", "spec")),
    "ReplicationController": (frozenset({""}), ("spec", "template", "spec")),
    "Deployment": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "StatefulSet": (frozenset({"apps"}), ("spec", "template", "spec")),
    "DaemonSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "ReplicaSet": (frozenset({"apps", "extensions"}), ("spec", "template", "spec")),
    "Job": (frozenset({"batch"}), ("spec", "template", "spec")),
    "CronJob": (frozenset({"batch"}), ("spec", "jobTemplate", "spec", "template", "spec")),
}

WORKLOAD_KINDS = frozenset(_POD_SPEC_PATHS)
# Kinds that get Docker without a selector naming them.
DEFAULT_KINDS = frozenset({"Pod", "Job", "CronJob"})
# Kinds whose pods run to completion: a plain (non-native) sidecar keeps them running.
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def is_workload(api_version: str, kind: str) -> bool:
    known = _POD_SPEC_PATHS.get(kind)
    return known is not None and group_of(api_version) in known[0]


def pod_spec_path(kind: str) -> tuple[str, ...]:
    return _POD_SPEC_PATHS[kind][1]


def pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside `resource`, or None when it has none."""
    kind = resource.get("kind")
    if not isinstance(kind, str) or not is_workload(str(resource.get("apiVersion", "")), kind):
        return None
    node: Any = resource
    for key in pod_spec_path(kind):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def field_path(kind: str, *rest: str) -> str:
    """A dotted field path such as `spec.template.spec.containers`."""
    return ".".join((*pod_spec_path(kind), *rest))
