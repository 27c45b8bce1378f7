"""Writing the output: the input text with each changed item edited in place.

Changed items are edited where they stand (`yamltext.diff`); an item that cannot
be edited in place is rewritten whole, with a warning. New resources go after
the last item; results after any the list already holds. A stream of manifests
gets its new resources as further documents and no results (they go to stderr).
JSON input, and YAML whose top level is in flow style, is written whole.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function.krm import jsontext
from function.krm.resourcelist import Located, ResourceList
from function.krm.results import PATH_ANNOTATIONS, Result, about, by_severity
from function.yamltext import diff, edits, nodes, positions, writer
from function.yamltext.edits import Edit
from function.yamltext.writer import SeqStyle


def write(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
    *,
    rewrite: bool = True,
) -> tuple[list[Edit], list[Result]]:
    """The edits that make the output of the input text, and any results that writing
    itself produced. `rewrite`: whether an item may be rewritten whole from its value."""
    if rl.data is not None:
        return [Edit(0, len(rl.text), _write_data(rl, changed, added, results))], []
    if rl.format == "stream":
        return _write_stream(rl, changed, added, rewrite)
    return _write_yaml(rl, changed, added, results, rewrite)


def _new_results(existing: Any, results: list[Result]) -> list[dict[str, Any]]:
    """Our results, less any that the list already holds (a rerun adds nothing)."""
    seen = {repr(e) for e in existing} if isinstance(existing, list) else set()
    out = []
    for result in by_severity(results):
        entry = result.as_dict()
        if repr(entry) not in seen:
            seen.add(repr(entry))
            out.append(entry)
    return out


def _write_data(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
) -> str:
    assert rl.data is not None
    data = rl.data
    items = data["items"]
    for index, value in changed.items():
        if index in rl.parents:
            parent, position = rl.parents[index]
            rl.item(parent)["items"][position] = value
        else:
            items[index] = value
    items.extend(added)
    new = _new_results(data.get("results"), results)
    if new:
        data["results"] = (data.get("results") or []) + new
    if rl.format == "json":
        return jsontext.dumps(data)
    return writer.document(data)


def _changed_items(
    rl: ResourceList, changed: dict[int, dict[str, Any]], style: SeqStyle, rewrite: bool
) -> tuple[list[Edit], list[Result]]:
    """The edits of every changed item, and a result for each one not edited in place."""
    found: list[Edit] = []
    problems: list[Result] = []
    for index in sorted(changed):
        where, old = rl.locate(index), rl.item(index)
        item, problem = item_edits(where, old, changed[index], style, rewrite)
        found += item
        if problem:
            problems.append(problem)
    return found, problems


def _write_stream(
    rl: ResourceList, changed: dict[int, dict[str, Any]], added: list[dict[str, Any]], rewrite: bool
) -> tuple[list[Edit], list[Result]]:
    found, problems = _changed_items(rl, changed, "compact", rewrite)
    if added:
        # New documents go after the last one, separated as the files were joined.
        edited = edits.apply(rl.text, found)
        tail = join_documents([edited, *map(_document_of, added)])[len(edited) :]
        found.append(Edit(len(rl.text), len(rl.text), tail))
    return found, problems


def _document_of(resource: dict[str, Any]) -> str:
    return writer.document(_without_paths(resource))


def join_documents(pieces: list[str]) -> str:
    """Texts of YAML documents as one multi-document stream."""
    out = ""
    for piece in pieces:
        if out:
            if not out.endswith("\n"):
                out += "\n"
            if not piece.lstrip().startswith("---"):
                out += "---\n"
        out += piece
    return out


def _without_paths(resource: dict[str, Any]) -> dict[str, Any]:
    """A generated resource without the file annotations only kpt uses."""
    annotations = resource["metadata"].get("annotations") or {}
    kept = {k: v for k, v in annotations.items() if k not in PATH_ANNOTATIONS}
    metadata = {k: v for k, v in resource["metadata"].items() if k != "annotations"}
    if kept:
        metadata["annotations"] = kept
    return {**resource, "metadata": metadata}


def _write_yaml(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
    rewrite: bool,
) -> tuple[list[Edit], list[Result]]:
    style = items_style(rl)
    found, extra = _changed_items(rl, changed, style, rewrite)
    if rl.layout is not None:
        found += _cut_appends(rl, added, results + extra, style)
        return found, extra
    text, root = rl.text, rl.root
    assert root is not None
    top = {k.value: (i, v) for i, (k, v) in enumerate(root.value) if isinstance(k, ScalarNode)}
    items = top.get("items")
    if added and items is not None and isinstance(items[1], SequenceNode) and items[1].flow_style:
        found, note = _flow_items(rl, items[1], added, found)
        extra += [note] if note else []
    elif added:
        found += _append(text, root, items, "items", added, style)
    existing_results = nodes.construct(top["results"][1]) if "results" in top else None
    new_results = _new_results(existing_results, results + extra)
    if new_results:
        found += _append(text, root, top.get("results"), "results", new_results, style)
    return found, extra


def _flow_items(
    rl: ResourceList,
    node: SequenceNode,
    added: list[dict[str, Any]],
    found: list[Edit],
) -> tuple[list[Edit], Result | None]:
    """`items: [...]` in flow style that gains resources: they go in after its last
    entry, in flow style too; what is there keeps its text (and its own edits)."""
    rendered = writer.flow(added)
    if not diff.reads_back(rendered, added, False):
        problem = "the new resources could not be added to this flow-style `items`; left out"
        return found, Result(f"{problem}. This is a bug: please report it", "error")
    if node.value:
        # After the last entry: a trailing comma or a comment that follows it stays after.
        at, text = node.value[-1].end_mark.index, ", " + rendered[1:-1]
    else:
        at, text = node.end_mark.index - 1, rendered[1:-1]  # before the `]` of `[]`
    return [*found, Edit(at, at, text)], None


def _shift(found: list[Edit], offset: int) -> list[Edit]:
    return [Edit(e.start + offset, e.end + offset, e.text) for e in found]


def _cut_appends(
    rl: ResourceList, added: list[dict[str, Any]], results: list[Result], style: SeqStyle
) -> list[Edit]:
    """New items after the last one, and our results, for a list cut by its lines."""
    layout = rl.layout
    assert layout is not None
    found: list[Edit] = []
    if added:
        last = rl.locate(len(layout.spans) - 1)
        assert last.sequence is not None
        found += _shift(
            [edits.insert_entry(last.text, last.sequence, None, v, style) for v in added],
            last.offset,
        )
    if "results" in layout.regions:
        start, end = layout.regions["results"]
        node = nodes.compose(rl.text[start:end])
        assert isinstance(node, MappingNode)
        new = _new_results(nodes.construct(node.value[0][1]), results)
        if new:
            there = (0, node.value[0][1])
            found += _shift(_append(rl.text[start:end], node, there, "results", new, style), start)
        return found
    new = _new_results(None, results)
    if new:
        # After the last item's content as the parser sees it (a `|+` block scalar
        # keeps the blank lines that follow it), before the comments that close the text.
        last = rl.locate(len(layout.spans) - 1)
        content = last.offset + positions.after(last.text, last.node)
        at = max(_before_closing_comments(rl.text), content)
        lead = "" if at == 0 or rl.text[at - 1] == "\n" else "\n"
        found.append(Edit(at, at, lead + writer.pair("results", new, 0, style)))
    return found


def _before_closing_comments(text: str) -> int:
    """The end of the text, less the blank and column-0 comment lines that close it."""
    end = len(text)
    while end > 0:
        begin = positions.line_start(text, end - 1 if text.endswith("\n", 0, end) else end)
        line = text[begin:end].strip()
        if line and not text[begin:end].startswith("#"):
            break
        end = begin
    return end


def items_style(rl: ResourceList) -> SeqStyle:
    if rl.layout is not None:
        return "wide" if rl.layout.dash > 0 else "compact"
    node = rl.items_node
    assert rl.root is not None
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        key = next(k for k, v in rl.root.value if v is node)
        dash = positions.dash_index(rl.text, node.value[0])
        return "wide" if positions.column(rl.text, dash) > key.start_mark.column else "compact"
    return "compact"


# The edits of one changed item, and the result when it was not edited in place.
ItemEdits = tuple[list[Edit], Result | None]


def item_edits(
    where: Located,
    old: dict[str, Any],
    new: dict[str, Any],
    default_style: SeqStyle,
    rewrite: bool = True,
) -> ItemEdits:
    """Edits for one changed item, each proven by reading the text back.

    When the item cannot be edited in place it is rewritten whole (with a warning;
    its comments are kept above it), if `rewrite` allows; when even that does not
    read back as `new`, it is left as it was, with an error.
    """
    text, node = where.text, where.node
    # An entry of a flow sequence (`items: [{...}, {...}]`) is edited as the flow
    # mapping it is: it has no dash and no lines of its own.
    flow = where.sequence is not None and bool(where.sequence.flow_style)
    in_sequence = where.sequence is not None and not flow
    style = diff.sequence_style(text, node, default_style)
    start, end = (
        (node.start_mark.index, node.end_mark.index) if flow else _region(text, node, in_sequence)
    )
    found = diff.edit_in_place(text, node, old, new, style, (start, end), in_sequence)
    if found is not None:
        return _shift(found, where.offset), None
    if not rewrite:
        return [], about(
            new,
            "this resource could not be edited in place, and it holds Unicode line "
            "separators (U+2028, U+2029) that rewriting it would turn into line feeds; "
            "left unchanged",
            "error",
        )
    if flow:
        indent, rendered = 0, writer.flow(new)
    elif in_sequence:
        indent = positions.column(text, positions.dash_index(text, node))
        rendered = writer.entry(new, indent, style)
    else:
        indent, rendered = 0, writer.document(new, style)
    if not diff.reads_back(rendered, new, in_sequence):
        return [], about(
            new,
            "inject-docker could not write this resource so that it reads back as "
            "intended; left unchanged. This is a bug: please report it with this resource",
            "error",
        )
    kept = positions.comments_within(text, start, end, [node])
    if flow:
        if kept:  # a flow collection's comments have no place in one line
            return [], about(
                new,
                "this resource in a flow sequence could not be edited in place, and its "
                "comments would be lost rewriting it; left unchanged",
                "error",
            )
        return _shift([Edit(start, end, rendered)], where.offset), rewritten(new, kept)
    lines = "".join(f"{' ' * indent}{comment}\n" for comment in kept)
    return _shift([Edit(start, end, lines + rendered)], where.offset), rewritten(new, kept)


def _region(text: str, node: Node, in_sequence: bool) -> tuple[int, int]:
    """The item's lines: from its dash (or its first line) to the end of its content."""
    if in_sequence:
        return edits.entry_span(text, node)
    return positions.line_start(text, node.start_mark.index), positions.after(text, node)


def rewritten(resource: dict[str, Any], kept: list[str]) -> Result:
    moved = f"; its comments were moved above it: {', '.join(kept[:3])}" if kept else ""
    more = f" and {len(kept) - 3} more" if len(kept) > 3 else ""
    return about(
        resource,
        f"this resource could not be edited in place, so it was rewritten whole{moved}{more}",
        "warning",
    )


def _append(
    text: str,
    root: MappingNode,
    found: tuple[int, Node] | None,
    key: str,
    values: list[dict[str, Any]],
    style: SeqStyle,
) -> list[Edit]:
    """Edits that append `values` to the top-level list `key`, creating it if needed."""
    if found is None:
        return [edits.insert_pair(text, root, None, key, values, style)]
    position, node = found
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return [edits.insert_entry(text, node, None, v, style) for v in values]
    old = nodes.construct(node)
    combined = (old if isinstance(old, list) else []) + values
    return [edits.replace_pair(text, root, position, combined, style)]
