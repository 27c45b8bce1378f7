"""The node daemon: one dockerd per node, run by a DaemonSet, reached through a hostPath.

Unlike the seed recipe, the daemon never touches the node's own /var/run or
/var/lib/docker: its socket, data root, exec root and pidfile are its own, and
it listens on TCP only with TLS (or by explicit opt-in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.krm import results
from function.krm.results import PATH_ANNOTATIONS, Result
from function.kube import containers, oldwiring, podspecs
from function.kube.containers import command_line, containers_of
from function.kube.metadata import annotations_of, metadata_of, name_of
from function.kube.podspecs import RUN_TO_COMPLETION_KINDS
from function.kube.record import GENERATED_ANNOTATION, Record, is_generated
from function.plaindata import listing, mapping, same
from function.transform import clients, dockerd, podsecurity
from function.transform.migrate import Carried
from function.transform.outcome import Note, Outcome, Wired, Wiring

if TYPE_CHECKING:
    from function.config.model import Config

_NONE = Carried([], [], [], None, None)
NODE_IP_VARIABLE = "DOCKER_NODE_IP"
CONTAINER_NAME = "dockerd"
HARD_CODED_SOCKET = "/var/run/docker.sock"
EXEC_ROOT = "/run/inject-docker/exec"
PIDFILE = "/run/inject-docker/docker.pid"
# Annotations of an existing resource that tools use to track it; a regenerated
# resource keeps them.
_TRACKING_PREFIXES = ("config.kubernetes.io/", "internal.config.kubernetes.io/")
_TRACKING_KEYS = ("config.k8s.io/id", "kustomize.config.k8s.io/id")


def _names(config: Config) -> dict[str, str]:
    base = config.daemonset.name
    if config.transport == "tcp":
        return {}
    names = {"socket": f"{base}-socket"}
    if config.daemonset.mount_socket_file and config.transport == "unix":
        names["file"] = f"{base}-socket-file"
    if config.transport == "tls":
        names = {"certs": f"{base}-certs"}
    return names


def _certs_dir(config: Config) -> str:
    return f"{config.daemonset.host_socket_dir}/certs"


def _port(config: Config) -> int:
    return dockerd.TLS_PORT if config.transport == "tls" else dockerd.TCP_PORT


def _node_ip() -> dict[str, Any]:
    return {"name": NODE_IP_VARIABLE, "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}


def _client_env(config: Config) -> list[dict[str, Any]]:
    if config.transport == "unix":
        host = {
            "name": "DOCKER_HOST",
            "value": dockerd.socket_url(config.daemonset.host_socket_dir),
        }
        # The DaemonSet mounts the socket folder at the same path as the clients.
        tc = dockerd.testcontainers_socket(config.daemonset.host_socket_dir)
        return [host, *(tc if config.testcontainers else [])]
    # $(DOCKER_NODE_IP) is expanded by the kubelet from the variable defined first.
    address = {"name": "DOCKER_HOST", "value": f"tcp://$({NODE_IP_VARIABLE}):{_port(config)}"}
    if config.transport == "tcp":
        return [_node_ip(), address]
    return [
        _node_ip(),
        address,
        {"name": "DOCKER_TLS_VERIFY", "value": "1"},
        {"name": "DOCKER_CERT_PATH", "value": dockerd.CLIENT_CERTS_DIR},
    ]


def _client_volumes(config: Config) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pod volumes, client mounts): hostPaths of the node daemon's socket or certificates."""
    names = _names(config)
    ds = config.daemonset
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if "socket" in names:
        volumes.append(
            {"name": names["socket"], "hostPath": {"path": ds.host_socket_dir, "type": "Directory"}}
        )
        mounts.append({"name": names["socket"], "mountPath": ds.host_socket_dir})
    if "file" in names:
        socket = f"{ds.host_socket_dir}/{dockerd.SOCKET_NAME}"
        volumes.append({"name": names["file"], "hostPath": {"path": socket, "type": "Socket"}})
        mounts.append({"name": names["file"], "mountPath": HARD_CODED_SOCKET})
    if "certs" in names:
        client_certs = f"{_certs_dir(config)}/client"
        volumes.append(
            {"name": names["certs"], "hostPath": {"path": client_certs, "type": "Directory"}}
        )
        mounts.append(
            {"name": names["certs"], "mountPath": dockerd.CLIENT_CERTS_DIR, "readOnly": True}
        )
    return volumes, mounts


def wire(
    config: Config,
    spec: dict[str, Any],
    client_names: list[str],
    previous: dict[str, Any] | None,
    carried: Carried,
    min_api: str | None,
) -> Wiring:
    """Connect the clients in `spec` to the node daemon; nothing privileged is added.

    `previous` (the daemon container an earlier sidecar run added) has no use here;
    nor has `min_api` (the DaemonSet takes the oldest of all its clients). Settings
    carried from a replaced daemon cannot go to the daemon every node shares.
    """
    volumes, mounts = _client_volumes(config)
    problems = [
        f"a volume named {v['name']!r} already exists"
        for v in volumes
        if v["name"] in containers.volume_names(spec)
    ]
    for container in containers.named(spec, client_names):
        taken = containers.mount_paths(container)
        problems += [
            f"container {container.get('name')!r} already mounts a volume at {m['mountPath']}"
            for m in mounts
            if m["mountPath"] in taken
        ]
    selector = mapping(spec.get("nodeSelector"))
    for key, value in config.daemonset.node_selector.items():
        if key in selector and selector[key] != value:
            problems.append(
                f"nodeSelector {key}={selector[key]} differs from the daemon's {key}={value}"
            )
    if problems:
        return Wiring(None, [("error", p + "; left unchanged", None) for p in problems])

    record = Record(mode="daemonset", volumes=[v["name"] for v in volumes])
    notes: list[Note] = clients.connect(
        spec, containers.named(spec, client_names), _client_env(config), mounts, record
    )
    containers.append(spec, "volumes", volumes)
    if config.transport == "unix":
        notes += clients.add_socket_group(spec, str(config.socket_group), _NONE, record)
    lost = [*carried.args, *(str(e.get("name")) for e in carried.env)]
    lost += [f"the mount at {m.get('mountPath')}" for m in carried.mounts]
    if carried.group is not None:
        lost.append(f"--group={carried.group}")
    if lost:
        notes.append(
            (
                "warning",
                "the node daemon, which every node's workloads share, takes its settings from "
                f"the config only; not carried over from the replaced daemon: {', '.join(lost)}",
                None,
            )
        )
    added = {k: v for k, v in config.daemonset.node_selector.items() if k not in selector}
    if added:
        spec["nodeSelector"] = {**selector, **added}
        record.pod["nodeSelector"] = added
    if config.daemonset.node_selector and config.daemonset.tolerations:
        # The clients go where the daemon runs, so they must bear the same taints.
        present = listing(spec.get("tolerations"))
        missing = [t for t in config.daemonset.tolerations if t not in present]
        if missing:
            spec["tolerations"] = [*present, *missing]
            record.pod["tolerations"] = missing
    return Wiring(record, notes)


# --- the DaemonSet itself ------------------------------------------------------


def _labels(config: Config) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": config.daemonset.name,
        "app.kubernetes.io/component": "docker-daemon",
    }


def generate(config: Config, min_api: str | None = None) -> dict[str, Any]:
    """The DaemonSet that serves the workloads wired by `wire`."""
    ds = config.daemonset
    path = ds.path
    meta: dict[str, Any] = {"name": ds.name}
    if ds.namespace:
        meta["namespace"] = ds.namespace
    meta["labels"] = {**_labels(config), "app.kubernetes.io/managed-by": "inject-docker"}
    meta["annotations"] = {
        PATH_ANNOTATIONS[0]: path,
        PATH_ANNOTATIONS[1]: path,
        GENERATED_ANNOTATION: "true",
    }
    pod: dict[str, Any] = {}
    if ds.node_selector:
        pod["nodeSelector"] = dict(ds.node_selector)
    if ds.tolerations:
        pod["tolerations"] = [dict(t) for t in ds.tolerations]
    if ds.priority_class_name:
        pod["priorityClassName"] = ds.priority_class_name
    if config.runtime_class_name:
        pod["runtimeClassName"] = config.runtime_class_name
    pod["containers"] = [_daemon(config, min_api), *_pruner(config)]
    pod["volumes"] = _daemon_volumes(config)
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app.kubernetes.io/name": ds.name}}}
    if ds.update_strategy:
        spec["updateStrategy"] = dict(ds.update_strategy)
    spec["template"] = {"metadata": {"labels": _labels(config)}, "spec": pod}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta, "spec": spec}


def _daemon(config: Config, min_api: str | None) -> dict[str, Any]:
    ds = config.daemonset
    group = str(config.socket_group) if config.transport == "unix" else None
    args = dockerd.args(config, ds.host_socket_dir, data_root=ds.host_data_root, group=group)
    if config.transport == "tcp":
        # On the node's port: reachable from the pod network, hence the warning.
        args = [a.replace("tcp://127.0.0.1:", "tcp://0.0.0.0:") for a in args]
    # The exec root and pidfile stay in the container's own filesystem, apart from
    # the socket folder the clients mount (in the dind image /var/run is /run).
    args += [f"--exec-root={EXEC_ROOT}", f"--pidfile={PIDFILE}"]
    container: dict[str, Any] = {"name": CONTAINER_NAME, "image": config.image}
    if config.image_pull_policy:
        container["imagePullPolicy"] = config.image_pull_policy
    wrapper = dockerd.command(config)
    if wrapper:
        container["command"] = wrapper
    container["args"] = args
    env = dockerd.env(config, ds.host_socket_dir, min_api)
    if config.transport == "tls":
        # The server certificate must name the node address the clients dial.
        env = [_node_ip(), *env, {"name": "DOCKER_TLS_SAN", "value": f"IP:$({NODE_IP_VARIABLE})"}]
    if env:
        container["env"] = env
    if config.transport != "unix":
        container["ports"] = [
            {
                "name": "docker",
                "containerPort": _port(config),
                "hostPort": _port(config),
                "protocol": "TCP",
            }
        ]
    container["securityContext"] = {"privileged": dockerd.privileged(config)}
    container["readinessProbe"] = {
        "exec": {"command": ["docker", "--host", dockerd.socket_url(ds.host_socket_dir), "info"]},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
    }
    if config.resources:
        container["resources"] = config.resources
    mounts = [
        {"name": "socket", "mountPath": ds.host_socket_dir},
        {"name": "data", "mountPath": ds.host_data_root},
    ]
    if config.transport == "tls":
        mounts.append({"name": "certs", "mountPath": dockerd.CERTS_DIR})
    container["volumeMounts"] = mounts
    return container


# Prune the node daemon's disk between two watermarks: first the build cache and
# images unused for a day, then anything unused, until the disk is below `low`.
_PRUNE_SCRIPT = """\
# inject-docker: prune the node daemon's images and build cache when its disk fills
used() { df -P "$DATA_ROOT" | awk 'NR == 2 { sub("%", "", $5); print $5 }'; }
while sleep "$INTERVAL"; do
  [ "$(used)" -ge "$HIGH" ] || continue
  for step in "builder prune -af --filter until=24h" "image prune -af --filter until=24h" \\
      "system prune -af"; do
    [ "$(used)" -ge "$LOW" ] || break
    docker $step >/dev/null && echo "inject-docker: docker $step: disk now $(used)% full"
  done
done
"""


def _pruner(config: Config) -> list[dict[str, Any]]:
    """The container that keeps the node daemon's disk from filling, if any."""
    ds = config.daemonset
    prune = ds.prune
    if prune is None or config.transport != "unix":
        return []
    settings = {
        "DOCKER_HOST": dockerd.socket_url(ds.host_socket_dir),
        "DATA_ROOT": ds.host_data_root,
        "HIGH": str(prune.high),
        "LOW": str(prune.low),
        "INTERVAL": str(prune.interval),
    }
    return [
        {
            "name": "prune",
            "image": config.image,
            "command": ["/bin/sh", "-c", _PRUNE_SCRIPT],
            "env": [{"name": k, "value": v} for k, v in settings.items()],
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
            "volumeMounts": [
                {"name": "socket", "mountPath": ds.host_socket_dir},
                {"name": "data", "mountPath": ds.host_data_root, "readOnly": True},
            ],
        }
    ]


def _daemon_volumes(config: Config) -> list[dict[str, Any]]:
    ds = config.daemonset
    volumes = [
        {"name": "socket", "hostPath": {"path": ds.host_socket_dir, "type": "DirectoryOrCreate"}},
        {"name": "data", "hostPath": {"path": ds.host_data_root, "type": "DirectoryOrCreate"}},
    ]
    if config.transport == "tls":
        volumes.append(
            {"name": "certs", "hostPath": {"path": _certs_dir(config), "type": "DirectoryOrCreate"}}
        )
    return volumes


def namespace_resource(config: Config) -> dict[str, Any]:
    """The daemon's Namespace, labelled so Pod Security admits a privileged pod."""
    name = str(config.daemonset.namespace)
    path = f"{name}-namespace.yaml"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/audit": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
            },
            "annotations": {
                PATH_ANNOTATIONS[0]: path,
                PATH_ANNOTATIONS[1]: path,
                GENERATED_ANNOTATION: "true",
            },
        },
    }


def regenerate(existing: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """`fresh`, keeping the tracking annotations the tools put on `existing`."""
    old = annotations_of(existing)
    kept = {k: v for k, v in old.items() if k.startswith(_TRACKING_PREFIXES) or k in _TRACKING_KEYS}
    path = next((old[k] for k in PATH_ANNOTATIONS if k in old), None)
    wanted = fresh["metadata"]["annotations"]
    if path is not None:  # wherever the file went, both annotations name it
        kept.update({k: path for k in PATH_ANNOTATIONS})
    else:
        # Written without them (standalone mode leaves them out): no file to name.
        wanted = {k: v for k, v in wanted.items() if k not in PATH_ANNOTATIONS}
    fresh["metadata"]["annotations"] = {
        **kept,
        **{k: v for k, v in wanted.items() if k not in kept},
    }
    return fresh


def serves(config: Config, resource: dict[str, Any]) -> bool:
    """Whether a hand-written DaemonSet runs a daemon where the workloads will look for it."""
    spec = podspecs.pod_spec(resource)
    if spec is None:
        return False
    containers = containers_of(spec)
    if config.transport != "unix":
        return any(
            isinstance(p, dict) and p.get("hostPort") == _port(config)
            for c in containers
            for p in c.get("ports") or []
        )
    socket_dir = config.daemonset.host_socket_dir
    if not oldwiring.host_volumes(spec, (socket_dir,)):
        return False
    url = dockerd.socket_url(socket_dir)
    return any(url in " ".join(command_line(c)) for c in containers)


# --- what the driver asks of a mode (see `modes`) -------------------------------------

# An earlier run's DaemonSet and Namespace, or a DaemonSet of the same name, may be in the list.
LIST_KINDS = frozenset({"DaemonSet", "Namespace"})


def hard_coded_hint(config: Config) -> str | None:
    return None if config.daemonset.mount_socket_file else "daemonset.mountSocketFile: true"


def client_socket(config: Config) -> str | None:
    if config.transport != "unix":
        return None
    if config.daemonset.mount_socket_file:
        return HARD_CODED_SOCKET
    return dockerd.socket_path(config.daemonset.host_socket_dir)


def client_notes(
    config: Config, spec: dict[str, Any], names: list[str], kind: str
) -> list[tuple[str, str]]:
    """(message, field) warnings about a client of the node daemon."""
    notes = []
    if config.daemonset.mount_socket_file and kind not in RUN_TO_COMPLETION_KINDS:
        notes.append(
            (
                "the socket file mounted at /var/run/docker.sock goes stale when the node "
                f"daemon restarts; this {kind} then loses Docker until its pod restarts",
                "volumes",
            )
        )
    return notes


def changed_notes(config: Config, kind: str) -> list[str]:
    return []


def summary(config: Config, names: list[str], again: bool) -> str:
    clients_named = ", ".join(repr(n) for n in names)
    what = (
        f"connected {clients_named} to the node Docker daemon of DaemonSet "
        f"{config.daemonset.name!r}"
    )
    return ("re" + what) if again else what


def owns(config: Config, resource: dict[str, Any]) -> bool:
    """The DaemonSet (or Namespace) this config's node daemon lives in, by name."""
    if resource.get("kind") not in LIST_KINDS:
        return False
    ds = config.daemonset
    if resource.get("kind") == "Namespace":
        return ds.emit_namespace and ds.namespace is not None and name_of(resource) == ds.namespace
    return (
        podspecs.is_workload(str(resource.get("apiVersion", "")), "DaemonSet")
        and name_of(resource) == ds.name
        and (metadata_of(resource).get("namespace") or None) == ds.namespace
    )


def finish(config: Config, wired: Wired, noticed: list[tuple[int, dict[str, Any]]]) -> Outcome:
    """Once per run: emit, update or check the DaemonSet (and Namespace), and warn."""
    found: dict[str, tuple[int, dict[str, Any]]] = {}  # an earlier run's DaemonSet / Namespace
    namesakes: list[dict[str, Any]] = []  # DaemonSets of the same name elsewhere
    for index, resource in noticed:
        if owns(config, resource):
            found[str(resource["kind"])] = (index, resource)
        elif resource.get("kind") == "DaemonSet" and name_of(resource) == config.daemonset.name:
            namesakes.append(resource)
    out = Outcome({}, [], [])
    _node_daemon(config, found, wired.min_api, out)
    namespaces = podsecurity.unlabelled(wired.namespaces, noticed)
    own = config.daemonset.namespace
    # The daemon's own namespace needs the label too, unless the list shows it has it.
    own_admitted = own is not None and not podsecurity.unlabelled({own}, noticed)
    out.results.extend(_warnings(config, found, namesakes, namespaces, own_admitted))
    return out


def _node_daemon(
    config: Config, found: dict[str, tuple[int, dict[str, Any]]], min_api: str | None, out: Outcome
) -> None:
    """Emit, update or check the DaemonSet (and Namespace) the workloads rely on."""
    wanted = [("DaemonSet", generate(config, min_api))]
    ds = config.daemonset
    if ds.emit_namespace and ds.namespace:
        wanted.append(("Namespace", namespace_resource(config)))
    for kind, fresh in wanted:
        if kind not in found:
            out.added.append(fresh)
            out.results.append(
                results.about(fresh, f"generated {kind} {fresh['metadata']['name']!r}")
            )
            continue
        index, existing = found[kind]
        if is_generated(existing):
            new = regenerate(existing, fresh)
            if not same(existing, new):
                out.changed[index] = new
                out.results.append(results.about(existing, f"updated the generated {kind}"))
        elif kind == "DaemonSet" and not serves(config, existing):
            out.results.append(
                results.about(
                    existing,
                    "this hand-written DaemonSet was left alone, but it does not serve the "
                    f"socket the workloads now use ({dockerd.socket_url(ds.host_socket_dir)}); "
                    "delete it to let inject-docker generate one, or choose another "
                    "daemonset.name",
                    "warning",
                )
            )
        elif kind == "DaemonSet" and config.transport == "unix":
            out.results.extend(_group_warnings(config, existing))


def _group_warnings(config: Config, existing: dict[str, Any]) -> list[Result]:
    """A hand-written daemon that serves the socket must give it the group the clients
    are given (supplementalGroups), or only root clients can use it."""
    spec = podspecs.pod_spec(existing) or {}
    words = [w for c in containers_of(spec) for w in command_line(c)]
    groups = [
        w.split("=", 1)[1] if "=" in w else (words[i + 1] if i + 1 < len(words) else "")
        for i, w in enumerate(words)
        if w.split("=", 1)[0] in ("--group", "-G")
    ]
    wanted = str(config.socket_group)
    if wanted in groups or any(g.startswith("$(") for g in groups):
        return []
    what = (
        f"its dockerd gives the socket group {groups[0]}"
        if groups
        else ("its dockerd gives the socket no group (no --group), so it is root's alone")
    )
    return [
        results.about(
            existing,
            f"this hand-written DaemonSet serves the socket, but {what}: clients that run "
            f"as another user than root cannot use it; add --group={wanted} to its dockerd "
            f"(the clients are given supplementalGroups [{wanted}])",
            "warning",
        )
    ]


def _warnings(
    config: Config,
    found: dict[str, tuple[int, dict[str, Any]]],
    namesakes: list[dict[str, Any]],
    client_namespaces: set[str],
    own_admitted: bool,
) -> list[Result]:
    """What a user of the node daemon must know, once per run."""
    ds = config.daemonset
    out = [
        Result(
            "daemonset mode: every pod that reaches the node daemon can run, stop and read "
            "any container and image of that daemon, other jobs' included, and through it "
            "control the node; use it for a single-tenant build pool",
            "warning",
            field="mode",
        )
    ]
    places = []
    if not ds.emit_namespace and not own_admitted:
        places.append(f"{ds.namespace!r} (the DaemonSet's)" if ds.namespace else "the DaemonSet's")
    if client_namespaces - {ds.namespace}:
        places.append(podsecurity.places(client_namespaces - {ds.namespace}))
    if places:
        out.append(
            Result(
                "Pod Security: the node daemon runs privileged and its clients mount a hostPath, "
                "both of which levels baseline and restricted forbid; label these namespaces "
                f"pod-security.kubernetes.io/enforce=privileged: {', '.join(places)}",
                "warning",
                field="daemonset.namespace",
            )
        )
    for other in namesakes:
        where = metadata_of(other).get("namespace") or "no namespace"
        out.append(
            results.about(
                other,
                f"a DaemonSet named {ds.name!r} also exists in {where}; with a kustomize "
                "`namespace:` the two would clash: set daemonset.namespace or daemonset.name",
                "warning",
            )
        )
    if "Namespace" in found and not is_generated(found["Namespace"][1]):
        existing = found["Namespace"][1]
        labels = metadata_of(existing).get("labels") or {}
        if labels.get("pod-security.kubernetes.io/enforce", "privileged") != "privileged":
            out.append(
                results.about(
                    existing,
                    "this Namespace enforces Pod Security level "
                    f"{labels['pod-security.kubernetes.io/enforce']!r}, which rejects the "
                    "privileged node daemon",
                    "warning",
                )
            )
    return out
