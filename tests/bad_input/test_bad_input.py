"""Bad input: every folder under cases/ is one input the function must handle cleanly.

Each case runs `python -m function` (with the case's `args`, in the case's folder) on
the case's stdin, bytes in and bytes out, within TIME_LIMIT seconds, and checks what
the project promises for bad input: the exit code, what stdout holds (nothing, the
input unchanged, a ResourceList with every input item, or a stream of manifests), the
expected messages, no traceback, and every stderr line starting with "inject-docker:".
README.md in this folder describes the layout of a case and lists the cases.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
TIME_LIMIT = 2.0  # seconds per case, Python's start included
PREFIX = "inject-docker:"
BOM = b"\xef\xbb\xbf"
STDOUT_KINDS = ("empty", "unchanged", "resourcelist", "stream")
EXPECTED_KEYS = {"code", "stdout", "stderr", "results", "untouched"}
# Only the limit the function sets itself is under test: a user's setting is dropped.
DROPPED_VARIABLES = ("INJECT_DOCKER_MAX_INPUT_MB",)

Identity = tuple[str, str]  # (kind, metadata.name) of a resource, "" where missing


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    stdin: bytes
    args: list[str]
    code: int
    stdout: str
    stderr: list[str]
    results: list[str]
    untouched: list[int]


@dataclass(frozen=True)
class Done:
    code: int
    stdout: bytes
    stderr: bytes
    seconds: float


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def load_case(name: str) -> Case:
    folder = CASES / name
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    unknown = set(expected) - EXPECTED_KEYS
    assert not unknown, f"{name}/expected.json: unknown keys {sorted(unknown)}"
    assert isinstance(expected.get("code"), int), f"{name}/expected.json: code must be an int"
    kind = expected.get("stdout")
    assert kind in STDOUT_KINDS, f"{name}/expected.json: stdout must be one of {STDOUT_KINDS}"
    if kind != "resourcelist":
        for key in ("results", "untouched"):
            assert key not in expected, f"{name}/expected.json: {key} needs a resourcelist"
    args_file = folder / "args"
    args = args_file.read_text(encoding="utf-8").splitlines() if args_file.exists() else []
    return Case(
        name=name,
        folder=folder,
        stdin=_stdin(folder),
        args=[a for a in args if a.strip()],
        code=expected["code"],
        stdout=kind,
        stderr=list(expected.get("stderr", [])),
        results=list(expected.get("results", [])),
        untouched=list(expected.get("untouched", [])),
    )


def _stdin(folder: Path) -> bytes:
    """The case's stdin: what its make.py makes, or the bytes of its `stdin` file."""
    maker = folder / "make.py"
    if maker.exists():
        module_name = "bad_input_case_" + folder.name.replace("-", "_")
        spec = importlib.util.spec_from_file_location(module_name, maker)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        made = module.make()
        assert isinstance(made, bytes), f"{folder.name}/make.py: make() must return bytes"
        return made
    assert (folder / "stdin").exists(), f"{folder.name}: needs a stdin file or a make.py"
    return (folder / "stdin").read_bytes()


def run(case: Case) -> Done:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "function", *case.args],
            input=case.stdin,
            capture_output=True,
            cwd=case.folder,
            env=env,
            timeout=TIME_LIMIT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case.name}: still running after {TIME_LIMIT} s; killed")
    return Done(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)


@pytest.mark.parametrize("name", case_names())
def test_bad_input(name: str) -> None:
    case = load_case(name)
    done = run(case)
    problems = check(case, done)
    assert not problems, (
        f"{name}: " + "; ".join(problems) + f"\n--- stderr:\n{_text(done.stderr)[:2000]}"
        f"\n--- stdout ({len(done.stdout)} bytes):\n{_text(done.stdout)[:1000]}"
    )


def check(case: Case, done: Done) -> list[str]:
    """Every way `done` breaks the rules for `case`, as sentences."""
    problems: list[str] = []
    stdout, stderr = _text(done.stdout), _text(done.stderr)
    if done.seconds > TIME_LIMIT:
        problems.append(f"took {done.seconds:.2f} s, over the limit of {TIME_LIMIT} s")
    if done.code != case.code:
        problems.append(f"exit code {done.code}, expected {case.code}")
    for stream, text in (("stdout", stdout), ("stderr", stderr)):
        if "Traceback" in text:
            problems.append(f"a traceback on {stream}")
    lines = stderr.splitlines()
    strays = [line for line in lines if not line.startswith(PREFIX)]
    problems += [f"stderr line not starting with {PREFIX!r}: {line!r}" for line in strays[:3]]
    for wanted in case.stderr:
        if not any(wanted in line for line in lines):
            problems.append(f"stderr does not say {wanted!r}")
    if case.stdin.startswith(BOM) and done.stdout and not done.stdout.startswith(BOM):
        problems.append("the input's byte order mark was dropped")
    if case.stdout == "empty" and done.stdout:
        problems.append(f"stdout holds {len(done.stdout)} bytes, expected nothing")
    elif case.stdout == "unchanged" and done.stdout != case.stdin:
        problems.append("stdout differs from stdin, expected it unchanged")
    elif case.stdout == "resourcelist":
        problems += _check_resource_list(case, done, stdout)
    elif case.stdout == "stream":
        problems += _check_stream(case, stdout)
    return problems


def _check_resource_list(case: Case, done: Done, stdout: str) -> list[str]:
    try:
        out = yaml.safe_load(stdout)
    except yaml.YAMLError as error:
        return [f"stdout is not YAML: {str(error).splitlines()[0]}"]
    if not isinstance(out, dict) or out.get("kind") != "ResourceList":
        return ["stdout is not a ResourceList"]
    problems: list[str] = []
    given = yaml.safe_load(_text(case.stdin)) or {}
    given_items = given.get("items") or []
    items = out.get("items") or []
    if not isinstance(items, list):
        return ["the output's items are not a list"]
    if len(items) < len(given_items):
        problems.append(f"{len(given_items)} items given, {len(items)} written")
    missing = Counter(map(_identity, given_items)) - Counter(map(_identity, items))
    if missing:
        problems.append(f"items lost: {sorted(missing.elements())}")
    results = [r for r in out.get("results") or [] if isinstance(r, dict)]
    said = [_result_line(r) for r in results if r.get("severity") in ("error", "warning")]
    for wanted in case.results:
        if not any(wanted in line for line in said):
            problems.append(f"no error or warning result says {wanted!r}")
    errors = any(r.get("severity") == "error" for r in results)
    if errors != (done.code == 1):
        problems.append(f"exit code {done.code} with{'' if errors else ' no'} error result")
    for index in case.untouched:
        if _item_text(_text(case.stdin), index) not in stdout:
            problems.append(f"items[{index}] {_identity(given_items[index])} was changed")
    return problems


def _check_stream(case: Case, stdout: str) -> list[str]:
    try:
        documents = [d for d in yaml.safe_load_all(stdout) if d is not None]
    except yaml.YAMLError as error:
        return [f"stdout is not YAML: {str(error).splitlines()[0]}"]
    missing = Counter(map(_identity, _input_documents(case))) - Counter(map(_identity, documents))
    return [f"documents lost: {sorted(missing.elements())}"] if missing else []


def _input_documents(case: Case) -> Iterable[Any]:
    """The documents standalone mode is given: stdin for `-`, and each file named once."""
    seen: set[Path] = set()
    args = iter(case.args)
    for arg in args:
        if arg == "--config":
            next(args, None)
        elif arg == "-":
            yield from _documents(_text(case.stdin))
        elif not arg.startswith("--"):
            path = (case.folder / arg).resolve()
            if path.is_file() and path not in seen:
                seen.add(path)
                yield from _documents(path.read_text(encoding="utf-8"))


def _documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _identity(item: Any) -> Identity:
    if not isinstance(item, dict):
        return ("", "")
    metadata = item.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (str(item.get("kind") or ""), str(name or ""))


def _result_line(result: dict[str, Any]) -> str:
    """A result as one line: its message, then its field path in brackets, if any."""
    field = result.get("field")
    path = field.get("path") if isinstance(field, dict) else None
    return str(result.get("message", "")) + (f" [{path}]" if path else "")


def _item_text(text: str, index: int) -> str:
    """The exact source text of items[index] of the ResourceList `text`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    root = yaml.compose(text, Loader=loader)
    items = next(v for k, v in root.value if k.value == "items")
    node = items.value[index]
    return text[node.start_mark.index : node.end_mark.index]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def test_every_case_is_described() -> None:
    """README.md's section Cases has one line per case, `- `name`: what it is`, and no
    line for a case gone."""
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Cases\n", 1)[-1]
    described = {line.split("`")[1] for line in section.splitlines() if line.startswith("- `")}
    assert described == set(case_names()), (
        f"missing from README.md: {sorted(set(case_names()) - described)}; "
        f"in README.md but not a case: {sorted(described - set(case_names()))}"
    )
