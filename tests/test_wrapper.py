"""The daemon's shell wrapper, run under dash (POSIX sh) over a made-up root.

The wrapper reads the pod interface's MTU, writes daemon.json from DOCKERD_CONFIG
and hands over to the image's entrypoint. Here the root holds a fake
/proc/net/route, /sys/class/net and a fake `dockerd-entrypoint.sh` on PATH that
prints the arguments it was given, so each test sees what dockerd would be
started with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from function.config.load import load
from function.transform import dockerd

DASH = shutil.which("dash") or "/bin/sh"
HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"


def _root(tmp_path: Path, routes: dict[str, str], mtus: dict[str, int]) -> Path:
    root = tmp_path / "root"
    (root / "proc/net").mkdir(parents=True)
    lines = [f"{dev}\t{dest}\t0101A8C0\t0003\t0\t0\t0\t00000000\n" for dev, dest in routes.items()]
    (root / "proc/net/route").write_text(HEADER + "".join(lines))
    for dev, mtu in mtus.items():
        (root / "sys/class/net" / dev).mkdir(parents=True)
        (root / "sys/class/net" / dev / "mtu").write_text(f"{mtu}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    entrypoint = bin_dir / "dockerd-entrypoint.sh"
    entrypoint.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    entrypoint.chmod(0o755)
    return root


def _run(
    tmp_path: Path, settings: dict[str, object], root: Path, extra: dict[str, str] | None = None
) -> tuple[list[str], str]:
    config = load({"kind": "InjectDocker", **settings})
    command = dockerd.command(config)
    assert command is not None and command[:2] == ["/bin/sh", "-c"]
    args = dockerd.args(config, "/var/run/dind", group="2375")
    env = {e["name"]: e["value"] for e in dockerd.env(config, "/var/run/dind")}
    done = subprocess.run(
        [DASH, "-c", command[2], command[3], *args],
        env={
            "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
            "INJECT_DOCKER_ROOT": str(root),
            **env,
            **(extra or {}),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines(), done.stderr


def test_the_mtu_of_the_default_route_s_interface_is_passed(tmp_path: Path) -> None:
    root = _root(tmp_path, {"lo": "0000007F", "eth0": "00000000"}, {"lo": 65536, "eth0": 1450})
    started, stderr = _run(tmp_path, {}, root)
    assert started[:3] == ["dockerd", "--host=unix:///var/run/dind/docker.sock", "--group=2375"]
    assert started[3:] == [
        "--mtu=1450",
        "--default-network-opt=bridge=com.docker.network.driver.mtu=1450",
    ]
    assert stderr == ""


def test_the_interface_need_not_be_eth0(tmp_path: Path) -> None:
    root = _root(tmp_path, {"net1": "00000000"}, {"net1": 8951, "eth0": 1500})
    started, _ = _run(tmp_path, {}, root)
    assert "--mtu=8951" in started


def test_no_interface_falls_back_to_dockerd_s_own_and_says_so(tmp_path: Path) -> None:
    root = _root(tmp_path, {}, {})
    started, stderr = _run(tmp_path, {}, root)
    assert not any(a.startswith("--mtu") for a in started)
    assert "no MTU found for eth0; dockerd keeps 1500" in stderr


def test_daemon_json_is_written_from_the_environment(tmp_path: Path) -> None:
    root = _root(tmp_path, {"eth0": "00000000"}, {"eth0": 1500})
    _run(tmp_path, {"maxConcurrentDownloads": 6}, root)
    written = json.loads((root / "etc/docker/daemon.json").read_text())
    assert written == {
        "builder": {"gc": {"enabled": True, "defaultKeepStorage": "20GB"}},
        "max-concurrent-downloads": 6,
    }


def test_a_rootless_daemon_s_daemon_json_goes_to_its_user_s_config(tmp_path: Path) -> None:
    """dockerd as a user other than root reads $XDG_CONFIG_HOME/docker/daemon.json (by
    default under $HOME/.config) and may not write /etc."""
    root = _root(tmp_path, {"eth0": "00000000"}, {"eth0": 1500})
    fake_id = tmp_path / "bin" / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    _run(tmp_path, {"rootless": True}, root, {"HOME": "/home/rootless"})
    written = root / "home/rootless/.config/docker/daemon.json"
    assert json.loads(written.read_text())["builder"]["gc"]["enabled"] is True
    assert not (root / "etc/docker/daemon.json").exists()
    _run(tmp_path, {"rootless": True}, root, {"HOME": "/x", "XDG_CONFIG_HOME": "/cfg"})
    assert (root / "cfg/docker/daemon.json").exists()


@pytest.mark.parametrize(
    ("iptables", "variable", "flags"),
    [
        ("auto", None, []),
        ("nft", "", []),
        ("legacy", "1", []),
        ("off", None, ["--iptables=false", "--ip6tables=false"]),
    ],
)
def test_iptables_choice(
    tmp_path: Path, iptables: str, variable: str | None, flags: list[str]
) -> None:
    config = load({"kind": "InjectDocker", "iptables": iptables})
    env = {e["name"]: e["value"] for e in dockerd.env(config, "/var/run/dind")}
    assert env.get("DOCKER_IPTABLES_LEGACY") == variable
    root = _root(tmp_path, {"eth0": "00000000"}, {"eth0": 1500})
    started, _ = _run(tmp_path, {"iptables": iptables}, root)
    assert [a for a in started if a.startswith("--ip")] == flags


def test_no_wrapper_when_nothing_needs_finding_out() -> None:
    config = load({"kind": "InjectDocker", "mtu": 1400, "buildCacheKeep": None})
    assert dockerd.command(config) is None
