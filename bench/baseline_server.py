#!/usr/bin/env python3
"""The baseline for tcp-chat-load: a minimal TCP-Chat rendezvous server on Python's socketserver,
the kind of server a user would otherwise write or run (spec/tcp-chat.md §6, in short).

One thread per connection, one request per connection: read up to the empty line, answer
REGISTER with REGACK and BRIDGE with BRIDGEACK (first-come pairing, §6.3) or ERROR, then close.
It parses headers the simple way (split on ':'), without the spec's validation or limits.

    python3 bench/baseline_server.py --host 127.0.0.1 --port 0
    -> prints `baseline_server listening on 127.0.0.1:PORT`, then serves until SIGINT/SIGTERM.
"""
import argparse
import signal
import socketserver
import sys
import threading

registry = {}  # clientID -> (IP, Port) as sent
waiting = []   # clientIDs that bridged and wait for a peer, oldest first
lock = threading.Lock()


def reply(code, reason):
    return f"ERROR\r\nCode: {code}\r\nReason: {reason}\r\n\r\n"


def contact(client_id, ip, port):
    return f"clientID: {client_id}\r\nIP: {ip}\r\nPort: {port}\r\n"


def answer(request):
    lines = request.split("\r\n")
    method, fields = lines[0], {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                return reply(400, "malformed header")
            fields[name] = value.strip()
    client_id = fields.get("clientID", "")
    if not client_id:
        return reply(400, "missing clientID")
    if method == "REGISTER":
        ip, port = fields.get("IP", ""), fields.get("Port", "")
        if not ip or not port.isdigit():
            return reply(400, "missing or bad IP or Port")
        with lock:
            registry[client_id] = (ip, port)
        return "REGACK\r\n" + contact(client_id, ip, port) + "\r\n"
    if method == "BRIDGE":
        with lock:
            if client_id not in registry:
                return reply(404, f"clientID {client_id} is not registered")
            for peer in waiting:
                if peer != client_id:
                    waiting.remove(peer)
                    return "BRIDGEACK\r\n" + contact(peer, *registry[peer]) + "\r\n"
            if client_id not in waiting:
                waiting.append(client_id)
        return "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n"
    return reply(400, "unknown method")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 4096:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            self.request.sendall(answer(head).encode())
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    # The default backlog of 5 drops connections under 64 concurrent clients; nginx and
    # tcp-chat-server use 128 or more.
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.2", help="address to listen on")
    parser.add_argument("--port", type=int, default=5555, help="TCP port (0: any free port)")
    args = parser.parse_args()
    with Server((args.host, args.port), Handler) as server:
        host, port = server.server_address[:2]
        print(f"baseline_server listening on {host}:{port}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
