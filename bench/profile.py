"""Profile the function in-process: `python bench/profile.py [--n N] [--warm] [--top K]`.

Runs function.pipeline.run(text) once under cProfile on a generated ResourceList
(N=1,000 by default) and prints the top functions by cumulative and by own (total)
time. By default the run is cold, as in a real invocation: the lazy imports inside
the run are part of it; --warm runs it once unprofiled first.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def stdlib_profilers() -> tuple[ModuleType, ModuleType]:
    """cProfile and pstats: this file's name would shadow the stdlib `profile` they use."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(os.path.abspath(p or os.curdir)) != HERE]
    try:
        import cProfile
        import pstats
    finally:
        sys.path[:] = saved
    return cProfile, pstats


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="resources (default 1,000)")
    parser.add_argument("--warm", action="store_true", help="run once unprofiled first")
    parser.add_argument("--top", type=int, default=25, help="rows per listing (default 25)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    cprofile, pstats = stdlib_profilers()
    import workload

    from function import pipeline

    text = workload.resource_list(args.n)
    if args.warm:
        pipeline.run(text)
    gc.disable()  # as the command line does
    profiler = cprofile.Profile()
    start = time.perf_counter()
    profiler.enable()
    done = pipeline.run(text)
    output, results = done.output, done.results
    profiler.disable()
    seconds = time.perf_counter() - start
    print(
        f"N={args.n:,} ({'warm' if args.warm else 'cold'}): {seconds:.3f} s under the profiler, "
        f"{len(text):,} bytes in, {len(output):,} bytes out, {len(results)} results\n"
    )
    stats = pstats.Stats(profiler, stream=sys.stdout)
    for key, title in (("cumulative", "cumulative time"), ("tottime", "own (total) time")):
        print(f"=== top {args.top} by {title} ===")
        stats.sort_stats(key).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
