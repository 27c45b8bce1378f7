"""The dockerd command line, shared by the sidecar and the node DaemonSet."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from function.config.model import Config


SOCKET_NAME = "docker.sock"
TLS_PORT = 2376
TCP_PORT = 2375
# Where the dind image's entrypoint writes certificates when DOCKER_TLS_CERTDIR=/certs.
CERTS_DIR = "/certs"
CLIENT_CERTS_DIR = "/certs/client"

_PINNED_TAG = re.compile(r"(^|[^0-9])\d+\.\d+\.\d+([^0-9]|$)")


def privileged(config: Config) -> bool:
    """Run dockerd privileged: yes, unless a runtime class runs it without (or told so)."""
    return config.privileged if config.privileged is not None else not config.runtime_class_name


def socket_path(directory: str) -> str:
    return f"{directory}/{SOCKET_NAME}"


def socket_url(directory: str) -> str:
    return f"unix://{socket_path(directory)}"


def args(
    config: Config, socket_dir: str, *, data_root: str | None = None, group: str | None = None
) -> list[str]:
    """The daemon container's args: a unix socket always, TCP only as `transport` asks.

    With `dockerd` as the first argument the dind image's entrypoint adds no
    listener of its own. For TLS the entrypoint must see flags only: then it
    makes the certificates and adds the socket (from DOCKER_HOST, see `env`),
    `--host=tcp://0.0.0.0:2376` and the `--tlsverify` flags itself.
    """
    out = [] if config.transport == "tls" else ["dockerd", f"--host={socket_url(socket_dir)}"]
    if config.transport == "tcp":
        # Loopback only: the pod's own containers share it, nothing else reaches it.
        out += [f"--host=tcp://127.0.0.1:{TCP_PORT}", "--tls=false"]
    if group is not None:
        # Clients open the socket through this group, whatever user they run as.
        out.append(f"--group={group}")
    if data_root:
        out.append(f"--data-root={data_root}")
    if config.mtu is not None:
        # --mtu covers only the default bridge; the network option covers the
        # networks that `docker network create` and compose make.
        out += [
            f"--mtu={config.mtu}",
            f"--default-network-opt=bridge=com.docker.network.driver.mtu={config.mtu}",
        ]
    out += [f"--registry-mirror={m}" for m in config.registry_mirrors]
    out += [f"--insecure-registry={r}" for r in config.insecure_registries]
    out += config.dockerd_args
    return out


def env(config: Config, socket_dir: str, min_api: str | None = None) -> list[dict[str, str]]:
    """The daemon container's environment, read by the dind image's entrypoint and by
    dockerd (DOCKER_MIN_API_VERSION, for old clients)."""
    out = []
    if config.transport == "tls":
        out += [
            {"name": "DOCKER_TLS_CERTDIR", "value": CERTS_DIR},
            {"name": "DOCKER_HOST", "value": socket_url(socket_dir)},
        ]
    if min_api:
        out.append({"name": "DOCKER_MIN_API_VERSION", "value": min_api})
    return out


def client_env(config: Config, socket_dir: str) -> list[dict[str, str]]:
    """The environment a client container needs to reach the daemon."""
    if config.transport == "tls":
        return [
            {"name": "DOCKER_HOST", "value": f"tcp://localhost:{TLS_PORT}"},
            {"name": "DOCKER_TLS_VERIFY", "value": "1"},
            {"name": "DOCKER_CERT_PATH", "value": CLIENT_CERTS_DIR},
        ]
    return [{"name": "DOCKER_HOST", "value": socket_url(socket_dir)}]


def floating_tag(image: str) -> bool:
    """True when `image` names no full version (X.Y.Z) and no digest."""
    if "@sha256:" in image:
        return False
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return True  # no tag at all: `latest`
    return not _PINNED_TAG.search(tag)
