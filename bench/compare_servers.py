#!/usr/bin/env python3
"""Measures tcp-chat-server side by side with what a user would otherwise run, on this machine,
in one run (bench/README.md).

    bench/compare_servers.py baseline   tcp-chat-server vs bench/baseline_server.py (Python
                                        socketserver), both driven by tcp-chat-load -c64
    bench/compare_servers.py nginx      tcp-chat-server driven by tcp-chat-load -c64 -t2 vs nginx
                                        (one worker, keepalive_timeout 0, `return 200` with a
                                        REGACK-sized body) driven by
                                        wrk -H 'Connection: close' -c64 -t2 -d10s, and vs the
                                        same nginx closing gracefully as tcp-chat-server does
                                        (lingering_close always); both load generators run
                                        --nginx-load-threads threads (2)
    bench/compare_servers.py threads    tcp-chat-server --threads 1 driven by tcp-chat-load -t1, then
                                        --threads 2 driven by tcp-chat-load -t2
    bench/compare_servers.py registries one tcp-chat-server on the memory registry, one on Redis,
                                        two on one Redis (tcp-chat-load spreads its connections
                                        over both), each driven by tcp-chat-load -c64; Redis is
                                        started here on a free port without persistence

tcp-chat-server runs with --threads 1 (--server-threads) unless said otherwise, as nginx runs one
worker, and with --alloc-stats: each run of it also reports the heap allocations per request,
read before and after the run with SIGUSR1.

Binaries come from --build-dir (default: build-bench/ of this checkout, see scripts/bench).
nginx and wrk are not project dependencies: when they are missing and this runs as root, they
are installed with apt-get (Debian packages nginx-light and wrk) unless --no-install is given;
otherwise the nginx comparison is skipped (exit status 3).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# What tcp-chat-server answers to tcp-chat-load's first REGISTER: nginx returns as many bytes.
REGACK = "REGACK\r\nclientID: load-0\r\nIP: 127.0.0.1\r\nPort: 20000\r\n\r\n"


def fail(message, status=1):
    print(f"compare_servers: {message}", file=sys.stderr)
    sys.exit(status)


def free_port(host=HOST):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(proc, host, port, timeout=10.0):
    """Waits until something accepts on host:port, or the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"{proc.args[0]} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    fail(f"{proc.args[0]} is not listening on {host}:{port} after {timeout} s")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid):
    """CPU time (user + system) of a process and its descendants so far: what a server spent,
    whatever else the machine was doing."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                total += sum(cpu_seconds(int(child)) for child in f.read().split())
    except OSError:
        pass
    return total


def measured(proc, run, others=()):
    """Runs `run()` (a client) and adds the server's and the client's CPU time per request.
    `proc` may be a list of server processes (their CPU is summed); `others` maps a name to a
    process whose CPU per request is reported as `<name>_us` (e.g. Redis)."""
    procs = proc if isinstance(proc, list) else [proc]
    allocs_before = allocations(procs)
    server_before = sum(cpu_seconds(p.pid) for p in procs)
    others_before = {name: cpu_seconds(p.pid) for name, p in others}
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = run()
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = sum(cpu_seconds(p.pid) for p in procs) - server_before
    client = (client_after.ru_utime + client_after.ru_stime
              - client_before.ru_utime - client_before.ru_stime)
    requests = report["rate"] * report.get("seconds", 0) or report.get("completed", 0)
    allocs_after = allocations(procs)
    if allocs_before is not None and allocs_after is not None and report.get("completed"):
        report["allocs_per_request"] = (allocs_after - allocs_before) / report["completed"]
    if requests:
        report["server_us"] = 1e6 * server / requests
        report["client_us"] = 1e6 * client / requests
        for name, p in others:
            report[f"{name}_us"] = 1e6 * (cpu_seconds(p.pid) - others_before[name]) / requests
    return report


def allocations(procs):
    """Heap allocations so far summed over tcp-chat-server processes started with --alloc-stats
    (each prints `alloc-stats: N allocations, ...` on SIGUSR1); None for other servers."""
    total = 0
    for proc in procs:
        log = getattr(proc, "log_path", None)
        if log is None:
            return None
        before = log.read_text().count("alloc-stats:")
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while log.read_text().count("alloc-stats:") == before and time.monotonic() < deadline:
            time.sleep(0.01)
        lines = [l for l in log.read_text().splitlines() if l.startswith("alloc-stats:")]
        if len(lines) == before:
            return None
        total += int(lines[-1].split()[1])
    return total


class Running:
    """A server process for the duration of a `with` block; with `log`, its stdout goes to a
    temporary file (proc.log_path)."""

    def __init__(self, argv, port, log=False, **kwargs):
        self.argv, self.port, self.log, self.kwargs = argv, port, log, kwargs

    def __enter__(self):
        out = subprocess.DEVNULL
        if self.log:
            self.logfile = tempfile.NamedTemporaryFile(prefix="tcpchat-server-", suffix=".log")
            out = self.logfile
        self.proc = subprocess.Popen(self.argv, stdout=out, **self.kwargs)
        if self.log:
            self.proc.log_path = Path(self.logfile.name)
        wait_listening(self.proc, HOST, self.port)
        return self.proc

    def __exit__(self, *exc):
        stop(self.proc)
        if self.log:
            self.logfile.close()


SERVER_THREADS = 1  # set from --server-threads


def our_server(build, *options, threads=None):
    port = free_port()
    server = build / "apps" / "server" / "tcp-chat-server"
    if not server.exists():
        fail(f"{server} is not built (cmake --build --preset bench --target tcp-chat-server)")
    # --quiet: one log line per request would be measured too (spec §6.6).
    threads = SERVER_THREADS if threads is None else threads
    return Running([str(server), "--listen", HOST, "--port", str(port), "--quiet",
                    "--threads", str(threads), "--alloc-stats", *options], port, log=True), port


def baseline_server():
    port = free_port()
    script = ROOT / "bench" / "baseline_server.py"
    return Running([sys.executable, str(script), "--host", HOST, "--port", str(port)], port), port


def run_load(build, port, args, rate=None, threads=None):
    """tcp-chat-load against HOST:port, or spread over several ports (paced at `rate` requests/s
    if given); its JSON report."""
    load = build / "bench" / "tcp-chat-load"
    if not load.exists():
        fail(f"{load} is not built (cmake --build --preset bench --target tcp-chat-load)")
    servers = [a for p in (port if isinstance(port, list) else [port])
               for a in ("--server", f"{HOST}:{p}")]
    argv = [str(load), *servers, "-c", str(args.connections),
            "-d", str(args.duration), "-t", str(threads or args.threads), "--json"]
    if rate:
        argv[-1:-1] = ["--rate", str(round(rate))]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        fail(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    report = json.loads(done.stdout)
    report["command"] = " ".join(["tcp-chat-load"] + argv[1:])
    return report


def median_report(reports):
    """The run with the median rate stands for its rounds."""
    ordered = sorted(reports, key=lambda r: r["rate"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rates"] = [round(r["rate"]) for r in reports]
    return chosen


def print_table(rows, redis=False):
    print(f'{"server":<34} {"requests/s":>10} {"p50 ms":>8} {"p99 ms":>8} {"p99.9 ms":>8} '
          f'{"errors":>7} {"server CPU us/req":>17} {"client CPU us/req":>17} {"allocs/req":>10}'
          + (f' {"Redis CPU us/req":>16}' if redis else ""))
    for name, r in rows:
        p999 = r.get("p999_ms")
        allocs = r.get("allocs_per_request")
        print(f'{name:<34} {r["rate"]:>10.0f} {r["p50_ms"]:>8.2f} {r["p99_ms"]:>8.2f} '
              f'{"-" if p999 is None else format(p999, ".2f"):>8} {r["errors"]:>7} '
              f'{r.get("server_us", 0):>17.1f} {r.get("client_us", 0):>17.1f} '
              f'{"-" if allocs is None else format(allocs, ".3f"):>10}'
              + (f' {r.get("redis_us", 0):>16.1f}' if redis else ""))
    for name, r in rows:
        print(f'  {name}: {r["command"]}' + (f'  (rates of the rounds: {r["rates"]})'
                                             if len(r.get("rates", [])) > 1 else ""))


def verdict(label, ok, detail):
    print(f'{"met   " if ok else "MISSED"} {label}: {detail}')
    return ok


def compare_baseline(args):
    ours, base = [], []
    for _ in range(args.rounds):
        running, port = our_server(args.build_dir)
        with running as proc:
            ours.append(measured(proc, lambda: run_load(args.build_dir, port, args)))
        running, port = baseline_server()
        with running as proc:
            base.append(measured(proc, lambda: run_load(args.build_dir, port, args)))
    ours, base = median_report(ours), median_report(base)
    # Saturated, 64 connections in a closed loop wait about 64 / rate each (Little's law); the
    # latency of a server that is not saturated is seen at half that rate, paced.
    running, port = our_server(args.build_dir)
    with running as proc:
        half = measured(proc, lambda: run_load(args.build_dir, port, args, ours["rate"] / 2))
    print_table([("tcp-chat-server", ours), ("baseline_server.py (socketserver)", base),
                 ("tcp-chat-server at half that rate", half)])
    ratio = ours["rate"] / base["rate"] if base["rate"] else float("inf")
    ok = verdict("at least 10x the Python baseline", ratio >= 10, f"{ratio:.1f}x")
    ok &= verdict("p99 under 5 ms, saturated", ours["p99_ms"] < 5, f'{ours["p99_ms"]:.2f} ms')
    ok &= verdict("p99 under 5 ms at half the saturated rate", half["p99_ms"] < 5,
                  f'{half["p99_ms"]:.2f} ms')
    ok &= verdict("zero errors", ours["errors"] + half["errors"] == 0,
                  f'{ours["errors"] + half["errors"]} errors')
    return {"tcp-chat-server": ours, "baseline": base, "half_rate": half, "ratio": ratio}, ok


def ensure_installed(args):
    """Paths of nginx and wrk, installing them when allowed; None when they are not there."""
    def find():
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        return nginx, shutil.which("wrk")

    nginx, wrk = find()
    if nginx and wrk:
        return nginx, wrk
    missing = ([] if nginx else ["nginx-light"]) + ([] if wrk else ["wrk"])
    if args.no_install or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"compare_servers: nginx comparison skipped: install {' '.join(missing)} "
              f"(sudo apt-get install {' '.join(missing)})", file=sys.stderr)
        return None, None
    print(f"compare_servers: installing {' '.join(missing)} with apt-get", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing):
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return find()


def nginx_config(directory, port, linger=False):
    """With `linger`, nginx closes as tcp-chat-server does (spec §6.1): shutdown, then read until
    the client's FIN (`lingering_close always`)."""
    body = REGACK.replace("\r", "\\r").replace("\n", "\\n")
    temp = "\n".join(f"    {kind}_temp_path {directory}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# Generated by bench/compare_servers.py: one worker, one request per connection.
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 0;
    lingering_close {"always" if linger else "on"};
{temp}
    server {{
        listen {HOST}:{port} backlog=1024;
        location / {{
            default_type text/plain;
            return 200 "{body}";
        }}
    }}
}}
"""


def run_wrk(wrk, port, args):
    argv = [wrk, "-H", "Connection: close", f"-c{args.connections}", f"-t{args.nginx_load_threads}",
            f"-d{args.duration}s", "--latency", f"http://{HOST}:{port}/"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    report = {"command": " ".join(["wrk"] + argv[1:]).replace("Connection: close", "'Connection: close'"),
              "errors": 0, "p999_ms": None, "seconds": args.duration}
    for line in done.stdout.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            report["rate"] = float(words[1])
        elif words[:1] in (["50%"], ["99%"]):
            value = words[1]
            scale = 1e-3 if value.endswith("us") else 1e3 if value.endswith("s") and not value.endswith("ms") else 1
            number = float(value.rstrip("mus"))
            report["p50_ms" if words[0] == "50%" else "p99_ms"] = number * scale
        elif line.strip().startswith("Socket errors:"):
            report["errors"] += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            report["errors"] += int(words[-1])
    if "rate" not in report:
        fail(f"cannot read wrk's output:\n{done.stdout}")
    return report


def compare_nginx(args):
    nginx, wrk = ensure_installed(args)
    if not (nginx and wrk):
        return None, None
    ours, theirs, lingering = [], [], []
    for _ in range(args.rounds):
        for linger, reports in ((False, theirs), (True, lingering)):
            with tempfile.TemporaryDirectory(prefix="tcpchat-nginx-") as directory:
                port = free_port()
                config = Path(directory) / "nginx.conf"
                config.write_text(nginx_config(directory, port, linger))
                with Running([nginx, "-p", directory, "-c", str(config)], port,
                             stderr=subprocess.DEVNULL) as proc:
                    reports.append(measured(proc, lambda: run_wrk(wrk, port, args)))
        running, port = our_server(args.build_dir)
        with running as proc:
            ours.append(measured(proc, lambda: run_load(args.build_dir, port, args,
                                                          threads=args.nginx_load_threads)))
    ours, theirs, lingering = median_report(ours), median_report(theirs), median_report(lingering)
    print_table([("tcp-chat-server + tcp-chat-load", ours), ("nginx (1 worker) + wrk", theirs),
                 ("nginx, graceful close, + wrk", lingering)])
    if lingering.get("server_us"):
        print(f"  server CPU per request: {ours['server_us'] / lingering['server_us']:.2f}x "
              "nginx's with the same graceful close (lingering_close always)")
    ratio = ours["rate"] / theirs["rate"]
    cpu = ours["server_us"] / theirs["server_us"] if theirs.get("server_us") else float("inf")
    ok = verdict("at least nginx's rate", ratio >= 1.0, f"{100 * ratio:.0f}%")
    ok &= verdict("server CPU per request at most 1.1x nginx's", cpu <= 1.1, f"{cpu:.2f}x")
    ok &= verdict("p99 under 5 ms", ours["p99_ms"] < 5, f'{ours["p99_ms"]:.2f} ms')
    ok &= verdict("zero errors", ours["errors"] == 0, f'{ours["errors"]} errors')
    return {"tcp-chat-server": ours, "nginx": theirs, "nginx_graceful_close": lingering,
            "ratio": ratio, "cpu_ratio": cpu}, ok


def compare_threads(args):
    """--threads 1 against --threads 2, each driven by a load generator with as many threads."""
    rows = {1: [], 2: []}
    for _ in range(args.rounds):
        for threads in rows:
            running, port = our_server(args.build_dir, threads=threads)
            with running as proc:
                rows[threads].append(measured(
                    proc, lambda: run_load(args.build_dir, port, args, threads=threads)))
    rows = {threads: median_report(reports) for threads, reports in rows.items()}
    print_table([(f"tcp-chat-server --threads {t} (load -t{t})", r) for t, r in rows.items()])
    ratio = rows[2]["rate"] / rows[1]["rate"] if rows[1]["rate"] else 0
    ok = verdict("--threads 2 at least 1.5x --threads 1", ratio >= 1.5, f"{ratio:.2f}x")
    ok &= verdict("zero errors", sum(r["errors"] for r in rows.values()) == 0,
                  f'{sum(r["errors"] for r in rows.values())} errors')
    return {f"threads_{t}": r for t, r in rows.items()} | {"ratio": ratio}, ok


def redis_server(directory):
    port = free_port()
    return Running(["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
                    "--appendonly", "no", "--dir", directory, "--logfile", ""], port), port


def compare_registries(args):
    if not shutil.which("redis-server"):
        fail("redis-server is not installed (scripts/bootstrap)")
    rows = {"memory registry, 1 server": [], "Redis registry, 1 server": [],
            "Redis registry, 2 servers": []}
    for _ in range(args.rounds):
        running, port = our_server(args.build_dir)
        with running as proc:
            rows["memory registry, 1 server"].append(
                measured(proc, lambda: run_load(args.build_dir, port, args)))
        for count, name in ((1, "Redis registry, 1 server"), (2, "Redis registry, 2 servers")):
            with tempfile.TemporaryDirectory() as directory:
                redis_running, redis_port = redis_server(directory)
                with redis_running as redis:
                    url = f"redis://{HOST}:{redis_port}/0"
                    servers = [our_server(args.build_dir, "--registry", url)
                               for _ in range(count)]
                    procs = [running.__enter__() for running, _ in servers]
                    try:
                        ports = [p for _, p in servers]
                        rows[name].append(measured(
                            procs, lambda: run_load(args.build_dir, ports, args),
                            others=[("redis", redis)]))
                    finally:
                        for running, _ in servers:
                            running.__exit__(None, None, None)
    rows = {name: median_report(reports) for name, reports in rows.items()}
    print_table(list(rows.items()), redis=True)
    memory, redis = rows["memory registry, 1 server"], rows["Redis registry, 1 server"]
    ratio = redis["rate"] / memory["rate"] if memory["rate"] else 0
    ok = verdict("one server on Redis at least 50% of the memory registry's rate", ratio >= 0.5,
                 f"{100 * ratio:.0f}%")
    ok &= verdict("p99 under 10 ms on Redis", redis["p99_ms"] < 10, f'{redis["p99_ms"]:.2f} ms')
    ok &= verdict("zero errors", sum(r["errors"] for r in rows.values()) == 0,
                  f'{sum(r["errors"] for r in rows.values())} errors')
    return rows, ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("against", choices=["baseline", "nginx", "all", "registries", "threads"])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build-bench")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("-t", "--threads", type=int, default=1, help="tcp-chat-load threads")
    parser.add_argument("--nginx-load-threads", type=int, default=2,
                        help="nginx comparison: threads of wrk and of tcp-chat-load alike")
    parser.add_argument("--server-threads", type=int, default=1,
                        help="tcp-chat-server --threads (the threads mode sets its own)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate the servers this many times; report each one's median run")
    parser.add_argument("--json", type=Path, help="also write the reports to this file")
    parser.add_argument("--no-install", action="store_true", help="never apt-get nginx or wrk")
    args = parser.parse_args()
    args.build_dir = args.build_dir.resolve()
    global SERVER_THREADS
    SERVER_THREADS = args.server_threads

    print(f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results, ok, skipped = {}, True, False
    if args.against in ("baseline", "all"):
        results["baseline"], met = compare_baseline(args)
        ok &= met
    if args.against in ("nginx", "all"):
        if args.against == "all":
            print()
        results["nginx"], met = compare_nginx(args)
        skipped = met is None
        ok &= bool(met) or skipped
    if args.against == "registries":
        results["registries"], ok = compare_registries(args)
    if args.against == "threads":
        results["threads"], ok = compare_threads(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 3 if skipped and args.against == "nginx" else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
