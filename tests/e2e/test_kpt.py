"""End to end through the real kpt: `kpt fn eval --exec` and `kpt fn render --allow-exec`.

The package in tests/e2e/package is copied, run through kpt, and compared file by
file with tests/e2e/expected/<scenario>/. Regenerate with
`UPDATE_GOLDEN=1 python -m pytest tests/e2e` and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import UPDATE, comments

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "package"
EXPECTED = HERE / "expected"
KPT = shutil.which("kpt")

if KPT is None and os.environ.get("CI") != "true":
    pytest.skip("kpt is not installed (these tests run under CI=true)", allow_module_level=True)


def _executable() -> str:
    beside = Path(sys.executable).parent / "inject-docker"
    found = str(beside) if beside.exists() else shutil.which("inject-docker")
    assert found, "inject-docker is not installed: pip install ."
    return found


def _package(tmp_path: Path, mode: str | None = None) -> Path:
    target = tmp_path / "pkg"
    shutil.copytree(PACKAGE, target)
    kptfile = target / "Kptfile"
    kptfile.write_text(kptfile.read_text().replace("INJECT_DOCKER", _executable()))
    if mode:
        config = target / "inject-docker.yaml"
        config.write_text(config.read_text() + f"mode: {mode}\n")
    return target


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "Kptfile"
    }


def _kpt(*args: str) -> subprocess.CompletedProcess[str]:
    assert KPT, "kpt is required under CI"
    done = subprocess.run([KPT, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done


def _check(scenario: str, before: dict[str, str], after: dict[str, str]) -> None:
    expected_dir = EXPECTED / scenario
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for name, text in after.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_text(text)
    assert after == _files(expected_dir)
    changed = {name for name in before if after.get(name) != before[name]}
    for name, text in before.items():
        if name not in changed:
            assert after[name] == text  # untouched files are byte-identical
        for comment in comments(text):
            assert comment in comments(after[name])


def test_eval_exec_with_configmap_arguments(tmp_path: Path) -> None:
    settings = ("registryMirrors=https://mirror.gcr.io", "mtu=1450")
    package = _package(tmp_path)
    before = _files(package)
    _kpt("fn", "eval", "--exec", _executable(), str(package), "--", *settings)
    after = _files(package)
    _check("eval-configmap", before, after)
    assert set(after) == set(before)
    _kpt("fn", "eval", "--exec", _executable(), str(package), "--", *settings)
    assert _files(package) == after  # a second eval changes nothing


def test_render_sidecar(tmp_path: Path) -> None:
    package = _package(tmp_path)
    before = _files(package)
    _kpt("fn", "render", "--allow-exec", str(package))
    after = _files(package)
    _check("render-sidecar", before, after)
    assert {"build-job.yaml", "nightly.yaml"} <= {n for n in before if after[n] != before[n]}
    _kpt("fn", "render", "--allow-exec", str(package))
    assert _files(package) == after  # a second render changes nothing


def test_render_daemonset_writes_its_own_file(tmp_path: Path) -> None:
    package = _package(tmp_path, mode="daemonset")
    before = _files(package)
    _kpt("fn", "render", "--allow-exec", str(package))
    after = _files(package)
    _check("render-daemonset", before, after)
    assert set(after) - set(before) == {"docker-ci-daemonset.yaml"}
    assert "kind: DaemonSet" in after["docker-ci-daemonset.yaml"]
    _kpt("fn", "render", "--allow-exec", str(package))
    assert _files(package) == after
