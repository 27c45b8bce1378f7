"""The transformation itself: resources in, changed resources and results out.

No I/O here. The caller reads only the items whose kind `kinds_to_read` names
and passes them in as plain data; everything else passes through unread.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from function import audit, daemonset, dockerd, marker, migrate, podspecs, results, sidecar
from function import clients as clientlib
from function.podspecs import RUN_TO_COMPLETION_KINDS, WORKLOAD_KINDS
from function.results import Result
from function.selection import (
    INJECT_ANNOTATION,
    MODE_ANNOTATION,
    annotations_of,
    candidate_kinds,
    is_selected,
    opted_out,
)
from function.textpatch import same
from function.wiring import Wiring

if TYPE_CHECKING:
    from function.config import Config

MODES = ("sidecar", "daemonset")


class Outcome(NamedTuple):
    changed: dict[int, dict[str, Any]]  # item index -> new value
    added: list[dict[str, Any]]  # resources to append
    results: list[Result]


def kinds_to_read(config: Config) -> frozenset[str]:
    """Kinds worth reading at all: everything else passes through unread."""
    if config.mode == "audit":
        return WORKLOAD_KINDS
    # DaemonSet and Namespace: an earlier run's generated daemon may be in the list.
    return candidate_kinds(config) | {"DaemonSet", "Namespace"}


def copy(value: Any) -> Any:
    """Deep copy of plain YAML data (much faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) for v in value]
    return value


def config_results(config: Config) -> list[Result]:
    """Warnings about the config itself, given once per run."""
    out = []
    if dockerd.floating_tag(config.image):
        out.append(
            Result(
                f"image {config.image!r} has no full version tag: a floating tag such as "
                "`dind` or `latest` changes the daemon under you; pin one such as "
                "`docker:29.8.0-dind`",
                "warning",
                field="image",
            )
        )
    if config.transport == "tcp":
        out.append(
            Result(
                "transport tcp: the daemon listens without authentication (sidecar: on "
                "127.0.0.1:2375, for every container in the pod; daemonset: on port 2375 "
                "of the node, for anyone who can reach it)",
                "warning",
                field="transport",
            )
        )
    for i, selector in enumerate(config.selectors):
        if selector.kind and selector.kind not in WORKLOAD_KINDS:
            out.append(
                Result(
                    f"selector kind {selector.kind!r}: inject-docker knows where the pod spec "
                    "is only in Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, "
                    "ReplicaSet, ReplicationController, Job and CronJob; it changes nothing here",
                    "warning",
                    field=f"selectors[{i}].kind",
                )
            )
    return out


class Step(NamedTuple):
    """What one item contributes to the outcome (see `step`)."""

    index: int
    results: list[Result]
    mode: str | None  # the mode the workload was wired for; None: not wired
    namespace: str  # the workload's namespace, "" when it sets none
    new: dict[str, Any] | None  # the wired workload, when it differs from the input
    found: dict[str, Any] | None = None  # a DaemonSet or Namespace an earlier run made
    namesake: dict[str, Any] | None = None  # a DaemonSet with the daemon's name elsewhere


def transform(config: Config, items: Iterable[tuple[int, dict[str, Any]]]) -> Outcome:
    if config.mode == "audit":
        return Outcome({}, [], audit.audit(config, items))
    return combine(config, [step(config, index, resource) for index, resource in items])


# DaemonSets and Namespaces: an item of these kinds may be one that `combine` needs whole.
WHOLE_KINDS = frozenset({"DaemonSet", "Namespace"})


def step(config: Config, index: int, resource: dict[str, Any]) -> Step:
    """The work on one item, which depends on no other item (not for mode audit)."""
    if not isinstance(resource.get("metadata") or {}, dict):
        problem = "metadata is not a mapping; left unchanged"
        return Step(index, [results.about(resource, problem, "error", "metadata")], None, "", None)
    try:
        return _step(config, index, resource)
    except Exception as error:  # a bug must cost one item, not the whole list
        return Step(index, [_bug(resource, error)], None, "", None)


def _bug(resource: dict[str, Any], error: Exception) -> Result:
    return results.about(
        resource,
        f"could not be changed ({type(error).__name__}: {error}); left unchanged. "
        "This is a bug in inject-docker: please report it with this resource",
        "error",
    )


def _step(config: Config, index: int, resource: dict[str, Any]) -> Step:
    kind = resource.get("kind")
    if kind in WHOLE_KINDS and _is_ours_by_name(config, resource):
        return Step(index, [], None, "", None, found=resource)
    namesake = (
        resource
        if kind == "DaemonSet"
        and (resource.get("metadata") or {}).get("name") == config.daemonset.name
        else None
    )
    if not is_selected(config, resource) or daemonset.is_generated(resource):
        notes = []
        if opted_out(resource) and is_selected(config, resource, honour_opt_out=False):
            notes.append(
                results.about(resource, f'skipped: annotated {INJECT_ANNOTATION}: "false"')
            )
        return Step(index, notes, None, "", None, namesake=namesake)
    mode = _mode(config, resource)
    if mode not in MODES:
        error = results.about(
            resource,
            f"annotation {MODE_ANNOTATION} is {mode!r}; expected sidecar or daemonset",
            "error",
            f"metadata.annotations[{MODE_ANNOTATION}]",
        )
        return Step(index, [error], None, "", None, namesake=namesake)
    try:
        new, notes = _inject(config, resource, mode)
    except Exception as error:  # a bug must cost one workload, not the whole list
        return Step(index, [_bug(resource, error)], None, "", None, namesake=namesake)
    if new is None:
        return Step(index, notes, None, "", None, namesake=namesake)
    namespace = str((resource.get("metadata") or {}).get("namespace") or "")
    changed = None if same(resource, new) else new
    return Step(index, notes, mode, namespace, changed, namesake=namesake)


def combine(config: Config, steps: Iterable[Step]) -> Outcome:
    """The outcome of the steps of every item read, taken in the order of the items."""
    outcome = Outcome({}, [], config_results(config))
    found: dict[str, tuple[int, dict[str, Any]]] = {}  # existing DaemonSet / Namespace
    namesakes: list[dict[str, Any]] = []  # DaemonSets of the same name in other namespaces
    client_namespaces: set[str] = set()
    sidecar_namespaces: set[str] = set()
    for one in sorted(steps, key=lambda s: s.index):
        if one.found is not None:
            found[str(one.found["kind"])] = (one.index, one.found)
            continue
        if one.namesake is not None:
            namesakes.append(one.namesake)
        outcome.results.extend(one.results)
        if one.mode == "daemonset":
            client_namespaces.add(one.namespace)
        elif one.mode == "sidecar":
            sidecar_namespaces.add(one.namespace)
        if one.new is not None:
            outcome.changed[one.index] = one.new
    if client_namespaces:
        _node_daemon(config, found, outcome)
        outcome.results.extend(_node_daemon_warnings(config, found, namesakes, client_namespaces))
    # An explicit `privileged: true` says the namespaces are ready for it.
    if sidecar_namespaces and config.privileged is None and dockerd.privileged(config):
        outcome.results.append(
            Result(
                "Pod Security: the Docker daemon runs privileged, which levels baseline and "
                "restricted forbid; label these namespaces "
                f"pod-security.kubernetes.io/enforce=privileged: {_places(sidecar_namespaces)}",
                "warning",
                field="privileged",
            )
        )
    return outcome


def _places(namespaces: set[str]) -> str:
    named = [repr(n) for n in sorted(namespaces) if n]
    return ", ".join(named + (["that of the workloads which set none"] if "" in namespaces else []))


def _mode(config: Config, resource: dict[str, Any]) -> str:
    return str(annotations_of(resource).get(MODE_ANNOTATION, config.mode)).strip()


def _is_ours_by_name(config: Config, resource: dict[str, Any]) -> bool:
    meta = resource.get("metadata") if isinstance(resource.get("metadata"), dict) else {}
    ds = config.daemonset
    if resource.get("kind") == "Namespace":
        return ds.emit_namespace and ds.namespace is not None and meta.get("name") == ds.namespace
    return (
        podspecs.is_workload(str(resource.get("apiVersion", "")), "DaemonSet")
        and meta.get("name") == ds.name
        and (meta.get("namespace") or None) == ds.namespace
    )


def _inject(
    config: Config, resource: dict[str, Any], mode: str
) -> tuple[dict[str, Any] | None, list[Result]]:
    """The workload wired for `mode` (None: left as it is) and the results about it."""
    kind = str(resource["kind"])
    new = copy(resource)
    spec = podspecs.pod_spec(new)
    if spec is None:
        return None, [results.about(resource, "has no pod spec to change", "warning")]
    malformed = podspecs.shape_problems(spec)
    if malformed:
        return None, [
            results.about(
                resource, f"{problem}; left unchanged", "error", podspecs.field_path(kind, where)
            )
            for problem, where in malformed
        ]
    previous = marker.read(new)
    previous_daemon = None
    if previous is not None:
        previous_daemon = next(
            (c for c in marker.containers_of(spec) if c.get("name") in previous.containers), None
        )
        marker.undo(spec, previous)
    moved = migrate.migrate(spec, _hard_coded_hint(config, mode))
    chosen = clientlib.choose(config, new, spec)
    names, migrated = _client_names(chosen, moved, previous, spec)
    notes = [
        results.about(
            resource,
            f"container {name!r} is named as a Docker client but the pod has no such container",
            "warning",
        )
        for name in chosen.missing
    ]
    # A client that points DOCKER_HOST elsewhere (a remote builder, say) keeps it.
    elsewhere = [n for n in names if "DOCKER_HOST" in clientlib.env_names(_container(spec, n))]
    notes += [
        results.about(
            resource,
            f"container {n!r} sets DOCKER_HOST itself, so it will not use the new daemon; "
            "remove that variable to use it",
            "warning",
            podspecs.field_path(kind, f"{clientlib.locate(spec, n)}.env"),
        )
        for n in elsewhere
    ]
    if not names or names == elsewhere:
        why = "every client has a daemon of its own" if names else "no container to give Docker to"
        notes.append(results.about(resource, f"{why}; left unchanged", "warning"))
        return None, notes
    names = [n for n in names if n not in elsewhere]
    notes += [
        results.about(resource, message, "warning", podspecs.field_path(kind, where))
        for message, where in _client_warnings(config, spec, names, kind, mode)
    ]
    wiring: Wiring = (
        sidecar.wire(config, spec, names, previous_daemon)
        if mode == "sidecar"
        else daemonset.wire(config, spec, names)
    )
    notes += [
        results.about(resource, message, severity, podspecs.field_path(kind, f) if f else None)
        for severity, message, f in [*moved.notes, *wiring.notes]
        if wiring.record is not None or severity != "info"
    ]
    if wiring.record is None:
        return None, notes
    wiring.record.migrated = migrated
    marker.write(new, wiring.record)
    if same(resource, new):
        return new, notes
    notes.append(results.about(resource, _summary(config, mode, names, previous)))
    if mode == "sidecar" and not config.native_sidecar and kind in RUN_TO_COMPLETION_KINDS:
        notes.append(
            results.about(
                resource,
                "with nativeSidecar: false the daemon keeps running after the build, so "
                f"this {kind} never completes",
                "warning",
            )
        )
    return new, notes


def _client_names(
    chosen: clientlib.Clients,
    moved: migrate.Migration,
    previous: marker.Record | None,
    spec: dict[str, Any],
) -> tuple[list[str], bool]:
    """The containers to wire (those asked for, or those a migration found), and which."""
    migrated = not chosen.explicit and bool(
        moved.clients or (previous is not None and previous.migrated)
    )
    if migrated:
        # Only the containers that used the old daemon get the new one, on reruns too.
        old = moved.clients or (previous.clients if previous is not None else [])
        return [n for n in old if n in chosen.names or clientlib.is_init(spec, n)], True
    return chosen.names + [n for n in moved.clients if n not in chosen.names], False


def _client_warnings(
    config: Config, spec: dict[str, Any], names: list[str], kind: str, mode: str
) -> list[tuple[str, str]]:
    """(message, field in the pod spec) for what the clients carry that will not work."""
    out = []
    for container in clientlib.named(spec, names):
        name = str(container.get("name"))
        where = str(clientlib.locate(spec, name))
        if clientlib.old_cli(str(container.get("image", ""))):
            out.append(
                (
                    f"container {name!r} runs an old docker CLI: Docker 29 accepts clients of "
                    "API 1.44 (Docker 25) and newer; use an image such as docker:29.8.0-cli",
                    f"{where}.image",
                )
            )
        tls = clientlib.env_names(container) & {"DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"}
        if tls and config.transport != "tls":
            out.append(
                (
                    f"container {name!r} sets {', '.join(sorted(tls))}, but the daemon is "
                    "reached without TLS: the docker CLI would look for certificates and fail; "
                    "remove them",
                    f"{where}.env",
                )
            )
    if mode == "daemonset":
        out += _node_daemon_client_notes(config, spec, names, kind)
    return out


def _hard_coded_hint(config: Config, mode: str) -> str | None:
    """The option for tools that ignore DOCKER_HOST, unless it is already on."""
    if mode == "sidecar":
        return None if config.mount_socket_at_var_run else "mountSocketAtVarRun: true"
    return None if config.daemonset.mount_socket_file else "daemonset.mountSocketFile: true"


def _node_daemon_client_notes(
    config: Config, spec: dict[str, Any], names: list[str], kind: str
) -> list[tuple[str, str]]:
    """(message, field) warnings about a client of the node daemon."""
    notes = []
    pod = spec.get("securityContext") if isinstance(spec.get("securityContext"), dict) else {}
    for container in clientlib.named(spec, names):
        own = container.get("securityContext")
        user = (own if isinstance(own, dict) else {}).get("runAsUser", pod.get("runAsUser"))
        if user not in (None, 0) and config.transport == "unix":
            notes.append(
                (
                    f"container {container.get('name')!r} runs as user {user}; the node "
                    "daemon's socket belongs to root and the dind image's docker group: add "
                    "that group to the pod's supplementalGroups",
                    str(clientlib.locate(spec, str(container.get("name")))),
                )
            )
    if config.daemonset.mount_socket_file and kind not in RUN_TO_COMPLETION_KINDS:
        notes.append(
            (
                "the socket file mounted at /var/run/docker.sock goes stale when the node "
                f"daemon restarts; this {kind} then loses Docker until its pod restarts",
                "volumes",
            )
        )
    return notes


def _container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in marker.containers_of(spec) if c.get("name") == name)


def _summary(config: Config, mode: str, names: list[str], previous: marker.Record | None) -> str:
    clients = ", ".join(repr(n) for n in names)
    if mode == "daemonset":
        what = (
            f"connected {clients} to the node Docker daemon of DaemonSet {config.daemonset.name!r}"
        )
        return ("re" + what) if previous is not None else what
    verb = "updated the" if previous is not None else "added a"
    where = "native sidecar" if config.native_sidecar else "sidecar container"
    return f"{verb} Docker-in-Docker {where} {config.sidecar_name!r} for {clients}"


def _node_daemon(
    config: Config, found: dict[str, tuple[int, dict[str, Any]]], outcome: Outcome
) -> None:
    """Emit, update or check the DaemonSet (and Namespace) the daemonset mode relies on."""
    wanted = [("DaemonSet", daemonset.generate(config))]
    ds = config.daemonset
    if ds.emit_namespace and ds.namespace:
        wanted.append(("Namespace", daemonset.namespace(config)))
    for kind, fresh in wanted:
        if kind not in found:
            outcome.added.append(fresh)
            outcome.results.append(
                results.about(fresh, f"generated {kind} {fresh['metadata']['name']!r}")
            )
            continue
        index, existing = found[kind]
        if daemonset.is_generated(existing):
            new = daemonset.regenerate(existing, fresh)
            if not same(existing, new):
                outcome.changed[index] = new
                outcome.results.append(results.about(existing, f"updated the generated {kind}"))
        elif kind == "DaemonSet" and not daemonset.serves(config, existing):
            outcome.results.append(
                results.about(
                    existing,
                    "this hand-written DaemonSet was left alone, but it does not serve the "
                    f"socket the workloads now use ({dockerd.socket_url(ds.host_socket_dir)}); "
                    "delete it to let inject-docker generate one, or choose another "
                    "daemonset.name",
                    "warning",
                )
            )


def _node_daemon_warnings(
    config: Config,
    found: dict[str, tuple[int, dict[str, Any]]],
    namesakes: list[dict[str, Any]],
    client_namespaces: set[str],
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
    if not ds.emit_namespace:
        places.append(f"{ds.namespace!r} (the DaemonSet's)" if ds.namespace else "the DaemonSet's")
    places.append(_places(client_namespaces - {ds.namespace}))
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
        where = (other.get("metadata") or {}).get("namespace") or "no namespace"
        out.append(
            results.about(
                other,
                f"a DaemonSet named {ds.name!r} also exists in {where}; with a kustomize "
                "`namespace:` the two would clash: set daemonset.namespace or daemonset.name",
                "warning",
            )
        )
    if "Namespace" in found and not daemonset.is_generated(found["Namespace"][1]):
        existing = found["Namespace"][1]
        labels = (existing.get("metadata") or {}).get("labels") or {}
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
