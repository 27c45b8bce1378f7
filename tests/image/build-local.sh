#!/usr/bin/env bash
# Build the inject-docker container image on a machine that cannot pull from any
# container registry:
#
#   1. make sure a Docker engine answers (install docker.io and start dockerd if needed),
#   2. build a Python base image from Debian packages with debootstrap (once),
#   3. build the project's wheels on the host (inside `docker build` pip has no index),
#   4. build inject-docker:local and the inject-docker:passthrough benchmark image,
#   5. print the image size.
#
# Safe to run repeatedly: every step is skipped or served from cache when nothing changed.
#
# Environment overrides:
#   IMAGE              image to build                  (inject-docker:local)
#   PASSTHROUGH_IMAGE  `cat` image for benchmarks      (inject-docker:passthrough)
#   BASE_IMAGE         base image for both             (local/python-base:bookworm)
#   DEBIAN_SUITE       suite for debootstrap           (bookworm)
#   DEBIAN_MIRROR      Debian mirror for debootstrap   (taken from the apt sources)
#   DOCKERD_LOG        dockerd log file                (/tmp/dockerd.log)
#   DOCKERD_TIMEOUT    seconds to wait for dockerd     (60)
set -euo pipefail

IMAGE=${IMAGE:-inject-docker:local}
PASSTHROUGH_IMAGE=${PASSTHROUGH_IMAGE:-inject-docker:passthrough}
BASE_IMAGE=${BASE_IMAGE:-local/python-base:bookworm}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
DOCKERD_TIMEOUT=${DOCKERD_TIMEOUT:-60}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WHEELS="$ROOT/wheels"

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/inject-docker-build.XXXXXX")
CLEANUP=("$LOGDIR")
cleanup() { rm -rf "${CLEANUP[@]}"; }
trap cleanup EXIT

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-local.sh: error: %s\n' "$*" >&2; exit 1; }

# run NAME CMD...: run quietly; on failure show the end of its output and stop.
run() {
    local name=$1; shift
    local out="$LOGDIR/$name.log"
    if ! "$@" >"$out" 2>&1; then
        printf 'build-local.sh: error: %s failed (%s); last lines of output:\n' "$name" "$*" >&2
        tail -n 40 "$out" | sed 's/^/    /' >&2
        exit 1
    fi
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install packages or start dockerd"
    SUDO=(sudo)
fi

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        run apt-update "${SUDO[@]}" apt-get update -q
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    run apt-install "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@"
}

engine_up() { docker info >/dev/null 2>&1; }
dockerd_running() {
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qs dockerd "/proc/$pid/comm"
}

# --------------------------------------------------------------------------- 1. engine
ensure_engine() {
    if engine_up; then
        log "Docker engine: running ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        return
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        apt_install docker.io
    fi
    command -v docker >/dev/null 2>&1 || die "docker client not found after installing docker.io"
    command -v dockerd >/dev/null 2>&1 || die "dockerd not found after installing docker.io"

    # The package's service scripts may have started one already; do not start a second.
    if ! engine_up && ! dockerd_running; then
        log "starting dockerd (log: $DOCKERD_LOG)"
        # setsid: the daemon outlives this script and its process group.
        "${SUDO[@]}" setsid dockerd --iptables=false --bridge=none \
            </dev/null >"$DOCKERD_LOG" 2>&1 &
    fi
    local waited=0
    until engine_up; do
        if [ "$waited" -ge "$DOCKERD_TIMEOUT" ]; then
            printf 'build-local.sh: error: the Docker engine did not answer within %ss.\n' \
                "$DOCKERD_TIMEOUT" >&2
            if [ -r "$DOCKERD_LOG" ]; then
                printf 'last lines of %s:\n' "$DOCKERD_LOG" >&2
                tail -n 20 "$DOCKERD_LOG" | sed 's/^/    /' >&2
            fi
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "Docker engine: started after ${waited}s ($(docker version -f '{{.Server.Version}}'))"
}

# --------------------------------------------------------------------------- 2. base
# Print the Debian mirror apt uses (deb822 .sources and one-line .list formats).
debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    local files=() f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] && files+=("$f")
    done
    if [ "${#files[@]}" -gt 0 ]; then
        # One URI per line, from both formats; keep the first plain Debian archive.
        uri=$(
            awk '
                /^[[:space:]]*#/ { next }
                /^[[:space:]]*deb[[:space:]]/ {
                    for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break }
                    next
                }
                tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }
            ' "${files[@]}" |
            grep -E '^https?://[^ ]*/debian/?$' | grep -v -- '-security' | head -n 1 || true
        )
        if [ -n "$uri" ]; then
            echo "${uri%/}"
            return
        fi
    fi
    echo "http://deb.debian.org/debian"
}

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE: present"
        return
    fi
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    local mirror rootfs
    mirror=$(debian_mirror)
    rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/inject-docker-rootfs.XXXXXX")
    CLEANUP+=("$rootfs")
    log "debootstrap $DEBIAN_SUITE from $mirror (about a minute)"
    run debootstrap "${SUDO[@]}" debootstrap --variant=minbase \
        --include=python3,python3-venv,ca-certificates \
        "$DEBIAN_SUITE" "$rootfs" "$mirror"
    # Package caches and documentation are not needed in an image.
    "${SUDO[@]}" rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
    log "importing $BASE_IMAGE"
    "${SUDO[@]}" tar -C "$rootfs" --numeric-owner -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change 'CMD ["python3"]' \
            - "$BASE_IMAGE" >/dev/null
    "${SUDO[@]}" rm -rf "$rootfs"
}

# --------------------------------------------------------------------------- 3. wheels
build_wheels() {
    local py=${PYTHON:-python3}
    command -v "$py" >/dev/null 2>&1 || die "$py not found on the host: needed to build wheels"
    "$py" -m pip --version >/dev/null 2>&1 || die "pip for $py not found: needed to build wheels"

    local host_ver base_ver arch
    host_ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    base_ver=$(docker run --rm --network none --entrypoint python3 "$BASE_IMAGE" \
        -c 'import sys; print("%d.%d" % sys.version_info[:2])')

    # Build from a copy of what the image needs, so that setuptools' build/ and
    # *.egg-info do not land in the work tree.
    local src out
    src=$(mktemp -d "$LOGDIR/src.XXXXXX")
    out=$(mktemp -d "$LOGDIR/wheels.XXXXXX")
    local parts=(pyproject.toml function) f
    for f in "$ROOT"/README* "$ROOT"/LICENSE*; do
        [ -e "$f" ] && parts+=("$(basename "$f")")
    done
    tar -C "$ROOT" -c --exclude='__pycache__' --exclude='*.py[cod]' --exclude='*.egg-info' \
        "${parts[@]}" | tar -C "$src" -x

    # A fixed timestamp makes the project wheel byte-identical for identical sources,
    # so docker build serves the install step from cache.
    export SOURCE_DATE_EPOCH=315532800
    if [ "$host_ver" = "$base_ver" ]; then
        log "building wheels (project and dependencies, Python $host_ver)"
        run pip-wheel "$py" -m pip wheel --disable-pip-version-check -q "$src" -w "$out"
    else
        # Binary wheels must match the image's Python, not the host's.
        arch=$(docker run --rm --network none --entrypoint uname "$BASE_IMAGE" -m)
        log "building wheels (project; dependencies for Python $base_ver/$arch, host has $host_ver)"
        run pip-wheel "$py" -m pip wheel --disable-pip-version-check -q --no-deps "$src" -w "$out"
        run pip-download "$py" -m pip download --disable-pip-version-check -q \
            --only-binary=:all: --implementation cp --python-version "$base_ver" \
            --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" \
            --platform "manylinux2014_$arch" \
            -d "$out" "$out"/*.whl
    fi

    # Replace the folder's content only when it changed (keeps mtimes and cache stable).
    mkdir -p "$WHEELS"
    printf '*\n' >"$WHEELS/.gitignore"
    local changed=0 names=()
    for f in "$out"/*.whl; do
        names+=("$(basename "$f" | cut -d- -f1-2)")
        cmp -s "$f" "$WHEELS/$(basename "$f")" || { cp "$f" "$WHEELS/"; changed=1; }
    done
    for f in "$WHEELS"/*.whl; do
        [ -e "$f" ] || continue
        [ -e "$out/$(basename "$f")" ] || { rm -f "$f"; changed=1; }
    done
    log "wheels in ${WHEELS#"$ROOT"/}/ $([ "$changed" -eq 1 ] && echo updated || echo unchanged): ${names[*]}"
}

# --------------------------------------------------------------------------- 4. images
build_images() {
    log "docker build $IMAGE (base $BASE_IMAGE)"
    run docker-build docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" "$ROOT"
    log "docker build $PASSTHROUGH_IMAGE"
    run docker-build-passthrough docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        -t "$PASSTHROUGH_IMAGE" - <"$HERE/passthrough.Dockerfile"
    # Earlier builds of the function image, now untagged (only ours, by label).
    docker image prune -f --filter "label=org.opencontainers.image.title=inject-docker" >/dev/null 2>&1 || true
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000 / 1000 }'; }

report() {
    local size base_size
    size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
    base_size=$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE")
    log "$IMAGE: $(mb "$size") (base $BASE_IMAGE: $(mb "$base_size"), function layers: $(mb $((size - base_size))))"
}

ensure_engine
ensure_base_image
build_wheels
build_images
report
