"""Results: what the function tells its caller about each resource it looked at."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from function.plaindata import mapping

Severity = Literal["error", "warning", "info"]

# Annotations that say which file a resource came from.
PATH_ANNOTATIONS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("config.kubernetes.io/index", "internal.config.kubernetes.io/index")


class Result(NamedTuple):
    message: str
    severity: Severity = "info"
    resource: dict[str, str] | None = None  # apiVersion, kind, name, namespace
    field: str | None = None
    file: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The KRM `results` entry."""
        out: dict[str, Any] = {"message": self.message, "severity": self.severity}
        if self.resource:
            # generateName is only for the line on stderr: a resourceRef names a resource.
            out["resourceRef"] = {k: v for k, v in self.resource.items() if k != "generateName"}
        if self.field:
            out["field"] = {"path": self.field}
        if self.file:
            out["file"] = dict(self.file)
        return out

    def as_line(self) -> str:
        """One plain sentence for stderr."""
        where = ""
        if self.resource:
            ref = self.resource
            name = ref["name"] or (f"{ref['generateName']}*" if ref.get("generateName") else "")
            name = name or "(no name)"
            name = f"{ref['namespace']}/{name}" if ref.get("namespace") else name
            where = f"{ref['kind']} {name}"
            if self.file:
                where += f" ({self.file['path']})"
            where += ": "
        field = f" [{self.field}]" if self.field else ""
        return f"inject-docker: {self.severity}: {where}{self.message}{field}"


_RANK = {"error": 0, "warning": 1, "info": 2}


def by_severity(results: list[Result]) -> list[Result]:
    """Errors, then warnings, then the rest, each kind in the order given.

    kpt prints the first few results of a function and folds the rest away, and a
    run that changes hundreds of workloads has an info result for each: what needs
    attention must come first to be seen.
    """
    return sorted(results, key=lambda r: _RANK.get(r.severity, len(_RANK)))


def reference(resource: dict[str, Any]) -> dict[str, str]:
    meta = mapping(resource.get("metadata"))
    ref = {
        "apiVersion": str(resource.get("apiVersion", "")),
        "kind": str(resource.get("kind", "")),
        "name": str(meta.get("name", "")),
    }
    if meta.get("namespace"):
        ref["namespace"] = str(meta["namespace"])
    if not ref["name"] and meta.get("generateName"):
        ref["generateName"] = str(meta["generateName"])
    return ref


def file_of(resource: dict[str, Any]) -> dict[str, Any] | None:
    annotations = mapping(mapping(resource.get("metadata")).get("annotations"))
    path = next((annotations[a] for a in PATH_ANNOTATIONS if a in annotations), None)
    if path is None:
        return None
    out: dict[str, Any] = {"path": str(path)}
    index = next((annotations[a] for a in INDEX_ANNOTATIONS if a in annotations), None)
    if index is not None and str(index).isdigit():
        out["index"] = int(index)
    return out


def about(
    resource: dict[str, Any], message: str, severity: Severity = "info", field: str | None = None
) -> Result:
    """A result that points at `resource` and the file it came from."""
    return Result(message, severity, reference(resource), field, file_of(resource))
