"""Plain YAML data (dicts, lists, scalars): copying, comparing, reading fields safely.

Manifests reach the function as they were written, so any field may hold a value
of the wrong type, or null. These helpers give the usual empty value instead of
failing, and compare values the way the output must: 1 and True are not the same.
"""

from __future__ import annotations

from typing import Any


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (null and wrong types read as absent)."""
    return value if isinstance(value, dict) else {}


def listing(value: Any) -> list[Any]:
    """`value` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def mapping_at(holder: Any, key: str) -> dict[str, Any]:
    """`holder[key]` when both are mappings, else an empty mapping."""
    return mapping(holder.get(key)) if isinstance(holder, dict) else {}


def listing_at(holder: Any, key: str) -> list[Any]:
    """`holder[key]` when `holder` is a mapping and the value a list, else an empty list."""
    return listing(holder.get(key)) if isinstance(holder, dict) else []


def copy(value: Any) -> Any:
    """Deep copy of plain YAML data (much faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) for v in value]
    return value


def same(old: Any, new: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True, but not here)."""
    return old == new and _same_types(old, new)


def _same_types(old: Any, new: Any) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return all(_same_types(old[k], new[k]) for k in old)
    if isinstance(old, list):
        return all(_same_types(a, b) for a, b in zip(old, new, strict=True))
    return True
