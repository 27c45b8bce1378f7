"""Wiring the selected workloads: resources in, changed resources and results out.

No I/O here. The caller reads only the items whose kind `kinds_to_read` names
and passes them in as plain data; everything else passes through unread. Each
item is one `step`, which depends on no other item; `combine` takes the steps
in item order and runs each mode's list-level work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from function.krm import results
from function.krm.results import Result, Severity
from function.kube import cikinds, containers, images, podspecs, record
from function.kube.metadata import annotations_of, namespace_of
from function.kube.podspecs import WORKLOAD_KINDS
from function.plaindata import copy, same
from function.transform import clients, dockerd, engines, mesh, migrate, runners
from function.transform.modes import LIST_KINDS, MODES, Mode
from function.transform.outcome import Outcome, Step, Wired
from function.transform.selection import (
    INJECT_ANNOTATION,
    MODE_ANNOTATION,
    candidate_kinds,
    is_selected,
    named_by_selector,
    node_agent,
    opted_out,
    template_path,
)

if TYPE_CHECKING:
    from function.config.model import Config


def kinds_to_read(config: Config) -> frozenset[str]:
    """Kinds worth reading at all: everything else passes through unread."""
    # The modes' own kinds too: an earlier run's generated daemon may be in the list.
    return candidate_kinds(config) | LIST_KINDS


def run(config: Config, items: Iterable[tuple[int, dict[str, Any]]]) -> Outcome:
    read = list(items)
    # Namespace items tell which meshes would capture the workloads in them.
    meshed = mesh.meshed_namespaces([resource for _, resource in read])
    return combine(config, [step(config, index, resource, meshed) for index, resource in read])


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
    if config.storage_driver == "vfs":
        out.append(
            Result(
                "storageDriver vfs copies every layer whole: builds are slow and the daemon's "
                "disk grows large; overlay2 works on an emptyDir on most nodes",
                "warning",
                field="storageDriver",
            )
        )
    if config.iptables == "off":
        out.append(
            Result(
                "iptables off: the daemon's containers get no NAT, so they reach nothing "
                "outside the pod (no pulls from inside `docker run`, no package installs in "
                "`docker build`), and published ports do not work",
                "warning",
                field="iptables",
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
        kind = selector.kind
        if kind and kind not in _KNOWN_KINDS and not selector.pod_template_path:
            out.append(
                Result(
                    f"selector kind {kind!r}: inject-docker does not know where this kind keeps "
                    "its pod template; give it with podTemplatePath, such as spec.template",
                    "warning",
                    field=f"selectors[{i}].kind",
                )
            )
    return out


# Kinds whose pods inject-docker finds without a podTemplatePath.
_KNOWN_KINDS = WORKLOAD_KINDS | cikinds.ENGINE_KINDS


def _engine_step(
    config: Config,
    index: int,
    resource: dict[str, Any],
    engine: str,
    mode: str,
    notes: list[Result],
) -> Step:
    """A CI engine's kind: its Task specs or templates wired in the engine's idiom."""
    if engine == "summerwind":
        return Step(index, [*notes, *runners.settings(resource)], None, "", None)
    if mode != "sidecar":
        notes.append(
            results.about(
                resource,
                f"mode {mode}: a {resource.get('kind')} is given Docker as a sidecar only (its "
                "pods are made by the engine, which sets no node selector for a node daemon); "
                "left unchanged; annotate it inject-docker.dev/mode: sidecar",
                "warning",
            )
        )
        return Step(index, notes, None, "", None)
    try:
        new, found = engines.inject(config, resource)
    except Exception as error:  # a bug must cost one resource, not the whole list
        return Step(index, [*notes, _bug(resource, error)], None, "", None)
    if new is None:
        return Step(index, [*notes, *found], None, "", None)
    changed = None if same(resource, new) else new
    return Step(index, [*notes, *found], "sidecar", namespace_of(resource), changed)


def step(
    config: Config,
    index: int,
    resource: dict[str, Any],
    meshed: dict[str, set[str]] | None = None,
) -> Step:
    """The work on one item, which depends on no other item but the Namespaces that
    ask for a mesh (`meshed`)."""
    if not isinstance(resource.get("metadata") or {}, dict):
        problem = "metadata is not a mapping; left unchanged"
        return Step(index, [results.about(resource, problem, "error", "metadata")], None, "", None)
    try:
        return _step(config, index, resource, meshed or {})
    except Exception as error:  # a bug must cost one item, not the whole list
        return Step(index, [_bug(resource, error)], None, "", None)


def _bug(resource: dict[str, Any], error: Exception) -> Result:
    return results.about(
        resource,
        f"could not be changed ({type(error).__name__}: {error}); left unchanged. "
        "This is a bug in inject-docker: please report it with this resource",
        "error",
    )


def _step(
    config: Config, index: int, resource: dict[str, Any], meshed: dict[str, set[str]]
) -> Step:
    noticed = resource if resource.get("kind") in LIST_KINDS else None
    if any(mode.owns(config, resource) for mode in MODES.values()):
        return Step(index, [], None, "", None, noticed)
    notes = _api_notes(resource)
    if not is_selected(config, resource) or record.is_generated(resource):
        if opted_out(resource) and is_selected(config, resource, honour_opt_out=False):
            notes.append(
                results.about(resource, f'skipped: annotated {INJECT_ANNOTATION}: "false"')
            )
        return Step(index, notes, None, "", None, noticed)
    agent = node_agent(resource)
    if agent and not named_by_selector(config, resource):
        notes.append(
            results.about(
                resource,
                f"looks like a node agent ({agent}): it is given no Docker daemon unless a "
                "selector names it by name",
                "warning",
            )
        )
        return Step(index, notes, None, "", None, noticed)
    name = str(annotations_of(resource).get(MODE_ANNOTATION, config.mode)).strip()
    mode = MODES.get(name)
    if mode is None:
        error = results.about(
            resource,
            f"annotation {MODE_ANNOTATION} is {name!r}; expected sidecar or daemonset",
            "error",
            f"metadata.annotations[{MODE_ANNOTATION}]",
        )
        return Step(index, [*notes, error], None, "", None, noticed)
    engine = cikinds.engine_of(resource)
    if engine is not None:
        return _engine_step(config, index, resource, engine, name, notes)
    try:
        done = _inject(config, resource, mode, meshed.get(namespace_of(resource), set()))
    except Exception as error:  # a bug must cost one workload, not the whole list
        return Step(index, [_bug(resource, error)], None, "", None, noticed)
    notes += done.notes
    if done.new is None:
        return Step(index, notes, None, "", None, noticed, unmatched=done.unmatched)
    changed = None if same(resource, done.new) else done.new
    return Step(
        index,
        notes,
        name,
        namespace_of(resource),
        changed,
        noticed,
        done.min_api,
        done.unmatched,
    )


def combine(config: Config, steps: Iterable[Step]) -> Outcome:
    """The outcome of the steps of every item read, taken in the order of the items."""
    outcome = Outcome({}, [], config_results(config))
    noticed: list[tuple[int, dict[str, Any]]] = []
    wired: dict[str, Wired] = {}
    considered = 0
    unmatched: dict[str, int] = {}
    for one in sorted(steps, key=lambda s: s.position):
        if one.noticed is not None:
            noticed.append((one.position, one.noticed))
        outcome.results.extend(one.results)
        if one.mode is not None:
            seen = wired.get(one.mode, Wired(set(), None))
            seen.namespaces.add(one.namespace)
            wired[one.mode] = seen._replace(min_api=images.oldest_api(seen.min_api, one.min_api))
        if one.mode is not None or one.unmatched:
            considered += 1
            for container in one.unmatched:
                unmatched[container] = unmatched.get(container, 0) + 1
        if one.new is not None:
            outcome.changed[one.position] = one.new
    # A name in `containers` that no workload has: said once, not once per workload.
    outcome.results.extend(
        Result(
            f"containers: no selected workload has a container named {name!r}",
            "warning",
            field="containers",
        )
        for name, count in unmatched.items()
        if count == considered
    )
    for name, mode in MODES.items():
        if name in wired:
            done = mode.finish(config, wired[name], noticed)
            outcome.changed.update(done.changed)
            outcome.added.extend(done.added)
            outcome.results.extend(done.results)
    return outcome


class _Injected(NamedTuple):
    new: dict[str, Any] | None  # the wired workload; None: left as it is
    notes: list[Result]
    min_api: str | None = None
    unmatched: tuple[str, ...] = ()


def _inject(config: Config, resource: dict[str, Any], mode: Mode, meshes: set[str]) -> _Injected:
    """The workload wired for `mode` (None: left as it is) and the results about it.
    `meshes`: those the workload's Namespace asks for."""
    kind = str(resource["kind"])
    new = copy(resource)
    path = template_path(config, resource)
    keys = podspecs.spec_keys(new, path) or ()
    spec = podspecs.pod_spec(new, path)
    if spec is None:
        return _Injected(None, [results.about(resource, "has no pod spec to change", "warning")])
    malformed = podspecs.shape_problems(spec)
    if malformed:
        return _Injected(
            None,
            [
                results.about(
                    resource,
                    f"{problem}; left unchanged",
                    "error",
                    podspecs.field_path(keys, where),
                )
                for problem, where in malformed
            ],
        )

    def about(message: str, severity: Severity = "info", where: str | None = None) -> Result:
        return results.about(
            resource, message, severity, podspecs.field_path(keys, where) if where else None
        )

    previous = record.read(new)
    previous_daemon = None
    if previous is not None:
        # The record names the daemon first, then what came with it.
        previous_daemon = next(
            (c for c in containers.containers_of(spec) if c.get("name") in previous.containers[:1]),
            None,
        )
        record.undo(spec, previous)
        _undo_annotations(new, keys, previous.annotations)
    moved = migrate.migrate(config, spec, kind, mode.hard_coded_hint(config))
    if moved.kept:
        return _Injected(None, [about(m, s, f) for s, m, f in moved.notes])
    carried = moved.carried
    if previous is not None and not any(carried) and previous.carried:
        carried = migrate.Carried(**{**carried._asdict(), **previous.carried})
    chosen = clients.choose(config, new, spec)
    names, migrated = _client_names(chosen, moved, previous, spec)
    notes = [
        about(
            f"container {n!r} is named as a Docker client but the pod has no such container",
            "warning",
        )
        for n in chosen.missing_named
    ]
    unmatched = tuple(chosen.missing_configured)
    # A client that points DOCKER_HOST elsewhere (a remote builder, say) keeps it.
    elsewhere = [n for n in names if "DOCKER_HOST" in containers.env_names(_container(spec, n))]
    notes += [
        about(
            f"container {n!r} sets DOCKER_HOST itself, so it will not use the new daemon; "
            "remove that variable to use it",
            "warning",
            f"{containers.locate(spec, n)}.env",
        )
        for n in elsewhere
    ]
    if not names or names == elsewhere:
        why = "every client has a daemon of its own" if names else "no container to give Docker to"
        notes.append(about(f"{why}; left unchanged", "warning"))
        return _Injected(None, notes, unmatched=unmatched)
    names = [n for n in names if n not in elsewhere]
    notes += [
        about(message, "warning", where)
        for message, where in _client_warnings(config, spec, names, kind, mode)
    ]
    min_api, api_notes = clients.min_api(config, spec, names)
    notes += [about(m, s, f) for s, m, f in api_notes]
    scale_set = kind == runners.SCALE_SET_KIND and mode.in_pod
    work: list[str] = []
    if scale_set:
        work, work_notes = runners.prepare_scale_set(spec, names)
        notes += [about(m, s, f) for s, m, f in work_notes]
    wiring = mode.wire(config, spec, names, previous_daemon, carried, min_api)
    if scale_set and wiring.record is not None:
        wiring.record.volumes += work
        wiring.notes.extend(
            runners.finish_scale_set(config.sidecar_name, spec, names, wiring.record)
        )
    notes += [
        about(message, severity, f)
        for severity, message, f in [*moved.notes, *wiring.notes]
        if wiring.record is not None or severity != "info"
    ]
    if wiring.record is None:
        return _Injected(None, notes, unmatched=unmatched)
    host_notes = clients.host_flag_notes(spec, wiring.record.clients, moved.old_sockets)
    notes += [about(m, s, f) for s, m, f in host_notes]
    socket = mode.client_socket(config)
    if socket is not None:
        notes += [about(m, s, f) for s, m, f in clients.repoint(spec, moved.old_sockets, socket)]
    if mode.in_pod:  # the daemon's containers then share the pod's network, and its mesh
        added, mesh_notes = mesh.wire(config, new, keys, meshes)
        wiring.record.annotations = added
        notes += [about(m, s, f) for s, m, f in mesh_notes]
    wiring.record.migrated = migrated
    record.write(new, wiring.record)
    if same(resource, new):
        return _Injected(new, notes, min_api, unmatched)
    notes.append(about(mode.summary(config, names, previous is not None)))
    notes += [about(message, "warning") for message in mode.changed_notes(config, kind)]
    return _Injected(new, notes, min_api, unmatched)


def _undo_annotations(
    resource: dict[str, Any], keys: tuple[str, ...], added: dict[str, str]
) -> None:
    """Take out the pod annotations an earlier run set."""
    if not added:
        return
    meta = mesh.template_metadata(resource, keys)
    current = meta.get("annotations")
    if isinstance(current, dict):
        for key, value in added.items():
            if current.get(key) == value:
                del current[key]
        if not current:
            del meta["annotations"]


# Workload APIs the API server no longer serves, and the one to use instead.
_REMOVED_APIS = {
    ("extensions/v1beta1", "Deployment"): "apps/v1",
    ("extensions/v1beta1", "DaemonSet"): "apps/v1",
    ("extensions/v1beta1", "ReplicaSet"): "apps/v1",
    ("apps/v1beta1", "Deployment"): "apps/v1",
    ("apps/v1beta1", "StatefulSet"): "apps/v1",
    ("apps/v1beta2", "Deployment"): "apps/v1",
    ("apps/v1beta2", "StatefulSet"): "apps/v1",
    ("apps/v1beta2", "DaemonSet"): "apps/v1",
    ("apps/v1beta2", "ReplicaSet"): "apps/v1",
    ("batch/v1beta1", "CronJob"): "batch/v1",
    ("batch/v2alpha1", "CronJob"): "batch/v1",
}


def _api_notes(resource: dict[str, Any]) -> list[Result]:
    key = (str(resource.get("apiVersion", "")), str(resource.get("kind", "")))
    if key not in _REMOVED_APIS:
        return []
    return [
        results.about(
            resource,
            f"{key[0]} {key[1]} is no longer served by Kubernetes (removed in 1.16 to 1.25); "
            f"use {_REMOVED_APIS[key]}",
            "warning",
            "apiVersion",
        )
    ]


def _client_names(
    chosen: clients.Clients,
    moved: migrate.Migration,
    previous: record.Record | None,
    spec: dict[str, Any],
) -> tuple[list[str], bool]:
    """The containers to wire (those asked for, or those a migration found), and which."""
    migrated = not chosen.explicit and bool(
        moved.clients or (previous is not None and previous.migrated)
    )
    if migrated:
        # Only the containers that used the old daemon get the new one, on reruns too.
        old = moved.clients or (previous.clients if previous is not None else [])
        return [n for n in old if n in chosen.names or containers.is_init(spec, n)], True
    return chosen.names + [n for n in moved.clients if n not in chosen.names], False


def _client_warnings(
    config: Config, spec: dict[str, Any], names: list[str], kind: str, mode: Mode
) -> list[tuple[str, str]]:
    """(message, field in the pod spec) for what the clients carry that will not work."""
    out = []
    for container in containers.named(spec, names):
        name = str(container.get("name"))
        where = str(containers.locate(spec, name))
        tls = containers.env_names(container) & {"DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"}
        if tls and config.transport != "tls":
            out.append(
                (
                    f"container {name!r} sets {', '.join(sorted(tls))}, but the daemon is "
                    "reached without TLS: the docker CLI would look for certificates and fail; "
                    "remove them",
                    f"{where}.env",
                )
            )
    return out + mode.client_notes(config, spec, names, kind)


def _container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in containers.containers_of(spec) if c.get("name") == name)
