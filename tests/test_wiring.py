"""Every client the function wired can reach its daemon, in every golden output.

For each client container: DOCKER_HOST names a socket that lies inside a volume
the client mounts, and that same volume (the same emptyDir in the pod, or the
same hostPath on the node) is where the daemon's `--host` puts its socket. TCP
clients must find the daemon listening on the port they dial.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

import pytest
import yaml

from function.kube.podspecs import pod_spec
from tests.support import GOLDEN, argo_pod, tekton_pod, value_at

MARKER = "inject-docker.dev/injected"
OUTPUTS = sorted(GOLDEN.glob("*/expected.yaml"))


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def _args(container: dict[str, Any]) -> list[str]:
    return [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]


def _inside(path: str, directory: str) -> str | None:
    """`path` relative to `directory`, or None when it is not inside it."""
    relative = posixpath.relpath(path, directory)
    return None if relative.startswith("..") else relative


def _volume_holding(
    spec: dict[str, Any], container: dict[str, Any], path: str
) -> tuple[dict[str, Any], str]:
    """The pod volume in which `container` sees `path`, and the path relative to it."""
    best: tuple[int, dict[str, Any], str] | None = None
    for mount in container.get("volumeMounts") or []:
        relative = _inside(path, mount["mountPath"])
        if relative is not None and (best is None or len(mount["mountPath"]) > best[0]):
            volume = next((v for v in spec["volumes"] if v["name"] == mount["name"]), None)
            assert volume, f"{container['name']} mounts {mount['name']}, which the pod lacks"
            best = (len(mount["mountPath"]), volume, relative)
    assert best, f"{container['name']} mounts nothing that holds {path}"
    return best[1], best[2]


def _daemon_socket(container: dict[str, Any]) -> str:
    hosts = [
        a.removeprefix("--host=unix://") for a in _args(container) if a.startswith("--host=unix://")
    ]
    if not hosts:  # TLS mode: the image's entrypoint takes the socket from DOCKER_HOST
        hosts = [str(_env(container)["DOCKER_HOST"]).removeprefix("unix://")]
    return hosts[0]


def _node_path(spec: dict[str, Any], container: dict[str, Any], path: str) -> str:
    volume, relative = _volume_holding(spec, container, path)
    assert "hostPath" in volume, f"{volume['name']} is not a hostPath"
    return posixpath.normpath(posixpath.join(volume["hostPath"]["path"], relative))


def _node_daemons(items: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = []
    for item in items:
        if item.get("kind") == "DaemonSet":
            spec = item["spec"]["template"]["spec"]
            found += [(spec, c) for c in _containers(spec)]
    return found


def _check_client(
    items: list[dict[str, Any]],
    spec: dict[str, Any],
    record: dict[str, Any],
    client: dict[str, Any],
    warned: bool = False,
) -> None:
    """`warned`: the output warns that a hand-written DaemonSet does not serve the socket."""
    host = str(_env(client)["DOCKER_HOST"])
    if record["mode"] == "sidecar":
        # The recorded containers may also hold helpers (ARC's externals copy): the
        # daemon is the one that listens, on a --host or (TLS mode) on DOCKER_HOST.
        daemon = next(
            c
            for c in _containers(spec)
            if c["name"] in record["containers"]
            and (any(a.startswith("--host=") for a in _args(c)) or "DOCKER_TLS_CERTDIR" in _env(c))
        )
        if host.startswith("unix://"):
            socket = host.removeprefix("unix://")
            volume, relative = _volume_holding(spec, client, socket)
            assert "emptyDir" in volume
            theirs, their_relative = _volume_holding(spec, daemon, _daemon_socket(daemon))
            assert (theirs["name"], their_relative) == (volume["name"], relative)
        else:
            port = host.rpartition(":")[2]
            assert host.startswith(("tcp://localhost:", "tcp://127.0.0.1:"))
            listens = [a for a in _args(daemon) if a.startswith("--host=tcp://")]
            if not listens:  # TLS mode: the entrypoint listens on 2376 itself
                assert _env(daemon).get("DOCKER_TLS_CERTDIR") and port == "2376"
            else:
                assert any(a.endswith(f":{port}") for a in listens)
        return
    daemons = _node_daemons(items)
    assert daemons, "daemonset mode without a DaemonSet in the output"
    if host.startswith("unix://"):
        socket = _node_path(spec, client, host.removeprefix("unix://"))
        served = {_node_path(s, d, _daemon_socket(d)) for s, d in daemons}
        assert socket in served or warned
    else:
        port = int(host.rpartition(":")[2])
        assert any(p.get("hostPort") == port for _, d in daemons for p in d.get("ports") or [])


def _pods(item: dict[str, Any], record: dict[str, Any], paths: dict[str, str]) -> list[Any]:
    """(pod spec, record) for each place the record says was wired: the pod spec of a
    workload, of a custom kind's template (`paths`, kind -> podTemplatePath), or the pod
    each Tekton Task spec or Argo template becomes."""
    if "units" not in record:
        spec = pod_spec(item, paths.get(item["kind"]))
        assert spec is not None
        return [(spec, record)]
    out = []
    for path, unit_record in record["units"].items():
        body = value_at(item, path)
        if item["apiVersion"].startswith("tekton.dev/"):
            out.append((tekton_pod(body), unit_record))
        else:
            workflow = value_at(item, path.rpartition(".templates[")[0])
            out.append((argo_pod(body, workflow), unit_record))
    return out


def _wired(path: Path) -> list[tuple[str, Any]]:
    document = yaml.safe_load(path.read_text())
    config_file = path.parent / "config.yaml"
    config = (yaml.safe_load(config_file.read_text()) if config_file.exists() else None) or {}
    paths = {
        s["kind"]: s["podTemplatePath"]
        for s in config.get("selectors") or []
        if "podTemplatePath" in s
    }
    items = document.get("items") or []
    warned = any("does not serve" in r["message"] for r in document.get("results") or [])
    cases = []
    for position, item in enumerate(resources(items)):
        meta = item.get("metadata") or {}
        record = (meta.get("annotations") or {}).get(MARKER)
        if record:
            for n, (spec, unit_record) in enumerate(_pods(item, json.loads(record), paths)):
                cases.append(
                    (
                        f"{item['kind']}/{meta.get('name') or position}/{n}",
                        (items, spec, unit_record, warned),
                    )
                )
    return cases


def resources(items: list[Any]) -> list[Any]:
    """The items, with those of each `kind: List` in its place."""
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("kind") == "List":
            out += resources(item.get("items") or [])
        else:
            out.append(item)
    return out


CASES = [(f"{p.parent.name}:{name}", data) for p in OUTPUTS for name, data in _wired(p)]


@pytest.mark.parametrize("data", [d for _, d in CASES], ids=[i for i, _ in CASES])
def test_every_client_reaches_its_daemon(data: tuple[Any, ...]) -> None:
    items, spec, record, warned = data
    clients = [c for c in _containers(spec) if c["name"] in record["clients"]]
    assert clients and len(clients) == len(record["clients"])
    for client in clients:
        _check_client(items, spec, record, client, warned)


def test_there_is_something_to_check() -> None:
    modes = {data[2]["mode"] for _, data in CASES}
    assert {"sidecar", "daemonset"} <= modes
    # The CI engines' kinds and a custom kind are checked too.
    checked = {name.split(":")[1].split("/")[0] for name, _ in CASES}
    assert {"Task", "TaskRun", "Pipeline", "Workflow", "CronWorkflow"} <= checked
    assert {"AutoscalingRunnerSet", "ScaledJob"} <= checked


def test_a_daemon_that_does_not_see_the_socket_is_caught() -> None:
    """Argo's mirroring is what gives the daemon its socket: without it, the check fails."""
    items, spec, record, _ = next(d for i, d in CASES if i.startswith("argo-dind-example:"))
    daemon = next(c for c in spec["containers"] if c["name"] in record["containers"])
    client = next(c for c in spec["containers"] if c["name"] in record["clients"])
    _check_client(items, spec, record, client)
    daemon["volumeMounts"] = [m for m in daemon["volumeMounts"] if m["name"] != "dind-socket"]
    with pytest.raises(AssertionError):
        _check_client(items, spec, record, client)


def test_a_miswired_client_is_caught() -> None:
    items, spec, record, _ = next(d for i, d in CASES if i.startswith("job-basic:"))
    spec = json.loads(json.dumps(spec))
    client = next(c for c in spec["containers"] if c["name"] in record["clients"])
    host = next(e for e in client["env"] if e["name"] == "DOCKER_HOST")
    host["value"] = "unix:///tmp/docker.sock"
    with pytest.raises(AssertionError):
        _check_client(items, spec, record, client)
    host["value"] = "unix:///var/run/dind/docker.sock"
    _check_client(items, spec, record, client)
    spec["volumes"][0]["name"] = "elsewhere"
    next(m for m in client["volumeMounts"] if m["name"] == "dind-socket")["name"] = "elsewhere"
    with pytest.raises(AssertionError):
        _check_client(items, spec, record, client)
