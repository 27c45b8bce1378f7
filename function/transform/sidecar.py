"""The Docker-in-Docker sidecar: a dockerd in the CI pod itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.krm.results import Result
from function.kube import containers
from function.kube.containers import containers_of
from function.kube.podspecs import RUN_TO_COMPLETION_KINDS
from function.kube.record import Record
from function.plaindata import listing, mapping
from function.transform import clients, dockerd, podsecurity
from function.transform.migrate import Carried
from function.transform.outcome import Note, Outcome, Wired, Wiring

if TYPE_CHECKING:
    from function.config.model import Config

STORAGE_PATH = "/var/lib/docker"
VAR_RUN = "/var/run"


def volume_names(config: Config) -> dict[str, str]:
    base = config.sidecar_name
    names = {"socket": f"{base}-socket", "storage": f"{base}-storage"}
    if config.transport == "tls":
        names["certs"] = f"{base}-certs"
    return names


def _clashes(config: Config, spec: dict[str, Any], client_names: list[str]) -> list[Note]:
    problems: list[Note] = []
    hint = "; set sidecarName to use other names"
    for container in containers_of(spec):
        if container.get("name") == config.sidecar_name:
            where = containers.locate(spec, config.sidecar_name)
            problems.append(
                ("error", f"a container named {config.sidecar_name!r} already exists{hint}", where)
            )
    volumes = listing(spec.get("volumes"))
    ours = set(volume_names(config).values())
    for i, volume in enumerate(volumes):
        if isinstance(volume, dict) and volume.get("name") in ours:
            problems.append(
                (
                    "error",
                    f"a volume named {volume['name']!r} already exists{hint}",
                    f"volumes[{i}]",
                )
            )
    paths = [_client_socket_dir(config)] + (
        [dockerd.CLIENT_CERTS_DIR] if config.transport == "tls" else []
    )
    for container in containers.named(spec, client_names):
        name = str(container.get("name"))
        for path in paths:
            if path in containers.mount_paths(container):
                problems.append(
                    (
                        "error",
                        f"container {name!r} already mounts a volume at {path}",
                        f"{containers.locate(spec, name)}.volumeMounts",
                    )
                )
        if not config.native_sidecar and containers.is_init(spec, name):
            problems.append(
                (
                    "error",
                    f"init container {name!r} needs Docker, but with nativeSidecar: false the "
                    "daemon starts only after every init container has finished",
                    containers.locate(spec, name),
                )
            )
    if spec.get("hostNetwork") is True:
        problems.append(
            (
                "error",
                "the pod uses hostNetwork: a Docker daemon in it would create bridges and "
                "firewall rules in the node's own network",
                "hostNetwork",
            )
        )
    current_class = spec.get("runtimeClassName")
    if config.runtime_class_name and current_class not in (None, config.runtime_class_name):
        problems.append(
            (
                "error",
                f"the pod already sets runtimeClassName {current_class!r}, "
                f"not {config.runtime_class_name!r}",
                "runtimeClassName",
            )
        )
    return problems


# Where a client finds the socket when it mounts a volume over the usual place.
NESTED_SOCKET_DIR = "/inject-docker"


def _under_a_mount(container: dict[str, Any], path: str) -> bool:
    """`path` lies inside a volume the container already mounts (not at its root)."""
    return any(
        path.startswith(mounted.rstrip("/") + "/") and mounted.rstrip("/") != ""
        for mounted in containers.mount_paths(container)
    )


def _holder(container: dict[str, Any], config: Config) -> str:
    path = _client_socket_dir(config)
    return max(
        (m for m in containers.mount_paths(container) if m and path.startswith(m + "/")), key=len
    )


def _client_socket_dir(config: Config) -> str:
    return VAR_RUN if config.mount_socket_at_var_run else config.socket_dir


def _probe(config: Config) -> tuple[str, dict[str, Any]]:
    command = {
        "exec": {"command": ["docker", "--host", dockerd.socket_url(config.socket_dir), "info"]}
    }
    if not config.native_sidecar:
        # A plain container's startupProbe holds nothing back; readiness at least
        # shows in the pod's status when the daemon answers.
        return "readinessProbe", {**command, "periodSeconds": 5, "timeoutSeconds": 5}
    # As a native sidecar's startupProbe it holds the main containers back until
    # the daemon answers; a slow first start gets two minutes.
    return "startupProbe", {
        **command,
        "periodSeconds": 2,
        "timeoutSeconds": 5,
        "failureThreshold": 60,
    }


# Fields of the daemon container that follow the config. Any other field added to
# it by hand survives a rerun.
_CONFIGURED_FIELDS = frozenset(
    {
        "name",
        "image",
        "imagePullPolicy",
        "restartPolicy",
        "command",
        "args",
        "env",
        "securityContext",
        "startupProbe",
        "readinessProbe",
        "resources",
        "volumeMounts",
    }
)


def _security(config: Config, spec: dict[str, Any]) -> dict[str, Any]:
    if config.rootless:
        return dockerd.rootless_security(config)
    context: dict[str, Any] = {"privileged": dockerd.privileged(config)}
    pod = containers.security_context(spec)
    if pod.get("runAsNonRoot") is True or pod.get("runAsUser") not in (None, 0):
        # dockerd must run as root; the pod-level non-root settings would stop it.
        context.update({"runAsUser": 0, "runAsNonRoot": False})
    return context


def daemon_container(
    config: Config,
    mounts: list[dict[str, Any]],
    security: dict[str, Any],
    group: str,
    carried: Carried,
    min_api: str | None = None,
) -> dict[str, Any]:
    """The daemon container; `mounts` are those besides its own (workspaces, carried)."""
    volumes = volume_names(config)
    container: dict[str, Any] = {"name": config.sidecar_name, "image": dockerd.image(config)}
    if config.image_pull_policy:
        container["imagePullPolicy"] = config.image_pull_policy
    if config.native_sidecar:
        container["restartPolicy"] = "Always"
    wrapper = dockerd.command(config)
    if wrapper:
        container["command"] = wrapper
    args = dockerd.args(config, config.socket_dir, group=None if config.rootless else group)
    container["args"] = args + [a for a in carried.args if a not in args]
    env = dockerd.env(config, config.socket_dir, min_api) + carried.env
    if env:
        container["env"] = env
    container["securityContext"] = security
    probe, settings = _probe(config)
    container[probe] = settings
    resources = daemon_resources(config, carried)
    if resources:
        container["resources"] = resources
    own = [
        {"name": volumes["socket"], "mountPath": config.socket_dir},
        {"name": volumes["storage"], "mountPath": dockerd.data_root(config)},
    ]
    if "certs" in volumes:
        own.append({"name": volumes["certs"], "mountPath": dockerd.CLIENT_CERTS_DIR})
    taken = {m["mountPath"] for m in own}
    for mount in mounts:
        if str(mount.get("mountPath", "")).rstrip("/") not in taken:
            own.append(mount)
            taken.add(str(mount.get("mountPath", "")).rstrip("/"))
    container["volumeMounts"] = own
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


def wire(
    config: Config,
    spec: dict[str, Any],
    client_names: list[str],
    previous: dict[str, Any] | None,
    carried: Carried,
    min_api: str | None,
) -> Wiring:
    """Add the daemon to `spec` and connect the clients to it.

    `previous` is the daemon container an earlier run added; fields added to it
    by hand are kept. `carried` holds what the daemon takes over from one it
    replaces; `min_api`, the oldest API version its clients need. On a clash with
    names or paths the workload already uses, `spec` is left as it was and the
    wiring carries the errors.
    """
    problems = _clashes(config, spec, client_names)
    if problems:
        return Wiring(None, [(s, m + "; left unchanged", f) for s, m, f in problems])

    notes: list[Note] = []
    names = volume_names(config)
    record = Record(mode="sidecar", containers=[config.sidecar_name], volumes=list(names.values()))
    client_containers = containers.named(spec, client_names)
    reserved = {config.socket_dir, dockerd.data_root(config), dockerd.CERTS_DIR}
    workspace: list[dict[str, Any]] = []
    if config.mirror_workspaces:
        workspace, conflicts = clients.workspace_mounts(spec, client_containers, reserved)
        notes += [
            ("warning", f"clients mount different volumes at {p}; the daemon sees the first", None)
            for p in conflicts
        ]
    notes += _memory_notes(daemon_resources(config, carried), client_containers)
    # The rootless daemon's socket belongs to its own user's group.
    group = str(dockerd.ROOTLESS_USER) if config.rootless else clients.socket_group(config, carried)
    daemon = daemon_container(
        config, workspace + carried.mounts, _security(config, spec), group, carried, min_api
    )
    for key, value in (previous or {}).items():
        if key not in _CONFIGURED_FIELDS:
            daemon[key] = value

    if config.native_sidecar:
        init = listing(spec.get("initContainers"))
        first_client = next(
            (
                i
                for i, c in enumerate(init)
                if isinstance(c, dict) and c.get("name") in client_names
            ),
            len(init),
        )
        spec["initContainers"] = [*init[:first_client], daemon, *init[first_client:]]
        containers.put_before(spec, "initContainers", "containers")
    else:
        containers.append(spec, "containers", [daemon])
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
    mounts: list[dict[str, Any]] = [
        {"name": names["socket"], "mountPath": _client_socket_dir(config)}
    ]
    if "certs" in names:
        mounts.append(
            {"name": names["certs"], "mountPath": dockerd.CLIENT_CERTS_DIR, "readOnly": True}
        )
    nested = [c for c in client_containers if _under_a_mount(c, _client_socket_dir(config))]
    plain = [c for c in client_containers if c not in nested]
    notes += clients.connect(spec, plain, env, mounts, record)
    if nested and config.transport != "tls":
        # A socket directory inside a client's own mount (the node's /var/run, say)
        # would be made in that volume, or fail on a read-only one: it goes elsewhere.
        elsewhere = [{**mounts[0], "mountPath": NESTED_SOCKET_DIR}]
        url = dockerd.socket_url(NESTED_SOCKET_DIR)
        moved_env = [{**e, "value": url} if e["name"] == "DOCKER_HOST" else e for e in env]
        notes += clients.connect(spec, nested, moved_env, elsewhere, record)
        notes += [
            (
                "info",
                f"container {c.get('name')!r} mounts a volume at {_holder(c, config)}, where "
                f"{_client_socket_dir(config)} would be made: the daemon's socket is at "
                f"{NESTED_SOCKET_DIR} in it instead",
                containers.locate(spec, str(c.get("name"))),
            )
            for c in nested
        ]
    elif nested:
        notes += clients.connect(spec, nested, env, mounts, record)

    containers.append(spec, "volumes", _volumes(config))
    if config.rootless:
        notes += _rootless(config, spec, record)
    notes += clients.add_socket_group(spec, group, carried, record)
    if config.runtime_class_name and spec.get("runtimeClassName") is None:
        spec["runtimeClassName"] = config.runtime_class_name
        record.pod["runtimeClassName"] = config.runtime_class_name
    record.carried = carried_record(carried)
    return Wiring(record, notes)


def _rootless(config: Config, spec: dict[str, Any], record: Record) -> list[Note]:
    """What the rootless daemon needs of the pod and the node, said once per workload."""
    if dockerd.privileged(config):
        return [
            (
                "info",
                f"rootless: the daemon runs as user {dockerd.ROOTLESS_USER} in a user namespace "
                "of its own, so a container that escapes it is not root on the node; Docker "
                "still documents privileged mode as needed for it",
                None,
            )
        ]
    if spec.get("hostUsers") is None:
        spec["hostUsers"] = False
        record.pod["hostUsers"] = False
    return [
        (
            "warning",
            "rootless without privileged mode: the pod runs in a user namespace (hostUsers: "
            "false) with seccomp, AppArmor and /proc masking off for the daemon; the node "
            "needs Kubernetes 1.33 or newer with user namespaces, and Docker does not "
            "document this as supported: try it before you rely on it",
            None,
        )
    ]


def daemon_resources(config: Config, carried: Carried) -> dict[str, Any] | None:
    return config.resources or carried.resources


def _memory_notes(
    resources: dict[str, Any] | None, client_containers: list[dict[str, Any]]
) -> list[Note]:
    """The build's memory is the daemon's: a limit on the clients alone bounds nothing."""
    if "memory" in mapping(mapping(resources).get("limits")):
        return []
    limited = [
        str(c.get("name"))
        for c in client_containers
        if "memory" in mapping(mapping(c.get("resources")).get("limits"))
    ]
    if not limited:
        return []
    return [
        (
            "warning",
            f"{', '.join(map(repr, limited))} have a memory limit but the daemon has none: "
            "what `docker build` and `docker run` use counts against the daemon, not the "
            "clients; set resources.limits.memory",
            None,
        )
    ]


def carried_record(carried: Carried) -> dict[str, Any]:
    """What a replaced daemon handed over, as the record keeps it for later runs."""
    fields = {"args": carried.args, "env": carried.env, "mounts": carried.mounts}
    fields.update({"group": carried.group, "resources": carried.resources})
    return {k: v for k, v in fields.items() if v}


# --- what the driver asks of a mode (see `modes`) -------------------------------------

# Namespaces: whether they already admit privileged pods.
LIST_KINDS = frozenset({"Namespace"})


def client_socket(config: Config) -> str | None:
    if config.transport == "tls":
        return None  # the clients reach the daemon over TCP and mount no socket
    return dockerd.socket_path(_client_socket_dir(config))


def hard_coded_hint(config: Config) -> str | None:
    return None if config.mount_socket_at_var_run else "mountSocketAtVarRun: true"


def client_notes(
    config: Config, spec: dict[str, Any], names: list[str], kind: str
) -> list[tuple[str, str]]:
    return []


def changed_notes(config: Config, kind: str) -> list[str]:
    if not config.native_sidecar and kind in RUN_TO_COMPLETION_KINDS:
        return [
            "with nativeSidecar: false the daemon keeps running after the build, so "
            f"this {kind} never completes"
        ]
    return []


def summary(config: Config, names: list[str], again: bool) -> str:
    clients_named = ", ".join(repr(n) for n in names)
    verb = "updated the" if again else "added a"
    where = "native sidecar" if config.native_sidecar else "sidecar container"
    return f"{verb} Docker-in-Docker {where} {config.sidecar_name!r} for {clients_named}"


def owns(config: Config, resource: dict[str, Any]) -> bool:
    return False


def finish(config: Config, wired: Wired, noticed: list[tuple[int, dict[str, Any]]]) -> Outcome:
    """Once per run: the Pod Security warning for the namespaces of privileged daemons
    that do not admit them yet."""
    out = Outcome({}, [], [])
    namespaces = podsecurity.unlabelled(wired.namespaces, noticed)
    how = (
        "runs privileged"
        if dockerd.privileged(config)
        else "runs with seccomp and AppArmor unconfined"
        if config.rootless
        else ""
    )
    # An explicit `privileged: true` says the namespaces are ready for it.
    if namespaces and config.privileged is not True and how:
        out.results.append(
            Result(
                f"Pod Security: the Docker daemon {how}, which levels baseline and "
                "restricted forbid; label these namespaces "
                f"pod-security.kubernetes.io/enforce=privileged: {podsecurity.places(namespaces)}",
                "warning",
                field="privileged",
            )
        )
    return out
