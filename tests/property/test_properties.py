"""Property tests of "never corrupt a manifest": generated ResourceLists in many YAML styles.

Each test draws ResourceLists from `tests.property.strategies` (text written in
block and flow style, with comments, anchors, block scalars, CRLF, a BOM, or as
JSON; each with the value it means) and checks one property of the function's
run on it, in-process through `pipeline.run` for speed (one test also goes
through the command line).

Profiles, chosen by the environment variable HYPOTHESIS_PROFILE:

- `ci` (the default): about 330 examples over the whole file, derandomized, so
  every run tests the same examples; about 20 s on the 2-core CI machine when
  every property holds (a failure adds Hypothesis's shrinking: up to minutes).
- `long`: twelve times as many (about 4,000), also derandomized; for a session
  of looking for bugs: `HYPOTHESIS_PROFILE=long python -m pytest tests/property`
  (about 5 minutes when everything holds, more with failures to shrink).

The profiles are plain `settings` objects applied to each test, not registered
with Hypothesis: registering "ci" would replace Hypothesis's own profile of that
name for every other test in the run. A failure prints the smallest text that
shows it; save it in `tests/property/regressions/` (see the README there), where
`test_regression` replays every check on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes_validate.utils import SchemaNotFoundError

from function import pipeline
from function.krm.resourcelist import SHARED_ANCHORS, InputError
from tests.property.strategies import (
    Generated,
    canonical,
    is_selected,
    parse,
    resource_lists,
    same,
)
from tests.support import ROOT, item_texts, validation_errors
from tests.test_wiring import MARKER, _check_client, _containers, _pods

GENERATED_ANNOTATION = "inject-docker.dev/generated"
# Results that say how a text was written, not what it means: they differ
# between a text and its canonical form by design.
WRITING_NOTES = ("rewritten whole", SHARED_ANCHORS)
REGRESSIONS = Path(__file__).parent / "regressions"
RECORD_ANNOTATION = "inject-docker.dev/injected"  # what the function wired, and how

_BASE = settings(
    derandomize=True,
    database=None,
    deadline=None,  # validation and the CLI take their time; a slow run is no failure here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)
PROFILES = {"ci": 1, "long": 12}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = PROFILES.get(PROFILE, 1)


def examples(count: int) -> settings:
    """`count` examples under the ci profile, more under the long one."""
    return settings(_BASE, max_examples=count * SCALE)


# ---------------------------------------------------------------------------
# Helpers.


def _output(doc: Generated, text: str) -> dict[str, Any]:
    """The output as data: JSON input comes out as JSON, YAML as YAML."""
    value = parse(text, doc.form)
    assert isinstance(value, dict), f"the output is not a mapping: {text!r}"
    return value


def _run(doc: Generated) -> tuple[pipeline.Run, dict[str, Any]]:
    done = pipeline.run(doc.text)
    return done, _output(doc, done.output)


def _name(item: Any) -> tuple[Any, Any]:
    """kind and name of an item (a cut-off text may leave one that is no mapping)."""
    if not isinstance(item, dict):
        return "(not a mapping)", item
    meta = item.get("metadata")
    return item.get("kind"), meta.get("name") if isinstance(meta, dict) else None


def _messages(done: pipeline.Run) -> list[str]:
    return [r.message for r in done.results]


def _written_whole(done: pipeline.Run) -> bool:
    """The list came out rewritten from its value (anchors shared between items)."""
    return SHARED_ANCHORS in _messages(done)


def _content_slices(text: str) -> list[str]:
    """The text of each item, less the blank and comment lines that close it: those
    belong between items, and the results may be written before a closing comment.
    The BOM is taken off first, as libyaml's marks do not count it."""
    out = []
    for _, piece in item_texts(text.removeprefix("\ufeff")):
        lines = piece.splitlines(keepends=True)
        while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
            lines.pop()
        # Without its last line break: a text that ends without one gets one before
        # the results that follow it.
        out.append("".join(lines).rstrip("\r\n"))
    return out


def missing(old: Any, new: Any, path: str = "") -> list[str]:
    """What of `old` is not in `new`: every key of a mapping must be there with its
    value, each list must be a subsequence of its new list (new entries anywhere),
    and scalars must be equal, types included."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path or '.'}: was a mapping, is {new!r}"]
        out = []
        for key, value in old.items():
            if key not in new:
                out.append(f"{path}.{key}: removed")
            else:
                out += missing(value, new[key], f"{path}.{key}")
        return out
    if isinstance(old, list):
        if not isinstance(new, list):
            return [f"{path or '.'}: was a list, is {new!r}"]
        # Matching each old entry to the earliest new entry that holds it finds a
        # match whenever there is one.
        at = 0
        for i, value in enumerate(old):
            while at < len(new) and missing(value, new[at]):
                at += 1
            if at == len(new):
                return [f"{path}[{i}]: {value!r} is gone"]
            at += 1
        return []
    return [] if same(old, new) else [f"{path}: {old!r} became {new!r}"]


# ---------------------------------------------------------------------------
# The properties, each a check of one document: the property tests draw the
# documents, and the regression replay reads them from tests/property/regressions.


def check_items_kept(doc: Generated) -> None:
    """Every item is kept, in order; generated resources come only after them."""
    _, output = _run(doc)
    before = [_name(item) for item in doc.items]
    after = output.get("items") or []
    assert [_name(item) for item in after[: len(before)]] == before
    for extra in after[len(before) :]:
        annotations = (extra.get("metadata") or {}).get("annotations") or {}
        assert annotations.get(GENERATED_ANNOTATION) == "true", extra
    if after[len(before) :]:
        # Only daemonset mode (by config or by a workload's annotation) generates.
        assert doc.mode == "daemonset" or "daemonset" in json.dumps(doc.items)


def check_unselected_untouched(doc: Generated) -> None:
    """Items the function must not wire (other kinds, opt-outs, everything in audit
    mode) come out byte for byte; as equal values where the output is written whole
    (JSON, or anchors shared between items, which the run reports)."""
    done, output = _run(doc)
    after = output.get("items") or []
    # A list that is one flow mapping (YAML, not JSON) is written whole too.
    flow = doc.text.removeprefix("\ufeff").lstrip().startswith("{")
    whole = doc.form == "json" or flow or _written_whole(done)
    before_texts = [] if whole else _content_slices(doc.text)
    after_texts = [] if whole else _content_slices(done.output)
    for i, item in enumerate(doc.items):
        if _selected(doc, item, after[i]):
            continue
        assert same(after[i], item), f"items[{i}] changed meaning"
        if not whole:
            assert after_texts[i] == before_texts[i], f"items[{i}] changed its text"


def check_selected_only_gain(doc: Generated) -> None:
    """A wired workload keeps everything it had: the modes only add (a daemon, its
    volumes, DOCKER_HOST and mounts in the clients, the record annotation). The
    generator writes no host docker.sock mounts or hand-written daemons, whose
    migration is the one documented removal."""
    if doc.own_config:
        return  # a saved input's config may ask for migration, which removes
    _, output = _run(doc)
    after = output.get("items") or []
    for i, item in enumerate(doc.items):
        if is_selected(item, doc.mode):
            assert missing(item, after[i]) == [], f"items[{i}]"


def _selected(doc: Generated, item: dict[str, Any], out: Any) -> bool:
    """Whether the function was to wire `item`: the generator's rule for the configs it
    writes; for a saved input's own config, whether the output records a wiring."""
    if not doc.own_config:
        return is_selected(item, doc.mode)
    annotations = ((out if isinstance(out, dict) else {}).get("metadata") or {}).get(
        "annotations"
    ) or {}
    return RECORD_ANNOTATION in annotations


def _meaning(run: pipeline.Run) -> list[dict[str, Any]]:
    return [r.as_dict() for r in run.results if not any(n in r.message for n in WRITING_NOTES)]


def check_formatting_keeps_meaning(doc: Generated) -> None:
    """The run on the text and the run on the same value dumped canonically give the
    same items, the same results (less those about how a text was written) and the
    same exit code."""
    done, output = _run(doc)
    # Escaped: PyYAML writes NEL, LS and PS raw into quoted scalars when allowed to,
    # and reads them back folded into spaces; escaped, they survive its round trip.
    plain = yaml.safe_dump(doc.value, sort_keys=False, allow_unicode=False)
    again = pipeline.run(plain)
    plain_output = yaml.load(again.output, Loader=yaml.CSafeLoader)
    assert canonical(output.get("items") or []) == canonical(plain_output.get("items") or [])
    assert _meaning(done) == _meaning(again)
    assert done.code == again.code


def check_second_run_changes_nothing(doc: Generated) -> None:
    done = pipeline.run(doc.text)
    assert pipeline.run(done.output).output == done.output


def check_valid_for_kubernetes(doc: Generated) -> None:
    """Every item the function changed or generated passes validation for
    Kubernetes 1.29 and the newest version kubernetes-validate knows."""
    _, output = _run(doc)
    after = output.get("items") or []
    for i, item in enumerate(after):
        generated = i >= len(doc.items)
        if generated or not same(item, doc.items[i]):
            try:
                problems = validation_errors(item)
            except SchemaNotFoundError:
                continue  # an API version Kubernetes does not serve (`batch/v2`): no schema
            if problems and not generated and validation_errors(doc.items[i]):
                continue  # invalid as it came (a fuzzed input): not the function's doing
            assert problems == [], f"items[{i}] {_name(item)}"


def check_clients_reach_daemon(doc: Generated) -> None:
    """The checker of tests/test_wiring.py, on every workload the run wired."""
    done, output = _run(doc)
    after = output.get("items") or []
    warned = any("does not serve" in message for message in _messages(done))
    for i, item in enumerate(after[: len(doc.items)]):
        if same(item, doc.items[i]):
            continue
        whole_record = json.loads(item["metadata"]["annotations"][MARKER])
        # A pod spec, or each Tekton Task spec or Argo template the record names.
        for spec, record in _pods(item, whole_record, {}):
            clients = [c for c in _containers(spec) if c["name"] in record["clients"]]
            assert clients and len(clients) == len(record["clients"]), f"items[{i}]"
            for client in clients:
                _check_client(after, spec, record, client, warned)


def check_exit_code_and_output_list(doc: Generated) -> None:
    """Exit code 1 exactly when there is an error result; the output is a complete
    ResourceList that carries every error."""
    done, output = _run(doc)
    errors = [r for r in done.results if r.severity == "error"]
    assert done.code == (1 if errors else 0)
    assert output.get("kind") == "ResourceList"
    assert output.get("apiVersion") == doc.value["apiVersion"]
    assert len(output.get("items") or []) >= len(doc.items)
    written = [r.get("message") for r in output.get("results") or []]
    for error in errors:
        assert error.message in written


def check_command_line(doc: Generated) -> None:
    """Through `python -m function`, bytes in and out (CRLF and the BOM intact): the
    same output and exit code as in-process, and never a traceback."""
    done = pipeline.run(doc.text)
    cli = subprocess.run(
        [sys.executable, "-m", "function"],
        input=doc.text.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    stderr = cli.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    assert cli.returncode == done.code, stderr
    assert cli.stdout == done.output.encode("utf-8")
    if done.code:
        assert "error" in stderr


CHECKS = [
    check_items_kept,
    check_unselected_untouched,
    check_selected_only_gain,
    check_formatting_keeps_meaning,
    check_second_run_changes_nothing,
    check_valid_for_kubernetes,
    check_clients_reach_daemon,
    check_exit_code_and_output_list,
    check_command_line,
]


# ---------------------------------------------------------------------------
# The property tests.


@examples(15)
@given(resource_lists())
def test_the_generated_text_means_its_value_and_its_resources_are_valid(doc: Generated) -> None:
    """The generator's own contract: the strategy already refuses a text that does not
    mean its value; here its Kubernetes resources pass validation too, so validating
    the function's output tests the function."""
    assert same(parse(doc.text, doc.form), doc.value)
    for item in doc.items:
        if not str(item["apiVersion"]).startswith("example.dev/"):
            assert validation_errors(item) == [], item


@examples(40)
@given(resource_lists())
def test_every_item_is_kept_in_order(doc: Generated) -> None:
    check_items_kept(doc)


@examples(40)
@given(resource_lists())
def test_unselected_items_are_untouched(doc: Generated) -> None:
    check_unselected_untouched(doc)


@examples(40)
@given(resource_lists())
def test_selected_items_only_gain(doc: Generated) -> None:
    check_selected_only_gain(doc)


@examples(30)
@given(resource_lists())
def test_formatting_never_changes_meaning(doc: Generated) -> None:
    check_formatting_keeps_meaning(doc)


@examples(30)
@given(resource_lists())
def test_a_second_run_changes_nothing(doc: Generated) -> None:
    check_second_run_changes_nothing(doc)


@examples(20)
@given(resource_lists())
def test_what_the_function_writes_is_valid_for_kubernetes(doc: Generated) -> None:
    check_valid_for_kubernetes(doc)


@examples(40)
@given(resource_lists())
def test_every_client_reaches_its_daemon(doc: Generated) -> None:
    check_clients_reach_daemon(doc)


@examples(40)
@given(resource_lists())
def test_the_exit_code_and_the_output_list(doc: Generated) -> None:
    check_exit_code_and_output_list(doc)


@examples(6)
@given(resource_lists())
def test_the_command_line_writes_what_the_pipeline_makes(doc: Generated) -> None:
    check_command_line(doc)


@examples(30)
@given(resource_lists(), st.data())
def test_a_cut_off_input_is_refused_or_handled_whole(doc: Generated, data: st.DataObject) -> None:
    """A text cut short (an interrupted pipe) is refused with InputError, or read
    whole: the output then holds every item the cut text holds. Nothing else raises."""
    cut = doc.text[: data.draw(st.integers(0, len(doc.text)), label="cut at")]
    try:
        done = pipeline.run(cut)
    except InputError:
        return
    try:
        meant = parse(cut, doc.form)
    except (yaml.YAMLError, ValueError):
        return  # the function read what libyaml (or json) does not: nothing to compare
    output = _output(doc, done.output)
    if isinstance(meant, dict) and isinstance(meant.get("items"), list):
        before = [_name(item) for item in meant["items"]]
        assert [_name(item) for item in (output.get("items") or [])[: len(before)]] == before
    assert done.code == (1 if any(r.severity == "error" for r in done.results) else 0)


# ---------------------------------------------------------------------------
# The regressions: each input a property test or the fuzzer once failed on.

CASES = sorted(REGRESSIONS.glob("*.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_regression(case: Path) -> None:
    """A saved input that is a readable ResourceList passes every check above. One
    that the safe loader cannot read (not YAML, or tags and keys it cannot build)
    is refused: with InputError, as the README promises for input that is not
    YAML, or at least with an error result and exit code 1; never accepted quietly,
    and never with another exception."""
    text = case.read_bytes().decode("utf-8")
    try:
        doc = Generated.of(text)
    except (yaml.YAMLError, ValueError):
        try:
            done = pipeline.run(text)
        except InputError:
            return
        assert done.code == 1
        assert any(r.severity == "error" for r in done.results)
        return
    try:
        pure = yaml.load(text, Loader=yaml.SafeLoader)
        agreed = doc.form == "json" or canonical(pure) == canonical(doc.value)
    except yaml.YAMLError:
        agreed = False
    if not agreed:
        # libyaml and PyYAML's own reader (closer to the spec) read it differently (a
        # byte order mark at the start of a line): the function must refuse it.
        with pytest.raises(InputError):
            pipeline.run(text)
        return
    for check in CHECKS:
        check(doc)
