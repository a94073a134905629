#!/bin/sh
# Renders each manual page given (gzipped or not) as man(1) does, with every groff warning on;
# fails if any page renders empty or with a warning.
set -u
status=0
for page in "$@"; do
    if ! [ -s "$page" ]; then
        echo "FAIL $page: missing or empty"
        status=1
        continue
    fi
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -E UTF-8 -l "$page" 2>&1 >/dev/null)
    text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$page" 2>/dev/null)
    if [ -n "$warnings" ]; then
        echo "FAIL $page:"
        echo "$warnings"
        status=1
    elif ! printf '%s\n' "$text" | grep -q '^NAME'; then
        echo "FAIL $page: no NAME section"
        status=1
    else
        echo "ok   $page ($(printf '%s\n' "$text" | wc -l) lines)"
    fi
done
exit $status
