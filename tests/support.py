"""Shared checks for the tests: running the function, comments, validation."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
VALIDATION_VERSIONS = ("1.29",)


@dataclass
class Run:
    stdout: str
    stderr: str
    code: int


def run_function(stdin: str, *args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "function", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return Run(done.stdout, done.stderr, done.returncode)


GOLDEN_CASES = sorted(p for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


def golden_stdin(case: Path) -> str:
    """The ResourceList of a golden case: input.yaml with config.yaml as its functionConfig."""
    input_text = (case / "input.yaml").read_text()
    config = case / "config.yaml"
    config_text = config.read_text() if config.exists() else ""
    if not config_text.strip():
        return input_text
    body = "".join(f"  {line}\n" if line.strip() else "\n" for line in config_text.splitlines())
    return input_text.rstrip("\n") + "\nfunctionConfig:\n" + body


def comments(text: str) -> list[str]:
    """Every `# comment` in a YAML text (outside quoted strings)."""
    from function.yamltext.positions import comment_of

    return [found.strip() for line in text.splitlines() if (found := comment_of(line))]


def item_texts(text: str) -> list[tuple[Any, str]]:
    """(value, exact source text) of each item of a YAML ResourceList."""
    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    items = next((v for k, v in root.value if k.value == "items"), None)
    if items is None or not isinstance(items, yaml.SequenceNode):
        return []
    loader = yaml.CSafeLoader("")
    return [
        (loader.construct_document(node), text[node.start_mark.index : node.end_mark.index])
        for node in items.value
    ]


@cache
def newest_version() -> str:
    import kubernetes_validate

    return kubernetes_validate.latest_version()


def validation_errors(
    resource: dict[str, Any], oldest: tuple[str, ...] = VALIDATION_VERSIONS
) -> list[str]:
    """Schema problems of one resource for Kubernetes 1.29 (or `oldest`) and the newest
    version known."""
    import kubernetes_validate

    problems = []
    for version in (*oldest, newest_version()):
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{version}: {error.message} at {list(error.path)}")
    return problems
