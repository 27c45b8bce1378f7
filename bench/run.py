"""Benchmark suite for inject-docker: `python bench/run.py [--runs K] [--quick | --smoke]`.

Every figure is a ratio of two commands measured in the same run: after one checked
warm-up run each, the commands of a figure run in turn (A B A B ...), so that drift of
the machine falls on both alike. Wall time comes from time.perf_counter around a child
process, CPU time from getrusage(RUSAGE_CHILDREN), peak memory from os.wait4 (the
rusage of that child alone). Inputs are generated in a temporary folder (workload.py).

With --baseline REV the suite also installs that git revision of this repository into
a venv of its own and runs every command-line figure (F1 to F5) for both installs in the
same groups, baseline and current in turn; the table then has a column for each. The
image figures (F6a, F6b) measure the current tree only: there is one image.

The exit status is 0 whether or not the targets are met. With --smoke (tiny inputs,
one run; for CI) it is 1 when a command fails or its output is not what it should be.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any, Literal

import workload
import yaml

REPO = Path(__file__).resolve().parent.parent
IMAGE = "inject-docker:local"
PASSTHROUGH_IMAGE = "inject-docker:passthrough"
# Images the suite builds for figure 6b and removes afterwards (FROM the passthrough
# image, so from the same base as the function's). The tags name the process: two runs
# at once (a smoke test during a full run, say) must not replace each other's images.
CAPTURE_IMAGE = f"inject-docker-bench:capture-{os.getpid()}"
REPLAY_IMAGE = f"inject-docker-bench:replay-{os.getpid()}"
DEFAULT_RUNS = 7
QUICK_RUNS = 3
TIMEOUT_SECONDS = 900.0
SMOKE_TIMEOUT_SECONDS = 60.0
RSS_LIMIT_MB = 300.0
SIDECAR_NAME = "dind"
_QUIET: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 30, "check": False}

# The names every table holds, in order (the smoke test looks for each of them, so this
# stays a literal tuple; the names below unpack it).
FIGURES = (
    "F1 fn vs kustomize",
    "F2 fn vs python floor",
    "F2 kpt exec fn vs cat",
    "F2 floor: output given, no work",
    "F2 floor: output given by python",
    "F3 scaling 10k vs 1k",
    "F3 peak RSS at 10k",
    "F4 empty vs python",
    "F4 empty+config vs python",
    "F5 throughput",
    "F6a docker run fn vs cat",
    "F6b kustomize container fn vs replay",
    "F6b kustomize container fn vs cat",
    "F6b floor: replay image vs cat",
    "F6b container fn vs SMP patch",
    "F6b kustomize + SMP patch",
    "F6b plumbing: cat image vs plain build",
)
(
    F1,
    F2,
    F2_CAT,
    F2_FLOOR_SHELL,
    F2_FLOOR_PYTHON,
    F3_SCALING,
    F3_RSS,
    F4_EMPTY,
    F4_CONFIG,
    F5_THROUGHPUT,
    F6A,
    F6B,
    F6B_CAT,
    F6B_FLOOR,
    F6B_VS_PATCH,
    F6B_PATCH,
    F6B_PLUMBING,
) = FIGURES

# The targets: a figure's ratio must be at most this. Figures not here have none
# (F3_RSS has its own, RSS_LIMIT_MB).
LIMITS: dict[str, float] = {F1: 0.12, F2: 1.10, F3_SCALING: 11, F4_EMPTY: 8, F6A: 1.5, F6B: 1.10}

# The figures that run the command line, and so measure the baseline too.
CLI_FIGURES = (F1, F2, F3_SCALING, F4_EMPTY, F5_THROUGHPUT)

# The two installs a run can measure (Install.name).
CURRENT = "current"
BASELINE = "baseline"


def target_of(figure: str) -> str:
    if figure == F3_RSS:
        return f"< {RSS_LIMIT_MB:g} MB"
    limit = LIMITS.get(figure)
    return f"<= {limit:g}" if limit is not None else "-"


# --- settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    runs: int
    main_n: int  # the "1,000 resources" of figures 1, 2, 3 and 6b
    big_n: int | None  # the "10,000" of figure 3; None skips it
    sizes: tuple[int, ...]  # figure 5
    patch_sizes: tuple[int, ...]  # figure 6b's builds without plugins (plain, SMP, cat image)
    smoke: bool
    mode: str  # "full", "quick" or "smoke", for the table
    timeout: float
    only: frozenset[str] = frozenset()  # figure numbers ("F1", "F2", ...); empty: all
    baseline: str | None = None  # a git revision to measure beside the current tree

    def selected(self, name: str) -> bool:
        """True when --only leaves the figure `name` in (figure 3 and 5 go together)."""
        return not self.only or any(_number(name).startswith(f) for f in self.only)


def _number(name: str) -> str:
    """A figure's number as --only spells it: "F6B" of "F6b kustomize ..."."""
    return name.split()[0].upper()


# Figure 6b's sizes in full mode. kustomize's own build grows faster than linearly
# (about 1.6 s at 1,000 resources, 17 s at 3,000 here), so quick mode keeps 1,000 only.
PATCH_SIZES = (1000, 3000)


def settings_from(args: argparse.Namespace) -> Settings:
    settings = _sized(args)
    only = frozenset(f.strip().upper() for f in (args.only or "").split(",") if f.strip())
    unknown = sorted(f for f in only if not any(_number(n).startswith(f) for n in FIGURES))
    if unknown:
        raise SystemExit(f"bench: --only: no figure {', '.join(unknown)} (F1 to F6b)")
    return dataclasses.replace(settings, only=only, baseline=args.baseline)


def _sized(args: argparse.Namespace) -> Settings:
    if args.smoke:
        # Figure 3 still runs, on 10x the smoke size, so that its code is exercised.
        return Settings(1, 20, 200, (20, 200), (20, 60), True, "smoke", SMOKE_TIMEOUT_SECONDS)
    if args.quick:
        runs = args.runs or QUICK_RUNS
        return Settings(
            runs, 1000, None, (100, 1000), PATCH_SIZES[:1], False, "quick", TIMEOUT_SECONDS
        )
    runs = args.runs or DEFAULT_RUNS
    return Settings(
        runs, 1000, 10000, (100, 1000, 10000), PATCH_SIZES, False, "full", TIMEOUT_SECONDS
    )


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
    # The label of a command of the same group, checked first, whose output this one's
    # must equal byte for byte (a replay of the function's output).
    same_output_as: str | None = None


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
    """The warm-up run: capture the output and check it against command.expect (and,
    for a replay, against the output of the command it replays)."""
    out, err = bench.scratch / "stdout", bench.scratch / "stderr"
    with prepared(command) as (argv, copy):
        sample = bench.spawner.run(argv, command.stdin, out, err, bench.settings.timeout)
        if sample.returncode != 0:
            tail = err.read_text(errors="replace").strip().splitlines()[-5:]
            raise CommandFailed(
                f"{command.label}: exit status {sample.returncode}: " + " / ".join(tail)
            )
        stdout = out.read_text()
        check_output(command, stdout, copy)
        digest = output_digest(command, stdout, copy)
    bench.digests[command.label] = digest
    if command.same_output_as is not None and bench.digests.get(command.same_output_as) != digest:
        raise CommandFailed(
            f"{command.label}: the output differs from that of {command.same_output_as}"
        )


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


def package_files(copy: Path) -> list[Path]:
    return sorted((copy / workload.RESOURCES_DIR).rglob("*.yaml"))


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
    for path in package_files(copy):
        docs += [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    return docs


def output_digest(command: Command, stdout: str, copy: Path | None) -> str:
    """A hash of what the command produced: its stdout, or for kpt the package's files
    (kpt's own messages may carry timings)."""
    if command.expect.shape != "package" or copy is None:
        return hashlib.sha256(stdout.encode()).hexdigest()
    digest = hashlib.sha256()
    for path in package_files(copy):
        digest.update(str(path.relative_to(copy)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
class Cell:
    """One install's entry in a row."""

    value: str
    met: str  # "yes", "no", "-" (no target), "n/a" (smoke), "skipped" or "FAILED"
    detail: str = ""  # the two times of a ratio, or why skipped or failed


@dataclass
class Row:
    figure: str
    cells: dict[str, Cell]  # by install name; the image figures have the current one only
    note: str = ""  # what the cells' details share, such as " (N=1,000)"

    @property
    def target(self) -> str:
        return target_of(next((f for f in FIGURES if self.figure.startswith(f)), ""))

    def order(self) -> int:
        return next((i for i, f in enumerate(FIGURES) if self.figure.startswith(f)), len(FIGURES))


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    series: list[tuple[str, Series]] = field(default_factory=list)

    def failed(self) -> bool:
        return any(cell.met == "FAILED" for row in self.rows for cell in row.cells.values())


# --- inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Install:
    """One installed copy of the function: the current tree, or the --baseline revision."""

    name: str  # CURRENT or BASELINE
    function: Path  # its inject-docker console script
    python: Path  # the interpreter the function runs on


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

    def kustomize_dir(
        self, n: int | None = None, transformer_image: str | None = None, patches: bool = False
    ) -> Path:
        """A kustomization of n (default main_n) resources: plain, with the image as a
        container transformer, or with strategic-merge patches adding the sidecar."""
        n = n or self.main_n
        image = (transformer_image or "plain").replace(":", "-")[:40]  # an ID is long
        variant = "patches" if patches else image
        folder = self.root / f"kustomize-{n}-{variant}"
        if not folder.exists():
            workload.write_kustomize_dir(
                folder, n, transformer_image=transformer_image, sidecar_patches=patches
            )
        return folder

    def kpt_package(self) -> Path:
        folder = self.root / "kpt" / "bench-package"
        if not folder.exists():
            workload.write_kpt_package(folder, self.main_n)
        return folder

    def kpt_replays(self, kpt: str, install: Install) -> tuple[Path, Path]:
        """Two functions that do no work: each reads its input and writes the output
        the install's function gave kpt for this package (captured once, not timed).
        One is a shell script, the other a Python program started as the function is.
        """
        folder = self.root / "kpt" / f"replay-{install.name}"
        output = folder / "output.yaml"
        shell, program = folder / "replay.sh", folder / "replay.py"
        if not output.exists():
            folder.mkdir(parents=True)
            capture = folder / "capture.sh"
            _script(capture, f'#!/bin/sh\n"{install.function}" | tee "{output}"\n')
            package = folder / self.kpt_package().name
            shutil.copytree(self.kpt_package(), package)
            _must([kpt, "fn", "eval", "--exec", str(capture), str(package)], 300)
            _script(shell, f'#!/bin/sh\ncat >/dev/null\nexec cat "{output}"\n')
            _script(
                program,
                f"#!{install.python}\nimport sys\nsys.stdin.buffer.read()\n"
                f"sys.stdout.buffer.write(open({str(output)!r}, 'rb').read())\n",
            )
        return shell, program

    def _write(self, name: str, text: Callable[[], str]) -> Path:
        path = self.root / name
        if not path.exists():
            path.write_text(text())
        return path


def _must(
    argv: list[str], timeout: float, *, stdin: Path | None = None, stdout: Path | None = None
) -> None:
    """Run a preparation step; its failure is a CommandFailed that says why."""
    with ExitStack() as files:
        source: IO[bytes] | int = subprocess.DEVNULL
        sink: IO[bytes] | int = subprocess.DEVNULL
        if stdin is not None:
            source = files.enter_context(stdin.open("rb"))
        if stdout is not None:
            sink = files.enter_context(stdout.open("wb"))
        try:
            done = subprocess.run(
                argv, stdin=source, stdout=sink, stderr=subprocess.PIPE, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise CommandFailed(f"{' '.join(argv[:4])}: killed after {timeout:g} s") from None
        except OSError as error:
            raise CommandFailed(f"cannot start {argv[0]}: {error}") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise CommandFailed(
            f"{' '.join(argv[:4])}: exit status {done.returncode}: {' / '.join(lines[-5:])}"
        )


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def build_replay_image(docker: str, kubectl: str, inputs: Inputs, ids: dict[str, str]) -> None:
    """REPLAY_IMAGE: an image that reads its input and writes the output the function
    image gives for what `kubectl kustomize` really sends it, doing no other work.

    Capture: an image that copies its stdin to a bind mount (kustomize honours a
    container function's `mounts:` under the kustomization folder) and passes it on, run
    by kustomize on the same resources. Then the function image runs on that input, and
    its output goes into an image built FROM the passthrough image (the function image's
    base, user nobody), with a Python program printing it: Python as the function starts
    it, so that the difference left is the function's work. (The functionConfig in the
    captured input names the capture image; the warm-up checks that kustomize's output
    with the replay equals its output with the function, byte for byte.)
    """
    folder = inputs.root / "kustomize-replay"
    shutil.rmtree(folder, ignore_errors=True)
    context = folder / "capture-image"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(
        f"FROM {ids[PASSTHROUGH_IMAGE]}\n"
        "LABEL org.opencontainers.image.title=inject-docker-bench\n"
        'ENTRYPOINT ["sh", "-c", "tee /capture/input.yaml"]\n'
    )
    _must([docker, "build", "-q", "-t", CAPTURE_IMAGE, str(context)], 300)
    kustomization = folder / "capture"
    mount = workload.capture_mount("./captured", "/capture")
    workload.write_kustomize_dir(
        kustomization, inputs.main_n, transformer_image=CAPTURE_IMAGE, transformer_extra=mount
    )
    captured = kustomization / "captured"
    captured.mkdir()
    captured.chmod(0o777)  # the container runs as nobody
    _must([kubectl, "kustomize", "--enable-alpha-plugins", str(kustomization)], 300)
    sent = captured / "input.yaml"
    if not sent.exists():
        raise CommandFailed("capture: kustomize did not mount the capture folder")
    context = folder / "replay-image"
    context.mkdir()
    run = [docker, "run", "--rm", "-i", "--network", "none", ids[IMAGE]]
    _must(run, 300, stdin=sent, stdout=context / "output.yaml")
    (context / "replay.py").write_text(
        "import sys\nsys.stdin.buffer.read()\n"
        "sys.stdout.buffer.write(open('/replay/output.yaml', 'rb').read())\n"
    )
    (context / "Dockerfile").write_text(
        f"FROM {ids[PASSTHROUGH_IMAGE]}\n"
        "LABEL org.opencontainers.image.title=inject-docker-bench\n"
        "COPY output.yaml replay.py /replay/\n"
        'ENTRYPOINT ["python3", "/replay/replay.py"]\n'
    )
    _must([docker, "build", "-q", "-t", REPLAY_IMAGE, str(context)], 300)


def remove_images(docker: str, *images: str) -> None:
    """Remove the images the suite built (best effort: a leftover is harmless)."""
    subprocess.run([docker, "image", "rm", "-f", *images], **_QUIET)


# --- one benchmark run -------------------------------------------------------------


@dataclass
class Tools:
    kubectl: str | None
    kpt: str | None
    cat: str
    docker: str | None


@dataclass
class Bench:
    installs: tuple[Install, ...]  # the baseline first when there is one, the current last
    tools: Tools
    inputs: Inputs
    settings: Settings
    scratch: Path
    spawner: Spawner
    images_missing: str | None  # why the image figures cannot run, or None
    image_ids: dict[str, str]  # IMAGE and PASSTHROUGH_IMAGE: their IDs when found
    report: Report = field(default_factory=Report)
    digests: dict[str, str] = field(default_factory=dict)  # warm-up output, by label

    @property
    def current(self) -> Install:
        return self.installs[-1]

    def add(self, figure: str, cells: dict[str, Cell], note: str = "") -> None:
        self.report.rows.append(Row(figure, cells, note))

    def verdict(self, figure: str, value: float) -> str:
        limit = LIMITS.get(figure)
        if limit is None:
            return "-"
        if self.settings.smoke:
            return "n/a"
        return "yes" if value <= limit else "no"

    def ratio(self, figure: str, a: Series, b: Series) -> Cell:
        """a / b as the cell of `figure` (one of FIGURES, for its target)."""
        ratio = a.seconds / b.seconds
        detail = f"{a.seconds:.3f} s / {b.seconds:.3f} s"
        return Cell(f"{ratio:.3f}", self.verdict(figure, ratio), detail)

    def for_install(self, install: Install, command: Command) -> Command:
        """The command as one install's: with two installs, its label names the install
        (and so does the label of the command whose output it must equal)."""
        if len(self.installs) == 1:
            return command
        same = command.same_output_as
        return dataclasses.replace(
            command,
            label=f"{command.label} [{install.name}]",
            same_output_as=f"{same} [{install.name}]" if same else None,
        )


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def measure(bench: Bench, group: str, commands: list[Command]) -> dict[str, Series]:
    """One checked warm-up run each, then `runs` rounds of A B C ... in turn.

    With a baseline, each figure passes the baseline's and the current tree's commands
    in the same list, so that both are in every round. The series come by label.
    """
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
    return {one.command.label: one for one in series}


# --- the figures -------------------------------------------------------------------

# One command that serves every install (kubectl kustomize, say), or one per install.
Side = Command | dict[str, Command]


def per_install(bench: Bench, make: Callable[[Install], Command]) -> dict[str, Command]:
    return {i.name: bench.for_install(i, make(i)) for i in bench.installs}


def add_ratios(
    bench: Bench,
    figure: str,
    series: dict[str, Series],
    a: Side,
    b: Side,
    note: str = "",
    row: str | None = None,
) -> None:
    """The row `row` (by default `figure`, whose target it has): a / b for each install
    (for the current tree alone when neither side is per install)."""
    sides = [s for s in (a, b) if isinstance(s, dict)]
    installs = list(sides[0]) if sides else [CURRENT]

    def pick(side: Side, install: str) -> Series:
        return series[(side[install] if isinstance(side, dict) else side).label]

    cells = {i: bench.ratio(figure, pick(a, i), pick(b, i)) for i in installs}
    bench.add(row or figure, cells, note)


def skip(bench: Bench, names: list[str], reason: str, installs: list[str]) -> None:
    for name in names:
        bench.add(name, {i: Cell("-", "skipped", reason) for i in installs})


def function_command(install: Install, path: Path, label: str, expect: Expect) -> Command:
    return Command(label, (str(install.function),), expect, stdin=path)


def changed_list(n: int) -> Expect:
    return Expect("resourcelist", n, workload.expected_injected(n))


def require(tool: str | None, name: str) -> str:
    if tool is None:
        raise CommandFailed(f"{name} not found on PATH")
    return tool


def figure_1(bench: Bench) -> None:
    """The function alone against kubectl kustomize building the same resources."""
    n = bench.settings.main_n
    kubectl = require(bench.tools.kubectl, "kubectl")
    path = bench.inputs.resource_list(n)
    fns = per_install(
        bench, lambda i: function_command(i, path, f"inject-docker N={n}", changed_list(n))
    )
    kustomize = Command(
        f"kubectl kustomize N={n}",
        (kubectl, "kustomize", str(bench.inputs.kustomize_dir(n))),
        Expect("stream", n, 0),
    )
    series = measure(bench, "F1", [*fns.values(), kustomize])
    add_ratios(bench, F1, series, fns, kustomize, f" (N={n:,})")


def figure_2(bench: Bench) -> None:
    """kpt running the function against kpt running a program that does no work but
    print the function's output for the package; for the record, both against kpt
    running `cat`. Each run gets a fresh copy of the package."""
    n = bench.settings.main_n
    base = (require(bench.tools.kpt, "kpt"), "fn", "eval", "--exec")
    package = bench.inputs.kpt_package()
    changed = Expect("package", n, workload.expected_injected(n))

    def kpt_exec(
        label: str, program: str, expect: Expect = changed, same: str | None = None
    ) -> Command:
        argv = (*base, program)
        return Command(f"kpt fn eval --exec {label} N={n}", argv, expect, None, package, same)

    fns = per_install(bench, lambda i: kpt_exec("inject-docker", str(i.function)))
    # The programs that do no work but print what the install's function printed for
    # this package (captured beforehand from kpt): the floor any function pays here,
    # kpt reading the package and writing back the larger one. One in shell; one in
    # Python, started as the function is: the least a function in Python could cost.
    replays = {i.name: bench.inputs.kpt_replays(base[0], i) for i in bench.installs}
    fn_label = f"kpt fn eval --exec inject-docker N={n}"

    def replay(install: Install, which: int) -> Command:
        script = replays[install.name][which]
        return kpt_exec(script.name, str(script), same=fn_label)

    shells = per_install(bench, lambda i: replay(i, 0))
    programs = per_install(bench, lambda i: replay(i, 1))
    cat = kpt_exec("cat", bench.tools.cat, Expect("package", n, 0))
    # Each function next to its Python floor (the targeted pair), then the records.
    order = [c for i in fns for c in (fns[i], programs[i])] + [cat, *shells.values()]
    series = measure(bench, "F2", order)
    note = f" (N={n:,})"
    add_ratios(bench, F2, series, fns, programs, note)
    add_ratios(bench, F2_CAT, series, fns, cat, note)
    add_ratios(bench, F2_FLOOR_SHELL, series, shells, cat, f"{note[:-1]}; no work)")
    add_ratios(bench, F2_FLOOR_PYTHON, series, programs, cat, f"{note[:-1]}; no work)")


def figures_3_and_5(bench: Bench) -> None:
    """Every size in one group: scaling (figure 3), throughput and memory (figure 5).

    Some revisions (up to b77fc23) share the work of a long list with a second process,
    and the peak RSS of a run is then that of the larger process. So the memory figure
    comes from one more run at the largest size, pinned to one CPU (taskset), where a
    single process holds everything, whichever revision runs.
    """
    settings = bench.settings
    biggest = max(settings.sizes)
    taskset = shutil.which("taskset")

    def sized(n: int) -> Callable[[Install], Command]:
        path = bench.inputs.resource_list(n)
        return lambda i: function_command(i, path, f"inject-docker N={n}", changed_list(n))

    def pinned(install: Install) -> Command:
        one = sized(biggest)(install)
        label = f"{one.label}, one CPU (taskset -c 0)"
        return dataclasses.replace(one, label=label, argv=(str(taskset), "-c", "0", *one.argv))

    by_size = {n: per_install(bench, sized(n)) for n in settings.sizes}
    alone = per_install(bench, pinned) if taskset is not None else by_size[biggest]
    # Baseline and current of one size side by side.
    order = [c for side in by_size.values() for c in side.values()]
    if taskset is not None:
        order += alone.values()
    series = measure(bench, "F3/F5", order)
    installs = list(alone)
    if settings.big_n is None:
        reason = f"skipped ({settings.mode} mode: N up to {biggest:,})"
        skip(bench, [F3_SCALING, F3_RSS], reason, installs)
    else:
        big, main = by_size[settings.big_n], by_size[settings.main_n]
        note = f" (N={settings.big_n:,} / N={settings.main_n:,})"
        add_ratios(bench, F3_SCALING, series, big, main, note)
        cells = {}
        for install in installs:
            rss = series[alone[install].label].max_rss_mb
            met = "n/a" if settings.smoke else ("yes" if rss < RSS_LIMIT_MB else "no")
            unpinned = series[big[install].label].max_rss_mb
            detail = f"{rss * 1e6 / 2**20:.1f} MiB; unpinned run: {unpinned:.1f} MB"
            cells[install] = Cell(f"{rss:.1f} MB", met, detail)
        how = "one process (taskset -c 0)" if taskset else "taskset missing: the larger process"
        bench.add(F3_RSS, cells, f" (N={settings.big_n:,}, {how})")
    rows = [(f"N={n:,}", n, by_size[n]) for n in settings.sizes]
    if taskset is not None:
        rows.append((f"N={biggest:,}, one CPU", biggest, alone))
    for name, n, side in rows:
        bench.add(
            f"{F5_THROUGHPUT} {name}",
            {i: throughput(n, series[c.label]) for i, c in side.items()},
        )


def throughput(n: int, one: Series) -> Cell:
    detail = f"{one.seconds:.3f} s, peak RSS {one.max_rss_mb:.1f} MB"
    return Cell(f"{n / one.seconds:,.0f} res/s", "-", detail)


def figure_4(bench: Bench) -> None:
    """Start-up: the function on an empty list against a bare interpreter."""
    empty = Expect("resourcelist", 0, 0)
    bare_list, config_list = bench.inputs.empty_list(False), bench.inputs.empty_list(True)
    bare = per_install(
        bench, lambda i: function_command(i, bare_list, "inject-docker empty list", empty)
    )
    label = "inject-docker empty list + InjectDocker config"
    configured = per_install(bench, lambda i: function_command(i, config_list, label, empty))
    # Both installs are venvs of the same interpreter (or, in place, this one): a bare
    # start of the current one is the yardstick for both.
    python = Command("python -c pass", (str(bench.current.python), "-c", "pass"), Expect("none"))
    order = [c for i in bare for c in (bare[i], configured[i])] + [python]
    series = measure(bench, "F4", order)
    add_ratios(bench, F4_EMPTY, series, bare, python)
    add_ratios(bench, F4_CONFIG, series, configured, python)


def find_images(docker: str | None) -> tuple[dict[str, str], str | None]:
    """The IDs of both images by tag, and why the image figures cannot run (None: they
    can). The commands name the IDs, not the tags: a rebuild of a tag during the run
    (by tests/image/build-local.sh, say) must not change what a figure compares."""
    if docker is None:
        return {}, "docker not found on PATH"
    ids = {}
    for image in (IMAGE, PASSTHROUGH_IMAGE):
        found = subprocess.run([docker, "image", "inspect", "-f", "{{.Id}}", image], **_QUIET)
        if found.returncode != 0 or not found.stdout.strip():
            return {}, f"image {image} not found (build it with tests/image/build-local.sh)"
        ids[image] = str(found.stdout).strip()
    return ids, None


def figure_6a(bench: Bench) -> None:
    """Container start-up: the function image against a `cat` image, on an empty list."""
    if bench.images_missing is not None:
        skip(bench, [F6A], bench.images_missing, [CURRENT])
        return
    docker = require(bench.tools.docker, "docker")
    empty, expect = bench.inputs.empty_list(False), Expect("resourcelist", 0, 0)
    run = (docker, "run", "--rm", "-i", "--network", "none")
    ids = bench.image_ids
    fn = Command(f"docker run {IMAGE}", (*run, ids[IMAGE]), expect, stdin=empty)
    cat = Command(
        f"docker run {PASSTHROUGH_IMAGE}", (*run, ids[PASSTHROUGH_IMAGE]), expect, stdin=empty
    )
    series = measure(bench, "F6a", [fn, cat])
    add_ratios(bench, F6A, series, fn, cat, " (empty list)")


def figure_6b(bench: Bench) -> None:
    """kubectl kustomize running the function image as a transformer, against an image
    that prints the same output (the target) and the `cat` image; and kustomize's own
    way to the same result, a strategic-merge patch, at two sizes.

    Without the images only the builds without plugins run (so that a smoke run still
    checks the patch), and the rows that need an image are skipped.
    """
    settings, inputs = bench.settings, bench.inputs
    kubectl = require(bench.tools.kubectl, "kubectl")
    n = settings.main_n

    def build(label: str, size: int, injected: bool, **variant: Any) -> Command:
        plugins = ("--enable-alpha-plugins",) if "transformer_image" in variant else ()
        folder = str(inputs.kustomize_dir(size, **variant))
        changed = workload.expected_injected(size) if injected else 0
        return Command(
            f"{label} N={size}",
            (kubectl, "kustomize", *plugins, folder),
            Expect("stream", size, changed),
        )

    def with_image(image: str, size: int, injected: bool, name: str = "") -> Command:
        label = f"kubectl kustomize --enable-alpha-plugins ({name or image})"
        return build(label, size, injected, transformer_image=image)

    sizes = settings.patch_sizes
    plain = {size: build("kubectl kustomize", size, False) for size in sizes}
    label = "kubectl kustomize + SMP patch"
    patched = {size: build(label, size, True, patches=True) for size in sizes}
    ids = bench.image_ids or {IMAGE: IMAGE, PASSTHROUGH_IMAGE: PASSTHROUGH_IMAGE}
    fn = with_image(ids[IMAGE], n, True, IMAGE)
    replay = with_image(REPLAY_IMAGE, n, True, "replay image")
    replay = dataclasses.replace(replay, same_output_as=fn.label)
    cats = {
        size: with_image(ids[PASSTHROUGH_IMAGE], size, False, PASSTHROUGH_IMAGE) for size in sizes
    }
    why = bench.images_missing or ""  # empty: the images are there
    docker = None if why else require(bench.tools.docker, "docker")
    order = [fn, replay] if docker is not None else []
    for size in sizes:
        order += [cats[size]] if docker is not None else []
        order += [plain[size], patched[size]]
    try:
        if docker is not None:
            log("F6b: building the replay image from what kustomize sends the function")
            build_replay_image(docker, kubectl, inputs, ids)
        series = measure(bench, "F6b", order)
    finally:
        if docker is not None:
            remove_images(docker, CAPTURE_IMAGE, REPLAY_IMAGE)
    at_n = f" (N={n:,})"
    if docker is not None:
        add_ratios(bench, F6B, series, fn, replay, at_n)
        add_ratios(bench, F6B_CAT, series, fn, cats[n], at_n)
        add_ratios(bench, F6B_FLOOR, series, replay, cats[n], f"{at_n[:-1]}; no work)")
        add_ratios(bench, F6B_VS_PATCH, series, fn, patched[n], at_n)
    else:
        skip(bench, [F6B, F6B_CAT, F6B_FLOOR, F6B_VS_PATCH], why, [CURRENT])
    for size in sizes:
        row = f"{F6B_PATCH} N={size:,}"
        add_ratios(bench, F6B_PATCH, series, patched[size], plain[size], row=row)
        row = f"{F6B_PLUMBING} N={size:,}"
        if docker is not None:
            add_ratios(bench, F6B_PLUMBING, series, cats[size], plain[size], row=row)
        else:
            skip(bench, [row], why, [CURRENT])
    if not settings.smoke:
        left_out = [
            f"{f} N={s:,}" for s in PATCH_SIZES if s not in sizes for f in (F6B_PATCH, F6B_PLUMBING)
        ]
        skip(bench, left_out, f"skipped ({settings.mode} mode: N={n:,} only)", [CURRENT])


def guarded(
    bench: Bench, names: tuple[str, ...], body: Callable[[Bench], None], installs: list[str]
) -> None:
    """Run one figure; a failure becomes a FAILED row for each of its names."""
    try:
        body(bench)
    except CommandFailed as error:
        log(f"FAILED: {error}")
        for name in names:
            bench.add(name, {i: Cell("-", "FAILED", str(error)) for i in installs})


def run_figures(bench: Bench) -> None:
    everyone, current = [i.name for i in bench.installs], [CURRENT]
    plan: list[tuple[tuple[str, ...], Callable[[Bench], None], list[str]]] = [
        ((F1,), figure_1, everyone),
        ((F2, F2_CAT, F2_FLOOR_SHELL, F2_FLOOR_PYTHON), figure_2, everyone),
        ((F3_SCALING, F3_RSS, F5_THROUGHPUT), figures_3_and_5, everyone),
        ((F4_EMPTY, F4_CONFIG), figure_4, everyone),
        ((F6A,), figure_6a, current),
        (FIGURES[FIGURES.index(F6B) :], figure_6b, current),
    ]
    for names, figure, installs in plan:
        if any(bench.settings.selected(name) for name in names):
            guarded(bench, names, figure, installs)


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
BASELINE_NOTES = (
    "Baseline and current ran the same commands in the same groups, in turn in every round.",
    "A detail reads baseline -> current (one alone: the same for both). The image figures",
    "(F6a, F6b) measure the current tree only: there is one image.",
)


def table_lines(headers: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return out + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    rule = "  ".join("-" * w for w in widths)
    return [fmt.format(*headers), rule, *(fmt.format(*row) for row in rows)]


def figure_table(report: Report, installs: list[str], markdown: bool) -> list[str]:
    """One value and verdict per install, side by side, and their details joined."""
    lines = []
    for row in sorted(report.rows, key=Row.order):
        cells = [row.cells.get(i, Cell("-", "-")) for i in installs]
        details = list(dict.fromkeys(c.detail for c in cells if c.detail))  # each once
        values = [x for c in cells for x in (c.value, c.met)]
        lines.append([row.figure, row.target, *values, " -> ".join(details) + row.note])
    if installs == [CURRENT]:
        # The columns as runs without a baseline have always had them.
        headers = ["figure", "value", "target", "met", "detail"]
        return table_lines(headers, [[f, v, t, m, d] for f, t, v, m, d in lines], markdown)
    headers = ["figure", "target", *(x for i in installs for x in (i, "met")), "detail"]
    return table_lines(headers, lines, markdown)


def render(
    report: Report,
    settings: Settings,
    facts: list[tuple[str, str]],
    installs: list[str],
    markdown: bool,
) -> str:
    header = [f"- {k}: {v}" if markdown else f"{k:>8}: {v}" for k, v in facts]
    runs = f"{settings.mode} mode, {settings.runs} timed run(s) per command after 1 warm-up"
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
    notes = [*NOTES, *(BASELINE_NOTES if len(installs) > 1 else ())]
    return "\n".join(
        [
            *header,
            "",
            runs,
            "",
            f"{heading}Figures",
            "",
            *figure_table(report, installs, markdown),
            "",
            f"{heading}Measurements",
            "",
            *measurements,
            "",
            *notes,
            "",
        ]
    )


# --- main --------------------------------------------------------------------------


def find_tools() -> Tools:
    return Tools(
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


def install_in_venv(source: Path, venv: Path) -> Path:
    """A tree installed as a user installs it: `pip install .` into a fresh venv.

    Measured in place instead, every start would also pay for whatever this
    interpreter's site-packages runs at start-up (.pth files, the editable finder).
    """
    log(f"installing {source} into {venv}")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    _must([sys.executable, "-m", "venv", "--without-pip", str(venv)], 300)
    _must([*pip, "install", "--no-input", "--quiet", str(source)], 600)
    return venv / "bin" / "inject-docker"


def resolve_revision(revision: str) -> str:
    """The commit a --baseline names, or SystemExit when git does not know it."""
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        **_QUIET,
    )
    commit = str(done.stdout).strip()
    if done.returncode != 0 or not commit:
        raise SystemExit(f"bench: --baseline: {revision!r} is not a commit of {REPO}")
    return commit


def install_revision(commit: str, root: Path) -> Path:
    """That commit's tree (git archive: no work tree or branch to clean up afterwards),
    installed into its own fresh venv."""
    source, archive = root / "baseline-src", root / "baseline.tar"
    source.mkdir()
    _must(["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), commit], 300)
    _must(["tar", "-x", "-f", str(archive), "-C", str(source)], 300)
    return install_in_venv(source, root / "baseline-venv")


def the_installs(here: Path | None, baseline: str | None, root: Path) -> tuple[Install, ...]:
    """The baseline (when asked for and a command-line figure runs) and the current tree."""
    installs: list[Install] = []
    try:
        if baseline is not None:
            function = install_revision(baseline, root)
            installs.append(Install(BASELINE, function, function.parent / "python"))
        function = here or install_in_venv(REPO, root / "venv")
    except CommandFailed as error:
        raise SystemExit(f"bench: installing failed: {error}") from None
    installs.append(Install(CURRENT, function, function.parent / "python"))
    return tuple(installs)


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
        help="run only these figures (F1 to F6, F6a, F6b; F3 and F5 run together); for a "
        "quick look while working, not for the record",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also install this git revision of the repository into a venv of its own and "
        "measure it beside the current tree in the same run (figures F1 to F5; a column each)",
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
    baseline = resolve_revision(settings.baseline) if settings.baseline else None
    if baseline is not None and not any(settings.selected(f) for f in CLI_FIGURES):
        log(
            "--baseline ignored: no figure F1 to F5 selected "
            "(the image figures measure the current tree only)"
        )
        baseline = None
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
            installs = the_installs(here, baseline, root)
            how = f"in place ({here})" if here else "pip install . into a fresh venv"
            facts.append(("function", how))
            if baseline is not None:
                named = settings.baseline
                what = baseline[:7] if baseline.startswith(named) else f"{named} = {baseline[:7]}"
                what += ", pip install into a fresh venv"
                facts.append(("baseline", what))
            tools = find_tools()
            ids, why = find_images(tools.docker)
            if ids:
                facts.append(("images", ", ".join(f"{t} {i[7:19]}" for t, i in ids.items())))
            inputs = Inputs(root / "inputs", settings.main_n)
            log(f"inputs in {root} ({settings.mode} mode)")
            scratch = root / "scratch"
            bench = Bench(installs, tools, inputs, settings, scratch, spawner, why, ids)
            run_figures(bench)
    finally:
        spawner.close()
    report = bench.report
    names = [i.name for i in installs]
    sys.stdout.write(render(report, settings, facts, names, args.markdown))
    if settings.smoke and report.failed():
        print("bench: smoke check failed (see FAILED rows)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
