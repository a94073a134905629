#!/usr/bin/env python3
"""A rendezvous server written the way the installed base writes them (see the original
tcp-chat-server.py): it listens on 127.0.0.2 only, serves one connection at a time, reads each
request with a single recv(1024), and any request it cannot split raises an exception that ends
it. The runner's tests start it with `server --exec` to check the verdicts a grader sees.

    fragile_server.py --port=PORT      (0: any free port, printed)
"""
import socket
import sys


def reply_to(data, clients):
    lines = data.decode().split("\r\n")
    method = lines[0]
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    if method == "REGISTER":
        cid, ip, port = headers["clientID"], headers["IP"], headers["Port"]
        clients[cid] = (ip, int(port))
        print(f"REGISTER {cid} from {ip}:{port} received")
        return f"REGACK\r\nclientID: {cid}\r\nIP: {ip}\r\nPort: {port}\r\n\r\n"
    if method == "BRIDGE":
        cid = headers["clientID"]
        peer = next((k for k in clients if k != cid), None)
        if peer is None:
            print(f"BRIDGE: {cid} alone")
            return "BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n"
        ip, port = clients[peer]
        print(f"BRIDGE: {peer} {ip}:{port} {cid}")
        return f"BRIDGEACK\r\nclientID: {peer}\r\nIP: {ip}\r\nPort: {port}\r\n\r\n"
    raise ValueError(f"unknown method {method!r}")


def main():
    port = 5555
    for arg in sys.argv[1:]:
        if arg.startswith("--port="):
            port = int(arg[len("--port="):])
    clients = {}
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.2", port))
    server.listen(5)
    print(f"listening on 127.0.0.2:{server.getsockname()[1]}")
    while True:
        conn, _ = server.accept()
        with conn:
            conn.sendall(reply_to(conn.recv(1024), clients).encode())


if __name__ == "__main__":
    main()
