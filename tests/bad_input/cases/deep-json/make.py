"""A ResourceList in JSON whose Pod has args nested 100,000 deep."""

from __future__ import annotations

DEPTH = 100_000
HEAD = (
    '{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": ['
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "build"}, "spec": '
    '{"containers": [{"name": "build", "image": "docker:29.8.0-cli", "args": '
)


def make() -> bytes:
    return (HEAD + "[" * DEPTH + "]" * DEPTH + "}]}}]}\n").encode()
