"""The functionConfig: a typed InjectDocker object, or a ConfigMap of strings.

Every setting has a default, so no functionConfig at all is a valid config.
Validation reports every problem at once, each with the path of its field.
"""

from __future__ import annotations

import os
import re
import types
import typing
from typing import Any, Literal

# pydantic scans every installed package for plugins on first use; none are used here.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from function import labels
from function.defaults import DAEMONSET, DEFAULTS, KIND, ConfigError


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", frozen=True, validate_default=True
    )


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[mkMGTPE])?")
# dockerd flags the function sets itself: giving them again would fight its wiring.
_MANAGED_FLAGS = (
    "--host",
    "-H",
    "--tls",
    "--tlsverify",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--data-root",
    "--exec-root",
    "--pidfile",
    "--mtu",
    "--registry-mirror",
    "--insecure-registry",
)


def _dns_label(value: str, longest: int = 63) -> str:
    if not _DNS_LABEL.fullmatch(value) or len(value) > longest:
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name: lower-case letters, digits and '-', "
            f"at most {longest} characters"
        )
    return value


def _quantity(value: Any) -> Any:
    if isinstance(value, bool) or not _QUANTITY.fullmatch(str(value)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 20Gi or 500m")
    return value


class Selector(_Model):
    """Which resources an entry of `selectors` or `exclude` matches. Its fields are ANDed."""

    group: str | None = Field(
        None, description='API group, such as `batch`; `""` is the core group.'
    )
    version: str | None = Field(None, description="API version, such as `v1`.")
    kind: str | None = Field(None, description="Kind, such as `Job`.")
    name: str | None = Field(None, description="Name; a regular expression matched in full.")
    namespace: str | None = Field(
        None, description="Namespace; a regular expression matched in full."
    )
    label_selector: str | None = Field(
        None, description="Kubernetes label selector, such as `ci=true,team in (a,b)`."
    )
    annotation_selector: str | None = Field(
        None, description="Label-selector syntax applied to the annotations."
    )

    @field_validator("label_selector", "annotation_selector")
    @classmethod
    def _selector_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            labels.parse(value)
        return value

    @field_validator("name", "namespace")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value


class DaemonSetSettings(_Model):
    """The node Docker daemon that `mode: daemonset` emits."""

    name: str = Field(DAEMONSET["name"], description="Name of the DaemonSet.")
    namespace: str | None = Field(
        DAEMONSET["namespace"],
        description="Namespace of the DaemonSet; unset leaves it to the package.",
    )
    path: str = Field(DAEMONSET["path"], description="File that kpt writes the DaemonSet to.")
    host_socket_dir: str = Field(
        DAEMONSET["host_socket_dir"],
        description="Node directory for the daemon's socket; never the node's own `/var/run`.",
    )
    host_data_root: str = Field(
        DAEMONSET["host_data_root"],
        description="Node directory for the daemon's images and containers (`--data-root`).",
    )
    node_selector: dict[str, str] = Field(
        default_factory=dict,
        description="Nodes that run the daemon; client workloads get the same selector.",
    )
    tolerations: list[dict[str, Any]] = Field(
        default_factory=list, description="Tolerations of the DaemonSet's pods."
    )
    priority_class_name: str | None = Field(
        DAEMONSET["priority_class_name"], description="priorityClassName of the daemon."
    )
    update_strategy: dict[str, Any] | None = Field(
        DAEMONSET["update_strategy"],
        description="updateStrategy of the DaemonSet, such as `{type: OnDelete}`.",
    )
    emit_namespace: bool = Field(
        DAEMONSET["emit_namespace"],
        description="Also emit the Namespace, labelled for Pod Security level `privileged`.",
    )
    mount_socket_file: bool = Field(
        DAEMONSET["mount_socket_file"],
        description="Also mount the socket file at `/var/run/docker.sock` in client "
        "containers, for tools that ignore DOCKER_HOST.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _dns_label(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return value if value is None else _dns_label(value)

    @field_validator("host_socket_dir", "host_data_root")
    @classmethod
    def _own_directory(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        if value.rstrip("/") in ("", "/var/run", "/run", "/var/lib/docker", "/var/lib"):
            raise ValueError(f"{value!r} belongs to the node; use a directory of its own")
        return value.rstrip("/")


class Config(_Model):
    """Settings of inject-docker (kind InjectDocker)."""

    api_version: Literal["fn.inject-docker.dev/v1alpha1"] = Field(
        DEFAULTS["api_version"], description="Always `fn.inject-docker.dev/v1alpha1`."
    )
    kind: Literal["InjectDocker"] = Field(DEFAULTS["kind"], description="Always `InjectDocker`.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Object metadata.")
    mode: Literal["sidecar", "daemonset", "audit"] = Field(
        DEFAULTS["mode"],
        description="`sidecar`: a Docker-in-Docker native sidecar in each pod. "
        "`daemonset`: a Docker daemon per node, reached through a hostPath. "
        "`audit`: change nothing, report host socket mounts and unsafe daemons.",
    )
    selectors: list[Selector] = Field(
        default_factory=list,
        description="Resources to change (entries ORed). None: every Pod, Job and CronJob. "
        "Other workload kinds only when an entry names their kind.",
    )
    exclude: list[Selector] = Field(
        default_factory=list, description="Resources never to change (entries ORed)."
    )
    containers: list[str] = Field(
        default_factory=list,
        description="Containers and init containers that use Docker. None: every container "
        "in `containers`. The annotation `inject-docker.dev/containers` overrides it.",
    )
    image: str = Field(DEFAULTS["image"], description="dockerd image; pin a full version.")
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = Field(
        DEFAULTS["image_pull_policy"], description="imagePullPolicy of the daemon container."
    )
    native_sidecar: bool = Field(
        DEFAULTS["native_sidecar"],
        description="Run dockerd as a native sidecar (init container with "
        "`restartPolicy: Always`, Kubernetes 1.29+), so Jobs complete. `false`: a plain "
        "container, for older clusters.",
    )
    sidecar_name: str = Field(
        DEFAULTS["sidecar_name"],
        description="Name of the daemon container; also the prefix of its volumes.",
    )
    socket_dir: str = Field(
        DEFAULTS["socket_dir"],
        description="Directory of the daemon's socket in the pod's containers.",
    )
    mount_socket_at_var_run: bool = Field(
        DEFAULTS["mount_socket_at_var_run"],
        description="Sidecar mode: mount the socket directory at `/var/run` in client "
        "containers, for tools that hard-code `/var/run/docker.sock`. It hides whatever "
        "the client image keeps in `/var/run`.",
    )
    transport: Literal["unix", "tls", "tcp"] = Field(
        DEFAULTS["transport"],
        description="`unix`: socket only. `tls`: also TCP 2376 with TLS certificates shared "
        "through an emptyDir. `tcp`: plain TCP on 127.0.0.1:2375 without authentication.",
    )
    mtu: int | None = Field(
        DEFAULTS["mtu"],
        ge=576,
        le=65535,
        description="MTU of the daemon's networks; below the pod network's MTU. "
        "null keeps dockerd's 1500.",
    )
    registry_mirrors: list[str] = Field(
        default_factory=list, description="`--registry-mirror` URLs."
    )
    insecure_registries: list[str] = Field(
        default_factory=list, description="`--insecure-registry` hosts."
    )
    dockerd_args: list[str] = Field(default_factory=list, description="Extra dockerd flags.")
    resources: dict[str, Any] | None = Field(
        DEFAULTS["resources"], description="Resources of the daemon container (requests, limits)."
    )
    storage_size_limit: str | None = Field(
        DEFAULTS["storage_size_limit"],
        description="sizeLimit of the emptyDir at `/var/lib/docker`, such as `20Gi`.",
    )
    runtime_class_name: str | None = Field(
        DEFAULTS["runtime_class_name"],
        description="A runtime class (such as `sysbox-runc`) that runs dockerd without "
        "privileged mode; set on the pod.",
    )
    privileged: bool | None = Field(
        DEFAULTS["privileged"],
        description="Run dockerd privileged. Default: true, or false when "
        "`runtimeClassName` is set. Setting it to true also says the namespaces allow "
        "privileged pods, which silences the Pod Security warning.",
    )
    mirror_workspaces: bool = Field(
        DEFAULTS["mirror_workspaces"],
        description="Mount the client containers' emptyDir and persistent volumes into the "
        "daemon at the same paths, so `docker run -v $PWD:/src` works.",
    )
    daemonset: DaemonSetSettings = Field(
        default_factory=DaemonSetSettings, description="The node daemon (mode daemonset)."
    )
    fail_on_findings: bool = Field(
        DEFAULTS["fail_on_findings"], description="Audit mode: exit 1 when anything is found."
    )

    @field_validator("sidecar_name")
    @classmethod
    def _sidecar_name(cls, value: str) -> str:
        return _dns_label(value, 63 - len("-storage"))  # its volumes add a suffix

    @field_validator("storage_size_limit")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        return value if value is None else _quantity(value)

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        for key, amounts in value.items():
            if key not in ("limits", "requests"):
                raise ValueError(f"unknown key {key!r}; expected limits and requests")
            if not isinstance(amounts, dict):
                raise ValueError(f"{key} must map resource names to quantities")
            for amount in amounts.values():
                _quantity(amount)
        return value

    @field_validator("dockerd_args")
    @classmethod
    def _dockerd_args(cls, value: list[str]) -> list[str]:
        for arg in value:
            flag = arg.split("=", 1)[0]
            if flag in _MANAGED_FLAGS:
                raise ValueError(
                    f"{flag} is set by inject-docker (see transport, mtu, registryMirrors, "
                    "insecureRegistries and daemonset); it cannot be given here"
                )
        return value

    @field_validator("socket_dir")
    @classmethod
    def _socket_dir(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must be an absolute path")
        if value.rstrip("/") in ("", "/var/run", "/run"):
            raise ValueError("use a directory of its own, not /var/run")
        return value.rstrip("/")


def default() -> Config:
    return Config()


def load(function_config: Any) -> Config:
    """Validate a functionConfig (typed or ConfigMap); raise ConfigError listing every problem."""
    if function_config is None or function_config == {}:
        return default()
    if not isinstance(function_config, dict):
        raise ConfigError([("", "functionConfig must be a mapping")])
    kind = function_config.get("kind")
    if kind == "ConfigMap":
        data = function_config.get("data") or {}
        if not isinstance(data, dict):
            raise ConfigError([("data", "must be a mapping of strings")])
        fields, problems = _from_strings(data)
        try:
            config = _validate(fields, prefix="data.")
        except ConfigError as error:
            problems.extend(error.problems)
        if problems:
            raise ConfigError(problems)
        return config
    if kind is None and "apiVersion" not in function_config:
        raise ConfigError([("kind", f"missing; expected {KIND} or ConfigMap")])
    return _validate(function_config, prefix="")


def _validate(fields: dict[str, Any], prefix: str) -> Config:
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
    import difflib

    model: Any = Config
    for part in location[:-1]:
        field = _field(model, str(part)) if isinstance(part, str) else None
        nested = _model_of(_without_none(field.annotation)) if field is not None else None
        inner = typing.get_args(_without_none(field.annotation)) if field is not None else ()
        if nested is None and inner and _model_of(inner[0]):
            nested = inner[0]
        if nested is None:
            if isinstance(part, int):
                continue
            return ""
        model = nested
    names = [f.alias for f in model.model_fields.values() if f.alias]
    close = difflib.get_close_matches(str(location[-1]), names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- ConfigMap form ----------------------------------------------------------


def _from_strings(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
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
            field = _field(model, part)
            nested = _model_of(field.annotation) if field else None
            if nested is None:
                problems.append((path, "unknown field"))
                break
            model = nested
            target = target.setdefault(part, {})
        else:
            field = _field(model, parts[-1])
            if field is None:
                problems.append((path, "unknown field"))
                continue
            try:
                target[parts[-1]] = _parse_string(raw, field.annotation)
            except ValueError as error:
                problems.append((path, str(error)))
    return fields, problems


def _field(model: type[BaseModel], alias: str) -> Any:
    return next((f for f in model.model_fields.values() if f.alias == alias), None)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _parse_string(raw: str, annotation: Any) -> Any:
    """A ConfigMap string as the value its field wants."""
    base = _without_none(annotation)
    origin = typing.get_origin(base)
    args = typing.get_args(base)
    if origin is list and args == (str,):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if origin is dict and args == (str, str) and "=" in raw and not raw.lstrip().startswith("{"):
        pairs = [part.split("=", 1) for part in raw.split(",") if part.strip()]
        return {k.strip(): v.strip() for k, v in pairs}
    if origin in (list, dict) or _model_of(base):
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as error:
            raise ValueError(f"not valid YAML: {str(error).splitlines()[0]}") from None
        return value
    if raw.strip() in ("", "null") and base is not annotation:
        return None
    return raw


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation
