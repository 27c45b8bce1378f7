"""The old ways of reaching Docker in a pod spec: host socket mounts and hand-written daemons."""

from __future__ import annotations

from typing import Any, NamedTuple

from function.kube.containers import command_line, containers_of, env_value

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
DOCKER_DIRECTORIES = ("/var/run", "/run")
OTHER_RUNTIME_SOCKETS = (
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
)
# Values of DOCKER_HOST that point at a host socket mounted at its usual place.
HOST_SOCKET_URLS = {f"unix://{p}" for p in DOCKER_SOCKETS}


class HostVolume(NamedTuple):
    position: int  # in spec.volumes
    name: str
    path: str  # the hostPath


def _normal(path: Any) -> str:
    text = str(path or "").rstrip("/")
    return text or "/"


def host_volumes(spec: dict[str, Any], paths: tuple[str, ...]) -> list[HostVolume]:
    """hostPath volumes of the pod whose path is one of `paths`."""
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        return []
    found = []
    for i, volume in enumerate(volumes):
        host = volume.get("hostPath") if isinstance(volume, dict) else None
        if isinstance(host, dict) and _normal(host.get("path")) in paths:
            found.append(HostVolume(i, str(volume.get("name")), _normal(host.get("path"))))
    return found


def docker_socket_volumes(spec: dict[str, Any]) -> list[HostVolume]:
    return host_volumes(spec, DOCKER_SOCKETS + DOCKER_DIRECTORIES)


def runtime_socket_volumes(spec: dict[str, Any]) -> list[HostVolume]:
    return host_volumes(spec, DOCKER_SOCKETS + DOCKER_DIRECTORIES + OTHER_RUNTIME_SOCKETS)


def runs_dockerd(container: dict[str, Any]) -> bool:
    """A container that starts a Docker daemon (a dind image, or dockerd on its command line)."""
    words = command_line(container)
    if any(w == "dockerd" or w.endswith("/dockerd") or "dockerd-entrypoint" in w for w in words):
        return True
    image = str(container.get("image", ""))
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    return "dind" in tag and not words


def unauthenticated_tcp(container: dict[str, Any]) -> str | None:
    """The TCP address a daemon container serves without TLS client verification, if any."""
    if not runs_dockerd(container):
        return None
    words = command_line(container)
    hosts: list[str] = []
    for i, word in enumerate(words):
        for flag in ("--host=", "-H="):
            if word.startswith(flag):
                hosts.append(word[len(flag) :])
        if word in ("--host", "-H") and i + 1 < len(words):
            hosts.append(words[i + 1])
    tcp = [h for h in hosts if h.startswith("tcp://")]
    verified = "--tlsverify" in words or any(w.startswith("--tlsverify=true") for w in words)
    if tcp and not verified:
        return tcp[0]
    # The dind image's entrypoint, given no dockerd command line and no
    # certificate directory, listens on 2375 without authentication.
    if not hosts and "dockerd" not in words and env_value(container, "DOCKER_TLS_CERTDIR") == "":
        return "tcp://0.0.0.0:2375"
    return None


def hand_written_daemons(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in containers_of(spec) if runs_dockerd(c)]


def is_privileged(container: dict[str, Any]) -> bool:
    context = container.get("securityContext")
    return isinstance(context, dict) and context.get("privileged") is True
