"""Container image references, and what the `docker` images' tags say about their version.

The grammar is the one registries and the Kubernetes runtime accept (the
distribution reference format): `[domain[:port]/]path[:tag][@digest]`. The
official `docker` images (on Docker Hub or any mirror of them) carry the Docker
version in their tag, which tells which API version a CLI speaks and which API
versions a daemon accepts.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
_MAX_NAME = 255


class Reference(NamedTuple):
    domain: str  # "" when the reference names none (Docker Hub)
    path: str
    tag: str  # "" when none
    digest: str  # "" when none


def parse(reference: str) -> Reference | None:
    """The parts of an image reference, or None when it is not one."""
    found = _REFERENCE.fullmatch(reference)
    if found is None:
        return None
    domain, path = found["domain"] or "", found["path"]
    if domain and not ("." in domain or ":" in domain or domain == "localhost"):
        # `foo/bar`: the first component is a path component, not a registry.
        path, domain = f"{domain}/{path}", ""
    if len(f"{domain}/{path}" if domain else path) > _MAX_NAME:
        return None
    return Reference(domain, path, found["tag"] or "", found["digest"] or "")


def problem(reference: str) -> str | None:
    """Why `reference` is not an image reference, or None when it is one."""
    if not reference:
        return "is empty; expected an image such as docker:29.8.0-dind"
    if reference != reference.strip():
        return f"{reference!r} has spaces around it"
    if parse(reference) is None:
        return (
            f"{reference!r} is not an image reference: expected [registry/]name[:tag][@digest], "
            "with a lower-case name, such as docker:29.8.0-dind"
        )
    return None


class DockerImage(NamedTuple):
    """An official `docker` image (or a mirror of one)."""

    version: tuple[int, ...] | None  # (major, minor[, patch]); None: current (`latest`, `dind`)
    variant: str  # "dind", "dind-rootless", "cli", "" (the default, dind), "windowsservercore"...
    tag: str = ""


# Tags that name no version. `stable` was frozen at 19.03 when it was retired.
_NAMED_TAGS = {"stable": (19, 3), "stable-dind": (19, 3), "edge": None, "test": None, "git": None}
_VERSION_TAG = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-(?:rc|beta|ce|ee)[.\d]*)?(?:-(.*))?")


@functools.lru_cache(maxsize=1024)  # a list names the same few images thousands of times
def docker_image(reference: str) -> DockerImage | None:
    """What the tag of an official `docker` image says, or None for any other image."""
    parts = parse(reference)
    if parts is None or parts.path.rpartition("/")[2] != "docker":
        return None
    tag = parts.tag or "latest"
    if tag in _NAMED_TAGS:
        return DockerImage(_NAMED_TAGS[tag], "dind" if "dind" in tag else "", tag)
    found = _VERSION_TAG.fullmatch(tag)
    if found is None:
        return DockerImage(None, tag.replace("latest", ""), tag)  # `dind`, `cli`, ...
    version = tuple(int(g) for g in found.groups()[:3] if g is not None)
    return DockerImage(version, _variant(found.group(4) or ""), tag)


def _variant(rest: str) -> str:
    """`dind-alpine3.20` -> `dind`; `cli` -> `cli`; `alpine3.20` -> ``."""
    for known in ("dind-rootless", "dind", "cli", "windowsservercore"):
        if rest.startswith(known):
            return known
    return ""


def is_dind(reference: str) -> bool:
    """An image that runs a Docker daemon: the `dind` variants of the `docker` image."""
    image = docker_image(reference)
    return image is not None and (image.variant.startswith("dind") or image.variant == "")


def is_docker_cli(reference: str) -> bool:
    """An image whose job is the docker CLI (any `docker` image that is not a dind)."""
    image = docker_image(reference)
    return image is not None and image.variant == "cli"


# The API version each Docker release speaks (the newest it serves or asks for).
_API_VERSIONS: tuple[tuple[tuple[int, ...], str], ...] = (
    ((1, 12), "1.24"),
    ((17, 3), "1.26"),
    ((17, 4), "1.28"),
    ((17, 5), "1.29"),
    ((17, 6), "1.30"),
    ((17, 7), "1.31"),
    ((17, 9), "1.32"),
    ((17, 10), "1.33"),
    ((17, 11), "1.34"),
    ((17, 12), "1.35"),
    ((18, 2), "1.36"),
    ((18, 3), "1.37"),
    ((18, 6), "1.38"),
    ((18, 9), "1.39"),
    ((19, 3), "1.40"),
    ((20, 10), "1.41"),
    ((23, 0), "1.42"),
    ((24, 0), "1.43"),
    ((25, 0), "1.44"),
    ((26, 0), "1.45"),
    ((27, 0), "1.46"),
    ((27, 2), "1.47"),
    ((28, 0), "1.48"),
    ((28, 1), "1.49"),
    ((28, 2), "1.50"),
    ((28, 3), "1.51"),
    ((29, 0), "1.52"),
    ((29, 2), "1.53"),
    ((29, 3), "1.54"),
    ((29, 6), "1.55"),
)
# The lowest API version any current daemon can be set to accept.
LOWEST_API = "1.24"


def api_version(version: tuple[int, ...]) -> str | None:
    """The API version of a Docker release; None for one older than the table knows."""
    found = None
    for release, api in _API_VERSIONS:
        if version[:2] >= release:
            found = api
    return found


def default_min_api(version: tuple[int, ...] | None) -> str:
    """The oldest API version a daemon of this release accepts unless told otherwise.

    25 to 28 accept 1.24; 29.0 to 29.2 raised it to 1.44; 29.3 lowered it to 1.40.
    An unknown release counts as the strictest of the current ones.
    """
    if version is None or version[:2] in ((29, 0), (29, 1), (29, 2)):
        return "1.44"
    if version[:2] >= (29, 3):
        return "1.40"
    if version[:2] >= (25, 0):
        return "1.24"
    return "1.12"


def can_lower_min_api(version: tuple[int, ...] | None) -> bool:
    """Daemons from 25.0 on read DOCKER_MIN_API_VERSION."""
    return version is None or version[:2] >= (25, 0)


def api_key(api: str) -> tuple[int, int]:
    major, _, minor = api.partition(".")
    return int(major), int(minor or 0)


def oldest_api(a: str | None, b: str | None) -> str | None:
    """The older of two API versions; None stands for none."""
    if a is None or b is None:
        return a or b
    return a if api_key(a) <= api_key(b) else b
