"""Text edits of one YAML collection: insert, delete or replace a key or a sequence entry.

Each function returns the `Edit`s of the text that make the change; `apply` makes
a list of them. New text comes from the writer, indented to match the collection
it goes into. Text that is removed keeps its comments: they stay as comment lines
where the removed text was.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, SequenceNode

from function.yamltext import writer
from function.yamltext.positions import (
    Unpatchable,
    after,
    climb_comments,
    column,
    comments_within,
    dash_index,
    line_start,
    past_trailing_comments,
    starts_line,
)
from function.yamltext.writer import SeqStyle


class Edit(NamedTuple):
    start: int
    end: int
    text: str


def apply(text: str, edits: list[Edit], offset: int = 0) -> str:
    """`text` with `edits` made; edit positions are `offset` plus an index into `text`."""
    pieces: list[str] = []
    position = offset
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < position:
            raise Unpatchable("two edits overlap")
        pieces.append(text[position - offset : edit.start - offset])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position - offset :])
    return "".join(pieces)


def _key_column(text: str, mapping: MappingNode) -> int:
    """The column of the mapping's keys: of the first one, or of its `?` when explicit."""
    start = mapping.value[0][0].start_mark.index
    before = text[line_start(text, start) : start]
    if before.strip() == "?":
        return before.index("?")
    return int(mapping.value[0][0].start_mark.column)


def _pair_start(text: str, mapping: MappingNode, i: int) -> int | None:
    """Where a pair inserted before pair `i` goes, or None if pair `i` shares a line."""
    key = mapping.value[i][0].start_mark.index
    if not starts_line(text, key):
        return None
    floor = after(text, mapping.value[i - 1][1]) if i else 0
    return climb_comments(text, line_start(text, key), floor, _key_column(text, mapping))


def _pair_span(text: str, mapping: MappingNode, i: int) -> tuple[int, int, bool]:
    """(start, end, starts mid-line) of pair `i`, comments above it excluded."""
    key = mapping.value[i][0].start_mark.index
    end = after(text, mapping.value[i][1])
    if starts_line(text, key):
        return line_start(text, key), end, False
    return key, end, True


def insert_pair(
    text: str, mapping: MappingNode, before: int | None, key: str, value: Any, style: SeqStyle
) -> Edit:
    """Insert `key: value` before pair `before` (None: after the last pair)."""
    indent = _key_column(text, mapping)
    rendered = writer.pair(key, value, indent, style)
    if before is not None:
        at = _pair_start(text, mapping, before)
        if at is not None:
            return Edit(at, at, rendered)
    at = past_trailing_comments(text, after(text, mapping.value[-1][1]), indent)
    if at == len(text) and text and not text.endswith("\n"):
        rendered = "\n" + rendered
    return Edit(at, at, rendered)


def delete_pair(text: str, mapping: MappingNode, i: int) -> list[Edit]:
    start, end, mid_line = _pair_span(text, mapping, i)
    indent = _key_column(text, mapping)
    kept = _kept_comments(text, start, end, list(mapping.value[i]), indent)
    if mid_line:
        if i + 1 >= len(mapping.value):
            raise Unpatchable("cannot delete the only key of a sequence entry")
        # The next key moves up to take this one's place after the dash; the
        # comments go on lines of their own above the dash.
        end = mapping.value[i + 1][0].start_mark.index
        above = line_start(text, start)
        return [Edit(above, above, kept), Edit(start, end, "")] if kept else [Edit(start, end, "")]
    return [Edit(start, end, kept)]


def replace_pair(text: str, mapping: MappingNode, i: int, value: Any, style: SeqStyle) -> Edit:
    start, end, mid_line = _pair_span(text, mapping, i)
    key = mapping.value[i][0].value
    indent = _key_column(text, mapping)
    rendered = writer.pair(key, value, indent, style)
    comments = comments_within(text, start, end, list(mapping.value[i]))
    first_line_end = text.find("\n", start, end)
    head, _, body = rendered.partition("\n")
    if comments and head.endswith(":") and first_line_end >= 0:
        # `key: [] # note` that becomes a block keeps its note on the key's line.
        on_key_line = comments_within(text, start, first_line_end, list(mapping.value[i]))
        if on_key_line:
            rendered = f"{head} {on_key_line[0]}\n{body}"
            comments = comments[1:]
    kept = "".join(f"{' ' * indent}{c}\n" for c in comments)
    if mid_line:
        if kept:
            raise Unpatchable("comments inside the first key of a sequence entry")
        return Edit(start, end, rendered.lstrip(" "))
    return Edit(start, end, kept + rendered)


def _entry_start(text: str, sequence: SequenceNode, j: int) -> int:
    dash = dash_index(text, sequence.value[j])
    floor = after(text, sequence.value[j - 1]) if j else 0
    return climb_comments(text, line_start(text, dash), floor, column(text, dash))


def insert_entry(
    text: str, sequence: SequenceNode, before: int | None, value: Any, style: SeqStyle
) -> Edit:
    """Insert `- value` before entry `before` (None: after the last entry)."""
    dash_column = column(text, dash_index(text, sequence.value[0]))
    rendered = writer.entry(value, dash_column, style)
    if before is not None:
        at = _entry_start(text, sequence, before)
    else:
        at = past_trailing_comments(text, after(text, sequence.value[-1]), dash_column)
        if at == len(text) and text and not text.endswith("\n"):
            rendered = "\n" + rendered
    return Edit(at, at, rendered)


def entry_span(text: str, entry: Node) -> tuple[int, int]:
    """The lines of a block sequence's entry: from its dash to the end of its content."""
    return line_start(text, dash_index(text, entry)), after(text, entry)


def delete_entry(text: str, sequence: SequenceNode, j: int) -> list[Edit]:
    entry = sequence.value[j]
    start, end = entry_span(text, entry)
    indent = column(text, dash_index(text, entry))
    return [Edit(start, end, _kept_comments(text, start, end, [entry], indent))]


def replace_entry(text: str, sequence: SequenceNode, j: int, value: Any, style: SeqStyle) -> Edit:
    entry = sequence.value[j]
    start, end = entry_span(text, entry)
    indent = column(text, dash_index(text, entry))
    kept = _kept_comments(text, start, end, [entry], indent)
    return Edit(start, end, kept + writer.entry(value, indent, style))


def _kept_comments(text: str, start: int, end: int, inside: list[Node], indent: int) -> str:
    """The comments of text[start:end] (which holds `inside`), as lines of their own."""
    return "".join(f"{' ' * indent}{c}\n" for c in comments_within(text, start, end, inside))
