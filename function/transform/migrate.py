"""Migration: workloads that already reach Docker somehow are moved to the new daemon.

Two old ways are recognised in a selected workload.

- A hostPath mount of the node's Docker socket file, which containerd nodes do
  not have: the volume and its mounts go, and the containers that used them
  become clients. A mount of the node's whole /var/run or /run directory stays:
  it holds the node's runtime sockets, which agents need.
- A Docker daemon the workload runs itself. One that works safely (a native
  sidecar with no unauthenticated TCP listener) is left alone, unless the
  config asks to replace existing daemons; one that listens on TCP without TLS,
  runs as a plain container in a Job (which then never completes), or cannot
  start (a volume mounted where it makes its socket), is replaced. The user's
  own settings that are not the daemon's wiring (flags such as
  `--storage-driver`, proxies in its environment, mounts such as the runner's
  externals) are carried over to the new daemon; its wiring (listeners, TLS,
  data root, socket volume) is dropped; each is named in a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from function.kube import daemons, oldwiring
from function.kube.containers import (
    CONTAINER_LISTS,
    command_line,
    containers_of,
    env_value,
    mounted_by,
    remove_named,
)
from function.kube.podspecs import RUN_TO_COMPLETION_KINDS
from function.plaindata import listing
from function.transform.outcome import Note

if TYPE_CHECKING:
    from function.config.model import Config

_CLIENT_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
_GROUP_FLAGS = ("--group", "-G")
# What may stand before dockerd's flags on a daemon's command line.
_LAUNCHERS = ("dockerd", "dockerd-entrypoint.sh", "docker-init", "--")
_MANAGED_ENV = frozenset(
    {"DOCKER_TLS_CERTDIR", "DOCKER_HOST", "DOCKER_TLS_SAN", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"}
)
# Where a daemon keeps its own state (besides its socket directories).
_STATE_PATHS = frozenset(
    {"/var/run", "/run", "/var/lib/docker", "/certs", "/certs/client", "/certs/server"}
)


class Carried(NamedTuple):
    """What the new daemon takes over from the ones it replaces."""

    args: list[str]
    env: list[dict[str, Any]]
    mounts: list[dict[str, Any]]
    group: str | None  # a `--group` the user gave, instead of the socketGroup
    resources: dict[str, Any] | None


class Migration(NamedTuple):
    clients: list[str]  # containers that used the old daemon
    hard_coded: list[str]  # ... at /var/run/docker.sock
    notes: list[Note]
    carried: Carried
    kept: bool  # a daemon that works was left alone: the workload stays as it is
    old_sockets: frozenset[str]  # where the clients found the old daemon's socket


def migrate(config: Config, spec: dict[str, Any], kind: str, hint: str | None) -> Migration:
    """Take the old Docker wiring out of `spec`.

    `hint` names the option for tools that hard-code the socket path; None when it is on.
    """
    clients: list[str] = []
    hard_coded: list[str] = []
    notes: list[Note] = []
    old_sockets: set[str] = set(oldwiring.DOCKER_SOCKETS)
    carried = Carried([], [], [], None, None)
    found = _daemons(spec)
    for where, daemon in found:
        reasons = _reasons_to_replace(config, daemon, where, kind)
        if not reasons:
            return Migration([], [], [_kept(daemon, where)], carried, True, frozenset())
    for volume in oldwiring.docker_socket_volumes(spec):
        users = mounted_by(spec, volume.name)
        if not users:
            continue
        _drop_volume(spec, volume.name, users, clients, hard_coded)
        notes.append(
            (
                "info",
                f"replaced hostPath volume {volume.name!r} ({volume.path}, the node's Docker "
                "socket, which containerd nodes do not have)",
                None,
            )
        )
    notes += _node_directories(spec)
    for where, daemon in found:
        carried = _replace(
            spec, daemon, where, kind, config, carried, (clients, hard_coded), notes, old_sockets
        )
    if hard_coded and hint:
        names = ", ".join(repr(n) for n in sorted(set(hard_coded)))
        notes.append(
            (
                "info",
                f"{names} reached Docker at /var/run/docker.sock; DOCKER_HOST now points at "
                f"the new socket; for tools that ignore DOCKER_HOST set {hint}",
                None,
            )
        )
    return Migration(clients, hard_coded, notes, carried, False, frozenset(old_sockets))


def _daemons(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(place such as `initContainers[1]`, container) of each daemon the pod runs."""
    return [
        (f"{key}[{i}]", container)
        for key in CONTAINER_LISTS
        for i, container in enumerate(listing(spec.get(key)))
        if isinstance(container, dict) and daemons.is_daemon(container)
    ]


def _reasons_to_replace(config: Config, daemon: dict[str, Any], where: str, kind: str) -> list[str]:
    reasons = []
    address = daemons.unauthenticated_tcp(daemon)
    if address:
        reasons.append(f"it listens on {address} without TLS")
    blocked = daemons.socket_on_mount_point(daemon)
    if blocked:
        reasons.append(
            f"it cannot start: volume {blocked[1]!r} is mounted at {blocked[0]}, the path "
            "where dockerd makes its socket"
        )
    native = daemons.is_native_sidecar(daemon, where.startswith("initContainers"))
    if not native and kind in RUN_TO_COMPLETION_KINDS:
        reasons.append(f"as a plain container it keeps the {kind} from ever completing")
    if config.replace_daemons:
        reasons.append("replaceDaemons is set")
    return reasons


def _kept(daemon: dict[str, Any], where: str) -> Note:
    how = (
        "a native sidecar"
        if daemons.is_native_sidecar(daemon, where.startswith("initContainers"))
        else "a container"
    )
    sockets = ", ".join(daemons.unix_sockets(daemon)) or "TCP with TLS"
    return (
        "info",
        f"runs its own Docker daemon, {how} {daemon.get('name')!r} on {sockets}, which works "
        "as it is: left unchanged (set replaceDaemons: true to replace it)",
        where,
    )


def _replace(
    spec: dict[str, Any],
    daemon: dict[str, Any],
    where: str,
    kind: str,
    config: Config,
    carried: Carried,
    users: tuple[list[str], list[str]],
    notes: list[Note],
    old_sockets: set[str],
) -> Carried:
    """Take `daemon` out; return what the new daemon carries over from it. `users`:
    the clients found so far, and those that reached the socket at /var/run."""
    clients, hard_coded = users
    name = str(daemon.get("name"))
    reasons = _reasons_to_replace(config, daemon, where, kind)
    sockets = daemons.unix_sockets(daemon)
    state = _STATE_PATHS | {path.rpartition("/")[0] for path in sockets} | set(sockets)
    args, dropped = _flags(daemon)
    group = carried.group
    kept_args = []
    for flag in args:
        option = flag.split("=", 1)[0]
        if option in _GROUP_FLAGS:
            group = flag.split("=", 1)[1] if "=" in flag else group
        elif option in daemons.WIRING_FLAGS or flag in ("--tls=false", "--tlsverify=false"):
            dropped.append(flag)
        else:
            kept_args.append(flag)
    env = [e for e in listing(daemon.get("env")) if isinstance(e, dict)]
    kept_env = [e for e in env if e.get("name") not in _MANAGED_ENV]
    dropped += [f"{e.get('name')}={e.get('value', '')}" for e in env if e not in kept_env]
    mounts = [m for m in listing(daemon.get("volumeMounts")) if isinstance(m, dict)]
    shared = []
    kept_mounts = []
    for mount in mounts:
        path = str(mount.get("mountPath", "")).rstrip("/")
        if path in state:
            shared.append(str(mount.get("name")))
            dropped.append(f"the mount of {mount.get('name')!r} at {path}")
        else:
            kept_mounts.append({k: mount[k] for k in mount})
    resources = carried.resources
    # Tekton v1 calls a sidecar's resources computeResources.
    own = daemon.get("resources") or daemon.get("computeResources")
    if isinstance(own, dict) and config.resources is None:
        resources = own
    image = str(daemon.get("image", ""))
    if image and image != config.image:
        dropped.append(f"its image {image} (the image setting is {config.image})")
    for key in CONTAINER_LISTS:
        remove_named(spec, key, {name})
    for volume in shared:
        if _is_emptydir(spec, volume):
            for _, mount_path in mounted_by(spec, volume):
                old_sockets.update(
                    mount_path.rstrip("/") + path.removeprefix(_mount_of(mounts, volume))
                    for path in sockets
                )
            _drop_volume(spec, volume, mounted_by(spec, volume), clients, hard_coded)
    # Containers of the pod share its network: a DOCKER_HOST on localhost, or on a
    # socket the old daemon served, pointed at the daemon just removed.
    for container in containers_of(spec):
        if _drop_old_address(container, sockets) and container.get("name") not in clients:
            clients.append(str(container.get("name")))
    old_sockets.update(sockets)
    notes.append(
        ("info", f"replaced the Docker daemon container {name!r}: {'; '.join(reasons)}", None)
    )
    carried_now = [*kept_args, *(f"{e.get('name')}={e.get('value', '')}" for e in kept_env)]
    carried_now += [f"the mount of {m.get('name')!r} at {m.get('mountPath')}" for m in kept_mounts]
    if group is not None and group != carried.group:
        carried_now.append(f"--group={group}")
    if carried_now:
        notes.append(("info", f"carried over from {name!r}: {', '.join(carried_now)}", None))
    if dropped:
        notes.append(
            (
                "info",
                f"dropped from {name!r}, set by inject-docker instead: {', '.join(dropped)}",
                None,
            )
        )
    return Carried(
        carried.args + [a for a in kept_args if a not in carried.args],
        carried.env + [e for e in kept_env if e not in carried.env],
        carried.mounts + kept_mounts,
        group,
        resources,
    )


def _flags(daemon: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The dockerd flags of a daemon container (each as `--flag` or `--flag=value`), and
    what could not be read as flags (a script)."""
    words = command_line(daemon)
    while words and words[0].rsplit("/", 1)[-1] in (
        "dockerd",
        "dockerd-entrypoint.sh",
        "docker-init",
        "--",
    ):
        words = words[1:]
    if any(" " in w for w in words) or any(not w.startswith("-") for w in words[:1]):
        return [], [f"its command ({' '.join(command_line(daemon))}), which is not dockerd flags"]
    flags: list[str] = []
    for word in words:
        if not word.startswith("-") and flags and "=" not in flags[-1]:
            flags[-1] = f"{flags[-1]}={word}"  # `--storage-driver vfs`
        elif word.startswith("-"):
            flags.append(word)
        else:
            return [], [f"its arguments ({' '.join(words)}), which are not dockerd flags"]
    return flags, []


def _mount_of(mounts: list[dict[str, Any]], volume: str) -> str:
    return next(
        (str(m.get("mountPath", "")).rstrip("/") for m in mounts if m.get("name") == volume), ""
    )


def _node_directories(spec: dict[str, Any]) -> list[Note]:
    """Warnings for containers that look for docker.sock in the node's /var/run or /run."""
    notes: list[Note] = []
    for volume in oldwiring.host_volumes(spec, oldwiring.DOCKER_DIRECTORIES):
        for container, mount_path in mounted_by(spec, volume.name):
            looks = (
                " ".join(command_line(container))
                + " "
                + (env_value(container, "DOCKER_HOST") or "")
            )
            if "docker.sock" in looks:
                notes.append(
                    (
                        "warning",
                        f"container {container.get('name')!r} looks for docker.sock in the "
                        f"node's {volume.path} (mounted at {mount_path}), where containerd "
                        "nodes have none; the mount was left as it is, since it holds the "
                        "node's other runtime sockets: point the container at DOCKER_HOST",
                        None,
                    )
                )
    return notes


def _is_emptydir(spec: dict[str, Any], name: Any) -> bool:
    return any(
        isinstance(v, dict) and v.get("name") == name and "emptyDir" in v
        for v in listing(spec.get("volumes"))
    )


def _drop_volume(
    spec: dict[str, Any],
    volume: str,
    users: list[tuple[dict[str, Any], str]],
    clients: list[str],
    hard_coded: list[str],
) -> None:
    remove_named(spec, "volumes", {volume})
    mounted_at: dict[str, list[str]] = {}
    for container, mount_path in users:
        name = str(container.get("name"))
        remove_named(container, "volumeMounts", {volume})
        mounted_at.setdefault(name, []).append(mount_path.rstrip("/"))
        if name not in clients:
            clients.append(name)
        if mount_path.rstrip("/") in oldwiring.DOCKER_SOCKETS + oldwiring.DOCKER_DIRECTORIES:
            hard_coded.append(name)
    for container in containers_of(spec):
        name = str(container.get("name"))
        if name in clients:
            # DOCKER_HOST on the socket where this container mounted it goes too.
            _drop_old_address(container, mounted_at.get(name, []))


def _drop_old_address(container: dict[str, Any], sockets: list[str]) -> bool:
    """Remove a DOCKER_HOST that points at the daemon being replaced; True if it did."""
    value = env_value(container, "DOCKER_HOST")
    if value is None:
        return False
    old = {f"unix://{p}" for p in sockets} | oldwiring.HOST_SOCKET_URLS
    if value in old or is_local_tcp(value):
        return remove_named(container, "env", set(_CLIENT_VARIABLES))
    return False


def is_local_tcp(value: str) -> bool:
    """A DOCKER_HOST on the pod's own network: `tcp://localhost:2375`, or as the docker
    CLI also reads it, without scheme or port (`127.0.0.1`)."""
    address = value.removeprefix("tcp://")
    if "://" in address:
        return False
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or "]" in address else address
    return host.strip("[]") in ("localhost", "127.0.0.1", "::1")
