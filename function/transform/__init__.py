"""The transformation: workloads selected and wired per mode, audit, migration."""
