"""Tests of the container image, the way kpt and kustomize run it.

Opt-in: set INJECT_DOCKER_IMAGE_TESTS=1 after building the image with
tests/image/build-local.sh. Once opted in, a missing engine, image or client tool is
a failure, not a skip.

    tests/image/build-local.sh
    INJECT_DOCKER_IMAGE_TESTS=1 python -m pytest tests/image

The image's size and start-up time appear in the "image tier" section of the
test summary. Environment: INJECT_DOCKER_IMAGE (image under test, default
inject-docker:local), INJECT_DOCKER_PASSTHROUGH_IMAGE (baseline `cat` image,
default inject-docker:passthrough), KPT and KUBECTL (client binaries).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest
import yaml

ENABLED = os.environ.get("INJECT_DOCKER_IMAGE_TESTS") == "1"
IMAGE = os.environ.get("INJECT_DOCKER_IMAGE", "inject-docker:local")
PASSTHROUGH_IMAGE = os.environ.get("INJECT_DOCKER_PASSTHROUGH_IMAGE", "inject-docker:passthrough")
KPT = os.environ.get("KPT", "kpt")
KUBECTL = os.environ.get("KUBECTL", "kubectl")
TIMEOUT = 180

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(
        not ENABLED,
        reason="container image tests are opt-in: run tests/image/build-local.sh, "
        "then set INJECT_DOCKER_IMAGE_TESTS=1",
    ),
]

# How kpt and kustomize start a function container, plus a read-only root filesystem.
RUN_FLAGS = ["--rm", "-i", "--network", "none", "--user", "nobody", "--read-only"]

EMPTY_RESOURCE_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"

FN_CONFIG = {
    "apiVersion": "fn.inject-docker.dev/v1alpha1",
    "kind": "InjectDocker",
    "metadata": {"name": "inject-docker"},
}

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "ci-build"},
    "spec": {
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "build",
                "image": "docker:27-cli",
                "command": ["docker", "build", "-t", "example/app", "."],
            }
        ],
    },
}


def _run(cmd: list[str], *, input: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        cmd, input=input, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, check=False
    )


def _require(ok: bool, message: str) -> None:
    if not ok:
        pytest.fail(message, pytrace=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    _require(path is not None, f"{name!r} not found on PATH (needed by the image tests)")
    return path


def _ok(proc: subprocess.CompletedProcess, what: str) -> str:
    _require(
        proc.returncode == 0,
        f"{what} exited {proc.returncode}\n--- stderr ---\n{proc.stderr}\n--- stdout ---\n"
        f"{proc.stdout}",
    )
    return proc.stdout


def _image_size(image: str) -> int:
    out = _ok(_run(["docker", "image", "inspect", "-f", "{{.Size}}", image]), "docker inspect")
    return int(out.strip())


@pytest.fixture(scope="session")
def image() -> str:
    """The function image; fails (not skips) when the engine or the image is missing."""
    _tool("docker")
    info = _run(["docker", "info", "-f", "{{.ServerVersion}}"])
    _require(
        info.returncode == 0,
        f"the Docker engine does not answer; run tests/image/build-local.sh\n{info.stderr}",
    )
    inspect = _run(["docker", "image", "inspect", IMAGE])
    _require(
        inspect.returncode == 0,
        f"image {IMAGE} not found; build it with tests/image/build-local.sh",
    )
    return IMAGE


def _docker_run(image: str, *args: str, input: str = "") -> subprocess.CompletedProcess:
    return _run(["docker", "run", *RUN_FLAGS, image, *args], input=input)


def _resource_list(text: str) -> dict:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict), f"stdout is not a YAML mapping:\n{text}"
    assert doc.get("kind") == "ResourceList", f"stdout is not a ResourceList:\n{text}"
    assert str(doc.get("apiVersion", "")).startswith("config.kubernetes.io/"), text
    return doc


def _pods(docs) -> list[dict]:
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "Pod"]


def _assert_docker_injected(pod: dict) -> None:
    spec = pod.get("spec") or {}
    init = spec.get("initContainers") or []
    dind = [c for c in init if "dind" in str(c.get("image", ""))]
    assert dind, f"no initContainer with a dind image in the Pod:\n{yaml.safe_dump(pod)}"
    build = [c for c in spec.get("containers") or [] if c.get("name") == "build"]
    assert len(build) == 1, f"container 'build' missing or duplicated:\n{yaml.safe_dump(pod)}"
    env = {e.get("name") for e in build[0].get("env") or []}
    assert "DOCKER_HOST" in env, f"container 'build' has no DOCKER_HOST:\n{yaml.safe_dump(pod)}"


def _write_yaml(path: Path, obj: dict) -> Path:
    path.write_text(yaml.safe_dump(obj, sort_keys=False))
    return path


# --------------------------------------------------------------------------- plain docker


def test_image_config_is_unprivileged(image):
    user = _ok(_run(["docker", "image", "inspect", "-f", "{{.Config.User}}", image]), "inspect")
    user = user.strip()
    assert user and user.split(":")[0] not in ("0", "root"), f"image runs as {user!r}"


def test_empty_resource_list(image):
    proc = _docker_run(image, input=EMPTY_RESOURCE_LIST)
    doc = _resource_list(_ok(proc, "docker run on an empty ResourceList"))
    assert not doc.get("items")


def test_empty_resource_list_with_default_config(image):
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [],
        "functionConfig": FN_CONFIG,
    }
    proc = _docker_run(image, input=yaml.safe_dump(rl))
    doc = _resource_list(_ok(proc, "docker run with an empty InjectDocker config"))
    assert not doc.get("items")


def test_pod_through_docker_run(image):
    rl = {
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [POD],
        "functionConfig": FN_CONFIG,
    }
    proc = _docker_run(image, input=yaml.safe_dump(rl))
    doc = _resource_list(_ok(proc, "docker run with a Pod"))
    pods = _pods(doc.get("items") or [])
    assert len(pods) == 1, proc.stdout
    _assert_docker_injected(pods[0])


def test_help(image):
    proc = _docker_run(image, "--help")
    out = _ok(proc, "docker run ... --help")
    assert out.strip(), "--help printed nothing on stdout"
    assert "inject" in out.lower(), f"--help does not name the function:\n{out}"


def test_size_and_startup_time(image, image_report):
    """Reports the image size and start-up time (a figure for the record, not a check)."""
    size = _image_size(image)

    def median_run_seconds(img: str, runs: int = 5) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            _ok(_docker_run(img, input=EMPTY_RESOURCE_LIST), f"docker run {img}")
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    assert size > 0
    median = median_run_seconds(image)
    image_report.append(f"{image}: image size {size / 1e6:.1f} MB")
    image_report.append(
        f"{image}: median start-to-exit on an empty ResourceList over 5 runs: {median:.3f} s"
    )
    if _run(["docker", "image", "inspect", PASSTHROUGH_IMAGE]).returncode == 0:
        base = median_run_seconds(PASSTHROUGH_IMAGE)
        image_report.append(
            f"{PASSTHROUGH_IMAGE} (cat): median {base:.3f} s; "
            f"function overhead over a bare container: {median - base:+.3f} s"
        )


# --------------------------------------------------------------------------- kpt


def _kpt_image_ref(image: str) -> str:
    """kpt reads an image name without a "/" as a catalog function (gcr.io/kpt-fn/NAME);
    the fully qualified Docker Hub form names the same local image."""
    return image if "/" in image else f"docker.io/library/{image}"


@pytest.mark.parametrize("with_config", [False, True], ids=["no-config", "empty-config"])
def test_kpt_fn_eval(image, tmp_path, with_config):
    kpt = _tool(KPT)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    _write_yaml(pkg / "pod.yaml", POD)
    cmd = [kpt, "fn", "eval", str(pkg), "--image", _kpt_image_ref(image)]
    cmd += ["--image-pull-policy", "never"]
    if with_config:
        # Outside the package, or kpt would treat it as one of the resources.
        cmd += ["--fn-config", str(_write_yaml(tmp_path / "fn-config.yaml", FN_CONFIG))]
    _ok(_run(cmd), "kpt fn eval")

    docs = []
    for path in sorted(pkg.rglob("*.yaml")):
        docs += list(yaml.safe_load_all(path.read_text()))
    pods = _pods(docs)
    assert len(pods) == 1, docs
    _assert_docker_injected(pods[0])


# --------------------------------------------------------------------------- kustomize


def test_kubectl_kustomize_container_transformer(image, tmp_path):
    kubectl = _tool(KUBECTL)
    _write_yaml(tmp_path / "pod.yaml", POD)
    transformer = dict(FN_CONFIG)
    transformer["metadata"] = {
        "name": "inject-docker",
        "annotations": {"config.kubernetes.io/function": f"container:\n  image: {image}\n"},
    }
    _write_yaml(tmp_path / "inject-docker.yaml", transformer)
    _write_yaml(
        tmp_path / "kustomization.yaml",
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["pod.yaml"],
            "transformers": ["inject-docker.yaml"],
        },
    )
    out = _ok(
        _run([kubectl, "kustomize", "--enable-alpha-plugins", str(tmp_path)]), "kubectl kustomize"
    )
    pods = _pods(yaml.safe_load_all(out))
    assert len(pods) == 1, out
    _assert_docker_injected(pods[0])
