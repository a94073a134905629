#!/usr/bin/env python3
"""Draws the benchmark figures of bench/README.md as SVG charts, from the JSON the benchmarks write.

    bench/charts.py servers RUN.json   from bench/compare_servers.py all --json RUN.json: requests/s
                                       and CPU µs per request of tcp-chat-server, nginx and the
                                       Python baseline          -> bench/charts/servers.svg
    bench/charts.py codec RUN.json     from scripts/bench --json RUN.json: the incremental decoder's
                                       messages/s against the chunk size, per stream
                                                                -> bench/charts/codec-chunks.svg
    bench/charts.py chat RUN.json      from bench/compare_chat.py --json RUN.json: chat round
                                       trips/s against plain sockets, per configuration
                                                                -> bench/charts/chat.svg
    bench/charts.py codec --run        runs the benchmark first (here scripts/bench --json), then
                                       draws: regenerating a chart is one command

Needs matplotlib, a benchmark-only dependency (not a dependency of the project or its tests): on
Debian `apt-get install python3-matplotlib`, then run this with Debian's /usr/bin/python3 if
another python3 comes first on PATH. SVGs are written without a date, so that the same figures
give the same file.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT / "bench" / "charts"
OUTPUT = {"servers": "servers.svg", "codec": "codec-chunks.svg", "chat": "chat.svg"}


def pyplot():
    try:
        import matplotlib
    except ImportError:
        sys.exit("charts: matplotlib is missing: apt-get install python3-matplotlib (Debian), then "
                 "run with /usr/bin/python3")
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "tcpchat"  # stable ids: same figures, same file
    matplotlib.rcParams["font.size"] = 9
    import matplotlib.pyplot as plt
    return plt


def save(fig, path, rect=(0, 0, 1, 1)):
    fig.tight_layout(rect=rect)
    fig.savefig(path, format="svg", metadata={"Date": None})
    print(f"charts: wrote {path}")


def label_bars(ax, bars, fmt):
    for bar in bars:
        ax.annotate(fmt(bar.get_height()), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")


# (a) The server comparison: compare_servers.py all --json. Each comparison has its own runs of
# tcp-chat-server, alternating with the other server's: each pair of bars is one comparison.
def servers_chart(run, out):
    pairs = [(part, label) for part, label in (("nginx", "nginx, 1 worker (wrk)"),
                                                ("baseline", "Python baseline")) if part in run]
    if not pairs:
        sys.exit("charts: no 'baseline' or 'nginx' part in the servers JSON "
                 "(bench/compare_servers.py all --json FILE)")
    plt = pyplot()
    fig, (rate_ax, cpu_ax) = plt.subplots(1, 2, figsize=(8, 3.4))
    width = 0.38
    x = range(len(pairs))
    for ax, key, fmt in ((rate_ax, "rate", lambda v: f"{v:,.0f}"),
                         (cpu_ax, "server_us", lambda v: f"{v:.1f}")):
        ours = [run[part]["tcp-chat-server"].get(key) or 0 for part, _ in pairs]
        theirs = [run[part][part].get(key) or 0 for part, _ in pairs]
        label_bars(ax, ax.bar([i - width / 2 for i in x], ours, width, label="tcp-chat-server",
                              color="#1f77b4"), fmt)
        label_bars(ax, ax.bar([i + width / 2 for i in x], theirs, width, label="the other server",
                              color="#7f7f7f"), fmt)
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"vs {label}" for _, label in pairs], fontsize=8)
        ax.margins(y=0.18)
    rate_ax.set_ylabel("requests/s (higher is better)")
    rate_ax.set_title("Rate, 64 connections, one request each")
    cpu_ax.set_ylabel("server CPU µs per request (lower is better)")
    cpu_ax.set_title("Server CPU per request")
    handles, labels = rate_ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    save(fig, out, rect=(0, 0.08, 1, 1))


# Google Benchmark's JSON: each benchmark's items/s (the median when it has repetitions).
def benchmark_rates(run):
    rows = run["benchmarks"]
    if any(b.get("run_type") == "aggregate" for b in rows):
        rows = [dict(b, name=b["run_name"]) for b in rows if b.get("aggregate_name") == "median"]
    return {b["name"]: b.get("items_per_second", 0.0) for b in rows if not b.get("error_occurred")}


# (b) The incremental decoder by chunk size: BM_Stream/<stream>/chunk:<n> of scripts/bench --json.
def codec_chart(run, out):
    curves = {}
    for name, rate in benchmark_rates(run).items():
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "BM_Stream" and parts[2].startswith("chunk:"):
            curves.setdefault(parts[1], []).append((int(parts[2][len("chunk:"):]), rate))
    if not curves:
        sys.exit("charts: no BM_Stream/<stream>/chunk:<n> benchmarks in the codec JSON "
                 "(scripts/bench --json FILE)")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for stream in ("request", "response", "chat"):
        if stream in curves:
            points = sorted(curves.pop(stream))
            ax.plot([c for c, _ in points], [r for _, r in points], marker="o", label=stream)
    for stream, points in sorted(curves.items()):
        points.sort()
        ax.plot([c for c, _ in points], [r for _, r in points], marker="o", label=stream)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    sizes = sorted({c for points in ax.get_lines() for c in points.get_xdata()})
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(int(c)) for c in sizes])
    ax.minorticks_off()
    ax.set_xlabel("chunk size, bytes (each feed() gets this many)")
    ax.set_ylabel("messages/s (CPU time)")
    ax.set_title("StreamDecoder over pipelined streams, by chunk size")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(title="stream")
    save(fig, out)


# (c) The chat leg: compare_chat.py --json, the median rate of each mode per configuration.
def chat_chart(run, out):
    if not run:
        sys.exit("charts: the chat JSON holds no configuration (bench/compare_chat.py --json FILE)")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    labels, chat, raw, ratios = [], [], [], []
    for config in run:
        labels.append(f'{config["pairs"]} pair{"s" if config["pairs"] != 1 else ""}, '
                      f'{config["size"]} B')
        chat.append(statistics.median(r["rate"] for r in config["chat"]))
        raw.append(statistics.median(r["rate"] for r in config["chat_raw"]))
        ratios.append(statistics.median(a["rate"] / b["rate"]
                                        for a, b in zip(config["chat"], config["chat_raw"])))
    x = range(len(labels))
    width = 0.38
    ax.bar([i - width / 2 for i in x], chat, width, label="chat (PeerLink, codec, Asio)",
           color="#1f77b4")
    bars = ax.bar([i + width / 2 for i in x], raw, width, label="plain sockets (epoll, memchr)",
                  color="#7f7f7f")
    for i, bar in enumerate(bars):
        ax.annotate(f"chat/plain {ratios[i]:.2f}", (i, max(chat[i], raw[i])), ha="center",
                    va="bottom", fontsize=8, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels)
    ax.set_ylabel("round trips/s (median of the rounds)")
    ax.set_title(f"Chat ping-pong over loopback, one thread ({len(run[0]['chat'])} rounds)")
    ax.margins(y=0.15)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:.0f}k")
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=2, fontsize=8)
    save(fig, out, rect=(0, 0.08, 1, 1))


def run_benchmark(kind, build_dir, json_path):
    """Runs the benchmark that feeds `kind`, writing its JSON to json_path."""
    build = ["--build-dir", str(build_dir)] if build_dir else []
    if kind == "servers":
        argv = [sys.executable, str(ROOT / "bench" / "compare_servers.py"), "all", "--rounds", "3",
                "--json", str(json_path), *build]
    elif kind == "codec":
        argv = [str(ROOT / "scripts" / "bench"), "--runs", "1", "--json", str(json_path)]
    else:
        argv = [sys.executable, str(ROOT / "bench" / "compare_chat.py"), "--rounds", "5", "-d", "2",
                "--json", str(json_path), *build]
    print(f"charts: running {' '.join(argv)}", file=sys.stderr)
    done = subprocess.run(argv)
    # compare_* exit 1 when a target is missed: the figures are still figures.
    if not json_path.exists():
        sys.exit(f"charts: {' '.join(argv)} wrote no JSON (status {done.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("kind", choices=sorted(OUTPUT))
    parser.add_argument("json", type=Path, nargs="?", help="the benchmark's JSON (not with --run)")
    parser.add_argument("--run", action="store_true", help="run the benchmark first")
    parser.add_argument("--build-dir", type=Path,
                        help="with --run: the binaries for compare_servers.py or compare_chat.py")
    parser.add_argument("-o", "--output", type=Path, help=f"default: {CHARTS}/<chart>.svg")
    args = parser.parse_args()
    if args.run == (args.json is not None):
        parser.error("give the benchmark's JSON, or --run")
    out = args.output or CHARTS / OUTPUT[args.kind]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        path = args.json
        if args.run:
            path = Path(work) / "run.json"
            run_benchmark(args.kind, args.build_dir, path)
        run = json.loads(path.read_text())
        {"servers": servers_chart, "codec": codec_chart, "chat": chat_chart}[args.kind](run, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
