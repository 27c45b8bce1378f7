"""Kubernetes label selector syntax: `ci=true,team in (a,b),!legacy`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, NamedTuple

Operator = Literal["=", "!=", "in", "notin", "exists", "!exists"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_TERM = re.compile(
    rf"\s*(?:(?P<not>!)\s*(?P<nkey>{_KEY})"
    rf"|(?P<key>{_KEY})\s*(?:(?P<op>==|!=|=)\s*(?P<value>{_VALUE})"
    rf"|\s+(?P<set>in|notin)\s*\(\s*(?P<values>[^()]*)\))?)\s*(?:,|$)"
)


class Requirement(NamedTuple):
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = str(labels.get(self.key, ""))
        match self.operator:
            case "=":
                return present and value == self.values[0]
            case "!=":
                return not present or value != self.values[0]
            case "in":
                return present and value in self.values
            case "notin":
                return not present or value not in self.values
            case "exists":
                return present
            case _:
                return not present


def parse(text: str) -> tuple[Requirement, ...]:
    """Parse a selector; raises ValueError naming the part that is wrong."""
    requirements: list[Requirement] = []
    position = 0
    text = text.strip()
    while position < len(text):
        found = _TERM.match(text, position)
        if not found or found.end() == position:
            raise ValueError(f"cannot read label selector {text!r} at {text[position:]!r}")
        position = found.end()
        if found["nkey"]:
            requirements.append(Requirement(found["nkey"], "!exists"))
        elif found["op"]:
            operator: Operator = "!=" if found["op"] == "!=" else "="
            requirements.append(Requirement(found["key"], operator, (found["value"],)))
        elif found["set"]:
            values = tuple(v.strip() for v in found["values"].split(",") if v.strip())
            if not values:
                raise ValueError(f"label selector {text!r}: '{found['set']}' needs values")
            kind: Operator = "in" if found["set"] == "in" else "notin"
            requirements.append(Requirement(found["key"], kind, values))
        else:
            requirements.append(Requirement(found["key"], "exists"))
    return tuple(requirements)


def matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)
