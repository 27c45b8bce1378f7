"""The CI engines' kinds, wired in each engine's own idiom (sidecar mode).

A Tekton Task spec or an Argo template is seen as a small pod spec (its sidecars
as the init containers, its steps or its main container as the containers, its
volumes as the pod's), wired by the sidecar mode like any pod, and written back.
Then each engine's idiom is applied to the daemon:
- Tekton stops a Task's sidecars when its steps end, and holds the steps back
  until its sidecars are ready: the daemon is a plain sidecar with a
  readinessProbe; the Task's workspaces are mounted into it at their paths.
- Argo mirrors the main container's mounts into a sidecar that asks for it
  (`mirrorVolumeMounts`), workspace and socket alike; it kills its sidecars when
  the main container ends, and needs their command to do so. Argo does not wait
  for a sidecar: the main container must wait for `docker info` itself.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from function.krm import results
from function.krm.results import Result
from function.kube import cikinds, containers, daemons, dockeruse, podspecs, record
from function.kube.cikinds import Unit
from function.kube.record import Record
from function.plaindata import copy, listing, mapping, same
from function.transform import clients, migrate, sidecar
from function.transform.outcome import Note

if TYPE_CHECKING:
    from function.config.model import Config

# A unit's lists as the pod spec view names them.
_LISTS = {
    "tekton": {"initContainers": "sidecars", "containers": "steps"},
    "argo": {"initContainers": "sidecars"},
}


# The unit's own fields that stand for the pod spec's: an Argo template has a pod
# security context of its own, a Tekton Task has none.
_FIELDS = {
    "tekton": {"initContainers": "sidecars", "volumes": "volumes"},
    "argo": {
        "initContainers": "sidecars",
        "volumes": "volumes",
        "securityContext": "securityContext",
    },
}
# What Tekton and Argo call a container that has no name.
_UNNAMED = {"tekton": "unnamed-{}", "argo": "main"}


def _view(unit: Unit) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The unit as a pod spec (its lists are the unit's own, edited through it), and the
    containers that were given the name their engine would give them."""
    view: dict[str, Any] = {"containers": cikinds.containers(unit)}
    for seen, real in _FIELDS[unit.engine].items():
        if unit.body.get(real) is not None:
            view[seen] = unit.body[real]
    if unit.engine == "tekton" and view.get("initContainers"):
        view["initContainers"] = [_resolved(unit, c) for c in view["initContainers"]]
    named = []
    for i, container in enumerate(view["containers"]):
        if not container.get("name"):
            container["name"] = _UNNAMED[unit.engine].format(i)
            named.append(container)
    if unit.engine == "tekton":  # Tekton names an unnamed sidecar itself
        for i, sidecar in enumerate(listing(view.get("initContainers"))):
            if isinstance(sidecar, dict) and not sidecar.get("name"):
                sidecar["name"] = f"unnamed-sidecar-{i}"
                named.append(sidecar)
    return view, named


_PARAM = re.compile(r"\$\(params\.([A-Za-z0-9_.-]+)\)")


def _resolved(unit: Unit, sidecar: Any) -> Any:
    """A sidecar whose image is a Task parameter, such as the catalog's
    `$(params.dind_image)`, with the parameter's default in its place: so a dind
    sidecar is known for one. Only a sidecar that is replaced or left alone is
    read so; one that is wired keeps its image as written."""
    image = sidecar.get("image") if isinstance(sidecar, dict) else None
    found = _PARAM.fullmatch(image) if isinstance(image, str) else None
    if found is None:
        return sidecar
    default = next(
        (
            p.get("default")
            for p in listing(unit.body.get("params"))
            if isinstance(p, dict) and p.get("name") == found.group(1)
        ),
        None,
    )
    return {**sidecar, "image": default} if isinstance(default, str) else sidecar


def _write_back(unit: Unit, view: dict[str, Any]) -> None:
    for seen, real in _FIELDS[unit.engine].items():
        if view.get(seen) is None:
            unit.body.pop(real, None)
        else:
            unit.body[real] = view[seen]
    if unit.engine == "tekton":
        unit.body["steps"] = view["containers"]


def _in_engine_terms(unit: Unit, problem: str) -> str:
    """A problem of the pod spec view, in the names the engine gives its lists."""
    for seen, real in _LISTS[unit.engine].items():
        problem = re.sub(rf"\b{seen}\b", real, problem)
    return problem


def where(unit: Unit, field: str | None) -> str:
    """A field of the pod spec view, as the path in the resource."""
    if not field:
        return unit.path
    for seen, real in _LISTS[unit.engine].items():
        if field.startswith(seen):
            return f"{unit.path}.{real}{field[len(seen) :]}"
    if unit.engine == "argo" and field.startswith("containers[0]"):
        main = "container" if "container" in unit.body else "script"
        return f"{unit.path}.{main}{field[len('containers[0]') :]}"
    return f"{unit.path}.{field}"


def inject(config: Config, resource: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Result]]:
    """The resource with every Task spec or template that uses Docker wired (None: left
    as it is), and the results about it."""
    new = copy(resource)
    found = cikinds.units(new)
    if not found:
        what = (
            "a Task spec with steps"
            if cikinds.engine_of(resource) == "tekton"
            else ("a template with a container or script")
        )
        return None, [results.about(resource, f"has no {what} to change", "warning")]
    # Tekton and Argo hold their own sidecars until they are ready, or not at all: the
    # daemon is always one of the unit's sidecars, whatever nativeSidecar says.
    unit_config = config.model_copy(update={"native_sidecar": True})
    previous = record.read_units(new)
    wired: dict[str, Record] = {}
    notes: list[Result] = []
    for unit in found:
        done, unit_notes = wire(unit_config, unit, _previous(previous, unit), resource)
        notes += [results.about(resource, m, s, f) for s, m, f in unit_notes]
        if done is not None:
            wired[unit.path] = done
    if not wired:
        if not notes:
            what = "step" if cikinds.engine_of(resource) == "tekton" else "template"
            notes.append(results.about(resource, f"no {what} here uses Docker; left unchanged"))
        return None, notes
    run_settings: dict[str, Any] = {}
    if cikinds.engine_of(resource) == "tekton":
        run_settings, group_notes = _run_groups(new, wired, record.read_run_settings(new))
        notes += [results.about(resource, m, s, f) for s, m, f in group_notes]
    record.write_units(new, wired, run_settings)
    if not same(resource, new):
        what = "step" if cikinds.engine_of(resource) == "tekton" else "container"
        places = "; ".join(
            f"in {path} for {what}{'s' * (len(r.clients) > 1)} "
            + ", ".join(repr(c) for c in r.clients)
            for path, r in wired.items()
        )
        notes.append(results.about(resource, f"added a Docker-in-Docker sidecar {places}"))
    return new, notes


# Where a run keeps the pod settings of the pods it makes: (kind, version) -> keys.
_POD_TEMPLATES = {
    ("TaskRun", "v1"): ("spec", "podTemplate"),
    ("TaskRun", "v1beta1"): ("spec", "podTemplate"),
    ("PipelineRun", "v1"): ("spec", "taskRunTemplate", "podTemplate"),
    ("PipelineRun", "v1beta1"): ("spec", "podTemplate"),
}


# Where the runs of a Task or Pipeline take their pod settings from.
_RUN_TEMPLATE = {
    "Task": "the TaskRun's podTemplate",
    "Pipeline": "the PipelineRun's taskRunTemplate.podTemplate (podTemplate in v1beta1)",
}


def _run_groups(
    resource: dict[str, Any], wired: dict[str, Record], before: dict[str, Any]
) -> tuple[dict[str, Any], list[Note]]:
    """The socket's group for the pods a TaskRun or PipelineRun makes, in its pod template
    (a Task has no pod settings); what was set there, and notes."""
    groups: list[Any] = []
    for done in wired.values():
        context = mapping(done.pod.pop("securityContext", None))
        for gid in listing(context.get("supplementalGroups")):
            if gid not in groups:
                groups.append(gid)
    version = str(resource.get("apiVersion", "")).rpartition("/")[2]
    kind = str(resource.get("kind"))
    keys = _POD_TEMPLATES.get((kind, version))
    if keys is None:
        if not groups:
            return {}, []
        return {}, [
            (
                "info",
                f"steps that run as a user other than root need the socket's group: set "
                f"securityContext.supplementalGroups: {groups} in {_RUN_TEMPLATE[kind]} "
                f"(a {kind} has no pod settings of its own)",
                None,
            )
        ]
    holder: Any = resource
    made = False
    for key in keys:
        if not isinstance(holder.get(key), dict):
            holder[key], made = {}, True
        holder = holder[key]
    if before:
        record.undo(holder, Record("sidecar", pod=before))
    added = Record("sidecar")
    notes: list[Note] = []
    nothing_carried = migrate.Carried([], [], [], None, None)
    for gid in groups:
        notes += clients.add_socket_group(holder, str(gid), nothing_carried, added)
    if not holder and (made or before):  # a pod template this run or an earlier one made
        parent: Any = resource
        for key in keys[:-1]:
            parent = parent[key]
        del parent[keys[-1]]
    return added.pod, [(s, m, f"{'.'.join(keys)}.{f}" if f else None) for s, m, f in notes]


def _previous(records: dict[str, Record], unit: Unit) -> Record | None:
    """The record of an earlier run for this unit: by its path, or, when the units
    moved (a task added before it), by the daemon it added."""
    if unit.path in records:
        return records[unit.path]
    sidecars = {s.get("name") for s in listing(unit.body.get("sidecars")) if isinstance(s, dict)}
    found = (r for r in records.values() if r.containers and r.containers[0] in sidecars)
    return next(found, None)


def wire(
    config: Config, unit: Unit, previous: Record | None, resource: dict[str, Any]
) -> tuple[Record | None, list[Note]]:
    """Give the unit a daemon; (its record, or None when left as it was; notes with
    fields as paths in the resource). The unit changes only when it is wired."""
    work = Unit(unit.engine, unit.path, copy(unit.body))
    view, named = _view(work)
    done, notes = _wire(config, work, view, previous, resource)
    for container in named:
        container.pop("name", None)
    if done is not None:
        unit.body.clear()
        unit.body.update(work.body)
    return done, notes


def _wire(
    config: Config,
    unit: Unit,
    view: dict[str, Any],
    previous: Record | None,
    resource: dict[str, Any],
) -> tuple[Record | None, list[Note]]:
    def located(notes: list[Note]) -> list[Note]:
        return [(s, m, where(unit, f)) for s, m, f in notes]

    has_daemon = any(
        isinstance(c, dict) and daemons.is_daemon(c) for c in listing(view.get("initContainers"))
    )
    if (
        previous is None
        and not has_daemon
        and not any(dockeruse.container_uses_docker(c) for c in listing(view.get("containers")))
    ):
        return None, []  # nothing here for the function
    malformed = podspecs.shape_problems(view)
    if malformed:
        return None, [
            ("error", f"{_in_engine_terms(unit, p)}; left unchanged", where(unit, f))
            for p, f in malformed
        ]
    previous_daemon = None
    if previous is not None:
        previous_daemon = next(
            (
                c
                for c in listing(view.get("initContainers"))
                if c.get("name") in previous.containers[:1]
            ),
            None,
        )
        record.undo(view, previous)
    moved = migrate.migrate(config, view, "Pod", None)
    if moved.kept:
        return None, located(moved.notes)
    carried = moved.carried
    if previous is not None and not any(carried) and previous.carried:
        carried = migrate.Carried(**{**carried._asdict(), **previous.carried})
    users = [
        str(c.get("name"))
        for c in listing(view.get("containers"))
        if dockeruse.container_uses_docker(c)
    ]
    names = users + [n for n in moved.clients if n not in users]
    if config.containers:
        names = [n for n in names if n in config.containers]
    if previous is not None:
        # A step wired before stays a client (one found by its old DOCKER_HOST, say).
        names += [
            n
            for n in previous.clients
            if n not in names
            and any(c.get("name") == n for c in listing(view.get("containers")))
            and (not config.containers or n in config.containers)
        ]
    # A step that points DOCKER_HOST elsewhere (a remote builder, say) keeps it.
    elsewhere = [
        n for n in names if "DOCKER_HOST" in containers.env_names(containers.named(view, [n])[0])
    ]
    notes: list[Note] = [
        (
            "warning",
            f"{n!r} sets DOCKER_HOST itself, so it will not use a new daemon; remove that "
            "variable to use one",
            f"{containers.locate(view, n)}.env",
        )
        for n in elsewhere
    ]
    names = [n for n in names if n not in elsewhere]
    if not names and not listing(view.get("containers")):
        # Its only steps were daemons (a daemon image run with no command, say).
        what = "step" if unit.engine == "tekton" else "container"
        notes.append(("warning", f"no {what} to give Docker to; left unchanged", None))
    if not names:
        return None, [n for n in located([*moved.notes, *notes]) if n[0] != "info"]
    min_api, api_notes = clients.min_api(config, view, names)
    wiring = sidecar.wire(config, view, names, previous_daemon, carried, min_api)
    if wiring.record is None:
        return None, located(wiring.notes)
    notes += clients.host_flag_notes(view, wiring.record.clients, moved.old_sockets)
    dropped = _idiom(config, unit, view, wiring.record, str(resource.get("apiVersion", "")))
    _write_back(unit, view)
    return wiring.record, located([*moved.notes, *notes, *api_notes, *wiring.notes, *dropped])


def _idiom(
    config: Config, unit: Unit, view: dict[str, Any], wired: Record, api_version: str
) -> list[Note]:
    """The engine's own idiom for the daemon the sidecar mode added; notes about the pod
    settings it could not place."""
    notes: list[Note] = []
    # A Tekton Task's group goes into the run's pod template (see `inject`).
    keep = {"securityContext"}
    for key in [k for k in wired.pod if k not in keep]:
        # A Task has no pod fields at all, a template none but its security context.
        value = view.pop(key, None)
        wired.pod.pop(key, None)
        if key != "securityContext" and value is not None:
            holder = "the TaskRun's podTemplate" if unit.engine == "tekton" else "podSpecPatch"
            notes.append(("warning", f"set {key}: {value} in {holder}; it has no place here", None))
    daemon = next(c for c in view["initContainers"] if c.get("name") == config.sidecar_name)
    daemon.pop("restartPolicy", None)
    if unit.engine == "tekton":
        if api_version.endswith("/v1") and "resources" in daemon:
            # Tekton v1 calls a step's and a sidecar's resources computeResources.
            daemon["computeResources"] = daemon.pop("resources")
        probe = daemon.get("startupProbe")
        if probe:
            # Tekton holds the steps back until its sidecars are ready.
            daemon["readinessProbe"] = {**probe, "failureThreshold": 3}
        for space in listing(unit.body.get("workspaces")):
            name = space.get("name") if isinstance(space, dict) else None
            if name and space.get("optional") is True:
                # An optional workspace left unbound has no volume to name.
                notes.append(
                    (
                        "info",
                        f"optional workspace {name!r} is not mounted into the daemon: when it "
                        "is not bound it has no volume; mount it yourself if the daemon needs it",
                        "workspaces",
                    )
                )
            elif name:
                daemon["volumeMounts"].append(
                    {
                        "name": f"$(workspaces.{name}.volume)",
                        "mountPath": f"$(workspaces.{name}.path)",
                    }
                )
        return notes
    # Argo: the main container's mounts reach the daemon by mirroring.
    main = view["containers"][0]
    mirrored = {str(m.get("mountPath")) for m in listing(main.get("volumeMounts"))}
    daemon["volumeMounts"] = [m for m in daemon["volumeMounts"] if m["mountPath"] not in mirrored]
    daemon["mirrorVolumeMounts"] = True
    daemon.pop("startupProbe", None)
    daemon.setdefault("command", ["dockerd-entrypoint.sh"])
    words = " ".join([*containers.command_line(main), str(main.get("source", ""))])
    if not _WAITS.search(words):
        notes.append(
            (
                "info",
                "Argo starts the main container without waiting for its sidecars: have it "
                "wait for the daemon, such as `until docker info >/dev/null 2>&1; do sleep 1; "
                "done`",
                None,
            )
        )
    return notes


# A loop that waits for the daemon, such as `until docker ps; do sleep 3; done`.
_WAITS = re.compile(r"\b(until|while)\b[^;\n]*\bdocker\b")
