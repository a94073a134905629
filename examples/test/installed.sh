#!/bin/sh
# The installed tree, checked as a user of it would check it. One job per first argument:
#   install CMAKE BUILD_DIR PREFIX          cmake --install BUILD_DIR into a fresh PREFIX
#   cmake-consumer CMAKE PREFIX SRC WORK CXX FLAGS
#                                           build examples/consumer against PREFIX, run it
#   pkg-config-consumer PREFIX SOURCE WORK CXX FLAGS
#                                           compile SOURCE with `pkg-config tcpchat-codec`, run it
#   relocated-runner PREFIX WORK            copy PREFIX to WORK, keep two cases there, and check
#                                           that the runner, started elsewhere, runs exactly those
set -eu

# The REGISTER the consumer encodes, as the codec prints it after decoding it back.
expect_roundtrip() {
    output=$("$1")
    printf "%s\n" "$output"
    printf "%s\n" "$output" | grep -qx 'decoded REGISTER{clientID=user1 IP=127.0.0.1 Port=3000}' ||
        { echo "FAIL: the decoded REGISTER is not printed" >&2; exit 1; }
    printf "%s\n" "$output" | grep -qx '  Port: 3000\\r\\n' ||
        { echo "FAIL: the encoded bytes are not printed" >&2; exit 1; }
}

job=$1
shift
case $job in
install)
    cmake=$1 build=$2 prefix=$3
    rm -rf "$prefix"
    "$cmake" --install "$build" --prefix "$prefix"
    ;;
cmake-consumer)
    cmake=$1 prefix=$2 src=$3 work=$4 cxx=$5 flags=$6
    rm -rf "$work"
    # Only the install prefix, never the build tree, is given to the consumer.
    "$cmake" -S "$src" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags"
    "$cmake" --build "$work"
    expect_roundtrip "$work/register-roundtrip"
    "$work/server-start-stop" | tee "$work/server.out"
    grep -qE '^listening on port [1-9][0-9]*$' "$work/server.out"
    grep -qx stopped "$work/server.out"
    ;;
pkg-config-consumer)
    prefix=$1 source=$2 work=$3 cxx=$4 flags=$5
    rm -rf "$work" && mkdir -p "$work"
    pc=$(find "$prefix" -name tcpchat-codec.pc)
    [ -n "$pc" ] || { echo "FAIL: no tcpchat-codec.pc under $prefix" >&2; exit 1; }
    export PKG_CONFIG_PATH
    PKG_CONFIG_PATH=$(dirname "$pc")
    echo "pkg-config: $(pkg-config --cflags --libs tcpchat-codec)"
    # shellcheck disable=SC2046,SC2086 # the flags are word lists
    "$cxx" -std=c++20 $flags "$source" -o "$work/register-roundtrip" \
        $(pkg-config --cflags --libs tcpchat-codec)
    expect_roundtrip "$work/register-roundtrip"
    ;;
relocated-runner)
    prefix=$1 work=$2
    rm -rf "$work" && mkdir -p "$work"
    cp -a "$prefix" "$work/tree"
    cases=$work/tree/share/tcpchat/conformance/cases
    find "$cases" -name '*.md' | sort | tail -n +3 | xargs rm -f
    [ "$(find "$cases" -name '*.md' | wc -l)" -eq 2 ] || { echo "FAIL: cases not trimmed" >&2; exit 1; }
    mkdir -p "$work/elsewhere"
    cd "$work/elsewhere"
    output=$(env -u TCPCHAT_CONFORMANCE_CASES "$work/tree/bin/tcp-chat-conformance" codec --no-color)
    printf "%s\n" "$output"
    # Two cases ran: the installed ones beside the program, not the source tree's.
    printf "%s\n" "$output" | tail -1 | grep -qx '2 passed, 0 failed'
    ;;
*)
    echo "usage: installed.sh install|cmake-consumer|pkg-config-consumer|relocated-runner ..." >&2
    exit 2
    ;;
esac
