"""The input as the rest of the function sees it: UTF-8 text with "\\n" line breaks only.

What users feed the function may start with a byte order mark and end its lines
in CRLF (files edited on Windows), CR, or the Unicode breaks YAML readers also
honour (NEL, LS, PS). Every component works on a working copy where each line
break is a "\\n" and the BOM is gone, so positions agree with what libyaml sees.
The output is made by applying the function's edits to the ORIGINAL text, with
positions mapped back: bytes the function does not change come out exactly as
they came in, and every line it writes ends the way most input lines do.
"""

from __future__ import annotations

import bisect
import json

from function.yamltext.edits import Edit

BOM = "\ufeff"
# Line breaks libyaml honours besides "\n"; each becomes "\n" in the working text.
# A CR LF pair becomes one "\n" (the one change of length); the others keep theirs.
_ONE_CHAR_BREAKS = str.maketrans({"\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})


class Normalized:
    __slots__ = ("_pairs", "bom", "ending", "original", "text", "unicode_breaks", "untranslated")

    def __init__(self, original: str) -> None:
        self.original = original
        self.bom = original.startswith(BOM)
        body = original[1:] if self.bom else original
        pairs = body.count("\r\n")
        lone = body.count("\n") - pairs
        # The line ending written on new lines: the one most input lines use.
        self.ending = "\r\n" if pairs > lone else "\n"
        # LS and PS are line breaks to libyaml but stay in scalars it reads: an
        # item that holds them must not be rewritten from its value.
        self.unicode_breaks = "\u2028" in body or "\u2029" in body
        # Working positions of the "\n" that stand for a CR LF pair, in order.
        self._pairs: list[int] = []
        if pairs:
            found, at, shift = [], body.find("\r\n"), 0
            while at >= 0:
                found.append(at - shift)
                shift += 1
                at = body.find("\r\n", at + 2)
            self._pairs = found
            body = body.replace("\r\n", "\n")
        # For a list rewritten whole (a flow mapping at the top): read from this, where
        # a quoted string keeps its NEL, LS or PS as libyaml reads them in the original.
        self.untranslated = body
        self.text = (
            body.translate(_ONE_CHAR_BREAKS)
            if _needs_translation(body) and not is_json(body)
            else body
        )

    def position(self, working: int) -> int:
        """The original position of a working-text position."""
        # A pair whose "\n" stands before `working` adds its "\r".
        return working + bisect.bisect_left(self._pairs, working) + self.bom

    def restore(self, edits: list[Edit]) -> str:
        """The original text with `edits` (positions in the working text) made."""
        if not edits and not self.bom and not self._pairs:
            return self.original
        pieces: list[str] = []
        cursor = 0
        for edit in sorted(edits, key=lambda e: (e.start, e.end)):
            start, end = self.position(edit.start), self.position(edit.end)
            if start < cursor:
                raise AssertionError("two edits overlap")  # a bug: edits are per item
            pieces.append(self.original[cursor:start])
            text = edit.text
            if self.ending != "\n":
                text = text.replace("\n", self.ending)
            pieces.append(text)
            cursor = end
        pieces.append(self.original[cursor:])
        return "".join(pieces)


def _needs_translation(text: str) -> bool:
    return "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text


class NotText(ValueError):
    """The input is not UTF-8 text."""


def decode(data: bytes, source: str) -> str:
    """UTF-8 bytes as text; a clear error naming where they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise NotText(
            f"{source} is not UTF-8 text: byte 0x{data[error.start]:02x} at line {line} "
            f"(offset {error.start}) cannot be decoded"
        ) from None


def is_json(body: str) -> bool:
    """JSON input: its strings may hold NEL, LS and PS as plain characters, which JSON
    reads as such; turned into line breaks they would break the JSON."""
    if not body.lstrip().startswith("{"):
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
