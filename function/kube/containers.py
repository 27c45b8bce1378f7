"""The containers, volumes and mounts of a pod spec: finding them and editing their lists.

A pod spec as users write it may hold entries of the wrong type; these helpers
skip them rather than fail, and keep the order a person would write.
"""

from __future__ import annotations

from typing import Any

from function.plaindata import listing, mapping

CONTAINER_LISTS = ("initContainers", "containers")


def containers_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container and init container of a pod spec."""
    out: list[dict[str, Any]] = []
    for key in CONTAINER_LISTS:
        out.extend(c for c in listing(spec.get(key)) if isinstance(c, dict))
    return out


def locate(spec: dict[str, Any], name: str) -> str | None:
    """Where container `name` sits in the pod spec, such as `containers[1]`."""
    for key in CONTAINER_LISTS:
        for i, container in enumerate(listing(spec.get(key))):
            if isinstance(container, dict) and container.get("name") == name:
                return f"{key}[{i}]"
    return None


def is_init(spec: dict[str, Any], name: str) -> bool:
    return (locate(spec, name) or "").startswith("initContainers")


def named(spec: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The containers called `names`, in pod order."""
    return [c for c in containers_of(spec) if c.get("name") in names]


def env_names(container: dict[str, Any]) -> set[Any]:
    return {e.get("name") for e in listing(container.get("env")) if isinstance(e, dict)}


def env_value(container: dict[str, Any], name: str) -> str | None:
    """The literal value of variable `name` ("" for one without a value), None when unset."""
    for entry in listing(container.get("env")):
        if isinstance(entry, dict) and entry.get("name") == name:
            return str(entry.get("value", ""))
    return None


def mount_paths(container: dict[str, Any]) -> dict[str, str]:
    """mountPath -> volume name."""
    return {
        str(m.get("mountPath", "")).rstrip("/"): str(m.get("name"))
        for m in listing(container.get("volumeMounts"))
        if isinstance(m, dict)
    }


def volume_names(spec: dict[str, Any]) -> set[Any]:
    return {v.get("name") for v in listing(spec.get("volumes")) if isinstance(v, dict)}


def mounted_by(spec: dict[str, Any], volume: str) -> list[tuple[dict[str, Any], str]]:
    """(container, mountPath) for each mount of `volume`."""
    out = []
    for container in containers_of(spec):
        for mount in listing(container.get("volumeMounts")):
            if isinstance(mount, dict) and mount.get("name") == volume:
                out.append((container, str(mount.get("mountPath", ""))))
    return out


def command_line(container: dict[str, Any]) -> list[str]:
    """The container's command and args, as words."""
    return [str(p) for key in ("command", "args") for p in listing(container.get(key))]


def security_context(holder: dict[str, Any]) -> dict[str, Any]:
    """The securityContext of a pod spec or a container; empty when unset."""
    return mapping(holder.get("securityContext"))


def append(
    holder: dict[str, Any], key: str, entries: list[dict[str, Any]], before: str | None = None
) -> None:
    """Append to the list `holder[key]`; a new key goes before `before` if that is present.

    A key set to null is read as absent and keeps its place (its null is replaced).
    """
    absent = key not in holder
    listed = holder.get(key)
    holder[key] = (listed if isinstance(listed, list) else []) + entries
    if absent and before is not None:
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


def remove_named(
    holder: dict[str, Any], key: str, names: set[str], attribute: str = "name"
) -> bool:
    """Drop entries of `holder[key]` whose `attribute` is in `names`; drop the key if emptied."""
    listed = holder.get(key)
    if not isinstance(listed, list):
        return False
    kept = [e for e in listed if not (isinstance(e, dict) and e.get(attribute) in names)]
    if len(kept) == len(listed):
        return False
    if kept:
        holder[key] = kept
    else:
        del holder[key]
    return True
