"""Audit mode: report old Docker wiring and unsafe daemons, change nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from function.krm import results
from function.krm.results import Result, Severity
from function.kube import cikinds, daemons, oldwiring, podspecs
from function.kube.containers import env_value, mounted_by
from function.kube.podspecs import RUN_TO_COMPLETION_KINDS, WORKLOAD_KINDS
from function.plaindata import listing
from function.transform import runners
from function.transform.outcome import Outcome
from function.transform.selection import matches, template_path, wireable

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
    if oldwiring.is_docker_socket(path):
        return _WHY["docker"]
    if path in oldwiring.DOCKER_DIRECTORIES:
        return _WHY["directory"]
    return _WHY["other"]


def findings(config: Config, resource: dict[str, Any]) -> list[Result]:
    kind = str(resource.get("kind"))
    severity: Severity = "error" if config.fail_on_findings else "warning"
    engine = cikinds.engine_of(resource)
    if engine == "summerwind":
        return runners.settings(resource)
    if engine is not None:
        # A Task's sidecars and steps, a template's sidecars and main container.
        return [
            results.about(resource, message, severity, f"{unit.path}.{key}[{j}]")
            for unit in cikinds.units(resource)
            for key, listed in (
                ("sidecars", listing(unit.body.get("sidecars"))),
                ("steps" if engine == "tekton" else "container", cikinds.containers(unit)),
            )
            for j, container in enumerate(listed)
            if isinstance(container, dict)
            for message in _container_findings(container, False, kind)
        ]
    path = template_path(config, resource)
    keys = podspecs.spec_keys(resource, path) or ()
    spec = podspecs.pod_spec(resource, path)
    if spec is None:
        return []
    out = []
    for volume in oldwiring.runtime_socket_volumes(spec):
        if not mounted_by(spec, volume.name):
            continue
        out.append(
            results.about(
                resource,
                f"mounts {volume.path} (volume {volume.name!r}), {_why(volume.path)}",
                severity,
                podspecs.field_path(keys, f"volumes[{volume.position}].hostPath.path"),
            )
        )
    for key in ("initContainers", "containers"):
        for j, container in enumerate(listing(spec.get(key))):
            if isinstance(container, dict):
                where = podspecs.field_path(keys, f"{key}[{j}]")
                out += [
                    results.about(resource, message, severity, where)
                    for message in _container_findings(container, key == "initContainers", kind)
                ]
    return out


def _container_findings(container: dict[str, Any], in_init: bool, kind: str) -> list[str]:
    """What audit reports about one container: the daemon it runs, the daemon it uses."""
    name = container.get("name")
    if daemons.is_daemon(container):
        privileged = "privileged " if daemons.is_privileged(container) else ""
        how = "native sidecar" if daemons.is_native_sidecar(container, in_init) else "container"
        address = daemons.unauthenticated_tcp(container)
        if address:
            return [
                f"{how} {name!r} runs a {privileged}Docker daemon listening on {address} "
                "without TLS: anyone who can reach it controls the daemon and, through it, "
                "the node; inject-docker replaces it with one on a unix socket"
            ]
        found = [
            f"{how} {name!r} runs a {privileged}Docker daemon on "
            + ", ".join(li.address for li in daemons.listeners(container))
        ]
        blocked = daemons.socket_on_mount_point(container)
        if blocked:
            found.append(
                f"{how} {name!r} cannot start its Docker daemon: volume {blocked[1]!r} is "
                f"mounted at {blocked[0]}, the path where dockerd makes its socket; "
                "inject-docker replaces it"
            )
        if how == "container" and kind in RUN_TO_COMPLETION_KINDS:
            found.append(
                f"container {name!r} runs a Docker daemon as a plain container, which keeps "
                f"the {kind} from ever completing; inject-docker makes it a native sidecar"
            )
        return found
    host = env_value(container, "DOCKER_HOST") or ""
    if host.startswith("tcp://") and not host.startswith(_LOCAL):
        return [
            f"container {name!r} uses a Docker daemon elsewhere ({host}): every client of a "
            "shared daemon can run, stop and read the others' containers"
        ]
    return []


_LOCAL = ("tcp://localhost:", "tcp://127.0.0.1:", "tcp://[::1]:")


def kinds_to_read(config: Config) -> frozenset[str]:
    named = {s.kind for s in config.selectors if s.kind}
    return WORKLOAD_KINDS | cikinds.ENGINE_KINDS | named


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
    """Every workload and CI engine's kind, or those the selectors name; less `exclude`."""
    if not wireable(config, resource):
        return False
    if config.selectors and not any(matches(s, resource) for s in config.selectors):
        return False
    return not any(matches(s, resource) for s in config.exclude)
