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
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function.plaindata import same
from function.yamltext import nodes, writer
from function.yamltext.edits import (
    Edit,
    apply,
    delete_entry,
    delete_pair,
    insert_entry,
    insert_pair,
    replace_entry,
    replace_pair,
)
from function.yamltext.positions import (
    Unpatchable,
    column,
    comments_within,
    dash_index,
    is_block,
    is_empty,
    is_explicit_key,
)
from function.yamltext.writer import SeqStyle


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
        if node.style in ("|", ">") or writer.is_block(new):
            return None
        # An empty value (`key:`) has no text of its own: the new one needs its space.
        lead = " " if is_empty(node) else ""
        return [Edit(node.start_mark.index, node.end_mark.index, lead + writer.scalar(new))]
    assert isinstance(node, (MappingNode, SequenceNode))
    if node.flow_style:
        if writer.is_block(new) and not node.value:
            return None  # an empty `[]` or `{}` that gains content becomes block style
        if _multi_line(new):
            return None  # a script reads better as a literal block than as one long line
        start, end = node.start_mark.index, node.end_mark.index
        if comments_within(text, start, end, [node]):
            return None  # rewritten whole in place, its comments would be lost
        return [Edit(start, end, writer.flow(new))]
    if isinstance(node, MappingNode) and isinstance(old, dict) and isinstance(new, dict):
        return _diff_mapping(text, node, old, new, style)
    if isinstance(node, SequenceNode) and isinstance(old, list) and isinstance(new, list):
        return _diff_sequence(text, node, old, new, style)
    return None


def _multi_line(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" in value.rstrip("\n")
    if isinstance(value, dict):
        return any(_multi_line(v) for v in value.values())
    if isinstance(value, list):
        return any(_multi_line(v) for v in value)
    return False


def _diff_mapping(
    text: str, node: MappingNode, old: dict, new: dict, style: SeqStyle
) -> list[Edit]:
    position: dict[Any, int] = {}
    for i, (key_node, _) in enumerate(node.value):
        if not isinstance(key_node, ScalarNode) or key_node.value == "<<":
            raise Unpatchable("complex or merge keys")
        if "?" in text and is_explicit_key(text, key_node):
            raise Unpatchable("explicit keys (`? key`)")
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
            edits.extend(delete_pair(text, node, i))
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
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # keys of more than one type (`~: a` beside `b: c`) do not sort
        return repr(_sortable(value))


def _sortable(value: Any) -> Any:
    if isinstance(value, dict):
        pairs = [(repr(k), _sortable(v)) for k, v in value.items()]
        return sorted(pairs, key=lambda pair: pair[0])
    if isinstance(value, list):
        return [_sortable(v) for v in value]
    return value


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
        matched = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                matched += [(i1 + k, j1 + k) for k in range(i2 - i1)]
            elif tag == "replace":
                # Entries changed where they stand (an unnamed step given env, say) are
                # edited in place, not written anew, so their own text stays as it is.
                matched += [
                    (i1 + k, j1 + k)
                    for k in range(min(i2 - i1, j2 - j1))
                    if isinstance(old[i1 + k], dict) and isinstance(new[j1 + k], dict)
                ]
    # Entries that moved are deleted and inserted again; the rest stay in place.
    matched = _increasing(matched)
    edits: list[Edit] = []
    old_to_new = dict(matched)
    for i, value in enumerate(old):
        if i not in old_to_new:
            edits.extend(delete_entry(text, node, i))
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
    """`diff`, proven: the edited text, read back, must be `new`.

    `region` holds the node's text (with its dash when `is_entry`). The text read
    back runs from the start of the region or of the first edit, whichever comes
    first, to the end of the region or of the last edit. None when the change
    cannot be made in place, or did not read back as `new`; the caller then
    rewrites the whole resource.
    """
    start, end = region
    if "*" in text[start:end] and _has_alias(node):
        return None  # an edit at an alias would land at its anchor, elsewhere
    try:
        edits = diff(text, node, old, new, style)
        if edits is None:
            return None
        if not edits:
            return edits
        start = min(start, min(e.start for e in edits))
        end = max(end, max(e.end for e in edits))
        return (
            edits
            if reads_back(apply(text[start:end], edits, offset=start), new, is_entry)
            else None
        )
    except (Unpatchable, yaml.YAMLError):
        return None


def reads_back(text: str, value: Any, is_entry: bool) -> bool:
    """True when `text` is YAML for `value` (for `[value]` when `is_entry`)."""
    try:
        node = nodes.compose(text)
    except yaml.YAMLError:
        return False
    if is_entry:
        if not (isinstance(node, SequenceNode) and len(node.value) == 1):
            return False
        node = node.value[0]
    return node is not None and nodes.matches(node, value)


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
                if isinstance(value, SequenceNode) and is_block(value):
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
