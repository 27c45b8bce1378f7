"""Client containers: which ones use Docker, and what they get to reach the daemon."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from function.kube.containers import append, containers_of, env_names, locate
from function.kube.metadata import annotations_of
from function.kube.record import Record
from function.plaindata import listing
from function.transform.outcome import Note
from function.transform.selection import CONTAINERS_ANNOTATION

if TYPE_CHECKING:
    from function.config.model import Config

# Volume sources that hold a workspace the daemon must see for `docker run -v`.
WORKSPACE_SOURCES = ("emptyDir", "persistentVolumeClaim", "ephemeral")


class Clients(NamedTuple):
    """The containers of one pod spec that use Docker."""

    names: list[str]
    missing: list[str]  # asked for but not in the pod
    explicit: bool  # named by the config or the annotation, not the default


def choose(config: Config, resource: dict[str, Any], spec: dict[str, Any]) -> Clients:
    raw = annotations_of(resource).get(CONTAINERS_ANNOTATION)
    wanted = (
        [n.strip() for n in str(raw).split(",") if n.strip()] if raw else list(config.containers)
    )
    present = [str(c.get("name")) for c in containers_of(spec)]
    if not wanted:
        names = [str(c.get("name")) for c in listing(spec.get("containers")) if isinstance(c, dict)]
        return Clients(names, [], False)
    return Clients(
        [n for n in wanted if n in present], [n for n in wanted if n not in present], True
    )


def workspace_mounts(
    spec: dict[str, Any], clients: list[dict[str, Any]], reserved: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The clients' workspace mounts, for the daemon to mount at the same paths.

    Returns the mounts and the paths that two clients fill from different volumes.
    """
    workspace = {
        v.get("name")
        for v in listing(spec.get("volumes"))
        if isinstance(v, dict) and any(s in v for s in WORKSPACE_SOURCES)
    }
    chosen: dict[str, dict[str, Any]] = {}
    conflicts: list[str] = []
    for container in clients:
        for mount in container.get("volumeMounts") or []:
            if not isinstance(mount, dict) or mount.get("name") not in workspace:
                continue
            path = str(mount.get("mountPath", "")).rstrip("/")
            if not path or any(path == r or path.startswith(r + "/") for r in reserved):
                continue
            copy = {
                k: mount[k]
                for k in ("name", "mountPath", "subPath", "subPathExpr", "readOnly")
                if k in mount
            }
            if path not in chosen:
                chosen[path] = copy
            elif chosen[path] != copy and path not in conflicts:
                conflicts.append(path)
    return list(chosen.values()), conflicts


def connect(
    spec: dict[str, Any],
    containers: list[dict[str, Any]],
    env: list[dict[str, Any]],
    mounts: list[dict[str, Any]],
    record: Record,
) -> list[Note]:
    """Give each client the daemon's address and socket; note what was left alone."""
    notes: list[Note] = []
    for container in containers:
        name = str(container.get("name"))
        record.clients.append(name)
        present = env_names(container)
        added = [e for e in env if e["name"] not in present]
        notes += [
            (
                "warning",
                f"container {name!r} sets {e['name']} itself; it was left as it is",
                f"{locate(spec, name)}.env",
            )
            for e in env
            if e["name"] in present
        ]
        if added:
            append(container, "env", added, before="volumeMounts")
            record.env = sorted(set(record.env) | {e["name"] for e in added})
        append(container, "volumeMounts", [dict(m) for m in mounts])
    return notes


def old_cli(image: str) -> bool:
    """A `docker` CLI image older than the API that current daemons accept (Docker 25)."""
    name, _, tag = image.rpartition(":")
    if name.rpartition("/")[2] != "docker" or not tag:
        return False
    if tag.startswith(("stable", "edge", "test")):
        return True
    major = tag.split(".")[0].split("-")[0]
    return major.isdigit() and int(major) < 25
