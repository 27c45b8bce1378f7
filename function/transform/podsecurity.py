"""Pod Security admission: naming the namespaces whose pods need the privileged level."""

from __future__ import annotations


def places(namespaces: set[str]) -> str:
    """The namespaces for a message, "" standing for those of workloads that set none."""
    named = [repr(n) for n in sorted(namespaces) if n]
    return ", ".join(named + (["that of the workloads which set none"] if "" in namespaces else []))
