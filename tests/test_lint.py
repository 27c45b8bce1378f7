"""The tree stays ruff-clean (lint and format) and the function passes mypy."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support import ROOT

CHECKS = {
    "lint": ["ruff", "check", "."],
    "format": ["ruff", "format", "--check", "."],
    "types": ["mypy"],  # settings and files in pyproject.toml
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_tool(name: str) -> None:
    tool, *args = CHECKS[name]
    found = shutil.which(tool)
    assert found, f"{tool} is installed with the test extras: pip install -e '.[test]'"
    done = subprocess.run([found, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
