"""Start the pods of one output and check that they work (see tests/runtime/README.md).

For each workload the function wired, one pod, started as a kubelet starts it:
init containers in order (a native sidecar daemon started and its startupProbe run in
its own namespaces until it passes before the next one), then the containers. Each
daemon runs as written (command and args, through the emulated dind entrypoint).
Each client, in its own namespaces, as its own user, through DOCKER_HOST as written:

1. `docker info`;
2. `docker load` of the test image (nothing is pulled);
3. writes a marker into each of its workspaces (emptyDir, PVC and ephemeral mounts
   other than the socket's and the certificates'), then
   `docker run --rm --network none -v WORKSPACE:/srcN IMAGE cat /srcN/MARKER...` must
   print them back: the daemon sees the client's workspace at the same path. In
   daemonset mode the node daemon cannot see the pod's volumes (README, "What a
   shared daemon cannot do"), so the markers go to the container through stdin.

Every pod also gets one extra client: a copy of its first client with a non-root image
(`ghcr.io/actions/actions-runner`, uid 1001) and no securityContext of its own, which
must reach the daemon as well: the socket's group is in the pod's supplementary groups.

In daemonset mode the output's node DaemonSet starts first, on an emulated node, and
the client pods reach it through their hostPath mounts (or the node's address and the
DaemonSet's hostPort).
"""

from __future__ import annotations

import copy
import re
import shlex
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.runtime import emulator, images
from tests.runtime.cases import Output, Source, Workload

IMAGE = "inject-docker-runtime/busybox:trixie"
WORKSPACE_KINDS = ("emptyDir", "persistentVolumeClaim", "ephemeral")
NON_ROOT_CLIENT = "runtime-non-root"
UNGATED_RETRIES = 60  # seconds a client waits for a daemon that nothing started first
DAEMON_DEADLINE = 120.0
CLIENT_TIMEOUT = 180.0
MIN_API = (1, 24)  # the oldest API Docker 26's daemon serves


@dataclass
class DaemonResult:
    pod: str
    container: str
    answered: bool = False
    how: str = ""
    mtu: int | None = None  # the --mtu dockerd got (None: its default, 1500)
    auto_mtu: bool = False  # the command reads the pod interface's MTU itself
    error: str | None = None


@dataclass
class ClientResult:
    pod: str
    container: str
    identity: str
    docker_host: str
    mode: str = "sidecar"
    extra: bool = False
    info: str | None = None  # the server version docker info returned
    ran: bool = False  # a container ran and gave back what it had to
    workspaces: list[str] = field(default_factory=list)  # read back through -v
    streamed: list[str] = field(default_factory=list)  # read back through stdin
    expected: str | None = None  # why this client must fail, when it must
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CaseResult:
    id: str
    pods: int = 0
    daemons: list[DaemonResult] = field(default_factory=list)
    clients: list[ClientResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    nothing: str | None = None  # why there was nothing to start
    not_emulated: list[str] = field(default_factory=list)  # pods the tier cannot start
    seconds: float = 0.0


# --------------------------------------------------------------------------- helpers


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _runs_dockerd(container: dict[str, Any]) -> bool:
    """A daemon: a dind image that runs its entrypoint or dockerd, or any image whose
    command or args name dockerd."""
    words = [str(w) for w in [*(container.get("command") or []), *(container.get("args") or [])]]
    if any(re.search(r"\bdockerd\b", w) for w in words):  # dockerd, dockerd-entrypoint.sh
        return True
    return images.is_dind(str(container.get("image") or "")) and "command" not in container


def _daemon_uid(pod_spec: dict[str, Any], container: dict[str, Any]) -> int:
    """The user a daemon container runs as (its own, the pod's, or its image's)."""
    for context in (container.get("securityContext"), pod_spec.get("securityContext")):
        if context and context.get("runAsUser") is not None:
            return int(context["runAsUser"])
    return images.lookup(str(container.get("image") or "")).uid


def _api_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _daemon_socket(container: emulator.Container) -> str:
    """The unix socket a daemon serves, from its command line or the entrypoint's rule."""
    argv = container.argv
    for position, word in enumerate(argv):
        if word.startswith("--host=unix://"):
            return word.removeprefix("--host=")
        following = argv[position + 1] if position + 1 < len(argv) else ""
        if word in ("-H", "--host") and following.startswith("unix://"):
            return following
    host = container.env.get("DOCKER_HOST", "")
    return host if host.startswith("unix://") else "unix:///var/run/docker.sock"


def _probe(container: emulator.Container, probe: dict[str, Any] | None,
           deadline: float) -> tuple[bool, str]:  # fmt: skip
    """Run a probe in the container until it passes, or the daemon dies, or time is up.
    Polled faster than periodSeconds (the tier's clock is not the kubelet's), within
    initialDelaySeconds + periodSeconds * failureThreshold (at most `deadline`)."""
    if probe and "exec" in probe:
        command = [str(c) for c in probe["exec"].get("command") or []]
        what = "its " + ("probe " + shlex.join(command))
        period = float(probe.get("periodSeconds") or 10)
        budget = float(probe.get("initialDelaySeconds") or 0) + period * float(
            probe.get("failureThreshold") or 3
        )
        timeout = float(probe.get("timeoutSeconds") or 1)
    else:
        command = ["docker", "--host", _daemon_socket(container), "info"]
        what = f"`{shlex.join(command)}` (it has no exec probe)"
        budget, timeout = deadline, 5.0
    end = time.monotonic() + min(budget, deadline)
    last = ""
    while True:
        if not container.running():
            return False, (
                f"exited (code {container.process.returncode}) before {what} passed; "
                f"its last output:\n{container.log_tail()}"
            )
        done = container.exec(command, timeout=max(timeout, 5.0))
        if done.returncode == 0:
            return True, what
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        last = last[0]
        if time.monotonic() > end:
            return False, (
                f"never passed {what} ({min(budget, deadline):.0f} s; last error: {last}); "
                f"its last output:\n{container.log_tail()}"
            )
        time.sleep(0.25)


def _check_mtu(container: emulator.Container, spec: dict[str, Any],
               daemon: DaemonResult) -> None:  # fmt: skip
    """The MTU dockerd was started with, from the emulated entrypoint's log; a command
    that reads the pod interface's MTU must have found the pod's (POD_MTU)."""
    running = [
        line for line in container.output().splitlines()
        if line.startswith("runtime tier: running: ")
    ]  # fmt: skip
    found = re.findall(r"--mtu=(\d+)", running[-1]) if running else []
    daemon.mtu = int(found[-1]) if found else None
    written = " ".join(str(w) for w in [*(spec.get("command") or []), *(spec.get("args") or [])])
    daemon.auto_mtu = "/sys/class/net" in written
    if daemon.auto_mtu and daemon.mtu != emulator.POD_MTU:
        daemon.error = (
            f"daemon {spec['name']!r} reads the pod interface's MTU but dockerd got "
            f"--mtu={daemon.mtu} (the pod's eth0 has {emulator.POD_MTU}); its output:\n"
            f"{container.log_tail()}"
        )


def _workspace_mounts(pod_spec: dict[str, Any], client: dict[str, Any], env: dict[str, str],
                      own: set[str]) -> list[dict[str, Any]]:  # fmt: skip
    """The client's workspaces: its emptyDir, PVC and ephemeral mounts, other than the
    ones that hold the daemon's socket or the TLS certificates, and the volumes the
    function added for the daemon itself (`own`, from its record)."""
    volumes = {v["name"]: v for v in pod_spec.get("volumes") or []}
    docker_paths = [
        env.get("DOCKER_HOST", "").removeprefix("unix://"),
        env.get("DOCKER_CERT_PATH", ""),
    ]
    out = []
    for mount in client.get("volumeMounts") or []:
        volume = volumes.get(mount["name"]) or {}
        if mount["name"] in own or not any(kind in volume for kind in WORKSPACE_KINDS):
            continue
        base = mount["mountPath"].rstrip("/") or "/"
        if base in ("/var/run", "/run") or any(
            path and (path == base or path.startswith(base + "/")) for path in docker_paths
        ):
            continue
        out.append(mount)
    return out


def _client_script(steps: list[str]) -> str:
    return "say() { printf '@@%s\\n' \"$*\"; }\n" + "\n".join(steps) + "\nsay done\n"


@dataclass
class _Marker:
    path: str  # in the client
    token: str
    host: Path | None  # written from outside when the mount is read-only


# --------------------------------------------------------------------------- the kubelet


class _Kubelet:
    def __init__(self, output: Output, work: Path, result: CaseResult) -> None:
        self.output = output
        self.work = work
        self.result = result
        self.messages = "\n".join(output.messages)
        self.unserved = "does not serve the socket the workloads" in self.messages

    # ------------------------------------------------------------------ clients

    def _expectation(self, workload: Workload | None, spec: dict[str, Any],
                     image: images.Image, mode: str) -> str | None:  # fmt: skip
        if image.api and _api_tuple(image.api) < MIN_API:
            pattern = f"container '{spec['name']}' runs docker .*older than any current daemon"
            if re.search(pattern, self.messages):
                return f"its docker CLI speaks API {image.api}, which no current daemon serves"
        if mode == "daemonset" and self.unserved:
            return "the output warns that the DaemonSet does not serve the socket the workloads use"
        return None

    def run_client(self, pod: emulator.Pod, workload: Workload | None, spec: dict[str, Any],
                   mode: str, gated: bool, extra: bool = False) -> ClientResult:  # fmt: skip
        image = images.lookup(str(spec.get("image") or ""))
        identity = pod.identity_of(spec, image)
        env = pod.env_of(spec, image, identity)
        extra_env: dict[str, str] = {}
        if image.api and "DOCKER_API_VERSION" not in env:
            extra_env["DOCKER_API_VERSION"] = image.api  # the image's CLI, not Docker 26's
        result = ClientResult(
            pod=pod.name, container=spec["name"], identity=str(identity),
            docker_host=env.get("DOCKER_HOST", "(unset)"), mode=mode, extra=extra,
            expected=self._expectation(workload, spec, image, mode),
        )  # fmt: skip
        markers = []
        own = set((workload.record.get("volumes") if workload else None) or [])
        # The extra client proves the socket can be used; the workspaces are the real
        # clients' (its image's user may not even reach their mount paths).
        mounts = [] if extra else _workspace_mounts(pod.spec, spec, env, own)
        for number, mount in enumerate(mounts):
            path = mount["mountPath"].rstrip("/") + f"/.inject-docker-runtime-{spec['name']}"
            host = None
            if mount.get("readOnly"):
                host = pod.volume_dir(spec, path)
            markers.append(_Marker(path, f"{uuid.uuid4().hex}-{number}", host))
        steps = [
            "n=0",
            # docker info exits 0 with a server error in place of the version; want a version
            "while :; do",
            "  out=$(docker info --format '{{.ServerVersion}}' 2>&1) &&"
            " case $out in [0-9]*) break ;; esac",
            "  n=$((n + 1))",
            f'  if [ "$n" -gt {0 if gated else UNGATED_RETRIES} ]; then'
            " printf '%s\\n' \"$out\"; say fail info; exit 10; fi",
            "  sleep 1",
            "done",
            'say ok info "$out"',
            f"if ! out=$(docker load -q -i {IMAGE_TAR} 2>&1); then"
            " printf '%s\\n' \"$out\"; say fail load; exit 11; fi",
            "say ok load",
        ]
        for marker in markers:
            if marker.host is not None:
                marker.host.write_text(marker.token + "\n")
                continue
            steps.append(
                f"if ! printf '%s\\n' {marker.token} > {shlex.quote(marker.path)}; then"
                f" say fail marker {shlex.quote(marker.path)}; exit 12; fi"
            )
        if markers and mode == "sidecar":
            volumes = " ".join(
                f"-v {shlex.quote(str(Path(m.path).parent))}:/src{i}" for i, m in enumerate(markers)
            )
            reads = " ".join(f"/src{i}/{Path(m.path).name}" for i, m in enumerate(markers))
            # each marker, or a line that names the one the container cannot see
            show = shlex.quote('for f; do cat "$f" 2>/dev/null || echo "missing $f"; done')
            run = f"docker run --rm --network none {volumes} {IMAGE} sh -c {show} sh {reads}"
        elif markers:
            paths = " ".join(shlex.quote(m.path) for m in markers)
            run = f"cat {paths} | docker run -i --rm --network none {IMAGE} cat"
        else:
            token = uuid.uuid4().hex
            markers = [_Marker("(stdin)", token, None)]
            run = f"echo {token} | docker run -i --rm --network none {IMAGE} cat"
        steps += [
            f"if ! out=$({run} 2>&1); then printf '%s\\n' \"$out\"; say fail run; exit 13; fi",
            "printf '%s\\n' \"$out\"",
            "say ok run",
        ]
        try:
            container = pod.start(
                spec, argv=["/bin/sh", "-c", _client_script(steps)], env=extra_env
            )
        except emulator.PodError as error:
            result.error = f"could not start: {error}"
            return self._settle(result)
        code = container.wait(CLIENT_TIMEOUT)
        text = container.output()
        container.kill()
        self._read(result, text, code, markers, mode, env)
        return self._settle(result)

    def _read(self, result: ClientResult, text: str, code: int | None,
              markers: list[_Marker], mode: str, env: dict[str, str]) -> None:  # fmt: skip
        failed = re.search(r"^@@fail (\w+)(.*)$", text, re.M)
        body = "\n".join(
            line for line in text.splitlines()
            if not line.startswith("@@") and line.strip()
        )[-1500:]  # fmt: skip
        info = re.search(r"^@@ok info (.*)$", text, re.M)
        result.info = info.group(1).strip() if info else None
        where = f"through DOCKER_HOST={result.docker_host}"
        if code is None:
            result.error = f"did not finish within {CLIENT_TIMEOUT:.0f} s; output:\n{body}"
        elif failed:
            step = failed.group(1)
            if step == "info":
                result.error = f"could not reach the daemon {where}: {body}"
            elif step == "load":
                result.error = f"reached the daemon {where} but `docker load` failed: {body}"
            elif step == "marker":
                result.error = f"could not write a marker into its workspace{failed.group(2)}"
            else:
                result.error = f"reached the daemon {where} but `docker run` failed: {body}"
        elif "@@done" not in text:
            result.error = f"stopped early (exit code {code}): {body}"
        else:
            lines = [line for line in text.splitlines() if not line.startswith("@@")]
            got = lines[-len(markers) :] if markers else []
            want = [m.token for m in markers]
            if got != want:
                missing = [m.path for m in markers if m.token not in lines] or ["(stdin)"]
                result.error = (
                    f"a container started with -v on its workspace did not see the marker "
                    f"written in {', '.join(missing)}: the workspace is not mirrored into "
                    f"the daemon at the same path (output: {body})"
                )
            else:
                result.ran = True
                if markers[0].path != "(stdin)":
                    target = result.workspaces if mode == "sidecar" else result.streamed
                    target += [str(Path(m.path).parent) for m in markers]

    def _settle(self, result: ClientResult) -> ClientResult:
        """Turn an expected failure into a pass, an unexpected success into a failure."""
        if result.expected:
            if result.error and "could not reach" in result.error:
                result.error = None
            elif result.error is None:
                result.error = f"reached a daemon, although {result.expected}"
        return result

    # ------------------------------------------------------------------ pods

    def start_daemon(
        self, pod: emulator.Pod, spec: dict[str, Any], probe: dict[str, Any] | None
    ) -> tuple[emulator.Container, DaemonResult]:
        daemon = DaemonResult(pod=pod.name, container=spec["name"])
        container = pod.start(spec)
        self.result.daemons.append(daemon)
        answered, how = _probe(container, probe, DAEMON_DEADLINE)
        daemon.answered, daemon.how = answered, how
        if not answered:
            daemon.error = f"daemon {spec['name']!r} of {pod.name}: {how}"
        else:
            _check_mtu(container, spec, daemon)
        return container, daemon

    def run_pod(self, node: emulator.Node, workload: Workload) -> None:
        record = workload.record
        mode = str(record.get("mode"))
        added = set(record.get("containers") or []) if mode == "sidecar" else set()
        daemons = {c["name"] for c in _containers(workload.spec) if c["name"] in added
                   and _runs_dockerd(c)}  # fmt: skip
        clients = set(record.get("clients") or [])
        label = workload.label
        rootless = [
            c["name"] for c in _containers(workload.spec)
            if c["name"] in daemons and _daemon_uid(workload.spec, c) != 0
        ]  # fmt: skip
        if rootless:
            self.result.not_emulated.append(
                f"{label}: its daemon {rootless[0]!r} runs as a non-root user (rootless "
                "dockerd: rootlesskit and a user namespace), which the tier does not emulate"
            )
            return
        try:
            pod = emulator.Pod(
                node, workload.name, workload.namespace, workload.spec, self.output.items,
                self.work, workload.labels,
            )  # fmt: skip
        except emulator.PodError as error:
            if mode == "daemonset" and self.unserved:
                self.result.notes.append(
                    f"{label}: the pod cannot start ({error}), as the output warns: "
                    "the DaemonSet does not serve the socket the workloads use"
                )
                for name in sorted(clients):
                    self.result.clients.append(ClientResult(
                        pod=workload.name, container=name, identity="(not started)",
                        docker_host="", mode=mode, expected="the output warns that the DaemonSet "
                        "does not serve the socket the workloads use",
                    ))  # fmt: skip
            else:
                self.result.failures.append(f"{label}: the pod cannot start: {error}")
            return
        self.result.pods += 1
        started: list[tuple[emulator.Container, DaemonResult]] = []
        # A node's daemon runs before any pod that uses it; a pod's own daemon does not,
        # unless a native sidecar's startupProbe holds the clients back.
        gated = mode == "daemonset"
        try:
            for spec in workload.spec.get("initContainers") or []:
                if spec["name"] in daemons:
                    native = spec.get("restartPolicy") == "Always"
                    container, daemon = self.start_daemon(
                        pod, spec, spec.get("startupProbe") if native else None
                    )
                    started.append((container, daemon))
                    if daemon.error:
                        self.result.failures.append(f"{label}: {daemon.error}")
                        return
                    gated = gated or bool(native and spec.get("startupProbe"))
                elif spec["name"] in clients:
                    self._client(pod, workload, spec, mode, gated)
                else:
                    self.result.notes.append(
                        f"{label}: init container {spec['name']!r} (no client) not run"
                    )
            late: list[tuple[emulator.Container, DaemonResult, dict[str, Any]]] = []
            for spec in workload.spec.get("containers") or []:
                if spec["name"] in daemons:
                    # Plain containers start together: nothing waits for this daemon.
                    daemon = DaemonResult(pod=pod.name, container=spec["name"])
                    self.result.daemons.append(daemon)
                    late.append((pod.start(spec), daemon, spec))
            for spec in workload.spec.get("containers") or []:
                if spec["name"] in clients:
                    self._client(pod, workload, spec, mode, gated)
                elif spec["name"] not in daemons:
                    self.result.notes.append(
                        f"{label}: container {spec['name']!r} (no client) not run"
                    )
            first = next((c for c in _containers(workload.spec) if c["name"] in clients), None)
            if first is not None:
                extra = copy.deepcopy(first)
                extra["name"] = NON_ROOT_CLIENT
                extra["image"] = images.NON_ROOT_IMAGE
                extra.pop("securityContext", None)
                extra.pop("restartPolicy", None)
                self._client(pod, workload, extra, mode, gated, extra=True)
            for container, daemon, spec in late:
                probe = spec.get("readinessProbe") or spec.get("startupProbe")
                daemon.answered, daemon.how = _probe(container, probe, DAEMON_DEADLINE)
                if daemon.answered:
                    _check_mtu(container, spec, daemon)
                else:
                    daemon.error = f"daemon {spec['name']!r} of {pod.name}: {daemon.how}"
                if daemon.error:
                    self.result.failures.append(f"{label}: {daemon.error}")
                started.append((container, daemon))
            for container, daemon in started:
                if not container.running():
                    self.result.failures.append(
                        f"{label}: daemon {daemon.container!r} stopped while its clients ran; "
                        f"its last output:\n{container.log_tail()}"
                    )
        except emulator.PodError as error:
            self.result.failures.append(f"{label}: the pod cannot start: {error}")
        finally:
            self.result.notes += [f"{label}: {note}" for note in pod.notes]
            pod.close()

    def _client(self, pod: emulator.Pod, workload: Workload, spec: dict[str, Any],
                mode: str, gated: bool, extra: bool = False) -> None:  # fmt: skip
        client = self.run_client(pod, workload, spec, mode, gated, extra)
        self.result.clients.append(client)
        if client.error:
            who = "the extra non-root client" if extra else f"client {spec['name']!r}"
            self.result.failures.append(
                f"{workload.label}: {who} ({client.identity}): {client.error}"
            )

    def run_node_daemonset(self, node: emulator.Node, daemonset: Workload) -> emulator.Pod | None:
        label = f"DaemonSet {daemonset.namespace}/{daemonset.name}"
        try:
            pod = emulator.Pod(
                node, f"{daemonset.name}-{emulator.NODE_NAME}", daemonset.namespace,
                daemonset.spec, self.output.items, self.work, daemonset.labels,
            )  # fmt: skip
        except emulator.PodError as error:
            self.result.failures.append(f"{label}: the pod cannot start: {error}")
            return None
        self.result.pods += 1
        for spec in _containers(daemonset.spec):
            if not _runs_dockerd(spec):
                self.result.notes.append(f"{label}: container {spec['name']!r} not run")
                continue
            probe = spec.get("startupProbe") or spec.get("readinessProbe")
            try:
                _, daemon = self.start_daemon(pod, spec, probe)
            except emulator.PodError as error:
                self.result.failures.append(f"{label}: the pod cannot start: {error}")
                continue
            if daemon.error:
                self.result.failures.append(f"{label}: {daemon.error}")
        return pod


def run_output(output: Output, work: Path) -> CaseResult:
    """Start every pod of `output` and check it; never raises for what the pods do."""
    began = time.monotonic()
    result = CaseResult(output.id)
    wired = output.wired()
    result.not_emulated += [
        f"{label}: wired, but the tier finds no pod spec in it (not emulated)"
        for label in output.not_pods()
    ]
    if not wired:
        if not result.not_emulated:
            result.nothing = "the function wired no workload in this output"
        return result
    kubelet = _Kubelet(output, work, result)
    key = re.sub(r"[^a-z0-9]", "", output.id.lower())[-6:] + uuid.uuid4().hex[:4]
    try:
        with emulator.node(key, work) as node:
            node_pods: list[emulator.Pod] = []
            try:
                if any(w.record.get("mode") == "daemonset" for w in wired):
                    for daemonset in output.daemonsets():
                        if any(_runs_dockerd(c) for c in _containers(daemonset.spec)):
                            started = kubelet.run_node_daemonset(node, daemonset)
                            node_pods += [started] if started else []
                for workload in wired:
                    kubelet.run_pod(node, workload)
            finally:
                for pod in node_pods:
                    pod.close()
    finally:
        emulator.remove_tree(work)
    result.seconds = time.monotonic() - began
    return result


def run_source(source: Source, work: Path) -> CaseResult:
    work.mkdir(parents=True, exist_ok=True)
    return run_output(source.load(work), work)


IMAGE_TAR = emulator.IMAGE_TAR
