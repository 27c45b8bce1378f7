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


def _embedded_task_specs(resource: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, Task spec) of each Task spec a TaskRun, Pipeline or PipelineRun holds."""
    kind, spec = resource.get("kind"), resource.get("spec") or {}
    if kind == "TaskRun":
        return [("spec.taskSpec", spec["taskSpec"])] if spec.get("taskSpec") else []
    pipeline, at = (spec, "spec") if kind == "Pipeline" else (spec.get("pipelineSpec"), "spec")
    if kind == "PipelineRun":
        at = "spec.pipelineSpec"
    found = []
    for key in ("tasks", "finally"):
        for i, task in enumerate((pipeline or {}).get(key) or []):
            if isinstance(task.get("taskSpec"), dict) and "steps" in task["taskSpec"]:
                found.append((f"{at}.{key}[{i}].taskSpec", task["taskSpec"]))
    return found


def schema_errors(
    resource: dict[str, Any],
    oldest: tuple[str, ...] = VALIDATION_VERSIONS,
    template_paths: dict[str, str] | None = None,
) -> list[str]:
    """Schema problems of any resource a golden output holds.

    Kubernetes' own kinds: its schemas (`validation_errors`). The CI engines' kinds: their
    published CRD schema, strictly (an unknown field is an error); a Task spec embedded in a
    TaskRun, Pipeline or PipelineRun, which those CRDs leave open, is checked as a Task of
    the same version, and a Task's volumes (also left open) as a pod's. A kind a selector
    gives a `podTemplatePath` for (`template_paths`, kind -> path): its pod template,
    checked as a PodTemplate's.
    """
    from tests.crds.validate import crd_errors, known_kinds

    api_version, kind = str(resource.get("apiVersion", "")), str(resource.get("kind"))
    group = api_version.rpartition("/")[0]
    if (group, kind) in known_kinds():
        problems = crd_errors(resource, strict=True)
        specs = _embedded_task_specs(resource) if group == "tekton.dev" else []
        if kind == "Task" and isinstance(resource.get("spec"), dict):
            specs.append(("spec", resource["spec"]))
        for path, task_spec in specs:
            body = {k: v for k, v in task_spec.items() if k not in ("metadata", "apiVersion")}
            task = {"apiVersion": api_version, "kind": "Task", "metadata": {"name": "t"}}
            if kind != "Task":  # a Task itself was checked whole above
                problems += [
                    f"{path}: {p}" for p in crd_errors({**task, "spec": body}, strict=True)
                ]
            if body.get("volumes"):
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "p"},
                    "spec": {
                        "containers": [{"name": "c", "image": "i"}],
                        "volumes": body["volumes"],
                    },
                }
                problems += [f"{path}.volumes: {p}" for p in validation_errors(pod, oldest)]
        return problems
    path = (template_paths or {}).get(kind)
    if path is not None:
        template: Any = resource
        for key in path.split("."):
            template = template[key]
        wrapped = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "t"},
            "template": template,
        }
        return [f"{path}: {p}" for p in validation_errors(wrapped, oldest)]
    return validation_errors(resource, oldest)


# The pods the CI engines make of what the function wrote: the wiring and runtime
# tests start from these, written from the engines' documented behaviour, not the
# function's code.
def value_at(item: dict[str, Any], path: str) -> Any:
    """The value at a path such as `spec.tasks[1].taskSpec`."""
    node: Any = item
    for part in path.replace("]", "").replace("[", ".").split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    return node


def tekton_pod(task: dict[str, Any]) -> dict[str, Any]:
    """The pod Tekton makes of a Task spec: steps and sidecars side by side, on the Task's
    volumes; each workspace bound to a volume of its own, its variables resolved."""
    spaces = {
        w["name"]: w.get("mountPath", f"/workspace/{w['name']}")
        for w in task.get("workspaces") or []
    }
    resolved = {f"$(workspaces.{n}.volume)": f"ws-{n}" for n in spaces}
    resolved |= {f"$(workspaces.{n}.path)": path for n, path in spaces.items()}

    def container(entry: dict[str, Any], i: int) -> dict[str, Any]:
        mounts = [
            {k: resolved.get(v, v) for k, v in m.items()} for m in entry.get("volumeMounts") or []
        ]
        return {**entry, "name": entry.get("name") or f"unnamed-{i}", "volumeMounts": mounts}

    steps = [container(s, i) for i, s in enumerate(task["steps"])]
    sidecars = [container(s, i) for i, s in enumerate(task.get("sidecars") or [])]
    volumes = [*(task.get("volumes") or []), *({"name": f"ws-{n}", "emptyDir": {}} for n in spaces)]
    return {"containers": [*steps, *sidecars], "volumes": volumes}


def argo_pod(template: dict[str, Any], workflow: dict[str, Any]) -> dict[str, Any]:
    """The pod Argo makes of a template: `main` and the sidecars, those that ask for it
    given main's mounts; the template's volumes and the workflow's."""
    main = {"name": "main", **(template.get("container") or template["script"])}
    main_mounts = main.get("volumeMounts") or []
    sidecars = [
        {**s, "volumeMounts": [*(s.get("volumeMounts") or []), *main_mounts]}
        if s.get("mirrorVolumeMounts")
        else s
        for s in template.get("sidecars") or []
    ]
    volumes = [*(template.get("volumes") or []), *(workflow.get("volumes") or [])]
    return {"containers": [main, *sidecars], "volumes": volumes}
