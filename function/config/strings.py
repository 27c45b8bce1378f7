"""The ConfigMap form of the config: `data` strings turned into the model's typed fields.

`kpt fn eval -- key=value` builds such a ConfigMap. Lists are comma-separated,
maps `key=value,...`, objects YAML, and nested settings dotted keys
(`daemonset.name`).
"""

from __future__ import annotations

import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel

from function.config.model import Config


def from_strings(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn ConfigMap `data` (strings; dotted keys for nested settings) into typed fields."""
    fields: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, raw in data.items():
        path = f"data.{key}"
        if not isinstance(raw, str):
            raw = "" if raw is None else str(raw).lower() if isinstance(raw, bool) else str(raw)
        model: type[BaseModel] = Config
        target = fields
        parts = str(key).split(".")
        for part in parts[:-1]:
            field = field_by_alias(model, part)
            nested = model_of(field.annotation) if field else None
            if nested is None:
                problems.append((path, "unknown field" + nearest(part, model)))
                break
            model = nested
            target = target.setdefault(part, {})
        else:
            field = field_by_alias(model, parts[-1])
            if field is None:
                problems.append((path, "unknown field" + nearest(parts[-1], model)))
                continue
            try:
                target[parts[-1]] = parse_string(raw, field.annotation)
            except ValueError as error:
                problems.append((path, str(error)))
    return fields, problems


def nearest(name: str, model: type[BaseModel]) -> str:
    """A hint for a misspelt field, from the fields `model` does have."""
    import difflib

    names = [f.alias for f in model.model_fields.values() if f.alias]
    close = difflib.get_close_matches(name, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def field_by_alias(model: type[BaseModel], alias: str) -> Any:
    return next((f for f in model.model_fields.values() if f.alias == alias), None)


def model_of(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def parse_string(raw: str, annotation: Any) -> Any:
    """A ConfigMap string as the value its field wants."""
    base = without_none(annotation)
    origin = typing.get_origin(base)
    args = typing.get_args(base)
    if origin is list and args == (str,):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if origin is dict and args == (str, str) and "=" in raw and not raw.lstrip().startswith("{"):
        pairs = [part.split("=", 1) for part in raw.split(",") if part.strip()]
        return {k.strip(): v.strip() for k, v in pairs}
    if origin in (list, dict) or model_of(base):
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as error:
            raise ValueError(f"not valid YAML: {str(error).splitlines()[0]}") from None
        if origin is list and args and model_of(args[0]) and not isinstance(value, list):
            # `selectors=Job`: show the form a list of objects takes here.
            raise ValueError(
                f"must be a list of objects in YAML flow style, such as [{{kind: Job}}] "
                f"(got {raw!r})"
            )
        return value
    if raw.strip() in ("", "null") and base is not annotation:
        return None
    return raw


def without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation
