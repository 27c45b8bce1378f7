"""A short fuzzing session under pytest: 20 seconds of tests/fuzz/fuzz_function.py.

It runs the atheris target in a subprocess (libFuzzer owns the process it runs
in) on the golden seeds, in a temporary folder, and fails if libFuzzer reports a
crash, a hang or running out of memory, showing the input that did it. It is
skipped, saying why, where atheris is not installed (`pip install atheris`).

A longer session, with the corpus kept between sessions in
$INJECT_DOCKER_FUZZ_DIR (default /tmp/inject-docker-fuzz) and crashing inputs
written to its `crashes/` folder:

    python tests/fuzz/fuzz_function.py -max_total_time=3600

`-fork=2 -ignore_crashes=1` keeps going after a crash and collects them all;
the module docstring of fuzz_function.py says more.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

TARGET = ROOT / "tests" / "fuzz" / "fuzz_function.py"
SECONDS = 20

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install atheris): no fuzzing",
)


def test_twenty_seconds_of_fuzzing_find_no_crash(tmp_path: Path) -> None:
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    environment = {**os.environ, "INJECT_DOCKER_FUZZ_DIR": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            "-seed=1",  # the same mutations each run, as far as the time allows
            f"-artifact_prefix={crashes}/",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=SECONDS + 120,
        check=False,
    )
    found = sorted(crashes.iterdir())
    report = done.stderr[-4000:]
    for path in found[:3]:
        report += f"\n--- {path.name}: {path.read_bytes()[:2000]!r}"
    assert done.returncode == 0 and not found, report
    assert "Done" in done.stderr or "stat::number_of_executed_units" in done.stderr, report
