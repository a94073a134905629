#!/bin/sh
# Renders each manual page given (gzipped or not) with every groff warning on, and as man(1)
# shows it; fails if any page has a warning, or renders without a NAME section.
set -u
status=0
for page in "$@"; do
    if ! [ -s "$page" ]; then
        echo "FAIL $page: missing or empty"
        status=1
        continue
    fi
    # groff itself with every warning on (-ww; `-wall` and `man --warnings=all` leave out
    # undefined macros), at the width man uses for MANWIDTH=80.
    warnings=$(gzip -cdf "$page" | LC_ALL=C.UTF-8 groff -Tutf8 -k -man -ww -z -rLL=78n 2>&1)
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
