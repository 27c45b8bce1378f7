"""The one pipeline: input text and a config in, output text, results and exit code out.

Every front door goes through `run`: the KRM function (a ResourceList on stdin),
standalone mode (plain manifests joined into one stream) and the tests. It reads
the input, loads the config, looks up the transformation for the config's mode
once, runs it on the items of the kinds it asks for, and writes the changes
into the input text.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple

from function.config.load import ConfigError, load
from function.krm import resourcelist, write
from function.krm.results import Result, by_severity
from function.transform import audit, workloads


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
    rl = resourcelist.read_stream(text) if stream else resourcelist.read(text)
    if config is None:
        if not rl.kinds and not rl.function_config:
            return Run(rl.text, [], 0)  # nothing to change and nothing to check
        try:
            config = load(rl.function_config)
        except ConfigError as error:
            problems = [
                Result(f"invalid functionConfig: {message}", "error", field=path or None)
                for path, message in error.problems
            ]
            output, _ = write.write(rl, {}, [], problems)
            return Run(output, problems, 1)
    transform = TRANSFORMS[config.mode]
    outcome = transform.run(config, rl.items_of_kinds(transform.kinds_to_read(config)))
    output, extra = write.write(rl, outcome.changed, outcome.added, outcome.results)
    results = by_severity(outcome.results + extra)
    return Run(output, results, 1 if any(r.severity == "error" for r in results) else 0)
