"""Kubernetes knowledge: pod specs, metadata, label selectors, old Docker wiring, the record."""
