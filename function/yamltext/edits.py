"""Text edits of one YAML collection: insert, delete or replace a key or a sequence entry.

Each function returns an `Edit` of the text; `apply` makes a list of them. New
text comes from the writer, indented to match the collection it goes into.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from yaml.nodes import MappingNode, SequenceNode

from function.yamltext import writer
from function.yamltext.positions import (
    Unpatchable,
    after,
    climb_comments,
    column,
    comment_of,
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
    # False only for block text inserted between whole lines, the one kind of
    # edit simple enough that `edit_in_place` does not read its result back.
    checked: bool = True


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


def _key_column(mapping: MappingNode) -> int:
    return mapping.value[0][0].start_mark.column


def _pair_start(text: str, mapping: MappingNode, i: int) -> int | None:
    """Where a pair inserted before pair `i` goes, or None if pair `i` shares a line."""
    key = mapping.value[i][0].start_mark.index
    if not starts_line(text, key):
        return None
    floor = after(text, mapping.value[i - 1][1]) if i else 0
    return climb_comments(text, line_start(text, key), floor)


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
    indent = _key_column(mapping)
    rendered = writer.pair(key, value, indent, style)
    if before is not None:
        at = _pair_start(text, mapping, before)
        if at is not None:
            return Edit(at, at, rendered, checked=False)
    at = past_trailing_comments(text, after(text, mapping.value[-1][1]), indent)
    if at == len(text) and text and not text.endswith("\n"):
        rendered = "\n" + rendered
    return Edit(at, at, rendered, checked=False)


def delete_pair(text: str, mapping: MappingNode, i: int) -> Edit:
    start, end, mid_line = _pair_span(text, mapping, i)
    if mid_line:
        if i + 1 >= len(mapping.value):
            raise Unpatchable("cannot delete the only key of a sequence entry")
        # The next key moves up to take this one's place after the dash.
        end = mapping.value[i + 1][0].start_mark.index
        return Edit(start, end, "")
    return Edit(start, end, _kept_comments(text[start:end], mapping.value[i][0].start_mark.column))


def replace_pair(text: str, mapping: MappingNode, i: int, value: Any, style: SeqStyle) -> Edit:
    start, end, mid_line = _pair_span(text, mapping, i)
    key = mapping.value[i][0].value
    rendered = writer.pair(key, value, _key_column(mapping), style)
    if mid_line:
        rendered = rendered.lstrip(" ")
    return Edit(start, end, rendered)


def _entry_start(text: str, sequence: SequenceNode, j: int) -> int:
    dash = dash_index(text, sequence.value[j])
    floor = after(text, sequence.value[j - 1]) if j else 0
    return climb_comments(text, line_start(text, dash), floor)


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
    return Edit(at, at, rendered, checked=False)


def entry_span(text: str, sequence: SequenceNode, j: int) -> tuple[int, int]:
    return line_start(text, dash_index(text, sequence.value[j])), after(text, sequence.value[j])


def delete_entry(text: str, sequence: SequenceNode, j: int) -> Edit:
    start, end = entry_span(text, sequence, j)
    return Edit(start, end, _kept_comments(text[start:end], column(text, start)))


def _kept_comments(deleted: str, indent: int) -> str:
    """The comments of deleted lines, as lines of their own: removing a value keeps them."""
    if "#" not in deleted or "|" in deleted or ">" in deleted:
        return ""  # no comments, or block scalars whose `#` are content
    kept = []
    for line in deleted.splitlines():
        comment = comment_of(line)
        if comment:
            kept.append(" " * indent + comment + "\n")
    return "".join(kept)


def replace_entry(text: str, sequence: SequenceNode, j: int, value: Any, style: SeqStyle) -> Edit:
    dash = dash_index(text, sequence.value[j])
    start, end = entry_span(text, sequence, j)
    return Edit(start, end, writer.entry(value, column(text, dash), style))
