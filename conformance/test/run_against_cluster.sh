#!/bin/sh
# Starts SERVERS instances of tcp-chat-server on one Redis (scripts/cluster) and runs
# `tcp-chat-conformance server` against each in turn: instances sharing a registry must each pass
# the whole server-mode suite, with the registry left as the previous run (on another instance)
# left it.
# Usage: run_against_cluster.sh SERVERS BUILD_DIR CONFORMANCE
servers=$1
build=$2
conformance=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
CLUSTER_QUIET=1 "$root/scripts/cluster" --servers "$servers" --build "$build" -- --read-timeout 2 \
  >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
line=
for _ in $(seq 1 200); do
  line=$(sed -n 's/^cluster: //p' "$out" | head -n 1)
  [ -n "$line" ] && break
  sleep 0.1
done
if [ -z "$line" ]; then
  echo "scripts/cluster did not start:" >&2
  cat "$out" >&2
  exit 1
fi
status=0
for address in $line; do
  case $address in redis://*) continue ;; esac
  echo "== tcp-chat-conformance server $address (one of $servers instances on one Redis) =="
  "$conformance" server "$address" --no-color || status=1
done
exit $status
