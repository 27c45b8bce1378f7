"""Pod Security admission: naming the namespaces whose pods need the privileged level."""

from __future__ import annotations

from typing import Any

from function.kube.metadata import labels_of, name_of

ENFORCE = "pod-security.kubernetes.io/enforce"


def unlabelled(namespaces: set[str], noticed: list[tuple[int, dict[str, Any]]]) -> set[str]:
    """The namespaces not yet known to admit privileged pods: those that a Namespace
    item of the list labels `enforce: privileged` are left out."""
    admitted = {
        name_of(item)
        for _, item in noticed
        if item.get("kind") == "Namespace" and labels_of(item).get(ENFORCE) == "privileged"
    }
    return {n for n in namespaces if n == "" or n not in admitted}


def places(namespaces: set[str]) -> str:
    """The namespaces for a message, "" standing for those of workloads that set none."""
    named = [repr(n) for n in sorted(namespaces) if n]
    return ", ".join(named + (["that of the workloads which set none"] if "" in namespaces else []))
