"""Where the pod spec of each workload kind lives."""

from __future__ import annotations

from typing import Any

from function.plaindata import listing

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
    # Actions Runner Controller's runner scale set: the runner pod's template.
    "AutoscalingRunnerSet": (frozenset({"actions.github.com"}), ("spec", "template", "spec")),
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
    return known is not None and bool(api_version) and group_of(api_version) in known[0]


def pod_spec_path(kind: str) -> tuple[str, ...]:
    return _POD_SPEC_PATHS[kind][1]


def spec_keys(resource: dict[str, Any], template_path: str | None = None) -> tuple[str, ...] | None:
    """The keys that lead to the pod spec: the kind's own, or those of a pod template path
    a selector gives for a kind inject-docker does not know."""
    if template_path is not None:
        return (*template_path.split("."), "spec")
    kind = resource.get("kind")
    if not isinstance(kind, str) or not is_workload(str(resource.get("apiVersion", "")), kind):
        return None
    return pod_spec_path(kind)


def pod_spec(resource: dict[str, Any], template_path: str | None = None) -> dict[str, Any] | None:
    """The pod spec inside `resource`, or None when it has none."""
    keys = spec_keys(resource, template_path)
    node: Any = resource if keys is not None else None
    for key in keys or ():
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def field_path(keys: tuple[str, ...], *rest: str) -> str:
    """A dotted field path such as `spec.template.spec.containers`."""
    return ".".join((*keys, *rest))


def _list_of_mappings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def shape_problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(problem, field) for the parts of a pod spec the function edits that are malformed.

    A field set to null reads as absent, as the API server reads it: Helm and
    hand-written manifests leave optional fields empty.
    """
    problems = []
    if not _list_of_mappings(spec.get("containers")) or not spec.get("containers"):
        problems.append(("containers must be a non-empty list of containers", "containers"))
    for key in ("initContainers", "volumes", "tolerations"):
        if spec.get(key) is not None and not _list_of_mappings(spec[key]):
            problems.append((f"{key} must be a list of mappings", key))
    for key in ("nodeSelector", "securityContext"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            problems.append((f"{key} must be a mapping", key))
    names: set[str] = set()
    for key in ("initContainers", "containers"):
        listed = listing(spec.get(key))
        for i, container in enumerate(listed if _list_of_mappings(listed) else []):
            name = container.get("name")
            if not isinstance(name, str) or not name:
                problems.append((f"{key}[{i}] has no name", f"{key}[{i}]"))
            elif name in names:
                problems.append((f"two containers are named {name!r}", f"{key}[{i}].name"))
            names.add(str(name))
            for field in ("env", "volumeMounts"):
                if container.get(field) is not None and not _list_of_mappings(container[field]):
                    problems.append(
                        (f"{key}[{i}].{field} must be a list of mappings", f"{key}[{i}].{field}")
                    )
    return problems
