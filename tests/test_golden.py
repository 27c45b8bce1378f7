"""Golden cases: each folder under tests/golden holds config.yaml, input.yaml, expected.yaml.

Regenerate the expected files with `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`,
then read the diff before committing it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.support import (
    GOLDEN_CASES,
    UPDATE,
    VALIDATION_VERSIONS,
    comments,
    golden_stdin,
    item_texts,
    run_function,
    schema_errors,
)
from tests.test_wiring import resources


def _read(case: Path, name: str) -> str | None:
    path = case / name
    return path.read_text() if path.exists() else None


@pytest.fixture(params=GOLDEN_CASES, ids=[c.name for c in GOLDEN_CASES])
def case(request: pytest.FixtureRequest) -> Path:
    return request.param


@cache
def _output(case: Path) -> tuple[str, str, int]:
    stdin = golden_stdin(case)
    result = run_function(stdin)
    if UPDATE:
        (case / "expected.yaml").write_text(result.stdout)
    return stdin, result.stdout, result.code


def _has_error(output: str) -> bool:
    results = (yaml.safe_load(output) or {}).get("results") or []
    return any(r.get("severity", "error") == "error" for r in results)


def test_output_matches_expected(case: Path) -> None:
    _, output, code = _output(case)
    assert output == _read(case, "expected.yaml"), "rerun with UPDATE_GOLDEN=1 and review"
    assert code == (1 if _has_error(output) else 0)


def test_second_run_changes_nothing(case: Path) -> None:
    _, output, _ = _output(case)
    again = run_function(output)
    assert again.stdout == output


def test_untouched_items_are_byte_identical(case: Path) -> None:
    stdin, output, _ = _output(case)
    before = item_texts(stdin)
    produced = item_texts(output)
    assert len(produced) >= len(before)
    for (old_value, old_text), (new_value, _) in zip(before, produced, strict=False):
        if old_value == new_value:
            assert old_text in output


def test_every_comment_is_kept(case: Path) -> None:
    stdin, output, _ = _output(case)
    kept = comments(output)
    for comment in comments(stdin):
        assert comment in kept


# Workload APIs no Kubernetes the tests validate for serves (a case warns of them).
REMOVED_APIS = {"batch/v1beta1", "extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"}


def test_output_is_valid_kubernetes(case: Path) -> None:
    _, output, _ = _output(case)
    items = [item for item, _ in item_texts(output)]
    # A case whose settings need a newer Kubernetes names it (rootless without privileged
    # mode needs user namespaces, 1.33).
    needs = _read(case, "min-kubernetes.txt")
    oldest = (needs.strip(),) if needs else VALIDATION_VERSIONS
    config = yaml.safe_load(_read(case, "config.yaml") or "") or {}
    template_paths = {
        s["kind"]: s["podTemplatePath"]
        for s in config.get("selectors") or []
        if "podTemplatePath" in s
    }
    problems = {
        f"{item.get('kind')}/{(item.get('metadata') or {}).get('name')}": schema_errors(
            item, oldest, template_paths
        )
        for item in resources(items)
        if item.get("apiVersion") not in REMOVED_APIS
    }
    assert {k: v for k, v in problems.items() if v} == {}


def test_reading_by_lines_and_reading_whole_agree(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast reader (items cut apart by their lines) and the full one give the same bytes."""
    from function import pipeline
    from function.krm import resourcelist
    from function.yamltext import cutter

    stdin, output, _ = _output(case)
    if cutter.scan(stdin) is None:
        pytest.skip("not in the plain layout: only the full reader applies")
    monkeypatch.setattr(resourcelist.cutter, "scan", lambda text: None)
    whole = pipeline.run(stdin).output
    assert whole == output
