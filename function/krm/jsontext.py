"""JSON in and out with every number kept as it was written.

Python reads a JSON number such as `1e400` as a float (here infinity) and writes
that float back in its own way (`Infinity`, which is not JSON). Numbers read
from the input keep the text they were written with, and are written back as it.
"""

from __future__ import annotations

import json
from typing import Any


class Number(float):
    """A JSON number that is not an integer, with the text it was written as."""

    literal: str

    def __new__(cls, literal: str) -> Number:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Number, parse_constant=Number)


def dumps(data: Any) -> str:
    """`data` as indented JSON; numbers read by `loads` come out as they were written."""
    import uuid  # only JSON output needs it

    numbers: list[str] = []
    # Each number stands in as a string no input can hold, then takes its place again.
    mark = f"number-{uuid.uuid4().hex}-"

    def stand_in(value: Any) -> Any:
        if isinstance(value, Number):
            numbers.append(value.literal)
            return f"{mark}{len(numbers) - 1}"
        if isinstance(value, dict):
            return {k: stand_in(v) for k, v in value.items()}
        if isinstance(value, list):
            return [stand_in(v) for v in value]
        return value

    text = json.dumps(stand_in(data), indent=2, ensure_ascii=False) + "\n"
    for i in reversed(range(len(numbers))):
        text = text.replace(f'"{mark}{i}"', numbers[i])
    return text
