"""Real public manifests (tests/corpus, sources in SOURCES.md), run in every mode.

Standalone mode reads each file as it was published. For each output: every input
resource is still there, in order; the ones the function did not change are
byte-identical; the ones it changed or made are valid for Kubernetes 1.29 and the
newest version; each changed workload's clients reach their daemon; and a second
run changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.kube.podspecs import pod_spec
from tests.support import ROOT, run_function, validation_errors
from tests.test_wiring import MARKER, _check_client, _containers

CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.yaml"))
MODES = ("sidecar", "daemonset", "audit")
# Every workload kind, so the corpus's Deployments and DaemonSets are tried too.
SELECTORS = "[{kind: Pod}, {kind: Job}, {kind: CronJob}, {kind: Deployment}, " + (
    "{kind: StatefulSet}, {kind: DaemonSet}, {kind: ReplicaSet}]"
)


def _config(tmp_path: Path, mode: str) -> Path:
    path = tmp_path / f"{mode}.yaml"
    path.write_text(
        "apiVersion: fn.inject-docker.dev/v1alpha1\nkind: InjectDocker\n"
        f"mode: {mode}\nselectors: {SELECTORS}\n"
    )
    return path


def _documents(text: str) -> list[tuple[Any, str]]:
    """(value, exact text) of each non-empty document of a stream."""
    out = []
    for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        if node is None:
            continue
        value = yaml.CSafeLoader("").construct_document(node)
        out.append((value, text[node.start_mark.index : node.end_mark.index]))
    return out


def _name(value: Any) -> tuple[str, str]:
    meta = (value.get("metadata") or {}) if isinstance(value, dict) else {}
    return (str(value.get("kind")) if isinstance(value, dict) else "", str(meta.get("name")))


def _resources(value: Any) -> list[Any]:
    """A resource, or the items of a `kind: List`."""
    if isinstance(value, dict) and value.get("kind") == "List":
        return [r for item in value.get("items") or [] for r in _resources(item)]
    return [value]


def _check_changed(new: dict[str, Any], items: list[Any]) -> None:
    assert validation_errors(new) == [], _name(new)
    annotations = (new.get("metadata") or {}).get("annotations") or {}
    record = json.loads(annotations[MARKER])
    spec = pod_spec(new)
    assert spec is not None
    clients = [c for c in _containers(spec) if c["name"] in record["clients"]]
    assert clients, _name(new)
    for client in clients:
        _check_client(items, spec, record, client)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("source", CORPUS, ids=[p.name for p in CORPUS])
def test_real_manifest(source: Path, mode: str, tmp_path: Path) -> None:
    config = _config(tmp_path, mode)
    done = run_function("", "--config", str(config), str(source))
    assert "Traceback" not in done.stderr
    assert done.code == 0, done.stderr
    before = _documents(source.read_text())
    after = _documents(done.stdout)
    assert [_name(v) for v, _ in after[: len(before)]] == [_name(v) for v, _ in before]
    generated = after[len(before) :]
    assert all(v.get("kind") in ("DaemonSet", "Namespace") for v, _ in generated)
    for (old, old_text), (new, new_text) in zip(before, after, strict=False):
        if old == new:
            assert old_text.strip() == new_text.strip(), f"{_name(old)} changed its text"
            continue
        assert mode != "audit", "audit changed a resource"
        olds, news = _resources(old), _resources(new)
        assert len(olds) == len(news)
        for was, changed in zip(olds, news, strict=True):
            if was != changed:
                _check_changed(changed, [v for v, _ in after])
    for value, _ in generated:
        assert validation_errors(value) == [], _name(value)
    output = tmp_path / "output.yaml"
    output.write_text(done.stdout)
    again = run_function("", "--config", str(config), str(output))
    assert again.stdout == done.stdout, "a second run changed the output"
