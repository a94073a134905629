#!/bin/sh
# The real binary against a fragile Python server (fragile_server.py), as a grader runs it:
# with --exec each crash is attributed to its case and the server restarted; without, the cases
# after the crash are not run; and the exit status tells the three outcomes apart.
# Usage: supervise_fragile_server.sh CONFORMANCE FRAGILE_SERVER_PY
conformance=$1
fragile=$2
out=$(mktemp)
log=$(mktemp)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -f "$out" "$log"' EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  cat "$out" >&2
  exit 1
}
# The cases in suite order: 4.1-bare-lf kills the server, the two REGISTER cases do not.
cases="--filter 4.1-bare-lf --filter 5.1-register --no-color"

# shellcheck disable=SC2086
"$conformance" server --exec "python3 $fragile --port={port}" --start-timeout 20000 $cases >"$out"
status=$?
[ "$status" -eq 1 ] || fail "--exec: exit status $status, expected 1 (a case failed)"
grep -q -- "-> crashed: exited with status 1; the server was restarted" "$out" ||
  fail "--exec: no crash reported"
grep -q "| ValueError: unknown method" "$out" || fail "--exec: the server's last words are missing"
[ "$(tail -n 1 "$out")" = "2 passed, 1 failed" ] || fail "--exec: last line"

# Without --exec: the same server, started here; it dies at 4.1-bare-lf, the first case.
python3 "$fragile" --port=0 >"$log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's/^listening on 127\.0\.0\.2:\([0-9]*\)$/\1/p' "$log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the Python server did not start: $(cat "$log")"
# shellcheck disable=SC2086
"$conformance" server "127.0.0.2:$port" $cases >"$out"
status=$?
[ "$status" -eq 3 ] || fail "no --exec: exit status $status, expected 3 (cases not run)"
grep -q -- "-> crashed: stopped accepting connections" "$out" || fail "no --exec: no stop reported"
[ "$(grep -c -- "-> not run: the server stopped accepting connections (Connection refused) during 4.1-bare-lf" "$out")" -eq 1 ] ||
  fail "no --exec: the reason for not running is not shown once"
[ "$(tail -n 1 "$out")" = "0 passed, 1 failed, 2 not run" ] || fail "no --exec: last line"
wait $pid
pid=

# A command that cannot start runs no case; neither HOST:PORT nor --exec is a usage error.
"$conformance" server --exec "exit 7" $cases >"$out"
status=$?
[ "$status" -eq 3 ] || fail "a server that does not start: exit status $status, expected 3"
grep -q "not run: the server did not start: 'exit 7' exited with status 7 before it listened" "$out" ||
  fail "a server that does not start: no reason"
"$conformance" server --no-color >"$out" 2>&1
[ $? -eq 2 ] || fail "neither HOST:PORT nor --exec: expected exit status 2"
"$conformance" server --no-such-option >"$out" 2>&1
[ $? -eq 2 ] || fail "an unknown option: expected exit status 2 (a command-line error)"
echo "ok"
