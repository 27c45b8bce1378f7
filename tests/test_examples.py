"""The examples in kustomization-examples/ do what their READMEs say.

A README marks each command it promises with an HTML comment right above a
fenced block:

    <!-- example-test: stdout=expected.yaml needs=image,kubectl -->
    ```sh
    kubectl kustomize --enable-alpha-plugins kustomization-examples/ci-job-sidecar
    ```

The block runs exactly as written (bash -euo pipefail, from the repository root,
with TMPDIR pointing into pytest's tmp_path) and what it produced must equal the
committed file byte for byte. Keys (paths relative to the README's folder):

- `stdout=FILE` / `stderr=FILE`: the block's standard output / error;
- `outdir=DIR`: the folder the block renders into, named `$(mktemp -d)/NAME` in it;
- `needs=`: `image` (the container image inject-docker:local; opt-in with
  INJECT_DOCKER_IMAGE_TESTS=1, and once opted in a missing image fails), `kpt`,
  `kubectl` (skipped when missing, unless CI=true), `kustomize` (the standalone
  binary, which the exec forms need; skipped when missing).

Regenerate the expected files, then read the diff before committing it:

    UPDATE_GOLDEN=1 INJECT_DOCKER_IMAGE_TESTS=1 python -m pytest tests/test_examples.py

(an `outdir` block's `diff` lines are left out while updating).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT, UPDATE

EXAMPLES = ROOT / "kustomization-examples"
IMAGE = "inject-docker:local"  # the image the examples' container-form transformers name
IMAGE_TESTS = os.environ.get("INJECT_DOCKER_IMAGE_TESTS") == "1"
IN_CI = os.environ.get("CI") == "true"
TIMEOUT = 300

MARKER = re.compile(
    r"<!-- example-test: (?P<keys>[^>]*?) -->[ \t]*\n\s*```[a-z]*\n(?P<body>.*?)\n```", re.S
)
OUTDIR = re.compile(r"\$\(mktemp -d\)/([\w.-]+)")
FUNCTION_ANNOTATION = "config.kubernetes.io/function"


@dataclass(frozen=True)
class Command:
    readme: Path
    index: int
    body: str
    keys: dict[str, str]

    @property
    def folder(self) -> Path:
        return self.readme.parent

    @property
    def id(self) -> str:
        return f"{self.folder.relative_to(EXAMPLES)}#{self.index}"

    @property
    def needs(self) -> set[str]:
        return {n for n in self.keys.get("needs", "").split(",") if n}


def _commands() -> list[Command]:
    found = []
    for readme in sorted(EXAMPLES.rglob("README.md")):
        for index, match in enumerate(MARKER.finditer(readme.read_text()), 1):
            keys = dict(part.split("=", 1) for part in match["keys"].split())
            found.append(Command(readme, index, match["body"], keys))
    return found


COMMANDS = _commands()


# --- requirements


@cache
def _image_problem() -> str | None:
    if shutil.which("docker") is None:
        return "docker is not installed"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        return f"the Docker engine does not answer: {info.stderr.strip()}"
    inspect = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False
    )
    if inspect.returncode != 0:
        return f"image {IMAGE} not found"
    return None


def _require(needs: set[str]) -> None:
    if "image" in needs:
        if not IMAGE_TESTS:
            pytest.skip(
                "runs the container image: opt in with INJECT_DOCKER_IMAGE_TESTS=1 "
                "after tests/image/build-local.sh"
            )
        problem = _image_problem()
        if problem:
            pytest.fail(f"{problem}; run tests/image/build-local.sh", pytrace=False)
    for tool in sorted(needs & {"kpt", "kubectl"}):
        if shutil.which(tool) is None:
            if IN_CI or "image" in needs:
                pytest.fail(f"{tool} is not installed", pytrace=False)
            pytest.skip(f"{tool} is not installed (required under CI=true)")
    if "kustomize" in needs and shutil.which("kustomize") is None:
        pytest.skip(
            "the standalone kustomize binary is not installed; exec functions need it "
            "(kubectl kustomize skips them)"
        )


def _bin_dir() -> Path:
    beside = Path(sys.executable).parent
    if (beside / "inject-docker").exists():
        return beside
    found = shutil.which("inject-docker")
    if found is None:
        pytest.fail("the inject-docker command is not installed: pip install .", pytrace=False)
    return Path(found).parent


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    env["PATH"] = f"{_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _check_text(path: Path, produced: str) -> None:
    if UPDATE:
        path.write_text(produced)
    assert path.exists(), f"{path} is missing; rerun with UPDATE_GOLDEN=1 and review"
    assert produced == path.read_text(), f"{path}: rerun with UPDATE_GOLDEN=1 and review"


def _check_tree(path: Path, produced: Path) -> None:
    if UPDATE:
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(produced, path)
    assert _files(produced) == _files(path), f"{path}: rerun with UPDATE_GOLDEN=1 and review"


# --- the READMEs' commands


@pytest.mark.parametrize("command", COMMANDS, ids=[c.id for c in COMMANDS])
def test_readme_command_gives_expected_output(command: Command, tmp_path: Path) -> None:
    _require(command.needs)
    script = command.body
    if UPDATE:
        script = "\n".join(line for line in script.splitlines() if not line.startswith("diff "))
    done = _run(script, tmp_path)
    assert done.returncode == 0, (
        f"{command.id} exited {done.returncode}\n--- stderr ---\n{done.stderr}"
        f"\n--- stdout ---\n{done.stdout[-3000:]}"
    )
    if "stdout" in command.keys:
        _check_text(command.folder / command.keys["stdout"], done.stdout)
    if "stderr" in command.keys:
        _check_text(command.folder / command.keys["stderr"], done.stderr)
    if "outdir" in command.keys:
        name = OUTDIR.search(command.body)
        assert name, "an outdir block renders into $(mktemp -d)/NAME"
        made = [d / name[1] for d in tmp_path.iterdir() if (d / name[1]).is_dir()]
        assert len(made) == 1, f"expected one rendered folder {name[1]!r}, found {made}"
        _check_tree(command.folder / command.keys["outdir"], made[0])


def test_every_example_has_a_readme_with_a_tested_command() -> None:
    folders = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())
    assert [f.name for f in folders] == [
        "argo-workflow",
        "argocd",
        "ci-job-sidecar",
        "daemonset",
        "flux",
        "kpt-package",
        "migrate-docker-sock",
        "overlays",
        "tekton-pipeline",
    ]
    tested = {c.folder for c in COMMANDS}
    for folder in folders:
        assert folder in tested, f"{folder.name}/README.md marks no command"
    for command in COMMANDS:
        outputs = [command.keys[k] for k in ("stdout", "stderr", "outdir") if k in command.keys]
        assert len(outputs) == 1, f"{command.id}: name one output"
        # The README names the output in its text too, not only in the marker.
        assert command.readme.read_text().count(f"`{outputs[0]}") >= 1, command.id
        assert set(command.keys) <= {"stdout", "stderr", "outdir", "needs"}, command.id
        assert command.needs <= {"image", "kpt", "kubectl", "kustomize"}, command.id


def test_readme_warns_that_kubectl_skips_exec_functions() -> None:
    text = (EXAMPLES / "ci-job-sidecar" / "README.md").read_text()
    assert re.search(r"\*\*`kubectl kustomize` silently skips exec functions[^*]*\*\*", text)


# --- exec and container forms


def _without_function_annotation(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    annotations = doc.get("metadata", {}).get("annotations", {})
    annotations.pop(FUNCTION_ANNOTATION, None)
    if not annotations:
        doc["metadata"].pop("annotations", None)
    return doc


def test_exec_form_has_the_container_forms_settings() -> None:
    folder = EXAMPLES / "ci-job-sidecar"
    container = yaml.safe_load((folder / "inject-docker.yaml").read_text())
    executable = yaml.safe_load((folder / "exec" / "inject-docker.yaml").read_text())
    assert yaml.safe_load(container["metadata"]["annotations"][FUNCTION_ANNOTATION]) == {
        "container": {"image": IMAGE}
    }
    assert yaml.safe_load(executable["metadata"]["annotations"][FUNCTION_ANNOTATION]) == {
        "exec": {"path": "inject-docker"}
    }
    assert _without_function_annotation(container) == _without_function_annotation(executable)


def _kubectl_kustomize(*args: str) -> subprocess.CompletedProcess[str]:
    _require({"kubectl"})
    return subprocess.run(
        ["kubectl", "kustomize", *args], capture_output=True, text=True, timeout=TIMEOUT
    )


def test_kubectl_kustomize_leaves_the_exec_form_unchanged() -> None:
    """What the README warns about: no error, no warning, no Docker."""
    folder = EXAMPLES / "ci-job-sidecar" / "exec"
    done = _kubectl_kustomize(
        "--enable-alpha-plugins", "--load-restrictor", "LoadRestrictionsNone", str(folder)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "inject-docker.dev/injected" not in done.stdout
    assert "initContainers" not in done.stdout
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(done.stdout)] == [
        "nightly-prune",
        "build-app",
    ]


def test_container_overlay_without_plugins_fails_loudly() -> None:
    done = _kubectl_kustomize(str(EXAMPLES / "overlays" / "overlays" / "ci"))
    assert done.returncode != 0
    assert "external plugins disabled" in done.stderr


# Exec-form kustomizations and the file their output must equal. kubectl cannot run
# exec functions, so a copy with the container form stands in for standalone kustomize.
EXEC_FORMS = {
    "ci-job-sidecar/exec": "ci-job-sidecar/expected.yaml",
    "argocd/app": "argocd/app/expected.yaml",
}


@pytest.mark.parametrize("folder", sorted(EXEC_FORMS))
def test_exec_form_output_through_the_container_form(folder: str, tmp_path: Path) -> None:
    _require({"image", "kubectl"})
    example = folder.split("/")[0]
    copy = tmp_path / example
    shutil.copytree(EXAMPLES / example, copy)
    config = copy / folder.split("/", 1)[1] / "inject-docker.yaml"
    text = config.read_text()
    exec_form = "exec:\n        path: inject-docker\n"
    assert exec_form in text
    config.write_text(text.replace(exec_form, f"container:\n        image: {IMAGE}\n"))
    done = _kubectl_kustomize(
        "--enable-alpha-plugins",
        "--load-restrictor",
        "LoadRestrictionsNone",
        str(copy / folder.split("/", 1)[1]),
    )
    assert done.returncode == 0, done.stderr
    _check_text(EXAMPLES / EXEC_FORMS[folder], done.stdout)


# --- validity


def _yaml_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") or p.name == "Kptfile"
    )


def _documents(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _is_kustomize_config(doc: dict[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")


def _kubernetes_problems(doc: dict[str, Any]) -> tuple[bool, list[str]]:
    """(known to kubernetes-validate or to the stored CRDs, its problems for 1.29)."""
    import kubernetes_validate

    from tests.crds.validate import known_kinds
    from tests.support import schema_errors

    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    if (group, doc.get("kind")) in known_kinds():
        return True, schema_errors(doc)
    try:
        kubernetes_validate.validate(doc, "1.29", strict=True)
    except kubernetes_validate.utils.SchemaNotFoundError:
        return False, []
    except kubernetes_validate.ValidationError as error:
        return True, [f"{error.message} at {list(error.path)}"]
    return True, []


GITOPS_FILES = [p for name in ("argocd", "flux") for p in _yaml_files(EXAMPLES / name)]


@pytest.mark.parametrize(
    "path", GITOPS_FILES, ids=[str(p.relative_to(EXAMPLES)) for p in GITOPS_FILES]
)
def test_gitops_files_parse_and_validate(path: Path) -> None:
    documents = _documents(path)
    assert documents, f"{path} holds no YAML document"
    for doc in documents:
        assert isinstance(doc, dict)
        if "kind" not in doc or _is_kustomize_config(doc) or doc["kind"] == "InjectDocker":
            continue  # a workflow, a kustomization file, or a function config (schema test)
        known, problems = _kubernetes_problems(doc)
        assert problems == [], f"{doc['kind']}/{doc['metadata']['name']}"
        if not known:  # a custom resource: Application, OCIRepository, Flux Kustomization
            assert doc["kind"] in {"Application", "OCIRepository", "Kustomization"}
            assert "/" in doc["apiVersion"]
            assert doc["metadata"]["name"]


def test_argocd_plugin_sidecar_and_application_agree() -> None:
    folder = EXAMPLES / "argocd"
    (config_map,) = _documents(folder / "cmp-plugin.yaml")
    plugin = yaml.safe_load(config_map["data"]["plugin.yaml"])
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["spec"]["generate"]["command"][:2] == ["kustomize", "build"]
    assert "--enable-exec" in plugin["spec"]["generate"]["command"]
    (application,) = _documents(folder / "application.yaml")
    name = f"{plugin['metadata']['name']}-{plugin['spec']['version']}"
    assert application["spec"]["source"]["plugin"]["name"] == name
    assert (ROOT / application["spec"]["source"]["path"] / "kustomization.yaml").exists()
    (patch,) = _documents(folder / "repo-server-patch.yaml")
    (sidecar,) = patch["spec"]["template"]["spec"]["containers"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    config_mount = mounts["/home/argocd/cmp-server/config/plugin.yaml"]
    assert config_mount["subPath"] == "plugin.yaml"
    volumes = {v["name"]: v for v in patch["spec"]["template"]["spec"]["volumes"]}
    assert volumes[config_mount["name"]]["configMap"]["name"] == config_map["metadata"]["name"]
    assert "/tmp" in mounts
    dockerfile = (folder / "Dockerfile").read_text()
    assert "USER 999" in dockerfile
    assert "pip install" in dockerfile and "/usr/local/bin/kustomize" in dockerfile
    readme = (folder / "README.md").read_text()
    assert "90 seconds" in readme and "ARGOCD_EXEC_TIMEOUT" in readme


def test_flux_workflow_runs_the_readme_command() -> None:
    folder = EXAMPLES / "flux"
    (command,) = [c for c in COMMANDS if c.folder == folder]
    workflow = yaml.safe_load((folder / "github-workflow.yaml").read_text())
    steps = workflow["jobs"]["render-and-push"]["steps"]
    scripts = " ".join(s.get("run", "") for s in steps)
    flat = " ".join(scripts.replace("\\\n", " ").split())
    assert " ".join(command.body.split()) in flat
    assert "flux push artifact" in flat
    (source,) = _documents(folder / "cluster" / "ocirepository.yaml")
    (kustomization,) = _documents(folder / "cluster" / "ci-runners.yaml")
    assert kustomization["spec"]["sourceRef"] == {"kind": "OCIRepository", "name": "ci-runners"}
    assert source["metadata"]["name"] == "ci-runners"


def _expected_outputs() -> list[Path]:
    found = []
    for command in COMMANDS:
        if "stdout" in command.keys:
            found.append(command.folder / command.keys["stdout"])
        if "outdir" in command.keys:
            target = command.folder / command.keys["outdir"]
            found += _yaml_files(target) if target.is_dir() else [target]
    return sorted(set(found))


EXPECTED = _expected_outputs()


@pytest.mark.parametrize("path", EXPECTED, ids=[str(p.relative_to(EXAMPLES)) for p in EXPECTED])
def test_expected_outputs_are_valid_kubernetes(path: Path) -> None:
    if not path.exists():
        pytest.fail(f"{path} is missing; rerun with UPDATE_GOLDEN=1", pytrace=False)
    for doc in _documents(path):
        known, problems = _kubernetes_problems(doc)
        assert problems == [], f"{doc['kind']}/{doc['metadata']['name']}"
        assert known or doc["kind"] in {"Kptfile", "InjectDocker"}, doc["kind"]


# --- function configs


@cache
def _schema() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "function", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _function_configs() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in _yaml_files(EXAMPLES):
        for i, doc in enumerate(_documents(path)):
            if isinstance(doc, dict) and doc.get("kind") == "InjectDocker":
                found.append((f"{path.relative_to(EXAMPLES)}#{i}", doc))
    return found


CONFIGS = _function_configs()


def test_examples_have_function_configs() -> None:
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize("config", [c for _, c in CONFIGS], ids=[i for i, _ in CONFIGS])
def test_example_configs_match_schema(config: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    problems = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(config)]
    assert problems == []
