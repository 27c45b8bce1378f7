"""The command line: bad input, formats, help and standalone mode."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.support import ROOT, run_function

POD_LIST = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: build
  spec:
    containers:
    - name: build
      image: docker:29.8.0-cli
"""


def _one_clear_line(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0]


def test_input_that_is_not_yaml() -> None:
    done = run_function("items: [unclosed\n  - x: {\n")
    assert done.code == 1
    assert done.stdout == ""
    _one_clear_line(done.stderr, "not valid YAML", "line")


def test_input_that_is_not_a_resource_list() -> None:
    done = run_function("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    assert done.code == 1
    _one_clear_line(done.stderr, "not a ResourceList", "Pod")


def test_empty_input() -> None:
    done = run_function("")
    assert done.code == 1
    _one_clear_line(done.stderr, "empty")


def test_several_documents() -> None:
    done = run_function(POD_LIST + "---\n" + POD_LIST)
    assert done.code == 1
    _one_clear_line(done.stderr, "not valid YAML")


def test_items_that_are_not_resources() -> None:
    done = run_function("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- 3\n")
    assert done.code == 1
    _one_clear_line(done.stderr, "items[0]")


def test_unsupported_api_version() -> None:
    done = run_function(POD_LIST.replace("config.kubernetes.io/v1", "example.com/v9"))
    assert done.code == 1
    _one_clear_line(done.stderr, "example.com/v9")


def test_json_in_json_out() -> None:
    data = yaml.safe_load(POD_LIST)
    done = run_function(json.dumps(data))
    assert done.code == 0, done.stderr
    out = json.loads(done.stdout)
    pod = out["items"][0]["spec"]
    assert pod["initContainers"][0]["name"] == "dind"
    # What needs attention first: the Pod Security warning, then what was added.
    assert [r["severity"] for r in out["results"]] == ["warning", "info"]
    again = run_function(done.stdout)
    assert again.stdout == done.stdout


def test_invalid_config_keeps_the_list_and_says_why_on_stderr() -> None:
    config = "functionConfig:\n  apiVersion: fn.inject-docker.dev/v1alpha1\n  kind: InjectDocker\n"
    done = run_function(POD_LIST + config + "  mode: nonsense\n  colour: blue\n")
    assert done.code == 1
    out = yaml.safe_load(done.stdout)
    assert out["items"] == yaml.safe_load(POD_LIST)["items"]
    errors = [r for r in out["results"] if r["severity"] == "error"]
    assert {r["field"]["path"] for r in errors} == {"mode", "colour"}
    assert done.stderr.count("inject-docker: error:") == 2
    assert "unknown field [colour]" in done.stderr


def test_help_is_short_and_points_at_the_reference() -> None:
    done = run_function("", "--help")
    assert done.code == 0
    assert "usage: inject-docker" in done.stdout
    assert "Config reference" in done.stdout
    assert len(done.stdout.splitlines()) < 30


def test_standalone_reads_files_and_stdin(tmp_path: Path) -> None:
    pod = yaml.safe_load(POD_LIST)["items"][0]
    source = tmp_path / "pod.yaml"
    source.write_text("# a pod\n" + yaml.safe_dump(pod, sort_keys=False))
    config = ROOT / "kustomization-examples" / "ci-job-sidecar" / "inject-docker.yaml"
    from_file = run_function("", "--config", str(config), str(source))
    assert from_file.code == 0, from_file.stderr
    assert from_file.stdout.startswith("# a pod\n")
    assert "initContainers" in from_file.stdout
    from_stdin = run_function(source.read_text(), "--config", str(config), "-")
    assert from_stdin.stdout == from_file.stdout
    assert source.read_text().count("initContainers") == 0  # files are never written


def test_standalone_reports_missing_files_and_bad_config(tmp_path: Path) -> None:
    missing = run_function("", "--config", "/dev/null", str(tmp_path / "nope.yaml"))
    assert missing.code == 1
    _one_clear_line(missing.stderr, "no such file")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: fn.inject-docker.dev/v1alpha1\nkind: InjectDocker\nmtu: lots\n")
    done = run_function("", "--config", str(bad), str(tmp_path))
    assert done.code == 1
    _one_clear_line(done.stderr, "mtu")


def test_lists_the_line_reader_cannot_cut_are_read_whole() -> None:
    pods = (
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n"
        "    - name: build\n      image: docker:29.8.0-cli\n"
    )
    configmap = (
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: q}\n"
        '  data:\n    x: "multi\n- line"\n'
    )
    done = run_function(pods + configmap)
    assert done.code == 0, done.stderr
    out = yaml.safe_load(done.stdout)
    assert out["items"][0]["spec"]["initContainers"][0]["name"] == "dind"
    assert out["items"][1]["data"]["x"] == "multi - line"
    assert '    x: "multi\n- line"\n' in done.stdout
    # Anchors shared between items: the list is written out whole, values kept.
    shared = pods.replace("containers:\n", "containers: &c\n") + (
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n  spec:\n    containers: *c\n"
    )
    done = run_function(shared + configmap)
    assert done.code == 0, done.stderr
    out = yaml.safe_load(done.stdout)
    assert [i["spec"]["initContainers"][0]["name"] for i in out["items"][:2]] == ["dind", "dind"]
    assert out["items"][2]["data"]["x"] == "multi - line"
    assert "anchors and aliases shared between resources" in done.stderr


def test_items_whose_keys_stand_deeper_than_usual_are_still_found() -> None:
    header = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
    pod += "  - name: build\n    image: docker:29.8.0-cli\n"
    deeper = "".join(f"    {line}\n" for line in pod.splitlines())
    for items in ("-" + deeper[1:], "- # a comment\n" + deeper):
        done = run_function(header + items)
        assert done.code == 0, done.stderr
        spec = yaml.safe_load(done.stdout)["items"][0]["spec"]
        assert spec["initContainers"][0]["name"] == "dind", items


def test_a_resource_with_malformed_metadata_costs_only_itself() -> None:
    bad = POD_LIST.split("items:\n", 1)[1].replace(
        "  metadata:\n    name: build\n", "  metadata: [1]\n"
    )
    done = run_function(POD_LIST + bad)
    assert done.code == 1
    assert "Traceback" not in done.stderr
    assert "Pod (no name): metadata is not a mapping; left unchanged [metadata]" in done.stderr
    items = yaml.safe_load(done.stdout)["items"]
    assert [c["name"] for c in items[0]["spec"]["initContainers"]] == ["dind"]
    assert items[1] == yaml.safe_load(bad)[0]
    assert bad in done.stdout  # its text untouched
