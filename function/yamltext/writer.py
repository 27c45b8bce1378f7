"""YAML text for values the function creates.

Only plain data (dict, list, str, int, float, bool, None) is written, in block
style, two spaces per mapping level. Sequences under a mapping key follow the
style of the surrounding resource: "compact" (dash at the key's column) or
"wide" (dash two columns in).
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any, Literal

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

SeqStyle = Literal["compact", "wide"]

_RESOLVER = Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# Characters a plain scalar may hold here; anything else gets double quotes.
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./~$=+-][A-Za-z0-9 _./~$:=,@+()%\[\]-]*")
# Readers that follow YAML 1.2 (go-yaml v3, used by kustomize and kpt) or the
# YAML 1.1 tables of go-yaml v2 (sigs.k8s.io/yaml) see these as non-strings,
# though PyYAML's own resolver does not.
_OTHER_NON_STRINGS = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|[yYnN]|~"
)


@functools.lru_cache(maxsize=4096)
def is_plain_safe(text: str) -> bool:
    """True when `text` can be written unquoted and still read back as that string."""
    if not text or text != text.strip() or not _PLAIN_SAFE.fullmatch(text):
        return False
    if text.endswith(":") or ": " in text or " #" in text or text.startswith("- ") or text == "-":
        return False  # an indicator (`-` alone is a block sequence's dash)
    if _OTHER_NON_STRINGS.fullmatch(text):
        return False
    return _RESOLVER.resolve(ScalarNode, text, (True, False)) == _STR_TAG


# Characters a YAML reader refuses raw (outside its printable set), or reads as line
# breaks (NEL, LS, PS), inside a double-quoted string; JSON leaves them raw.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def double_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar: JSON's escapes, which YAML shares, and
    escapes for what YAML reads differently from JSON."""
    return _YAML_UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


def scalar(value: Any) -> str:
    """One scalar (or empty collection) as inline YAML text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        if is_plain_safe(value):
            return value
        if "'" not in value and value.isprintable():
            return f"'{value}'"
        return double_quoted(value)
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    if isinstance(value, (dict, list)):
        return flow(value)
    # Dates and other values the YAML loader produced: their string form reads back.
    return scalar(str(value))


_FLOW_INDICATORS = frozenset(",[]{}")


def flow(value: Any) -> str:
    """A value in flow style, on one line: `[a, b]`, `{key: value}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str) and _FLOW_INDICATORS.intersection(value):
        return double_quoted(value)
    return scalar(value)


def is_block(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def lines(value: Any, indent: int, style: SeqStyle) -> list[str]:
    """A non-empty dict or list as block lines (no line breaks) starting at `indent`."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = scalar(key)
            if isinstance(item, dict) and item:
                out.append(f"{pad}{name}:")
                out.extend(lines(item, indent + 2, style))
            elif isinstance(item, list) and item:
                out.append(f"{pad}{name}:")
                out.extend(lines(item, indent + (2 if style == "wide" else 0), style))
            elif _literal_block(item):
                out.append(f"{pad}{name}: {_block_header(item)}")
                out.extend(_block_lines(item, indent + 2))
            else:
                out.append(f"{pad}{name}: {scalar(item)}")
        return out
    for item in value:
        if is_block(item):
            inner = lines(item, indent + 2, style)
            out.append(f"{pad}- {inner[0][indent + 2 :]}")
            out.extend(inner[1:])
        elif _literal_block(item):
            out.append(f"{pad}- {_block_header(item)}")
            out.extend(_block_lines(item, indent + 2))
        else:
            out.append(f"{pad}- {scalar(item)}")
    return out


def _literal_block(value: Any) -> bool:
    """A multi-line string that reads best as a literal block (`|`): a script."""
    if not isinstance(value, str) or "\n" not in value.rstrip("\n"):
        return False
    body = value.replace("\n", "")
    # Block scalars hold no escapes: anything YAML reads differently raw stays quoted.
    return (
        (body.isprintable() or body == "")
        and not _YAML_UNSAFE.search(value)
        and ("\r" not in value and "\t" not in value)
    )


def _block_header(value: str) -> str:
    """`|`, with the indentation indicator a leading space needs and the chomping the
    string's end needs: `-` for no final line break, `+` for more than one."""
    indicator = "2" if value[:1] == " " or value.startswith("\n") else ""
    if not value.endswith("\n"):
        return f"|{indicator}-"
    if value.endswith("\n\n"):
        return f"|{indicator}+"
    return f"|{indicator}"


def _block_lines(value: str, indent: int) -> list[str]:
    pad = " " * indent
    body = value[:-1] if value.endswith("\n") else value
    return [f"{pad}{line}" if line else "" for line in body.split("\n")]


def block(value: Any, indent: int, style: SeqStyle) -> str:
    """`lines` joined, each line ending in a line break."""
    # Every workload gets the same daemon, volumes and mounts: write each once.
    # repr tells 1, True and "1" apart, and is the same for equal plain data
    # built in the same order.
    key = repr(value)
    found = _BLOCKS.get((key, indent, style))
    if found is None:
        found = _BLOCKS[key, indent, style] = "".join(
            line + "\n" for line in lines(value, indent, style)
        )
    return found


_BLOCKS: dict[tuple[str, int, str], str] = {}


def pair(key: str, value: Any, indent: int, style: SeqStyle) -> str:
    """One `key: value` entry of a block mapping, ending in a line break."""
    return block({key: value}, indent, style)


def entry(value: Any, dash_column: int, style: SeqStyle) -> str:
    """One `- value` entry of a block sequence, ending in a line break."""
    return block([value], dash_column, style)


def document(value: Any, style: SeqStyle = "compact") -> str:
    """A whole YAML document for a dict or list."""
    return block(value, 0, style) if is_block(value) else scalar(value) + "\n"
