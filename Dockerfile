# Container image for the inject-docker KRM function.
#
#   docker build -t inject-docker .
#   docker build --build-arg BASE_IMAGE=local/python-base:bookworm -t inject-docker:local .
#
# BASE_IMAGE must provide `python3` (3.11 or newer) with the venv module on PATH.
# Both stages use the same base, so the interpreter the virtualenv points at is at
# the same path in the final image as in the builder.
#
# Wheels: if the build context has a `wheels/` folder with the project's wheel and
# its dependencies (`pip wheel . -w wheels`), they are installed offline
# (`--no-index --find-links`); otherwise the project is built from source and its
# dependencies come from the package index.

ARG BASE_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------- builder
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

# The venv lives at its final path; only its contents are copied to the runtime stage.
RUN python3 -m venv /opt/inject-docker

COPY . /src

# After the install, installer tooling (pip, setuptools, activate scripts) is removed
# and everything is precompiled once: the runtime filesystem may be read-only and
# bytecode writing is off there. unchecked-hash .pyc files are used without checking
# the sources' timestamps.
RUN set -eu; \
    pip=/opt/inject-docker/bin/pip; \
    if ls /src/wheels/*.whl >/dev/null 2>&1; then \
        echo "installing from bundled wheels (offline)"; \
        "$pip" install --no-index --find-links /src/wheels inject-docker; \
    else \
        echo "no wheels/ in the build context: installing from the package index"; \
        "$pip" install /src; \
    fi; \
    "$pip" check; \
    "$pip" uninstall --yes pip setuptools wheel >/dev/null 2>&1 || true; \
    rm -f /opt/inject-docker/bin/pip* /opt/inject-docker/bin/easy_install* \
          /opt/inject-docker/bin/activate* /opt/inject-docker/bin/Activate.ps1; \
    find /opt/inject-docker -depth -type d -name __pycache__ -exec rm -rf {} +; \
    /opt/inject-docker/bin/python -m compileall -q -j 0 \
        --invalidation-mode unchecked-hash /opt/inject-docker/lib; \
    /opt/inject-docker/bin/python -c "import function.cli"

# --------------------------------------------------------------------------- runtime
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="inject-docker" \
      org.opencontainers.image.description="KRM function that gives CI workloads a Docker daemon (DinD native sidecar or node DaemonSet)" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /opt/inject-docker /opt/inject-docker

# kpt and kustomize run the container as `nobody`, with --network none, and users
# may add --read-only: nothing here writes to disk or needs a home directory.
ENV PATH=/opt/inject-docker/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONNOUSERSITE=1 \
    PYTHONSAFEPATH=1 \
    PYTHONIOENCODING=utf-8 \
    LANG=C.UTF-8

USER 65534:65534
WORKDIR /

ENTRYPOINT ["/opt/inject-docker/bin/inject-docker"]
