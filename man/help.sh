#!/bin/sh
# `help.sh PROGRAM --help|--version`, as help2man calls it: the program's own answer, and after
# --help, the help of each of its subcommands (listed under "Subcommands:"), each under a heading
# that is its usage line, so that their options are in the manual page too.
set -eu
program=$1
name=$(basename "$program")
shift
# The usage line names the program as it was started; the page names it as it is installed.
"$program" "$@" | sed "s|$program|$name|g"
[ "${1:-}" = "--help" ] || exit 0
"$program" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' |
    while read -r sub; do
        echo
        "$program" "$sub" --help | sed "s|$program|$name|g" | awk '
            NR == 1 { description = $0; next }
            /^Usage: / { sub(/^Usage: /, ""); print $0 ":"; print description; print ""; next }
            /^(Positionals|Options):$/ || !NF { next }
            { print }'
    done
