"""Reading the ResourceList (the KRM function wire format), or a stream of manifests.

YAML input in the plain layout that kpt and kustomize write is cut into items
by its lines (`cutter`), and only the items whose kind the transformation asks
for are parsed, each on its own. Any other YAML is composed whole by libyaml.
Either way the nodes remember where they sit in the text, and the writer splices
the changes into the input text, so every byte the function does not change
comes out as it came in.

JSON input (and YAML whose top level is in flow style) is read whole and
written whole, in the same format. A stream of manifests (standalone mode) is
read as a list whose items are its documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function.krm import jsontext
from function.yamltext import cutter, nodes

API_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
KIND = "ResourceList"


class InputError(Exception):
    """The input is not a ResourceList the function can read."""


class Located(NamedTuple):
    """Where an item's node was composed, for editing its text."""

    text: str  # what the node's marks index into
    node: Node  # the item itself
    offset: int  # where `text` starts in the input
    sequence: SequenceNode | None  # the sequence it is an entry of; None: a stream's document


FLOW_LIST = (
    "the list is one YAML flow mapping, which is written back whole in block style: "
    "comments in it are not kept"
)


class Misread(Exception):
    """A piece cut from the text by its lines did not parse as one resource."""


class ResourceList:
    # A plain class, not a dataclass: importing dataclasses costs a run more than
    # reading a small list does.
    __slots__ = (
        "_listed",
        "_located",
        "_values",
        "data",
        "entries",
        "format",
        "function_config",
        "items_node",
        "kinds",
        "layout",
        "notes",
        "parents",
        "root",
        "text",
    )

    def __init__(
        self,
        text: str,
        format: str,  # "yaml" or "stream" (edited in place), "json" or "data" (rewritten whole)
        function_config: Any,
        kinds: list[str],  # kind of each item, "" when it has none
        root: MappingNode | None = None,  # the whole list, when composed whole
        items_node: Node | None = None,  # its `items`
        layout: cutter.Layout | None = None,  # the items' lines, when cut apart
        data: dict[str, Any] | None = None,  # the whole list, for "json" and "data"
        entries: list[Node] | None = None,  # each item's node, when composed whole
    ) -> None:
        self.text = text
        self.format = format
        self.function_config = function_config
        self.kinds = kinds
        self.root = root
        self.items_node = items_node
        self.layout = layout
        self.data = data
        self.entries = entries
        # Items of `kind: List` items: their index (after the top-level items) ->
        # (the List's index, the position in its `items`).
        self.parents: dict[int, tuple[int, int]] = {}
        self.notes: list[str] = []  # warnings about the list as a whole
        self._listed: set[int] = set()  # the Lists whose items are registered
        self._values: dict[int, Any] = {}
        self._located: dict[int, Located] = {}

    def locate(self, index: int) -> Located:
        """Item `index` as a node, and the text it was composed from."""
        if index in self.parents:
            parent, position = self.parents[index]
            where = self.locate(parent)
            listed = _items_of(where.node)
            assert listed is not None
            return Located(where.text, listed.value[position], where.offset, listed)
        if self.layout is None:
            assert self.entries is not None
            sequence = self.items_node if isinstance(self.items_node, SequenceNode) else None
            return Located(self.text, self.entries[index], 0, sequence)
        if index not in self._located:
            start, end = self.layout.spans[index]
            snippet = self.text[start:end]
            node = nodes.compose(snippet)
            if not (
                isinstance(node, SequenceNode)
                and len(node.value) == 1
                and isinstance(node.value[0], MappingNode)
            ):
                raise Misread
            self._located[index] = Located(snippet, node.value[0], start, node)
        return self._located[index]

    def check_unread(self) -> None:
        """Refuse the input if an item never read is not YAML: it goes out as it came,
        and a pipeline given unreadable YAML with exit code 0 ships it."""
        if self.layout is None:
            return  # composed or loaded whole: already read
        for index, (start, end) in enumerate(self.layout.spans):
            if index in self._located:
                continue
            try:
                nodes.check_parses(self.text[start:end])
            except yaml.YAMLError as error:
                line = self.text.count("\n", 0, start)
                where = f"items[{index}]" + (f" ({self.kinds[index]})" if self.kinds[index] else "")
                raise InputError(
                    f"the input is not valid YAML: {where}: {_describe(error, line=line)}"
                ) from None

    def item(self, index: int) -> dict[str, Any]:
        """Item `index` as plain data (read once, then cached)."""
        if index not in self._values:
            if self.data is not None:
                if index in self.parents:
                    parent, position = self.parents[index]
                    self._values[index] = self.item(parent)["items"][position]
                else:
                    self._values[index] = self.data["items"][index]
            else:
                try:
                    self._values[index] = nodes.construct(self.locate(index).node)
                except nodes.NotData as error:
                    message = f"the input is not valid YAML: items[{index}]: {error}"
                    raise InputError(message) from None
        return self._values[index]

    def items_of_kinds(self, kinds: frozenset[str] | None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, value) of every item whose kind is in `kinds` (None: every item),
        the items of `kind: List` items included."""
        if self.layout is not None:
            try:
                self._find_listed()
                for index in self._wanted(kinds):
                    self.item(index)
            except (Misread, yaml.YAMLError):
                self._read_whole()
        self._find_listed()
        for index in self._wanted(kinds):
            yield index, self.item(index)

    def _wanted(self, kinds: frozenset[str] | None) -> list[int]:
        return [i for i, kind in enumerate(self.kinds) if kinds is None or kind in kinds]

    def _find_listed(self) -> None:
        """Register the items of every List item (and of Lists inside them)."""
        index = 0
        while index < len(self.kinds):  # grows as Lists are found
            if is_list_kind(self.kinds[index]) and index not in self._listed:
                self._listed.add(index)
                self._register(index)
            index += 1

    def _register(self, index: int) -> None:
        if self.data is not None:
            listed = self.item(index).get("items")
            kinds = [
                str(v.get("kind", "")) if isinstance(v, dict) else ""
                for v in (listed if isinstance(listed, list) else [])
            ]
        else:
            sequence = _items_of(self.locate(index).node)
            kinds = [kind_of(n) for n in sequence.value] if sequence is not None else []
        for position, kind in enumerate(kinds):
            self.parents[len(self.kinds)] = (index, position)
            self.kinds.append(kind)

    def _read_whole(self) -> None:
        """Give up the cut by lines and compose the whole text."""
        whole = _read_composed(self.text)
        self.kinds, self.root, self.items_node = whole.kinds, whole.root, whole.items_node
        self.entries = whole.entries
        self.layout = None
        self.parents.clear()
        self._listed.clear()
        self._values.clear()
        self._located.clear()


def is_list_kind(kind: str) -> bool:
    """`kind: List` (kubectl's output) and the API's typed lists such as PodList."""
    return kind.endswith("List") and kind != KIND


def _items_of(node: Node) -> SequenceNode | None:
    """The block or flow `items` sequence of a List's node, if it has one."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "items":
                return value if isinstance(value, SequenceNode) else None
    return None


# What YAML does not allow raw anywhere, comments included (YAML 1.1's printable set):
# the parts the function never parses go out as they came, so they are checked here.
_NOT_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


def _describe(error: yaml.YAMLError, text: str = "", line: int = 0) -> str:
    """What is wrong and where; `line`: the lines before the text that was parsed."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        return f"line {mark.line + 1} is indented with a tab; YAML indents with spaces"
    if problem and "another document" in problem and mark is not None:
        return (
            f"it holds more than one YAML document (the second starts at line "
            f"{mark.line + 1}); a ResourceList is one document"
        )
    where = f" at line {line + mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{problem}{where}"


def read(text: str, *, json: bool = True) -> ResourceList:
    """Parse a ResourceList; raise InputError naming what is wrong.

    `json=False` reads it as YAML only: for a working text whose line breaks were
    translated, which JSON would accept where the input as it came is not JSON.
    """
    if not text.strip():
        raise InputError("the input is empty; expected a ResourceList")
    if json and text.lstrip().startswith("{"):
        try:
            data = jsontext.loads(text)
        except ValueError:
            pass
        except RecursionError:
            raise InputError("the input is refused: its JSON nests too deep to read") from None
        else:
            return _from_data(text, data, "json")
    _check_characters(text)
    layout = cutter.scan(text)
    if layout is not None:
        try:
            return _read_cut(text, layout)
        except (Misread, yaml.YAMLError, nodes.Refused, nodes.NotData):
            pass  # the full reader says what is wrong, with its place in the whole
    return _read_composed(text)


def _check_characters(text: str) -> None:
    """Refuse characters YAML does not allow raw, wherever they are."""
    wrong = _NOT_PRINTABLE.search(text)
    if wrong:
        line = text.count("\n", 0, wrong.start()) + 1
        column = wrong.start() - text.rfind("\n", 0, wrong.start())
        raise InputError(
            f"the input is not valid YAML: line {line}, column {column} holds the character "
            f"U+{ord(wrong.group()):04X}, which YAML allows only escaped in a double-quoted string"
        )
    # libyaml skips a byte order mark at the start of any line, and the function's
    # positions would not; YAML allows one only at the start of the input.
    bom = text.find("\n\ufeff")
    if bom >= 0:
        raise InputError(
            f"the input is not valid YAML: line {text.count(chr(10), 0, bom) + 2} starts with "
            "a byte order mark (U+FEFF), which YAML allows only at the start of the input"
        )


def read_stream(text: str) -> ResourceList:
    """A stream of YAML documents as a list whose items are its documents."""
    _check_characters(text)
    try:
        documents = [n for n in nodes.compose_all(text) if n is not None]
    except yaml.YAMLError as error:
        raise InputError(f"the input is not valid YAML: {_describe(error, text)}") from None
    kinds = [kind_of(n) if isinstance(n, MappingNode) else "" for n in documents]
    return ResourceList(text, "stream", None, kinds, entries=documents)


def _read_cut(text: str, layout: cutter.Layout) -> ResourceList:
    """The list from its lines: only the small top-level parts are parsed now."""

    def value(key: str) -> Any:
        if key not in layout.regions:
            return None
        start, end = layout.regions[key]
        node = nodes.compose(text[start:end])
        if not (isinstance(node, MappingNode) and len(node.value) == 1):
            raise Misread
        return nodes.construct(node.value[0][1])

    _check_header(value("kind"), value("apiVersion"))
    # The other top-level parts are small and go out as they came: if one is not
    # YAML, the full reader says so now (results are also read when written).
    for key in layout.regions.keys() - {"items", "kind", "apiVersion", "functionConfig"}:
        value(key)
    rl = ResourceList(text, "yaml", _config_value(value), list(layout.kinds), layout=layout)
    # The items the cut cannot vouch for are parsed now: each must read as one item
    # on its own (else the whole text is read), and its kind is what the parser says.
    # So is the last item, after which the output may go on.
    for index in sorted(layout.checked | {len(layout.spans) - 1}):
        rl.kinds[index] = kind_of(rl.locate(index).node)
    return rl


class Unreadable(NamedTuple):
    """A functionConfig refused as hostile (an alias bomb): the config is invalid."""

    reason: str


def _config_value(value: Any) -> Any:
    try:
        return value("functionConfig")
    except nodes.Refused as error:
        return Unreadable(f"it is refused: {error}")
    except nodes.NotData as error:
        return Unreadable(f"it is not plain data: {error}")


def _read_composed(text: str) -> ResourceList:
    """The list composed whole: any YAML layout."""
    try:
        root = nodes.compose(text)
    except yaml.YAMLError as error:
        raise InputError(f"the input is not valid YAML: {_describe(error, text)}") from None
    if not isinstance(root, MappingNode):
        raise InputError("the input is not a ResourceList: expected a mapping at the top level")
    if root.flow_style:
        rl = _from_data(text, nodes.construct(root), "data")
        if "#" in text:  # perhaps a comment: say that it goes
            rl.notes.append(FLOW_LIST)
        return rl
    top = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
    _check_header(
        nodes.construct(top["kind"]) if "kind" in top else None,
        nodes.construct(top["apiVersion"]) if "apiVersion" in top else None,
    )
    items_node = top.get("items")
    kinds: list[str] = []
    entries: list[Node] = []
    if isinstance(items_node, SequenceNode):
        for i, node in enumerate(items_node.value):
            if not isinstance(node, MappingNode):
                raise InputError(f"items[{i}] is not a mapping (a Kubernetes resource)")
            kinds.append(kind_of(node))
            entries.append(node)
    elif items_node is not None and not _is_null(items_node):
        raise InputError("items must be a list of resources")
    if ("&" in text or "*" in text) and _shared(entries):
        # An edit of one item would change another through the alias: the list is
        # written out whole from its values, aliases expanded.
        rl = _from_data(text, nodes.construct(root), "data")
        rl.notes.append(SHARED_ANCHORS)
        return rl
    config_node = top.get("functionConfig")
    function_config = _config_value(lambda _: nodes.construct(config_node) if config_node else None)
    return ResourceList(text, "yaml", function_config, kinds, root, items_node, entries=entries)


SHARED_ANCHORS = (
    "the list uses YAML anchors and aliases shared between resources, so an edit of one "
    "would change another: it was written out whole, with the aliases expanded and its "
    "comments dropped"
)


def _shared(entries: list[Node]) -> bool:
    """True when some node belongs to two items (an anchor in one, an alias in another)."""
    owner: dict[int, int] = {}
    for index, entry in enumerate(entries):
        stack = [entry]
        while stack:
            node = stack.pop()
            seen = owner.get(id(node))
            if seen is not None:
                if seen != index:
                    return True
                continue  # an alias inside the item: its node was walked already
            owner[id(node)] = index
            if isinstance(node, MappingNode):
                stack.extend(n for pair in node.value for n in pair)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
    return False


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def kind_of(node: Node) -> str:
    """The kind of the resource `node` stands for, "" when it has none."""
    if not isinstance(node, MappingNode):
        return ""
    kind = ""
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.tag == MERGE_TAG:
            found = nodes.construct(node)  # a kind may come through a merge key
            return str(found.get("kind", "")) if isinstance(found, dict) else ""
        if isinstance(key, ScalarNode) and key.value == "kind" and isinstance(value, ScalarNode):
            kind = str(value.value)  # the last of duplicate keys wins, as when constructed
    return kind


MERGE_TAG = "tag:yaml.org,2002:merge"


def _check_header(kind: Any, api_version: Any) -> None:
    if kind is None:
        raise InputError("the input is not a ResourceList: it has no kind")
    if kind != KIND:
        hint = (
            "; to change plain manifests, run standalone mode: inject-docker --config CONFIG -"
            if isinstance(kind, str) and kind
            else ""
        )
        raise InputError(f"the input is not a ResourceList: its kind is {kind!r}{hint}")
    if api_version is None:
        raise InputError("the ResourceList has no apiVersion; expected " + API_VERSIONS[0])
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
