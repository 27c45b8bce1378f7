#!/usr/bin/env bash
# Build (once) the Debian 13 root that the runtime tier runs every container from:
# Docker 26 (dockerd, containerd, runc, the docker CLI), openssl and iproute2 for the
# emulated dind entrypoint's TLS certificates, and one test image made from Debian's
# busybox-static package, saved with `docker save` for the clients to `docker load`.
#
#   tests/runtime/build-root.sh          build it if missing or outdated, else reuse it
#   tests/runtime/build-root.sh --check  exit 0 if a usable root is cached, 1 if not
#
# The root is cached outside the repository, under $INJECT_DOCKER_RUNTIME_CACHE
# (default /var/cache/inject-docker-runtime):
#
#   $CACHE/root/                              the Debian 13 (trixie) root, about 450 MB
#   $CACHE/root/opt/inject-docker-runtime/    the test image (busybox.tar) and versions
#   $CACHE/root.key                           what the root was built from; a root whose
#                                             key differs from this script's is rebuilt
#
# Needs root (debootstrap, mount, unshare) and a Debian mirror; installs debootstrap
# and iproute2 with apt-get when they are missing. About 1 to 3 minutes; nothing is
# pulled from any container registry.
#
# Environment overrides:
#   INJECT_DOCKER_RUNTIME_CACHE  cache folder                  (/var/cache/inject-docker-runtime)
#   DEBIAN_MIRROR                Debian mirror for debootstrap (taken from the apt sources)
set -euo pipefail

CACHE=${INJECT_DOCKER_RUNTIME_CACHE:-/var/cache/inject-docker-runtime}
SUITE=trixie
PACKAGES=docker.io,docker-cli,ca-certificates,openssl,iproute2,busybox-static
IMAGE=inject-docker-runtime/busybox:trixie
# Bump when the steps below change in a way that needs a new root.
RECIPE=1
KEY="suite=$SUITE packages=$PACKAGES image=$IMAGE recipe=$RECIPE"

ROOT="$CACHE/root"
READY="$ROOT/opt/inject-docker-runtime/ready"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-root.sh: error: %s\n' "$*" >&2; exit 1; }

usable() { [ -f "$READY" ] && [ "$(cat "$CACHE/root.key" 2>/dev/null)" = "$KEY" ]; }

if [ "${1:-}" = "--check" ]; then
    usable
    exit
fi
if usable; then
    log "runtime root: cached at $ROOT ($(cat "$ROOT/opt/inject-docker-runtime/dockerd-version"))"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, mount and unshare need it)"
for tool in unshare nsenter mount chroot; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (util-linux)"
done

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/inject-docker-runtime-build.XXXXXX")
NEW=""
DAEMON_PID=""
cleanup() {
    if [ -n "$DAEMON_PID" ]; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
    if [ -n "$NEW" ] && [ -d "$NEW" ]; then rm -rf --one-file-system "$NEW"; fi
    rm -rf "$LOGDIR"
}
trap cleanup EXIT

# run NAME CMD...: run quietly; on failure show the end of its output and stop.
run() {
    local name=$1; shift
    if ! "$@" >"$LOGDIR/$name.log" 2>&1; then
        printf 'build-root.sh: error: %s failed (%s); last lines of output:\n' "$name" "$*" >&2
        tail -n 30 "$LOGDIR/$name.log" | sed 's/^/    /' >&2
        exit 1
    fi
}

APT_UPDATED=0
need() {  # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return
    command -v apt-get >/dev/null 2>&1 || die "$1 not found and no apt-get to install $2"
    if [ "$APT_UPDATED" -eq 0 ]; then
        run apt-update apt-get update -q
        APT_UPDATED=1
    fi
    log "apt-get install $2"
    run "apt-install-$2" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2"
}
need debootstrap debootstrap
need ip iproute2

# The Debian mirror apt uses (deb822 .sources and one-line .list), as tests/image/build-local.sh.
debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
    local files=() f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] && files+=("$f")
    done
    if [ "${#files[@]}" -gt 0 ]; then
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
        if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
    fi
    echo "http://deb.debian.org/debian"
}

mkdir -p "$CACHE"
NEW=$(mktemp -d "$CACHE/root.new.XXXXXX")
chmod 0755 "$NEW"  # mktemp makes it 0700; every user in the containers walks through it
MIRROR=$(debian_mirror)
log "debootstrap $SUITE ($PACKAGES) from $MIRROR into $NEW (1 to 3 minutes)"
run debootstrap debootstrap --variant=minbase "--include=$PACKAGES" "$SUITE" "$NEW" "$MIRROR"
rm -rf "$NEW"/var/cache/apt/archives/*.deb "$NEW"/var/lib/apt/lists/* \
    "$NEW"/usr/share/doc/* "$NEW"/usr/share/man/* "$NEW"/usr/share/info/*

OPT="$NEW/opt/inject-docker-runtime"
mkdir -p "$OPT"
chroot "$NEW" dockerd --version >"$OPT/dockerd-version"
chroot "$NEW" docker --version >"$OPT/docker-version"

# The test image: Debian's static busybox and nothing else.
log "making $IMAGE from Debian's busybox-static"
IMG="$LOGDIR/image"
mkdir -p "$IMG/bin"
cp "$NEW/bin/busybox" "$IMG/bin/busybox"
for applet in sh cat true echo ls id sleep; do ln -s busybox "$IMG/bin/$applet"; done

# A temporary Docker 26 daemon in the new root imports it and `docker save`s it. The root
# must be a mount point (a bind mount onto itself), or runc fails with
# "remount /, flags: 0x84000: invalid argument" (see /work/shared/notes/machine.md).
mkdir -p "$NEW/run/build" "$NEW/var/lib/build-docker"
unshare --mount --pid --fork --kill-child=SIGKILL --propagation private sh -ec '
    mount --bind "$1" "$1"
    mount -t proc proc "$1/proc"
    mount --rbind /sys "$1/sys"
    mount --rbind /dev "$1/dev"
    exec chroot "$1" dockerd --host=unix:///run/build/docker.sock --iptables=false \
        --bridge=none --data-root=/var/lib/build-docker --exec-root=/run/build/exec \
        --pidfile=/run/build/docker.pid
' sh "$NEW" >"$LOGDIR/dockerd.log" 2>&1 &
DAEMON_PID=$!
docker26() { chroot "$NEW" docker --host unix:///run/build/docker.sock "$@"; }
for _ in $(seq 1 120); do
    docker26 info >/dev/null 2>&1 && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.5
done
if ! docker26 info >/dev/null 2>&1; then
    printf 'build-root.sh: error: the Docker 26 daemon of the new root did not start; its log:\n' >&2
    tail -n 30 "$LOGDIR/dockerd.log" | sed 's/^/    /' >&2
    exit 1
fi
tar -C "$IMG" --numeric-owner --owner=0 --group=0 -c . |
    docker26 import --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
docker26 save -o /opt/inject-docker-runtime/busybox.tar "$IMAGE"
chmod 0644 "$OPT/busybox.tar"
kill -KILL "$DAEMON_PID"  # unshare ignores SIGTERM; SIGKILL reaches dockerd through --kill-child
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
rm -rf --one-file-system "$NEW/run/build" "$NEW/var/lib/build-docker"
echo "$IMAGE" >"$OPT/image"
date -u +%FT%TZ >"$OPT/ready"

# Swap it in: a half-built root is never left at $ROOT.
if [ -e "$ROOT" ]; then
    OLD=$(mktemp -d "$CACHE/root.old.XXXXXX")
    mv "$ROOT" "$OLD/root"
    rm -rf --one-file-system "$OLD"
fi
mv "$NEW" "$ROOT"
NEW=""
echo "$KEY" >"$CACHE/root.key"
log "runtime root: built at $ROOT ($(cat "$ROOT/opt/inject-docker-runtime/dockerd-version"), $(du -sh "$ROOT" | cut -f1))"
