"""4 KB of seeded random bytes: not UTF-8, not YAML."""

from __future__ import annotations

import random


def make() -> bytes:
    return random.Random(20240601).randbytes(4096)
