"""Which resources the function changes: selectors, exclusions and opt-out annotations."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from function.kube import cikinds, dockeruse, labelselector, oldwiring
from function.kube.metadata import annotations_of, labels_of, metadata_of
from function.kube.podspecs import DEFAULT_KINDS, group_of, is_workload, pod_spec

if TYPE_CHECKING:
    from function.config.model import Config, Selector

INJECT_ANNOTATION = "inject-docker.dev/inject"
CONTAINERS_ANNOTATION = "inject-docker.dev/containers"
MODE_ANNOTATION = "inject-docker.dev/mode"


def matches(selector: Selector, resource: dict[str, Any]) -> bool:
    """kustomize patch-target semantics: every field that is set must match."""
    api_version = str(resource.get("apiVersion", ""))
    meta = metadata_of(resource)
    checks = (
        selector.group is None or group_of(api_version) == selector.group,
        selector.version is None or api_version.rpartition("/")[2] == selector.version,
        selector.kind is None or resource.get("kind") == selector.kind,
        selector.name is None or re.fullmatch(selector.name, str(meta.get("name", ""))),
        selector.namespace is None
        or re.fullmatch(selector.namespace, str(meta.get("namespace", ""))),
        selector.label_selector is None
        or labelselector.matches(labelselector.parse(selector.label_selector), labels_of(resource)),
        selector.annotation_selector is None
        or labelselector.matches(
            labelselector.parse(selector.annotation_selector), annotations_of(resource)
        ),
    )
    return all(checks) and (
        selector.uses_docker is None
        or dockeruse.uses_docker(resource, selector.pod_template_path) == selector.uses_docker
    )


def opted_out(resource: dict[str, Any]) -> bool:
    return str(annotations_of(resource).get(INJECT_ANNOTATION, "")).lower() == "false"


def template_path(config: Config, resource: dict[str, Any]) -> str | None:
    """The pod template path a selector gives for this resource's kind, if one does."""
    kind = resource.get("kind")
    for selector in config.selectors:
        if selector.pod_template_path and selector.kind == kind and matches(selector, resource):
            return selector.pod_template_path
    return None


def wireable(config: Config, resource: dict[str, Any]) -> bool:
    """A kind whose pods inject-docker can find: a workload, a CI engine's kind, or one a
    selector gives the pod template path of."""
    kind = resource.get("kind")
    if not isinstance(kind, str):
        return False
    return (
        is_workload(str(resource.get("apiVersion", "")), kind)
        or cikinds.engine_of(resource) is not None
        or template_path(config, resource) is not None
    )


def is_selected(config: Config, resource: dict[str, Any], *, honour_opt_out: bool = True) -> bool:
    """True when `resource` is a workload the config asks to change. Kinds other than
    Pod, Job and CronJob are changed only when a selector names their kind."""
    kind = resource.get("kind")
    if not wireable(config, resource):
        return False
    if honour_opt_out and opted_out(resource):
        return False
    if config.selectors:
        chosen = any(
            matches(s, resource) and (kind in DEFAULT_KINDS or s.kind == kind)
            for s in config.selectors
        )
    else:
        chosen = kind in DEFAULT_KINDS
    return chosen and not any(matches(s, resource) for s in config.exclude)


def named_by_selector(config: Config, resource: dict[str, Any]) -> bool:
    """A selector that names this very resource (by `name`) selects it."""
    return any(s.name is not None and matches(s, resource) for s in config.selectors)


def node_agent(resource: dict[str, Any]) -> str | None:
    """Why a DaemonSet looks like a node agent (monitoring, security, logging), or None.

    Agents such as cAdvisor, Datadog or Falco use the node's own namespaces and
    runtime sockets; a Docker daemon in them would serve nobody and change the node.
    """
    if resource.get("kind") != "DaemonSet":
        return None
    spec = pod_spec(resource)
    if spec is None:
        return None
    signs = [f"{key}: true" for key in ("hostPID", "hostNetwork") if spec.get(key) is True]
    runtime = oldwiring.host_volumes(spec, oldwiring.OTHER_RUNTIME_SOCKETS + _NODE_STATE)
    signs += [f"it mounts the node's {v.path}" for v in runtime]
    return ", ".join(signs) or None


# Node directories that only an agent of the node mounts (metrics, logs, security).
_NODE_STATE = (
    *oldwiring.DOCKER_DIRECTORIES,
    "/sys",
    "/proc",
    "/dev",
    "/var/log",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/kubelet",
)


def candidate_kinds(config: Config) -> frozenset[str]:
    """Kinds worth reading at all: everything else passes through unread."""
    named = {s.kind for s in config.selectors if s.kind}
    return DEFAULT_KINDS | named
