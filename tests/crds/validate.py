"""Check custom resources against the CRD schemas stored in this folder.

The function edits other projects' custom resources. A field the API server does not know
is pruned or rejected there, not here, so the tests check each output against the
openAPIV3Schema that the CI engine publishes. See README.md in this folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

CRD_DIR = Path(__file__).resolve().parent

# libyaml parses the 2.8 MiB Argo files in under a second; pure Python takes far longer.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# controller-gen, Tekton and Argo all write `spec.group` and `spec.names.kind` at these indents;
# _crd() checks the parsed document agrees, so a drift fails loudly instead of silently.
_GROUP = re.compile(r"^  group: *(\S+)\s*$", re.M)
_KIND = re.compile(r"^    kind: *(\S+)\s*$", re.M)
# Keywords with no JSON Schema meaning (or handled by _convert itself).
_DROPPED = {"description", "default", "example", "externalDocs", "nullable"}
_INT_OR_STRING: list[str] = ["integer", "string"]


@cache
def _index() -> dict[tuple[str, str], Path]:
    """Map (group, kind) to its file by a text scan, so a lookup parses one large file only."""
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        group, kind = _GROUP.search(text), _KIND.search(text)
        if group and kind:
            found[(group.group(1), kind.group(1))] = path
    return found


def known_kinds() -> set[tuple[str, str]]:
    """The (group, kind) pairs with a stored CRD."""
    return set(_index())


@cache
def _crd(group: str, kind: str) -> dict[str, Any]:
    """The parsed CustomResourceDefinition for (group, kind); parsing is slow, so cached."""
    path = _index()[(group, kind)]
    with path.open(encoding="utf-8") as stream:
        docs = [doc for doc in yaml.load_all(stream, Loader=_LOADER) if doc]
    for doc in docs:
        spec = doc.get("spec", {})
        if spec.get("group") == group and spec.get("names", {}).get("kind") == kind:
            return doc
    raise LookupError(f"{path.name} does not define {kind}.{group}")


def _served_versions(group: str, kind: str) -> dict[str, dict[str, Any]]:
    versions = _crd(group, kind)["spec"]["versions"]
    return {v["name"]: v for v in versions if v.get("served", False)}


def _convert(node: Any, strict: bool) -> Any:
    """Turn a Kubernetes structural schema node into plain JSON Schema (draft 4).

    OpenAPI v3 as Kubernetes uses it differs from JSON Schema in a few keywords:
    `nullable` adds null to the type; `x-kubernetes-int-or-string` means integer or string;
    `x-kubernetes-preserve-unknown-fields` keeps unknown fields. In strict mode an object
    schema that lists `properties` without preserving unknown fields gets
    `additionalProperties: false`, which is what pruning plus strict field validation does.
    CEL rules (`x-kubernetes-validations`) and `format` are not checked.
    """
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-kubernetes-"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: _convert(sub, strict) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = (
                [_convert(sub, strict) for sub in value]
                if isinstance(value, list)
                else _convert(value, strict)
            )
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(sub, strict) for sub in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = list(_INT_OR_STRING)
        # controller-gen also writes anyOf: [{type: integer}, {type: string}]; the type says it.
        if all(set(sub) == {"type"} for sub in out.get("anyOf", [])):
            out.pop("anyOf", None)
    if node.get("nullable"):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if (
        strict
        and "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def _validator(group: str, kind: str, version: str, strict: bool) -> jsonschema.Draft4Validator:
    """A compiled validator per version; OpenAPI 3.0 schemas follow draft 4's keyword meanings."""
    schema = _served_versions(group, kind)[version]["schema"]["openAPIV3Schema"]
    return jsonschema.Draft4Validator(_convert(schema, strict))


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _messages(error: ValidationError) -> list[str]:
    """Readable lines for one error: `path: what is wrong`."""
    where = _path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(key) for key in error.instance if key not in known)
        return [f"{_path([*error.absolute_path, key])}: unknown field" for key in extra]
    if error.context:
        best = best_match(error.context)
        return [f"{where or '<root>'}: {error.message} (e.g. {best.message})"]
    return [f"{where or '<root>'}: {error.message}"]


def crd_errors(resource: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Validation errors of a resource against its stored CRD; empty when it is valid.

    With strict=True an unknown field is an error wherever the schema lists its fields
    (as the API server rejects or prunes it); without, only types, required fields, enums
    and the like are checked, as JSON Schema reads the published schema.
    """
    api_version, kind = resource.get("apiVersion"), resource.get("kind")
    if not isinstance(api_version, str) or "/" not in api_version or not isinstance(kind, str):
        return [f"<root>: apiVersion {api_version!r} / kind {kind!r} name no custom resource"]
    group, version = api_version.rsplit("/", 1)
    if (group, kind) not in _index():
        return [f"<root>: no CRD stored for {kind}.{group} in {CRD_DIR}"]
    served = _served_versions(group, kind)
    if version not in served:
        return [f"<root>: {kind}.{group} serves {sorted(served)}, not {version!r}"]
    errors = _validator(group, kind, version, strict).iter_errors(resource)
    messages = [line for error in errors for line in _messages(error)]
    return sorted(set(messages))
