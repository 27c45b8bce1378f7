"""The KRM function wire format: reading and writing the ResourceList, and results."""
