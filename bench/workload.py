"""Synthetic inputs for the benchmarks: N resources, one fifth each of five kinds.

Resource i is a Pod, Job, Deployment, Service or ConfigMap (i % 5). Each workload has
one container named `build`. Every third resource carries a `# comment` line and a
trailing comment. With the default selection (no functionConfig, or an InjectDocker
with nothing else) the function changes the Pods and Jobs: 40% of the items.

The same resources come in three shapes:
  * resource_list(): a ResourceList text, as kpt sends it (path and index annotations),
  * write_kustomize_dir(): plain manifest files plus a kustomization.yaml (with, if
    asked, a container transformer, or strategic-merge patches adding the sidecar),
  * write_kpt_package(): a Kptfile plus the same manifest files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

KINDS = ("Pod", "Job", "Deployment", "Service", "ConfigMap")
INJECTED_KINDS = frozenset({"Pod", "Job"})
CLIENT_IMAGE = "docker:29.8.0-cli"
RESOURCES_DIR = "resources"

FN_API_VERSION = "fn.inject-docker.dev/v1alpha1"
FN_KIND = "InjectDocker"
FUNCTION_CONFIG = f"""\
apiVersion: {FN_API_VERSION}
kind: {FN_KIND}
metadata:
  name: inject-docker
"""
EMPTY_RESOURCE_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"


def kind_of(i: int) -> str:
    return KINDS[i % len(KINDS)]


def name_of(i: int) -> str:
    return f"build-{i:05d}"


def has_comments(i: int) -> bool:
    return i % 3 == 0


def expected_injected(n: int) -> int:
    """How many of the first n resources the function changes by default."""
    return sum(1 for i in range(n) if kind_of(i) in INJECTED_KINDS)


def file_of(i: int, per_file: int = 1) -> str:
    """Path (relative to the package) of the file holding resource i."""
    if per_file == 1:
        return f"{RESOURCES_DIR}/{i:05d}-{kind_of(i).lower()}.yaml"
    return f"{RESOURCES_DIR}/part-{i // per_file:04d}.yaml"


# --- one resource ------------------------------------------------------------------


def _container(indent: str, command: list[str]) -> list[str]:
    lines = [f"{indent}- name: build", f"{indent}  image: {CLIENT_IMAGE}", f"{indent}  command:"]
    lines += [f"{indent}  - {word}" for word in command]
    lines += [
        f"{indent}  resources:",
        f"{indent}    requests:",
        f"{indent}      cpu: 500m",
        f"{indent}      memory: 512Mi",
    ]
    return lines


def _pod_body(i: int) -> list[str]:
    return [
        "spec:",
        "  restartPolicy: Never",
        "  containers:",
        *_container("  ", ["docker", "build", "-t", f"example/app-{i}", "."]),
    ]


def _job_body(i: int) -> list[str]:
    return [
        "spec:",
        "  backoffLimit: 2",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        *_container("      ", ["docker", "build", "-t", f"example/job-{i}", "."]),
    ]


def _deployment_body(i: int) -> list[str]:
    return [
        "spec:",
        "  replicas: 1",
        "  selector:",
        "    matchLabels:",
        f"      app: {name_of(i)}",
        "  template:",
        "    metadata:",
        "      labels:",
        f"        app: {name_of(i)}",
        "    spec:",
        "      containers:",
        *_container("      ", ["sleep", "infinity"]),
    ]


def _service_body(i: int) -> list[str]:
    return [
        "spec:",
        "  selector:",
        f"    app: {name_of(i - 1)}",
        "  ports:",
        "  - name: http",
        "    port: 80",
        "    targetPort: 8080",
    ]


def _configmap_body(i: int) -> list[str]:
    return [
        "data:",
        f"  BUILD_ID: '{i}'",
        "  REGISTRY: registry.example.com",
        "  settings.ini: |",
        "    [build]",
        "    cache = true",
    ]


_BODIES: dict[str, tuple[str, Callable[[int], list[str]]]] = {
    "Pod": ("v1", _pod_body),
    "Job": ("batch/v1", _job_body),
    "Deployment": ("apps/v1", _deployment_body),
    "Service": ("v1", _service_body),
    "ConfigMap": ("v1", _configmap_body),
}


def manifest_lines(i: int, annotations: dict[str, str] | None = None) -> list[str]:
    """Resource i as YAML lines (block style, compact sequences, no document marker)."""
    kind = kind_of(i)
    api_version, body = _BODIES[kind]
    trailing = "  # trailing comment" if has_comments(i) else ""
    lines = [f"# comment: resource {i}, a {kind}"] if has_comments(i) else []
    lines += [
        f"apiVersion: {api_version}",
        f"kind: {kind}",
        "metadata:",
        f"  name: {name_of(i)}{trailing}",
        "  namespace: ci",
        "  labels:",
        f"    app.kubernetes.io/name: {name_of(i)}",
    ]
    if annotations:
        lines.append("  annotations:")
        lines += [f"    {key}: '{value}'" for key, value in annotations.items()]
    return lines + body(i)


def manifest(i: int) -> str:
    """Resource i as a plain manifest (what a file in a package holds)."""
    return "\n".join(manifest_lines(i)) + "\n"


# --- the ResourceList --------------------------------------------------------------


def _wire_annotations(i: int, per_file: int) -> dict[str, str]:
    path, index = file_of(i, per_file), str(i % per_file)
    return {
        "config.kubernetes.io/index": index,
        "config.kubernetes.io/path": path,
        "internal.config.kubernetes.io/index": index,
        "internal.config.kubernetes.io/path": path,
    }


def _as_item(lines: list[str]) -> str:
    return "\n".join(("- " if n == 0 else "  ") + line for n, line in enumerate(lines))


def resource_list(n: int, *, function_config: bool = False, per_file: int = 1) -> str:
    """A ResourceList of n resources, optionally with an InjectDocker functionConfig."""
    if n == 0 and not function_config:
        return EMPTY_RESOURCE_LIST
    parts = ["apiVersion: config.kubernetes.io/v1", "kind: ResourceList"]
    if n:
        parts.append("items:")
        parts += [_as_item(manifest_lines(i, _wire_annotations(i, per_file))) for i in range(n)]
    else:
        parts.append("items: []")
    if function_config:
        parts.append("functionConfig:")
        parts += ["  " + line for line in FUNCTION_CONFIG.splitlines()]
    return "\n".join(parts) + "\n"


# --- folders -----------------------------------------------------------------------


def write_manifests(folder: Path, n: int, per_file: int = 1) -> list[str]:
    """Write the n resources under folder/resources/; return the files' relative paths."""
    files: dict[str, list[str]] = {}
    for i in range(n):
        files.setdefault(file_of(i, per_file), []).append(manifest(i))
    (folder / RESOURCES_DIR).mkdir(parents=True, exist_ok=True)
    for path, docs in files.items():
        (folder / path).write_text("---\n".join(docs))
    return list(files)


def transformer_config(image: str) -> str:
    """An InjectDocker functionConfig that kustomize runs as a container transformer."""
    return (
        FUNCTION_CONFIG
        + "  annotations:\n"
        + "    config.kubernetes.io/function: |\n"
        + "      container:\n"
        + f"        image: {image}\n"
    )


def capture_mount(source: str, target: str) -> str:
    """A writable bind mount for a container transformer's spec (kustomize requires
    `src` to lie under the kustomization folder; a relative path does)."""
    return (
        "        mounts:\n"
        "        - type: bind\n"
        f"          src: {source}\n"
        f"          dst: {target}\n"
        "          rw: true\n"
    )


# The pod spec a hand-written strategic-merge patch adds: the same DinD native sidecar,
# volumes, socket mount and DOCKER_HOST as the function writes for the `build` container
# (all but its bookkeeping annotation), so that kustomize's own way of doing the job can
# be timed against the function's.
_SIDECAR_PATCH_SPEC = """\
initContainers:
- name: dind
  image: docker:29.8.0-dind
  restartPolicy: Always
  command:
  - /bin/sh
  - -c
  - |
    root=${INJECT_DOCKER_ROOT:-}
    dev=$(awk '$2 == "00000000" { print $1; exit }' "$root/proc/net/route" 2>/dev/null)
    mtu=$(cat "$root/sys/class/net/${dev:-eth0}/mtu" 2>/dev/null)
    if [ -n "$mtu" ]; then
      set -- "$@" --mtu="$mtu" \\
        --default-network-opt=bridge=com.docker.network.driver.mtu="$mtu"
    fi
    mkdir -p "$root/etc/docker" && printf '%s\\n' "$DOCKERD_CONFIG" >"$root/etc/docker/daemon.json"
    exec dockerd-entrypoint.sh "$@"
  - dind
  args:
  - dockerd
  - --host=unix:///var/run/dind/docker.sock
  - --group=2375
  env:
  - name: DOCKERD_CONFIG
    value: '{"builder":{"gc":{"defaultKeepStorage":"20GB","enabled":true}}}'
  securityContext:
    privileged: true
  startupProbe:
    exec:
      command:
      - docker
      - --host
      - unix:///var/run/dind/docker.sock
      - info
    periodSeconds: 2
    timeoutSeconds: 5
    failureThreshold: 60
  resources:
    requests:
      cpu: 500m
      memory: 1Gi
      ephemeral-storage: 10Gi
  volumeMounts:
  - name: dind-socket
    mountPath: /var/run/dind
  - name: dind-storage
    mountPath: /var/lib/docker
securityContext:
  supplementalGroups:
  - 2375
containers:
- name: build
  env:
  - name: DOCKER_HOST
    value: unix:///var/run/dind/docker.sock
  - name: TESTCONTAINERS_HOST_OVERRIDE
    value: localhost
  - name: TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE
    value: /var/run/dind/docker.sock
  volumeMounts:
  - name: dind-socket
    mountPath: /var/run/dind
volumes:
- name: dind-socket
  emptyDir: {}
- name: dind-storage
  emptyDir:
    sizeLimit: 50Gi
"""

# Where each changed kind holds its pod spec, as the lines above it in a patch.
_PATCH_TARGETS = {
    "Pod": ("v1", ["spec:"]),
    "Job": ("batch/v1", ["spec:", "  template:", "    spec:"]),
}


def sidecar_patch(kind: str) -> str:
    """A strategic-merge patch adding the sidecar to every `kind` (name set by target)."""
    api_version, above = _PATCH_TARGETS[kind]
    pad = " " * (2 * len(above))
    body = "".join(pad + line + "\n" for line in _SIDECAR_PATCH_SPEC.splitlines())
    head = f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: any\n"
    return head + "\n".join(above) + "\n" + body


def write_kustomize_dir(
    folder: Path,
    n: int,
    *,
    transformer_image: str | None = None,
    transformer_extra: str = "",
    sidecar_patches: bool = False,
    per_file: int = 1,
) -> Path:
    """A kustomization of the n resources, with an optional container transformer
    (`transformer_extra`: more lines for its container spec, such as mounts) or
    strategic-merge patches adding the DinD sidecar to the kinds the function changes."""
    folder.mkdir(parents=True, exist_ok=True)
    files = write_manifests(folder, n, per_file)
    lines = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:"]
    lines += [f"- {path}" for path in files]
    if transformer_image is not None:
        config = transformer_config(transformer_image) + transformer_extra
        (folder / "inject-docker.yaml").write_text(config)
        lines += ["transformers:", "- inject-docker.yaml"]
    if sidecar_patches:
        lines.append("patches:")
        for kind in sorted(INJECTED_KINDS):
            name = f"dind-patch-{kind.lower()}.yaml"
            (folder / name).write_text(sidecar_patch(kind))
            lines += [f"- path: {name}", "  target:", f"    kind: {kind}"]
    (folder / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return folder


def write_kpt_package(folder: Path, n: int, *, per_file: int = 1) -> Path:
    """A kpt package of the n resources: a Kptfile and the manifest files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Kptfile").write_text(
        f"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {folder.name}\n"
        "info:\n  description: benchmark package for inject-docker\n"
    )
    write_manifests(folder, n, per_file)
    return folder
