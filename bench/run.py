"""Benchmark suite for inject-docker: `python bench/run.py [--runs K] [--quick | --smoke]`.

Every figure is a ratio of two commands measured in the same run: after one checked
warm-up run each, the commands of a figure run in turn (A B A B ...), so that drift of
the machine falls on both alike. Wall time comes from time.perf_counter around a child
process, CPU time from getrusage(RUSAGE_CHILDREN), peak memory from os.wait4 (the
rusage of that child alone). Inputs are generated in a temporary folder (workload.py).

The exit status is 0 whether or not the targets are met. With --smoke (tiny inputs,
one run; for CI) it is 1 when a command fails or its output is not what it should be.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

import workload
import yaml

REPO = Path(__file__).resolve().parent.parent
IMAGE = "inject-docker:local"
PASSTHROUGH_IMAGE = "inject-docker:passthrough"
DEFAULT_RUNS = 7
QUICK_RUNS = 3
TIMEOUT_SECONDS = 900.0
SMOKE_TIMEOUT_SECONDS = 60.0
RSS_LIMIT_MB = 300.0
SIDECAR_NAME = "dind"
_QUIET: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 30, "check": False}

# The names every table holds, in order (the smoke test looks for each of them).
FIGURES = (
    "F1 fn vs kustomize",
    "F2 kpt exec fn vs cat",
    "F2 floor: output given, no work",
    "F2 floor: output given by python",
    "F2 fn vs python floor",
    "F3 scaling 10k vs 1k",
    "F3 peak RSS at 10k",
    "F4 empty vs python",
    "F4 empty+config vs python",
    "F5 throughput",
    "F6a docker run fn vs cat",
    "F6b kustomize container fn vs cat",
)


# --- settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    runs: int
    main_n: int  # the "1,000 resources" of figures 1, 2, 3 and 6b
    big_n: int | None  # the "10,000" of figure 3; None skips it
    sizes: tuple[int, ...]  # figure 5
    smoke: bool
    mode: str  # "full", "quick" or "smoke", for the table
    timeout: float
    only: frozenset[str] = frozenset()  # figure numbers ("F1", "F2", ...); empty: all


def settings_from(args: argparse.Namespace) -> Settings:
    settings = _sized(args)
    only = frozenset(f.strip().upper() for f in (args.only or "").split(",") if f.strip())
    unknown = sorted(f for f in only if not any(n.split()[0].startswith(f) for n in FIGURES))
    if unknown:
        raise SystemExit(f"bench: --only: no figure {', '.join(unknown)} (F1 to F6)")
    return dataclasses.replace(settings, only=only)


def _sized(args: argparse.Namespace) -> Settings:
    if args.smoke:
        # Figure 3 still runs, on 10x the smoke size, so that its code is exercised.
        return Settings(1, 20, 200, (20, 200), True, "smoke", SMOKE_TIMEOUT_SECONDS)
    if args.quick:
        runs = args.runs or QUICK_RUNS
        return Settings(runs, 1000, None, (100, 1000), False, "quick", TIMEOUT_SECONDS)
    runs = args.runs or DEFAULT_RUNS
    return Settings(runs, 1000, 10000, (100, 1000, 10000), False, "full", TIMEOUT_SECONDS)


# --- commands and what their output must be ----------------------------------------


@dataclass(frozen=True)
class Expect:
    """What a command's output holds: `items` resources, `injected` of them changed."""

    shape: Literal["resourcelist", "stream", "package", "none"]
    items: int = 0
    injected: int = 0


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    expect: Expect
    stdin: Path | None = None
    package: Path | None = None  # copied afresh before each run; the copy's path is appended


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    returncode: int


@dataclass
class Series:
    command: Command
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def max_rss_mb(self) -> float:
        return max(s.max_rss_mb for s in self.samples)


class CommandFailed(Exception):
    """A command exited non-zero or its output was not what the figure needs."""


# --- running one child -------------------------------------------------------------


class Spawner:
    """Runs children through spawner.py, a small process of its own (see its docstring)."""

    def __init__(self) -> None:
        helper = Path(__file__).resolve().parent / "spawner.py"
        self._proc = subprocess.Popen(
            [sys.executable, "-S", str(helper)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(
        self,
        argv: list[str],
        stdin: Path | None,
        stdout: Path | None,
        stderr: Path | None,
        timeout: float,
    ) -> Sample:
        request = {
            "argv": argv,
            "stdin": str(stdin) if stdin else None,
            "stdout": str(stdout) if stdout else None,
            "stderr": str(stderr) if stderr else None,
            "timeout": timeout,
        }
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        reply = json.loads(self._proc.stdout.readline() or '{"error": "the spawner died"}')
        if "error" in reply:
            raise CommandFailed(reply["error"])
        if reply["timed_out"]:
            raise CommandFailed(f"{argv[0]}: killed after {timeout:g} s")
        kb = reply["maxrss_kb"]
        return Sample(reply["seconds"], reply["cpu"], kb * 1024 / 1e6, reply["status"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)


@contextmanager
def prepared(command: Command) -> Iterator[tuple[list[str], Path | None]]:
    """The argv to run and, for a package command, a fresh copy (made outside timing)."""
    if command.package is None:
        yield list(command.argv), None
        return
    with tempfile.TemporaryDirectory(prefix="run-", dir=command.package.parent) as tmp:
        copy = Path(tmp) / command.package.name
        shutil.copytree(command.package, copy)
        yield [*command.argv, str(copy)], copy


def run_timed(bench: Bench, command: Command) -> Sample:
    with prepared(command) as (argv, _):
        sample = bench.spawner.run(argv, command.stdin, None, None, bench.settings.timeout)
    if sample.returncode != 0:
        raise CommandFailed(f"{command.label}: exit status {sample.returncode}")
    return sample


def run_checked(bench: Bench, command: Command) -> None:
    """The warm-up run: capture the output and check it against command.expect."""
    out, err = bench.scratch / "stdout", bench.scratch / "stderr"
    with prepared(command) as (argv, copy):
        sample = bench.spawner.run(argv, command.stdin, out, err, bench.settings.timeout)
        if sample.returncode != 0:
            tail = err.read_text(errors="replace").strip().splitlines()[-5:]
            raise CommandFailed(
                f"{command.label}: exit status {sample.returncode}: " + " / ".join(tail)
            )
        check_output(command, out.read_text(), copy)


# --- checking output ---------------------------------------------------------------


def has_sidecar(resource_: Any) -> bool:
    """True when a pod spec anywhere in the resource has an init container named dind."""
    if isinstance(resource_, dict):
        inits = resource_.get("initContainers")
        if isinstance(inits, list) and any(
            isinstance(c, dict) and c.get("name") == SIDECAR_NAME for c in inits
        ):
            return True
        return any(has_sidecar(v) for v in resource_.values())
    if isinstance(resource_, list):
        return any(has_sidecar(v) for v in resource_)
    return False


def resources_in(command: Command, stdout: str, copy: Path | None) -> list[Any]:
    shape = command.expect.shape
    if shape == "resourcelist":
        data = yaml.load(stdout, Loader=yaml.CSafeLoader)
        if not isinstance(data, dict) or data.get("kind") != "ResourceList":
            raise CommandFailed(f"{command.label}: the output is not a ResourceList")
        return data.get("items") or []
    if shape == "stream":
        return [d for d in yaml.load_all(stdout, Loader=yaml.CSafeLoader) if d is not None]
    assert copy is not None
    docs: list[Any] = []
    for path in sorted((copy / workload.RESOURCES_DIR).rglob("*.yaml")):
        docs += [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    return docs


def check_output(command: Command, stdout: str, copy: Path | None) -> None:
    expect = command.expect
    if expect.shape == "none":
        return
    try:
        items = resources_in(command, stdout, copy)
    except yaml.YAMLError as error:
        raise CommandFailed(f"{command.label}: the output does not parse: {error}") from None
    injected = sum(1 for item in items if has_sidecar(item))
    if (len(items), injected) != (expect.items, expect.injected):
        raise CommandFailed(
            f"{command.label}: {len(items)} resources, {injected} with a {SIDECAR_NAME} "
            f"sidecar; expected {expect.items} and {expect.injected}"
        )


# --- the table ---------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    target: str
    met: str  # "yes", "no", "-" (no target), "n/a" (smoke), "skipped" or "FAILED"
    detail: str = ""

    def order(self) -> int:
        return next((i for i, f in enumerate(FIGURES) if self.figure.startswith(f)), len(FIGURES))


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    series: list[tuple[str, Series]] = field(default_factory=list)

    def failed(self) -> bool:
        return any(row.met == "FAILED" for row in self.rows)


# --- inputs ------------------------------------------------------------------------


@dataclass
class Inputs:
    """Input files and folders, written on first use into `root`."""

    root: Path
    main_n: int

    def resource_list(self, n: int) -> Path:
        return self._write(f"list-{n}.yaml", lambda: workload.resource_list(n))

    def empty_list(self, with_config: bool) -> Path:
        name = "empty-with-config.yaml" if with_config else "empty.yaml"
        return self._write(name, lambda: workload.resource_list(0, function_config=with_config))

    def kustomize_dir(self, transformer_image: str | None = None) -> Path:
        folder = self.root / ("kustomize-" + (transformer_image or "plain").replace(":", "-"))
        if not folder.exists():
            workload.write_kustomize_dir(folder, self.main_n, transformer_image=transformer_image)
        return folder

    def kpt_package(self) -> Path:
        folder = self.root / "kpt" / "bench-package"
        if not folder.exists():
            workload.write_kpt_package(folder, self.main_n)
        return folder

    def kpt_replays(self, kpt: str, function: Path, python: Path) -> tuple[Path, Path]:
        """Two functions that do no work: each reads its input and writes the output
        the real function gave kpt for this package (captured once, not timed).
        One is a shell script, the other a Python program started as the function is.
        """
        folder = self.root / "kpt" / "replay"
        output = folder / "output.yaml"
        shell, program = folder / "replay.sh", folder / "replay.py"
        if not output.exists():
            folder.mkdir(parents=True)
            capture = folder / "capture.sh"
            _script(capture, f'#!/bin/sh\n"{function}" | tee "{output}"\n')
            package = folder / self.kpt_package().name
            shutil.copytree(self.kpt_package(), package)
            _must([kpt, "fn", "eval", "--exec", str(capture), str(package)], 300)
            _script(shell, f'#!/bin/sh\ncat >/dev/null\nexec cat "{output}"\n')
            _script(
                program,
                f"#!{python}\nimport sys\nsys.stdin.buffer.read()\n"
                f"sys.stdout.buffer.write(open({str(output)!r}, 'rb').read())\n",
            )
        return shell, program

    def _write(self, name: str, text: Callable[[], str]) -> Path:
        path = self.root / name
        if not path.exists():
            path.write_text(text())
        return path


def _must(argv: list[str], timeout: float) -> None:
    """Run a preparation step; its failure is a CommandFailed that says why."""
    done = subprocess.run(argv, **_QUIET | {"timeout": timeout})
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-5:])
        raise CommandFailed(f"{' '.join(argv[:4])}: exit status {done.returncode}: {tail}")


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


# --- one benchmark run -------------------------------------------------------------


@dataclass
class Tools:
    function: Path
    python: Path  # the interpreter the function runs on
    kubectl: str | None
    kpt: str | None
    cat: str
    docker: str | None


@dataclass
class Bench:
    tools: Tools
    inputs: Inputs
    settings: Settings
    scratch: Path
    spawner: Spawner
    report: Report = field(default_factory=Report)

    def add(self, row: Row) -> None:
        self.report.rows.append(row)

    def verdict(self, value: float, limit: float | None) -> str:
        if limit is None:
            return "-"
        if self.settings.smoke:
            return "n/a"
        return "yes" if value <= limit else "no"

    def ratio_row(
        self, figure: str, a: Series, b: Series, limit: float | None, note: str = ""
    ) -> Row:
        ratio = a.seconds / b.seconds
        target = f"<= {limit:g}" if limit is not None else "-"
        detail = f"{a.seconds:.3f} s / {b.seconds:.3f} s{note}"
        return Row(figure, f"{ratio:.3f}", target, self.verdict(ratio, limit), detail)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def measure(bench: Bench, group: str, commands: list[Command]) -> list[Series]:
    """One checked warm-up run each, then `runs` rounds of A B C ... in turn."""
    for command in commands:
        log(f"{group}: warm-up and check: {command.label}")
        run_checked(bench, command)
    series = [Series(c) for c in commands]
    runs = bench.settings.runs
    for round_ in range(runs):
        log(f"{group}: round {round_ + 1}/{runs}")
        for one in series:
            one.samples.append(run_timed(bench, one.command))
    bench.report.series += [(group, one) for one in series]
    return series


# --- the figures -------------------------------------------------------------------


def function_command(bench: Bench, path: Path, label: str, expect: Expect) -> Command:
    return Command(label, (str(bench.tools.function),), expect, stdin=path)


def changed_list(n: int) -> Expect:
    return Expect("resourcelist", n, workload.expected_injected(n))


def require(tool: str | None, name: str) -> str:
    if tool is None:
        raise CommandFailed(f"{name} not found on PATH")
    return tool


def figure_1(bench: Bench) -> None:
    """The function alone against kubectl kustomize building the same resources."""
    n, name = bench.settings.main_n, FIGURES[0]
    kubectl = require(bench.tools.kubectl, "kubectl")
    path = bench.inputs.resource_list(n)
    fn = function_command(bench, path, f"inject-docker N={n}", changed_list(n))
    kustomize = Command(
        f"kubectl kustomize N={n}",
        (kubectl, "kustomize", str(bench.inputs.kustomize_dir())),
        Expect("stream", n, 0),
    )
    a, b = measure(bench, name, [fn, kustomize])
    bench.add(bench.ratio_row(name, a, b, 0.15, f" (N={n:,})"))


def figure_2(bench: Bench) -> None:
    """kpt running the function against kpt running cat, each on a fresh package copy."""
    n, name = bench.settings.main_n, FIGURES[1]
    base = (require(bench.tools.kpt, "kpt"), "fn", "eval", "--exec")
    package = bench.inputs.kpt_package()
    fn = Command(
        f"kpt fn eval --exec inject-docker N={n}",
        (*base, str(bench.tools.function)),
        Expect("package", n, workload.expected_injected(n)),
        package=package,
    )
    cat = Command(
        f"kpt fn eval --exec cat N={n}",
        (*base, bench.tools.cat),
        Expect("package", n, 0),
        package=package,
    )
    # The floor any function pays here: kpt reading a package and writing back the
    # larger package the function makes, with a function that does no work at all;
    # and the same with a Python program, for the floor of any function in Python.
    shell, program = bench.inputs.kpt_replays(base[0], bench.tools.function, bench.tools.python)
    replays = [
        Command(
            f"kpt fn eval --exec {label} N={n}",
            (*base, str(script)),
            Expect("package", n, workload.expected_injected(n)),
            package=package,
        )
        for label, script in (("replay.sh", shell), ("replay.py", program))
    ]
    a, b, c, d = measure(bench, name, [fn, cat, *replays])
    bench.add(bench.ratio_row(name, a, b, 1.10, f" (N={n:,})"))
    note = f" (N={n:,}; no target: the least any function could add)"
    bench.add(bench.ratio_row(FIGURES[2], c, b, None, note))
    bench.add(bench.ratio_row(FIGURES[3], d, b, None, f" (N={n:,}; no target)"))
    # What the function adds over the least a function in Python could cost here.
    bench.add(bench.ratio_row(FIGURES[4], a, d, None, f" (N={n:,}; no target)"))


def figures_3_and_5(bench: Bench) -> None:
    """Every size in one group: scaling (figure 3), throughput and memory (figure 5).

    From 100 workloads the function shares its work with a second process, and the
    peak RSS of a run is that of the larger process. So the memory figure comes from
    one more run at the largest size, pinned to one CPU (taskset), where a single
    process holds everything.
    """
    settings = bench.settings
    commands = [
        function_command(
            bench, bench.inputs.resource_list(n), f"inject-docker N={n}", changed_list(n)
        )
        for n in settings.sizes
    ]
    biggest = max(settings.sizes)
    taskset = shutil.which("taskset")
    if taskset is not None:
        one_cpu = function_command(
            bench,
            bench.inputs.resource_list(biggest),
            f"inject-docker N={biggest}, one CPU (taskset -c 0)",
            changed_list(biggest),
        )
        commands.append(dataclasses.replace(one_cpu, argv=(taskset, "-c", "0", *one_cpu.argv)))
    measured = measure(bench, "F3/F5", commands)
    series = dict(zip(settings.sizes, measured, strict=False))
    alone = measured[-1] if taskset is not None else series[biggest]
    if settings.big_n is None:
        reason = f"skipped ({settings.mode} mode: N up to {biggest:,})"
        bench.add(Row(FIGURES[5], "-", "<= 11", "skipped", reason))
        bench.add(Row(FIGURES[6], "-", f"< {RSS_LIMIT_MB:g} MB", "skipped", reason))
    else:
        big, main = series[settings.big_n], series[settings.main_n]
        note = f" (N={settings.big_n:,} / N={settings.main_n:,})"
        bench.add(bench.ratio_row(FIGURES[5], big, main, 11, note))
        rss = alone.max_rss_mb
        met = "n/a" if settings.smoke else ("yes" if rss < RSS_LIMIT_MB else "no")
        target = f"< {RSS_LIMIT_MB:g} MB"
        how = "one process (taskset -c 0)" if taskset else "taskset missing: larger process"
        detail = (
            f"N={settings.big_n:,}, {how}: {rss * 1e6 / 2**20:.1f} MiB; "
            f"two processes peak at {big.max_rss_mb:.1f} MB each at most"
        )
        bench.add(Row(FIGURES[6], f"{rss:.1f} MB", target, met, detail))
    for n, one in series.items():
        detail = f"{one.seconds:.3f} s, peak RSS {one.max_rss_mb:.1f} MB"
        bench.add(Row(f"{FIGURES[9]} N={n:,}", f"{n / one.seconds:,.0f} res/s", "-", "-", detail))
    if taskset is not None:
        detail = f"{alone.seconds:.3f} s, peak RSS {alone.max_rss_mb:.1f} MB"
        label = f"{FIGURES[9]} N={biggest:,}, one CPU"
        bench.add(Row(label, f"{biggest / alone.seconds:,.0f} res/s", "-", "-", detail))


def figure_4(bench: Bench) -> None:
    """Start-up: the function on an empty list against a bare interpreter."""
    empty = Expect("resourcelist", 0, 0)
    inputs = bench.inputs
    bare = function_command(bench, inputs.empty_list(False), "inject-docker empty list", empty)
    configured = function_command(
        bench, inputs.empty_list(True), "inject-docker empty list + InjectDocker config", empty
    )
    python = Command("python -c pass", (str(bench.tools.python), "-c", "pass"), Expect("none"))
    a, b, c = measure(bench, "F4", [bare, configured, python])
    bench.add(bench.ratio_row(FIGURES[7], a, c, 8))
    bench.add(bench.ratio_row(FIGURES[8], b, c, None))


def images_missing(docker: str | None) -> str | None:
    """Why the image figures cannot run, or None when both images are there."""
    if docker is None:
        return "docker not found on PATH"
    for image in (IMAGE, PASSTHROUGH_IMAGE):
        found = subprocess.run(
            [docker, "image", "inspect", image],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if found.returncode != 0:
            return f"image {image} not found (build it with tests/image/build-local.sh)"
    return None


def figure_6a(bench: Bench) -> None:
    """Container start-up: the function image against a `cat` image, on an empty list."""
    docker, name = require(bench.tools.docker, "docker"), FIGURES[10]
    empty, expect = bench.inputs.empty_list(False), Expect("resourcelist", 0, 0)
    run = (docker, "run", "--rm", "-i", "--network", "none")
    fn = Command(f"docker run {IMAGE}", (*run, IMAGE), expect, stdin=empty)
    cat = Command(f"docker run {PASSTHROUGH_IMAGE}", (*run, PASSTHROUGH_IMAGE), expect, stdin=empty)
    a, b = measure(bench, name, [fn, cat])
    bench.add(bench.ratio_row(name, a, b, 1.5, " (empty list)"))


def figure_6b(bench: Bench) -> None:
    """kustomize running the function image as a transformer against the `cat` image."""
    n, name = bench.settings.main_n, FIGURES[11]
    kubectl = require(bench.tools.kubectl, "kubectl")
    commands = [
        Command(
            f"kubectl kustomize --enable-alpha-plugins ({image}) N={n}",
            (
                kubectl,
                "kustomize",
                "--enable-alpha-plugins",
                str(bench.inputs.kustomize_dir(image)),
            ),
            Expect("stream", n, injected),
        )
        for image, injected in ((IMAGE, workload.expected_injected(n)), (PASSTHROUGH_IMAGE, 0))
    ]
    a, b = measure(bench, name, commands)
    bench.add(bench.ratio_row(name, a, b, 1.10, f" (N={n:,})"))


def guarded(bench: Bench, names: tuple[str, ...], body: Callable[[Bench], None]) -> None:
    """Run one figure; a failure becomes a FAILED row for each of its names."""
    try:
        body(bench)
    except CommandFailed as error:
        log(f"FAILED: {error}")
        for name in names:
            bench.add(Row(name, "-", "-", "FAILED", str(error)))


def run_figures(bench: Bench) -> None:
    plan: list[tuple[tuple[str, ...], Callable[[Bench], None]]] = [
        (FIGURES[0:1], figure_1),
        (FIGURES[1:5], figure_2),
        ((FIGURES[5], FIGURES[6], FIGURES[9]), figures_3_and_5),
        (FIGURES[7:9], figure_4),
    ]
    why = images_missing(bench.tools.docker)
    if why is None:
        plan += [(FIGURES[10:11], figure_6a), (FIGURES[11:12], figure_6b)]
    else:
        for name in FIGURES[10:12]:
            bench.add(Row(name, "-", "-", "skipped", why))
    only = bench.settings.only
    for names, figure in plan:
        if only and not any(name.split()[0].startswith(f) for f in only for name in names):
            continue
        guarded(bench, names, figure)


# --- printing ----------------------------------------------------------------------


def machine_facts() -> list[tuple[str, str]]:
    facts = [
        ("date", time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())),
        ("nproc", str(os.cpu_count())),
        ("cpu", _cpu_model()),
        ("memory", _memory()),
        ("load", _load_average()),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("revision", _revision()),
    ]
    for name, argv in (
        ("kpt", ["kpt", "version"]),
        ("kubectl", ["kubectl", "version", "--client"]),
        ("docker", ["docker", "version", "-f", "{{.Server.Version}}"]),
    ):
        facts.append((name, _version(argv)))
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min, at the start)"


def _revision() -> str:
    """The commit measured, and whether function/ differs from it."""
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], **_QUIET).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "function"], **_QUIET).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" + uncommitted changes in function/" if dirty.strip() else "")


def _version(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not found"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "no answer"
    lines = done.stdout.strip().splitlines()
    return " / ".join(lines[:2]) if done.returncode == 0 and lines else "unavailable"


NOTES = (
    "Wall and CPU times are medians over the timed runs; peak RSS is the largest over them.",
    "CPU time and peak RSS cover the child and the processes it waited for (kpt and kustomize",
    "include the function they ran), except that a container runs under the Docker engine:",
    "for `docker run` they are the client's alone. MB = 10^6 bytes.",
)


def table_lines(headers: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return out + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    rule = "  ".join("-" * w for w in widths)
    return [fmt.format(*headers), rule, *(fmt.format(*row) for row in rows)]


def render(report: Report, settings: Settings, facts: list[tuple[str, str]], markdown: bool) -> str:
    header = [f"- {k}: {v}" if markdown else f"{k:>8}: {v}" for k, v in facts]
    runs = f"{settings.mode} mode, {settings.runs} timed run(s) per command after 1 warm-up"
    figures = table_lines(
        ["figure", "value", "target", "met", "detail"],
        [
            [r.figure, r.value, r.target, r.met, r.detail]
            for r in sorted(report.rows, key=Row.order)
        ],
        markdown,
    )
    measurements = table_lines(
        ["group", "command", "median s", "min s", "max s", "CPU s", "peak RSS MB"],
        [
            [
                group,
                s.command.label,
                f"{s.seconds:.3f}",
                f"{min(x.seconds for x in s.samples):.3f}",
                f"{max(x.seconds for x in s.samples):.3f}",
                f"{s.cpu_seconds:.3f}",
                f"{s.max_rss_mb:.1f}",
            ]
            for group, s in report.series
        ],
        markdown,
    )
    heading = "### " if markdown else ""
    return "\n".join(
        [
            *header,
            "",
            runs,
            "",
            f"{heading}Figures",
            "",
            *figures,
            "",
            f"{heading}Measurements",
            "",
            *measurements,
            "",
            *NOTES,
            "",
        ]
    )


# --- main --------------------------------------------------------------------------


def find_tools(function: Path) -> Tools:
    return Tools(
        function=function,
        python=function.parent / "python",
        kubectl=shutil.which("kubectl"),
        kpt=shutil.which("kpt"),
        cat=shutil.which("cat") or "/bin/cat",
        docker=shutil.which("docker"),
    )


def installed_here() -> Path | None:
    """The console script beside this interpreter (an editable install, say)."""
    function = Path(sys.executable).parent / "inject-docker"
    if not function.exists():
        print(
            f"bench: the inject-docker console script is not installed beside {sys.executable}.\n"
            f"       Install the project first: pip install -e . (in {REPO})",
            file=sys.stderr,
        )
        return None
    warn_if_not_this_tree()
    compile_bytecode()
    return function


def warn_if_not_this_tree() -> None:
    spec = find_spec("function")
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    if origin is None or origin.parent.parent != REPO:
        log(
            f"warning: the installed package `function` comes from {origin}, not from {REPO}: "
            "the figures are of that copy (pip install -e . measures this tree)"
        )


def install_in_venv(root: Path) -> Path:
    """This tree installed as a user installs it: `pip install .` into a fresh venv.

    Measured in place instead, every start would also pay for whatever this
    interpreter's site-packages runs at start-up (.pth files, the editable finder).
    """
    venv = root / "venv"
    log(f"installing {REPO} into {venv}")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    try:
        _must([sys.executable, "-m", "venv", "--without-pip", str(venv)], 300)
        _must([*pip, "install", "--no-input", "--quiet", str(REPO)], 600)
    except CommandFailed as error:
        raise SystemExit(f"bench: installing this tree failed: {error}") from None
    return venv / "bin" / "inject-docker"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help=f"timed runs per command (default {DEFAULT_RUNS})")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer runs, N up to 1,000")
    size.add_argument("--smoke", action="store_true", help="N=20, one run: check every command")
    parser.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    parser.add_argument(
        "--only",
        metavar="F1,F2,...",
        help="run only these figures (F1 to F6; F3 and F5 run together); for a quick look while "
        "working, not for the record",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="measure the inject-docker installed beside this Python (always so with --smoke) "
        "instead of installing this tree into a fresh venv",
    )
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def compile_bytecode() -> None:
    """Write the package's bytecode, as `pip install` does for an installed package.

    Measured otherwise, a machine with PYTHONDONTWRITEBYTECODE set (or an editable
    install run for the first time) would time compiling the sources on every run.
    """
    import compileall

    package = Path(__file__).resolve().parent.parent / "function"
    compileall.compile_dir(str(package), quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    in_place = args.in_place or settings.smoke
    here = installed_here() if in_place else None
    if in_place and here is None:
        return 2
    spawner = Spawner()  # first, while this process is still small
    facts = machine_facts()
    try:
        with tempfile.TemporaryDirectory(prefix="inject-docker-bench-") as tmp:
            root = Path(tmp)
            (root / "scratch").mkdir()
            (root / "inputs").mkdir()
            tools = find_tools(here or install_in_venv(root))
            how = f"in place ({tools.function})" if in_place else "pip install . into a fresh venv"
            facts.append(("function", how))
            inputs = Inputs(root / "inputs", settings.main_n)
            log(f"inputs in {root} ({settings.mode} mode)")
            bench = Bench(tools, inputs, settings, root / "scratch", spawner)
            run_figures(bench)
    finally:
        spawner.close()
    report = bench.report
    sys.stdout.write(render(report, settings, facts, args.markdown))
    if settings.smoke and report.failed():
        print("bench: smoke check failed (see FAILED rows)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
