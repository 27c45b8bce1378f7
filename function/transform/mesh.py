"""Service meshes: keeping the daemon's container traffic out of the mesh's redirection.

Containers that the daemon in a pod runs reach the network through the docker0
bridge; packets from a bridge enter the pod's network stack as if from outside,
and the mesh's firewall rules send them to its proxy as inbound traffic, where
they go nowhere (istio/istio#33941, linkerd/linkerd2#3107). Istio is told to
leave the bridge's interface alone, Linkerd the bridge's subnet. Networks that
compose and `docker network create` make get bridges of their own, which the
annotations cannot name in advance: `mesh: optout` takes such pods out of the
mesh instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from function.kube.metadata import annotations_of, labels_of, name_of
from function.plaindata import mapping
from function.transform.outcome import Note

if TYPE_CHECKING:
    from function.config.model import Config

ISTIO_INJECT = "sidecar.istio.io/inject"
ISTIO_REVISION = "istio.io/rev"
ISTIO_NAMESPACE = "istio-injection"
LINKERD_INJECT = "linkerd.io/inject"
# The default bridge: its interface, and the subnet dockerd gives it.
BRIDGE = "docker0"
BRIDGE_SUBNET = "172.17.0.0/16"
_ADDED = {
    ("istio", "auto"): {"traffic.sidecar.istio.io/excludeInterfaces": BRIDGE},
    ("linkerd", "auto"): {"config.linkerd.io/skip-subnets": BRIDGE_SUBNET},
    ("istio", "optout"): {ISTIO_INJECT: "false"},
    ("linkerd", "optout"): {LINKERD_INJECT: "disabled"},
}


def meshed_namespaces(items: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Namespace items of the list that ask for injection: name -> meshes."""
    out: dict[str, set[str]] = {}
    for item in items:
        if item.get("kind") != "Namespace":
            continue
        labels, notes = labels_of(item), annotations_of(item)
        found = set()
        if labels.get(ISTIO_NAMESPACE) == "enabled" or ISTIO_REVISION in labels:
            found.add("istio")
        if str(notes.get(LINKERD_INJECT, "")) in ("enabled", "ingress"):
            found.add("linkerd")
        if found:
            out[name_of(item)] = found
    return out


def template_metadata(
    resource: dict[str, Any], keys: tuple[str, ...], create: bool = False
) -> dict[str, Any]:
    """The metadata of the workload's pod (template), whose spec `keys` lead to; `create`
    makes it if it has none."""
    holder = resource
    for key in keys[:-1]:
        holder = holder[key]
    if create and not isinstance(holder.get("metadata"), dict):
        holder["metadata"] = {}
    return mapping(holder.get("metadata"))


def wire(
    config: Config, resource: dict[str, Any], keys: tuple[str, ...], namespace: set[str]
) -> tuple[dict[str, str], list[Note]]:
    """Annotate the workload's pod (whose spec `keys` lead to) for the meshes that would
    capture it; return what was added, and notes. `namespace`: the meshes its Namespace
    asks for."""
    if config.mesh == "ignore":
        return {}, []
    meta = template_metadata(resource, keys)
    labels, notes = mapping(meta.get("labels")), mapping(meta.get("annotations"))
    found = set(namespace)
    pod_istio = str(labels.get(ISTIO_INJECT, notes.get(ISTIO_INJECT, "")))
    if pod_istio == "true" or ISTIO_REVISION in labels:
        found.add("istio")
    if pod_istio == "false":
        found.discard("istio")
    pod_linkerd = str(notes.get(LINKERD_INJECT, ""))
    if pod_linkerd in ("enabled", "ingress"):
        found.add("linkerd")
    if pod_linkerd == "disabled":
        found.discard("linkerd")
    added: dict[str, str] = {}
    for mesh in sorted(found):
        added.update(_ADDED[(mesh, config.mesh)])
    added = {k: v for k, v in added.items() if k not in notes}
    if not added:
        return {}, []
    meta = template_metadata(resource, keys, create=True)
    if not isinstance(meta.get("annotations"), dict):
        meta["annotations"] = {}
    meta["annotations"].update(added)
    what = ", ".join(f"{k}: {v}" for k, v in added.items())
    why = (
        "keeps the daemon's default bridge out of the mesh's redirection; networks that "
        "compose makes are not covered (mesh: optout takes the pod out of the mesh)"
        if config.mesh == "auto"
        else "takes the pod out of the mesh"
    )
    return added, [("info", f"{' and '.join(sorted(found))} mesh: {what} {why}", None)]
