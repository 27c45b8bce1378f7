"""Standalone mode: plain manifests in, transformed multi-document YAML out.

For people without kustomize or kpt. The files are read, checked, joined into one
stream of documents and given to the same pipeline as the KRM function; only the
reading and the writing (every result on stderr, for a person) are this mode's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from function import pipeline
from function.config import defaults
from function.config.load import ConfigError, load
from function.krm.resourcelist import InputError
from function.krm.write import join_documents
from function.kube.metadata import annotations_of
from function.yamltext import nodes
from function.yamltext.normalize import BOM, NotText, decode

_SUFFIXES = (".yaml", ".yml", ".json")
_SKIPPED_NAMES = {"Kptfile", "kustomization.yaml", "kustomization.yml", "Kustomization"}


def _files(paths: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, text) of each file to read, each once; and notes for the person running it."""
    out: list[tuple[str, str]] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for raw in paths:
        if raw == "-":
            out.append(("<stdin>", _text(sys.stdin.buffer.read(), "<stdin>")))
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in _SUFFIXES
                and p.name not in _SKIPPED_NAMES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                notes.append(f"{raw}: no .yaml, .yml or .json files in this folder")
        elif path.is_file():
            found = [path]
        else:
            raise InputError(f"{raw}: no such file or folder")
        for file in found:
            if file.resolve() in seen:
                notes.append(f"{file}: given more than once; read once")
                continue
            seen.add(file.resolve())
            out.append((str(file), _text(file.read_bytes(), str(file))))
    return out, notes


def _text(data: bytes, source: str) -> str:
    """A file's text, without a byte order mark (one stands only at a stream's start)."""
    try:
        return decode(data, source).removeprefix(BOM)
    except NotText as error:
        raise InputError(str(error)) from None


def _values(source: str, text: str) -> list[Any]:
    """The documents of one file as plain data (None for one that is not a mapping)."""
    try:
        found = nodes.compose_all(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(
            f"{source}: not valid YAML{where}: {getattr(error, 'problem', error)}"
        ) from None
    return [nodes.construct(n) if isinstance(n, MappingNode) else None for n in found if n]


def run(config_path: str | None, paths: list[str]) -> int:
    try:
        config = _config(config_path)
        files, notes = _files(paths)
        documents = [(name, text, _values(name, text)) for name, text in files]
    except OSError as error:
        print(f"inject-docker: {error.filename}: {error.strerror}", file=sys.stderr)
        return 1
    except InputError as error:
        print(f"inject-docker: {error}", file=sys.stderr)
        return 1
    except ConfigError as error:
        for path, message in error.problems:
            print(
                f"inject-docker: error: invalid config: {path + ': ' if path else ''}{message}",
                file=sys.stderr,
            )
        return 1
    # Files that hold only configs (this function's, or local-config resources) are
    # not for the cluster: they are left out, as kustomize leaves them out.
    for note in notes:
        print(f"inject-docker: warning: {note}", file=sys.stderr)
    kept = [
        text
        for _, text, values in documents
        if text.strip() and not (values and all(_is_local_config(v) for v in values))
    ]
    if not any(values for _, _, values in documents):
        print("inject-docker: warning: no resources found in the input", file=sys.stderr)
    try:
        done = pipeline.run(join_documents(kept), config, stream=True)
    except InputError as error:
        print(f"inject-docker: {error}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(done.output.encode("utf-8"))
    for result in done.results:  # a person reads this mode: every result, on stderr
        print(result.as_line(), file=sys.stderr)
    return done.code


def _is_local_config(value: Any) -> bool:
    """This function's own config, or a resource marked local-config: not for the cluster."""
    if not isinstance(value, dict):
        return False
    marked = annotations_of(value).get("config.kubernetes.io/local-config", "")
    local = str(marked).lower() == "true"
    return local or value.get("kind") == defaults.KIND


def _config(path: str | None) -> Any:
    if path is None:
        return defaults.default_config()
    try:
        with open(path, "rb") as handle:
            data = nodes.load(_text(handle.read(), path))
    except nodes.Refused as error:
        raise InputError(f"{path}: refused: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None
    return load(data)
