"""A container's hostPort: listen on the node's address and relay each connection to the
pod's address, as the CNI portmap plugin's DNAT does on a node (run in the node's network
namespace by tests/runtime/emulator.py). Standard library only.

    python3 portfwd.py NODE_IP HOST_PORT POD_IP CONTAINER_PORT
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """One direction. An end of input is passed on as a half-close (docker's attach
    closes its write side when stdin ends and still reads the container's output)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        for end in (sink, source):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def _serve(client: socket.socket, target: tuple[str, int]) -> None:
    try:
        upstream = socket.create_connection(target, timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    inbound = threading.Thread(target=_pipe, args=(client, upstream), daemon=True)
    inbound.start()
    _pipe(upstream, client)
    inbound.join()
    client.close()
    upstream.close()


def main() -> None:
    node_ip, host_port, pod_ip, container_port = sys.argv[1:5]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((node_ip, int(host_port)))
    listener.listen(64)
    print("listening", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(
            target=_serve, args=(client, (pod_ip, int(container_port))), daemon=True
        ).start()


if __name__ == "__main__":
    main()
