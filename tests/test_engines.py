"""The CI engines' kinds and custom kinds: what the golden cases do not show on their own."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.config.load import ConfigError, load
from tests.support import GOLDEN, run_function, schema_errors

TASK = {
    "apiVersion": "tekton.dev/v1",
    "kind": "Task",
    "metadata": {"name": "build"},
    "spec": {
        "steps": [
            {"image": "docker:29.8.0-cli", "script": "docker build ."},
            {"name": "list", "image": "alpine:3.20", "script": "ls"},
        ]
    },
}


def _run(items: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    stdin = json.dumps(
        {
            "apiVersion": "config.kubernetes.io/v1",
            "kind": "ResourceList",
            "items": items,
            "functionConfig": {
                "apiVersion": "fn.inject-docker.dev/v1alpha1",
                "kind": "InjectDocker",
                **config,
            },
        }
    )
    done = run_function(stdin)
    assert done.code == 0, done.stderr
    output: dict[str, Any] = yaml.safe_load(done.stdout)
    return output


def _messages(output: dict[str, Any]) -> list[str]:
    return [r["message"] for r in output.get("results") or []]


def test_engine_kinds_are_not_selected_by_default() -> None:
    output = _run([TASK], {})
    assert output["items"] == [TASK]
    output = _run([TASK], {"selectors": [{"kind": "Job"}]})
    assert output["items"] == [TASK]


def test_an_unnamed_step_is_wired_and_keeps_no_name() -> None:
    output = _run([TASK], {"selectors": [{"kind": "Task"}]})
    task = output["items"][0]
    first, second = task["spec"]["steps"]
    assert "name" not in first
    assert {"name": "DOCKER_HOST", "value": "unix:///var/run/dind/docker.sock"} in first["env"]
    assert "env" not in second  # `ls` uses no Docker
    assert [s["name"] for s in task["spec"]["sidecars"]] == ["dind"]
    record = json.loads(task["metadata"]["annotations"]["inject-docker.dev/injected"])
    assert record["units"]["spec"]["clients"] == ["unnamed-0"]
    assert _run([task], {"selectors": [{"kind": "Task"}]})["items"] == [task]


def test_a_task_added_before_a_wired_one_gets_no_second_daemon() -> None:
    pipeline = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": {"tasks": [{"name": "build", "taskSpec": copy.deepcopy(TASK["spec"])}]},
    }
    config = {"selectors": [{"kind": "Pipeline"}]}
    wired = _run([pipeline], config)["items"][0]
    wired["spec"]["tasks"].insert(0, {"name": "clone", "taskRef": {"name": "git-clone"}})
    again = _run([wired], config)["items"][0]
    sidecars = again["spec"]["tasks"][1]["taskSpec"]["sidecars"]
    assert [s["name"] for s in sidecars] == ["dind"]
    record = json.loads(again["metadata"]["annotations"]["inject-docker.dev/injected"])
    assert list(record["units"]) == ["spec.tasks[1].taskSpec"]


def test_an_optional_workspace_is_not_mounted_into_the_daemon() -> None:
    task = copy.deepcopy(TASK)
    task["spec"]["workspaces"] = [{"name": "src"}, {"name": "cache", "optional": True}]
    output = _run([task], {"selectors": [{"kind": "Task"}]})
    daemon = output["items"][0]["spec"]["sidecars"][0]
    names = [m["name"] for m in daemon["volumeMounts"]]
    assert "$(workspaces.src.volume)" in names
    assert "$(workspaces.cache.volume)" not in names
    assert any("optional workspace 'cache'" in m for m in _messages(output))


def test_a_step_that_sets_docker_host_keeps_it_and_no_daemon_is_added() -> None:
    task = copy.deepcopy(TASK)
    task["spec"]["steps"][0]["env"] = [{"name": "DOCKER_HOST", "value": "tcp://builder:2375"}]
    output = _run([task], {"selectors": [{"kind": "Task"}]})
    assert output["items"] == [task]
    assert any("sets DOCKER_HOST itself" in m for m in _messages(output))


def test_a_sidecar_image_given_by_a_parameter_is_known_as_a_daemon() -> None:
    task = copy.deepcopy(TASK)
    task["spec"]["params"] = [{"name": "dind", "default": "docker:29.8.0-dind"}]
    task["spec"]["sidecars"] = [
        {"name": "server", "image": "$(params.dind)", "securityContext": {"privileged": True}}
    ]
    output = _run([task], {"selectors": [{"kind": "Task"}]})
    assert output["items"] == [task]  # a dind on its default socket works: kept
    assert any("runs its own Docker daemon" in m for m in _messages(output))


def test_audit_reads_the_engines_kinds() -> None:
    workflow = yaml.safe_load((GOLDEN / "argo-dind-example" / "input.yaml").read_text())["items"][0]
    output = _run([workflow, TASK], {"mode": "audit"})
    found = [r for r in output["results"] if r.get("resourceRef", {}).get("kind") == "Workflow"]
    assert any("2375 without TLS" in r["message"] for r in found)
    assert found[0]["field"]["path"] == "spec.templates[0].sidecars[0]"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"podTemplatePath": "spec.template"}, "podTemplatePath needs kind"),
        ({"kind": "X", "podTemplatePath": "spec..template"}, "dotted path"),
        ({"kind": "X", "podTemplatePath": "spec.containers[0]"}, "dotted path"),
    ],
)
def test_a_bad_pod_template_path_is_a_config_error(selector: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load({"apiVersion": "fn.inject-docker.dev/v1alpha1", "kind": "InjectDocker",
              "selectors": [selector]})  # fmt: skip
    assert expected in str(raised.value)


def test_a_kind_without_a_pod_template_path_is_warned_about() -> None:
    scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "metadata": {"name": "s"}}
    output = _run([scaled], {"selectors": [{"kind": "ScaledJob"}]})
    assert output["items"] == [scaled]
    assert any("give it with podTemplatePath" in m for m in _messages(output))


def test_the_schema_check_catches_a_field_in_the_wrong_place() -> None:
    """The golden outputs pass the engines' CRD schemas; the check itself can fail."""
    expected = GOLDEN / "tekton-task-docker-steps" / "expected.yaml"
    task = yaml.safe_load(Path(expected).read_text())["items"][0]
    assert schema_errors(task) == []
    daemon = task["spec"]["sidecars"][0]
    daemon["resources"] = daemon.pop("computeResources")  # v1beta1's name, not v1's
    assert schema_errors(task) == ["spec.sidecars[0].resources: unknown field"]
    embedded = GOLDEN / "tekton-pipeline-embedded-tasks" / "expected.yaml"
    pipeline = yaml.safe_load(Path(embedded).read_text())["items"][0]
    pipeline["spec"]["tasks"][1]["taskSpec"]["sidecars"][0]["mirrorVolumeMounts"] = True
    assert schema_errors(pipeline) == [
        "spec.tasks[1].taskSpec: spec.sidecars[0].mirrorVolumeMounts: unknown field"
    ]
