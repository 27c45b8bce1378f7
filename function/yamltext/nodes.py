"""Composing YAML into nodes, and nodes into plain data, fast.

libyaml parses in C but asks Python to resolve the tag of every plain scalar,
and PyYAML's constructor is generic Python; together they cost more than the
parsing. Manifests repeat the same few hundred scalars (`name`, `image`, `true`)
thousands of times, so resolved tags are remembered, and the common tags are
constructed directly; anything unusual (merge keys, timestamps, octal or
sexagesimal numbers, binary, sets) goes through PyYAML's own safe constructor.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
import yaml.resolver
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


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


def compose(text: str) -> Node | None:
    loader = Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def compose_all(text: str) -> list[Node | None]:
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


def construct(node: Node) -> Any:
    """The plain data a node stands for, as PyYAML's safe loader would build it."""
    try:
        return _construct(node, set())
    except (_Unusual, RecursionError):
        loader = yaml.CSafeLoader("")
        try:
            return loader.construct_document(node)
        finally:
            loader.dispose()


def _construct(node: Node, open_nodes: set[int]) -> Any:
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
    if id(node) in open_nodes:
        raise _Unusual  # an alias that contains itself
    open_nodes.add(id(node))
    try:
        if isinstance(node, SequenceNode) and tag == _SEQ:
            return [_construct(item, open_nodes) for item in node.value]
        if isinstance(node, MappingNode) and tag == _MAP:
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if (
                    not isinstance(key_node, ScalarNode)
                    or key_node.tag == "tag:yaml.org,2002:merge"
                ):
                    raise _Unusual
                out[_construct(key_node, open_nodes)] = _construct(value_node, open_nodes)
            return out
    finally:
        open_nodes.discard(id(node))
    raise _Unusual
