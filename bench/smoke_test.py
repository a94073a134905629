#!/usr/bin/env python3
"""A short run of every benchmark program, so that they cannot rot (registered with CTest by
bench/CMakeLists.txt). It checks that each runs and measures something, never how fast.

    smoke_test.py --codec-bench BIN --load BIN [--server BIN] --baseline bench/baseline_server.py
                  [--schema bench/load/schema/results.json]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_servers  # noqa: E402  (free_port, Running)

failures = []
schema = None  # tcp-chat-load's JSON is checked against it when given


def check(label, ok, detail=""):
    print(f'{"ok  " if ok else "FAIL"} {label}{": " + detail if detail else ""}', flush=True)
    if not ok:
        failures.append(label)


def load(binary, *args):
    done = subprocess.run([binary, *args, "--json"], capture_output=True, text=True, timeout=30)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"completed": 0, "errors": -1, "first_error": done.stderr.strip()}
    if schema is not None:
        import jsonschema
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(report)]
        check(f"tcp-chat-load {' '.join(args)} --json matches its schema", not errors,
              "; ".join(errors[:3]))
    return report


# bench/charts.py draws each chart from the JSON kept beside it; skipped without matplotlib, a
# benchmark-only dependency.
def charts():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skip bench/charts.py: no matplotlib for this Python (python3-matplotlib)")
        return
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as work:
        for kind, data in (("servers", "servers"), ("codec", "codec-chunks"), ("chat", "chat")):
            out = Path(work) / f"{kind}.svg"
            done = subprocess.run([sys.executable, str(here / "charts.py"), kind,
                                   str(here / "charts" / f"{data}.json"), "-o", str(out)],
                                  capture_output=True, text=True, timeout=120)
            check(f"bench/charts.py {kind} draws an SVG",
                  done.returncode == 0 and out.exists() and "<svg" in out.read_text(),
                  done.stderr.strip()[-200:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--codec-bench")
    parser.add_argument("--load", required=True)
    parser.add_argument("--server")
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--schema", type=Path)
    args = parser.parse_args()
    global schema
    if args.schema:
        schema = json.loads(args.schema.read_text())

    if args.codec_bench:
        done = subprocess.run([args.codec_bench, "--benchmark_min_time=0.01",
                               "--benchmark_filter=Compare", "--benchmark_format=json"],
                              capture_output=True, text=True, timeout=60)
        names = []
        if done.returncode == 0:
            names = [b["name"] for b in json.loads(done.stdout)["benchmarks"]
                     if not b.get("error_occurred")]
        check("codec benchmarks run", "BM_Compare_Tcpchat" in names and "BM_Compare_Memchr" in names,
              ", ".join(names) or done.stderr.strip())

    host = compare_servers.HOST
    servers = [("baseline_server.py", [sys.executable, args.baseline, "--host", host, "--port"])]
    if args.server:
        servers.insert(0, ("tcp-chat-server", [args.server, "--listen", host, "-q", "--port"]))
    for name, argv in servers:
        port = compare_servers.free_port()
        with compare_servers.Running(argv + [str(port)], port):
            for mode in ("mixed", "bridge"):
                r = load(args.load, "--server", f"{host}:{port}", "--mode", mode, "-c", "8",
                         "-d", "1")
                check(f"tcp-chat-load --mode {mode} against {name}",
                      r["completed"] > 0 and r["errors"] == 0,
                      f'{r["completed"]} requests, {r["errors"]} errors {r.get("first_error", "")}')

    for mode in ("chat", "chat-raw"):
        r = load(args.load, "--mode", mode, "-c", "2", "-d", "0.5", "--size", "100")
        check(f"tcp-chat-load --mode {mode}", r["completed"] > 0 and r["errors"] == 0,
              f'{r["completed"]} round trips, {r["errors"]} errors {r.get("first_error", "")}')
        check(f"tcp-chat-load --mode {mode} reports allocations per round trip",
              "allocs_per_round_trip" in r)

    charts()

    r = load(args.load, "--server", "192.0.2.1:5555")
    check("tcp-chat-load refuses a non-loopback target", r["completed"] == 0 and r["errors"] == -1)

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
