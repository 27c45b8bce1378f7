"""Each claim of SECURITY.md, checked: over every golden output, and by running the function
under Python's audit hooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.config.defaults import DEFAULT_IMAGE
from function.config.load import ConfigError, load
from tests.support import GOLDEN, GOLDEN_CASES, ROOT, golden_stdin, run_function, tekton_pod
from tests.test_wiring import resources

MARKER = "inject-docker.dev/injected"
NODE_RUNTIME_PATHS = {"/var/run", "/run", "/var/run/docker.sock", "/run/docker.sock"}


def _items(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text()) or {}
    return [i for i in resources(document.get("items") or []) if isinstance(i, dict)]


def _pod_specs(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pod spec in an item, wherever it sits (Tekton Task specs as their pods)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("containers"), list):
                found.append(node)
            elif isinstance(node.get("steps"), list) and all(
                isinstance(s, dict) and "image" in s for s in node["steps"]
            ):
                found.append(tekton_pod(node))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(item.get("spec"))
    return found


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers", "sidecars") for c in spec.get(key) or []]


def _privileged(container: dict[str, Any]) -> bool:
    return bool((container.get("securityContext") or {}).get("privileged"))


def _generated_names(item: dict[str, Any]) -> set[str]:
    """The containers the function added to an item (its record), or all of a DaemonSet it
    made."""
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    if annotations.get("inject-docker.dev/generated") == "true":
        return {c["name"] for s in _pod_specs(item) for c in _containers(s)}
    raw = annotations.get(MARKER)
    if not raw:
        return set()
    record = json.loads(raw)
    records = record["units"].values() if "units" in record else [record]
    return {name for r in records for name in r.get("containers", [])}


OUTPUTS = [(case.name, case / "expected.yaml", case / "input.yaml") for case in GOLDEN_CASES]


def _privileged_names(item: dict[str, Any]) -> set[str]:
    return {c["name"] for s in _pod_specs(item) for c in _containers(s) if _privileged(c)}


@pytest.mark.parametrize(("name", "output", "given"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_privileged_only_on_the_daemon_container(name: str, output: Path, given: Path) -> None:
    """Claim: the function makes no container privileged but the daemon's."""
    before = _items(given)
    for position, item in enumerate(_items(output)):
        had = _privileged_names(before[position]) if position < len(before) else set()
        added = _privileged_names(item) - had
        assert added <= _generated_names(item), f"item {position}: privileged {sorted(added)}"


@pytest.mark.parametrize(("name", "output", "given"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_no_host_runtime_directory_is_mounted(name: str, output: Path, given: Path) -> None:
    """Claim: the function adds no hostPath of the node's /var/run, /run or Docker socket;
    its node daemon uses directories of its own."""

    def host_paths(path: Path) -> set[str]:
        return {
            str(v["hostPath"]["path"]).rstrip("/")
            for item in _items(path)
            for s in _pod_specs(item)
            for v in s.get("volumes") or []
            if isinstance(v, dict) and "hostPath" in v
        }

    added = host_paths(output) - host_paths(given)
    assert not added & NODE_RUNTIME_PATHS
    assert "/var/lib/docker" not in added


def test_the_default_image_is_pinned() -> None:
    """Claim: the default daemon image has a full version; a floating tag is warned about."""
    assert re.fullmatch(r"docker:\d+\.\d+\.\d+-dind", DEFAULT_IMAGE)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "docker:29.8.0-cli"}]},
    }
    stdin = json.dumps(
        {
            "apiVersion": "config.kubernetes.io/v1",
            "kind": "ResourceList",
            "items": [pod],
            "functionConfig": {
                "apiVersion": "fn.inject-docker.dev/v1alpha1",
                "kind": "InjectDocker",
                "image": "docker:dind",
            },
        }
    )
    assert "no full version tag" in run_function(stdin).stderr


@pytest.mark.parametrize(("name", "output", "given"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_no_daemon_listens_on_tcp_without_tls(name: str, output: Path, given: Path) -> None:
    """Claim: a daemon the function writes listens on a unix socket, or on TCP with TLS, unless
    the config asks for `transport: tcp` (which is warned about)."""
    config_file = output.parent / "config.yaml"
    config = (yaml.safe_load(config_file.read_text()) if config_file.exists() else None) or {}
    if config.get("transport") == "tcp":
        pytest.skip("this case asks for plain TCP")
    for item in _items(output):
        generated = _generated_names(item)
        for spec in _pod_specs(item):
            for container in _containers(spec):
                if container["name"] not in generated:
                    continue
                words = [str(w) for w in container.get("args") or []]
                assert not [w for w in words if w.startswith(("--host=tcp://", "-H=tcp://"))]


def test_own_directories_are_enforced_by_the_config() -> None:
    """Claim: the node daemon's socket and data directories cannot be the node's own."""
    for setting, value in (
        ("hostSocketDir", "/var/run"),
        ("hostSocketDir", "/run"),
        ("hostDataRoot", "/var/lib/docker"),
    ):
        with pytest.raises(ConfigError):
            load(
                {
                    "apiVersion": "fn.inject-docker.dev/v1alpha1",
                    "kind": "InjectDocker",
                    "daemonset": {setting: value},
                }
            )
    with pytest.raises(ConfigError):
        load({"apiVersion": "fn.inject-docker.dev/v1alpha1", "kind": "InjectDocker",
              "socketDir": "/var/run"})  # fmt: skip


SOCKET_MOUNTERS = [
    case.name
    for case in GOLDEN_CASES
    if "path: /var/run/docker.sock" in (case / "input.yaml").read_text()
    and not (case / "input.yaml").read_text().count("mode: audit")
    and "audit" not in case.name
]


@pytest.mark.parametrize("case", SOCKET_MOUNTERS)
def test_a_node_socket_mount_is_replaced(case: str) -> None:
    """Claim: a mount of the node's Docker socket in a workload the function wires is taken
    out, not kept."""
    for item in _items(GOLDEN / case / "expected.yaml"):
        if MARKER not in ((item.get("metadata") or {}).get("annotations") or {}):
            continue
        for spec in _pod_specs(item):
            paths = {v["hostPath"]["path"] for v in spec.get("volumes") or [] if "hostPath" in v}
            assert not paths & {"/var/run/docker.sock", "/run/docker.sock"}


def test_there_are_socket_mounts_to_replace() -> None:
    assert len(SOCKET_MOUNTERS) >= 3


# Python's audit events for starting programs and reaching the network.
_WATCHER = textwrap.dedent(
    """
    import sys
    seen = []
    WATCHED = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
               "os.fork", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
               "urllib.Request", "http.client.connect", "ctypes.dlopen")
    def hook(event, args):
        if event.startswith(WATCHED):
            seen.append(f"{event} {args!r}"[:200])
        elif event == "open" and isinstance(args[0], str) and not args[0].endswith(
            (".py", ".pyc", ".so", ".pth")
        ) and "site-packages" not in args[0] and "/lib/python" not in args[0]:
            seen.append(f"open {args[0]}")
    sys.addaudithook(hook)
    from function import pipeline
    text = sys.stdin.read()
    pipeline.run(text)
    print("\\n".join(seen))
    """
)


@pytest.mark.parametrize(
    "case",
    ["seed-migrated-sidecar", "seed-migrated-daemonset", "gitlab-runner-migrated-sidecar",
     "tekton-dind-examples-replaced", "argo-dind-example", "seed-audit"],
)  # fmt: skip
def test_nothing_named_in_the_input_is_executed_fetched_or_read(case: str) -> None:
    """Claim: the function starts no program, opens no connection and reads no file named in
    its input (images, commands, URLs, paths in annotations): it only reads stdin."""
    stdin = golden_stdin(GOLDEN / case)
    done = subprocess.run(
        [sys.executable, "-c", _WATCHER],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stdout.strip() == "", done.stdout


def test_the_watcher_sees_what_it_watches_for() -> None:
    """The audit hook above does catch a program being started and a file being read."""
    script = _WATCHER.replace(
        "pipeline.run(text)",
        "pipeline.run(text); import subprocess; subprocess.run(['true']); open('/etc/hostname')",
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=golden_stdin(GOLDEN / "pod-basic"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert "subprocess.Popen" in done.stdout
    assert "open /etc/hostname" in done.stdout
