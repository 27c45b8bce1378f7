"""A small process that starts the benchmarked commands and measures each one.

Why a separate process: on Linux, a child's ru_maxrss starts from the peak RSS of the
process that forked it (exec records the old address space's high-water mark). The
benchmark itself parses large YAML outputs and grows; children started straight from it
would inherit that peak. This helper imports next to nothing (run it with `python -S`),
so the floor it gives its children is about 10 MB, below any Python child's own.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
  request: {"argv": [...], "stdin": path|null, "stdout": path|null, "stderr": path|null,
            "timeout": seconds}   (null means /dev/null)
  reply:   {"seconds": wall, "cpu": user+sys, "maxrss_kb": peak, "status": exit status,
            "timed_out": bool}  or  {"error": message} when the command could not start.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from typing import Any

READ = os.O_RDONLY
WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


def file_actions(request: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Open stdin, stdout and stderr of the child from the request's paths."""
    return [
        (os.POSIX_SPAWN_OPEN, fd, request.get(key) or os.devnull, flags, 0o644)
        for fd, key, flags in ((0, "stdin", READ), (1, "stdout", WRITE), (2, "stderr", WRITE))
    ]


def measure(request: dict[str, Any]) -> dict[str, Any]:
    argv = [str(a) for a in request["argv"]]
    actions = file_actions(request)
    timed_out = False

    def kill(_signum: int, _frame: Any) -> None:
        nonlocal timed_out
        timed_out = True
        os.kill(pid, signal.SIGKILL)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except OSError as error:
        return {"error": f"cannot start {argv[0]}: {error}"}
    signal.signal(signal.SIGALRM, kill)
    signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout", 900)))
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "maxrss_kb": usage.ru_maxrss,
        "status": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
    }


def main() -> int:
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(measure(json.loads(line))) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
