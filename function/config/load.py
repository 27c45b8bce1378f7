"""Loading the functionConfig: a typed InjectDocker object, or a ConfigMap of strings.

A config that sets nothing gets the defaults without pydantic (see `defaults`);
any other is validated by the model, and every problem is reported at once,
each with the path of its field and, for a misspelt field, the nearest name.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

from function.config.defaults import KIND, default_config, is_default

if TYPE_CHECKING:
    from function.config.model import Config


class ConfigError(Exception):
    """The functionConfig is invalid; `problems` holds (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))
        self.problems = problems


def load(function_config: Any) -> Config:
    """The config: the defaults directly when it sets nothing, else validated by pydantic.

    Raises ConfigError listing every problem.
    """
    if is_default(function_config):
        return default_config()
    from function.config.strings import from_strings

    if not isinstance(function_config, dict):
        raise ConfigError([("", "functionConfig must be a mapping")])
    kind = function_config.get("kind")
    if kind == "ConfigMap":
        data = function_config.get("data") or {}
        if not isinstance(data, dict):
            raise ConfigError([("data", "must be a mapping of strings")])
        fields, problems = from_strings(data)
        try:
            config = _validate(fields, prefix="data.")
        except ConfigError as error:
            problems.extend(error.problems)
        if problems:
            raise ConfigError(problems)
        return config
    if kind is None and "apiVersion" not in function_config:
        raise ConfigError([("kind", f"missing; expected {KIND} or ConfigMap")])
    if kind is not None and kind != KIND:
        raise ConfigError([("kind", f"{kind!r} is not a config; expected {KIND} or ConfigMap")])
    return _validate(function_config, prefix="")


def _validate(fields: dict[str, Any], prefix: str) -> Config:
    from pydantic import ValidationError

    from function.config.model import Config

    try:
        return Config.model_validate(fields)
    except ValidationError as error:
        raise ConfigError([_problem(e, prefix) for e in error.errors()]) from None


_MESSAGES = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
}


def _problem(error: Any, prefix: str) -> tuple[str, str]:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if prefix == "data." and path:
        path = prefix + path
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, "unknown field" + _did_you_mean(error["loc"])
    context = error.get("ctx") or {}
    if kind in _MESSAGES:
        message = _MESSAGES[kind]
    elif kind == "literal_error":
        message = "must be " + str(context.get("expected", "")).replace("'", "")
    elif kind == "greater_than_equal":
        message = f"must be at least {context.get('ge')}"
    elif kind == "less_than_equal":
        message = f"must be at most {context.get('le')}"
    else:
        message = error["msg"].removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, (str, int, float, bool)) and kind != "value_error":
        message += f" (got {given!r})"
    return path, message


def _did_you_mean(location: tuple[Any, ...]) -> str:
    """A hint for a misspelt field, from the fields its model does have."""
    from function.config.model import Config
    from function.config.strings import field_by_alias, model_of, nearest, without_none

    model: Any = Config
    for part in location[:-1]:
        field = field_by_alias(model, str(part)) if isinstance(part, str) else None
        nested = model_of(without_none(field.annotation)) if field is not None else None
        inner = typing.get_args(without_none(field.annotation)) if field is not None else ()
        if nested is None and inner and model_of(inner[0]):
            nested = inner[0]
        if nested is None:
            if isinstance(part, int):
                continue
            return ""
        model = nested
    return nearest(str(location[-1]), model)
