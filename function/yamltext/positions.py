"""Where things are in YAML text: lines, the end of a node's content, dashes, comments.

Positions are indices into the text that a YAML composer read, as its marks give
them. Lines end in "\n" (the reader turns other line breaks into it first).
"""

from __future__ import annotations

import bisect

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class Unpatchable(Exception):
    """The wanted change cannot be made as a local text edit."""


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def next_line(text: str, index: int) -> int:
    found = text.find("\n", index)
    return len(text) if found < 0 else found + 1


def is_block(node: Node) -> bool:
    return isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value


def is_empty(node: Node) -> bool:
    """A plain scalar with no text: the null of `key:` or of a lone `-`."""
    return isinstance(node, ScalarNode) and node.value == "" and not node.style


def content_end(text: str, node: Node) -> int:
    """Index just past the last character of the node's own content.

    For a block collection that is the end of its last entry's content: the last
    value, or its key when the value is empty (`key:`, `? key`). A block scalar's
    end includes the blank lines it keeps (`|+`).
    """
    while is_block(node):
        if isinstance(node, MappingNode):
            key, child = node.value[-1]
            floor = key.end_mark.index
            if is_empty(child):
                # `? key` and its `:` on the next line, or a null with an anchor or tag
                # (`: &a`): the pair ends after them, not after the key.
                end = max(content_end(text, key), _indicator_end(text, key.end_mark.index))
                return max(end, _decoration_end(text, child))
        else:
            child = node.value[-1]
            floor = node.value[-2].end_mark.index if len(node.value) > 1 else node.start_mark.index
            if is_empty(child):
                return max(dash_index(text, child) + 1, _decoration_end(text, child))
        if child.start_mark.index < floor:
            # An alias: its node stands earlier in the text. The collection ends
            # at its own end mark, less the blank and comment lines before it.
            return _last_content(text, node.end_mark.index)
        node = child
    return node.end_mark.index


def _indicator_end(text: str, index: int) -> int:
    """Just past the `:` of a mapping value that follows `index` (after blanks and
    comments), or `index` when none does."""
    at = index
    while at < len(text):
        char = text[at]
        if char == "#":
            at = next_line(text, at)
        elif char in " \t\n":
            at += 1
        else:
            return at + 1 if char == ":" else index
    return index


def _decoration_end(text: str, empty: Node) -> int:
    """The end of an empty value's anchor or tag (`&a`, `!!null`), or 0 when it has none."""
    start, end = empty.start_mark.index, empty.end_mark.index
    return end if text[start:end].strip() else 0


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
    end = content_end(text, node)
    if end == 0 or text[end - 1] == "\n":
        return end
    return next_line(text, end)


def past_trailing_comments(text: str, start: int, indent: int) -> int:
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


def climb_comments(text: str, start: int, floor: int, indent: int) -> int:
    """Move `start` (a line start) up over the comment lines directly above it that
    are indented no deeper than `indent`: a deeper comment belongs to the entry above.
    """
    while start > floor:
        previous = line_start(text, start - 1)
        line = text[previous : start - 1]
        stripped = line.lstrip(" ")
        if previous < floor or not stripped.startswith("#") or len(line) - len(stripped) > indent:
            break
        start = previous
    return start


def starts_line(text: str, index: int) -> bool:
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
        if starts_line(text, dash) and following in (" ", "\t", "\n", "\r", ""):
            return dash
        position = dash


def column(text: str, index: int) -> int:
    return index - line_start(text, index)


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


def is_explicit_key(text: str, key: Node) -> bool:
    """A key written after `? `, on its own line or not."""
    before = text[line_start(text, key.start_mark.index) : key.start_mark.index].rstrip()
    return before.endswith("?")


def comments_within(text: str, start: int, end: int, inside: list[Node]) -> list[str]:
    """The comments in text[start:end], which holds the nodes `inside`: a `#` in one
    of their scalars (a block scalar's script, a quoted string) is not a comment."""
    if "#" not in text[start:end]:
        return []
    spans = sorted(
        (n.start_mark.index, n.end_mark.index) for root in inside for n in _scalars(root)
    )
    found = []
    position = text.find("#", start, end)
    while position >= 0:
        k = bisect.bisect_right(spans, (position, len(text))) - 1
        in_scalar = k >= 0 and spans[k][0] <= position < spans[k][1]
        if not in_scalar and (position == 0 or text[position - 1] in " \t\n"):
            line_end = text.find("\n", position, end)
            found.append(text[position : end if line_end < 0 else line_end].rstrip())
            position = end if line_end < 0 else line_end
        position = text.find("#", position + 1, end)
    return found


def _scalars(root: Node) -> list[ScalarNode]:
    out: list[ScalarNode] = []
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            out.append(node)
        elif isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return out
