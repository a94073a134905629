#!/bin/sh
# client mode when another program takes the client's port: the runner chooses a free port for
# the client under test and releases it before the client binds it. Here the first start of the
# client's command hands the port to a listener in a process group of its own (setsid: another
# program, as far as the runner can tell), then starts tcp-chat-client, which cannot listen
# there. The runner must not judge that listener or that client: it runs the case again on
# another port, where the client passes, and says so. Usage: client_port_taken.sh CONFORMANCE
# CLIENT
set -eu
conformance=$1
client=$2
dir=$(mktemp -d)
trap 'kill "$(cat "$dir/squatter.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
cat >"$dir/squatter.py" <<'PY'
import os, socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(8)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
listener.settimeout(1)
end = time.monotonic() + 120
while time.monotonic() < end:  # takes connections and closes them, as a stranger would
    try:
        listener.accept()[0].close()
    except socket.timeout:
        pass
PY
cat >"$dir/client.sh" <<EOF
if [ ! -e "$dir/squatter.pid" ]; then
    setsid python3 "$dir/squatter.py" "\$1" "$dir/squatter.pid" </dev/null >/dev/null 2>&1 &
    while [ ! -e "$dir/squatter.pid" ]; do sleep 0.05; done
fi
exec "$client" --id="\$2" --port="\$1" --server="\$3"
EOF
out=$("$conformance" client --no-color --filter 10.3-wait-then-chat \
    --exec "sh $dir/client.sh {port} {id} {server}") || { echo "$out"; exit 1; }
echo "$out"
# The first start did hand its port over, and the second one passed on another port.
[ -s "$dir/squatter.pid" ]
echo "$out" | grep -q "^1 passed, 0 failed$"
echo "$out" | grep -q -- "-> port [0-9]* (the client's {port}) was taken by another program; the case ran again on another port"
