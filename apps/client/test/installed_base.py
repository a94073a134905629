#!/usr/bin/env python3
"""tcp-chat-client chatting with stand-ins for the installed base's clients (spec §9.2, §10.4).

    installed_base.py --server PATH --client PATH STANDIN     (STANDIN "all" runs every one)

Each stand-in is written from what those clients put on the wire (one send() per turn, one
recv(4096) per read, their own CHAT, turn and QUIT forms), byte for byte. For every stand-in the
real tcp-chat-client chats with it as initiator and as waiter, on a terminal (pexpect) and from a
pipe, two lines each way, with either side quitting. What the stand-in received is checked byte
for byte, and what our client printed and its exit status. Exit status 77: pexpect missing.
"""

import argparse
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import pexpect
except ImportError:  # pragma: no cover - scripts/bootstrap installs python3-pexpect
    print("python3-pexpect is not installed: skipped")
    sys.exit(77)

from client_e2e import SERVER_HOST, TIMEOUT, Server, client_env, free_port  # noqa: E402

CLIENT = None
CHAT_RE = re.compile(rb"CHAT\r\nclientID: (\S+)\r\nIP: (\S+)\r\nPort: (\d+)\r\n\r\n")


def request(server_port, data):
    """One request as the installed base sends it: one send(), one recv(4096)."""
    with socket.create_connection((SERVER_HOST, server_port), timeout=TIMEOUT) as s:
        s.sendall(data)
        return s.recv(4096)


class StandIn:
    """The chat leg of one installed-base client. `handshake` is whether it sends CHAT first;
    `turn(text)` its bytes for a turn; `quit` its QUIT; `is_quit(read)` what it takes as the
    peer's QUIT; `opening(read)` what a waiter makes of its first read: "turn" (it is the peer's
    first turn), None (accepted, nothing to show) or "reject"."""

    handshake = True
    quit = b""

    def __init__(self, cid, server_port):
        self.id = cid
        self.server_port = server_port
        self.port = free_port("127.0.0.1")
        self.received = []  # every recv(), as it came
        self.shown = []     # what its user saw of our turns
        self.ended = None   # "quit" (recognised our QUIT), "closed", or "rejected"

    @staticmethod
    def turn(text):
        return text.encode()

    def is_quit(self, data):
        return data == self.quit  # most recognise only their own QUIT, as one read

    def send_turn(self, sock, text):
        sock.sendall(self.turn(text))  # one send() per turn

    def opening(self, data):
        return None

    def show(self, data):
        return data.decode()

    # -- the rendezvous leg, as the installed base does it
    def register(self):
        reply = request(self.server_port, b"REGISTER\r\nclientID: %s\r\nIP: 127.0.0.1\r\nPort: %d"
                        b"\r\n\r\n" % (self.id.encode(), self.port))
        assert reply.startswith(b"REGACK\r\n"), reply

    def bridge(self):
        reply = request(self.server_port, b"BRIDGE\r\nclientID: %s\r\n\r\n" % self.id.encode())
        m = re.match(rb"BRIDGEACK\r\nclientID: (\S*)\r\nIP: (\S*)\r\nPort: (\d*)\r\n\r\n", reply)
        assert m, reply
        return (m.group(2).decode(), int(m.group(3))) if m.group(1) else None

    # -- the chat leg
    def read(self, sock):
        data = sock.recv(4096)
        self.received.append(data)
        return data

    def chat(self, sock, writes_first, lines, quits):
        """Turn-taking as they do it: write one send(), then block in one recv(). `lines` are
        this side's turns; after them it sends its QUIT (when `quits`) or waits for ours."""
        lines = list(lines)
        writing = writes_first
        while True:
            if writing:
                if not lines:
                    if quits:
                        sock.sendall(self.quit)
                        self.ended = "quit-sent"
                        return
                    writing = False
                    continue
                self.send_turn(sock, lines.pop(0))
                writing = False
                continue
            data = self.read(sock)
            if not data:
                self.ended = "closed"
                return
            if self.is_quit(data):
                self.ended = "quit"
                return
            self.shown.append(self.show(data))
            writing = True

    def wait(self, lines, quits, ready):
        """WAIT: listen, take one connection, chat (the peer writes first)."""
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(1)
            listener.settimeout(TIMEOUT)
            ready.set()
            sock, _ = listener.accept()
        with sock:
            sock.settimeout(TIMEOUT)
            first = self.read(sock)
            verdict = self.opening(first)
            if verdict == "reject":
                self.ended = "rejected"
                return
            if verdict == "turn":
                self.shown.append(self.show(first))
            self.chat(sock, verdict == "turn", lines, quits)

    def initiate(self, peer, lines, quits):
        with socket.create_connection(peer, timeout=TIMEOUT) as sock:
            if self.handshake:
                sock.sendall(b"CHAT\r\nclientID: %s\r\nIP: 127.0.0.1\r\nPort: %d\r\n\r\n"
                             % (self.id.encode(), self.port))
                time.sleep(0.3)  # its user reads the screen, then types
            self.chat(sock, True, lines, quits)

    def chat_bytes(self, cid, port):
        return b"CHAT\r\nclientID: %s\r\nIP: 127.0.0.1\r\nPort: %d\r\n\r\n" % (cid.encode(), port)


class AnchoredChat(StandIn):
    """Matches its whole first read against CHAT (a regex anchored at both ends); bare turns;
    sends `QUIT\\r\\n\\r\\n\\r\\n` and recognises only that exact read."""
    quit = b"QUIT\r\n\r\n\r\n"

    def opening(self, data):
        return None if CHAT_RE.fullmatch(data) else "reject"


class DropsAfterChat(StandIn):
    """Takes CHAT from its first read and throws away whatever came with it; bare turns; sends a
    bare `QUIT`, then closes, and recognises only a bare `QUIT`."""
    quit = b"QUIT"

    def opening(self, data):
        return None if CHAT_RE.match(data) else "reject"


class NoHandshake(StandIn):
    """Sends no CHAT: connects and sends bare turns; ends with `QUIT\\r\\n\\r\\n`, recognised only
    as that exact read. (How it waits is not known: it is tested as initiator only.)"""
    handshake = False
    quit = b"QUIT\r\n\r\n"


class NoHandshakeSplit(NoHandshake):
    """NoHandshake whose every turn reaches us in four segments 200 ms apart (Nagle's algorithm
    holds back the rest of a send() until a delayed acknowledgement, up to 200 ms, spec §5.6):
    each gap is shorter than TURN-PAUSE, the whole longer. As a waiter our client must take the
    first line, and each later one, whole: the pause counts from the last byte, not the first."""

    def send_turn(self, sock, text):
        data = self.turn(text)
        cuts = [len(data) * i // 4 for i in range(5)]
        for i in range(4):
            if i:
                time.sleep(0.2)
            sock.sendall(data[cuts[i]:cuts[i + 1]])


class MessageFramed(StandIn):
    """No CHAT handshake; every turn is `CHAT\\r\\nMESSAGE:<text>\\r\\n\\r\\n`; ends with
    `QUIT\\r\\nGoodbye!\\r\\n\\r\\n` and recognises any read starting with QUIT; as a waiter, its
    first read is the peer's first turn."""
    handshake = False
    quit = b"QUIT\r\nGoodbye!\r\n\r\n"

    @staticmethod
    def turn(text):
        return b"CHAT\r\nMESSAGE:%s\r\n\r\n" % text.encode()

    def is_quit(self, data):
        return data.startswith(b"QUIT")

    def opening(self, data):
        return "turn"

    def show(self, data):
        m = re.fullmatch(rb"CHAT\r\nMESSAGE:(.*)\r\n\r\n", data, re.S)
        return m.group(1).decode() if m else data.decode()


STANDINS = {"anchored_chat": AnchoredChat, "drops_after_chat": DropsAfterChat,
            "no_handshake": NoHandshake, "no_handshake_split": NoHandshakeSplit,
            "message_framed": MessageFramed}


# ---- our client, on a terminal or a pipe --------------------------------------------------------

class Ours:
    def __init__(self, cid, server, framing, on_terminal, script):
        self.id = cid
        self.port = free_port("127.0.0.1")
        args = ["--id=" + cid, "--port=%d" % self.port, "--server=" + server.address,
                "--chat-framing=" + framing]
        self.on_terminal = on_terminal
        if on_terminal:
            self.child = pexpect.spawn(CLIENT, args, env=client_env(), encoding="utf-8",
                                       timeout=TIMEOUT, dimensions=(50, 250))
            self.child.expect_exact("/help lists the commands")
        else:
            self.proc = subprocess.Popen([CLIENT] + args, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         env=client_env(), text=True)
            self.proc.stdin.write(script)
            self.proc.stdin.flush()

    def types(self, line):
        self.child.sendline(line)

    def sees(self, text):
        self.child.expect_exact(text)

    def finish(self):
        """Its output and exit status once it has exited."""
        if self.on_terminal:
            self.child.expect(pexpect.EOF)
            out = self.child.before
            self.child.close()
            return out, self.child.exitstatus
        try:
            out, _ = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            return out, "still running after %d s" % TIMEOUT
        return out, self.proc.returncode

    def kill(self):
        if self.on_terminal:
            self.child.close(force=True)
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def our_bytes(framing, text):
    """What our client writes for a typed line: QUIT-stuffed (§5.6) unless message-framed."""
    stuffed = ("\\" + text if text.lstrip("\\") == "QUIT" else text).encode()
    return {"crlf": stuffed + b"\r\n", "bare": stuffed,
            "message": b"CHAT\r\nMESSAGE:%s\r\n\r\n" % text.encode()}[framing]


OUR_QUIT = {"crlf": b"QUIT\r\n\r\n", "bare": b"QUIT", "message": b"QUIT\r\n\r\n"}


def run(kind, role, quitter, on_terminal):
    """One chat: our client `role` ("initiator" or "waiter") with the stand-in `kind`; `quitter`
    is "ours" or "theirs". Returns None, or what went wrong."""
    server = Server()
    standin = STANDINS[kind]("standin", server.port)
    ours = None
    try:
        # Two lines each way; the quitter quits on its next turn.
        mine = ["hello from us", "QUIT"]           # our second line is the text QUIT (§5.6)
        theirs = ["hi from them", "how are you?"]
        if role == "initiator":
            if quitter == "theirs":
                mine = mine + ["bye then"]
        elif quitter == "ours":
            theirs = theirs + ["anything else?"]
        # The framing we write in: auto learns a waiter's only after our first line; a
        # message-framed waiter needs to be told (spec §10.4).
        framing = "message" if kind == "message_framed" and role == "initiator" else "auto"
        expect_framing = {"anchored_chat": "bare", "drops_after_chat": "bare",
                          "no_handshake": "bare", "no_handshake_split": "bare",
                          "message_framed": "message"}[kind]
        script = ""
        if not on_terminal:
            script = "/register\n/bridge\n" + ("/chat\n" if role == "initiator" else "")
            script += "".join(line + "\n" for line in mine)
            script += "/quit\n" if quitter == "ours" else ""

        ready = threading.Event()
        if role == "initiator":
            standin.register()
            assert standin.bridge() is None
            worker = threading.Thread(target=standin.wait,
                                      args=(theirs, quitter == "theirs", ready))
            worker.start()
            ready.wait(TIMEOUT)
            ours = Ours("ours", server, framing, on_terminal, script)
            if on_terminal:
                ours.types("/register")
                ours.sees("registered as ours")
                ours.types("/bridge")
                ours.sees("peer standin at 127.0.0.1:%d; /chat to start" % standin.port)
                ours.types("/chat")
                ours.sees("chat with standin started; you write first")
        else:
            ours = Ours("ours", server, framing, on_terminal, script)
            if on_terminal:
                ours.types("/register")
                ours.sees("registered as ours")
                ours.types("/bridge")
                ours.sees("no peer yet: waiting on port %d" % ours.port)
            else:
                server.logs("BRIDGE: ours waiting")
            standin.register()
            peer = standin.bridge()
            assert peer == ("127.0.0.1", ours.port), peer
            worker = threading.Thread(target=standin.initiate,
                                      args=(peer, theirs, quitter == "theirs"))
            worker.start()

        name = "standin" if standin.handshake or role == "initiator" else "127.0.0.1:"
        if on_terminal:
            their_lines = list(theirs)
            my_lines = list(mine)
            writing = role == "initiator"
            while my_lines or their_lines:
                if writing and my_lines:
                    ours.types(my_lines.pop(0))
                elif not writing and their_lines:
                    ours.sees(": " + their_lines.pop(0) + "\r\n")
                else:
                    break
                writing = not writing
            if quitter == "ours":
                ours.types("/quit")
                ours.sees("chat with %s" % name)
        out, status = ours.finish()
        worker.join(TIMEOUT)
        assert not worker.is_alive(), "the stand-in never finished"

        problems = []
        if status != 0:
            problems.append("our client exited %r" % status)
        if quitter == "theirs" and "left the chat" not in out:
            problems.append("no 'left the chat' in our output: %r" % out[-300:])
        if "lost" in out or "malformed" in out:
            problems.append("our client reported a broken chat: %r" % out[-300:])
        if not on_terminal:
            for line in theirs:
                if (": %s" % line) not in out:
                    problems.append("we did not print %r" % line)
        # Byte for byte what the stand-in read. The first line goes out in CRLF form when we
        # initiate in auto mode (nothing learnt yet), and in the peer's framing from then on.
        expected = []
        first_framing = framing if framing != "auto" else (
            "crlf" if role == "initiator" else expect_framing)
        if role == "initiator" and kind != "message_framed":
            expected.append(standin.chat_bytes("ours", ours.port))
        for i, line in enumerate(mine):
            expected.append(our_bytes(first_framing if i == 0 else expect_framing, line))
        if quitter == "ours":
            expected.append(OUR_QUIT[expect_framing])
        # One read per turn: CHAT and our first line came in separate reads (§5.5).
        got = [b for b in standin.received if b]
        if got != expected:
            problems.append("stand-in read %r, expected %r" % (got, expected))
        # Their user saw our turns; a CRLF line shows with an extra empty line after it.
        want_shown = [line.replace("QUIT", "\\QUIT") if expect_framing == "bare" else line
                      for line in mine]
        if first_framing == "crlf":
            want_shown[0] += "\r\n"
        if standin.shown[:len(want_shown)] != want_shown:
            problems.append("their user saw %r, expected %r" % (standin.shown, want_shown))
        if quitter == "ours":
            want_end = {"anchored_chat": "closed", "drops_after_chat": "quit",
                        "no_handshake": "closed", "no_handshake_split": "closed",
                        "message_framed": "quit"}[kind]
        else:
            want_end = "quit-sent"
        if standin.ended != want_end:
            problems.append("stand-in ended %r, expected %r" % (standin.ended, want_end))
        return "; ".join(problems) or None
    except Exception as e:  # report the case, whatever fails
        return "%s: %s" % (type(e).__name__, e)
    finally:
        if ours:
            ours.kill()
        server.stop()


def matrix(kind):
    roles = ["waiter"] if kind.startswith("no_handshake") else ["initiator", "waiter"]
    return [(kind, role, quitter, terminal) for role in roles for quitter in ["ours", "theirs"]
            for terminal in [True, False]]


def main():
    global CLIENT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("standin", choices=sorted(STANDINS) + ["all"])
    args = parser.parse_args()
    import client_e2e
    client_e2e.SERVER, CLIENT = args.server, args.client
    kinds = sorted(STANDINS) if args.standin == "all" else [args.standin]
    cases = [c for k in kinds for c in matrix(k)]
    failed = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = time.monotonic()
        for case, problem in zip(cases, pool.map(lambda c: run(*c), cases)):
            label = "%s, ours the %s, %s quit, %s" % (
                case[0], case[1], case[2], "terminal" if case[3] else "pipe")
            print("%s %s" % ("FAIL" if problem else "ok  ", label + (": " + problem if problem else "")))
            failed += bool(problem)
        print("%d of %d chats as expected (%.1f s)" % (len(cases) - failed, len(cases),
                                                       time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
