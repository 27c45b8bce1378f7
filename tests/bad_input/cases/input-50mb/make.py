"""A valid ResourceList of ConfigMaps, a little over 50 MB: past the size guard."""

from __future__ import annotations

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
SIZE = 50_000_000
ITEM = (
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{:08d}\n  data:\n    blob: {}\n"
)


def make() -> bytes:
    filler = "x" * 1000
    count = SIZE // len(ITEM.format(0, filler)) + 1
    return (HEADER + "".join(ITEM.format(i, filler) for i in range(count))).encode()
