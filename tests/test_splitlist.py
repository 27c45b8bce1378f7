"""Cutting a ResourceList by its lines agrees with a YAML parser, or declines.

`splitlist.scan` may return None for any text (the full reader then decides), but
when it returns a layout, every piece it cuts must parse as exactly the item a
YAML parser finds at that place, with the kind it claims. The texts here are the
golden inputs with lines that tempt a line-based cut inserted at random places.
(A text that does not parse at all may still be cut: each piece must then parse
on its own, the pieces the function reads when it composes them and the others
before the output is written, and the input is refused where one does not.)
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from function.yamltext import cutter as splitlist
from tests.support import GOLDEN_CASES

TEMPTING_LINES = [
    "---",
    "...",
    "--- ",
    "  ---",
    "# comment",
    "",
    "kind: Pod",
    "  kind: Job",
    "    kind: Deployment",
    "- a: 1",
    "-",
    " - x",
    "items: []",
    "items:",
    "   x: y",
    "- 'quoted': 1",
    "  - kind: Pod",
    "-  kind: Pod",
    "  - name: z",
    "-   kind: Pod",
    "-",
    "- # comment",
    "    kind: Job",
]
SEED = 20261128
VARIANTS_PER_INPUT = 60


def _variants(text: str, rng: random.Random) -> list[str]:
    out = []
    for _ in range(VARIANTS_PER_INPUT):
        lines = text.split("\n")
        for _ in range(rng.randint(0, 3)):
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(TEMPTING_LINES))
        variant = "\n".join(lines)
        out.append(variant.rstrip("\n") if rng.random() < 0.3 else variant)
    return out


def _parsed(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return "unparsable"


@pytest.mark.parametrize("case", GOLDEN_CASES, ids=[c.name for c in GOLDEN_CASES])
def test_cut_items_are_the_parsers_items(case: Path) -> None:
    text = (case / "input.yaml").read_text()
    rng = random.Random(f"{SEED}-{case.name}")
    cut = 0
    for variant in [text, *_variants(text, rng)]:
        layout = splitlist.scan(variant)
        if layout is None:
            continue
        whole = _parsed(variant)
        if whole == "unparsable":
            continue  # refused piece by piece (tests/bad_input), not compared here
        assert isinstance(whole, dict), f"a layout for text that is no mapping:\n{variant}"
        items = whole.get("items")
        assert isinstance(items, list) and len(items) == len(layout.spans), variant
        for (start, end), kind, item in zip(layout.spans, layout.kinds, items, strict=True):
            piece = _parsed(variant[start:end])
            assert piece == [item], f"piece {variant[start:end]!r} is not the item {item!r}"
            assert kind == (item.get("kind", "") if isinstance(item, dict) else ""), variant
        cut += 1
    if splitlist.scan(text) is not None:
        assert cut > 1, "no variant was cut by lines: the test exercised little"
