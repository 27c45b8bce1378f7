"""Actions Runner Controller: the scale set's runner conventions, and the older kinds read.

A scale set (`actions.github.com` AutoscalingRunnerSet) holds a plain pod template,
wired like any other; its runner (uid 1001, group docker 123) keeps the job's files
in /home/runner/_work and mounts /home/runner/externals into job containers, so
the daemon must see both at those paths, as in the controller's own dind mode.

The older controller (`actions.summerwind.dev`) makes the runner pods and their
Docker daemon itself, so inject-docker changes nothing in a RunnerDeployment,
RunnerSet or Runner. It reports what the controller will do with the docker
settings, and the inject-docker settings that do the same, for a move to a scale set.
"""

from __future__ import annotations

import json
from typing import Any

from function.krm import results
from function.krm.results import Result
from function.kube.containers import append, containers_of, named
from function.kube.record import Record
from function.plaindata import listing, mapping
from function.transform.outcome import Note

SCALE_SET_KIND = "AutoscalingRunnerSet"
RUNNER = "runner"  # the container the controller runs the runner in
WORK_DIR = "/home/runner/_work"
EXTERNALS_DIR = "/home/runner/externals"
# The names the controller's own dind mode uses, so a template that already has them
# (a Helm-rendered dind mode) is recognised and left as it is.
_WORK_VOLUME = "work"
_EXTERNALS_VOLUME = "dind-externals"
_EXTERNALS_COPY = "init-dind-externals"


def _runner(spec: dict[str, Any], clients: list[str]) -> dict[str, Any] | None:
    return next((c for c in named(spec, clients) if c.get("name") == RUNNER), None)


def _taken(spec: dict[str, Any], volume: str) -> bool:
    volumes = listing(spec.get("volumes"))
    return any(isinstance(v, dict) and v.get("name") == volume for v in volumes)


def prepare_scale_set(spec: dict[str, Any], clients: list[str]) -> tuple[list[str], list[Note]]:
    """Before wiring: the runner's work directory on an emptyDir, which the daemon then
    mounts at the same path as the runner's other workspaces. (volumes added, notes)"""
    runner = _runner(spec, clients)
    if runner is None:
        return [], []
    if any(
        str(m.get("mountPath", "")).rstrip("/") == WORK_DIR
        for m in listing(runner.get("volumeMounts"))
        if isinstance(m, dict)
    ):
        return [], []
    if _taken(spec, _WORK_VOLUME):
        return [], [
            (
                "warning",
                f"the runner does not mount {WORK_DIR}, and a volume {_WORK_VOLUME!r} exists: "
                "the daemon cannot see the job's files there (`docker run -v` of the "
                "workspace, container jobs); mount it at that path",
                None,
            )
        ]
    append(spec, "volumes", [{"name": _WORK_VOLUME, "emptyDir": {}}])
    append(runner, "volumeMounts", [{"name": _WORK_VOLUME, "mountPath": WORK_DIR}])
    return [_WORK_VOLUME], []


def finish_scale_set(
    config_sidecar: str, spec: dict[str, Any], clients: list[str], record: Record
) -> list[Note]:
    """After wiring: the runner's externals (the node binaries it mounts into job
    containers) copied where the daemon sees them, at the same path."""
    runner = _runner(spec, clients)
    daemon = next((c for c in containers_of(spec) if c.get("name") == config_sidecar), None)
    if runner is None or daemon is None:
        return []
    mounted = {str(m.get("mountPath", "")).rstrip("/") for m in listing(daemon.get("volumeMounts"))}
    if EXTERNALS_DIR in mounted:
        return []
    if _taken(spec, _EXTERNALS_VOLUME) or any(
        c.get("name") == _EXTERNALS_COPY for c in containers_of(spec)
    ):
        return [
            (
                "warning",
                f"{_EXTERNALS_VOLUME!r} is taken: the daemon does not see {EXTERNALS_DIR}, "
                "which container jobs mount",
                None,
            )
        ]
    copy = {
        "name": _EXTERNALS_COPY,
        "image": runner.get("image"),
        "command": ["cp", "-r", f"{EXTERNALS_DIR}/.", "/home/runner/tmpDir/"],
        "volumeMounts": [{"name": _EXTERNALS_VOLUME, "mountPath": "/home/runner/tmpDir"}],
    }
    # Before the daemon, as the chart's dind mode has it: the copy is done when it starts.
    init = listing(spec.get("initContainers"))
    if init:
        at = next((i for i, c in enumerate(init) if c is daemon), len(init))
        spec["initContainers"] = [*init[:at], copy, *init[at:]]
    else:
        append(spec, "initContainers", [copy], before="containers")
    append(spec, "volumes", [{"name": _EXTERNALS_VOLUME, "emptyDir": {}}])
    daemon["volumeMounts"].append({"name": _EXTERNALS_VOLUME, "mountPath": EXTERNALS_DIR})
    record.containers.append(_EXTERNALS_COPY)
    record.volumes.append(_EXTERNALS_VOLUME)
    return [
        (
            "info",
            f"runner: {WORK_DIR} and {EXTERNALS_DIR} (copied by {_EXTERNALS_COPY}) are seen "
            "by the daemon at the same paths, for container jobs and `docker run -v`",
            None,
        )
    ]


# Where each kind keeps its RunnerConfig and RunnerPodSpec fields.
_SETTINGS_AT = {
    "RunnerDeployment": ("spec", "template", "spec"),
    "RunnerSet": ("spec",),
    "Runner": ("spec",),
}
# A docker setting of the controller, and the inject-docker setting that does the same.
_EQUIVALENT = {
    "dockerMTU": "mtu",
    "dockerRegistryMirror": "registryMirrors",
    "dockerdContainerResources": "resources",
    "dockerVarRunVolumeSizeLimit": None,  # the socket directory is an emptyDir of its own
    "dockerEnv": None,  # the daemon's environment is the function's to set
    "dockerVolumeMounts": None,  # the clients' workspaces are mirrored into the daemon
}


def settings(resource: dict[str, Any]) -> list[Result]:
    """What the controller does for Docker in these runners, and the equivalent config."""
    keys = _SETTINGS_AT.get(str(resource.get("kind")), ("spec",))
    holder: Any = resource
    for key in keys:
        holder = mapping(holder.get(key) if isinstance(holder, dict) else None)
    at = ".".join(keys)
    kind = resource.get("kind")
    if holder.get("dockerdWithinRunnerContainer") is True:
        return [
            results.about(
                resource,
                "dockerdWithinRunnerContainer: the runner container itself runs dockerd, "
                "privileged, so every job step has root on the node; the controller makes "
                f"these pods and inject-docker cannot change a {kind}: move to an "
                "AutoscalingRunnerSet, which inject-docker wires (select its kind)",
                "warning",
                f"{at}.dockerdWithinRunnerContainer",
            ),
            *_carried(resource, holder, at),
        ]
    if holder.get("dockerEnabled") is False:
        return [
            results.about(
                resource, "dockerEnabled: false: these runners have no Docker; left unchanged"
            )
        ]
    return [
        results.about(
            resource,
            f"the controller adds a privileged docker sidecar to this {kind}'s runners itself "
            "(dockerEnabled is true by default); inject-docker leaves it to the controller. "
            "To have inject-docker wire the runners, move to an AutoscalingRunnerSet",
            "info",
        ),
        *_carried(resource, holder, at),
    ]


def _carried(resource: dict[str, Any], holder: dict[str, Any], at: str) -> list[Result]:
    """The inject-docker config that keeps the docker settings, and those it has no place for."""
    config: dict[str, Any] = {}
    unplaced = []
    for setting, equivalent in _EQUIVALENT.items():
        value = holder.get(setting)
        if value is None:
            continue
        if equivalent is None:
            unplaced.append(setting)
        elif equivalent == "registryMirrors":
            config[equivalent] = [value]
        else:
            config[equivalent] = value
    out = []
    if config:
        text = json.dumps(config, separators=(", ", ": "), sort_keys=True)
        out.append(
            results.about(
                resource,
                f"the same docker settings in the inject-docker config: {text}",
                "info",
                at,
            )
        )
    if unplaced:
        out.append(
            results.about(
                resource,
                f"{', '.join(unplaced)}: no inject-docker setting does this; inject-docker "
                "sizes, mounts and configures its daemon itself",
                "info",
                at,
            )
        )
    return out
