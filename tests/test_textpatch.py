"""In-place YAML editing: the smallest text edit, and nothing else touched."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
import yaml

from function.yamltext import diff as textpatch
from function.yamltext import writer as emit
from tests.support import GOLDEN, run_function


def _patch(text: str, change: Any) -> str:
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    old = yaml.safe_load(text)
    new = change(yaml.safe_load(text))
    edits = textpatch.diff(text, node, old, new, textpatch.sequence_style(text, node, "compact"))
    assert edits is not None
    patched = textpatch.apply(text, edits)
    assert yaml.safe_load(patched) == new
    return patched


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "on",
        "Off",
        "y",
        "N",
        "12:30",
        "0755",
        "1e3",
        "0x1F",
        "null",
        "~",
        "",
        " a",
        "a: b",
        "a #b",
        "- a",
        "true",
        ".inf",
        "=",
        "*ref",
        "&a",
        "!tag",
        "@x",
        "`x",
        "a:",
    ],
)
def test_strings_that_other_readers_take_for_something_else_are_quoted(text: str) -> None:
    assert not emit.is_plain_safe(text)
    assert yaml.safe_load(emit.scalar(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "docker:29.8.0-dind",
        "--mtu=1400",
        "unix:///var/run/dind/docker.sock",
        "a b",
        "spec.containers[0].env",
        "IP:$(DOCKER_NODE_IP)",
        "v1.2.3",
    ],
)
def test_ordinary_strings_stay_plain(text: str) -> None:
    assert emit.is_plain_safe(text)
    assert yaml.safe_load(emit.scalar(text)) == text


def test_new_key_goes_before_its_successor_above_that_keys_comments() -> None:
    text = "spec:\n  restartPolicy: Never\n\n  # the build\n  containers:\n  - name: a\n"

    def change(v: dict) -> dict:
        v["spec"] = {
            "restartPolicy": "Never",
            "initContainers": [{"name": "d"}],
            "containers": v["spec"]["containers"],
        }
        return v

    assert _patch(text, change) == (
        "spec:\n  restartPolicy: Never\n\n  initContainers:\n  - name: d\n"
        "  # the build\n  containers:\n  - name: a\n"
    )


def test_wide_sequences_stay_wide() -> None:
    text = "containers:\n  - name: a # first\n    env:\n      - name: X\n        value: '1'\n"

    def change(v: dict) -> dict:
        v["containers"][0]["env"].append({"name": "Y", "value": "yes"})
        v["containers"][0]["volumeMounts"] = [{"name": "s", "mountPath": "/s"}]
        return v

    assert _patch(text, change) == (
        "containers:\n  - name: a # first\n    env:\n      - name: X\n        value: '1'\n"
        "      - name: 'Y'\n        value: 'yes'\n"
        "    volumeMounts:\n      - name: s\n        mountPath: /s\n"
    )


def test_an_empty_flow_list_that_gains_entries_becomes_block_style() -> None:
    text = "env: [] # none yet\nname: a\n"
    patched = _patch(text, lambda v: {**v, "env": [{"name": "A", "value": "b"}]})
    assert patched == "env: # none yet\n- name: A\n  value: b\nname: a\n"


def test_first_key_of_a_sequence_entry_can_be_deleted() -> None:
    text = "items:\n- a: 1\n  b: 2\n- c: 3\n"
    assert _patch(text, lambda v: {"items": [{"b": 2}, {"c": 3}]}) == "items:\n- b: 2\n- c: 3\n"


def test_block_scalar_is_replaced_whole() -> None:
    text = "a: |\n  one\n  two\nb: 1\n"
    assert _patch(text, lambda v: {"a": "three", "b": 1}) == "a: three\nb: 1\n"


def test_new_entries_go_above_the_comment_of_the_entry_they_precede() -> None:
    text = "list:\n# head\n- 1 # one\n- 2\n# foot of two\nnext: x # tail\n"
    assert _patch(text, lambda v: {"list": [0, 1, 2, 3], "next": "x"}) == (
        "list:\n- 0\n# head\n- 1 # one\n- 2\n- 3\n# foot of two\nnext: x # tail\n"
    )


def test_anchors_fall_back_to_a_whole_rewrite_with_a_warning() -> None:
    text = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n"
        "    containers:\n    - &c\n      name: build\n      image: docker:cli\n"
        "    - name: other\n      image: docker:cli\n      args: *c\n"
    )
    done = run_function(text)
    assert done.code == 0, done.stderr
    out = yaml.safe_load(done.stdout)
    assert out["items"][0]["spec"]["initContainers"][0]["name"] == "dind"
    warnings = [r["message"] for r in out["results"] if r["severity"] == "warning"]
    assert any("rewritten whole" in m for m in warnings)


def test_a_hyphen_in_the_comment_after_a_dash_is_not_the_dash() -> None:
    text = "items:\n- # end-to-end tests - nightly\n  name: a\n- name: b\n"
    assert _patch(text, lambda v: {"items": [*v["items"], {"name": "c"}]}) == (
        "items:\n- # end-to-end tests - nightly\n  name: a\n- name: b\n- name: c\n"
    )


def test_an_entry_that_moves_is_deleted_and_inserted_not_a_whole_rewrite() -> None:
    text = "env:\n- name: DOCKER_HOST\n  value: old\n- name: OTHER # keep\n  value: x\n"
    new = {"env": [{"name": "OTHER", "value": "x"}, {"name": "DOCKER_HOST", "value": "new"}]}
    assert _patch(text, lambda v: new) == (
        "env:\n- name: OTHER # keep\n  value: x\n- name: DOCKER_HOST\n  value: new\n"
    )


def _random_change(value: Any, rng: random.Random) -> Any:
    """`value` with one random edit somewhere inside: a key added, dropped or changed, or an
    entry added or dropped."""
    containers: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, (dict, list)):
            containers.append(node)
            for child in node.values() if isinstance(node, dict) else node:
                walk(child)

    walk(value)
    target = rng.choice(containers)
    new_value: Any = rng.choice(["plain", "yes", "12:30", {"a": [1, "b"]}, ["x"], None, 7])
    if isinstance(target, dict):
        keys = list(target)
        action = rng.choice(["add", "drop", "set"]) if keys else "add"
        if action == "add":
            spot = rng.randint(0, len(keys))
            items = list(target.items())
            items.insert(spot, (f"new{rng.randint(0, 999)}", new_value))
            target.clear()
            target.update(items)
        elif action == "drop" and len(keys) > 1:
            del target[rng.choice(keys)]
        else:
            target[rng.choice(keys)] = new_value
    elif rng.random() < 0.5 or len(target) < 2:
        target.insert(rng.randint(0, len(target)), new_value)
    else:
        del target[rng.randrange(len(target))]
    return value


def test_random_edits_of_every_golden_resource_read_back_right() -> None:
    """Wherever `diff` returns edits (rather than asking for a rewrite), they are right."""
    rng = random.Random(20261128)
    checked = 0
    for path in sorted(GOLDEN.glob("*/input.yaml")):
        text = path.read_text()
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
        items = next((v for k, v in root.value if k.value == "items"), None)
        if not isinstance(items, yaml.SequenceNode):
            continue
        for node in items.value:
            old = yaml.CSafeLoader("").construct_document(node)
            for _ in range(6):
                new = _random_change(copy.deepcopy(old), rng)
                try:
                    edits = textpatch.diff(text, node, old, new, "compact")
                except textpatch.Unpatchable:
                    continue
                if edits is None:
                    continue
                patched = yaml.safe_load(textpatch.apply(text, edits))
                index = items.value.index(node)
                assert patched["items"][index] == new, path.parent.name
                checked += 1
    assert checked > 300
