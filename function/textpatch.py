"""Edit YAML text in place, guided by the nodes a YAML composer made of it.

Rewriting a resource through a round-trip YAML library costs far more than the
rest of the function and still reflows what the user wrote. Instead, `diff`
compares the value a node was read as with the value wanted, and returns the
smallest text edits that turn one into the other: a key or sequence entry
inserted, deleted or replaced, a scalar rewritten. Text that is not edited is
kept byte for byte, comments included.

Block collections are edited line by line. A flow collection (`[...]`, `{...}`)
that changes is rewritten whole, in flow style. What cannot be edited safely
raises `Unpatchable`, and the caller rewrites the whole resource instead.
"""

from __future__ import annotations

import bisect
import json
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function import emit, yamlnodes
from function.emit import SeqStyle

# Tests set this to read back every edit, the unchecked kind included.
READ_BACK_ALL = False


class Unpatchable(Exception):
    """The wanted change cannot be made as a local text edit."""


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


# --- positions in the text -------------------------------------------------


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def next_line(text: str, index: int) -> int:
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def _is_block(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value


def _content_end(text: str, node: Node) -> int:
    """Index just past the last character of the node's own content."""
    while _is_block(node):
        last = node.value[-1]
        child = last[1] if isinstance(node, MappingNode) else last
        floor = last[0].end_mark.index if isinstance(node, MappingNode) else node.start_mark.index
        if child.start_mark.index < floor:
            # An alias: its node stands earlier in the text. The collection ends
            # at its own end mark, less the blank and comment lines before it.
            return _last_content(text, node.end_mark.index)
        node = child
    return node.end_mark.index


def _last_content(text: str, index: int) -> int:
    """End of the last line before `index` that holds more than blanks and comments."""
    end = line_start(text, index) if text[line_start(text, index) : index].strip() == "" else index
    while end > 0:
        begin = line_start(text, end - 1)
        line = text[begin : end - 1].strip()
        if line and not line.startswith("#"):
            return end - 1
        end = begin
    return end


def after(text: str, node: Node) -> int:
    """Start of the line that follows the node's content (after any trailing comment)."""
    end = _content_end(text, node)
    if end == 0 or text[end - 1] == "\n":
        return end
    return next_line(text, end)


def _past_trailing_comments(text: str, start: int, indent: int) -> int:
    """Move `start` (a line start) past the comment lines indented deeper than `indent`.

    A comment under the last entry of a collection belongs to that entry;
    something appended after the collection goes below it.
    """
    position = end = start
    while position < len(text):
        following = next_line(text, position)
        line = text[position:following]
        stripped = line.lstrip(" ")
        if stripped.startswith("#") and len(line) - len(stripped) > indent:
            end = position = following
        elif not stripped.strip():
            position = following
        else:
            break
    return end


def _climb_comments(text: str, start: int, floor: int) -> int:
    """Move `start` (a line start) up over the comment lines directly above it."""
    while start > floor:
        previous = line_start(text, start - 1)
        if previous < floor or not text[previous : start - 1].lstrip().startswith("#"):
            break
        start = previous
    return start


def _starts_line(text: str, index: int) -> bool:
    begin = line_start(text, index)
    return not text[begin:index].strip()


def dash_index(text: str, entry: Node) -> int:
    """Index of the `-` that introduces a block sequence entry.

    It is the last `-` before the entry that starts its line and is followed by
    a blank: a hyphen inside a comment (`- # end-to-end`) is not it.
    """
    position = entry.start_mark.index
    while True:
        dash = text.rfind("-", 0, position)
        if dash < 0:
            raise Unpatchable("sequence entry without a dash")
        following = text[dash + 1 : dash + 2]
        if _starts_line(text, dash) and following in (" ", "\t", "\n", "\r", ""):
            return dash
        position = dash


def column(text: str, index: int) -> int:
    return index - line_start(text, index)


# --- the edits of one collection -------------------------------------------


def _key_column(mapping: MappingNode) -> int:
    return mapping.value[0][0].start_mark.column


def _pair_start(text: str, mapping: MappingNode, i: int) -> int | None:
    """Where a pair inserted before pair `i` goes, or None if pair `i` shares a line."""
    key = mapping.value[i][0].start_mark.index
    if not _starts_line(text, key):
        return None
    floor = after(text, mapping.value[i - 1][1]) if i else 0
    return _climb_comments(text, line_start(text, key), floor)


def _pair_span(text: str, mapping: MappingNode, i: int) -> tuple[int, int, bool]:
    """(start, end, starts mid-line) of pair `i`, comments above it excluded."""
    key = mapping.value[i][0].start_mark.index
    end = after(text, mapping.value[i][1])
    if _starts_line(text, key):
        return line_start(text, key), end, False
    return key, end, True


def insert_pair(
    text: str, mapping: MappingNode, before: int | None, key: str, value: Any, style: SeqStyle
) -> Edit:
    """Insert `key: value` before pair `before` (None: after the last pair)."""
    indent = _key_column(mapping)
    rendered = emit.pair(key, value, indent, style)
    if before is not None:
        at = _pair_start(text, mapping, before)
        if at is not None:
            return Edit(at, at, rendered, checked=False)
    at = _past_trailing_comments(text, after(text, mapping.value[-1][1]), indent)
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
    rendered = emit.pair(key, value, _key_column(mapping), style)
    if mid_line:
        rendered = rendered.lstrip(" ")
    return Edit(start, end, rendered)


def _entry_start(text: str, sequence: SequenceNode, j: int) -> int:
    dash = dash_index(text, sequence.value[j])
    floor = after(text, sequence.value[j - 1]) if j else 0
    return _climb_comments(text, line_start(text, dash), floor)


def insert_entry(
    text: str, sequence: SequenceNode, before: int | None, value: Any, style: SeqStyle
) -> Edit:
    """Insert `- value` before entry `before` (None: after the last entry)."""
    dash_column = column(text, dash_index(text, sequence.value[0]))
    rendered = emit.entry(value, dash_column, style)
    if before is not None:
        at = _entry_start(text, sequence, before)
    else:
        at = _past_trailing_comments(text, after(text, sequence.value[-1]), dash_column)
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


def comment_of(line: str) -> str | None:
    """The `# comment` that ends a YAML line, if any (a `#` inside quotes is not one)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and (i == 0 or line[i - 1] in " :[{,-"):
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i:].rstrip()
    return None


def replace_entry(text: str, sequence: SequenceNode, j: int, value: Any, style: SeqStyle) -> Edit:
    dash = dash_index(text, sequence.value[j])
    start, end = entry_span(text, sequence, j)
    return Edit(start, end, emit.entry(value, column(text, dash), style))


# --- diff --------------------------------------------------------------------


def same(old: Any, new: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True, but not here)."""
    return old == new and _same_types(old, new)


def _same_types(old: Any, new: Any) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return all(_same_types(old[k], new[k]) for k in old)
    if isinstance(old, list):
        return all(_same_types(a, b) for a, b in zip(old, new, strict=True))
    return True


def diff(text: str, node: Node, old: Any, new: Any, style: SeqStyle) -> list[Edit] | None:
    """Edits that turn `node` (read as `old`) into `new`.

    None means the node cannot be edited in place and the pair or entry that
    holds it must be rewritten whole.
    """
    return [] if same(old, new) else _diff_different(text, node, old, new, style)


def _diff_different(
    text: str, node: Node, old: Any, new: Any, style: SeqStyle
) -> list[Edit] | None:
    """`diff` for values already known to differ (callers below checked)."""
    if isinstance(node, ScalarNode):
        if node.style in ("|", ">") or emit.is_block(new):
            return None
        return [Edit(node.start_mark.index, node.end_mark.index, emit.scalar(new))]
    if node.flow_style:
        if emit.is_block(new) and not node.value:
            return None  # an empty `[]` or `{}` that gains content becomes block style
        return [Edit(node.start_mark.index, node.end_mark.index, emit.flow(new))]
    if isinstance(node, MappingNode) and isinstance(old, dict) and isinstance(new, dict):
        return _diff_mapping(text, node, old, new, style)
    if isinstance(node, SequenceNode) and isinstance(old, list) and isinstance(new, list):
        return _diff_sequence(text, node, old, new, style)
    return None


def _diff_mapping(
    text: str, node: MappingNode, old: dict, new: dict, style: SeqStyle
) -> list[Edit]:
    position: dict[Any, int] = {}
    for i, (key_node, _) in enumerate(node.value):
        if not isinstance(key_node, ScalarNode) or key_node.value == "<<":
            raise Unpatchable("complex or merge keys")
        position[key_node.value] = i
    if len(position) != len(node.value) or set(position) != {str(k) for k in old}:
        raise Unpatchable("duplicate or non-string keys")
    if not all(isinstance(k, str) for k in new):
        raise Unpatchable("non-string keys")
    if not new:
        raise Unpatchable("mapping becomes empty")
    edits: list[Edit] = []
    for key, i in position.items():
        if key not in new:
            edits.append(delete_pair(text, node, i))
        elif not same(old[key], new[key]):
            inner = _diff_different(text, node.value[i][1], old[key], new[key], style)
            edits.extend(
                inner if inner is not None else [replace_pair(text, node, i, new[key], style)]
            )
    keys = list(new)
    for n, key in enumerate(keys):
        if key in position:
            continue
        before = next((position[k] for k in keys[n + 1 :] if k in position), None)
        edits.append(insert_pair(text, node, before, key, new[key], style))
    return edits


def _names(values: list) -> list[str] | None:
    names = [v.get("name") if isinstance(v, dict) else None for v in values]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return names  # type: ignore[return-value]
    return None


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of `pairs` (ordered by first) whose seconds also increase."""
    pairs = sorted(pairs)
    tails: list[int] = []  # tails[k]: index into pairs ending the best run of length k+1
    previous: list[int | None] = [None] * len(pairs)
    for i, (_, b) in enumerate(pairs):
        k = bisect.bisect_left([pairs[t][1] for t in tails], b)
        previous[i] = tails[k - 1] if k else None
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    run: list[tuple[int, int]] = []
    at = tails[-1] if tails else None
    while at is not None:
        run.append(pairs[at])
        at = previous[at]
    return run[::-1]


def _identity(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _diff_sequence(
    text: str, node: SequenceNode, old: list, new: list, style: SeqStyle
) -> list[Edit]:
    if len(node.value) != len(old):
        raise Unpatchable("sequence does not match its value")
    if not new:
        raise Unpatchable("sequence becomes empty")
    old_names, new_names = _names(old), _names(new)
    if old_names is not None and new_names is not None:
        matched = [(i, new_names.index(n)) for i, n in enumerate(old_names) if n in new_names]
    else:
        import difflib  # only lists of unnamed entries need it

        matcher = difflib.SequenceMatcher(
            None, [_identity(v) for v in old], [_identity(v) for v in new], autojunk=False
        )
        matched = [
            (block.a + k, block.b + k)
            for block in matcher.get_matching_blocks()
            for k in range(block.size)
        ]
    # Entries that moved are deleted and inserted again; the rest stay in place.
    matched = _increasing(matched)
    edits: list[Edit] = []
    old_to_new = dict(matched)
    for i, value in enumerate(old):
        if i not in old_to_new:
            edits.append(delete_entry(text, node, i))
            continue
        wanted = new[old_to_new[i]]
        if not same(value, wanted):
            inner = _diff_different(text, node.value[i], value, wanted, style)
            edits.extend(
                inner if inner is not None else [replace_entry(text, node, i, wanted, style)]
            )
    new_to_old = {b: a for a, b in matched}
    for b, value in enumerate(new):
        if b in new_to_old:
            continue
        before = next((new_to_old[k] for k in range(b + 1, len(new)) if k in new_to_old), None)
        edits.append(insert_entry(text, node, before, value, style))
    return edits


def edit_in_place(
    text: str,
    node: Node,
    old: Any,
    new: Any,
    style: SeqStyle,
    region: tuple[int, int],
    is_entry: bool,
) -> list[Edit] | None:
    """`diff`, checked: the edited `region` must read back as `new`.

    Only whole lines of block text inserted between lines go unchecked: reading
    every changed resource back would double the function's run time, and those
    insertions are where it would find nothing. None when the change cannot be
    made in place; the caller then rewrites the whole resource.
    """
    start, end = region
    if "*" in text[start:end] and _has_alias(node):
        return None  # an edit at an alias would land at its anchor, elsewhere
    try:
        edits = diff(text, node, old, new, style)
        if edits is None:
            return None
        if not READ_BACK_ALL and not any(e.checked for e in edits):
            return edits
        read_back = yamlnodes.load(apply(text[start:end], edits, offset=start))
    except (Unpatchable, yaml.YAMLError):
        return None
    if is_entry:
        if not (isinstance(read_back, list) and len(read_back) == 1):
            return None
        read_back = read_back[0]
    return edits if same(read_back, new) else None


def _has_alias(node: Node) -> bool:
    """True when some node is reached twice below `node` (YAML anchors and aliases)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            return True
        seen.add(id(current))
        if isinstance(current, MappingNode):
            stack.extend(v for pair in current.value for v in pair)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return False


# --- style -------------------------------------------------------------------


def sequence_style(text: str, node: Node, default: SeqStyle) -> SeqStyle:
    """The indentation style of the first block sequence under a mapping key in `node`."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode) and not current.flow_style:
            for key_node, value in current.value:
                if isinstance(value, SequenceNode) and _is_block(value):
                    try:
                        dash = dash_index(text, value.value[0])
                    except Unpatchable:
                        continue
                    gap = column(text, dash) - key_node.start_mark.column
                    return "wide" if gap > 0 else "compact"
                stack.append(value)
        elif isinstance(current, SequenceNode) and not current.flow_style:
            stack.extend(current.value)
    return default
