#!/usr/bin/env python3
"""Measures the chat leg against its floor, on this machine, in one run (bench/README.md).

    bench/compare_chat.py            tcp-chat-load --mode chat (pairs of the transport's
                                     PeerLink, the chat path of tcp-chat-client) against
                                     --mode chat-raw (the same ping-pong over plain POSIX
                                     sockets), for 1 and 8 pairs and 64- and 1024-byte lines

Each round runs every configuration of both modes once, alternating, so that both meet the same
load on a shared machine; the table gives each configuration's median rate over the rounds and
the median of the per-round ratios, with their range. Binaries come from --build-dir (default:
build-bench/ of this checkout, see scripts/bench).
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.9  # chat round trips at least 90% of the plain-socket ping-pong


def run(load, mode, pairs, size, seconds):
    argv = [str(load), "--mode", mode, "-c", str(pairs), "-t", "1", "-d", str(seconds),
            "--size", str(size), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        sys.exit(f"compare_chat: {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}"
                 f" {done.stdout.strip()}")
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build-bench")
    parser.add_argument("-d", "--duration", type=float, default=3, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--json", type=Path, help="also write every report to this file")
    args = parser.parse_args()

    load = args.build_dir / "bench" / "tcp-chat-load"
    if not load.exists():
        sys.exit(f"compare_chat: {load} not found; build it first (scripts/bench builds build-bench/)")

    configs = [(p, s) for p in args.pairs for s in args.sizes]
    reports = {c: {"chat": [], "chat-raw": []} for c in configs}
    for r in range(args.rounds):
        for c in configs:
            # Alternate which mode goes first, so neither always meets the same neighbour.
            modes = ("chat", "chat-raw") if r % 2 == 0 else ("chat-raw", "chat")
            for mode in modes:
                reports[c][mode].append(run(load, mode, c[0], c[1], args.duration))
        print(f"compare_chat: round {r + 1} of {args.rounds} done", file=sys.stderr)

    print(f"chat round trips/s, median of {args.rounds} rounds of {args.duration:g} s "
          f"(ratio: median of the per-round ratios, range)")
    print(f"{'pairs':>5} {'bytes':>5} {'chat':>10} {'chat-raw':>10} {'p99 chat ms':>11} "
          f"{'p99 raw ms':>10}  ratio")
    failed = 0
    for c in configs:
        chat = reports[c]["chat"]
        raw = reports[c]["chat-raw"]
        ratios = [a["rate"] / b["rate"] for a, b in zip(chat, raw)]
        ratio = statistics.median(ratios)
        met = ratio >= TARGET
        failed += 0 if met else 1
        print(f"{c[0]:>5} {c[1]:>5} {statistics.median(x['rate'] for x in chat):>10.0f} "
              f"{statistics.median(x['rate'] for x in raw):>10.0f} "
              f"{statistics.median(x['p99_ms'] for x in chat):>11.3f} "
              f"{statistics.median(x['p99_ms'] for x in raw):>10.3f}  "
              f"{ratio:.2f} ({min(ratios):.2f}-{max(ratios):.2f}) "
              f"{'met' if met else 'MISSED'} (target {TARGET:.2f})")
    errors = sum(x["errors"] for c in configs for m in reports[c].values() for x in m)
    print(f"errors: {errors}")
    if args.json:
        args.json.write_text(json.dumps(
            [{"pairs": c[0], "size": c[1], "chat": reports[c]["chat"],
              "chat_raw": reports[c]["chat-raw"]} for c in configs], indent=2) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
