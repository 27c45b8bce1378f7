"""Composing YAML into nodes, and nodes into plain data, fast.

libyaml parses in C but asks Python to resolve the tag of every plain scalar,
and PyYAML's constructor is generic Python; together they cost more than the
parsing. Manifests repeat the same few hundred scalars (`name`, `image`, `true`)
thousands of times, so resolved tags are remembered, and the common tags are
constructed directly; anything unusual (merge keys, timestamps, octal or
sexagesimal numbers, binary, sets) goes through PyYAML's own safe constructor.

Hostile input is refused before it costs much: nesting deep enough to exhaust the
C composer's stack is found before composing, and building a value stops when it
nests too deep or when aliases expand it far beyond its own text ("billion laughs").
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
import yaml.constructor
import yaml.resolver
from yaml._yaml import CParser
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from function.plaindata import same

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

# Collections nested deeper than this are refused: PyYAML's C composer recurses
# once per level, and its stack runs out somewhere past 20,000 levels.
MAX_NESTING = 5000
# Values nested deeper than this are refused: no Kubernetes object comes close,
# and the function's own recursion over values must stay well inside Python's.
MAX_VALUE_DEPTH = 200
# A value may expand (through aliases) to this many nodes per character of its
# text, plus a constant: far beyond any manifest, far short of an alias bomb.
EXPANSION_PER_CHARACTER = 10
EXPANSION_ALLOWANCE = 10_000


class Refused(ValueError):
    """The input is built to exhaust the reader (too deep, or an alias bomb)."""


class NotData(ValueError):
    """YAML that composes but stands for no plain data: a tag the safe loader does not
    know (`!foo`), a bad `!!binary`, a list as a mapping key."""


_RESOLVER = yaml.resolver.Resolver()


@functools.cache
def _resolve(kind: Any, value: Any, implicit: Any) -> Any:
    return _RESOLVER.resolve(kind, value, implicit)


class Loader(yaml.CSafeLoader):
    """libyaml's safe loader, with resolved tags remembered across documents.

    The composer calls `resolve` for every node, and `descend_resolver` and
    `ascend_resolver` around each, from C. As instance attributes they are C
    callables too: a cache, and two no-ops (no path resolvers are registered).
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.resolve = _resolve  # type: ignore[method-assign]
        self.descend_resolver = slice  # type: ignore[method-assign,assignment]  # (parent, index)
        self.ascend_resolver = tuple  # type: ignore[method-assign,assignment]  # no arguments


def check_nesting(text: str) -> None:
    """Refuse `text` if its collections nest deeper than MAX_NESTING.

    Each level of nesting takes a bracket (flow collections), or a column of
    indentation or an indicator on a line (block collections). A text too short,
    or with too few brackets and no very long line, cannot nest that deep; only
    the others are measured, with libyaml's event parser, which does not recurse.
    """
    if len(text) < MAX_NESTING:
        return
    brackets = text.count("[") + text.count("{")
    if brackets < MAX_NESTING and max(map(len, text.split("\n"))) < MAX_NESTING:
        return
    depth = 0
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, starts):
                depth += 1
                if depth > MAX_NESTING:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    raise Refused(
                        f"collections nest deeper than {MAX_NESTING} levels (at line {line})"
                    )
            elif isinstance(event, ends):
                depth -= 1
    except yaml.YAMLError:
        return  # the composer reports it, with its place


def check_parses(text: str) -> None:
    """Raise yaml.YAMLError where `text` is not YAML. libyaml's own loop over the
    events, which makes no Python object of them: a sixth of the cost of yaml.parse."""
    CParser(text).raw_parse()


def compose(text: str) -> Node | None:
    check_nesting(text)
    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def compose_all(text: str) -> list[Node | None]:
    check_nesting(text)
    loader = Loader(text)
    try:
        out: list[Node | None] = []
        while loader.check_node():
            out.append(loader.get_node())
        return out
    finally:
        loader.dispose()


def load(text: str) -> Any:
    node = compose(text)
    return None if node is None else construct(node)


class _Unusual(Exception):
    pass


class _Budget:
    """How many more nodes a value may expand to."""

    __slots__ = ("left",)

    def __init__(self, node: Node) -> None:
        span = node.end_mark.index - node.start_mark.index
        self.left = span * EXPANSION_PER_CHARACTER + EXPANSION_ALLOWANCE

    def spend(self, line: int) -> None:
        self.left -= 1
        if self.left < 0:
            raise Refused(
                f"aliases expand the value at line {line} far beyond its text "
                "(an alias bomb?); expand them by hand"
            )


def construct(node: Node) -> Any:
    """The plain data a node stands for, as PyYAML's safe loader would build it."""
    try:
        return _construct(node, set(), 0, _Budget(node))
    except _Unusual:
        loader = yaml.CSafeLoader("")
        try:
            value = loader.construct_document(node)
        except yaml.constructor.ConstructorError as error:
            raise NotData(error.problem or "a value that is not plain data") from None
        finally:
            loader.dispose()
        _check_built(value, node)
        return value


def _check_built(value: Any, node: Node) -> None:
    """Refuse a value PyYAML built that nests too deep or expands too far (its
    aliases are shared objects, which the function would copy out)."""
    budget = _Budget(node)
    line = node.start_mark.line + 1
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        budget.spend(line)
        if depth > MAX_VALUE_DEPTH:
            raise Refused(f"the value at line {line} nests deeper than {MAX_VALUE_DEPTH} levels")
        if isinstance(current, dict):
            stack.extend((v, depth + 1) for v in current.values())
        elif isinstance(current, (list, tuple, set)):
            stack.extend((v, depth + 1) for v in current)


def _construct(node: Node, open_nodes: set[int], depth: int, budget: _Budget) -> Any:
    budget.spend(node.start_mark.line + 1)
    tag = node.tag
    if isinstance(node, ScalarNode):
        value = node.value
        if tag == _STR:
            return value
        if tag == _INT and (value == "0" or (value[:1] != "0" and value.lstrip("+-").isdigit())):
            return int(value)
        if tag == _BOOL:
            return _BOOLS[value.lower()]
        if tag == _NULL:
            return None
        raise _Unusual
    if depth > MAX_VALUE_DEPTH:
        line = node.start_mark.line + 1
        raise Refused(f"the value at line {line} nests deeper than {MAX_VALUE_DEPTH} levels")
    if id(node) in open_nodes:
        raise Refused(f"the alias at line {node.start_mark.line + 1} contains itself")
    open_nodes.add(id(node))
    try:
        if isinstance(node, SequenceNode) and tag == _SEQ:
            return [_construct(item, open_nodes, depth + 1, budget) for item in node.value]
        if isinstance(node, MappingNode) and tag == _MAP:
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                    raise _Unusual
                key = _construct(key_node, open_nodes, depth + 1, budget)
                out[key] = _construct(value_node, open_nodes, depth + 1, budget)
            return out
    finally:
        open_nodes.discard(id(node))
    raise _Unusual


def matches(node: Node, value: Any) -> bool:
    """True when `node` stands for `value`, types included (1 is not True): the check
    of what the function wrote, without building the value again."""
    tag = node.tag
    if isinstance(node, ScalarNode):
        text = node.value
        if tag == _STR:
            return type(value) is str and text == value
        if tag == _NULL:
            return value is None
        if tag == _BOOL:
            return type(value) is bool and _BOOLS[text.lower()] is value
        if tag == _INT and (text == "0" or (text[:1] != "0" and text.lstrip("+-").isdigit())):
            return type(value) is int and int(text) == value
    elif isinstance(node, SequenceNode) and tag == _SEQ:
        if type(value) is not list or len(value) != len(node.value):
            return False
        for child, wanted in zip(node.value, value, strict=True):
            # Most leaves are strings: compared here, without a call per leaf.
            if child.tag == _STR and child.__class__ is ScalarNode:
                if type(wanted) is not str or child.value != wanted:
                    return False
            elif not matches(child, wanted):
                return False
        return True
    elif isinstance(node, MappingNode) and tag == _MAP:
        pairs = node.value
        if all(k.__class__ is ScalarNode and k.tag == _STR for k, _ in pairs):
            if type(value) is not dict or len(value) != len(pairs):
                return False
            seen = set()
            for key, child in pairs:
                name = key.value
                if name not in value:
                    return False
                wanted = value[name]
                if child.tag == _STR and child.__class__ is ScalarNode:
                    if type(wanted) is not str or child.value != wanted:
                        return False
                elif not matches(child, wanted):
                    return False
                seen.add(name)
            return len(seen) == len(value)
    try:
        return same(construct(node), value)
    except Refused:
        return False
