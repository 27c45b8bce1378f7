"""Reading and writing the ResourceList (the KRM function wire format).

YAML input in the plain layout that kpt and kustomize write is cut into items
by its lines (`splitlist`), and only the items whose kind the transformation
asks for are parsed, each on its own. Any other YAML is composed whole by
libyaml. Either way the nodes remember where they sit in the text, and the
output is the input text with the changes spliced in, so every byte the
function does not change comes out as it came in.

JSON input (and YAML whose top level is in flow style) is read whole and
written whole, in the same format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function import emit, splitlist, textpatch, yamlnodes
from function.emit import SeqStyle
from function.results import Result, about, by_severity
from function.textpatch import Edit

API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
KIND = "ResourceList"


class InputError(Exception):
    """The input is not a ResourceList the function can read."""


class Part(NamedTuple):
    """A piece of the input composed on its own."""

    text: str  # what the node's marks index into
    node: Node
    offset: int  # where `text` starts in the input


class Misread(Exception):
    """A piece cut from the text by its lines did not parse as one resource."""


class ResourceList:
    # A plain class, not a dataclass: importing dataclasses costs a run more than
    # reading a small list does.
    __slots__ = (
        "_parts",
        "_values",
        "data",
        "format",
        "function_config",
        "items_node",
        "kinds",
        "layout",
        "root",
        "text",
    )

    def __init__(
        self,
        text: str,
        format: str,  # "yaml" (edited in place), "json" or "data" (rewritten whole)
        function_config: Any,
        kinds: list[str],  # kind of each item, "" when it has none
        root: MappingNode | None = None,  # the whole list, when composed whole
        items_node: Node | None = None,
        layout: splitlist.Layout | None = None,  # the items' lines, when cut apart
        data: dict[str, Any] | None = None,  # the whole list, for "json" and "data"
    ) -> None:
        self.text = text
        self.format = format
        self.function_config = function_config
        self.kinds = kinds
        self.root = root
        self.items_node = items_node
        self.layout = layout
        self.data = data
        self._values: dict[int, Any] = {}
        self._parts: dict[int, Part] = {}

    def source(self, index: int) -> tuple[Part, int]:
        """Item `index` as a node: the part it was composed in, and its entry there."""
        if self.layout is None:
            assert self.items_node is not None
            return Part(self.text, self.items_node, 0), index
        if index not in self._parts:
            start, end = self.layout.spans[index]
            snippet = self.text[start:end]
            node = yamlnodes.compose(snippet)
            one = isinstance(node, SequenceNode) and len(node.value) == 1
            if not (one and isinstance(node.value[0], MappingNode)):
                raise Misread
            self._parts[index] = Part(snippet, node, start)
        return self._parts[index], 0

    def item(self, index: int) -> dict[str, Any]:
        """Item `index` as plain data (read once, then cached)."""
        if index not in self._values:
            if self.data is not None:
                self._values[index] = self.data["items"][index]
            else:
                part, entry = self.source(index)
                self._values[index] = _construct(part.node.value[entry])
        return self._values[index]

    def items_of_kinds(self, kinds: frozenset[str] | None) -> Iterator[tuple[int, dict[str, Any]]]:
        wanted = [i for i, kind in enumerate(self.kinds) if kinds is None or kind in kinds]
        if self.layout is not None:
            try:
                for index in wanted:
                    self.item(index)
            except (Misread, yaml.YAMLError):
                self._read_whole()
                wanted = [i for i, kind in enumerate(self.kinds) if kinds is None or kind in kinds]
        for index in wanted:
            yield index, self.item(index)

    def _read_whole(self) -> None:
        """Give up the cut by lines and compose the whole text."""
        whole = _read_composed(self.text)
        self.kinds, self.root, self.items_node = whole.kinds, whole.root, whole.items_node
        self.layout = None
        self._values.clear()
        self._parts.clear()


_construct = yamlnodes.construct


def _describe(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{problem}{where}"


def read(text: str) -> ResourceList:
    """Parse a ResourceList; raise InputError naming what is wrong."""
    if not text.strip():
        raise InputError("the input is empty; expected a ResourceList")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            return _from_data(text, data, "json")
    layout = splitlist.scan(text)
    if layout is not None:
        try:
            return _read_cut(text, layout)
        except (Misread, yaml.YAMLError):
            pass
    return _read_composed(text)


def _read_cut(text: str, layout: splitlist.Layout) -> ResourceList:
    """The list from its lines: only the small top-level parts are parsed now."""

    def value(key: str) -> Any:
        if key not in layout.regions:
            return None
        start, end = layout.regions[key]
        node = yamlnodes.compose(text[start:end])
        if not (isinstance(node, MappingNode) and len(node.value) == 1):
            raise Misread
        return _construct(node.value[0][1])

    _check_header(value("kind"), value("apiVersion"))
    return ResourceList(text, "yaml", value("functionConfig"), list(layout.kinds), layout=layout)


def _read_composed(text: str) -> ResourceList:
    """The list composed whole: any YAML layout."""
    try:
        root = yamlnodes.compose(text)
    except yaml.YAMLError as error:
        raise InputError(f"the input is not valid YAML: {_describe(error)}") from None
    if not isinstance(root, MappingNode):
        raise InputError("the input is not a ResourceList: expected a mapping at the top level")
    if root.flow_style:
        return _from_data(text, _construct(root), "data")
    top = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
    _check_header(
        _construct(top["kind"]) if "kind" in top else None,
        _construct(top["apiVersion"]) if "apiVersion" in top else None,
    )
    items_node = top.get("items")
    kinds: list[str] = []
    if isinstance(items_node, SequenceNode):
        for i, node in enumerate(items_node.value):
            if not isinstance(node, MappingNode):
                raise InputError(f"items[{i}] is not a mapping (a Kubernetes resource)")
            kinds.append(_peek_kind(node))
    elif items_node is not None and not _is_null(items_node):
        raise InputError("items must be a list of resources")
    config_node = top.get("functionConfig")
    function_config = _construct(config_node) if config_node is not None else None
    return ResourceList(text, "yaml", function_config, kinds, root, items_node)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _peek_kind(node: MappingNode) -> str:
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "kind" and isinstance(value, ScalarNode):
            return value.value
    return ""


def _check_header(kind: Any, api_version: Any) -> None:
    if kind != KIND:
        raise InputError(f"the input is not a ResourceList: its kind is {kind!r}")
    if api_version not in API_VERSIONS:
        raise InputError(
            f"unsupported ResourceList apiVersion {api_version!r}; expected one of "
            + ", ".join(API_VERSIONS)
        )


def _from_data(text: str, data: Any, fmt: str) -> ResourceList:
    if not isinstance(data, dict):
        raise InputError("the input is not a ResourceList: expected a mapping at the top level")
    _check_header(data.get("kind"), data.get("apiVersion"))
    items = data.get("items")
    if items is None:
        items = data["items"] = []
    if not isinstance(items, list):
        raise InputError("items must be a list of resources")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"items[{i}] is not a mapping (a Kubernetes resource)")
    kinds = [str(item.get("kind", "")) for item in items]
    return ResourceList(text, fmt, data.get("functionConfig"), kinds, data=data)


# --- writing -----------------------------------------------------------------


# The edits of one changed item, and the warning when it had to be rewritten whole.
ItemEdits = tuple[list[Edit], Result | None]


def write(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
    premade: dict[int, ItemEdits] | None = None,
) -> tuple[str, list[Result]]:
    """The output text, and any results that writing itself produced.

    `premade` holds the `item_edits` of changed items already worked out elsewhere.
    """
    if rl.data is not None:
        return _write_data(rl, changed, added, results), []
    return _write_yaml(rl, changed, added, results, premade or {})


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
        items[index] = value
    items.extend(added)
    new = _new_results(data.get("results"), results)
    if new:
        data["results"] = (data.get("results") or []) + new
    if rl.format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return emit.document(data)


def _write_yaml(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
    premade: dict[int, ItemEdits],
) -> tuple[str, list[Result]]:
    extra: list[Result] = []
    edits: list[Edit] = []
    style = items_style(rl)
    for index in sorted(changed.keys() | premade.keys()):
        made = premade.get(index)
        item, problem = made if made else item_edits(rl, index, changed[index], style)
        edits += item
        if problem:
            extra.append(problem)
    if rl.layout is not None:
        edits += _cut_appends(rl, added, results + extra, style)
        return textpatch.apply(rl.text, edits), extra
    text, root = rl.text, rl.root
    assert root is not None
    top = {k.value: (i, v) for i, (k, v) in enumerate(root.value) if isinstance(k, ScalarNode)}
    if added:
        edits += _append(text, root, top.get("items"), "items", added, style)
    existing_results = _construct(top["results"][1]) if "results" in top else None
    new_results = _new_results(existing_results, results + extra)
    if new_results:
        edits += _append(text, root, top.get("results"), "results", new_results, style)
    return textpatch.apply(text, edits), extra


def _shift(edits: list[Edit], offset: int) -> list[Edit]:
    return [Edit(e.start + offset, e.end + offset, e.text) for e in edits]


def _cut_appends(
    rl: ResourceList, added: list[dict[str, Any]], results: list[Result], style: SeqStyle
) -> list[Edit]:
    """New items after the last one, and our results, for a list cut by its lines."""
    layout = rl.layout
    assert layout is not None
    edits: list[Edit] = []
    if added:
        part, _ = rl.source(len(layout.spans) - 1)
        edits += _shift(
            [textpatch.insert_entry(part.text, part.node, None, v, style) for v in added],
            part.offset,
        )
    if "results" in layout.regions:
        start, end = layout.regions["results"]
        node = yamlnodes.compose(rl.text[start:end])
        assert isinstance(node, MappingNode)
        new = _new_results(_construct(node.value[0][1]), results)
        if new:
            found = (0, node.value[0][1])
            edits += _shift(_append(rl.text[start:end], node, found, "results", new, style), start)
        return edits
    new = _new_results(None, results)
    if new:
        at = _before_closing_comments(rl.text)
        lead = "" if at == 0 or rl.text[at - 1] == "\n" else "\n"
        edits.append(Edit(at, at, lead + emit.pair("results", new, 0, style)))
    return edits


def _before_closing_comments(text: str) -> int:
    """The end of the text, less the blank and column-0 comment lines that close it."""
    end = len(text)
    while end > 0:
        begin = textpatch.line_start(text, end - 1 if text.endswith("\n", 0, end) else end)
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
        dash = textpatch.dash_index(rl.text, node.value[0])
        return "wide" if textpatch.column(rl.text, dash) > key.start_mark.column else "compact"
    return "compact"


def item_edits(
    rl: ResourceList, index: int, new: dict[str, Any], default_style: SeqStyle
) -> ItemEdits:
    """Edits for one changed item; a whole rewrite (and a warning) when in place fails."""
    part, entry = rl.source(index)
    text, sequence = part.text, part.node
    assert isinstance(sequence, SequenceNode)
    node = sequence.value[entry]
    style = textpatch.sequence_style(text, node, default_style)
    region = textpatch.entry_span(text, sequence, entry)
    edits = textpatch.edit_in_place(text, node, rl.item(index), new, style, region, True)
    if edits is not None:
        return _shift(edits, part.offset), None
    rewrite = textpatch.replace_entry(text, sequence, entry, new, style)
    return _shift([rewrite], part.offset), rewritten(new)


def rewritten(resource: dict[str, Any]) -> Result:
    return about(
        resource,
        "this resource could not be edited in place, so it was rewritten whole; "
        "comments inside it were lost",
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
        return [textpatch.insert_pair(text, root, None, key, values, style)]
    position, node = found
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return [textpatch.insert_entry(text, node, None, v, style) for v in values]
    old = _construct(node)
    combined = (old if isinstance(old, list) else []) + values
    return [textpatch.replace_pair(text, root, position, combined, style)]
