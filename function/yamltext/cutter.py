"""Cutting a ResourceList into its items by its lines, without parsing it.

kpt, kustomize and this function's own output lay a ResourceList out the same
plain way: top-level keys at column 0, `items:` followed by entries whose `-`
stands at one column (0 or 2). For such a text the items can be cut apart line
by line, and only the ones the function wants need parsing: most of a list
passes through unread, and memory stays small.

A line can look like the start of an item, or like a top-level key, and yet be
inside a string: a quoted scalar or a flow collection may run over several
lines, and libyaml lets their continuation lines start at any column. So the
cut is trusted only where no such construct can be open: each line that may
leave one open is found by a cheap pattern and a small lexer, and the item it
stands in is marked to be parsed, which proves the cut right (the construct
closes inside the item) or wrong (the item does not parse alone, and the reader
parses the whole text). Items whose keys are not plain (quoted, explicit `?`,
merge keys, a kind that is not a plain word) are marked too: their kind is then
taken from the parser. Anything outside the plain layout, and any anchor or
alias (which may tie items together), makes `scan` return None: the reader then
composes the whole text.
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
_TOP_LINE = re.compile(r"\n(?![ \t#\n]|---[ \t]*$|-[ \t\n]|-$)(\S.*)$", re.M)
# `---` or `...` starting any line but the first.
# A line before the first top-level key other than blank, a comment or `---`.
_PREAMBLE_CONTENT = re.compile(r"^(?![ \t]*(?:#.*)?$|---[ \t]*(?:#.*)?$).", re.M)
_MARKERS = re.compile(r"\n(?:---|\.\.\.)(?:[ \t\n]|$)")
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?:[ \t]|$)")
# What may follow an item's dash: nothing, a comment, or the item's first key.
_ENTRY_START = re.compile(r"(|#.*|[A-Za-z0-9_./-]+:(?:[ \t].*)?|[\"'][^\"']*[\"']:(?:[ \t].*)?)")
_FIRST_CONTENT = re.compile(r"^( *)(\S)", re.M)
_KIND_VALUE = re.compile(r"[ \t]*(['\"]?)([A-Za-z0-9]+)\1[ \t]*(?:#.*)?$")
# A plain key, the only kind of key whose line the cut reads.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_./-]+:(?:[ \t]|$)")
# An anchor or an alias: `&name` or `*name` where a node may start (after the
# indentation, an indicator, a flow bracket or comma, or a tag). It also finds some
# that are not (`- &&` in a script): those lists are read whole, which costs time.
ANCHOR_OR_ALIAS = re.compile(r"(?:^[ ]*|[:?,\[{-][ ]*|![^ \t\n]*[ ]+)[&*][^ \t\n\[\]{},]", re.M)


def _has_anchors(text: str) -> bool:
    return ("&" in text or "*" in text) and ANCHOR_OR_ALIAS.search(text) is not None


# Where a line may leave a quoted scalar or a flow collection open: a quote (where
# a node may start) whose string does not end on the line, or a bracket that opens
# a collection that is not empty. Quote lines are open for sure (or the quote was
# in a plain scalar: the item is parsed, which costs a little); bracket lines are
# read by `_leaves_open`. Each pattern starts with its quote or bracket, which re
# finds fast, and then looks behind it for a place where a node may start.
_NODE_START = r"[\n \[{,:?-]"
_OPEN_QUOTES = (
    re.compile(rf""""(?<={_NODE_START}")(?:[^"\\\n]|\\.)*\\?$""", re.M),
    re.compile(rf"""'(?<={_NODE_START}')(?:[^'\n]|'')*$""", re.M),
)
_OPEN_BRACKETS = (
    re.compile(rf"\[(?<={_NODE_START}\[)(?!\])"),
    re.compile(rf"\{{(?<={_NODE_START}\{{)(?!\}})"),
)


class Layout(NamedTuple):
    regions: dict[str, tuple[int, int]]  # top-level key -> its lines, [start, end)
    dash: int  # column of the items' `-`
    spans: list[tuple[int, int]]  # each item's lines, [start, end)
    kinds: list[str]  # each item's kind ("" when not found, "?" when the parser must say)
    checked: frozenset[int]  # items that must be parsed to prove the cut (see above)


def scan(text: str) -> Layout | None:
    """The layout of `text`, or None when it is not the plain one."""
    if "\t" in text or _MARKERS.search(text) or _has_anchors(text):
        # Tabs, more than one document, anchors or aliases: the full reader decides.
        return None
    starts: list[tuple[str, int]] = []
    # In "\n" + text, the line break found at i stands before text's line at i.
    for found in _TOP_LINE.finditer("\n" + text):
        key = _TOP_KEY.match(found.group(1))
        if key is None or key.group(1) in (k for k, _ in starts):
            return None
        starts.append((key.group(1), found.start()))
    if not starts:
        return None  # no top-level key at all: the full reader says what it is
    if _PREAMBLE_CONTENT.search(text, 0, starts[0][1]):
        return None  # content before the first key (indented): the full reader decides
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
    if not entries:
        return None
    positions = [e.start() + 1 for e in entries]
    spans = list(zip(positions, [*positions[1:], end], strict=True))
    kinds = []
    checked: set[int] = set()
    # Each item's keys must stand at dash + 2, where the kind is looked for below:
    # on the dash's line after one space, or on the first line of content after a
    # dash with nothing (or a comment) behind it.
    for index, (entry, (_, entry_end)) in enumerate(zip(entries, spans, strict=True)):
        after = entry.group(1) or ""
        rest = after.strip()
        if after.startswith((" ", "\t")) or not _ENTRY_START.fullmatch(rest):
            return None  # a scalar or flow-style item: the full reader says what it is
        if rest[:1] in ("", "#"):
            key = _first_content(text, entry.end(), entry_end)
            if key is None or len(key.group(1)) != dash + 2:
                return None  # keys at another column, or an empty item
        if rest and rest[0] in "\"'":
            checked.add(index)  # a quoted first key
        kinds.append(_kind(rest[5:]) if rest.startswith("kind:") else "")
    # Every line at the keys' column: a plain key, a dash of a sequence under a key,
    # or a comment. Any other (quoted, explicit or merge keys) marks its item.
    key_line = re.compile(rf"\n {{{dash + 2}}}(\S.*)$", re.M)
    for found in key_line.finditer(text, body_start - 1, end):
        line = found.group(1)
        index = bisect.bisect_right(positions, found.start() + 1) - 1
        if line.startswith("kind:"):
            if kinds[index]:
                return None  # a second `kind`: a duplicate key, which the full reader judges
            kinds[index] = _kind(line[5:])
        elif not (_PLAIN_KEY.match(line) or line.startswith(("#", "- ")) or line == "-"):
            checked.add(index)
    checked.update(i for i, kind in enumerate(kinds) if kind == "?")
    for line_start in _open_lines(text, body_start, end):
        checked.add(bisect.bisect_right(positions, line_start) - 1)
    # A construct left open in another top-level region would hide a line that
    # looks like an item: only the items themselves are cut unread.
    for name, (region_start, region_end) in regions.items():
        if name != "items" and _open_lines(text, region_start, region_end):
            return None
    return Layout(regions, dash, spans, kinds, frozenset(checked))


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


def _open_lines(text: str, start: int, end: int) -> set[int]:
    """Starts of the lines in [start, end) that may leave a quoted scalar or a flow
    collection open at their end."""
    out: set[int] = set()
    first_end = text.find("\n", 0, end)
    if start == 0 and _leaves_open(text[: end if first_end < 0 else first_end]):
        out.add(0)  # the text's first line has no line break before it
    for pattern in _OPEN_QUOTES:
        out.update(text.rfind("\n", 0, f.start()) + 1 for f in pattern.finditer(text, start, end))
    lexed: set[int] = set()  # lines read once: a line may hold thousands of brackets
    for pattern in _OPEN_BRACKETS:
        for found in pattern.finditer(text, start, end):
            line_start = text.rfind("\n", 0, found.start()) + 1
            if line_start not in out and line_start not in lexed:
                lexed.add(line_start)
                line_end = text.find("\n", line_start, end)
                if _leaves_open(text[line_start : end if line_end < 0 else line_end]):
                    out.add(line_start)
    return out


def _leaves_open(line: str) -> bool:
    """True when `line`, read from a clean state, may end inside a quoted scalar or a
    flow collection. It follows libyaml's scanner: a quote or bracket opens something
    only where a node may start, not inside a plain scalar or a comment. Saying True
    where YAML would not only costs a parse of the item.
    """
    depth = 0  # open flow collections
    start = True  # a node may start here
    plain = False  # inside a plain scalar
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        following = line[i + 1 : i + 2]
        if char == "#" and (i == 0 or line[i - 1] in " \t"):
            break  # a comment ends the line
        if plain:
            if char == ":" and (following in ("", " ", "\t") or (depth and following in ",[]{}")):
                plain, start = False, True
            elif depth and char in ",[]{}":
                plain = False
                continue  # the indicator ends the scalar and is read below
            i += 1
            continue
        if char in " \t":
            i += 1
            continue
        if char == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            if i >= n:
                return True  # the string goes on past the line
            start = False
        elif char == "'":
            i += 1
            while i < n and not (line[i] == "'" and line[i + 1 : i + 2] != "'"):
                i += 2 if line[i] == "'" else 1
            if i >= n:
                return True
            start = False
        elif char in "[{":
            depth += 1
            start = True
        elif char in "]}":
            depth = max(depth - 1, 0)
            start = False
        elif char == "," and depth:
            start = True
        elif char in "-?:" and (following in ("", " ", "\t") or (depth and following in ",[]{}")):
            start = True  # an indicator: a node may follow
        elif start and char in "!&*|>":
            # A tag, anchor or alias token, or a block scalar's header: up to a blank.
            while i < n and line[i] not in " \t":
                i += 1
            if char in "|>":
                break  # the rest of the line is the header's comment, if anything
            continue
        else:
            plain, start = True, False
        i += 1
    return depth > 0
