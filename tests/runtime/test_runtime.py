"""Every output's pods start and work: each daemon answers, each client reaches it
through DOCKER_HOST as written, loads an image and runs a container that reads what it
wrote in its workspace, and a non-root client uses the socket too (tests/runtime).
"""

from __future__ import annotations

import re

import pytest

from tests.runtime import cases, checks

pytestmark = pytest.mark.runtime

SOURCES = cases.all_sources()

# Outputs whose pods fail for a reason found by this tier and reported, not yet fixed.
# Each entry: why, a text every failure of that output must contain (any other failure
# fails the test), and whether it is strict: a strict entry whose output passes fails
# the test until the entry is removed, so the list cannot outlive its reasons.
KNOWN: dict[str, tuple[str, str, bool]] = {
    # Outputs that must fail, and why (strict: one that passes means the entry goes).
    "golden/daemonset-hand-written-matching": (
        "the user's hand-written DaemonSet serves the socket without --group=2375, so the "
        "socket is root:root 0660 and non-root clients are refused; the function leaves "
        "the user's DaemonSet alone and warns about exactly this",
        "permission denied",
        True,
    ),
}


# Failures that whole families of outputs must show: an output whose every failure
# matches one of these (or its KNOWN entry) is an expected failure.
KNOWN_PATTERNS: list[tuple[str, str]] = [
    (
        r"^(Task|Pipeline) .*the extra non-root client .*permission denied",
        "Tekton: a Task or Pipeline has no pod settings, so its steps get the socket's group "
        "only from the podTemplate of the TaskRun or PipelineRun that runs it (the function "
        "sets it there, and for a Task or Pipeline says where to set it); the emulator runs "
        "the Task's pod without one, so a non-root step is refused",
    ),
]


def _known(failure: str) -> str | None:
    return next((why for pattern, why in KNOWN_PATTERNS if re.search(pattern, failure)), None)


@pytest.mark.parametrize("source", SOURCES, ids=[s.id for s in SOURCES])
def test_pods_work(source: cases.Source, runtime_results: dict[str, checks.CaseResult]) -> None:
    result = runtime_results[source.id]
    if result.nothing:
        pytest.skip(f"nothing to start: {result.nothing}")
    if not result.pods and result.not_emulated and not result.failures:
        pytest.skip("not emulated: " + "; ".join(result.not_emulated))
    report = "\n".join(result.failures)
    if source.id in KNOWN:
        reason, text, strict = KNOWN[source.id]
        assert result.failures or not strict, (
            f"{source.id} now passes: remove it from KNOWN in {__file__} ({reason})"
        )
        if result.failures and all(
            text in failure or _known(failure) for failure in result.failures
        ):
            pytest.xfail(f"known: {reason}")
    if result.failures and all(_known(failure) for failure in result.failures):
        pytest.xfail("known: " + "; ".join(sorted({str(_known(f)) for f in result.failures})))
    assert not result.failures, f"{source.id}:\n{report}"
    assert result.pods, f"{source.id}: no pod started"
    assert result.daemons and all(d.answered for d in result.daemons)
    for client in result.clients:
        assert client.ok and (client.ran or client.expected), client


def test_both_modes_ran(runtime_results: dict[str, checks.CaseResult]) -> None:
    """The golden cases and examples exercise both wiring modes, and in each the
    clients read their workspaces."""
    golden = [r for r in runtime_results.values() if not r.id.startswith("corpus/")]
    if len(golden) < len([s for s in SOURCES if not s.id.startswith("corpus/")]):
        pytest.skip("only some cases selected")
    clients = [c for r in golden for c in r.clients if c.ok and c.ran and not c.extra]
    assert any(c.workspaces for c in clients), "no sidecar client read its workspace"
    assert any(c.streamed for c in clients), "no daemonset client streamed its workspace"
    assert any(c.extra for r in golden for c in r.clients if c.ok and c.ran)
