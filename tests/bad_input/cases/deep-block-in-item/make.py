"""A Pod whose container args nest `- - - ...` 100,000 deep."""

from __future__ import annotations

DEPTH = 100_000
HEAD = (
    "apiVersion: config.kubernetes.io/v1\n"
    "kind: ResourceList\n"
    "items:\n"
    "- apiVersion: v1\n"
    "  kind: Pod\n"
    "  metadata:\n"
    "    name: build\n"
    "  spec:\n"
    "    containers:\n"
    "    - name: build\n"
    "      image: docker:29.8.0-cli\n"
)


def make() -> bytes:
    return (HEAD + "      args:\n      " + "- " * DEPTH + "x\n").encode()
