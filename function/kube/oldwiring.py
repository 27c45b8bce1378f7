"""Host paths that reach a container runtime: the node's Docker socket and its kin.

A pod that mounts one of these from the node talks to the node's runtime: on a
containerd node the Docker socket is gone, and wherever a runtime socket is
there, mounting it gives control of every container on the node.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from function.plaindata import listing, mapping

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
# The node's runtime directories: they hold the sockets below, and more.
DOCKER_DIRECTORIES = ("/var/run", "/run")
OTHER_RUNTIME_SOCKETS = (
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/run/k3s/containerd/containerd.sock",
    "/run/host-containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
    "/run/dockershim.sock",
    "/var/run/podman/podman.sock",
    "/run/podman/podman.sock",
)
# Values of DOCKER_HOST that point at a host socket mounted at its usual place.
HOST_SOCKET_URLS = frozenset(f"unix://{p}" for p in DOCKER_SOCKETS)


class HostVolume(NamedTuple):
    position: int  # in spec.volumes
    name: str
    path: str  # the hostPath


def normal(path: Any) -> str:
    text = str(path or "").rstrip("/")
    return text or "/"


def host_volumes(spec: dict[str, Any], paths: tuple[str, ...]) -> list[HostVolume]:
    """hostPath volumes of the pod whose path is one of `paths`."""
    found = []
    for i, volume in enumerate(listing(spec.get("volumes"))):
        host = mapping(volume.get("hostPath")) if isinstance(volume, dict) else {}
        if host and normal(host.get("path")) in paths:
            found.append(HostVolume(i, str(volume.get("name")), normal(host.get("path"))))
    return found


def is_docker_socket(path: str) -> bool:
    """A node path of a Docker socket: the usual ones, or any other `.../docker.sock`
    (Docker Desktop's `/run/guest-services/docker.sock`, a rootless daemon's
    `/run/user/1000/docker.sock`)."""
    return path in DOCKER_SOCKETS or path.endswith("/docker.sock")


def docker_socket_volumes(spec: dict[str, Any]) -> list[HostVolume]:
    """hostPath volumes of the pod that are a Docker socket of the node."""
    found = []
    for i, volume in enumerate(listing(spec.get("volumes"))):
        host = mapping(volume.get("hostPath")) if isinstance(volume, dict) else {}
        if host and is_docker_socket(normal(host.get("path"))):
            found.append(HostVolume(i, str(volume.get("name")), normal(host.get("path"))))
    return found


def runtime_socket_volumes(spec: dict[str, Any]) -> list[HostVolume]:
    found = docker_socket_volumes(spec)
    seen = {v.position for v in found}
    others = host_volumes(spec, DOCKER_DIRECTORIES + OTHER_RUNTIME_SOCKETS)
    return sorted([*found, *(v for v in others if v.position not in seen)])
