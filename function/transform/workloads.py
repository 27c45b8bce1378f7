"""Wiring the selected workloads: resources in, changed resources and results out.

No I/O here. The caller reads only the items whose kind `kinds_to_read` names
and passes them in as plain data; everything else passes through unread. Each
item is one `step`, which depends on no other item; `combine` takes the steps
in item order and runs each mode's list-level work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from function.krm import results
from function.krm.results import Result
from function.kube import containers, podspecs, record
from function.kube.metadata import annotations_of, namespace_of
from function.kube.podspecs import WORKLOAD_KINDS
from function.plaindata import copy, same
from function.transform import clients, dockerd, migrate
from function.transform.modes import LIST_KINDS, MODES, Mode
from function.transform.outcome import Outcome, Step
from function.transform.selection import (
    INJECT_ANNOTATION,
    MODE_ANNOTATION,
    candidate_kinds,
    is_selected,
    opted_out,
)

if TYPE_CHECKING:
    from function.config.model import Config


def kinds_to_read(config: Config) -> frozenset[str]:
    """Kinds worth reading at all: everything else passes through unread."""
    # The modes' own kinds too: an earlier run's generated daemon may be in the list.
    return candidate_kinds(config) | LIST_KINDS


def run(config: Config, items: Iterable[tuple[int, dict[str, Any]]]) -> Outcome:
    return combine(config, [step(config, index, resource) for index, resource in items])


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


def step(config: Config, index: int, resource: dict[str, Any]) -> Step:
    """The work on one item, which depends on no other item."""
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
    noticed = resource if resource.get("kind") in LIST_KINDS else None
    if any(mode.owns(config, resource) for mode in MODES.values()):
        return Step(index, [], None, "", None, noticed)
    if not is_selected(config, resource) or record.is_generated(resource):
        notes = []
        if opted_out(resource) and is_selected(config, resource, honour_opt_out=False):
            notes.append(
                results.about(resource, f'skipped: annotated {INJECT_ANNOTATION}: "false"')
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
        return Step(index, [error], None, "", None, noticed)
    try:
        new, notes = _inject(config, resource, mode)
    except Exception as error:  # a bug must cost one workload, not the whole list
        return Step(index, [_bug(resource, error)], None, "", None, noticed)
    if new is None:
        return Step(index, notes, None, "", None, noticed)
    changed = None if same(resource, new) else new
    return Step(index, notes, name, namespace_of(resource), changed, noticed)


def combine(config: Config, steps: Iterable[Step]) -> Outcome:
    """The outcome of the steps of every item read, taken in the order of the items."""
    outcome = Outcome({}, [], config_results(config))
    noticed: list[tuple[int, dict[str, Any]]] = []
    namespaces: dict[str, set[str]] = {}
    for one in sorted(steps, key=lambda s: s.position):
        if one.noticed is not None:
            noticed.append((one.position, one.noticed))
        outcome.results.extend(one.results)
        if one.mode is not None:
            namespaces.setdefault(one.mode, set()).add(one.namespace)
        if one.new is not None:
            outcome.changed[one.position] = one.new
    for name, mode in MODES.items():
        if name in namespaces:
            done = mode.finish(config, namespaces[name], noticed)
            outcome.changed.update(done.changed)
            outcome.added.extend(done.added)
            outcome.results.extend(done.results)
    return outcome


def _inject(
    config: Config, resource: dict[str, Any], mode: Mode
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
    previous = record.read(new)
    previous_daemon = None
    if previous is not None:
        previous_daemon = next(
            (c for c in containers.containers_of(spec) if c.get("name") in previous.containers),
            None,
        )
        record.undo(spec, previous)
    moved = migrate.migrate(spec, mode.hard_coded_hint(config))
    chosen = clients.choose(config, new, spec)
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
    elsewhere = [n for n in names if "DOCKER_HOST" in containers.env_names(_container(spec, n))]
    notes += [
        results.about(
            resource,
            f"container {n!r} sets DOCKER_HOST itself, so it will not use the new daemon; "
            "remove that variable to use it",
            "warning",
            podspecs.field_path(kind, f"{containers.locate(spec, n)}.env"),
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
    wiring = mode.wire(config, spec, names, previous_daemon)
    notes += [
        results.about(resource, message, severity, podspecs.field_path(kind, f) if f else None)
        for severity, message, f in [*moved.notes, *wiring.notes]
        if wiring.record is not None or severity != "info"
    ]
    if wiring.record is None:
        return None, notes
    wiring.record.migrated = migrated
    record.write(new, wiring.record)
    if same(resource, new):
        return new, notes
    notes.append(results.about(resource, mode.summary(config, names, previous is not None)))
    notes += [
        results.about(resource, message, "warning") for message in mode.changed_notes(config, kind)
    ]
    return new, notes


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
        if clients.old_cli(str(container.get("image", ""))):
            out.append(
                (
                    f"container {name!r} runs an old docker CLI: Docker 29 accepts clients of "
                    "API 1.44 (Docker 25) and newer; use an image such as docker:29.8.0-cli",
                    f"{where}.image",
                )
            )
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
