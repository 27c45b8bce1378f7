"""Audit mode: report old Docker wiring and unsafe daemons, change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from function.krm import results
from function.krm.results import Result, Severity
from function.kube import oldwiring, podspecs
from function.kube.containers import mounted_by
from function.kube.podspecs import WORKLOAD_KINDS
from function.plaindata import listing
from function.transform.outcome import Outcome
from function.transform.selection import matches

if TYPE_CHECKING:
    from function.config.model import Config

_WHY = {
    "docker": "the node's Docker socket: containerd nodes have none, and where it exists it "
    "gives root on the node; run inject-docker in sidecar or daemonset mode to migrate it",
    "directory": "the node's runtime directory, which holds its container runtime sockets: "
    "it gives root on the node",
    "other": "a container runtime socket: it gives control of every container on the node",
}


def _why(path: str) -> str:
    if path in oldwiring.DOCKER_SOCKETS:
        return _WHY["docker"]
    if path in oldwiring.DOCKER_DIRECTORIES:
        return _WHY["directory"]
    return _WHY["other"]


def findings(config: Config, resource: dict[str, Any]) -> list[Result]:
    kind = str(resource.get("kind"))
    spec = podspecs.pod_spec(resource)
    if spec is None:
        return []
    severity: Severity = "error" if config.fail_on_findings else "warning"
    out = []
    for volume in oldwiring.runtime_socket_volumes(spec):
        if not mounted_by(spec, volume.name):
            continue
        out.append(
            results.about(
                resource,
                f"mounts {volume.path} (volume {volume.name!r}), {_why(volume.path)}",
                severity,
                podspecs.field_path(kind, f"volumes[{volume.position}].hostPath.path"),
            )
        )
    for key in ("initContainers", "containers"):
        listed = listing(spec.get(key))
        for j, container in enumerate(listed):
            if not isinstance(container, dict):
                continue
            address = oldwiring.unauthenticated_tcp(container)
            if address is None:
                continue
            privileged = "privileged " if oldwiring.is_privileged(container) else ""
            out.append(
                results.about(
                    resource,
                    f"container {container.get('name')!r} runs a {privileged}Docker daemon "
                    f"listening on {address} without TLS: anyone who can reach it "
                    "controls the daemon and, through it, the node",
                    severity,
                    podspecs.field_path(kind, f"{key}[{j}]"),
                )
            )
    return out


def kinds_to_read(config: Config) -> frozenset[str]:
    return WORKLOAD_KINDS


def run(config: Config, items: Iterable[tuple[int, dict[str, Any]]]) -> Outcome:
    """Audit every workload in scope; nothing is changed."""
    out: list[Result] = []
    workloads = 0
    for _, resource in items:
        if not _in_scope(config, resource):
            continue
        found = findings(config, resource)
        workloads += bool(found)
        out += found
    summary = (
        f"audit: {len(out)} finding(s) in {workloads} workload(s)"
        if out
        else "audit: nothing found"
    )
    return Outcome({}, [], [*out, Result(summary, "info")])


def _in_scope(config: Config, resource: dict[str, Any]) -> bool:
    """Every workload of any kind, or those the selectors name; less `exclude`."""
    if not podspecs.is_workload(str(resource.get("apiVersion", "")), str(resource.get("kind"))):
        return False
    if config.selectors and not any(matches(s, resource) for s in config.selectors):
        return False
    return not any(matches(s, resource) for s in config.exclude)
