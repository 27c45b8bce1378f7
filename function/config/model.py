"""The config model: every setting of kind InjectDocker, its type, default and meaning.

Every setting has a default, so no functionConfig at all is a valid config. The
descriptions here are the config reference (`inject-docker schema --markdown`).
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any, Literal

# pydantic scans every installed package for plugins on first use; none are used here.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from function.config.defaults import DAEMONSET, DEFAULTS, PRUNE
from function.kube import daemons, images, labelselector


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", frozen=True, validate_default=True
    )


# daemon.json keys whose settings inject-docker gives dockerd as flags.
_FLAG_SETTINGS = frozenset(
    {
        "hosts",
        "tls",
        "tlsverify",
        "tlscacert",
        "tlscert",
        "tlskey",
        "mtu",
        "default-network-opts",
        "group",
        "data-root",
        "exec-root",
        "pidfile",
        "registry-mirrors",
        "insecure-registries",
        "storage-driver",
        "iptables",
        "ip6tables",
    }
)
_API = re.compile(r"1\.[0-9]{1,2}")
_TEMPLATE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[mkMGTPE])?")
# dockerd flags the function sets itself: its wiring, and what config fields set.
_MANAGED_FLAGS = daemons.WIRING_FLAGS | {
    "--registry-mirror",
    "--insecure-registry",
    "--group",
    "-G",
}


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
    uses_docker: bool | None = Field(
        None,
        description="`true`: only workloads that show Docker use (a Docker CLI or dind image; "
        "`docker`, `docker-compose`, `docker compose` or `testcontainers` in a command or "
        "script; `DOCKER_HOST` in env; a mount of a host Docker socket; an existing daemon). "
        "`false`: only the others.",
    )

    pod_template_path: str | None = Field(
        None,
        description="For a kind inject-docker does not know: the dotted path of the pod "
        "template inside it, such as `spec.template` (the pod spec is its `spec`). Needs "
        "`kind`. Such resources are wired like a Deployment's pod template.",
    )

    @field_validator("pod_template_path")
    @classmethod
    def _template_path(cls, value: str | None) -> str | None:
        if value is not None and not _TEMPLATE_PATH.fullmatch(value):
            raise ValueError(f"{value!r} is not a dotted path of field names such as spec.template")
        return value

    @model_validator(mode="after")
    def _template_needs_kind(self) -> Selector:
        if self.pod_template_path is not None and self.kind is None:
            raise ValueError(
                "podTemplatePath needs kind: it says where one kind keeps its pod template"
            )
        return self

    @field_validator("label_selector", "annotation_selector")
    @classmethod
    def _selector_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            labelselector.parse(value)
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


class Prune(_Model):
    """When the node daemon's disk is pruned."""

    high: int = Field(
        PRUNE["high"], ge=1, le=100, description="Prune when the disk is this % full."
    )
    low: int = Field(PRUNE["low"], ge=0, le=99, description="... until it is below this %.")
    interval: int = Field(PRUNE["interval"], ge=10, description="Seconds between looks.")


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
    prune: Prune | None = Field(
        default_factory=Prune,
        description="A second container in the DaemonSet that prunes the daemon's images and "
        "build cache when its disk fills (null: none).",
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
        value = posixpath.normpath(value)
        if value in ("/", "/var/run", "/run", "/var/lib/docker", "/var/lib"):
            raise ValueError(f"{value!r} belongs to the node; use a directory of its own")
        return value


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
    mtu: int | Literal["auto"] | None = Field(
        DEFAULTS["mtu"],
        description="MTU of the daemon's networks, for the default bridge and every network "
        "that `docker network create` and compose make. `auto`: read at start from the pod's "
        "network interface, by a small shell wrapper around the image's entrypoint. A number "
        "pins it; null keeps dockerd's 1500.",
    )
    iptables: Literal["auto", "nft", "legacy", "off"] = Field(
        DEFAULTS["iptables"],
        description="Firewall backend of the daemon. `auto`: the dind image chooses (legacy "
        "when the node already has legacy tables, else nf_tables if it works). `nft` or "
        "`legacy` force one, for nodes that lack the other's kernel modules. `off`: dockerd "
        "touches no netfilter table (`--iptables=false`): containers then get no NAT, so "
        "they reach nothing outside the pod and published ports do not work.",
    )
    storage_driver: str | None = Field(
        DEFAULTS["storage_driver"],
        description="dockerd `--storage-driver`. Unset: the image's own (Docker 29: the "
        "containerd image store; `overlay2` brings back the classic one). `vfs` works "
        "everywhere but copies every layer whole: slow and large.",
    )
    build_cache_keep: str | None = Field(
        DEFAULTS["build_cache_keep"],
        description="Bound of the build cache that BuildKit's garbage collection keeps "
        "(daemon.json `builder.gc.defaultKeepStorage`), such as `20GB`; null: BuildKit's "
        "default (10% of the disk).",
    )
    max_concurrent_downloads: int | None = Field(
        DEFAULTS["max_concurrent_downloads"],
        ge=1,
        description="Layers the daemon pulls at once (daemon.json "
        "`max-concurrent-downloads`; dockerd's default is 3).",
    )
    daemon_config: dict[str, Any] | None = Field(
        DEFAULTS["daemon_config"],
        description="More daemon.json settings, such as `features` or `log-level`. Settings "
        "inject-docker passes as flags (hosts, TLS, mtu, group, data root, mirrors, storage "
        "driver, iptables) cannot be given here: dockerd refuses a setting given both ways.",
    )
    registry_mirrors: list[str] = Field(
        default_factory=list, description="`--registry-mirror` URLs."
    )
    insecure_registries: list[str] = Field(
        default_factory=list, description="`--insecure-registry` hosts."
    )
    dockerd_args: list[str] = Field(default_factory=list, description="Extra dockerd flags.")
    resources: dict[str, Any] | None = Field(
        default_factory=lambda: dict(DEFAULTS["resources"]),
        description="Resources of the daemon container (requests, limits). The build runs in "
        "the daemon, so its memory counts there. null: none.",
    )
    storage_size_limit: str | None = Field(
        DEFAULTS["storage_size_limit"],
        description="sizeLimit of the emptyDir at `/var/lib/docker`: the kubelet evicts the "
        "pod before its layers fill the node's disk. null lifts it.",
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
    socket_group: int = Field(
        DEFAULTS["socket_group"],
        ge=1,
        le=4294967294,
        description="Group id of the daemon's socket (dockerd `--group`), added to the client "
        "pods' `securityContext.supplementalGroups` in both modes, so a client running as any "
        "user can open the socket.",
    )
    min_api_version: str | None = Field(
        DEFAULTS["min_api_version"],
        description="Oldest Docker API version the daemon accepts (`DOCKER_MIN_API_VERSION`), "
        "such as `1.39`. Unset: lowered only as far as the oldest docker CLI image among the "
        "clients needs.",
    )
    replace_daemons: bool = Field(
        DEFAULTS["replace_daemons"],
        description="Replace Docker daemons the workloads already run, even those that work "
        "safely (a native sidecar on a unix socket). Unsafe ones (TCP without TLS, a plain "
        "daemon container in a Job) are always replaced.",
    )
    mirror_workspaces: bool = Field(
        DEFAULTS["mirror_workspaces"],
        description="Mount the client containers' emptyDir and persistent volumes into the "
        "daemon at the same paths, so `docker run -v $PWD:/src` works.",
    )
    mesh: Literal["auto", "ignore", "optout"] = Field(
        DEFAULTS["mesh"],
        description="Service meshes. `auto`: where a workload or its Namespace asks for "
        "Istio or Linkerd injection, keep the daemon's container traffic out of the mesh's "
        "redirection. `optout`: take such pods out of the mesh. `ignore`: do nothing.",
    )
    testcontainers: bool = Field(
        DEFAULTS["testcontainers"],
        description="Set TESTCONTAINERS_HOST_OVERRIDE and TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE "
        "in the clients, so Testcontainers reaches the ports it publishes and mounts the "
        "right socket into its reaper.",
    )
    rootless: bool = Field(
        DEFAULTS["rootless"],
        description="Run the daemon from the dind-rootless image as its own user (1000). "
        "See the README for what it needs from the node.",
    )
    daemonset: DaemonSetSettings = Field(
        default_factory=DaemonSetSettings, description="The node daemon (mode daemonset)."
    )
    fail_on_findings: bool = Field(
        DEFAULTS["fail_on_findings"], description="Audit mode: exit 1 when anything is found."
    )

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        wrong = images.problem(value)
        if wrong:
            raise ValueError(wrong)
        return value

    @field_validator("min_api_version")
    @classmethod
    def _api(cls, value: str | None) -> str | None:
        if value is not None:
            if not _API.fullmatch(value):
                raise ValueError(f"{value!r} is not an API version such as 1.39")
            if images.api_key(value) < images.api_key(images.LOWEST_API):
                raise ValueError(
                    f"{value!r}: current daemons accept {images.LOWEST_API} at the oldest"
                )
        return value

    @field_validator("daemon_config")
    @classmethod
    def _daemon_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        clashing = sorted(set(value or {}) & _FLAG_SETTINGS)
        if clashing:
            raise ValueError(
                f"{', '.join(clashing)}: inject-docker passes these to dockerd as flags, and "
                "dockerd refuses a setting given both ways; use the config's own fields"
            )
        return value

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
            if not flag.startswith("--"):
                flag = flag[:2]  # `-Htcp://...`: a short flag with its value attached
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
        value = posixpath.normpath(value)
        if value in ("/", "/var/run", "/run"):
            raise ValueError("use a directory of its own, not /var/run")
        return value

    @field_validator("socket_group", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a whole number, not true or false")
        return value

    @field_validator("iptables", mode="before")
    @classmethod
    def _iptables(cls, value: Any) -> Any:
        # YAML reads a bare `off` as false.
        return "off" if value is False else value

    @field_validator("mtu", mode="before")
    @classmethod
    def _mtu(cls, value: Any) -> Any:
        """One message for the three forms (pydantic would give one per form)."""
        if value is None or value == "auto":
            return value
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.strip().isdigit():
            number = int(value)
        if number is None:
            raise ValueError(f"must be a whole number or auto (got {value!r})")
        if not 576 <= number <= 65535:
            raise ValueError(f"must be from 576 to 65535 (got {number})")
        return number
