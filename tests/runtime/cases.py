"""The outputs the tier starts pods from: every golden case, every example's expected
output, and the real-manifest corpus run through standalone mode in both wiring modes.

Listing the cases is cheap (file names only); an output is read, or for the corpus
made by running the function, only when its case runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from function.kube.podspecs import pod_spec
from tests.runtime import engines
from tests.support import GOLDEN, ROOT

MARKER = "inject-docker.dev/injected"
EXAMPLES = ROOT / "kustomization-examples"
CORPUS = ROOT / "tests" / "corpus"
CORPUS_MODES = ("sidecar", "daemonset")
# The corpus as tests/test_corpus.py runs it: every workload kind selected.
CORPUS_SELECTORS = "[{kind: Pod}, {kind: Job}, {kind: CronJob}, {kind: Deployment}, " + (
    "{kind: StatefulSet}, {kind: DaemonSet}, {kind: ReplicaSet}]"
)


@dataclass(frozen=True)
class Source:
    """Where one output comes from."""

    id: str
    path: Path
    mode: str | None = None  # corpus: the config's mode

    def load(self, work: Path) -> Output:
        if self.mode is not None:
            return _corpus_output(self, work)
        if self.path.is_dir():
            texts = [p.read_text() for p in sorted(self.path.glob("*.yaml"))]
            return parse(self.id, "\n---\n".join(texts), "")
        return parse(self.id, self.path.read_text(), "")


@dataclass
class Workload:
    """A workload the function wired, with its pod spec and the function's record."""

    kind: str
    name: str
    namespace: str
    spec: dict[str, Any]
    record: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    unit: str | None = None  # the record's unit path, for kinds a CI engine runs

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass
class Output:
    id: str
    items: list[dict[str, Any]]
    messages: list[str]  # the function's results (or its stderr in standalone mode)

    def wired(self) -> list[Workload]:
        """One pod per workload the function wired: its pod template, or for the kinds a
        CI engine turns into pods, one per unit of the record (tests/runtime/engines.py)."""
        out = []
        for position, item in enumerate(self.items):
            meta = item.get("metadata") or {}
            text = (meta.get("annotations") or {}).get(MARKER)
            if not text:
                continue
            record = json.loads(text)
            name = str(meta.get("name") or meta.get("generateName") or f"unnamed-{position}")
            namespace = str(meta.get("namespace") or "default")
            kind = str(item.get("kind"))
            labels = _template_labels(item)
            if "units" in record:
                for path, spec, unit_record in engines.unit_pods(item, record):
                    unit = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
                    pod_name = f"{name.rstrip('-')}-{unit}"
                    out.append(Workload(kind, pod_name, namespace, spec, unit_record, labels, path))
                continue
            spec = pod_spec(item) or engines.find_pod_spec(item.get("spec"))
            if spec is not None:
                out.append(Workload(kind, name, namespace, spec, record, labels))
        return out

    def not_pods(self) -> list[str]:
        """Wired resources the tier finds no pod in (a kind it does not know)."""
        out = []
        for item in self.items:
            meta = item.get("metadata") or {}
            text = (meta.get("annotations") or {}).get(MARKER)
            if not text:
                continue
            record = json.loads(text)
            if "units" in record:
                if len(engines.unit_pods(item, record)) == len(record["units"]):
                    continue
            elif pod_spec(item) or engines.find_pod_spec(item.get("spec")):
                continue
            name = meta.get("name") or meta.get("generateName") or "(unnamed)"
            out.append(f"{item.get('kind')} {meta.get('namespace') or 'default'}/{name}")
        return out

    def daemonsets(self) -> list[Workload]:
        """DaemonSets the function did not wire itself: node daemons (generated or
        hand-written), started before daemonset-mode clients."""
        out = []
        for item in self.items:
            meta = item.get("metadata") or {}
            if item.get("kind") != "DaemonSet" or MARKER in (meta.get("annotations") or {}):
                continue
            spec = pod_spec(item)
            if spec is None:
                continue
            out.append(
                Workload(
                    kind="DaemonSet",
                    name=str(meta.get("name")),
                    namespace=str(meta.get("namespace") or "default"),
                    spec=spec,
                    record={},
                    labels=_template_labels(item),
                )
            )
        return out


def _template_labels(item: dict[str, Any]) -> dict[str, str]:
    spec = item.get("spec") or {}
    template = spec.get("template") or (spec.get("jobTemplate") or {}).get("spec", {}).get(
        "template"
    )
    meta = (template or {}).get("metadata") or item.get("metadata") or {}
    return {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}


def _flatten(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict) and item.get("kind") == "List":
            out += _flatten(item.get("items") or [])
        elif isinstance(item, dict):
            out.append(item)
    return out


def parse(case_id: str, text: str, stderr: str) -> Output:
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    if len(documents) == 1 and documents[0].get("kind") == "ResourceList":
        document = documents[0]
        messages = [str(r.get("message")) for r in document.get("results") or []]
        return Output(case_id, _flatten(document.get("items") or []), messages)
    return Output(case_id, _flatten(documents), [line for line in stderr.splitlines() if line])


def _corpus_output(source: Source, work: Path) -> Output:
    config = work / f"config-{source.mode}.yaml"
    config.write_text(
        "apiVersion: fn.inject-docker.dev/v1alpha1\nkind: InjectDocker\n"
        f"mode: {source.mode}\nselectors: {CORPUS_SELECTORS}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "function", "--config", str(config), str(source.path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    if "Traceback" in done.stderr or not done.stdout.strip():
        raise RuntimeError(f"the function failed on {source.path.name}: {done.stderr[-2000:]}")
    return parse(source.id, done.stdout, done.stderr)


def golden_sources() -> list[Source]:
    return [Source(f"golden/{p.parent.name}", p) for p in sorted(GOLDEN.glob("*/expected.yaml"))]


def example_sources() -> list[Source]:
    found = sorted(p for p in EXAMPLES.rglob("expected*") if "expected" in p.name)
    # A folder of expected files is one output; files inside it are not cases of their own.
    folders = [p for p in found if p.is_dir()]
    out = []
    for path in found:
        if any(folder in path.parents for folder in folders):
            continue
        if path.is_file() and path.suffix not in (".yaml", ".yml"):
            continue
        out.append(Source(f"example/{path.relative_to(EXAMPLES)}", path))
    return out


def corpus_sources() -> list[Source]:
    return [
        Source(f"corpus/{p.stem}[{mode}]", p, mode)
        for p in sorted(CORPUS.glob("*.yaml"))
        for mode in CORPUS_MODES
    ]


def all_sources() -> list[Source]:
    return [*golden_sources(), *example_sources(), *corpus_sources()]
