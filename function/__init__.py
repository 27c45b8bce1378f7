"""inject-docker: a KRM function that gives CI workloads a Docker daemon."""

__version__ = "0.1.0"
