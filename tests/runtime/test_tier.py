"""Tests of the tier itself: it fails, with a message that says why, on deliberately
miswired copies of golden outputs; its emulated dind entrypoint follows the image's
argument rules; and its list of dropped dockerd flags stays short and true.
"""

from __future__ import annotations

import copy
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.runtime import cases, checks, emulator
from tests.runtime.conftest import require_machine
from tests.support import GOLDEN

pytestmark = pytest.mark.runtime


def _golden(name: str) -> cases.Output:
    return cases.parse(f"tier/{name}", (GOLDEN / name / "expected.yaml").read_text(), "")


def _pod(output: cases.Output, position: int = 0) -> dict[str, Any]:
    return output.wired()[position].spec


def _container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(
        c for c in [*(spec.get("initContainers") or []), *spec["containers"]] if c["name"] == name
    )


def _run(output: cases.Output, work_dir: Path, name: str) -> checks.CaseResult:
    return checks.run_output(output, work_dir / f"tier-{name}")


def _failure(result: checks.CaseResult, *texts: str) -> str:
    """The one failure that names all `texts`; shows every failure otherwise."""
    assert result.failures, "the tier passed a miswired output"
    report = "\n".join(result.failures)
    matching = [f for f in result.failures if all(t in f for t in texts)]
    assert matching, f"no failure says {texts}; the failures:\n{report}"
    return matching[0]


# --------------------------------------------------------------------------- miswired


def test_the_unchanged_output_passes(work_dir: Path) -> None:
    """The control: the copies below fail because of what was changed, nothing else."""
    result = _run(_golden("job-basic"), work_dir, "control")
    assert not result.failures, "\n".join(result.failures)
    assert [c.ran for c in result.clients] == [True, True]


def test_docker_host_pointing_at_the_wrong_path(work_dir: Path) -> None:
    output = _golden("job-basic")
    client = _container(_pod(output), "build")
    variable = next(e for e in client["env"] if e["name"] == "DOCKER_HOST")
    variable["value"] = "unix:///var/run/docker.sock"
    _failure(
        _run(output, work_dir, "docker-host"),
        "client 'build'",
        "could not reach the daemon through DOCKER_HOST=unix:///var/run/docker.sock",
        "Cannot connect to the Docker daemon",
    )


def test_workspace_not_mirrored(work_dir: Path) -> None:
    output = _golden("workspace-mirroring")
    daemon = _container(_pod(output), "dind")
    daemon["volumeMounts"] = [m for m in daemon["volumeMounts"] if m["name"] != "workspace"]
    _failure(
        _run(output, work_dir, "mirroring"),
        "client 'tests'",
        "did not see the marker written in /workspace/.inject-docker-runtime-tests",
        "the workspace is not mirrored into the daemon at the same path",
    )


@pytest.mark.parametrize("side", ["pod", "daemon"])
def test_socket_group_missing_for_a_non_root_client(work_dir: Path, side: str) -> None:
    """Without the group in the pod's supplementalGroups (or on the socket), a client
    that runs as its image's non-root user is refused; root clients are not."""
    output = _golden("job-basic")
    spec = _pod(output)
    if side == "pod":
        spec["securityContext"]["supplementalGroups"] = []
    else:
        daemon = _container(spec, "dind")
        daemon["args"] = [a for a in daemon["args"] if not str(a).startswith("--group")]
    result = _run(output, work_dir, f"group-{side}")
    _failure(result, "the extra non-root client (uid 1001", "permission denied")
    assert [c.container for c in result.clients if c.ok] == ["build"]


def test_socket_group_missing_in_daemonset_mode(work_dir: Path) -> None:
    output = _golden("daemonset-pod")
    _pod(output)["securityContext"]["supplementalGroups"] = []
    _failure(
        _run(output, work_dir, "group-daemonset"),
        "the extra non-root client (uid 1001",
        "DOCKER_HOST=unix:///var/run/docker-ci/docker.sock",
        "permission denied",
    )


def test_a_flag_the_daemon_rejects(work_dir: Path) -> None:
    output = _golden("job-basic")
    _container(_pod(output), "dind")["args"].append("--no-such-flag")
    result = _run(output, work_dir, "flag")
    _failure(result, "daemon 'dind'", "exited (code", "unknown flag: --no-such-flag")
    assert not result.clients, "clients started although the daemon never answered"


def test_tls_certificate_without_the_node_address(work_dir: Path) -> None:
    """Clients verify the daemon's certificate: without DOCKER_TLS_SAN the node daemon's
    certificate does not name the node address the clients dial."""
    output = _golden("daemonset-tls")
    daemonset = output.daemonsets()[0].spec
    daemon = _container(daemonset, "dockerd")
    daemon["env"] = [e for e in daemon["env"] if e["name"] != "DOCKER_TLS_SAN"]
    _failure(
        _run(output, work_dir, "tls-san"),
        "client 'build'",
        f"DOCKER_HOST=tcp://{emulator.NODE_IP}:2376",
        "x509",
    )


# --------------------------------------------------------------------------- entrypoint


def _entrypoint(args: list[str], **env: str) -> list[str]:
    """The emulated dockerd-entrypoint.sh's final command, run in the root (dry run)."""
    require_machine()
    variables = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "INJECT_DOCKER_RUNTIME_DRY_RUN": "1", **env}  # fmt: skip
    done = subprocess.run(
        ["chroot", str(emulator.ROOT), "/usr/bin/env", "-i",
         *(f"{k}={v}" for k, v in variables.items()), "/bin/sh", "-s", "--", *args],
        input=emulator.entrypoint_script(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


INIT = ["docker-init", "--", "dockerd"]


def test_entrypoint_flags_only_without_tls() -> None:
    """Flags only: dockerd and the default listeners go in front (2375 without TLS)."""
    assert _entrypoint(["--mtu=1400"], DOCKER_TLS_CERTDIR="") == [
        *INIT, "--host=unix:///var/run/docker.sock", "--host=tcp://0.0.0.0:2375",
        "--mtu=1400", "--iptables=false",
    ]  # fmt: skip


def test_entrypoint_takes_the_socket_from_docker_host() -> None:
    got = _entrypoint(["--group=2375"], DOCKER_HOST="unix:///var/run/x/docker.sock")
    assert got[:5] == [*INIT, "--host=unix:///var/run/x/docker.sock", "--host=tcp://0.0.0.0:2375"]


def test_entrypoint_runs_dockerd_as_given() -> None:
    """`dockerd` first: no default listeners, no TLS, whatever DOCKER_TLS_CERTDIR says."""
    assert _entrypoint(["dockerd", "--host=unix:///a.sock"], DOCKER_TLS_CERTDIR="/certs") == [
        *INIT, "--host=unix:///a.sock", "--iptables=false",
    ]  # fmt: skip


def test_entrypoint_runs_other_commands() -> None:
    assert _entrypoint(["sh", "-c", "echo hi"]) == ["sh", "-c", "echo hi"]


def test_entrypoint_drops_only_the_listed_flags_and_values() -> None:
    got = _entrypoint(
        ["dockerd", "--feature=containerd-snapshotter=false", "--feature",
         "containerd-snapshotter=0", "--feature", "other=true", "--debug"]
    )  # fmt: skip
    assert got == [*INIT, "--feature", "other=true", "--debug", "--iptables=false"]


# --------------------------------------------------------------------------- dropped flags


@cache
def _docker26_flags() -> frozenset[str]:
    require_machine()
    done = subprocess.run(
        ["chroot", str(emulator.ROOT), "dockerd", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return frozenset(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", done.stdout))


def test_dropped_flags_stay_short() -> None:
    """A flag added here must be one whose effect is Docker 26's default; change this
    test with it, on purpose."""
    assert emulator.DROPPED_FLAGS == {
        "--feature": ("containerd-snapshotter=false", "containerd-snapshotter=0"),
    }


def test_dropped_flags_are_missing_from_docker_26() -> None:
    known = _docker26_flags()
    assert "--mtu" in known and "--default-network-opt" in known  # the help was read
    assert not [flag for flag in emulator.DROPPED_FLAGS if flag in known]


def _daemon_flags(output: cases.Output) -> set[str]:
    flags: set[str] = set()
    daemons = [(w.spec, set(w.record.get("containers") or [])) for w in output.wired()] + [
        (d.spec, {c["name"] for c in checks._containers(d.spec)}) for d in output.daemonsets()
    ]
    for spec, names in daemons:
        for container in checks._containers(spec):
            if container["name"] in names and checks._runs_dockerd(container):
                for word in container.get("args") or []:
                    match = re.match(r"(--[a-z0-9-]+)", str(word))
                    if match:
                        flags.add(match.group(1))
    return flags


def test_every_flag_the_outputs_give_dockerd_is_known_to_docker_26() -> None:
    """So a flag newer than Docker 26 cannot slip into the outputs unnoticed: it must be
    added to DROPPED_FLAGS (and test_dropped_flags_stay_short) on purpose."""
    work = Path("/nonexistent")  # golden and example outputs are read, not made
    used: dict[str, str] = {}
    for source in [*cases.golden_sources(), *cases.example_sources()]:
        for flag in _daemon_flags(source.load(work)):
            used.setdefault(flag, source.id)
    known = _docker26_flags() | set(emulator.DROPPED_FLAGS)
    unknown = {flag: where for flag, where in used.items() if flag not in known}
    assert used and not unknown, f"flags Docker 26 lacks, first seen in: {unknown}"


def test_miswired_copies_do_not_touch_the_goldens() -> None:
    before = (GOLDEN / "job-basic" / "expected.yaml").read_text()
    output = _golden("job-basic")
    copy.deepcopy(output)
    _container(_pod(output), "dind")["args"].append("--x")
    assert (GOLDEN / "job-basic" / "expected.yaml").read_text() == before
