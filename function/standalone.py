"""Standalone mode: plain manifests in, transformed multi-document YAML out.

For people without kustomize or kpt. Each file is edited in place the same way
the KRM function edits a ResourceList, so comments and formatting survive.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from function import defaults, emit, textpatch, transform, yamlnodes
from function.resourcelist import rewritten
from function.results import PATH_ANNOTATIONS, Result, by_severity

_SUFFIXES = (".yaml", ".yml", ".json")
_SKIPPED_NAMES = {"Kptfile", "kustomization.yaml", "kustomization.yml", "Kustomization"}


class InputError(Exception):
    pass


@dataclass
class Document:
    source: str  # file name, for messages
    text: str  # the whole file
    node: Node | None  # None: an empty document
    value: Any = None


def _files(paths: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for raw in paths:
        if raw == "-":
            out.append(("<stdin>", sys.stdin.read()))
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
            out += [(str(p), p.read_text(encoding="utf-8")) for p in found]
        elif path.is_file():
            out.append((str(path), path.read_text(encoding="utf-8")))
        else:
            raise InputError(f"{raw}: no such file or folder")
    return out


def _documents(source: str, text: str) -> list[Document]:
    try:
        nodes = yamlnodes.compose_all(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(
            f"{source}: not valid YAML{where}: {getattr(error, 'problem', error)}"
        ) from None
    return [Document(source, text, node) for node in nodes if node is not None]


def run(config_path: str | None, paths: list[str]) -> int:
    try:
        config = _config(config_path)
        files = _files(paths)
        documents = [d for name, text in files for d in _documents(name, text)]
    except OSError as error:
        print(f"inject-docker: {error.filename}: {error.strerror}", file=sys.stderr)
        return 1
    except InputError as error:
        print(f"inject-docker: {error}", file=sys.stderr)
        return 1
    except defaults.ConfigError as error:
        for path, message in error.problems:
            print(
                f"inject-docker: error: invalid config: {path + ': ' if path else ''}{message}",
                file=sys.stderr,
            )
        return 1
    wanted = transform.kinds_to_read(config)
    for document in documents:
        if isinstance(document.node, MappingNode):
            document.value = yamlnodes.construct(document.node)
    items = [
        (i, d.value)
        for i, d in enumerate(documents)
        if isinstance(d.value, dict) and (wanted is None or d.value.get("kind") in wanted)
    ]
    outcome = transform.transform(config, items)
    results = list(outcome.results)
    edits: dict[str, list[textpatch.Edit]] = {}
    for index, document in enumerate(documents):
        if index in outcome.changed:
            found, problem = _edits(document, outcome.changed[index])
            edits.setdefault(document.source, []).extend(found)
            if problem:
                results.append(problem)
    configs = {d.source for d in documents if _is_local_config(d.value)}
    configs -= {d.source for d in documents if not _is_local_config(d.value)}
    pieces = [
        textpatch.apply(text, edits.get(name, []))
        for name, text in files
        if text.strip() and name not in configs
    ]
    pieces += [emit.document(_without_paths(resource)) for resource in outcome.added]
    sys.stdout.write(_join(pieces))
    for result in by_severity(results):  # a person reads this mode: every result, on stderr
        print(result.as_line(), file=sys.stderr)
    return 1 if any(r.severity == "error" for r in results) else 0


def _is_local_config(value: Any) -> bool:
    """This function's own config, or a resource marked local-config: not for the cluster."""
    if not isinstance(value, dict):
        return False
    annotations = (value.get("metadata") or {}).get("annotations") or {}
    local = str(annotations.get("config.kubernetes.io/local-config", "")).lower() == "true"
    return local or value.get("kind") == defaults.KIND


def _without_paths(resource: dict[str, Any]) -> dict[str, Any]:
    """A generated resource without the file annotations only kpt uses."""
    annotations = resource["metadata"].get("annotations") or {}
    kept = {k: v for k, v in annotations.items() if k not in PATH_ANNOTATIONS}
    metadata = {k: v for k, v in resource["metadata"].items() if k != "annotations"}
    if kept:
        metadata["annotations"] = kept
    return {**resource, "metadata": metadata}


def _config(path: str | None) -> Any:
    if path is None:
        return defaults.default_config()
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML: {getattr(error, 'problem', error)}") from None
    return defaults.load(data)


def _edits(document: Document, new: dict[str, Any]) -> tuple[list[textpatch.Edit], Result | None]:
    """Edits of the document's file text; a rewrite of the document if in place fails."""
    text, node = document.text, document.node
    assert node is not None
    region = (textpatch.line_start(text, node.start_mark.index), textpatch.after(text, node))
    style = textpatch.sequence_style(text, node, "compact")
    edits = textpatch.edit_in_place(text, node, document.value, new, style, region, False)
    if edits is not None:
        return edits, None
    return [textpatch.Edit(*region, emit.document(new, style))], rewritten(new)


def _join(pieces: list[str]) -> str:
    """Files as one multi-document stream."""
    out = ""
    for piece in pieces:
        if out:
            if not out.endswith("\n"):
                out += "\n"
            if not piece.lstrip().startswith("---"):
                out += "---\n"
        out += piece
    return out
