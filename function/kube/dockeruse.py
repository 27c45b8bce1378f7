"""Whether a workload shows that it uses Docker (the `usesDocker` selector).

Signs, in any container or init container: a docker CLI or dind image; `docker`,
`docker-compose` or `testcontainers` in its command, args or script; DOCKER_HOST
or a TESTCONTAINERS_ variable in its environment; a mount of the node's Docker
socket; a Docker daemon of its own.
"""

from __future__ import annotations

import re
from typing import Any

from function.kube import daemons, images, oldwiring, podspecs
from function.kube.containers import command_line, containers_of, env_names, mounted_by

_TOOLS = re.compile(r"(?<![\w./-])(?:docker(?:-compose)?|testcontainers)(?![\w.-])")


def uses_docker(resource: dict[str, Any]) -> bool:
    spec = podspecs.pod_spec(resource)
    if spec is None:
        return False
    for container in containers_of(spec):
        if images.docker_image(str(container.get("image", ""))) is not None:
            return True
        if daemons.is_daemon(container) or _TOOLS.search(" ".join(command_line(container))):
            return True
        variables = env_names(container)
        if "DOCKER_HOST" in variables or any(
            str(v).startswith("TESTCONTAINERS_") for v in variables
        ):
            return True
    return any(
        mounted_by(spec, volume.name)
        for volume in oldwiring.host_volumes(spec, oldwiring.DOCKER_SOCKETS)
    )
