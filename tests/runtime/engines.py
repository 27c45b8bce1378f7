"""The pods that CI engines' controllers build from the kinds the function wires in
place (its record then has `units`, one per pod template inside the resource), and the
pod templates of custom kinds that the function finds at a configured path.

Only what decides whether a client reaches its daemon is emulated; the engines' own
containers and volumes (Tekton's entrypoint, /tekton/*, its internal /workspace;
Argo's wait container, /argo/*) are not:

- Tekton (TaskSpec: a Task's `spec`, a TaskRun's `spec.taskSpec`, a Pipeline's
  `tasks[].taskSpec`): the steps are the pod's containers, run in order, each with
  the stepTemplate merged in; the sidecars start first and, as Tekton's
  `await-sidecar-readiness` (on by default) does, the steps wait until each sidecar's
  readinessProbe (or startupProbe) passes; declared workspaces are emptyDirs mounted
  at /workspace/NAME (or their mountPath) in the steps and, as Tekton does since
  v0.24, in sidecars that do not mount that path already; the TaskRun's or
  PipelineRun's podTemplate gives securityContext and volumes.
- Argo Workflows (a template): the template's `container` (or `script`) is the `main`
  container; its sidecars start beside it, with nothing that waits for them;
  `mirrorVolumeMounts` gives a sidecar main's mounts; volumes come from the workflow
  spec, the template and volumeClaimTemplates (as PVCs); securityContext from the
  template, else the workflow spec.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

Json = dict[str, Any]


def _at(root: Any, path: str) -> Any:
    """The value at a record's unit path, such as `spec.tasks[1].taskSpec`."""
    node = root
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            node = (node or {}).get(name) if isinstance(node, dict) else None
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
    return node


def _merge_named(base: list[Json], extra: list[Json], key: str) -> list[Json]:
    out = {str(item.get(key)): item for item in base}
    for item in extra:
        out[str(item.get(key))] = item
    return list(out.values())


def _script(container: Json) -> Json:
    """A `script` becomes the container's command (the engines run it with a shell)."""
    if "script" in container:
        container = dict(container)
        container["command"] = ["/bin/sh", "-c", str(container.pop("script"))]
        container.pop("args", None)
    return container


def _tekton_pod_template(item: Json, path: str) -> Json:
    spec = item.get("spec") or {}
    template = spec.get("podTemplate") or (spec.get("taskRunTemplate") or {}).get("podTemplate")
    return copy.deepcopy(template or {})


def _tekton_substitute(task: Json, workspaces: list[Json]) -> Json:
    """Tekton's variable substitution: parameters (their defaults) and workspaces."""
    values: dict[str, str] = {}
    for param in task.get("params") or []:
        default = param.get("default")
        if isinstance(default, str):
            for form in (f"params.{param['name']}", f"params['{param['name']}']",
                         f'params["{param["name"]}"]'):  # fmt: skip
                values[f"$({form})"] = default
    for workspace in workspaces:
        name = workspace["name"]
        values[f"$(workspaces.{name}.volume)"] = f"ws-{name}"
        values[f"$(workspaces.{name}.path)"] = _workspace_path(workspace)
        values[f"$(workspaces.{name}.bound)"] = "true"
    text = json.dumps(task)
    for key, value in values.items():
        text = text.replace(json.dumps(key)[1:-1], json.dumps(value)[1:-1])
    result: Json = json.loads(text)
    return result


def _workspace_path(workspace: Json) -> str:
    return str(workspace.get("mountPath") or f"/workspace/{workspace['name']}")


def tekton_pod(item: Json, path: str, task: Json) -> Json:
    template = _tekton_pod_template(item, path)
    # A TaskRun binds every workspace it needs; optional ones are taken as unbound.
    workspaces = [w for w in task.get("workspaces") or [] if not w.get("optional")]
    task = _tekton_substitute(task, workspaces)
    step_template = task.get("stepTemplate") or {}
    volumes = [*(task.get("volumes") or []), *(template.get("volumes") or [])]
    mounts = []
    for workspace in workspaces:
        name = f"ws-{workspace['name']}"
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": _workspace_path(workspace),
                       "readOnly": bool(workspace.get("readOnly"))})  # fmt: skip

    steps = []
    for step in task.get("steps") or []:
        merged = copy.deepcopy(step_template)
        merged.update(copy.deepcopy(step))
        merged["env"] = _merge_named(step_template.get("env") or [], step.get("env") or [], "name")
        merged["volumeMounts"] = [
            *(step_template.get("volumeMounts") or []), *(step.get("volumeMounts") or []), *mounts,
        ]  # fmt: skip
        merged.setdefault("workingDir", "/workspace")
        merged.pop("computeResources", None)
        steps.append(_script(merged))

    sidecars = []
    for sidecar in task.get("sidecars") or []:
        sidecar = _script(copy.deepcopy(sidecar))
        own = {m["mountPath"] for m in sidecar.get("volumeMounts") or []}
        sidecar["volumeMounts"] = [
            *(sidecar.get("volumeMounts") or []), *(m for m in mounts if m["mountPath"] not in own),
        ]  # fmt: skip
        probe = sidecar.get("readinessProbe") or sidecar.get("startupProbe")
        sidecar["restartPolicy"] = "Always"  # started first; steps wait for its readiness
        if probe:
            sidecar["startupProbe"] = probe
        sidecar.pop("computeResources", None)
        sidecars.append(sidecar)

    pod: Json = {
        "initContainers": sidecars,
        "containers": steps,
        "volumes": volumes,
    }
    for key in ("securityContext", "hostNetwork", "runtimeClassName", "nodeSelector"):
        if key in template:
            pod[key] = template[key]
    return pod


def _argo_workflow_spec(item: Json) -> Json:
    spec = item.get("spec") or {}
    return spec.get("workflowSpec") or spec


def argo_pod(item: Json, path: str, template: Json) -> Json:
    workflow = _argo_workflow_spec(item)
    main = template.get("container") or template.get("script")
    main = _script(dict(copy.deepcopy(main or {}), name="main"))
    if "source" in main:
        main["command"] = ["/bin/sh", "-c", str(main.pop("source"))]
    volumes = [*(workflow.get("volumes") or []), *(template.get("volumes") or [])]
    for claim in workflow.get("volumeClaimTemplates") or []:
        name = (claim.get("metadata") or {}).get("name")
        volumes.append({"name": name, "persistentVolumeClaim": {"claimName": name}})

    def mirrored(container: Json) -> Json:
        container = _script(copy.deepcopy(container))
        if container.pop("mirrorVolumeMounts", False):
            own = {m["mountPath"] for m in container.get("volumeMounts") or []}
            container["volumeMounts"] = [
                *(container.get("volumeMounts") or []),
                *(m for m in main.get("volumeMounts") or [] if m["mountPath"] not in own),
            ]
        return container

    pod: Json = {
        "initContainers": [mirrored(c) for c in template.get("initContainers") or []],
        "containers": [*(mirrored(c) for c in template.get("sidecars") or []), main],
        "volumes": volumes,
    }
    context = template.get("securityContext") or workflow.get("securityContext")
    if context:
        pod["securityContext"] = copy.deepcopy(context)
    return pod


def unit_pods(item: Json, record: Json) -> list[tuple[str, Json, Json]]:
    """(unit path, pod spec, the unit's record) for each unit the function wired."""
    out = []
    api = str(item.get("apiVersion") or "")
    for path, unit in (record.get("units") or {}).items():
        node = _at(item, path)
        if not isinstance(node, dict):
            continue
        if api.startswith("tekton.dev/"):
            out.append((path, tekton_pod(item, path, node), unit))
        elif api.startswith("argoproj.io/"):
            out.append((path, argo_pod(item, path, node), unit))
    return out


def find_pod_spec(node: Any, depth: int = 0) -> Json | None:
    """The first pod spec (a mapping with a list of containers) inside a custom kind."""
    if depth > 8:
        return None
    if isinstance(node, dict):
        containers = node.get("containers")
        if isinstance(containers, list) and all(isinstance(c, dict) for c in containers):
            return node
        for key, value in node.items():
            if key in ("metadata", "status"):
                continue
            found = find_pod_spec(value, depth + 1)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = find_pod_spec(value, depth + 1)
            if found is not None:
                return found
    return None
