"""The one pipeline: input text and a config in, output text, results and exit code out.

Every front door goes through `run`: the KRM function (a ResourceList on stdin),
standalone mode (plain manifests joined into one stream) and the tests. It reads
the input, loads the config, looks up the transformation for the config's mode
once, runs it on the items of the kinds it asks for, and writes the changes
into the input text.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any, NamedTuple

from function.config.load import ConfigError, load
from function.krm import resourcelist, write
from function.krm.results import Result, by_severity
from function.transform import audit, workloads
from function.yamltext import nodes
from function.yamltext.normalize import Normalized

MAX_INPUT_VARIABLE = "INJECT_DOCKER_MAX_INPUT_MB"
# Five times the largest list the bench measures (10,000 resources, 6.5 MB).
DEFAULT_MAX_INPUT_MB = 32


def max_input() -> int:
    """The largest input read, in characters: hostile input is refused before parsing."""
    raw = os.environ.get(MAX_INPUT_VARIABLE, "")
    try:
        return int(float(raw) * 1e6) if raw.strip() else DEFAULT_MAX_INPUT_MB * 1_000_000
    except ValueError:
        return DEFAULT_MAX_INPUT_MB * 1_000_000


def too_big(size: int) -> str | None:
    """Why an input of `size` characters (or bytes) is refused, or None."""
    if size <= max_input():
        return None
    return (
        f"the input is more than {max_input() / 1e6:.0f} MB, the most inject-docker reads "
        f"(set {MAX_INPUT_VARIABLE} to a number of MB to raise the limit)"
    )


class Run(NamedTuple):
    output: str  # the ResourceList (or stream) to write on stdout
    results: list[Result]  # every result, errors first
    code: int  # the exit code: 1 exactly when there is an error result


# What each mode of the config runs: audit reads and reports, the others wire.
# Each module has `kinds_to_read(config)` and `run(config, items) -> Outcome`.
TRANSFORMS: dict[str, ModuleType] = {
    "audit": audit,
    "sidecar": workloads,
    "daemonset": workloads,
}


def run(text: str, config: Any = None, *, stream: bool = False) -> Run:
    """Transform `text`: a ResourceList, or with `stream` a stream of manifests.

    `config` overrides the ResourceList's functionConfig (standalone mode loads
    its own). Raises resourcelist.InputError when the input cannot be read.
    """
    try:
        return _run(text, config, stream)
    except nodes.Refused as error:
        raise resourcelist.InputError(f"the input is refused: {error}") from None
    except nodes.NotData as error:
        raise resourcelist.InputError(f"the input is not valid YAML: {error}") from None


def _run(text: str, config: Any, stream: bool) -> Run:
    wrong = too_big(len(text))
    if wrong:
        raise resourcelist.InputError(wrong)
    source = Normalized(text)
    # NEL, LS and PS are not JSON whitespace: input they separate is JSON only to the
    # working text, where they became "\n", so it is read as the YAML it is.
    translated = source.text != source.untranslated
    rl = (
        resourcelist.read_stream(source.text)
        if stream
        else resourcelist.read(source.text, json=not translated)
    )
    if rl.format == "data" and translated:
        # Rewritten whole: no position is needed, and every character can keep its meaning.
        rl = resourcelist.read(source.untranslated)
    if config is None:
        if not rl.kinds and not rl.function_config:
            return Run(text, [], 0)  # nothing to change and nothing to check
        try:
            if isinstance(rl.function_config, resourcelist.Unreadable):
                raise ConfigError([("", rl.function_config.reason)])
            config = load(rl.function_config)
        except ConfigError as error:
            problems = [
                Result(f"invalid functionConfig: {message}", "error", field=path or None)
                for path, message in error.problems
            ]
            rl.check_unread()
            edits, _ = write.write(rl, {}, [], problems)
            return Run(source.restore(edits), problems, 1)
    transform = TRANSFORMS[config.mode]
    outcome = transform.run(config, rl.items_of_kinds(transform.kinds_to_read(config)))
    rl.check_unread()
    notes = [Result(note, "warning") for note in rl.notes]
    edits, extra = write.write(
        rl,
        outcome.changed,
        outcome.added,
        outcome.results + notes,
        rewrite=not source.unicode_breaks,
    )
    results = by_severity(outcome.results + notes + extra)
    code = 1 if any(r.severity == "error" for r in results) else 0
    return Run(source.restore(edits), results, code)
