"""The config: defaults, the ConfigMap form, and not paying for pydantic when unused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from function.config import defaults
from function.config import model as config
from function.config.load import ConfigError, load


def test_the_model_takes_its_defaults_from_the_defaults_module() -> None:
    assert config.Config().model_dump() == defaults.DEFAULTS
    fast = defaults.default_config()
    model = config.Config()
    for name in defaults.DEFAULTS:
        if name != "daemonset":
            assert getattr(fast, name) == getattr(model, name), name
    assert {**vars(fast.daemonset), "prune": vars(fast.daemonset.prune)} == (
        model.daemonset.model_dump()
    )


@pytest.mark.parametrize(
    "function_config",
    [
        None,
        {},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "function-input"},
            "data": {},
        },
        {"apiVersion": defaults.API_VERSION, "kind": "InjectDocker", "metadata": {"name": "x"}},
    ],
)
def test_configs_that_set_nothing_are_the_defaults(function_config: object) -> None:
    assert defaults.is_default(function_config)


@pytest.mark.parametrize(
    "function_config",
    [
        {"apiVersion": defaults.API_VERSION, "kind": "InjectDocker", "mode": "daemonset"},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mtu": "1300"}},
        {"apiVersion": "v9", "kind": "InjectDocker"},
        {"kind": "Something"},
    ],
)
def test_configs_that_set_anything_are_validated(function_config: object) -> None:
    assert not defaults.is_default(function_config)


def test_a_default_run_does_not_import_pydantic() -> None:
    code = (
        "import sys, io\n"
        "from function import pipeline\n"
        "text = 'apiVersion: config.kubernetes.io/v1\\nkind: ResourceList\\nitems:\\n"
        "- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: b}]}}\\n"
        "functionConfig: {apiVersion: v1, kind: ConfigMap, data: {}}\\n'\n"
        "out = pipeline.run(text).output\n"
        "assert 'dind' in out\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_configmap_strings_become_typed_settings() -> None:
    loaded = load(
        {
            "kind": "ConfigMap",
            "data": {
                "mode": "daemonset",
                "registryMirrors": "https://a, https://b",
                "mtu": "1450",
                "nativeSidecar": "false",
                "daemonset.nodeSelector": "pool=ci,zone=a",
                "selectors": "[{kind: Deployment, labelSelector: 'ci=true'}]",
            },
        }
    )
    assert loaded.mode == "daemonset"
    assert loaded.registry_mirrors == ["https://a", "https://b"]
    assert loaded.mtu == 1450
    assert loaded.native_sidecar is False
    assert loaded.daemonset.node_selector == {"pool": "ci", "zone": "a"}
    assert loaded.selectors[0].kind == "Deployment"


def test_every_problem_is_reported_at_once_with_a_hint() -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            {
                "apiVersion": defaults.API_VERSION,
                "kind": "InjectDocker",
                "mode": "x",
                "registryMirror": "a",
                "mtu": "abc",
                "daemonset": {"hostSocketDir": "/var/run"},
            }
        )
    problems = dict(caught.value.problems)
    assert problems["mode"] == "must be sidecar, daemonset or audit (got 'x')"
    assert problems["registryMirror"] == "unknown field; did you mean 'registryMirrors'?"
    assert problems["mtu"] == "must be a whole number or auto (got 'abc')"
    assert "belongs to the node" in problems["daemonset.hostSocketDir"]
