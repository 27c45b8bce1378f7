"""The Docker-in-Docker sidecar: a dockerd in the CI pod itself."""

from __future__ import annotations

from typing import Any

from function import clients as clientlib
from function import dockerd
from function.config import Config
from function.marker import Record, containers_of
from function.wiring import Note, Wiring

STORAGE_PATH = "/var/lib/docker"
VAR_RUN = "/var/run"


def volume_names(config: Config) -> dict[str, str]:
    base = config.sidecar_name
    names = {"socket": f"{base}-socket", "storage": f"{base}-storage"}
    if config.transport == "tls":
        names["certs"] = f"{base}-certs"
    return names


def _clashes(config: Config, spec: dict[str, Any], client_names: list[str]) -> list[str]:
    problems = []
    taken = {str(c.get("name")) for c in containers_of(spec)}
    if config.sidecar_name in taken:
        problems.append(f"a container named {config.sidecar_name!r} already exists")
    for name in sorted(set(volume_names(config).values()) & clientlib.volume_names(spec)):
        problems.append(f"a volume named {name!r} already exists")
    paths = [_client_socket_dir(config)] + (
        [dockerd.CLIENT_CERTS_DIR] if config.transport == "tls" else []
    )
    for container in clientlib.named(spec, client_names):
        for path in paths:
            if path in clientlib.mount_paths(container):
                problems.append(
                    f"container {container.get('name')!r} already mounts a volume at {path}"
                )
    return problems


def _client_socket_dir(config: Config) -> str:
    return VAR_RUN if config.mount_socket_at_var_run else config.socket_dir


def _probe(config: Config) -> dict[str, Any]:
    # Holds the main containers back until the daemon answers; a slow first
    # start (storage set-up, big data root) gets two minutes.
    return {
        "exec": {"command": ["docker", "--host", dockerd.socket_url(config.socket_dir), "info"]},
        "periodSeconds": 2,
        "timeoutSeconds": 5,
        "failureThreshold": 60,
    }


def daemon_container(config: Config, workspace: list[dict[str, Any]]) -> dict[str, Any]:
    volumes = volume_names(config)
    container: dict[str, Any] = {"name": config.sidecar_name, "image": config.image}
    if config.image_pull_policy:
        container["imagePullPolicy"] = config.image_pull_policy
    if config.native_sidecar:
        container["restartPolicy"] = "Always"
    container["args"] = dockerd.args(config, config.socket_dir)
    env = dockerd.env(config, config.socket_dir)
    if env:
        container["env"] = env
    container["securityContext"] = {"privileged": config.run_privileged}
    container["startupProbe"] = _probe(config)
    if config.resources:
        container["resources"] = config.resources
    mounts = [
        {"name": volumes["socket"], "mountPath": config.socket_dir},
        {"name": volumes["storage"], "mountPath": STORAGE_PATH},
    ]
    if "certs" in volumes:
        mounts.append({"name": volumes["certs"], "mountPath": dockerd.CLIENT_CERTS_DIR})
    container["volumeMounts"] = mounts + workspace
    return container


def _volumes(config: Config) -> list[dict[str, Any]]:
    names = volume_names(config)
    storage: dict[str, Any] = {}
    if config.storage_size_limit:
        storage["sizeLimit"] = config.storage_size_limit
    out = [
        {"name": names["socket"], "emptyDir": {}},
        {"name": names["storage"], "emptyDir": storage},
    ]
    if "certs" in names:
        out.append({"name": names["certs"], "emptyDir": {}})
    return out


def wire(config: Config, spec: dict[str, Any], client_names: list[str]) -> Wiring:
    """Add the daemon to `spec` and connect the clients to it.

    On a clash with names or paths the workload already uses, `spec` is left
    as it was and the wiring carries the error.
    """
    problems = _clashes(config, spec, client_names)
    if spec.get("hostNetwork") is True:
        problems.append(
            "the pod uses hostNetwork: a Docker daemon in it would create bridges and "
            "firewall rules in the node's own network"
        )
    current_class = spec.get("runtimeClassName")
    if config.runtime_class_name and current_class not in (None, config.runtime_class_name):
        problems.append(
            f"the pod already sets runtimeClassName {current_class!r}, "
            f"not {config.runtime_class_name!r}"
        )
    if problems:
        return Wiring(None, [("error", p + "; left unchanged", None) for p in problems])

    notes: list[Note] = []
    names = volume_names(config)
    record = Record(mode="sidecar", containers=[config.sidecar_name], volumes=list(names.values()))
    client_containers = clientlib.named(spec, client_names)
    reserved = {config.socket_dir, STORAGE_PATH, dockerd.CERTS_DIR}
    workspace: list[dict[str, Any]] = []
    if config.mirror_workspaces:
        workspace, conflicts = clientlib.workspace_mounts(spec, client_containers, reserved)
        notes += [
            ("warning", f"clients mount different volumes at {p}; the daemon sees the first", None)
            for p in conflicts
        ]
    daemon = daemon_container(config, workspace)

    if config.native_sidecar:
        init = spec.get("initContainers") if isinstance(spec.get("initContainers"), list) else []
        first_client = next(
            (
                i
                for i, c in enumerate(init)
                if isinstance(c, dict) and c.get("name") in client_names
            ),
            len(init),
        )
        spec["initContainers"] = [*init[:first_client], daemon, *init[first_client:]]
        clientlib.put_before(spec, "initContainers", "containers")
    else:
        clientlib.append(spec, "containers", [daemon])
        notes.append(
            (
                "warning",
                "dockerd runs as a plain container (nativeSidecar: false): the clients may "
                "start before it answers, so they must wait for it",
                None,
            )
        )

    env = dockerd.client_env(config, config.socket_dir)
    if config.mount_socket_at_var_run and config.transport != "tls":
        env = [{"name": "DOCKER_HOST", "value": dockerd.socket_url(VAR_RUN)}]
    mounts = [{"name": names["socket"], "mountPath": _client_socket_dir(config)}]
    if "certs" in names:
        mounts.append(
            {"name": names["certs"], "mountPath": dockerd.CLIENT_CERTS_DIR, "readOnly": True}
        )
    notes += connect_clients(client_containers, env, mounts, record)

    clientlib.append(spec, "volumes", _volumes(config))
    if config.runtime_class_name and current_class is None:
        spec["runtimeClassName"] = config.runtime_class_name
        record.pod["runtimeClassName"] = config.runtime_class_name
    return Wiring(record, notes)


def connect_clients(
    containers: list[dict[str, Any]],
    env: list[dict[str, str]],
    mounts: list[dict[str, Any]],
    record: Record,
) -> list[Note]:
    """Give each client the daemon's address and socket; note what was left alone."""
    notes: list[Note] = []
    for container in containers:
        name = str(container.get("name"))
        record.clients.append(name)
        present = clientlib.env_names(container)
        kept = [e["name"] for e in env if e["name"] in present]
        added = [e for e in env if e["name"] not in present]
        for variable in kept:
            notes.append(
                (
                    "warning",
                    f"container {name!r} sets {variable} itself; it was left as it is",
                    None,
                )
            )
        if added:
            clientlib.append(container, "env", added, before="volumeMounts")
            record.env = sorted(set(record.env) | {e["name"] for e in added})
        clientlib.append(container, "volumeMounts", [dict(m) for m in mounts])
    return notes
