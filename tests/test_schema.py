"""The config schema and the README's config reference come from the same model."""

from __future__ import annotations

import json
import re

import jsonschema
import yaml

from function.config import schema
from tests.support import ROOT, UPDATE, run_function

README = ROOT / "README.md"
START, END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def test_readme_config_reference_is_up_to_date() -> None:
    text = README.read_text()
    wanted = START + "\n" + schema.markdown() + "\n" + END
    current = re.search(re.escape(START) + r".*?" + re.escape(END), text, re.S)
    assert current, "README lost its config-reference markers"
    if UPDATE:
        README.write_text(text.replace(current.group(0), wanted))
        return
    assert current.group(0) == wanted, "run UPDATE_GOLDEN=1 python -m pytest tests/test_schema.py"


def test_schema_command_prints_the_json_schema() -> None:
    printed = json.loads(run_function("", "schema").stdout)
    assert printed["title"] == "InjectDocker"
    assert printed["additionalProperties"] is False
    validator = jsonschema.Draft202012Validator(printed)
    assert (
        list(
            validator.iter_errors(
                {
                    "apiVersion": "fn.inject-docker.dev/v1alpha1",
                    "kind": "InjectDocker",
                    "mode": "daemonset",
                }
            )
        )
        == []
    )
    assert list(validator.iter_errors({"kind": "InjectDocker", "mod": "x"}))


def test_krm_function_definition_has_no_refs() -> None:
    printed = yaml.safe_load(run_function("", "schema", "--krm").stdout)
    assert printed["kind"] == "KRMFunctionDefinition"
    body = printed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    text = json.dumps(body)
    for word in (
        "$ref",
        '"const"',
        '"title"',
        '"anyOf"',
        'Properties": false',
        'Properties": true',
    ):
        assert word not in text, f"{word} is not OpenAPI v3.0 as CRD schemas take it"
    assert body["properties"]["daemonset"]["properties"]["name"]["default"] == "docker-ci"
