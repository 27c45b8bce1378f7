"""The CI engines' own kinds: where their containers are.

Tekton (`tekton.dev`, v1 and v1beta1) runs a Task's `steps` beside its
`sidecars`, sharing the Task's `volumes`; a Task spec stands in a Task, in a
TaskRun (`spec.taskSpec`), and in the tasks of a Pipeline or PipelineRun
(`taskSpec` of each entry of `tasks` and `finally`). Argo Workflows
(`argoproj.io`) runs each template's `container` or `script` beside the
template's `sidecars`; templates stand in `spec.templates` (in a CronWorkflow,
`spec.workflowSpec.templates`). Actions Runner Controller's scale set
(`actions.github.com` AutoscalingRunnerSet) holds a plain pod template, which
`podspecs` knows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from function.kube.podspecs import group_of
from function.plaindata import listing, mapping

TEKTON_GROUP = "tekton.dev"
ARGO_GROUP = "argoproj.io"
TEKTON_KINDS = frozenset({"Task", "TaskRun", "Pipeline", "PipelineRun"})
ARGO_KINDS = frozenset({"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"})
# The older Actions Runner Controller: its docker settings are read, not changed.
SUMMERWIND_GROUP = "actions.summerwind.dev"
SUMMERWIND_KINDS = frozenset({"RunnerDeployment", "RunnerSet", "Runner"})
ENGINE_KINDS = TEKTON_KINDS | ARGO_KINDS | SUMMERWIND_KINDS


class Unit(NamedTuple):
    """One place in a resource that is wired on its own: a Task spec or a template."""

    engine: str  # "tekton" or "argo"
    path: str  # where it stands, such as `spec.tasks[1].taskSpec`
    body: dict[str, Any]  # the Task spec or the template itself (edited in place)


def engine_of(resource: dict[str, Any]) -> str | None:
    """`tekton`, `argo` or `summerwind` for the CI engines' kinds; None for any other."""
    group = group_of(str(resource.get("apiVersion", "")))
    kind = resource.get("kind")
    if group == TEKTON_GROUP and kind in TEKTON_KINDS:
        return "tekton"
    if group == ARGO_GROUP and kind in ARGO_KINDS:
        return "argo"
    if group == SUMMERWIND_GROUP and kind in SUMMERWIND_KINDS:
        return "summerwind"
    return None


def containers(unit: Unit) -> list[dict[str, Any]]:
    """The containers that may use Docker: a Task's steps, a template's container or script."""
    if unit.engine == "tekton":
        return [s for s in listing(unit.body.get("steps")) if isinstance(s, dict)]
    main = unit.body.get("container") or unit.body.get("script")
    return [main] if isinstance(main, dict) else []


def units(resource: dict[str, Any]) -> list[Unit]:
    """Every Task spec or template of a CI engine's resource, in document order."""
    engine, kind = engine_of(resource), resource.get("kind")
    spec = mapping(resource.get("spec"))
    if engine == "tekton":
        if kind == "Task":
            return [Unit("tekton", "spec", spec)] if spec else []
        if kind == "TaskRun":
            found = spec.get("taskSpec")
            return [Unit("tekton", "spec.taskSpec", found)] if isinstance(found, dict) else []
        pipeline, at = (
            (spec, "spec")
            if kind == "Pipeline"
            else (
                mapping(spec.get("pipelineSpec")),
                "spec.pipelineSpec",
            )
        )
        out = []
        for key in ("tasks", "finally"):
            for i, task in enumerate(listing(pipeline.get(key))):
                body = mapping(task).get("taskSpec")
                if isinstance(body, dict) and "steps" in body:  # not a custom task's spec
                    out.append(Unit("tekton", f"{at}.{key}[{i}].taskSpec", body))
        return out
    if engine == "argo":
        holder, at = (
            (spec, "spec")
            if kind != "CronWorkflow"
            else (
                mapping(spec.get("workflowSpec")),
                "spec.workflowSpec",
            )
        )
        return [
            Unit("argo", f"{at}.templates[{i}]", template)
            for i, template in enumerate(listing(holder.get("templates")))
            if isinstance(template, dict)
            and (
                isinstance(template.get("container"), dict)
                or isinstance(template.get("script"), dict)
            )
        ]
    return []
