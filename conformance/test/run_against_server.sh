#!/bin/sh
# Starts tcp-chat-server on a free port and runs `tcp-chat-conformance server` against it.
# Usage: run_against_server.sh SERVER CONFORMANCE [extra conformance arguments...]
server=$1
conformance=$2
shift 2
log=$(mktemp)
"$server" --listen 127.0.0.1 --port 0 --read-timeout 2 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT INT TERM
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "tcp-chat-server did not start:" >&2
  cat "$log" >&2
  exit 1
fi
"$conformance" server "127.0.0.1:$port" --no-color "$@"
