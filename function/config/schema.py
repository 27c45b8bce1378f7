"""The config's schema and reference, generated from the pydantic model.

`inject-docker schema` prints the JSON Schema; `--krm` the KRMFunctionDefinition
that carries it; `--markdown` the config reference the README embeds.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from function.config.defaults import API_VERSION, KIND
from function.config.model import Config, DaemonSetSettings, Selector
from function.yamltext import writer

GROUP, _, VERSION = API_VERSION.partition("/")


def json_schema() -> dict[str, Any]:
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = KIND
    return schema


def _openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema as OpenAPI v3.0, the dialect of CRD and KRMFunctionDefinition schemas.

    No `$ref` (definitions inlined), no `const` (a one-value `enum`), no `anyOf` with
    `null` (`nullable: true`), no `additionalProperties: false` or `true` (free-form
    objects preserve unknown fields instead), and no generated titles.
    """
    definitions = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return walk(
                {
                    **definitions[node["$ref"].rpartition("/")[2]],
                    **{k: v for k, v in node.items() if k != "$ref"},
                }
            )
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$defs", "$schema", "title") or (
                key == "additionalProperties" and value is False
            ):
                continue
            if key == "const":
                out["enum"] = [value]
            elif key == "additionalProperties" and value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif key == "anyOf" and {"type": "null"} in value:
                rest = [v for v in value if v != {"type": "null"}]
                out.update(walk(rest[0]) if len(rest) == 1 else _int_or_string(rest))
                out["nullable"] = True
            elif key == "properties":
                out[key] = {name: walk(v) for name, v in value.items()}
            else:
                out[key] = walk(value)
        return out

    return walk(schema)


def _int_or_string(choices: list[Any]) -> dict[str, Any]:
    """A number or a word (`mtu: auto`): the way Kubernetes schemas say it."""
    types = {c.get("type") for c in choices if isinstance(c, dict)}
    if types == {"integer", "string"}:
        return {"x-kubernetes-int-or-string": True}
    return {"anyOf": choices}


def krm_function_definition() -> dict[str, Any]:
    return {
        "apiVersion": "config.kubernetes.io/v1alpha1",
        "kind": "KRMFunctionDefinition",
        "metadata": {"name": f"{KIND.lower()}s.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"kind": KIND},
            "description": "Gives CI workloads a Docker daemon on containerd clusters: a "
            "Docker-in-Docker native sidecar or a node DaemonSet.",
            "versions": [{"name": VERSION, "schema": {"openAPIV3Schema": _openapi(json_schema())}}],
        },
    }


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _type_name(args[0])
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "map"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    names = {str: "string", bool: "boolean", int: "integer", float: "number"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "see below"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, (list, dict)) and not value:
        return "none"
    return f"`{writer.scalar(value) if not isinstance(value, (list, dict)) else json.dumps(value)}`"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for field in model.model_fields.values():
        name = f"{prefix}{field.alias}"
        description = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {description} |"
        )
    return rows


def markdown() -> str:
    header = "| field | type | default | meaning |\n|---|---|---|---|\n"
    parts = [
        "Top-level fields of `kind: InjectDocker` (or keys of a ConfigMap's `data`, as "
        "strings: lists comma-separated, maps as `key=value,...`, objects as YAML, nested "
        "fields as dotted keys such as `daemonset.name`).\n\n"
        + header
        + "\n".join(_rows(Config, "")),
        "Fields of each entry of `selectors` and `exclude`:\n\n"
        + header
        + "\n".join(_rows(Selector, "")),
        "Fields of `daemonset`:\n\n" + header + "\n".join(_rows(DaemonSetSettings, "daemonset.")),
    ]
    return "\n\n".join(parts) + "\n"


SCHEMA_USAGE = """\
usage: inject-docker schema             JSON Schema of the InjectDocker config
       inject-docker schema --krm       the same as a KRMFunctionDefinition (OpenAPI v3.0)
       inject-docker schema --markdown  the config reference the README embeds
"""


def render(args: list[str]) -> str:
    unknown = [a for a in args if a not in ("--krm", "--markdown")]
    if unknown:
        raise SystemExit(
            SCHEMA_USAGE
            if unknown[0] in ("-h", "--help")
            else f"inject-docker schema: unknown option {unknown[0]}\n{SCHEMA_USAGE}"
        )
    if "--krm" in args:
        return writer.document(krm_function_definition())
    if "--markdown" in args:
        return markdown()
    return json.dumps(json_schema(), indent=2) + "\n"
