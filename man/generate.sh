#!/bin/sh
# `generate.sh HELP_COMMAND INCLUDE PAGE`: PAGE.gz, help2man's page for HELP_COMMAND (see help.sh)
# with INCLUDE's hand-written sections. The help texts are UTF-8 (§), so the page says so for man.
set -eu
help_command=$1
include=$2
page=$3
help2man --locale=C.UTF-8 --no-info --no-discard-stderr --section=1 --include="$include" \
    --output="$page.tmp" "$help_command"
{
    printf "'\\\\\" -*- coding: UTF-8 -*-\n"
    cat "$page.tmp"
} >"$page"
rm -f "$page.tmp"
gzip -9nf "$page"
