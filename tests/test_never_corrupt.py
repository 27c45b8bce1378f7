"""Regressions: each class of corruption once found by fuzzing, with its smallest input.

Every case checks the output as a YAML parser reads it, not as text: the item the
function changed holds what the function meant, and everything else what it held.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import yaml

from tests.support import ROOT, run_function

HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
MARKER = "inject-docker.dev/injected"


def _run(text: str) -> tuple[dict[str, Any], str]:
    done = run_function(text)
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr
    return yaml.safe_load(done.stdout), done.stdout


def _pod_spec(item: dict[str, Any]) -> dict[str, Any]:
    return item["spec"]["template"]["spec"] if item["kind"] == "Job" else item["spec"]


def _wired(item: dict[str, Any]) -> bool:
    return MARKER in ((item.get("metadata") or {}).get("annotations") or {})


def _warnings(output: dict[str, Any]) -> list[str]:
    return [r["message"] for r in output.get("results") or [] if r["severity"] == "warning"]


def test_1_a_comment_under_the_last_volume_does_not_move_new_volumes() -> None:
    text = HEADER + (
        "- apiVersion: batch/v1\n  kind: Job\n  metadata:\n    name: build\n  spec:\n"
        "    template:\n      spec:\n        volumes:\n        - name: cache\n"
        "          emptyDir: {}\n          # TODO: move the cache to a PVC\n"
        "        containers:\n        - name: build\n          image: docker:29.8.0-cli\n"
    )
    output, raw = _run(text)
    spec = _pod_spec(output["items"][0])
    assert [v["name"] for v in spec["volumes"]] == ["cache", "dind-socket", "dind-storage"]
    assert [c["name"] for c in spec["initContainers"]] == ["dind"]
    assert "# TODO: move the cache to a PVC" in raw
    assert not any("rewritten whole" in w for w in _warnings(output))


def test_2_a_keep_block_scalar_at_the_end_keeps_its_blank_lines() -> None:
    configmap = (
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n"
        "    script: |+\n      echo hi\n\n\n"
    )
    pod = (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
        "    - name: build\n      image: docker:29.8.0-cli\n"
    )
    output, _ = _run(HEADER + pod + configmap)
    assert output["items"][1]["data"]["script"] == "echo hi\n\n\n"
    assert output["results"]
    # The changed workload itself last, ending in such a scalar.
    last = pod + "      args:\n      - |+\n        echo hi\n\n\n"
    output, _ = _run(HEADER + last)
    assert _pod_spec(output["items"][0])["containers"][0]["args"] == ["echo hi\n\n\n"]
    assert _wired(output["items"][0])


def test_3_a_dash_string_stays_a_string_when_a_resource_is_rewritten_whole() -> None:
    # An explicit key (`? note`) cannot be edited in place: the Pod is rewritten whole.
    text = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n    ? labels\n"
        "    : {a: b}\n  spec:\n    containers:\n    - name: build\n"
        '      image: docker:29.8.0-cli\n      command: [tar, -xf, "-"]\n'
    )
    output, _ = _run(text)
    assert _pod_spec(output["items"][0])["containers"][0]["command"] == ["tar", "-xf", "-"]
    assert any("rewritten whole" in w for w in _warnings(output))


def test_4_a_kind_key_that_is_not_written_plain_is_still_found() -> None:
    spec = "  spec:\n    containers:\n    - name: build\n      image: docker:29.8.0-cli\n"
    kinds = [
        '- apiVersion: v1\n  "kind": Pod\n  metadata:\n    name: a\n',
        "- apiVersion: v1\n  'kind': Pod\n  metadata:\n    name: b\n",
        "- apiVersion: v1\n  kind : Pod\n  metadata:\n    name: c\n",
        "- apiVersion: v1\n  ? kind\n  : Pod\n  metadata:\n    name: d\n",
        "- apiVersion: v1\n  kind: !!str Pod\n  metadata:\n    name: e\n",
        "- apiVersion: v1\n  kind:\n    Pod\n  metadata:\n    name: f\n",
    ]
    output, _ = _run(HEADER + "".join(k + spec for k in kinds))
    assert [_wired(item) for item in output["items"][: len(kinds)]] == [True] * len(kinds)
    merged = HEADER + (
        "- &base {apiVersion: v1, kind: Pod, metadata: {name: base}}\n"
        "- <<: *base\n  metadata:\n    name: g\n" + spec
    )
    output, _ = _run(merged)
    assert _wired(output["items"][1])


def test_5_explicit_keys_do_not_misplace_inserted_keys() -> None:
    text = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
        "    - name: build\n      image: docker:29.8.0-cli\n      ? ports\n"
    )
    output, _ = _run(text)
    container = _pod_spec(output["items"][0])["containers"][0]
    assert container["ports"] is None
    assert container["env"][0]["name"] == "DOCKER_HOST"
    assert set(output) == {"apiVersion", "kind", "items", "results"}


def test_6_lines_inside_quoted_strings_are_not_items_or_keys() -> None:
    pod = (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
        "    - name: build\n      image: docker:29.8.0-cli\n"
    )
    tricky = (
        '- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n  data:\n    x: "one\n'
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: fake\n"
        'functionConfig: {mode: audit}\n  two"\n'
    )
    output, _ = _run(HEADER + tricky + pod)
    assert len(output["items"]) == 2
    assert "functionConfig" not in output
    assert output["items"][0]["data"]["x"].startswith("one - apiVersion: v1 kind: Pod")
    assert _wired(output["items"][1])  # sidecar mode, not the audit in the string
    # NEL (U+0085) breaks lines for YAML readers: the item after one is found.
    output, _ = _run(HEADER + pod.replace("\n  spec:", "\x85  spec:"))
    assert _wired(output["items"][0])


def test_7_anchors_shared_between_items_are_never_half_edited() -> None:
    text = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n"
        "    containers: &c\n    - name: build\n      image: docker:29.8.0-cli\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: d\n  spec:\n"
        "    template:\n      spec:\n        containers: *c\n"
    )
    output, _ = _run(text)
    pod, deployment = output["items"]
    assert _wired(pod)
    assert deployment["spec"]["template"]["spec"]["containers"] == [
        {"name": "build", "image": "docker:29.8.0-cli"}
    ]
    assert any("anchors" in w for w in _warnings(output))
    undefined = HEADER + "- apiVersion: v1\n  kind: Pod\n  metadata: *nowhere\n"
    done = run_function(undefined)
    assert done.code == 1 and done.stdout == ""
    assert "not valid YAML" in done.stderr and "Traceback" not in done.stderr


def test_8_comments_in_changed_text_are_kept() -> None:
    text = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n    annotations: {} # none\n"
        "  spec:\n    containers:\n    - name: build\n      image: docker:29.8.0-cli\n"
        "      env: [] # to fill\n    - name: flow\n      image: docker:29.8.0-cli\n"
        "      env: [{name: A, value: b}, # first\n        {name: C, value: d}]\n"
    )
    output, raw = _run(text)
    for comment in ("# none", "# to fill", "# first"):
        assert comment in raw
    containers = _pod_spec(output["items"][0])["containers"]
    assert [e["name"] for e in containers[1]["env"]] == [
        "A",
        "C",
        "DOCKER_HOST",
        "TESTCONTAINERS_HOST_OVERRIDE",
        "TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE",
    ]
    # A migrated socket volume whose lines hold a block scalar and a comment.
    migrated = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: m\n  spec:\n    containers:\n"
        "    - name: build\n      image: docker:29.8.0-cli\n      volumeMounts:\n"
        "      - name: sock\n        mountPath: /var/run/docker.sock\n    volumes:\n"
        "    - name: sock # the node's daemon\n      hostPath:\n"
        "        path: >-\n          /var/run/docker.sock\n"
    )
    output, raw = _run(migrated)
    assert "# the node's daemon" in raw
    assert [v["name"] for v in _pod_spec(output["items"][0])["volumes"]] == [
        "dind-socket",
        "dind-storage",
    ]


def _run_bytes(data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "function"], input=data, capture_output=True, cwd=ROOT, check=False
    )


def test_9_a_byte_order_mark_is_kept_and_moves_nothing() -> None:
    text = HEADER + (
        "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n"
        "    - name: build # the builder\n      image: docker:29.8.0-cli\n"
    )
    done = _run_bytes(b"\xef\xbb\xbf" + text.encode())
    assert done.returncode == 0
    assert done.stdout.startswith(b"\xef\xbb\xbfapiVersion")
    output = yaml.safe_load(done.stdout.decode("utf-8-sig"))
    assert _wired(output["items"][0]) and "rewritten whole" not in done.stdout.decode()
    assert b"# the builder" in done.stdout
    as_json = b'\xef\xbb\xbf{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", ' + (
        b'"items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, '
        b'"spec": {"containers": [{"name": "b", "image": "docker:29.8.0-cli"}]}}]}'
    )
    done = _run_bytes(as_json)
    assert done.stdout.startswith(b'\xef\xbb\xbf{\n  "apiVersion"')
    assert b"DOCKER_HOST" in done.stdout


def test_10_json_numbers_come_out_as_they_went_in() -> None:
    data = (
        b'{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": ['
        b'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {'
        b'"containers": [{"name": "b", "image": "docker:29.8.0-cli", "x": [1e400, 1.50]}]}}]}'
    )
    done = _run_bytes(data)
    assert done.returncode == 0
    assert b"1e400" in done.stdout and b"1.50" in done.stdout and b"Infinity" not in done.stdout


def test_an_alias_bomb_in_the_config_is_refused_at_once() -> None:
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        levels.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    config = "".join(f"    {line}\n" for line in levels)
    text = HEADER + "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n" + config
    started = time.monotonic()
    done = run_function(text)
    assert time.monotonic() - started < 2
    # An invalid config: the list comes back whole, with an error result.
    assert done.code == 1 and "Traceback" not in done.stderr
    errors = [r for r in yaml.safe_load(done.stdout)["results"] if r["severity"] == "error"]
    assert len(errors) == 1 and "alias bomb" in errors[0]["message"]
