"""Reading and writing the ResourceList (the KRM function wire format).

YAML input is composed once by libyaml into nodes that remember where they sit
in the text. Only the items whose kind the transformation asks for are turned
into Python data; the output is the input text with the changes spliced in, so
every byte the function does not change comes out as it came in.

JSON input (and YAML whose top level is in flow style) is read whole and
written whole, in the same format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function import emit, textpatch, yamlnodes
from function.emit import SeqStyle
from function.results import Result, about
from function.textpatch import Edit

API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
KIND = "ResourceList"


class InputError(Exception):
    """The input is not a ResourceList the function can read."""


@dataclass
class ResourceList:
    text: str
    format: str  # "yaml" (edited in place), "json" or "data" (rewritten whole)
    function_config: Any
    kinds: list[str]  # kind of each item, "" when it has none
    root: MappingNode | None = None
    items_node: Node | None = None
    data: dict[str, Any] | None = None  # the whole list, for "json" and "data"
    _values: dict[int, Any] = field(default_factory=dict)

    def item(self, index: int) -> dict[str, Any]:
        """Item `index` as plain data (read once, then cached)."""
        if index not in self._values:
            if self.data is not None:
                self._values[index] = self.data["items"][index]
            else:
                assert isinstance(self.items_node, SequenceNode)
                self._values[index] = _construct(self.items_node.value[index])
        return self._values[index]

    def items_of_kinds(self, kinds: frozenset[str] | None) -> Iterator[tuple[int, dict[str, Any]]]:
        for index, kind in enumerate(self.kinds):
            if kinds is None or kind in kinds:
                yield index, self.item(index)


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


def write(
    rl: ResourceList,
    changed: dict[int, dict[str, Any]],
    added: list[dict[str, Any]],
    results: list[Result],
) -> tuple[str, list[Result]]:
    """The output text, and any results that writing itself produced."""
    if rl.data is not None:
        return _write_data(rl, changed, added, results), []
    return _write_yaml(rl, changed, added, results)


def _new_results(existing: Any, results: list[Result]) -> list[dict[str, Any]]:
    """Our results, less any that the list already holds (a rerun adds nothing)."""
    present = existing if isinstance(existing, list) else []
    out = []
    for result in results:
        entry = result.as_dict()
        if entry not in present and entry not in out:
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
) -> tuple[str, list[Result]]:
    text, root = rl.text, rl.root
    assert root is not None
    extra: list[Result] = []
    edits: list[Edit] = []
    default_style = _items_style(rl)
    items_node = rl.items_node
    for index in sorted(changed):
        assert isinstance(items_node, SequenceNode)
        item_edits, problem = _item_edits(rl, index, changed[index], default_style)
        edits += item_edits
        if problem:
            extra.append(problem)
    top = {k.value: (i, v) for i, (k, v) in enumerate(root.value) if isinstance(k, ScalarNode)}
    if added:
        edits += _append(text, root, top.get("items"), "items", added, default_style)
    existing_results = _construct(top["results"][1]) if "results" in top else None
    new_results = _new_results(existing_results, results + extra)
    if new_results:
        edits += _append(text, root, top.get("results"), "results", new_results, default_style)
    return textpatch.apply(text, edits), extra


def _items_style(rl: ResourceList) -> SeqStyle:
    node = rl.items_node
    assert rl.root is not None
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        key = next(k for k, v in rl.root.value if v is node)
        dash = textpatch.dash_index(rl.text, node.value[0])
        return "wide" if textpatch.column(rl.text, dash) > key.start_mark.column else "compact"
    return "compact"


def _item_edits(
    rl: ResourceList, index: int, new: dict[str, Any], default_style: SeqStyle
) -> tuple[list[Edit], Result | None]:
    """Edits for one changed item; a whole rewrite (and a warning) when in place fails."""
    text = rl.text
    items_node = rl.items_node
    assert isinstance(items_node, SequenceNode)
    node = items_node.value[index]
    style = textpatch.sequence_style(text, node, default_style)
    start, end = textpatch.entry_span(text, items_node, index)
    edits = textpatch.edit_in_place(text, node, rl.item(index), new, style, (start, end), True)
    if edits is not None:
        return edits, None
    return [textpatch.replace_entry(text, items_node, index, new, style)], rewritten(new)


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
