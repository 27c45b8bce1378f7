"""The dockerd command line, shared by the sidecar and the node DaemonSet."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

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


# The dind-rootless image: its user, and where it keeps its data.
ROOTLESS_USER = 1000
ROOTLESS_DATA_ROOT = "/home/rootless/.local/share/docker"


def image(config: Config) -> str:
    """The daemon's image: with `rootless`, the rootless variant of a dind image."""
    if config.rootless and config.image.endswith("-dind"):
        return config.image + "-rootless"
    return str(config.image)


def data_root(config: Config) -> str:
    return ROOTLESS_DATA_ROOT if config.rootless else "/var/lib/docker"


def rootless_security(config: Config) -> dict[str, Any]:
    """What the dind-rootless image needs. Docker documents that it still needs
    privileged mode (for seccomp, AppArmor and the masked /proc paths); without it
    the same is asked for one by one, which needs user namespaces (`hostUsers: false`,
    set on the pod) and is not documented by Docker as supported."""
    context: dict[str, Any] = {"runAsUser": ROOTLESS_USER, "runAsGroup": ROOTLESS_USER}
    if privileged(config):
        return {"privileged": True, **context}
    return {
        **context,
        "seccompProfile": {"type": "Unconfined"},
        "appArmorProfile": {"type": "Unconfined"},
        "procMount": "Unmasked",
    }


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
    if isinstance(config.mtu, int):
        # --mtu covers only the default bridge; the network option covers the
        # networks that `docker network create` and compose make.
        out += [
            f"--mtu={config.mtu}",
            f"--default-network-opt=bridge=com.docker.network.driver.mtu={config.mtu}",
        ]
    if config.storage_driver:
        out.append(f"--storage-driver={config.storage_driver}")
    if config.iptables == "off":
        out += ["--iptables=false", "--ip6tables=false"]
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
    if config.rootless:
        # The rootless entrypoint keeps its runtime files (and socket) in this folder.
        out.append({"name": "XDG_RUNTIME_DIR", "value": socket_dir})
    if min_api:
        out.append({"name": "DOCKER_MIN_API_VERSION", "value": min_api})
    if config.iptables in ("nft", "legacy"):
        # The dind image's entrypoint: set and empty forces nf_tables, non-empty legacy.
        out.append(
            {"name": "DOCKER_IPTABLES_LEGACY", "value": "1" if config.iptables == "legacy" else ""}
        )
    settings = daemon_json(config)
    if settings:
        out.append(
            {
                "name": CONFIG_VARIABLE,
                "value": json.dumps(settings, sort_keys=True, separators=(",", ":")),
            }
        )
    return out


CONFIG_VARIABLE = "DOCKERD_CONFIG"


def daemon_json(config: Config) -> dict[str, Any]:
    """The settings that dockerd reads only from daemon.json (or that read better there)."""
    out: dict[str, Any] = {}
    if config.build_cache_keep:
        out["builder"] = {"gc": {"enabled": True, "defaultKeepStorage": config.build_cache_keep}}
    if config.max_concurrent_downloads:
        out["max-concurrent-downloads"] = config.max_concurrent_downloads
    out.update(config.daemon_config or {})
    return out


# The daemon's command when it must find things out at start: a short POSIX shell
# wrapper around the dind image's entrypoint, which then runs as the image would.
_MTU_PART = """\
dev=$(awk '$2 == "00000000" { print $1; exit }' "$root/proc/net/route" 2>/dev/null)
mtu=$(cat "$root/sys/class/net/${dev:-eth0}/mtu" 2>/dev/null)
if [ -n "$mtu" ]; then
  set -- "$@" --mtu="$mtu" \\
    --default-network-opt=bridge=com.docker.network.driver.mtu="$mtu"
else
  echo "inject-docker: no MTU found for ${dev:-eth0}; dockerd keeps 1500" >&2
fi
"""
# Root's dockerd reads /etc/docker/daemon.json; a rootless one, the file under its
# user's config directory (and it may not write /etc).
_CONFIG_PART = """\
conf="$root/etc/docker"
[ "$(id -u)" = 0 ] || conf="$root${XDG_CONFIG_HOME:-$HOME/.config}/docker"
mkdir -p "$conf" && printf '%s\\n' "$DOCKERD_CONFIG" >"$conf/daemon.json"
"""


def command(config: Config) -> list[str] | None:
    """The daemon container's command, or None to run the image's entrypoint as it is."""
    if config.mtu != "auto" and not daemon_json(config):
        return None
    what = ["the pod network's MTU"] if config.mtu == "auto" else []
    what += ["its daemon.json from $DOCKERD_CONFIG"] if daemon_json(config) else []
    script = f"# inject-docker: start dockerd with {' and '.join(what)}\n"
    # The tests run the script over a made-up root; in the pod it is /.
    script += "root=${INJECT_DOCKER_ROOT:-}\n"
    script += _MTU_PART if config.mtu == "auto" else ""
    script += _CONFIG_PART if daemon_json(config) else ""
    script += 'exec dockerd-entrypoint.sh "$@"\n'
    # After the script: $0 for the shell, then the args (dockerd and its flags).
    return ["/bin/sh", "-c", script, "inject-docker"]


def client_env(config: Config, socket_dir: str) -> list[dict[str, str]]:
    """The environment a client container of the pod's own daemon needs to reach it."""
    if config.transport == "tls":
        out = [
            {"name": "DOCKER_HOST", "value": f"tcp://localhost:{TLS_PORT}"},
            {"name": "DOCKER_TLS_VERIFY", "value": "1"},
            {"name": "DOCKER_CERT_PATH", "value": CLIENT_CERTS_DIR},
        ]
    else:
        out = [{"name": "DOCKER_HOST", "value": socket_url(socket_dir)}]
    if config.testcontainers:
        # Ports the daemon publishes are on the pod's own network.
        out.append({"name": "TESTCONTAINERS_HOST_OVERRIDE", "value": "localhost"})
        out += testcontainers_socket(config.socket_dir)
    return out


def testcontainers_socket(daemon_socket_dir: str) -> list[dict[str, str]]:
    """Testcontainers mounts the socket into its reaper by its path in the daemon's own
    filesystem; the daemon serves it at `daemon_socket_dir`, not /var/run/docker.sock."""
    path = socket_path(daemon_socket_dir)
    if path == "/var/run/docker.sock":
        return []
    return [{"name": "TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE", "value": path}]


def floating_tag(image: str) -> bool:
    """True when `image` names no full version (X.Y.Z) and no digest."""
    if "@sha256:" in image:
        return False
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return True  # no tag at all: `latest`
    return not _PINNED_TAG.search(tag)
