"""Start one container: run inside fresh mount, PID and UTS namespaces (and the pod's
network namespace), as `unshare` and `nsenter` start it from tests/runtime/emulator.py.

    nsenter --net=POD_NETNS unshare --mount --pid --uts --fork --kill-child=SIGKILL \
        --propagation private python3 launch.py SPEC.json

SPEC.json says what the container gets: its root (an overlay of the shared Debian 13
root with a writable layer of its own, as a container's image and writable layer),
hostname, /proc, /sys, /dev, its volume mounts (bind mounts, readOnly honoured), then
its working folder, user, group and supplementary groups, environment and command.
Standard library only: it runs before the container's root exists.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
from typing import Any

MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000

_libc = ctypes.CDLL(None, use_errno=True)


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    result = _libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


def inside(root: str, path: str, *, make: str | None = None) -> str:
    """`path` of the container as a path on the host, following symbolic links the way
    they resolve inside `root` (an absolute link target starts again from `root`, never
    from the host's /). `make`: "dir" or "file" creates what is missing."""
    parts = [p for p in path.split("/") if p and p != "."]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError(f"too many symbolic links in {path}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        if not os.path.exists(candidate) and make:
            if parts or make == "dir":
                os.mkdir(candidate, 0o755)
            else:
                with open(candidate, "a"):
                    pass
        resolved.append(part)
    return os.path.join(root, *resolved)


def main(spec_path: str) -> None:
    with open(spec_path) as handle:
        spec: dict[str, Any] = json.load(handle)
    rootfs = spec["rootfs"]

    socket.sethostname(spec["hostname"])
    mount(
        "overlay",
        rootfs,
        "overlay",
        0,
        f"lowerdir={spec['lower']},upperdir={spec['upper']},workdir={spec['work']}",
    )
    mount("proc", os.path.join(rootfs, "proc"), "proc", 0, None)
    # A sysfs of our own shows the pod's network interfaces (the MTU wrapper reads them).
    mount("sysfs", os.path.join(rootfs, "sys"), "sysfs", 0, None)
    mount("/sys/fs/cgroup", os.path.join(rootfs, "sys/fs/cgroup"), None, MS_BIND | MS_REC, None)
    mount("/dev", os.path.join(rootfs, "dev"), None, MS_BIND | MS_REC, None)

    # Parents before children, as container runtimes order mounts.
    for volume in sorted(spec["mounts"], key=lambda m: m["target"].rstrip("/").count("/")):
        source = volume["source"]
        kind = "dir" if os.path.isdir(source) else "file"
        try:
            target = inside(rootfs, volume["target"], make=kind)
            mount(source, target, None, MS_BIND | MS_REC, None)
            if volume.get("readonly"):
                mount(source, target, None, MS_BIND | MS_REC | MS_REMOUNT | MS_RDONLY, None)
        except OSError as error:
            raise OSError(
                error.errno,
                f"cannot mount volume {volume['name']!r} at {volume['target']}: "
                f"{os.strerror(error.errno) if error.errno else error}",
            ) from error

    os.chroot(rootfs)
    workdir = spec.get("workdir") or "/"
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)

    os.setgroups(spec["groups"])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])

    env = spec["env"]
    argv = spec["argv"]
    sys.stdout.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as error:
        print(f"runtime tier: cannot run {argv[0]!r} in the container: {error}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except OSError as error:
        print(f"runtime tier: container setup failed: {error}", file=sys.stderr)
        sys.exit(126)
