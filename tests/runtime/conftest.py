"""Runtime tier: pods started from the function's outputs (see tests/runtime/README.md).

Opt in with INJECT_DOCKER_RUNTIME_TESTS=1, as root, after tests/runtime/build-root.sh.
Without the variable, or where the machine cannot (not root, no unshare/nsenter/ip,
no overlay or network namespaces), every test skips and says why; once opted in on a
machine that can, a missing root is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from tests.runtime import checks, emulator
from tests.runtime.cases import Source

ENABLED = os.environ.get("INJECT_DOCKER_RUNTIME_TESTS") == "1"
JOBS = int(os.environ.get("INJECT_DOCKER_RUNTIME_JOBS", "4"))

_RESULTS = pytest.StashKey[dict[str, checks.CaseResult]]()
_REPORT = pytest.StashKey[list[str]]()


@cache
def machine_problem() -> str | None:
    """Why this machine cannot run the tier, or None."""
    if not ENABLED:
        return "runtime tier: set INJECT_DOCKER_RUNTIME_TESTS=1 to run it (tests/runtime/README.md)"
    if os.geteuid() != 0:
        return "runtime tier: needs root (mount, unshare, network namespaces)"
    missing = [t for t in ("unshare", "nsenter", "ip", "setpriv") if shutil.which(t) is None]
    if missing:
        return f"runtime tier: {', '.join(missing)} not found (util-linux, iproute2)"
    probe = subprocess.run(
        ["unshare", "--mount", "--pid", "--uts", "--fork", "--propagation", "private", "true"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"runtime tier: this machine cannot unshare namespaces: {probe.stderr.strip()}"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "runtime tier: the kernel has no overlay filesystem"
    return None


def require_machine() -> None:
    problem = machine_problem()
    if problem:
        pytest.skip(problem)
    if not (emulator.ROOT / "opt/inject-docker-runtime/ready").exists():
        pytest.fail(
            f"runtime tier: no Debian 13 root at {emulator.ROOT}; "
            "run tests/runtime/build-root.sh first (.ci/run does)",
            pytrace=False,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "runtime: starts pods from the function's outputs with the pod emulator; needs "
        "INJECT_DOCKER_RUNTIME_TESTS=1, root and tests/runtime/build-root.sh",
    )
    config.stash[_REPORT] = []


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    require_machine()
    emulator.clean_stale()
    path = emulator.WORK / f"run-{os.getpid()}-{int(time.time())}"
    path.mkdir(parents=True)
    yield path
    emulator.kill_everything()
    emulator.remove_tree(path)


@pytest.fixture(scope="session")
def runtime_results(request: pytest.FixtureRequest, work_dir: Path) -> dict[str, checks.CaseResult]:
    """Every selected case, run once, several at a time (each on a node of its own)."""
    sources: dict[str, Source] = {}
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        source = callspec.params.get("source") if callspec else None
        if isinstance(source, Source):
            sources[source.id] = source

    def one(pair: tuple[int, Source]) -> checks.CaseResult:
        number, source = pair
        try:
            return checks.run_source(source, work_dir / f"case{number}")
        except Exception as error:  # a bug of the tier, not a finding: show it
            result = checks.CaseResult(source.id)
            result.failures.append(f"the tier itself failed: {type(error).__name__}: {error}")
            return result

    began = time.monotonic()
    with ThreadPoolExecutor(JOBS) as pool:
        results = {r.id: r for r in pool.map(one, enumerate(sources.values()))}
    request.config.stash[_RESULTS] = results
    request.config.stash[_REPORT].append(
        f"{len(results)} outputs run in {time.monotonic() - began:.0f} s, {JOBS} at a time"
    )
    return results


def _summary(results: dict[str, checks.CaseResult]) -> list[str]:
    all_results = list(results.values())
    daemons = [d for r in all_results for d in r.daemons]
    clients = [c for r in all_results for c in r.clients]
    wired = [c for c in clients if not c.extra]
    extra = [c for c in clients if c.extra]
    expected = [c for c in clients if c.expected and c.ok]

    def working(group: list[checks.ClientResult]) -> int:
        return sum(1 for c in group if c.ok and c.ran)

    lines = [
        f"pods started: {sum(r.pods for r in all_results)} "
        f"(outputs with pods: {sum(1 for r in all_results if r.pods)}, with nothing to start: "
        f"{sum(1 for r in all_results if r.nothing)}, pods not emulated: "
        f"{sum(len(r.not_emulated) for r in all_results)})",
        f"daemons that answered: {sum(d.answered for d in daemons)} of {len(daemons)} "
        f"({sum(1 for d in daemons if d.auto_mtu and d.mtu == emulator.POD_MTU)} found the pod's "
        f"MTU {emulator.POD_MTU} themselves)",
        f"clients that ran docker info and a container: {working(wired)} of {len(wired)} "
        f"({sum(1 for c in wired if c.workspaces)} read their workspace through -v, "
        f"{sum(1 for c in wired if c.streamed)} through stdin in daemonset mode); "
        f"expected failures confirmed: {len(expected)}",
        f"extra non-root clients that used the daemon: {working(extra)} of {len(extra)}",
    ]
    for family in ("golden", "example", "corpus"):
        group = [r for r in all_results if r.id.startswith(family + "/")]
        if not any(r.pods for r in group):
            continue
        parts = []
        for mode in ("sidecar", "daemonset"):
            mine = [c for r in group for c in r.clients if c.mode == mode]
            real = [c for c in mine if not c.extra]
            parts.append(
                f"{mode}: clients {working(real)}/{len(real)}, "
                f"non-root {working([c for c in mine if c.extra])}/"
                f"{sum(1 for c in mine if c.extra)}"
            )
        group_daemons = [d for r in group for d in r.daemons]
        lines.append(
            f"  {family}: {sum(r.pods for r in group)} pods in "
            f"{sum(1 for r in group if r.pods)} outputs, daemons answered "
            f"{sum(d.answered for d in group_daemons)}/{len(group_daemons)}; " + "; ".join(parts)
        )
    failing = [r.id for r in all_results if r.failures]
    if failing:
        lines.append(f"outputs with failures: {len(failing)}: {', '.join(failing)}")
    return lines


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    results = config.stash.get(_RESULTS, None)
    lines = config.stash.get(_REPORT, [])
    if results is None and not lines:
        return
    terminalreporter.section("runtime tier")
    for line in [*lines, *(_summary(results) if results else [])]:
        terminalreporter.write_line(line)
