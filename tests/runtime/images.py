"""What the tier knows of the images the outputs name: a small, explicit table.

No image is pulled: every container runs on the shared Debian 13 root. What an image
would change about how a container starts is kept here instead, for the images the
outputs use: the user it declares (`USER`), its entrypoint and cmd (which a pod's
`command` and `args` replace), its environment, the folders it ships that matter,
and for docker CLI images the API version their CLI speaks.

Images not in the table run as root with no entrypoint, which is what every other
image the outputs name declares (or, for the made-up `registry.example.com` images
of the golden cases, what the tier assumes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Image:
    uid: int = 0
    gid: int = 0
    groups: tuple[int, ...] = ()  # the user's groups in the image's /etc/group
    home: str = "/root"
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    dirs: tuple[tuple[str, int], ...] = ()  # folders the image ships, with their modes
    api: str | None = None  # API version of the image's docker CLI, when older than 26's
    daemon: bool = False  # the docker:dind image (its entrypoint starts dockerd)


# docker-library/docker's dind images: ENTRYPOINT ["dockerd-entrypoint.sh"], CMD [],
# ENV DOCKER_TLS_CERTDIR=/certs, and /certs, /certs/client made mode 1777.
DIND = Image(
    entrypoint=("dockerd-entrypoint.sh",),
    env={"DOCKER_TLS_CERTDIR": "/certs"},
    dirs=(("/certs", 0o1777), ("/certs/client", 0o1777)),
    daemon=True,
)
# The pre-19.03 dind images had the same entrypoint without TLS by default.
DIND_PRE_1903 = Image(entrypoint=("dockerd-entrypoint.sh",), daemon=True)
# The CLI images: ENTRYPOINT ["docker-entrypoint.sh"], CMD ["sh"].
CLI = Image(entrypoint=("docker-entrypoint.sh",), cmd=("sh",), env={"DOCKER_TLS_CERTDIR": "/certs"})

# Images that declare a non-root USER (from their Dockerfiles).
USERS: dict[str, Image] = {
    # actions/runner images/Dockerfile: adduser --uid 1001 runner; groups sudo, docker (123).
    "ghcr.io/actions/actions-runner": Image(
        uid=1001, gid=1001, groups=(27, 123), home="/home/runner", api=None
    ),
    # actions-runner-controller runner/actions-runner.*.dockerfile: uid 1001, docker gid 121,
    # docker CLI 20.10.
    "summerwind/actions-runner": Image(
        uid=1001, gid=1001, groups=(27, 121), home="/home/runner", api="1.41"
    ),
    # jenkinsci/docker-agent: user jenkins, 1000:1000.
    "jenkins/inbound-agent": Image(uid=1000, gid=1000, home="/home/jenkins"),
    # curl/curl-container: USER curl_user (100, group curl_group 101).
    "curlimages/curl": Image(uid=100, gid=101, home="/home/curl_user"),
}

# The docker CLI's API version by docker release (docs.docker.com API version matrix).
CLI_API = {
    "1.11": "1.23",
    "1.12": "1.24",
    "1.13": "1.25",
    "17.03": "1.26",
    "17.04": "1.27",
    "17.05": "1.29",
    "17.06": "1.30",
    "17.07": "1.31",
    "17.09": "1.32",
    "17.10": "1.33",
    "17.11": "1.34",
    "17.12": "1.35",
    "18.02": "1.36",
    "18.03": "1.37",
    "18.06": "1.38",
    "18.09": "1.39",
    "19.03": "1.40",
    "20.10": "1.41",
    "23.0": "1.42",
    "24.0": "1.43",
    "25.0": "1.44",
}

# The non-root image the tier gives the extra client it adds to every pod.
NON_ROOT_IMAGE = "ghcr.io/actions/actions-runner:latest"


def split(reference: str) -> tuple[str, str]:
    """(repository without docker.io/library, tag) of an image reference."""
    name = reference.strip().split("@", 1)[0]
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name.startswith("library/"):
        name = name[len("library/") :]
    return name, tag


def _docker_version(tag: str) -> str | None:
    """The release (`19.03`, `1.11`) of a docker image tag, or None for floating tags."""
    if tag == "stable" or tag.startswith("stable-"):
        return "19.03"  # `stable` has been frozen at 19.03 for years
    match = re.match(r"(\d+)\.(\d+)", tag)
    if not match:
        return None
    major, minor = match.groups()
    return f"{major}.{minor}" if int(major) < 23 else f"{major}.0"


def lookup(reference: str) -> Image:
    """What the tier assumes of the image `reference`."""
    name, tag = split(reference)
    if name in USERS:
        return USERS[name]
    if name == "docker" or name.endswith("/docker") or name.endswith("/library/docker"):
        version = _docker_version(tag)
        if "dind" in tag:
            if "rootless" in tag:
                return Image(
                    uid=1000, gid=1000, home="/home/rootless", entrypoint=DIND.entrypoint,
                    env=DIND.env, dirs=DIND.dirs, daemon=True,
                )  # fmt: skip
            old = version is not None and tuple(map(int, version.split("."))) < (19, 3)
            return DIND_PRE_1903 if old else DIND
        api = CLI_API.get(version or "")
        return Image(entrypoint=CLI.entrypoint, cmd=CLI.cmd, env=CLI.env, api=api)
    return Image()


def is_dind(reference: str) -> bool:
    return lookup(reference).daemon
