"""The CRD validator accepts good resources and names the field of a bad one.

The other tests trust crd_errors() to catch a misplaced or mistyped field in the
function's output, so these show it does, for each engine's schema.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.crds.validate import crd_errors, known_kinds

DIND = {
    "name": "dind",
    "image": "docker:27-dind",
    "securityContext": {"privileged": True},
    "env": [{"name": "DOCKER_TLS_CERTDIR", "value": ""}],
}
RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2}}
# Pod containers and Tekton v1beta1 call it `resources`; Tekton v1 renamed it `computeResources`.
DIND_POD = {**DIND, "resources": RESOURCES}
CLIENT = {
    "name": "build",
    "image": "docker:27-cli",
    "command": ["docker", "version"],
    "env": [{"name": "DOCKER_HOST", "value": "tcp://127.0.0.1:2375"}],
}
TASK_SPEC = {
    "steps": [{**CLIENT, "script": "docker build ."}],
    "sidecars": [{**DIND, "computeResources": RESOURCES}],
    "volumes": [{"name": "docker", "emptyDir": {}}],
}
TASK_SPEC_V1BETA1 = {**TASK_SPEC, "sidecars": [DIND_POD]}
WORKFLOW_SPEC = {
    "entrypoint": "main",
    "templates": [
        {
            "name": "main",
            "container": CLIENT,
            "sidecars": [{**DIND_POD, "mirrorVolumeMounts": True}],
        }
    ],
}
POD_SPEC = {
    "containers": [{"name": "runner", "image": "ghcr.io/actions/actions-runner:latest"}],
    "initContainers": [{**DIND_POD, "restartPolicy": "Always"}],
}


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "ci", "namespace": "ci"},
        "spec": copy.deepcopy(spec),
    }


VALID = {
    "Task v1": _resource("tekton.dev/v1", "Task", TASK_SPEC),
    "Task v1beta1": _resource("tekton.dev/v1beta1", "Task", TASK_SPEC_V1BETA1),
    "TaskRun": _resource("tekton.dev/v1", "TaskRun", {"taskSpec": TASK_SPEC}),
    "Pipeline": _resource(
        "tekton.dev/v1", "Pipeline", {"tasks": [{"name": "build", "taskSpec": TASK_SPEC}]}
    ),
    "PipelineRun": _resource("tekton.dev/v1", "PipelineRun", {"pipelineRef": {"name": "ci"}}),
    "Workflow": _resource("argoproj.io/v1alpha1", "Workflow", WORKFLOW_SPEC),
    "WorkflowTemplate": _resource("argoproj.io/v1alpha1", "WorkflowTemplate", WORKFLOW_SPEC),
    "ClusterWorkflowTemplate": _resource(
        "argoproj.io/v1alpha1", "ClusterWorkflowTemplate", WORKFLOW_SPEC
    ),
    "CronWorkflow": _resource(
        "argoproj.io/v1alpha1",
        "CronWorkflow",
        {"schedules": ["0 * * * *"], "workflowSpec": WORKFLOW_SPEC},
    ),
    "AutoscalingRunnerSet": _resource(
        "actions.github.com/v1alpha1",
        "AutoscalingRunnerSet",
        {
            "githubConfigUrl": "https://github.com/example/repo",
            "githubConfigSecret": "gh",
            "maxRunners": 3,
            "template": {"spec": POD_SPEC},
        },
    ),
    "RunnerDeployment": _resource(
        "actions.summerwind.dev/v1alpha1",
        "RunnerDeployment",
        {
            "replicas": None,
            "template": {
                "spec": {
                    "repository": "example/repo",
                    "dockerEnabled": False,
                    "sidecarContainers": [DIND_POD],
                }
            },
        },
    ),
    "RunnerSet": _resource(
        "actions.summerwind.dev/v1alpha1",
        "RunnerSet",
        {
            "repository": "example/repo",
            "selector": {"matchLabels": {"app": "ci"}},
            "serviceName": "ci",
            "template": {"metadata": {"labels": {"app": "ci"}}, "spec": POD_SPEC},
        },
    ),
}

# resource -> (field, wrong value); the error must name the field by the same dotted path
WRONG_TYPE: dict[str, tuple[str, Any]] = {
    "Task v1": ("spec.steps[0].image", 5),
    "Task v1beta1": ("spec.sidecars[0].securityContext.privileged", "yes"),
    "TaskRun": ("spec.timeout", 60),
    "Pipeline": ("spec.tasks[0].retries", "3"),
    "PipelineRun": ("spec.pipelineRef.name", ["ci"]),
    "Workflow": ("spec.templates[0].sidecars[0].mirrorVolumeMounts", "true"),
    "WorkflowTemplate": ("spec.templates[0].container.env", {"A": "b"}),
    "ClusterWorkflowTemplate": ("spec.templates[0].sidecars[0].resources.limits.cpu", True),
    "CronWorkflow": ("spec.schedules", "0 * * * *"),
    "AutoscalingRunnerSet": ("spec.githubConfigUrl", 42),
    "RunnerDeployment": ("spec.replicas", "two"),
    "RunnerSet": ("spec.template.spec.initContainers[0].restartPolicy", 1),
}

# resource -> the object that gets a stray `privileged: true`, as if moved out of securityContext
MISPLACED: dict[str, str] = {
    "Task v1": "spec.steps[0]",
    "Task v1beta1": "spec.sidecars[0]",
    "TaskRun": "spec",
    "Pipeline": "spec.tasks[0]",
    "PipelineRun": "spec",
    "Workflow": "spec.templates[0]",
    "WorkflowTemplate": "spec.templates[0].container",
    "ClusterWorkflowTemplate": "spec.templates[0].sidecars[0]",
    "CronWorkflow": "spec.workflowSpec",
    "AutoscalingRunnerSet": "spec.template.spec.initContainers[0]",
    "RunnerDeployment": "spec.template.spec",
    "RunnerSet": "spec.template.spec.containers[0]",
}


def _parts(path: str) -> list[str | int]:
    """`a.b[0].c` -> ["a", "b", 0, "c"]."""
    return [int(index) if index else key for key, index in re.findall(r"(\w+)|\[(\d+)\]", path)]


def _at(resource: dict[str, Any], path: str) -> Any:
    node: Any = resource
    for part in _parts(path):
        node = node[part]
    return node


def test_every_kind_the_function_edits_has_a_stored_crd() -> None:
    assert known_kinds() == {
        ("tekton.dev", "Task"),
        ("tekton.dev", "TaskRun"),
        ("tekton.dev", "Pipeline"),
        ("tekton.dev", "PipelineRun"),
        ("argoproj.io", "Workflow"),
        ("argoproj.io", "WorkflowTemplate"),
        ("argoproj.io", "ClusterWorkflowTemplate"),
        ("argoproj.io", "CronWorkflow"),
        ("actions.github.com", "AutoscalingRunnerSet"),
        ("actions.summerwind.dev", "RunnerDeployment"),
        ("actions.summerwind.dev", "RunnerSet"),
    }
    assert {(r["apiVersion"].split("/")[0], r["kind"]) for r in VALID.values()} == known_kinds()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("name", VALID)
def test_a_valid_resource_passes(name: str, strict: bool) -> None:
    assert crd_errors(VALID[name], strict=strict) == []


@pytest.mark.parametrize("name", WRONG_TYPE)
def test_a_field_of_the_wrong_type_fails_with_its_path(name: str) -> None:
    field, value = WRONG_TYPE[name]
    resource = copy.deepcopy(VALID[name])
    parent, _, key = field.rpartition(".")
    _at(resource, parent)[key] = value
    errors = crd_errors(resource)
    assert errors, f"{name}: {field} = {value!r} passed"
    assert any(error.startswith(f"{field}: ") for error in errors), errors


@pytest.mark.parametrize("name", MISPLACED)
def test_a_misplaced_field_fails_only_in_strict_mode(name: str) -> None:
    parent = MISPLACED[name]
    resource = copy.deepcopy(VALID[name])
    _at(resource, parent)["privileged"] = True
    assert crd_errors(resource) == []
    assert crd_errors(resource, strict=True) == [f"{parent}.privileged: unknown field"]


def test_int_or_string_takes_either_but_nothing_else() -> None:
    resource = copy.deepcopy(VALID["AutoscalingRunnerSet"])
    limits = resource["spec"]["template"]["spec"]["initContainers"][0]["resources"]["limits"]
    for ok in (2, "2", "500m"):
        limits["cpu"] = ok
        assert crd_errors(resource, strict=True) == []
    limits["cpu"] = 2.5
    assert crd_errors(resource) == [
        "spec.template.spec.initContainers[0].resources.limits.cpu: "
        "2.5 is not of type 'integer', 'string'"
    ]


def test_strict_mode_catches_a_field_renamed_between_versions() -> None:
    """Tekton v1 steps and sidecars take computeResources; `resources` is v1beta1 only."""
    resource = copy.deepcopy(VALID["Task v1"])
    resource["spec"]["sidecars"][0]["resources"] = RESOURCES
    assert crd_errors(resource) == []
    assert crd_errors(resource, strict=True) == ["spec.sidecars[0].resources: unknown field"]


def test_nullable_accepts_null_only_where_the_schema_says_so() -> None:
    resource = copy.deepcopy(VALID["RunnerDeployment"])
    assert crd_errors(resource) == []  # spec.replicas: null, marked nullable
    resource["spec"]["template"]["spec"]["repository"] = None
    assert crd_errors(resource) == ["spec.template.spec.repository: None is not of type 'string'"]


def test_strict_mode_keeps_fields_where_the_schema_preserves_unknown_ones() -> None:
    """Tekton marks embedded taskSpec and volumes preserve-unknown: the CRD cannot check them."""
    task_run = copy.deepcopy(VALID["TaskRun"])
    task_run["spec"]["taskSpec"]["steps"][0]["privileged"] = True
    task = copy.deepcopy(VALID["Task v1"])
    task["spec"]["volumes"][0]["anything"] = {"goes": True}
    assert crd_errors(task_run, strict=True) == []
    assert crd_errors(task, strict=True) == []


def test_unknown_fields_at_the_top_level_fail_in_strict_mode() -> None:
    resource = {**VALID["Workflow"], "templates": []}
    assert crd_errors(resource, strict=True) == ["templates: unknown field"]


def test_required_fields_are_checked() -> None:
    resource = copy.deepcopy(VALID["CronWorkflow"])
    del resource["spec"]["schedules"]
    assert crd_errors(resource) == ["spec: 'schedules' is a required property"]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"apiVersion": "v1", "kind": "Pod"}, "name no custom resource"),
        ({"apiVersion": "apps/v1", "kind": "Deployment"}, "no CRD stored for Deployment.apps"),
        ({"apiVersion": "tekton.dev/v1alpha1", "kind": "Task"}, "serves ['v1', 'v1beta1']"),
    ],
)
def test_a_resource_without_a_stored_schema_is_an_error(
    resource: dict[str, Any], expected: str
) -> None:
    (error,) = crd_errors(resource)
    assert expected in error
