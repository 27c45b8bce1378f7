"""The command line: the KRM function (stdin to stdout), standalone mode, and docs."""

from __future__ import annotations

import gc
import sys

USAGE = """\
usage: inject-docker                          KRM function: ResourceList on stdin, out on stdout
       inject-docker --config CONFIG PATH...  standalone: plain manifests (files, folders, or -)
       inject-docker schema                   JSON Schema and KRMFunctionDefinition of the config
       inject-docker --help | --version

Gives the selected Pods, Jobs and CronJobs (and other workloads a selector names)
a Docker daemon: a Docker-in-Docker native sidecar (mode: sidecar, the default)
or a per-node daemon run by a DaemonSet (mode: daemonset). mode: audit reports
workloads that mount a host container runtime socket, changing nothing.

options:
  --config FILE   functionConfig for standalone mode (InjectDocker or ConfigMap)
  --debug         show a traceback on unexpected errors
"""


def main(argv: list[str] | None = None) -> int:
    # The run is short and builds no reference cycles worth collecting; the
    # collector's passes over the parsed nodes cost more than they free.
    gc.disable()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as error:  # the last line of defence: one sentence, no traceback
        if debug:
            import traceback

            traceback.print_exc()
        print(
            f"inject-docker: internal error: {error!r} (run with --debug for details)",
            file=sys.stderr,
        )
        return 1


def _dispatch(args: list[str]) -> int:
    if args and args[0] in ("-h", "--help", "help"):
        sys.stdout.write(_help())
        return 0
    if args and args[0] == "--version":
        from function import __version__

        print(f"inject-docker {__version__}")
        return 0
    if args and args[0] == "schema":
        from function.config import schema

        if any(a in ("-h", "--help") for a in args[1:]):
            sys.stdout.write(schema.SCHEMA_USAGE)
            return 0
        unknown = [a for a in args[1:] if a not in ("--krm", "--markdown")]
        if unknown:
            print(f"inject-docker schema: unknown option {unknown[0]}", file=sys.stderr)
            sys.stderr.write(schema.SCHEMA_USAGE)
            return 2
        sys.stdout.write(schema.render(args[1:]))
        return 0
    if not args:
        return _krm()
    config, paths, wrong = _standalone_arguments(args)
    if wrong:
        print(f"inject-docker: {wrong}; see inject-docker --help", file=sys.stderr)
        return 2
    if not paths:
        print(
            "inject-docker: standalone mode needs at least one file, folder or -; "
            "see inject-docker --help",
            file=sys.stderr,
        )
        return 2
    from function import standalone

    return standalone.run(config, paths)


def _standalone_arguments(args: list[str]) -> tuple[str | None, list[str], str | None]:
    """(--config, paths, what is wrong with the command line, if anything)."""
    config: str | None = None
    paths: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--config":
            config = next(rest, None)
            if config is None:
                return None, [], "--config needs a file"
        elif arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        elif arg.startswith("-") and arg != "-":
            return None, [], f"unknown option {arg}"
        else:
            paths.append(arg)
    return config, paths, None


def _help() -> str:
    return USAGE + (
        "\nThe full config reference: the README, section 'Config reference', or\n"
        "`inject-docker schema`.\n"
    )


def _krm() -> int:
    from function import pipeline
    from function.krm.resourcelist import InputError
    from function.yamltext.normalize import NotText, decode

    if sys.stdin.isatty():
        print(
            "inject-docker: reading a ResourceList from stdin (Ctrl-D to end); "
            "see inject-docker --help",
            file=sys.stderr,
        )
    try:
        # One byte past the limit is enough to refuse the input without reading it all.
        data = sys.stdin.buffer.read(pipeline.max_input() + 1)
        wrong = pipeline.too_big(len(data))
        if wrong:
            raise InputError(wrong)
        done = pipeline.run(decode(data, "the input"))
    except (InputError, NotText) as error:
        print(f"inject-docker: {error}", file=sys.stderr)
        return 1
    # Bytes, not text: the output keeps the input's line endings, whatever the platform.
    sys.stdout.buffer.write(done.output.encode("utf-8"))
    # kustomize shows its users stderr and never the results: say what matters there too.
    for result in done.results:
        if result.severity != "info":
            print(result.as_line(), file=sys.stderr)
    return done.code
