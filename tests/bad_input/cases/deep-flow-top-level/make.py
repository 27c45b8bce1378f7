"""The whole input is `[[[...]]]` 100,000 deep."""

from __future__ import annotations

DEPTH = 100_000


def make() -> bytes:
    return ("[" * DEPTH + "]" * DEPTH + "\n").encode()
