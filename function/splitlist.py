"""Finding the items of a ResourceList by its lines, without parsing it.

kpt, kustomize and this function's own output lay a ResourceList out the same
plain way: top-level keys at column 0, `items:` followed by entries whose `-`
stands at one column (0 or 2). For such a text the items can be cut apart line
by line, and only the ones the function wants need parsing: most of a list
passes through unread, and memory stays small.

Anything outside that plain layout makes `scan` return None, and the reader
parses the whole text instead. A cut in the wrong place cannot go unnoticed:
each piece that is read must parse as exactly one resource, or the reader falls
back; a piece that is never read is copied to the output unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?:[ \t]|$)")
# What may follow an item's dash: nothing, a comment, or the item's first key.
_ENTRY_START = re.compile(r"(|#.*|[A-Za-z0-9_.\/-]+:(?:[ \t].*)?|[\"'][^\"']*[\"']:(?:[ \t].*)?)")
_KIND = re.compile(r"kind:[ \t]*(['\"]?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?$")


@dataclass
class Layout:
    regions: dict[str, tuple[int, int]]  # top-level key -> its lines, [start, end)
    dash: int  # column of the items' `-`
    spans: list[tuple[int, int]]  # each item's lines, [start, end)
    kinds: list[str]  # each item's kind ("" when not found)


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    position = 0
    for line in text.splitlines(keepends=True):
        out.append((position, line))
        position += len(line)
    return out


def scan(text: str) -> Layout | None:
    """The layout of `text`, or None when it is not the plain one."""
    lines = _lines(text)
    regions: dict[str, tuple[int, int]] = {}
    current: str | None = None
    starts: list[tuple[str, int]] = []
    for index, (position, line) in enumerate(lines):
        body = line.rstrip("\r\n")
        if not body.strip() or body.startswith("#") or body[0] in " -":
            continue
        if index == 0 and body.rstrip() == "---":
            continue
        found = _TOP_KEY.match(body)
        if not found or found.group(1) in regions or (current == found.group(1)):
            return None
        current = found.group(1)
        regions[current] = (position, -1)
        starts.append((current, position))
    if "items" not in regions:
        return None
    for (key, start), following in zip(starts, [*starts[1:], ("", len(text))], strict=True):
        regions[key] = (start, following[1])
    return _items(text, lines, regions)


def _items(
    text: str, lines: list[tuple[int, str]], regions: dict[str, tuple[int, int]]
) -> Layout | None:
    start, end = regions["items"]
    newline = text.find("\n", start, end)
    header = text[start : end if newline < 0 else newline]
    if header.split(":", 1)[1].split("#", 1)[0].strip():
        return None  # `items: []` and the like: the full reader handles them
    dash: int | None = None
    spans: list[tuple[int, int]] = []
    kinds: list[str] = []
    for position, line in lines:
        if position <= start or position >= end:
            continue
        body = line.rstrip("\r\n")
        stripped = body.lstrip(" ")
        indent = len(body) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        if dash is None:
            if not stripped.startswith("-") or indent not in (0, 2):
                return None
            dash = indent
        if indent == dash and (stripped == "-" or stripped.startswith(("- ", "-\t"))):
            spans.append((position, -1))
            kinds.append("")
            rest = stripped[1:].strip(" \t")
            if not _ENTRY_START.fullmatch(rest):
                return None  # a scalar or flow-style item: the full reader says what it is
            if rest.startswith("kind:"):
                kinds[-1] = _kind(rest)
        elif indent <= dash:
            return None
        elif indent == dash + 2 and stripped.startswith("kind:") and spans and not kinds[-1]:
            kinds[-1] = _kind(stripped)
    if not spans or dash is None or "?" in kinds:
        return None
    ends = [s for s, _ in spans[1:]] + [end]
    return Layout(regions, dash, [(s, e) for (s, _), e in zip(spans, ends, strict=True)], kinds)


def _kind(text: str) -> str:
    found = _KIND.match(text.rstrip("\r\n"))
    return found.group(2) if found else "?"
