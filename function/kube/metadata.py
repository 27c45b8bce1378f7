"""Reading a resource's metadata: name, namespace, labels, annotations.

Any of these may be missing, null or of the wrong type in what users write;
each accessor then gives the empty value, so callers never check types.
"""

from __future__ import annotations

from typing import Any

from function.plaindata import mapping


def metadata_of(resource: dict[str, Any]) -> dict[str, Any]:
    return mapping(resource.get("metadata"))


def annotations_of(resource: dict[str, Any]) -> dict[str, Any]:
    return mapping(metadata_of(resource).get("annotations"))


def labels_of(resource: dict[str, Any]) -> dict[str, Any]:
    return mapping(metadata_of(resource).get("labels"))


def name_of(resource: dict[str, Any]) -> str:
    return str(metadata_of(resource).get("name") or "")


def namespace_of(resource: dict[str, Any]) -> str:
    """The namespace, "" when the resource sets none."""
    return str(metadata_of(resource).get("namespace") or "")
