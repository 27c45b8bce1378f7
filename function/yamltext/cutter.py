"""Cutting a ResourceList into its items by its lines, without parsing it.

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

import bisect
import re
from typing import NamedTuple

# The line patterns start with the line break before the line rather than `^`:
# re finds a literal first character quickly, but tries `^` at every position,
# eight times slower on a large list.
# Lines at column 0 other than blanks, comments and a first `---` (searched in
# the text with a line break put before it, so that the first line has one too).
_TOP_LINE = re.compile(r"\n(?![ \t#\r\n]|---[ \t]*$|-[ \t\r\n]|-$)(\S.*)$", re.M)
# `---` or `...` starting any line but the first.
_MARKERS = re.compile(r"\n(?:---|\.\.\.)(?:[ \t\n]|$)")
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?:[ \t]|$)")
# What may follow an item's dash: nothing, a comment, or the item's first key.
_ENTRY_START = re.compile(r"(|#.*|[A-Za-z0-9_./-]+:(?:[ \t].*)?|[\"'][^\"']*[\"']:(?:[ \t].*)?)")
_FIRST_CONTENT = re.compile(r"^( *)(\S)", re.M)
_KIND_VALUE = re.compile(r"[ \t]*(['\"]?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?$")


class Layout(NamedTuple):
    regions: dict[str, tuple[int, int]]  # top-level key -> its lines, [start, end)
    dash: int  # column of the items' `-`
    spans: list[tuple[int, int]]  # each item's lines, [start, end)
    kinds: list[str]  # each item's kind ("" when not found)


def scan(text: str) -> Layout | None:
    """The layout of `text`, or None when it is not the plain one."""
    if "\t" in text or "\r" in text or _MARKERS.search(text):
        return None  # tabs, CRLF, or more than one document: the full reader decides
    starts: list[tuple[str, int]] = []
    # In "\n" + text, the line break found at i stands before text's line at i.
    for found in _TOP_LINE.finditer("\n" + text):
        key = _TOP_KEY.match(found.group(1))
        if key is None or key.group(1) in (k for k, _ in starts):
            return None
        starts.append((key.group(1), found.start()))
    ends = [s for _, s in starts[1:]] + [len(text)]
    regions = {key: (start, end) for (key, start), end in zip(starts, ends, strict=True)}
    return _items(text, regions) if "items" in regions else None


def _items(text: str, regions: dict[str, tuple[int, int]]) -> Layout | None:
    start, end = regions["items"]
    newline = text.find("\n", start, end)
    header = text[start : end if newline < 0 else newline]
    if header.split(":", 1)[1].split("#", 1)[0].strip():
        return None  # `items: []` and the like: the full reader handles them
    body_start = end if newline < 0 else newline + 1
    first = _first_content(text, body_start, end)
    if first is None or first.group(2) != "-" or len(first.group(1)) not in (0, 2):
        return None
    dash = len(first.group(1))
    # Inside the items, every line that is not blank or a comment is either an
    # entry's dash at that column or indented further. The searches below start
    # at the line break that ends the `items:` line; a match's line starts after it.
    stray = re.compile(rf"\n(?! {{{dash + 1}}}| *$| *#| {{{dash}}}-(?: |$))", re.M)
    if stray.search(text, body_start - 1, end):
        return None
    entry_line = re.compile(rf"\n {{{dash}}}-(?: (.*))?$", re.M)
    entries = list(entry_line.finditer(text, body_start - 1, end))
    kinds = []
    # Each item's keys must stand at dash + 2, where the kind is looked for below:
    # on the dash's line after one space, or on the first line of content after a
    # dash with nothing (or a comment) behind it.
    ends = [e.start() for e in entries[1:]] + [end]
    for entry, entry_end in zip(entries, ends, strict=True):
        after = entry.group(1) or ""
        rest = after.strip()
        if after.startswith((" ", "\t")) or not _ENTRY_START.fullmatch(rest):
            return None  # a scalar or flow-style item: the full reader says what it is
        if rest[:1] in ("", "#"):
            key = _first_content(text, entry.end(), entry_end)
            if key is None or len(key.group(1)) != dash + 2:
                return None  # keys at another column, or an empty item
        kinds.append(_kind(rest[5:]) if rest.startswith("kind:") else "")
    positions = [e.start() + 1 for e in entries]
    key_kind = re.compile(rf"\n {{{dash + 2}}}kind:(.*)$", re.M)
    for found in key_kind.finditer(text, body_start - 1, end):
        index = bisect.bisect_right(positions, found.start() + 1) - 1
        if index < 0 or kinds[index]:
            return None  # a second `kind`: a duplicate key, which the full reader judges
        kinds[index] = _kind(found.group(1))
    if not entries or "?" in kinds:
        return None
    spans = list(zip(positions, [*positions[1:], end], strict=True))
    return Layout(regions, dash, spans, kinds)


def _first_content(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first line in [start, end) that is neither blank nor a comment: its
    indentation is group 1, its first character group 2."""
    first = _FIRST_CONTENT.search(text, start, end)
    while first and first.group(2) == "#":
        first = _FIRST_CONTENT.search(text, first.end(), end)
    return first


def _kind(value: str) -> str:
    found = _KIND_VALUE.match(value)
    return found.group(2) if found else "?"
