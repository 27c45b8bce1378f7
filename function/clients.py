"""Client containers: which ones use Docker, and what they get to reach the daemon."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from function.marker import Record, containers_of
from function.selection import CONTAINERS_ANNOTATION, annotations_of
from function.wiring import Note

if TYPE_CHECKING:
    from function.config import Config

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
        main = spec.get("containers")
        names = (
            [str(c.get("name")) for c in main if isinstance(c, dict)]
            if isinstance(main, list)
            else []
        )
        return Clients(names, [], False)
    return Clients(
        [n for n in wanted if n in present], [n for n in wanted if n not in present], True
    )


def locate(spec: dict[str, Any], name: str) -> str | None:
    """Where container `name` sits in the pod spec, such as `containers[1]`."""
    for key in ("initContainers", "containers"):
        listed = spec.get(key)
        if isinstance(listed, list):
            for i, container in enumerate(listed):
                if isinstance(container, dict) and container.get("name") == name:
                    return f"{key}[{i}]"
    return None


def is_init(spec: dict[str, Any], name: str) -> bool:
    return (locate(spec, name) or "").startswith("initContainers")


def named(spec: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The containers called `names`, in pod order."""
    return [c for c in containers_of(spec) if c.get("name") in names]


def append(
    holder: dict[str, Any], key: str, entries: list[dict[str, Any]], before: str | None = None
) -> None:
    """Append to the list `holder[key]`; a new key goes before `before` if that is present."""
    listed = holder.get(key)
    holder[key] = (listed if isinstance(listed, list) else []) + entries
    if listed is None and before is not None:
        put_before(holder, key, before)


def put_before(holder: dict[str, Any], key: str, anchor: str) -> None:
    """Order `key` just before `anchor`, where a person would write a new key."""
    if key not in holder or anchor not in holder:
        return
    value = holder.pop(key)
    rest = list(holder.items())
    holder.clear()
    for k, v in rest:
        if k == anchor:
            holder[key] = value
        holder[k] = v


def env_names(container: dict[str, Any]) -> set[str]:
    env = container.get("env")
    return {e.get("name") for e in env if isinstance(e, dict)} if isinstance(env, list) else set()


def mount_paths(container: dict[str, Any]) -> dict[str, str]:
    """mountPath -> volume name."""
    mounts = container.get("volumeMounts")
    if not isinstance(mounts, list):
        return {}
    return {
        str(m.get("mountPath", "")).rstrip("/"): str(m.get("name"))
        for m in mounts
        if isinstance(m, dict)
    }


def volume_names(spec: dict[str, Any]) -> set[str]:
    volumes = spec.get("volumes")
    return (
        {v.get("name") for v in volumes if isinstance(v, dict)}
        if isinstance(volumes, list)
        else set()
    )


def workspace_mounts(
    spec: dict[str, Any], clients: list[dict[str, Any]], reserved: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The clients' workspace mounts, for the daemon to mount at the same paths.

    Returns the mounts and the paths that two clients fill from different volumes.
    """
    volumes = spec.get("volumes") if isinstance(spec.get("volumes"), list) else []
    workspace = {
        v.get("name")
        for v in volumes
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
