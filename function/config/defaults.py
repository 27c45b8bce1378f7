"""The default settings, usable without pydantic.

Most runs carry a functionConfig that sets nothing (kpt sends an empty ConfigMap,
a kustomize transformer just its annotations). Importing pydantic and building
the model costs more than transforming a thousand resources, so such configs
get these defaults directly (see `load`). The pydantic model in `model.py` takes
its defaults from here too, and validates every config that sets anything.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

API_VERSION = "fn.inject-docker.dev/v1alpha1"
KIND = "InjectDocker"
DEFAULT_IMAGE = "docker:29.8.0-dind"
# The group the daemon gives its socket, and every client pod gets as a
# supplementary group: any user can then open the socket. 2375 recalls Docker's
# port and is not a group any common image uses.
SOCKET_GROUP = 2375
# What the daemon asks of the node by default: the build runs in the daemon, so its
# requests are those of a small build; the disk request lets the scheduler place
# the pod where its image layers fit (the storage's sizeLimit bounds them).
DAEMON_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "10Gi"}
}

# The node daemon's disk: prune when the data root's filesystem is fuller than
# `high` percent, until it is below `low`, looking every `interval` seconds.
PRUNE: dict[str, Any] = {"high": 85, "low": 70, "interval": 300}

DAEMONSET: dict[str, Any] = {
    "name": "docker-ci",
    "namespace": None,
    "path": "docker-ci-daemonset.yaml",
    "host_socket_dir": "/var/run/docker-ci",
    "host_data_root": "/var/lib/docker-ci",
    "node_selector": {},
    "tolerations": [],
    "priority_class_name": None,
    "update_strategy": None,
    "emit_namespace": False,
    "mount_socket_file": False,
    "prune": PRUNE,
}

DEFAULTS: dict[str, Any] = {
    "api_version": API_VERSION,
    "kind": KIND,
    "metadata": {},
    "mode": "sidecar",
    "selectors": [],
    "exclude": [],
    "containers": [],
    "image": DEFAULT_IMAGE,
    "image_pull_policy": None,
    "native_sidecar": True,
    "sidecar_name": "dind",
    "socket_dir": "/var/run/dind",
    "mount_socket_at_var_run": False,
    "transport": "unix",
    "mtu": "auto",
    "iptables": "auto",
    "storage_driver": None,
    "build_cache_keep": "20GB",
    "max_concurrent_downloads": None,
    "daemon_config": None,
    "registry_mirrors": [],
    "insecure_registries": [],
    "dockerd_args": [],
    "resources": DAEMON_RESOURCES,
    "storage_size_limit": "50Gi",
    "runtime_class_name": None,
    "privileged": None,
    "mirror_workspaces": True,
    "mesh": "auto",
    "testcontainers": True,
    "rootless": False,
    "socket_group": SOCKET_GROUP,
    "min_api_version": None,
    "replace_daemons": False,
    "daemonset": DAEMONSET,
    "fail_on_findings": False,
}


def is_default(function_config: Any) -> bool:
    """True for a functionConfig that sets no setting at all."""
    if function_config is None or function_config == {}:
        return True
    if not isinstance(function_config, dict):
        return False
    kind = function_config.get("kind")
    if kind == "ConfigMap":
        return set(function_config) <= {"apiVersion", "kind", "metadata", "data"} and not (
            function_config.get("data") or {}
        )
    return (
        kind == KIND
        and function_config.get("apiVersion") == API_VERSION
        and set(function_config) <= {"apiVersion", "kind", "metadata"}
        and isinstance(function_config.get("metadata", {}), dict)
    )


def default_config() -> Any:
    """The default settings with the model's attribute names (a Config without pydantic)."""
    values = {k: v for k, v in DEFAULTS.items() if k != "daemonset"}
    daemonset = {**_fresh(DAEMONSET), "prune": SimpleNamespace(**PRUNE)}
    return SimpleNamespace(**_fresh(values), daemonset=SimpleNamespace(**daemonset))


def _fresh(values: dict[str, Any]) -> dict[str, Any]:
    """Copies of the mutable defaults, so no run can change them for the next."""
    import copy

    return copy.deepcopy(values)
