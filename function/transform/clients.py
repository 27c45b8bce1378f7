"""Client containers: which ones use Docker, and what they get to reach the daemon."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from function.kube import containers, dockeruse, images
from function.kube.containers import append, containers_of, env_names, locate, named
from function.kube.metadata import annotations_of
from function.kube.record import Record
from function.plaindata import listing, mapping
from function.transform.outcome import Note
from function.transform.selection import CONTAINERS_ANNOTATION

if TYPE_CHECKING:
    from function.config.model import Config
    from function.transform.migrate import Carried

# Volume sources that hold a workspace the daemon must see for `docker run -v`.
WORKSPACE_SOURCES = ("emptyDir", "persistentVolumeClaim", "ephemeral")


class Clients(NamedTuple):
    """The containers of one pod spec that use Docker."""

    names: list[str]
    missing_named: list[str]  # named by the workload's annotation but not in the pod
    missing_configured: list[str]  # named by the config's `containers` but not in the pod
    explicit: bool  # named by the config or the annotation, not the default


def choose(config: Config, resource: dict[str, Any], spec: dict[str, Any]) -> Clients:
    raw = annotations_of(resource).get(CONTAINERS_ANNOTATION)
    wanted = (
        [n.strip() for n in str(raw).split(",") if n.strip()] if raw else list(config.containers)
    )
    present = [str(c.get("name")) for c in containers_of(spec)]
    if not wanted:
        names = [str(c.get("name")) for c in listing(spec.get("containers")) if isinstance(c, dict)]
        return Clients(names, [], [], False)
    missing = [n for n in wanted if n not in present]
    found = [n for n in wanted if n in present]
    return Clients(found, missing if raw else [], [] if raw else missing, True)


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


def min_api(
    config: Config, spec: dict[str, Any], names: list[str]
) -> tuple[str | None, list[Note]]:
    """The API version the daemon must accept at the oldest (DOCKER_MIN_API_VERSION),
    None when its own default serves every client; and notes about old CLIs.

    A client's docker CLI speaks the API of its image's Docker release. A daemon
    refuses clients older than its minimum ("client version 1.41 is too old");
    from 25.0 the minimum can be lowered, to 1.24 at the oldest.
    """
    if config.min_api_version:
        return config.min_api_version, []
    daemon = images.docker_image(config.image)
    default = images.default_min_api(daemon.version if daemon else None)
    oldest: str | None = None
    notes: list[Note] = []
    for container in named(spec, names):
        image = images.docker_image(str(container.get("image", "")))
        if image is None or image.version is None:
            continue
        api = images.api_version(image.version)
        where = f"{locate(spec, str(container.get('name')))}.image"
        if api is None or images.api_key(api) < images.api_key(images.LOWEST_API):
            notes.append(
                (
                    "warning",
                    f"container {container.get('name')!r} runs docker {image.tag}, older than "
                    f"any current daemon serves (API {images.LOWEST_API}); use an image such "
                    "as docker:29.8.0-cli",
                    where,
                )
            )
            continue
        if images.api_key(api) < images.api_key(default):
            oldest = images.oldest_api(oldest, api)
            notes.append(
                (
                    "info",
                    f"container {container.get('name')!r} runs docker {image.tag} "
                    f"(API {api}); the daemon, which "
                    f"accepts API {default} and newer by default, is set to accept it",
                    where,
                )
            )
    if oldest and not images.can_lower_min_api(daemon.version if daemon else None):
        return None, notes
    return oldest, notes


def repoint(spec: dict[str, Any], old: frozenset[str], new: str) -> list[Note]:
    """Re-point probes that test an old socket path to the new one; warn about
    commands that name an old one. (severity, message, field) each."""
    notes: list[Note] = []
    paths = sorted((p for p in old if p != new), key=len, reverse=True)
    if not paths:
        return notes
    for container in containers.containers_of(spec):
        name = str(container.get("name"))
        where = str(locate(spec, name))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = mapping(mapping(container.get(probe)).get("exec")).get("command")
            if not isinstance(command, list):
                continue
            changed = [_replace_paths(str(w), paths, new) for w in command]
            if changed != [str(w) for w in command]:
                container[probe]["exec"]["command"] = changed
                notes.append(
                    (
                        "info",
                        f"re-pointed the {probe} of {name!r} from the old socket to {new}",
                        f"{where}.{probe}.exec.command",
                    )
                )
        for field in ("command", "args"):
            words = [str(w) for w in listing(container.get(field))]
            named_paths = sorted({p for w in words for p in paths if _names_path(w, p)})
            if named_paths:
                notes.append(
                    (
                        "warning",
                        f"container {name!r} names {', '.join(named_paths)} in its {field}; "
                        f"the daemon's socket is now {new} (set in DOCKER_HOST); a `docker run "
                        "-v` of the socket names a path in the daemon's own filesystem",
                        f"{where}.{field}",
                    )
                )
    return notes


def host_flag_notes(spec: dict[str, Any], names: list[str], old: frozenset[str]) -> list[Note]:
    """Warn about clients whose command gives docker a daemon address with -H or --host,
    which wins over the DOCKER_HOST they were given: such a client does not reach the
    new daemon. An old socket path is warned about by `repoint`; `$VAR` may be fine."""
    notes: list[Note] = []
    for container in named(spec, names):
        ours = containers.env_value(container, "DOCKER_HOST")
        flags = [
            flag
            for flag in dockeruse.host_flags(container)
            if flag != ours and not flag.startswith("$") and flag.removeprefix("unix://") not in old
        ]
        if flags:
            name = str(container.get("name"))
            notes.append(
                (
                    "warning",
                    f"container {name!r} runs docker with -H {', '.join(sorted(set(flags)))}, "
                    f"which wins over DOCKER_HOST ({ours}): it will not reach the new daemon; "
                    "remove the flag",
                    str(locate(spec, name)),
                )
            )
    return notes


# A path stands alone, or after `unix://`, `=`, `:`, a quote: not inside a longer path.
_BEFORE_PATH = r"(?:^|(?<=[\s=:'\"(])|(?<=unix://))"


@functools.lru_cache(maxsize=64)
def _path_pattern(path: str) -> re.Pattern[str]:
    return re.compile(rf"{_BEFORE_PATH}{re.escape(path)}(?![\w.-])")


def _replace_paths(word: str, paths: list[str], new: str) -> str:
    for path in paths:
        if path in word:
            word = _path_pattern(path).sub(new, word)
    return word


def _names_path(word: str, path: str) -> bool:
    """`word` names `path` itself (not `/var/run/docker.sock` for `/run/docker.sock`)."""
    return path in word and _path_pattern(path).search(word) is not None


def socket_group(config: Config, carried: Carried) -> str:
    """The socket's group: one the replaced daemon gave it, else socketGroup."""
    return carried.group if carried.group is not None else str(config.socket_group)


def add_socket_group(
    spec: dict[str, Any], group: str, carried: Carried, record: Record
) -> list[Note]:
    """Add the socket's group to the pod's supplementalGroups, so any user can open it."""
    gid = _group_id(group, carried)
    if gid is None:
        return [
            (
                "warning",
                f"the socket's group {group!r} is not a number the pod's supplementalGroups "
                "can take: clients running as a user outside it cannot open the socket",
                "securityContext.supplementalGroups",
            )
        ]
    context = spec.get("securityContext")
    if not isinstance(context, dict):
        context = spec["securityContext"] = {}  # also replaces `securityContext: null`
        containers.put_before(spec, "securityContext", "containers")
    present = listing(context.get("supplementalGroups"))
    if gid not in present:
        context["supplementalGroups"] = [*present, gid]
        record.pod["securityContext"] = {"supplementalGroups": [gid]}
    return []


def _group_id(group: str, carried: Carried) -> int | None:
    """The number a group stands for; `$(NAME)` is looked up in the carried env."""
    if group.startswith("$(") and group.endswith(")"):
        name = group[2:-1]
        group = next((str(e.get("value", "")) for e in carried.env if e.get("name") == name), "")
    return int(group) if group.isdigit() else None
