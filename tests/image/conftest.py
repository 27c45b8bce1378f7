"""Container image test tier (see tests/image/test_image.py)."""

from __future__ import annotations

import pytest

_REPORT = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "image: runs the built container image through docker, kpt and kubectl kustomize; "
        "needs INJECT_DOCKER_IMAGE_TESTS=1 and an image built by tests/image/build-local.sh",
    )
    config.stash[_REPORT] = []


@pytest.fixture
def image_report(request: pytest.FixtureRequest) -> list[str]:
    """Lines for the image tier's section of the test summary (size, start-up time)."""
    return request.config.stash[_REPORT]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(_REPORT, [])
    if lines:
        terminalreporter.section("image tier")
        for line in lines:
            terminalreporter.write_line(line)
