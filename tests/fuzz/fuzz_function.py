#!/usr/bin/env python3
"""atheris fuzz target: the function's entry point must never corrupt a manifest.

Each input is bytes, decoded as the command line decodes stdin (UTF-8; bytes
that are not UTF-8 are refused there, before the pipeline, and so here), then
run through `pipeline.run`. A crash is:

- any exception other than `InputError` (the one way to refuse an input);
- a run that succeeds but whose output does not parse (as JSON for JSON input,
  as YAML otherwise), is not a ResourceList, or has lost or reordered an item
  (the first items of the output must have the input's kinds and names);
- a run longer than 2 seconds (`LIMIT`; fuzzed inputs are a few kilobytes).

Each crash message starts with its class in brackets: `[corrupt-output]` (a
readable input, an unreadable output), `[invalid-input]` (the input is not YAML
as a whole, yet the function accepted it and wrote it back unreadable),
`[lost-item]`, `[exit-code]`, `[slow]`; any other exception is a crash as it is.
INJECT_DOCKER_FUZZ_KNOWN=invalid-input,ConstructorError (comma-separated classes
or exception type names) looks past crashes that are known and being fixed, to
find the others; CI never sets it.

Inputs are arbitrary bytes and mutations of valid ResourceLists: the seed corpus
is every golden case's input with its config as functionConfig
(`tests/support.golden_stdin`), also with CRLF line endings, and as JSON.
Besides libFuzzer's byte mutations, a custom mutator edits the text by lines
(duplicating, dropping, moving and re-indenting lines, inserting comments,
explicit keys, anchors, block scalar headers, Unicode line breaks), and a
dictionary of YAML tokens helps the byte mutations.

Running it (atheris needs `pip install atheris`; it ships libFuzzer):

    python tests/fuzz/fuzz_function.py -max_total_time=3600

With no corpus directory on the command line it works in $INJECT_DOCKER_FUZZ_DIR
(default /tmp/inject-docker-fuzz): the corpus grows in `corpus/`, the seeds are
rewritten to `seeds/` at each start, and crashing inputs are written to
`crashes/` (`crash-<sha1>`, `timeout-<sha1>`, `oom-<sha1>`). Other libFuzzer
flags pass through (`-max_len=8192`, `-runs=N`). libFuzzer stops at the first
crash; to collect them all, run the script itself (it is executable, and libFuzzer
starts its workers as `argv[0]`, so the `python3` on PATH must have atheris):

    tests/fuzz/fuzz_function.py -max_total_time=3600 -fork=1 -ignore_crashes=1

To rerun one crash and see its traceback:

    python tests/fuzz/fuzz_function.py /tmp/inject-docker-fuzz/crashes/crash-...

`tests/fuzz/test_fuzz_smoke.py` runs this for 20 seconds under pytest.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import atheris  # noqa: E402
import yaml  # noqa: E402
from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # noqa: E402

with atheris.instrument_imports(include=["function"]):
    from function import pipeline
    from function.krm.resourcelist import InputError
    from function.yamltext.normalize import NotText, decode, is_json

LIMIT = 2.0  # seconds a run may take
WORK = Path(os.environ.get("INJECT_DOCKER_FUZZ_DIR", "/tmp/inject-docker-fuzz"))
# libyaml's composer recurses once per level of nesting and its C stack ends
# somewhere past 20,000 levels; the checker measures deeper texts without it.
COMPOSE_SAFELY = 10_000
# Classes of crash or exception names to look past, comma-separated: for a
# session that looks for other bugs while a known one is being fixed. Never in CI.
KNOWN = frozenset(filter(None, os.environ.get("INJECT_DOCKER_FUZZ_KNOWN", "").split(",")))


class Corrupted(AssertionError):
    """The function returned an output that breaks its promise."""


class TooSlow(AssertionError):
    pass


# ---------------------------------------------------------------------------
# The target.


def TestOneInput(data: bytes) -> None:
    try:
        text = decode(data, "the input")
    except NotText:
        return  # the command line refuses it with one sentence, before the pipeline
    try:
        check(text)
    except Exception as error:
        if type(error).__name__ in KNOWN:
            return  # a known exception, looked past for this session
        raise


def check(text: str) -> None:
    started = time.monotonic()
    try:
        done = pipeline.run(text)
    except InputError:
        return
    elapsed = time.monotonic() - started
    if elapsed > LIMIT:
        raise TooSlow(f"[slow] the run took {elapsed:.2f} s (limit {LIMIT} s)")
    if not isinstance(done.output, str):
        raise Corrupted(f"[output-type] the output is a {type(done.output).__name__}")
    if done.code != (1 if any(r.severity == "error" for r in done.results) else 0):
        raise Corrupted(f"[exit-code] exit code {done.code} for the results {done.results}")
    json_input = _is_json(text)
    before = _items(text, json_input)
    after = _items(done.output, json_input)
    if after is None:
        how = "JSON" if json_input else "YAML"
        if before is None:
            # The function read a text that is not YAML (as a whole) and wrote it back
            # unparseable: it should have refused it.
            if "invalid-input" not in KNOWN:
                raise Corrupted(
                    f"[invalid-input] the output does not parse as a {how} ResourceList, "
                    "and neither does the input, which the function accepted"
                )
            return
        raise Corrupted(f"[corrupt-output] the output does not parse as a {how} ResourceList")
    if before is None:
        return  # the function read what libyaml alone does not, and wrote a good list
    if len(after) < len(before):
        raise Corrupted(f"[lost-item] {len(before)} items went in and {len(after)} came out")
    for i, (old, new) in enumerate(zip(before, after, strict=False)):
        if None not in (old, new) and old != new:
            raise Corrupted(f"[lost-item] items[{i}] was {old} and is {new}")


def _is_json(text: str) -> bool:
    return is_json(text.removeprefix("\ufeff"))


Name = tuple[str, str] | None  # (kind, name), None where it cannot be told cheaply


def _items(text: str, json_form: bool) -> list[Name] | None:
    """(kind, name) of each item of a ResourceList text; None when it does not parse."""
    body = text.removeprefix("\ufeff")
    if json_form:
        try:
            data = json.loads(body)
        except ValueError:
            return None
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("kind") != "ResourceList":
            return None
        return [_data_name(item) for item in items] if isinstance(items, list) else []
    if len(body) > COMPOSE_SAFELY and _depth(body) > COMPOSE_SAFELY:
        return None
    try:
        root = yaml.compose(body, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    # The node tree, not the value: aliases stay shared nodes, so an alias bomb that
    # the function passed through untouched costs nothing here.
    if not isinstance(root, MappingNode):
        return None
    top = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
    kind = top.get("kind")
    if not (isinstance(kind, ScalarNode) and kind.value == "ResourceList"):
        return None
    items = top.get("items")
    if not isinstance(items, SequenceNode):
        return []
    return [_node_name(item) for item in items.value]


def _depth(text: str) -> int:
    """How deep the collections of `text` nest, without recursing."""
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return 0  # the composer reports it
    return deepest


def _data_name(item: Any) -> Name:
    if not isinstance(item, dict):
        return None
    meta = item.get("metadata")
    return str(item.get("kind")), str(meta.get("name") if isinstance(meta, dict) else None)


def _node_name(node: Any) -> Name:
    """kind and name from an item's node; None where a merge key or a non-scalar
    stands in the way (the constructor would be needed to tell)."""
    if not isinstance(node, MappingNode):
        return None
    fields: dict[str, Any] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            return None
        fields[key.value] = value  # the last of duplicate keys wins, as when constructed
    kind, meta = fields.get("kind"), fields.get("metadata")
    name: Any = None
    if isinstance(meta, MappingNode):
        for key, value in meta.value:
            if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                return None
            if key.value == "name":
                name = value
    scalars = [n for n in (kind, name) if n is not None]
    if any(not isinstance(n, ScalarNode) or n.tag != "tag:yaml.org,2002:str" for n in scalars):
        return None
    return (kind.value if kind is not None else "None", name.value if name is not None else "None")


# ---------------------------------------------------------------------------
# Mutations by lines, beside libFuzzer's byte mutations.

FRAGMENTS = [
    "? key",
    ": value",
    "- &a",
    "- *a",
    "<<: *a",
    "key: |+",
    "key: >-",
    "key: |2",
    "# comment",
    "  # comment",
    "---",
    "...",
    "items:",
    "items: []",
    "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
    "    - name: b\n      image: docker:29.8.0-cli",
    "functionConfig: {data: {mode: daemonset}}",
    "results: []",
    "kind: List",
    '"quoted: key": 1',
    "'single': 'it''s'",
    "{a: [b, {c: d}]}",
    "\t",
    "key: !!str 1",
    "key: !!binary aGk=",
]
BREAKS = ["\r\n", "\r", "\x85", "\u2028", "\u2029", "\ufeff"]


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if rng.random() < 0.5:
        return atheris.Mutate(data, max_size)
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    where = rng.randrange(len(lines))
    operation = rng.randrange(9)
    if operation == 0:
        lines.insert(where, lines[rng.randrange(len(lines))])
    elif operation == 1 and len(lines) > 1:
        del lines[where]
    elif operation == 2:
        other = rng.randrange(len(lines))
        lines[where], lines[other] = lines[other], lines[where]
    elif operation == 3:
        lines[where] = " " * rng.choice([1, 2, 4]) + lines[where]
    elif operation == 4:
        lines[where] = lines[where][rng.choice([1, 2]) :]
    elif operation == 5:
        lines[where] += rng.choice([" # note", "  #", " &x", " *x", " |-", " {}", " []"])
    elif operation == 6:
        indent = len(lines[where]) - len(lines[where].lstrip(" "))
        fragment = rng.choice(FRAGMENTS).replace("\n", "\n" + " " * indent)
        lines.insert(where, " " * indent + fragment)
    elif operation == 7:
        at = rng.randrange(len(lines[where]) + 1)
        lines[where] = lines[where][:at] + rng.choice(BREAKS) + lines[where][at:]
    else:
        return "\r\n".join(lines).encode()[:max_size]
    return "\n".join(lines).encode()[:max_size]


# ---------------------------------------------------------------------------
# Seeds and the command line.

DICTIONARY = [
    "? ",
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<",
    "|+",
    "|-",
    ">-",
    ">+",
    "#",
    "---",
    "...",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    '"',
    "!!str",
    "\\n",
    "\\u2028",
    "kind: Pod",
    "kind: Job",
    "kind: CronJob",
    "kind: List",
    "apiVersion: v1",
    "apiVersion: batch/v1",
    "containers:",
    "initContainers:",
    "volumes:",
    "env:",
    "image: docker:29.8.0-cli",
    "inject-docker.dev/inject",
    "inject-docker.dev/injected",
    "mode: daemonset",
    "mode: audit",
    "functionConfig:",
    "results:",
    "items:",
]


def write_seeds(directory: Path) -> None:
    """The golden inputs with their configs, also with CRLF line endings and as JSON."""
    from tests.support import GOLDEN_CASES, golden_stdin

    directory.mkdir(parents=True, exist_ok=True)
    for case in GOLDEN_CASES:
        text = golden_stdin(case)
        (directory / f"{case.name}.yaml").write_bytes(text.encode())
        (directory / f"{case.name}.crlf.yaml").write_bytes(text.replace("\n", "\r\n").encode())
        try:
            value = yaml.safe_load(text)
            as_json = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        except (yaml.YAMLError, TypeError, ValueError):
            continue
        (directory / f"{case.name}.json").write_bytes(as_json.encode())


def write_dictionary(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(token) + "\n" for token in DICTIONARY))


def arguments(argv: list[str]) -> list[str]:
    """libFuzzer's arguments: the defaults above where the command line gives none."""
    flags = [a for a in argv[1:] if a.startswith("-")]
    paths = [a for a in argv[1:] if not a.startswith("-")]
    if not any(a.startswith("-artifact_prefix=") for a in flags):
        (WORK / "crashes").mkdir(parents=True, exist_ok=True)
        flags.append(f"-artifact_prefix={WORK / 'crashes'}/")
    if not any(a.startswith("-dict=") for a in flags):
        write_dictionary(WORK / "yaml.dict")
        flags.append(f"-dict={WORK / 'yaml.dict'}")
    if not any(a.startswith("-timeout=") for a in flags):
        flags.append("-timeout=10")  # a hard stop for a hang; LIMIT reports slow runs
    if not paths:
        (WORK / "corpus").mkdir(parents=True, exist_ok=True)
        write_seeds(WORK / "seeds")
        paths = [str(WORK / "corpus"), str(WORK / "seeds")]
    return [argv[0], *flags, *paths]


def main() -> None:
    atheris.Setup(arguments(sys.argv), TestOneInput, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
