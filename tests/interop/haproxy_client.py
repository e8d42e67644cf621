"""Connects COUNT times to HOST:PORT from SOURCE (a local address such as
127.0.0.2), one connection after the other, and prints one JSON line per
connection: the local port it used and the reply read until the server
closed. Used by the HAProxy interop test, since Deno.connect cannot choose
its local address."""
import json
import socket
import sys

host, port, source, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
for _ in range(count):
    s = socket.create_connection((host, port), timeout=5, source_address=(source, 0))
    local_port = s.getsockname()[1]
    chunks = []
    while True:
        data = s.recv(4096)
        if not data:
            break
        chunks.append(data)
    s.close()
    print(json.dumps({"port": local_port, "reply": b"".join(chunks).decode()}), flush=True)
