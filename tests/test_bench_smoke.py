"""The benchmark suite still runs: `python bench/run.py --smoke` (no timing assertions)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FIGURES = (
    "F1 fn vs kustomize",
    "F2 kpt exec fn vs cat",
    "F3 scaling 10k vs 1k",
    "F3 peak RSS at 10k",
    "F4 empty vs python",
    "F4 empty+config vs python",
    "F5 throughput",
    "F6a docker run fn vs cat",
    "F6b kustomize container fn vs cat",
)

MISSING = [tool for tool in ("kpt", "kubectl") if shutil.which(tool) is None]


@pytest.mark.skipif(
    bool(MISSING) and os.environ.get("CI") != "true",
    reason=f"the benchmark smoke run needs {' and '.join(MISSING)} on PATH "
    "(outside CI only; under CI=true it runs and fails instead)",
)
def test_bench_smoke() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    report = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, report
    missing = [name for name in FIGURES if name not in done.stdout]
    assert not missing, f"figures missing from the table: {missing}\n{report}"
