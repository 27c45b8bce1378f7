"""Docker daemon containers that users already run: recognising them, and how they listen.

Hand-written pods start dockerd in many ways: `dockerd` on the command line (by
any path), the dind image's `dockerd-entrypoint.sh`, or just the dind image with
flags (or nothing) as its arguments, which its entrypoint turns into
`dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 ...`
(plain TCP 2375 when DOCKER_TLS_CERTDIR is empty, or in images before 19.03).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from function.kube import images
from function.kube.containers import command_line, env_value
from function.plaindata import listing, mapping

# dockerd flags that make a daemon's own wiring (its sockets, TLS, state, pid file and
# MTU): a daemon the function writes sets them itself, so no user flag may repeat them.
WIRING_FLAGS = frozenset(
    {
        "--host",
        "-H",
        "--tls",
        "--tlsverify",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
        "--data-root",
        "-g",
        "--exec-root",
        "--pidfile",
        "-p",
        "--mtu",
    }
)

DEFAULT_SOCKET = "/var/run/docker.sock"
# The dind image's entrypoint turns TLS on from 19.03; DOCKER_TLS_CERTDIR is /certs.
_TLS_BY_DEFAULT = (19, 3)
_HOST_FLAGS = ("--host", "-H")


def _words(container: dict[str, Any]) -> list[str]:
    """Command and args, and the words of any shell script among them."""
    words = command_line(container)
    return [*words, *(w for word in words if " " in word for w in word.split())]


def _runs_dockerd_by_name(words: list[str]) -> bool:
    return any(
        w == "dockerd"
        or w.endswith("/dockerd")
        or w.rsplit("/", 1)[-1] in ("dockerd-entrypoint.sh", "dind")
        for w in words
    )


def is_daemon(container: dict[str, Any]) -> bool:
    """A container that starts a Docker daemon."""
    if _runs_dockerd_by_name(_words(container)):
        return True
    # The dind image with flags only, or nothing: its entrypoint runs dockerd.
    return images.is_dind(str(container.get("image", ""))) and _entrypoint_defaults(container)


def _entrypoint_defaults(container: dict[str, Any]) -> bool:
    """Whether the dind entrypoint adds its own listeners: it runs (as the image's
    entrypoint or named as the command) with flags only, not `dockerd ...`."""
    if container.get("script") or container.get("source"):
        return False  # a Tekton step's or Argo template's script runs instead
    command = [str(w) for w in listing(container.get("command"))]
    rest = [str(w) for w in listing(container.get("args"))]
    if command:
        if command[0].rsplit("/", 1)[-1] != "dockerd-entrypoint.sh":
            return False
        rest = command[1:] + rest
    return not rest or rest[0].startswith("-")


class Listener(NamedTuple):
    address: str  # unix:///path or tcp://host:port
    verified: bool  # TLS with client certificates (only meaningful for TCP)


def listeners(container: dict[str, Any]) -> list[Listener]:
    """Where a daemon container listens, as dockerd would be started."""
    words = command_line(container)
    hosts: list[str] = []
    for i, word in enumerate(words):
        for flag in _HOST_FLAGS:
            if word.startswith(flag + "="):
                hosts.append(word[len(flag) + 1 :])
            elif word == flag and i + 1 < len(words):
                hosts.append(words[i + 1])
    verified = _tls_verified(container, words)
    if _entrypoint_defaults(container):
        tls = tls_by_entrypoint(container)
        socket = env_value(container, "DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
        defaults = [socket if socket.startswith("unix://") else f"unix://{DEFAULT_SOCKET}"]
        defaults.append("tcp://0.0.0.0:2376" if tls else "tcp://0.0.0.0:2375")
        hosts = defaults + hosts
        verified = verified or tls
    elif not hosts:
        hosts = [f"unix://{DEFAULT_SOCKET}"]
    return [Listener(h, verified and h.startswith("tcp://")) for h in hosts]


def _tls_verified(container: dict[str, Any], words: list[str]) -> bool:
    if any(w in ("--tls=false", "--tlsverify=false") for w in words):
        return False
    return "--tlsverify" in words or any(w.startswith("--tlsverify=") for w in words)


def tls_by_entrypoint(container: dict[str, Any]) -> bool:
    """Whether the dind entrypoint makes certificates and listens with TLS on 2376.

    `--tls=false` counts as TLS off, as its author meant (GitLab's documented
    setup pairs it with an empty DOCKER_TLS_CERTDIR).
    """
    if any(w in ("--tls=false", "--tlsverify=false") for w in command_line(container)):
        return False
    certdir = env_value(container, "DOCKER_TLS_CERTDIR")
    if certdir is not None:
        return certdir != ""
    image = images.docker_image(str(container.get("image", "")))
    version = image.version if image else None
    return version is None or version >= _TLS_BY_DEFAULT


def unauthenticated_tcp(container: dict[str, Any]) -> str | None:
    """The TCP address a daemon container serves without TLS client verification."""
    if not is_daemon(container):
        return None
    for listener in listeners(container):
        if listener.address.startswith("tcp://") and not listener.verified:
            return listener.address
    return None


def unix_sockets(container: dict[str, Any]) -> list[str]:
    """The paths of the unix sockets a daemon container serves."""
    return [
        li.address.removeprefix("unix://")
        for li in listeners(container)
        if li.address.startswith("unix://")
    ]


def socket_on_mount_point(container: dict[str, Any]) -> tuple[str, str] | None:
    """(socket path, volume) when a volume is mounted at the very path of a unix socket
    the daemon serves, as in `mountPath: /var/run/docker.sock` on an emptyDir: the path
    is then a directory (or another mount), where dockerd cannot make its socket, so it
    does not start."""
    mounted = {
        str(m.get("mountPath", "")).rstrip("/"): str(m.get("name"))
        for m in listing(container.get("volumeMounts"))
        if isinstance(m, dict)
    }
    return next(((p, mounted[p]) for p in unix_sockets(container) if p in mounted), None)


def is_privileged(container: dict[str, Any]) -> bool:
    return mapping(container.get("securityContext")).get("privileged") is True


def is_native_sidecar(container: dict[str, Any], in_init: bool) -> bool:
    """An init container that keeps running beside the others (Kubernetes 1.29+)."""
    return in_init and container.get("restartPolicy") == "Always"
