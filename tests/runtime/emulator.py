"""A small pod emulator: starts the containers of a pod spec on this machine the way a
kubelet would, as far as the machine allows (see tests/runtime/README.md).

- A *node* is a network namespace with a bridge (the node's address, `status.hostIP`)
  and a folder that stands for the node's filesystem (hostPath volumes).
- A *pod* is a network namespace joined to the node's bridge by a veth pair (its
  `eth0`, MTU 1450 as on an overlay network, default route through the node), a
  folder per volume, and its hostname, /etc/hostname and /etc/hosts.
- A *container* runs in mount, PID and UTS namespaces of its own (`unshare`), on an
  overlay of the shared Debian 13 root with a writable layer of its own, with its
  volumeMounts bind-mounted at their paths (subPath, readOnly), its env (with `$(VAR)`
  expansion and the downward API), its command and args as a kubelet combines them
  with the image's entrypoint and cmd, and its user, group and supplementary groups.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.runtime import images

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("INJECT_DOCKER_RUNTIME_CACHE", "/var/cache/inject-docker-runtime"))
ROOT = CACHE / "root"
WORK = Path(os.environ.get("INJECT_DOCKER_RUNTIME_WORK", "/var/tmp/inject-docker-runtime"))
IMAGE_TAR = "/opt/inject-docker-runtime/busybox.tar"  # inside the root
ENTRYPOINT_PATH = "/usr/local/bin/dockerd-entrypoint.sh"  # where the dind image keeps it

NODE_IP = "10.213.0.1"
NODE_NAME = "node-1"
POD_MTU = 1450  # an overlay pod network's MTU, below Docker's 1500

# Flags the function may write that Docker 26 does not know, each with the values whose
# effect is Docker 26's default anyway (so dropping them changes nothing the tier checks).
# Keep this short: tests/runtime/test_tier.py pins it and checks each flag is really
# missing from Docker 26's dockerd.
DROPPED_FLAGS: dict[str, tuple[str, ...]] = {
    # Docker 28 and later; containerd-snapshotter is off by default before Docker 29.
    "--feature": ("containerd-snapshotter=false", "containerd-snapshotter=0"),
}
# What this machine needs added to every dockerd command line (there is no iptables).
MACHINE_FLAGS = ("--iptables=false",)

_NETNS_PREFIX = f"idrt{os.getpid()}"
_lock = threading.Lock()
_live: set[Container] = set()


class PodError(Exception):
    """The pod cannot start, as a kubelet would refuse it (CreateContainerConfigError...)."""


def entrypoint_script() -> str:
    """The emulated dockerd-entrypoint.sh, with the list of dropped flags filled in."""
    joined = [f"{flag}={value}" for flag, values in DROPPED_FLAGS.items() for value in values]
    pairs = [f"{flag} {value}" for flag, values in DROPPED_FLAGS.items() for value in values]
    names = list(DROPPED_FLAGS)

    def pattern(words: list[str]) -> str:
        return "|".join(shlex.quote(w) for w in words) or "'@@nothing@@'"

    text = (HERE / "entrypoint.sh").read_text()
    return (
        text.replace("@PAIR_CASES@", pattern(pairs))
        .replace("@JOINED_CASES@", pattern(joined))
        .replace("@NAME_CASES@", pattern(names))
    )


# --------------------------------------------------------------------------- helpers


def run(argv: list[str], *, check: bool = True, timeout: float = 60, **kw: Any) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and done.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes' `$(VAR)` expansion (env values, command, args): `$$` is a literal `$`,
    a reference to an unknown variable stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "$" and i + 1 < len(text):
            following = text[i + 1]
            if following == "$":
                out.append("$")
                i += 2
                continue
            if following == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2 : end]
                    value = lookup(name)
                    out.append(value if value is not None else f"$({name})")
                    i = end + 1
                    continue
            out.append("$" + following)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def node_path(node_dir: Path, path: str) -> Path:
    """A node path inside the folder that stands for the node (/var/run is /run there)."""
    clean = os.path.normpath("/" + path.lstrip("/"))
    if clean == "/var/run" or clean.startswith("/var/run/"):
        clean = "/run" + clean[len("/var/run") :]
    return node_dir / clean.lstrip("/")


# --------------------------------------------------------------------------- node


@dataclass
class Node:
    """One emulated node: a network namespace with a bridge, and a folder for hostPaths."""

    key: str
    work: Path
    netns: str = ""
    pods: int = 0
    forwarders: list[subprocess.Popen[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dir = self.work / "node"
        self.dir.mkdir(parents=True, exist_ok=True)
        # A containerd node: its runtime's socket is there, no Docker socket is.
        (self.dir / "run" / "containerd").mkdir(parents=True, exist_ok=True)
        os.mknod(self.dir / "run" / "containerd" / "containerd.sock", stat.S_IFSOCK | 0o660)
        self.netns = f"{_NETNS_PREFIX}{self.key}n"
        run(["ip", "netns", "add", self.netns])
        script = (
            "link set lo up\n"
            "link add cbr0 type bridge\n"
            f"link set cbr0 mtu {POD_MTU}\n"
            f"addr add {NODE_IP}/24 dev cbr0\n"
            "link set cbr0 up\n"
        )
        run(["ip", "-n", self.netns, "-batch", "-"], input=script)

    def next_pod_ip(self) -> tuple[int, str]:
        with _lock:
            self.pods += 1
            number = self.pods
        return number, f"10.213.0.{number + 1}"

    def forward(self, host_port: int, pod_ip: str, container_port: int) -> None:
        """A hostPort: the node's address and port reach the pod's (as CNI portmap)."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-I", str(HERE / "portfwd.py"),
             NODE_IP, str(host_port), pod_ip, str(container_port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening" not in line:
            process.kill()
            raise PodError(f"hostPort {host_port}: the forwarder did not start: {line.strip()}")
        self.forwarders.append(process)

    def close(self) -> None:
        for process in self.forwarders:
            process.kill()
            process.wait()
        run(["ip", "netns", "del", self.netns], check=False)


# --------------------------------------------------------------------------- container


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    groups: tuple[int, ...]

    def __str__(self) -> str:
        return f"uid {self.uid}, gid {self.gid}, groups {list(self.groups)}"


class Container:
    """A running container: `nsenter` into the pod's network namespace, `unshare` of
    mount, PID and UTS namespaces, then tests/runtime/launch.py."""

    def __init__(self, pod: Pod, name: str, spec: dict[str, Any], argv: list[str],
                 env: dict[str, str], identity: Identity, image: images.Image) -> None:  # fmt: skip
        self.pod = pod
        self.name = name
        self.spec = spec
        self.argv = argv
        self.env = env
        self.identity = identity
        self.dir = pod.dir / "containers" / name
        for sub in ("upper", "work", "rootfs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._prepare_layer(image)
        self.log = self.dir / "log"
        launch = {
            "rootfs": str(self.dir / "rootfs"),
            "lower": str(ROOT),
            "upper": str(self.dir / "upper"),
            "work": str(self.dir / "work"),
            "hostname": pod.hostname,
            "mounts": pod.mounts_for(spec, env),
            "workdir": spec.get("workingDir") or "",
            "uid": identity.uid,
            "gid": identity.gid,
            "groups": list(identity.groups),
            "env": env,
            "argv": argv,
        }
        (self.dir / "spec.json").write_text(json.dumps(launch, indent=1))
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{pod.netns}", "--",
                 "unshare", "--mount", "--pid", "--uts", "--fork", "--kill-child=SIGKILL",
                 "--propagation", "private", "--",
                 sys.executable, "-I", str(HERE / "launch.py"), str(self.dir / "spec.json")],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        with _lock:
            _live.add(self)
        self._init_pid: int | None = None

    def _prepare_layer(self, image: images.Image) -> None:
        """What the image would hold beyond the shared root, in the writable layer."""
        upper = self.dir / "upper"
        for path, mode in image.dirs:
            target = upper / path.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(mode)
        if image.daemon:
            target = upper / ENTRYPOINT_PATH.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(entrypoint_script())
            target.chmod(0o755)
        home = self.env.get("HOME", "/root")
        if home not in ("/", "/root"):
            target = upper / home.lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            os.chown(target, self.identity.uid, self.identity.gid)
        etc = upper / "etc"
        etc.mkdir(exist_ok=True)
        (etc / "hostname").write_text(self.pod.hostname + "\n")
        (etc / "hosts").write_text(
            f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{self.pod.ip}\t{self.pod.hostname}\n"
        )

    @property
    def init_pid(self) -> int:
        """The container's first process (pid 1 of its PID namespace), seen from here."""
        if self._init_pid is None:
            deadline = time.monotonic() + 10
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    children = path.read_text().split()
                    if children:
                        self._init_pid = int(children[0])
                        break
                if self.process.poll() is not None:
                    break
                time.sleep(0.02)
            if self._init_pid is None:
                raise PodError(f"container {self.name} did not start: {self.log_tail()}")
        return self._init_pid

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def exec(self, argv: list[str], timeout: float = 30,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run `argv` in the container (its namespaces, root, folder, user and env), as a
        kubelet's exec probe or `kubectl exec` does."""
        ident = self.identity
        groups = (
            ["--groups", ",".join(map(str, ident.groups))] if ident.groups else ["--clear-groups"]
        )
        command = [
            "nsenter", "-t", str(self.init_pid), "-m", "-n", "-u", "-p", "-r", "-w", "--",
            "setpriv", "--reuid", str(ident.uid), "--regid", str(ident.gid), *groups, "--",
            "env", "-i", *(f"{k}={v}" for k, v in self.env.items()), *argv,
        ]  # fmt: skip
        try:
            return subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            return subprocess.CompletedProcess(command, 124, str(error.stdout or ""), "timed out")

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 12) -> str:
        text = [
            line for line in self.output().splitlines()
            if "level=info" not in line and "level=debug" not in line
        ]  # fmt: skip
        return "\n".join(text[-lines:]) or "(no output)"

    def kill(self) -> None:
        if self.process.poll() is None:
            # unshare ignores SIGTERM; SIGKILL reaches the container's pid 1 through
            # --kill-child, and with it every process of its PID namespace.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with _lock:
            _live.discard(self)


def kill_everything() -> None:
    """Stop every container still running (end of session, interrupted run)."""
    with _lock:
        live = list(_live)
    for container in live:
        container.kill()


# --------------------------------------------------------------------------- pod


class Pod:
    """One pod of a workload: its network namespace, volumes and containers."""

    def __init__(self, node: Node, name: str, namespace: str, spec: dict[str, Any],
                 objects: list[dict[str, Any]], work: Path,
                 labels: dict[str, str] | None = None) -> None:  # fmt: skip
        self.node = node
        self.name = name
        self.namespace = namespace
        self.spec = spec
        self.objects = objects
        self.labels = labels or {}
        self.hostname = re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].strip("-") or "pod"
        self.number, self.ip = node.next_pod_ip()
        self.dir = work / "pods" / f"{self.number:03d}-{self.hostname}"
        self.dir.mkdir(parents=True)
        self.containers: list[Container] = []
        self.notes: list[str] = []
        self.host_network = bool(spec.get("hostNetwork"))
        if self.host_network:
            self.netns = node.netns
            self.ip = NODE_IP
        else:
            self.netns = f"{_NETNS_PREFIX}{node.key}p{self.number}"
            self._network()
        try:
            self.volumes = self._volumes()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ network

    def _network(self) -> None:
        run(["ip", "netns", "add", self.netns])
        veth = f"v{self.number}"
        run(["ip", "-n", self.node.netns, "-batch", "-"], input=(
            f"link add {veth} mtu {POD_MTU} type veth peer name eth0 netns {self.netns}\n"
            f"link set {veth} master cbr0\n"
            f"link set {veth} up\n"
        ))  # fmt: skip
        run(["ip", "-n", self.netns, "-batch", "-"], input=(
            "link set lo up\n"
            f"link set eth0 mtu {POD_MTU}\n"
            f"addr add {self.ip}/24 dev eth0\n"
            "link set eth0 up\n"
            f"route add default via {NODE_IP}\n"
        ))  # fmt: skip

    # ------------------------------------------------------------------ volumes

    def _group(self) -> int | None:
        value = (self.spec.get("securityContext") or {}).get("fsGroup")
        return int(value) if value is not None else None

    def _owned(self, path: Path) -> Path:
        """A volume the kubelet manages: mode 0777, and fsGroup-owned (setgid) if set."""
        path.mkdir(parents=True, exist_ok=True)
        group = self._group()
        if group is not None:
            os.chown(path, 0, group)
            path.chmod(0o2777)
        else:
            path.chmod(0o777)
        return path

    def _object(self, kind: str, name: str) -> dict[str, Any] | None:
        for item in self.objects:
            meta = item.get("metadata") or {}
            if item.get("kind") == kind and meta.get("name") == name:
                return item
        return None

    def _data(self, kind: str, name: str) -> dict[str, str] | None:
        """The data of a ConfigMap or Secret of the output; None when the output lacks
        it (the manifests expect it in the cluster, where the tier assumes it is)."""
        item = self._object(kind, name)
        if item is None:
            note = f"{kind} {name!r} is not in the output; assumed to exist in the cluster"
            if note not in self.notes:
                self.notes.append(note)
            return None
        data = {k: str(v) for k, v in (item.get("data") or {}).items()}
        if kind == "Secret":
            data = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
            data.update({k: str(v) for k, v in (item.get("stringData") or {}).items()})
        return data

    def _volumes(self) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for volume in self.spec.get("volumes") or []:
            name = volume["name"]
            here = self.dir / "volumes" / name
            if "emptyDir" in volume or "ephemeral" in volume:
                out[name] = self._owned(here)
            elif "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"].get("claimName") or name
                out[name] = self._owned(self.node.work / "pvcs" / claim)
            elif "hostPath" in volume:
                out[name] = self._host_path(volume["hostPath"])
            elif "configMap" in volume or "secret" in volume:
                kind, source = (
                    ("ConfigMap", volume["configMap"]) if "configMap" in volume
                    else ("Secret", volume["secret"])
                )  # fmt: skip
                here.mkdir(parents=True)
                data = self._data(kind, source.get("name") or source.get("secretName") or "")
                for key, value in (data or {}).items():
                    (here / key).write_text(value)
                out[name] = self._owned(here)
            else:  # downwardAPI, projected, csi, nfs...: an empty folder
                out[name] = self._owned(here)
        return out

    def _host_path(self, host: dict[str, Any]) -> Path:
        path = node_path(self.node.dir, str(host.get("path") or "/"))
        kind = host.get("type") or ""
        if kind in ("", "DirectoryOrCreate"):
            path.mkdir(parents=True, exist_ok=True)
        elif kind == "FileOrCreate":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
        else:
            checks = {
                "Directory": stat.S_ISDIR,
                "File": stat.S_ISREG,
                "Socket": stat.S_ISSOCK,
                "CharDevice": stat.S_ISCHR,
                "BlockDevice": stat.S_ISBLK,
            }
            try:
                mode = path.stat().st_mode
            except OSError:
                mode = 0
            if kind in checks and not checks[kind](mode):
                raise PodError(
                    f"hostPath type check failed: {host.get('path')} is not a {kind} "
                    "on the node (the kubelet refuses to start the pod)"
                )
        return path

    def mounts_for(self, spec: dict[str, Any], env: dict[str, str]) -> list[dict[str, Any]]:
        mounts = []
        for mount in spec.get("volumeMounts") or []:
            source = self.volumes.get(mount["name"])
            if source is None:
                raise PodError(f"{spec['name']} mounts {mount['name']!r}, which the pod lacks")
            sub = mount.get("subPath") or ""
            if mount.get("subPathExpr"):
                sub = expand(str(mount["subPathExpr"]), env.get)
            if sub:
                source = source / sub.lstrip("/")
                if not source.exists():
                    source.mkdir(parents=True)
                    source.chmod(0o777)
            mounts.append({
                "name": mount["name"],
                "source": str(source),
                "target": mount["mountPath"],
                "readonly": bool(mount.get("readOnly")),
            })  # fmt: skip
        return mounts

    def volume_dir(self, spec: dict[str, Any], path: str) -> Path | None:
        """Where `path` of container `spec` lies in the volume folders, or None."""
        best: tuple[int, Path] | None = None
        for mount in spec.get("volumeMounts") or []:
            base = mount["mountPath"].rstrip("/") or "/"
            if path == base or path.startswith(base.rstrip("/") + "/"):
                source = self.volumes[mount["name"]] / (mount.get("subPath") or "").lstrip("/")
                rest = path[len(base) :].lstrip("/")
                if best is None or len(base) > best[0]:
                    best = (len(base), source / rest)
        return best[1] if best else None

    # ------------------------------------------------------------------ containers

    def field(self, path: str) -> str | None:
        """The downward API's fieldRef values."""
        simple = {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "metadata.uid": f"00000000-0000-0000-0000-{self.number:012d}",
            "spec.nodeName": NODE_NAME,
            "spec.serviceAccountName": self.spec.get("serviceAccountName") or "default",
            "status.hostIP": NODE_IP,
            "status.hostIPs": NODE_IP,
            "status.podIP": self.ip,
            "status.podIPs": self.ip,
        }
        if path in simple:
            return simple[path]
        match = re.fullmatch(r"metadata\.labels\['(.+)'\]", path)
        if match:
            return self.labels.get(match.group(1), "")
        return None

    def env_of(self, spec: dict[str, Any], image: images.Image,
               identity: Identity) -> dict[str, str]:  # fmt: skip
        """The container's environment as the kubelet and the runtime make it."""
        env: dict[str, str] = {}
        for source in spec.get("envFrom") or []:
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if key in source:
                    data = self._data(kind, source[key].get("name") or "")
                    prefix = source.get("prefix") or ""
                    env.update({prefix + k: v for k, v in (data or {}).items()})
        for var in spec.get("env") or []:
            name = var["name"]
            if "valueFrom" in var:
                value = self._value_from(var["valueFrom"], name)
                if value is not None:
                    env[name] = value
            else:
                env[name] = expand(str(var.get("value") or ""), env.get)
        out = {"PATH": images.PATH, **image.env}
        out["HOSTNAME"] = self.hostname
        own_home = "/root" if identity.uid == 0 else "/"
        out["HOME"] = image.home if identity.uid == image.uid else own_home
        out.update(env)
        return out

    def _value_from(self, source: dict[str, Any], name: str) -> str | None:
        if "fieldRef" in source:
            value = self.field(str(source["fieldRef"].get("fieldPath")))
            if value is None:
                raise PodError(f"env {name}: fieldRef {source['fieldRef']} is not emulated")
            return value
        if "resourceFieldRef" in source:
            return "1"
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if key in source:
                ref = source[key]
                data = self._data(kind, ref.get("name") or "")
                if data is None:  # in the cluster, not in the output
                    return f"{kind.lower()}-{ref.get('name')}-{ref.get('key')}"
                if ref.get("key") not in data:
                    if ref.get("optional"):
                        return None
                    raise PodError(
                        f"env {name}: {kind} {ref.get('name')!r} has no key {ref.get('key')!r}"
                    )
                return data[ref["key"]]
        raise PodError(f"env {name}: valueFrom {source} is not emulated")

    def identity_of(self, spec: dict[str, Any], image: images.Image) -> Identity:
        """runAsUser, runAsGroup (container, then pod, then image), supplementary groups
        (the image's groups of that user, supplementalGroups, fsGroup)."""
        pod = self.spec.get("securityContext") or {}
        own = spec.get("securityContext") or {}

        def pick(key: str) -> Any:
            return own.get(key) if own.get(key) is not None else pod.get(key)

        uid = pick("runAsUser")
        uid = image.uid if uid is None else int(uid)
        gid = pick("runAsGroup")
        if gid is None:
            gid = image.gid if uid == image.uid else 0
        groups: list[int] = [int(gid)]
        if uid == image.uid:
            groups += image.groups
        groups += [int(g) for g in pod.get("supplementalGroups") or []]
        if pod.get("fsGroup") is not None:
            groups.append(int(pod["fsGroup"]))
        return Identity(uid, int(gid), tuple(dict.fromkeys(groups)))

    def argv_of(self, spec: dict[str, Any], image: images.Image, env: dict[str, str]) -> list[str]:
        """command replaces the image's entrypoint, args its cmd (and a command without
        args drops the cmd); both get `$(VAR)` expansion."""
        command = spec.get("command")
        args = spec.get("args")
        if command is not None:
            argv = [*map(str, command), *map(str, args or [])]
        else:
            argv = [*image.entrypoint, *(map(str, args) if args is not None else image.cmd)]
        if not argv:
            raise PodError(f"{spec['name']}: no command and the image has no entrypoint")
        return [expand(a, env.get) for a in argv]

    def start(self, spec: dict[str, Any], *, argv: list[str] | None = None,
              env: dict[str, str] | None = None) -> Container:  # fmt: skip
        image = images.lookup(str(spec.get("image") or ""))
        identity = self.identity_of(spec, image)
        full_env = self.env_of(spec, image, identity)
        if env:
            full_env.update(env)
        command = argv if argv is not None else self.argv_of(spec, image, full_env)
        container = Container(self, spec["name"], spec, command, full_env, identity, image)
        self.containers.append(container)
        if not self.host_network:
            for port in spec.get("ports") or []:
                if port.get("hostPort"):
                    self.node.forward(int(port["hostPort"]), self.ip, int(port["containerPort"]))
        return container

    def close(self) -> None:
        for container in self.containers:
            container.kill()
        if not self.host_network:
            run(["ip", "netns", "del", self.netns], check=False)


def remove_tree(path: Path) -> None:
    """Remove a run's folders (after its mount namespaces are gone)."""
    for _ in range(20):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.2)
    shutil.rmtree(path, ignore_errors=True)


def clean_stale() -> None:
    """Containers, network namespaces and folders that earlier runs, killed midway,
    left behind (a run's folder is named after its process, run-PID-TIME)."""
    launcher = str(HERE / "launch.py")
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv]
        if launcher not in words or words[0] != "unshare":
            continue
        match = re.search(r"/run-(\d+)-", words[-1])
        if match and not Path(f"/proc/{match.group(1)}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
    for entry in Path("/run/netns").glob("idrt*") if Path("/run/netns").is_dir() else []:
        match = re.match(r"idrt(\d+)", entry.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            run(["ip", "netns", "del", entry.name], check=False)
    if WORK.is_dir():
        for entry in WORK.glob("run-*"):
            match = re.match(r"run-(\d+)-", entry.name)
            if match and not Path(f"/proc/{match.group(1)}").exists():
                remove_tree(entry)


@contextlib.contextmanager
def node(key: str, work: Path) -> Iterator[Node]:
    the_node = Node(key, work)
    try:
        yield the_node
    finally:
        the_node.close()
