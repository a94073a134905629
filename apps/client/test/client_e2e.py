#!/usr/bin/env python3
"""End-to-end tests of tcp-chat-client (spec §10): the real tcp-chat-server and real clients,
driven through pseudo-terminals as a person would use them, plus scripts on a pipe.

    client_e2e.py --server PATH --client PATH CASE     (CASE "all" runs every case)

Every case picks free ports, puts the server on 127.0.0.2 and allows generous timeouts: the
tests also run under ASan on a loaded machine. Exit status 77 means pexpect is missing (skipped).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

try:
    import pexpect
except ImportError:  # pragma: no cover - scripts/bootstrap installs python3-pexpect
    print("python3-pexpect is not installed: skipped")
    sys.exit(77)

TIMEOUT = 30  # seconds for any one expected line
SERVER_HOST = "127.0.0.2"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # a colour escape sequence

SERVER = CLIENT = None  # binary paths, from the command line


def free_port(host):
    """A port nobody listens on right now: bound, read, closed."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def client_env(colour=False):
    env = dict(os.environ, TERM="xterm", LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    if not colour:
        env["NO_COLOR"] = "1"
    return env


class Server:
    def __init__(self):
        self.port = free_port(SERVER_HOST)
        self.child = pexpect.spawn(SERVER, ["--listen", SERVER_HOST, "--port", str(self.port)],
                                   encoding="utf-8", timeout=TIMEOUT)
        self.child.expect("listening on %s:%d" % (SERVER_HOST, self.port))

    @property
    def address(self):
        return "%s:%d" % (SERVER_HOST, self.port)

    def logs(self, line):
        self.child.expect_exact(line)

    def stop(self):
        if self.child.isalive():
            self.child.kill(signal.SIGTERM)
            self.child.expect(pexpect.EOF)
        self.child.close()


class Client:
    """One tcp-chat-client on a pseudo-terminal."""

    def __init__(self, cid, server_address, colour=False, extra=()):
        self.id = cid
        self.port = free_port("127.0.0.1")
        args = ["--id=" + cid, "--port=%d" % self.port, "--server=" + server_address, *extra]
        self.child = pexpect.spawn(CLIENT, args, env=client_env(colour), encoding="utf-8",
                                   timeout=TIMEOUT, dimensions=(50, 250))
        self.sees("/help lists the commands")

    def types(self, line):
        self.child.sendline(line)

    def sees(self, text):
        """Waits for `text` on the screen (exactly), and returns what came before it."""
        self.child.expect_exact(text)
        return self.child.before

    def prompt(self, where):
        return self.sees("%s [%s]> " % (self.id, where))

    def exits(self, status):
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus == status, "%s exited %r (signal %r), expected %d" % (
            self.id, self.child.exitstatus, self.child.signalstatus, status)

    def kill(self):
        if self.child.isalive():
            self.child.kill(signal.SIGKILL)
        self.child.close(force=True)


def meet(server, waiter, initiator):
    """The original's example usage up to the first line: the waiter registers and bridges and
    waits; the initiator registers, bridges and chats."""
    waiter.types("/register")
    waiter.sees("registered as %s at 127.0.0.1:%d with server %s; /bridge to find a peer"
                % (waiter.id, waiter.port, server.address))
    server.logs("REGISTER: %s from 127.0.0.1:%d received" % (waiter.id, waiter.port))
    waiter.types("/bridge")
    waiter.sees("no peer yet: waiting on port %d (/quit to stop)" % waiter.port)
    waiter.prompt("WAIT")
    server.logs("BRIDGE: %s waiting" % waiter.id)

    initiator.types("/register")
    initiator.sees("registered as %s at 127.0.0.1:%d" % (initiator.id, initiator.port))
    initiator.types("/bridge")
    initiator.sees("peer %s at 127.0.0.1:%d; /chat to start" % (waiter.id, waiter.port))
    server.logs("BRIDGE: %s 127.0.0.1:%d %s 127.0.0.1:%d"
                % (waiter.id, waiter.port, initiator.id, initiator.port))
    initiator.types("/chat")
    initiator.sees("chat with %s started; you write first" % waiter.id)
    initiator.prompt("your turn")
    waiter.sees("%s (127.0.0.1:" % initiator.id)
    waiter.sees(") started a chat; %s writes first" % initiator.id)
    waiter.prompt("%s's turn" % initiator.id)


def waits_alone(client):
    """`client` registers and bridges first: nobody else waits, so it waits (spec §10.3)."""
    client.types("/register")
    client.sees("registered as %s" % client.id)
    client.types("/bridge")
    client.sees("no peer yet")


def turn(writer, reader, line):
    """`writer` sends `line`; `reader` shows it as the peer's and gets the turn."""
    writer.types(line)
    writer.prompt("%s's turn" % reader.id)
    reader.sees("%s: %s" % (writer.id, line))
    reader.prompt("your turn")


class Case:
    """Runs a case with a fresh server; whatever is left running is killed afterwards."""

    def __init__(self):
        self.server = Server()
        self.clients = []

    def client(self, cid, **kwargs):
        c = Client(cid, self.server.address, **kwargs)
        self.clients.append(c)
        return c

    def close(self):
        for c in self.clients:
            c.kill()
        self.server.stop()


# ---- The cases --------------------------------------------------------------------------------

def case_example_usage_initiator_quits(t):
    """Everything the original's example usage shows; the initiator ends the chat with /quit."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    meet(t.server, user1, user2)
    turn(user2, user1, "hello user1")
    turn(user1, user2, "hi user2, how are you?")
    turn(user2, user1, "QUIT")  # text that looks like the QUIT message (spec §5.6)
    turn(user1, user2, "\\QUIT and //slashes stay as typed")
    user2.types("/quit")
    user2.sees("chat with user1 ended")
    user2.exits(0)
    user1.sees("user2 left the chat")
    user1.exits(0)


def case_example_usage_waiter_quits(t):
    """The same; the waiter ends the chat with /quit while it is the peer's turn."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    meet(t.server, user1, user2)
    turn(user2, user1, "hello")
    turn(user1, user2, "hello back")
    turn(user2, user1, "bye then")
    turn(user1, user2, "bye")
    user1.types("/quit")  # user2's turn: QUIT ignores turns (spec §5.7)
    user1.sees("chat with user2 ended")
    user1.exits(0)
    user2.sees("user1 left the chat")
    user2.exits(0)


def case_out_of_turn(t):
    """A line typed out of turn is refused and never sent; a line arriving while one is being
    typed is printed above it and the typed text survives; Ctrl-D is /quit in any turn."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    meet(t.server, user1, user2)
    user1.types("too early")
    user1.sees("not your turn; wait for user2")
    turn(user2, user1, "first line")
    user2.types("me again")
    user2.sees("not your turn; wait for user1")

    # user2 has half a line typed when user1's line arrives.
    user2.child.send("half a li")
    time.sleep(0.5)
    user1.types("crossing")
    user2.sees("user1: crossing")
    user2.prompt("your turn")
    user2.sees("half a li")
    user2.child.send("ne\r")
    before = user1.sees("user2: half a line")
    assert "too early" not in before and "me again" not in before, before
    user1.prompt("your turn")

    # user2 is reading; Ctrl-D on its empty line still quits (and sends QUIT).
    user2.child.sendeof()
    user2.sees("chat with user1 ended")
    user2.exits(0)
    user1.sees("user2 left the chat")
    user1.exits(0)


def case_wrong_state(t):
    """Commands that make no sense in the state get one line saying what to do; colours on a
    terminal unless NO_COLOR is set."""
    user1 = t.client("user1", colour=True)
    user1.types("/chat")
    user1.sees("register and bridge first")
    user1.types("/bridge")
    user1.sees("register first: /register")
    user1.types("hello?")
    user1.sees("not in a chat; /register, then /bridge")
    user1.types("/nope")
    user1.sees("unknown command /nope; /help lists the commands")
    user1.types("/id")
    user1.sees("clientID user1, port %d, not registered yet (server %s)"
               % (user1.port, t.server.address))
    user1.types("/register")
    user1.sees("registered as user1")
    user1.types("/chat")
    user1.sees("bridge first: /bridge")
    user1.types("/bridge")
    user1.sees("no peer yet: waiting on port")
    user1.types("/register")
    user1.sees("waiting for a peer; /quit to stop")
    user1.types("/chat")
    user1.sees("waiting: the peer starts the chat")
    user1.types("hello?")
    user1.sees("not in a chat yet; waiting for a peer")
    user1.types("/help")
    user1.sees("now WAIT: /bridge (renews the wait), /id, /help, /quit")
    # Colours: the state in the prompt is bold, refusals are red.
    user1.types("/chat")
    user1.sees("\x1b[1;31mwaiting: the peer starts the chat\x1b[0m")
    user1.sees("\x1b[1m[WAIT]\x1b[0m> ")

    plain = t.client("plain")
    plain.types("/chat")
    before = plain.sees("register and bridge first")
    plain.prompt("IDLE")
    assert not SGR.search(before + plain.child.before), repr(before)

    user1.types("/quit")
    user1.exits(0)
    plain.types("/quit")
    plain.exits(0)


def case_unreachable_server(t):
    """No server at the address: the message names it, and the client stays usable."""
    port = free_port(SERVER_HOST)
    user1 = Client("user1", "%s:%d" % (SERVER_HOST, port), extra=["--timeout=10"])
    t.clients.append(user1)
    user1.types("/register")
    user1.sees("cannot connect to server %s:%d: Connection refused" % (SERVER_HOST, port))
    user1.prompt("IDLE")
    user1.types("/id")
    user1.sees("not registered yet (server %s:%d)" % (SERVER_HOST, port))
    user1.types("/register")
    user1.sees("cannot connect to server %s:%d" % (SERVER_HOST, port))
    user1.child.sendintr()  # Ctrl-C is /quit too, and gives the terminal back
    user1.exits(0)


def case_unreachable_peer(t):
    """The peer the server named is gone by /chat: the message names it; /bridge again."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    waits_alone(user1)
    user2.types("/register")
    user2.sees("registered as user2")
    user2.types("/bridge")
    user2.sees("peer user1 at 127.0.0.1:%d; /chat to start" % user1.port)
    user1.types("/quit")
    user1.exits(0)
    user2.types("/chat")
    user2.sees("cannot connect to peer user1 at 127.0.0.1:%d: Connection refused; "
               "/bridge to find another peer" % user1.port)
    user2.prompt("REGISTERED")
    user2.types("/bridge")
    user2.sees("no peer yet: waiting on port %d" % user2.port)
    user2.types("/quit")
    user2.exits(0)


def case_peer_vanishes(t):
    """The peer process is killed (-9) in the middle of a chat: the other side says so and
    exits, 0 if the kernel closed the connection cleanly, 1 if it was reset (spec §10.5)."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    meet(t.server, user1, user2)
    turn(user2, user1, "about to vanish")
    user2.kill()
    index = user1.child.expect_exact(["user2 closed the connection",
                                      "connection to user2 (127.0.0.1:"])
    user1.exits(0 if index == 0 else 1)


def case_second_connection(t):
    """WAIT closes garbage and keeps waiting; once chatting, a second connection is accepted and
    closed at once without a byte (spec §10.3)."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    user1.types("/register")
    user1.sees("registered as user1")
    user1.types("/bridge")
    user1.sees("no peer yet")

    with socket.create_connection(("127.0.0.1", user1.port), timeout=TIMEOUT) as stranger:
        stranger.sendall(b"GET / HTTP/1.0\r\n\r\n")
        user1.sees(": expected CHAT: unknown_method at byte 0")
        assert stranger.recv(100) == b""
    user1.prompt("WAIT")

    user2.types("/register")
    user2.sees("registered as user2")
    user2.types("/bridge")
    user2.sees("peer user1")
    user2.types("/chat")
    user2.sees("you write first")
    user1.sees("started a chat; user2 writes first")

    with socket.create_connection(("127.0.0.1", user1.port), timeout=TIMEOUT) as third:
        third.sendall(b"CHAT\r\nclientID: user3\r\nIP: 127.0.0.1\r\nPort: 3999\r\n\r\n")
        user1.sees(": a chat is already active")
        try:
            assert third.recv(100) == b""
        except ConnectionResetError:
            pass  # closed with our CHAT unread: a reset, and still not a byte sent
    turn(user2, user1, "still just us")
    user1.types("/quit")
    user1.exits(0)
    user2.sees("user1 left the chat")
    user2.exits(0)


class Squatters:
    """`count` connections to a waiting client, each opened again as soon as it is closed;
    silent, or sending junk after each connect (spec §10.3, §11)."""

    def __init__(self, port, count, junk):
        import threading
        self.port, self.count, self.junk = port, count, junk
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def connect(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
        except OSError:
            return None
        self.connections += 1
        if self.junk:
            try:
                s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            except OSError:
                pass
        s.setblocking(False)
        return s

    def run(self):
        import select
        socks = [None] * self.count
        while not self.stopping:
            socks = [s if s is not None else self.connect() for s in socks]
            live = [s for s in socks if s is not None]
            readable, _, _ = select.select(live, [], [], 0.02) if live else ([], [], [])
            for s in readable:
                try:
                    data = s.recv(1)
                except OSError:
                    data = b""
                if not data:
                    s.close()
                    socks[socks.index(s)] = None
        for s in socks:
            if s is not None:
                s.close()

    def stop(self):
        self.stopping = True
        self.thread.join()


def case_waiter_under_squatters(t):
    """100 strangers that connect to a waiting client and reconnect whenever they are closed,
    half silent and half sending junk, do not keep a real peer out (spec §10.3, §11)."""
    user1 = t.client("user1")
    user2 = t.client("user2")
    waits_alone(user1)
    silent = Squatters(user1.port, 50, junk=False)
    junk = Squatters(user1.port, 50, junk=True)
    try:
        deadline = time.monotonic() + TIMEOUT
        while (silent.connections < 50 or junk.connections < 200) and time.monotonic() < deadline:
            time.sleep(0.05)  # every silent one in, the junk ones reconnecting
        assert silent.connections >= 50 and junk.connections >= 200, (silent.connections,
                                                                       junk.connections)
        user2.types("/register")
        user2.sees("registered as user2")
        user2.types("/bridge")
        user2.sees("peer user1")
        started = time.monotonic()
        user2.types("/chat")
        user2.sees("chat with user1 started; you write first")
        before = user1.sees(") started a chat; user2 writes first")
        print("chat opened %.0f ms after /chat, %d squatter connections" % (
            (time.monotonic() - started) * 1000, silent.connections + junk.connections))
        # A few lines one by one, the rest summed up: the flood does not flood the terminal.
        assert "more connections that did not send CHAT, not logged one by one" in before, before
        assert before.count("closed 127.0.0.1:") <= 8, before
    finally:
        silent.stop()
        junk.stop()
    turn(user2, user1, "got through")
    user2.types("/quit")
    user2.exits(0)
    user1.sees("user2 left the chat")
    user1.exits(0)


class SlowServer:
    """A server that answers REGISTER with the REGACK of its contact and BRIDGE with the empty
    BRIDGEACK, each after `delay` seconds, so that a person can type during the request."""

    def __init__(self, delay):
        import threading
        self.delay = delay
        self.listener = socket.create_server((SERVER_HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.requests = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "%s:%d" % (SERVER_HOST, self.port)

    def run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while not request.endswith(b"\r\n\r\n"):
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    request += chunk
                self.requests.append(request.decode())
                time.sleep(self.delay)
                if request.startswith(b"REGISTER"):
                    conn.sendall(b"REGACK" + request[len(b"REGISTER"):])
                else:
                    conn.sendall(b"BRIDGEACK\r\nclientID: \r\nIP: \r\nPort: \r\n\r\n")

    def stop(self):
        self.listener.close()


def case_typed_ahead(t):
    """/bridge typed on a terminal while REGISTER is still waiting for its reply is taken after
    the reply, in order, not dropped (spec §10.2)."""
    slow = SlowServer(delay=1.0)
    try:
        user1 = Client("user1", slow.address)
        t.clients.append(user1)
        user1.types("/register")
        user1.types("/bridge")
        before = user1.sees("no peer yet: waiting on port %d" % user1.port)
        assert "registered as user1" in before, before
        assert "still waiting" not in before, before
        assert [r.split("\r\n")[0] for r in slow.requests] == ["REGISTER", "BRIDGE"], slow.requests
        user1.types("/quit")
        user1.exits(0)
    finally:
        slow.stop()


class ScreenClient:
    """A client in a tmux window of its own: what matters here is the screen as rendered, with
    the cursor, not the bytes written to the terminal."""

    def __init__(self, cid, server_address):
        self.id = cid
        self.port = free_port("127.0.0.1")
        self.tmux = ["tmux", "-L", "tcp-chat-e2e-%d" % os.getpid()]
        command = "%s --id=%s --port=%d --server=%s" % (CLIENT, cid, self.port, server_address)
        env = client_env()
        subprocess.run(self.tmux + ["-f", "/dev/null", "new", "-d", "-x", "200", "-y", "40",
                                    "env", "TERM=xterm", "NO_COLOR=1", "LC_ALL=C.UTF-8",
                                    "sh", "-c", command + "; sleep 600"],
                       check=True, env=env)
        self.sees("/help lists the commands")

    def tmux_output(self, *args):
        return subprocess.run(self.tmux + list(args), check=True, capture_output=True,
                              text=True).stdout

    def lines(self):
        """The screen's lines, rows that a long line wrapped over joined back into one."""
        return [l.rstrip() for l in self.tmux_output("capture-pane", "-p", "-J").splitlines()
                if l.strip()]

    def types(self, line, enter=True):
        subprocess.run(self.tmux + ["send-keys", "-l", "--", line], check=True)
        if enter:
            subprocess.run(self.tmux + ["send-keys", "Enter"], check=True)

    def keys(self, *keys):
        subprocess.run(self.tmux + ["send-keys", *keys], check=True)

    def sees(self, text):
        text = text.rstrip()  # the screen has no trailing blanks
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines()):
                return
            time.sleep(0.1)
        raise AssertionError("%s never showed %r; screen:\n%s"
                             % (self.id, text, "\n".join(self.lines())))

    def prompt(self, where):
        self.sees("%s [%s]> " % (self.id, where))

    def kill(self):
        socket_path = subprocess.run(self.tmux + ["display", "-p", "#{socket_path}"],
                                     capture_output=True, text=True).stdout.strip()
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)
        if socket_path:
            try:
                os.unlink(socket_path)
            except OSError:
                pass


def case_screen_redraw(t):
    """On a real terminal (tmux, 40 columns), a line from the peer arrives while a long line
    that wraps over several rows is being typed with the cursor in its middle: the peer's line
    is printed above, the typed line is redrawn whole, once, and typing goes on at the cursor."""
    if not shutil.which("tmux"):
        print("tmux is not installed: skipped")
        sys.exit(77)
    user1 = t.client("user1")
    user2 = ScreenClient("user2", t.server.address)
    t.clients.append(user2)
    meet(t.server, user1, user2)
    turn(user2, user1, "hi")
    user2.tmux_output("resize-window", "-x", "40")
    time.sleep(0.5)  # SIGWINCH reaches the client
    partial = "a long line that wraps over three rows of this narrow terminal, typed slowly"
    user2.types(partial, enter=False)
    user2.keys(*["Left"] * 20)
    time.sleep(0.5)
    user1.types("an answer meanwhile")
    user2.prompt("your turn")
    time.sleep(0.5)
    tail = user2.lines()[-3:]
    assert tail == ["user2 [your turn]> hi", "user1: an answer meanwhile",
                    "user2 [your turn]> " + partial], "\n".join(user2.lines())
    user2.types("(X)")
    cut = len(partial) - 20
    user1.sees("user2: " + partial[:cut] + "(X)" + partial[cut:])
    user1.types("/quit")
    user1.exits(0)
    user2.sees("user1 left the chat")


def run_script(server, cid, port):
    """A client with its standard input and output on pipes, colours not forbidden."""
    args = [CLIENT, "--id=" + cid, "--port=%d" % port, "--server=" + server.address]
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=client_env(colour=True), text=True)


def case_piped_initiator(t):
    """`printf '/register\\n/bridge\\n/chat\\nhello\\n/quit\\n' | tcp-chat-client ...`: each line
    is taken once the client can act on it, so /quit waits for the peer's answer."""
    user1 = t.client("user1")
    user1.types("/register")
    user1.sees("registered as user1")
    user1.types("/bridge")
    user1.sees("no peer yet")
    port = free_port("127.0.0.1")
    proc = run_script(t.server, "user2", port)
    proc.stdin.write("/register\n/bridge\n/chat\nhello\n/quit\n")
    proc.stdin.close()
    proc.stdin = None
    user1.sees("user2: hello")
    user1.types("hi script")
    user1.sees("user2 left the chat")
    user1.exits(0)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    for line in ["registered as user2 at 127.0.0.1:%d" % port, "peer user1 at 127.0.0.1:",
                 "chat with user1 started; you write first", "user2: hello",
                 "user1: hi script", "chat with user1 ended"]:
        assert line in out, "missing %r in:\n%s" % (line, out)
    assert not SGR.search(out) and "\x1b" not in out, repr(out)  # no colours on a pipe


def case_piped_waiter(t):
    """A scripted waiter: it waits for its peer, answers on its turn, and the end of the script
    is /quit."""
    port = free_port("127.0.0.1")
    proc = run_script(t.server, "user1", port)
    proc.stdin.write("/register\n/bridge\nnice to meet you\n")
    proc.stdin.flush()
    user2 = t.client("user2")
    t.server.logs("BRIDGE: user1 waiting")
    user2.types("/register")
    user2.sees("registered as user2")
    user2.types("/bridge")
    user2.sees("peer user1 at 127.0.0.1:%d" % port)
    user2.types("/chat")
    user2.sees("you write first")
    user2.types("hello script")
    user2.sees("user1: nice to meet you")
    proc.stdin.close()  # the end of the script is /quit, taken on user1's next turn
    proc.stdin = None
    user2.types("bye")
    user2.sees("user1 left the chat")
    user2.exits(0)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    for line in ["no peer yet: waiting on port %d" % port, "user2 (127.0.0.1:",
                 "user2: hello script", "user1: nice to meet you", "user2: bye",
                 "chat with user2 ended"]:
        assert line in out, "missing %r in:\n%s" % (line, out)


def case_piped_waiter_input_ends(t):
    """`printf '/register\\n/bridge\\n' | tcp-chat-client ...`: the script ends while the
    client waits, and the end of input is /quit, in WAIT too (spec §10.3)."""
    port = free_port("127.0.0.1")
    proc = run_script(t.server, "user1", port)
    proc.stdin.write("/register\n/bridge\n")
    proc.stdin.close()
    proc.stdin = None
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    assert "no peer yet: waiting on port %d" % port in out, out
    t.server.logs("BRIDGE: user1 waiting")


CASES = {name[len("case_"):]: fn for name, fn in sorted(globals().items())
         if name.startswith("case_")}


def main():
    global SERVER, CLIENT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--client", required=True)
    parser.add_argument("case", choices=sorted(CASES) + ["all"])
    args = parser.parse_args()
    SERVER, CLIENT = args.server, args.client
    names = sorted(CASES) if args.case == "all" else [args.case]
    failed = 0
    for name in names:
        t = Case()
        started = time.monotonic()
        try:
            CASES[name](t)
            print("ok   %s (%.1f s)" % (name, time.monotonic() - started))
        except Exception as e:  # report every case, whatever fails
            failed += 1
            print("FAIL %s: %s" % (name, e))
            for c in t.clients:
                if isinstance(c, Client):
                    print("---- output of %s (last bytes):\n%r" % (c.id, (c.child.before or "")[-2000:]))
        finally:
            t.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
