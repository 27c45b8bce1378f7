"""The transformation itself: resources in, changed resources and results out.

No I/O here. The caller reads only the items whose kind `kinds_to_read` names
and passes them in as plain data; everything else passes through unread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from function import clients as clientlib
from function import dockerd, marker, podspecs, results, sidecar
from function.config import Config
from function.podspecs import RUN_TO_COMPLETION_KINDS
from function.results import Result
from function.selection import MODE_ANNOTATION, annotations_of, candidate_kinds, is_selected
from function.textpatch import same
from function.wiring import Wiring


@dataclass
class Outcome:
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)  # item index -> new value
    added: list[dict[str, Any]] = field(default_factory=list)  # resources to append
    results: list[Result] = field(default_factory=list)


def kinds_to_read(config: Config) -> frozenset[str]:
    return candidate_kinds(config)


def copy(value: Any) -> Any:
    """Deep copy of plain YAML data (much faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) for v in value]
    return value


def config_results(config: Config) -> list[Result]:
    """Warnings about the config itself, given once per run."""
    out = []
    if config.mode != "audit" and dockerd.floating_tag(config.image):
        out.append(
            Result(
                f"image {config.image!r} has no full version tag: a floating tag such as "
                "`dind` or `latest` changes the daemon under you; pin one such as "
                "`docker:29.8.0-dind`",
                "warning",
                field="image",
            )
        )
    if config.mode != "audit" and config.transport == "tcp":
        out.append(
            Result(
                "transport tcp: the daemon also listens on 127.0.0.1:2375 without "
                "authentication; every container in the pod can drive it",
                "warning",
                field="transport",
            )
        )
    return out


def transform(config: Config, items: Iterable[tuple[int, dict[str, Any]]]) -> Outcome:
    outcome = Outcome(results=config_results(config))
    for index, resource in items:
        if not is_selected(config, resource):
            continue
        new, notes = _inject(config, resource)
        outcome.results += notes
        if new is not None and not same(resource, new):
            outcome.changed[index] = new
    return outcome


def _inject(config: Config, resource: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Result]]:
    kind = str(resource["kind"])
    mode = str(annotations_of(resource).get(MODE_ANNOTATION, config.mode))
    if mode not in ("sidecar",):
        return None, [
            results.about(
                resource,
                f"annotation {MODE_ANNOTATION} is {mode!r}; expected sidecar or daemonset",
                "error",
                f"metadata.annotations.{MODE_ANNOTATION}",
            )
        ]
    new = copy(resource)
    spec = podspecs.pod_spec(new)
    if spec is None:
        return None, [results.about(resource, "has no pod spec to change", "warning")]
    previous = marker.read(new)
    if previous is not None:
        marker.undo(spec, previous)
    chosen = clientlib.choose(config, new, spec)
    notes = [
        results.about(
            resource,
            f"container {name!r} is named as a Docker client but the pod has no such container",
            "warning",
        )
        for name in chosen.missing
    ]
    if not chosen.names:
        notes.append(
            results.about(resource, "no container to give Docker to; left unchanged", "warning")
        )
        return None, notes
    wiring: Wiring = sidecar.wire(config, spec, chosen.names, kind)
    notes += [
        results.about(resource, message, severity, podspecs.field_path(kind, f) if f else None)
        for severity, message, f in wiring.notes
    ]
    if wiring.record is None:
        return None, notes
    marker.write(new, wiring.record)
    if same(resource, new):
        return new, notes
    verb = "updated the" if previous is not None else "added a"
    where = "native sidecar" if config.native_sidecar else "sidecar container"
    notes.append(
        results.about(
            resource,
            f"{verb} Docker-in-Docker {where} {config.sidecar_name!r} "
            f"for {', '.join(repr(n) for n in chosen.names)}",
        )
    )
    if not config.native_sidecar and kind in RUN_TO_COMPLETION_KINDS:
        notes.append(
            results.about(
                resource,
                "with nativeSidecar: false the daemon keeps running after the build, so "
                f"this {kind} never completes",
                "warning",
            )
        )
    return new, notes
