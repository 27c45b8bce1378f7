"""Migration: workloads that reach Docker the old way are moved to the new daemon.

Two old ways are recognised in a selected workload: a hostPath mount of the
node's Docker socket (gone on containerd nodes), and a hand-written DinD
container. Both are taken out, and the containers that used them become
clients of the daemon the function wires in.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from function.kube import oldwiring
from function.kube.containers import command_line, containers_of, mounted_by, remove_named
from function.transform.outcome import Note

_LOCAL_DAEMON_PREFIXES = ("tcp://localhost:", "tcp://127.0.0.1:", "tcp://[::1]:")
_TLS_VARIABLES = ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


class Migration(NamedTuple):
    clients: list[str]  # containers that used the old daemon
    hard_coded: list[str]  # ... at /var/run/docker.sock
    notes: list[Note]


def migrate(spec: dict[str, Any], hint: str | None) -> Migration:
    """Take the old Docker wiring out of `spec`.

    `hint` names the option for tools that hard-code the socket path; None when it is on.
    """
    out = Migration([], [], [])
    for volume in oldwiring.docker_socket_volumes(spec):
        users = mounted_by(spec, volume.name)
        if not users:
            continue
        _drop_volume(spec, volume.name, users, out)
        what = "socket" if volume.path in oldwiring.DOCKER_SOCKETS else "socket's folder"
        out.notes.append(
            (
                "info",
                f"replaced hostPath volume {volume.name!r} ({volume.path}, the node's Docker "
                f"{what}, which containerd nodes do not have)",
                None,
            )
        )
    for daemon in oldwiring.hand_written_daemons(spec):
        name = str(daemon.get("name"))
        owned = _daemon_paths(daemon)
        shared = [
            m.get("name")
            for m in daemon.get("volumeMounts") or []
            if isinstance(m, dict)
            and str(m.get("mountPath", "")).rstrip("/") in owned
            and _is_emptydir(spec, m.get("name"))
        ]
        for key in ("initContainers", "containers"):
            remove_named(spec, key, {name})
        for shared_volume in shared:
            users = mounted_by(spec, str(shared_volume))
            _drop_volume(spec, str(shared_volume), users, out)
        # Containers of the pod share its network: a DOCKER_HOST on localhost
        # pointed at the daemon just removed.
        for container in containers_of(spec):
            if _drop_old_address(container) and container.get("name") not in out.clients:
                out.clients.append(str(container.get("name")))
        out.notes.append(
            ("info", f"replaced the hand-written Docker daemon container {name!r}", None)
        )
    if out.hard_coded and hint:
        names = ", ".join(repr(n) for n in sorted(set(out.hard_coded)))
        out.notes.append(
            (
                "info",
                f"{names} reached Docker at /var/run/docker.sock; DOCKER_HOST now points at "
                f"the new socket; for tools that ignore DOCKER_HOST set {hint}",
                None,
            )
        )
    return out


def _daemon_paths(daemon: dict[str, Any]) -> set[str]:
    """Where a daemon keeps its own state: its socket directories, storage, certificates."""
    paths = {"/var/run", "/run", "/var/lib/docker", "/certs", "/certs/client", "/certs/server"}
    for word in command_line(daemon):
        for prefix in ("--host=unix://", "-H=unix://", "unix://"):
            if word.startswith(prefix):
                paths.add(word[len(prefix) :].rpartition("/")[0])
    return paths


def _is_emptydir(spec: dict[str, Any], name: Any) -> bool:
    return any(
        isinstance(v, dict) and v.get("name") == name and "emptyDir" in v
        for v in spec.get("volumes") or []
    )


def _drop_volume(
    spec: dict[str, Any], volume: str, users: list[tuple[dict[str, Any], str]], out: Migration
) -> None:
    remove_named(spec, "volumes", {volume})
    for container, mount_path in users:
        name = str(container.get("name"))
        remove_named(container, "volumeMounts", {volume})
        if name not in out.clients:
            out.clients.append(name)
        if mount_path.rstrip("/") in oldwiring.DOCKER_SOCKETS + oldwiring.DOCKER_DIRECTORIES:
            out.hard_coded.append(name)
    for container in containers_of(spec):
        if container.get("name") in out.clients:
            _drop_old_address(container)


def _drop_old_address(container: dict[str, Any]) -> bool:
    """Remove a DOCKER_HOST that points at the daemon being replaced; True if it did."""
    for entry in container.get("env") or []:
        if not (isinstance(entry, dict) and entry.get("name") == "DOCKER_HOST"):
            continue
        value = str(entry.get("value", ""))
        if value in oldwiring.HOST_SOCKET_URLS:
            return remove_named(container, "env", {"DOCKER_HOST"})
        if value.startswith(_LOCAL_DAEMON_PREFIXES):
            return remove_named(container, "env", {"DOCKER_HOST", *_TLS_VARIABLES})
        return False
    return False
