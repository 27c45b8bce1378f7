"""Whether a workload shows that it uses Docker (the `usesDocker` selector).

Signs, in any container or init container: a docker CLI or dind image; `docker`,
`docker-compose` or `testcontainers` in its command, args or script; DOCKER_HOST
or a TESTCONTAINERS_ variable in its environment; a mount of the node's Docker
socket; a Docker daemon of its own.
"""

from __future__ import annotations

import re
from typing import Any

from function.kube import cikinds, daemons, images, oldwiring, podspecs
from function.kube.containers import command_line, containers_of, env_names, mounted_by
from function.plaindata import listing


def container_uses_docker(container: dict[str, Any]) -> bool:
    """A container (or a Tekton step, an Argo script) that shows Docker use."""
    if images.docker_image(str(container.get("image", ""))) is not None:
        return True
    # A Tekton step's `script`, an Argo script template's `source`: their comments
    # do not count (`# no docker here`).
    words = [
        *command_line(container),
        _without_comments(str(container.get("script", ""))),
        _without_comments(str(container.get("source", ""))),
    ]
    if daemons.is_daemon(container) or _TOOLS.search(" ".join(words)):
        return True
    variables = env_names(container)
    return "DOCKER_HOST" in variables or any(
        str(v).startswith("TESTCONTAINERS_") for v in variables
    )


# `docker` as a command, not a part of another word, a path or `docker://` (the image
# transport of skopeo, buildah and crane).
_TOOLS = re.compile(r"(?<![\w./-])(?:docker(?:-compose)?|testcontainers)(?![\w.:/-])")
_COMMENT = re.compile(r"(?m)(?:^|(?<=\s))#.*$")


def _without_comments(script: str) -> str:
    return _COMMENT.sub("", script) if "#" in script else script


# The docker CLI's global -H/--host, given before the subcommand (`docker -H tcp://x:2375
# build .`, `docker --host=unix:///s ps`): it wins over DOCKER_HOST.
_HOST_FLAG = re.compile(
    r"(?<![\w./-])docker(?:\s+--?[a-z][\w-]*(?:=\S+)?)*?\s+(?:-H|--host)(?:=|\s+|(?=[a-z]))"
    r"['\"]?([a-z]+://[^\s'\";|&]*|[^\s'\";|&-][^\s'\";|&]*)"
)


def host_flags(container: dict[str, Any]) -> list[str]:
    """The daemon addresses `container` passes to docker with -H or --host, in its
    command, args or script."""
    words = [
        *command_line(container),
        _without_comments(str(container.get("script", ""))),
        _without_comments(str(container.get("source", ""))),
    ]
    text = " ".join(words)
    return _HOST_FLAG.findall(text) if "docker" in text else []


def uses_docker(resource: dict[str, Any], template_path: str | None = None) -> bool:
    spec = podspecs.pod_spec(resource, template_path)
    if spec is None:
        return any(
            container_uses_docker(c)
            for unit in cikinds.units(resource)
            for c in [*cikinds.containers(unit), *listing(unit.body.get("sidecars"))]
            if isinstance(c, dict)
        )
    if any(container_uses_docker(c) for c in containers_of(spec)):
        return True
    return any(mounted_by(spec, volume.name) for volume in oldwiring.docker_socket_volumes(spec))
