#!/usr/bin/env python3
"""`tcp-chat-conformance grade` end to end, through the real binaries (registered with CTest by
conformance/test/CMakeLists.txt).

    grade_test.py run --conformance BIN --server BIN --client BIN --flawed-server BIN
                      --flawed-client BIN --schemas DIR --out DIR
        grades our server and client, two flawed servers and a flawed client (and, where server
        mode has --exec, our server started by the run itself); checks the terminal
        matrix, matrix.json and every run's report.json against their schemas and against what
        each flaw breaks, that a run past its time limit is stopped and reported, and that SIGINT
        stops every run with what it started.
    grade_test.py render --out DIR [--chromium BIN]
        renders the index and two reports of that grade in headless Chromium and checks the DOM
        after rendering; exits 77 (skipped) when Chromium is absent.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

SKIP = 77
failures = []


def check(label, ok, detail=""):
    print(f'{"ok  " if ok else "FAIL"} {label}{": " + str(detail) if detail and not ok else ""}',
          flush=True)
    if not ok:
        failures.append(label)


class Server:
    """A server started on a free port; its port read from `listening on 127.0.0.1:PORT`."""

    def __init__(self, argv):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.monotonic() + 20
        while self.port is None and time.monotonic() < deadline:
            self.log.seek(0)
            m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", self.log.read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            self.log.seek(0)
            sys.exit(f"{argv[0]} did not start: {self.log.read().decode(errors='replace')}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def sleeping(marker):
    """Whether a process whose command line is exactly `marker` exists."""
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "cmdline").read_bytes().replace(b"\0", b" ").strip() == marker.encode():
                return True
        except OSError:
            continue
    return False


def validate(schema_path, document, label):
    import jsonschema
    schema = json.loads(Path(schema_path).read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    check(f"{label} matches {Path(schema_path).name}", not errors,
          "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:3]))


def outcomes(matrix, implementation, mode):
    return {c["name"]: c["outcomes"][implementation]["outcome"] for c in matrix["cases"]
            if c["mode"] == mode and implementation in c["outcomes"]}


def run(args):
    out = Path(args.out)
    # Where server mode can start the server itself (--exec), grade does so for a `server` line.
    helped = subprocess.run([args.conformance, "server", "--help"], capture_output=True,
                            text=True, timeout=60)
    supervised = "--exec" in helped.stdout
    runs = 6 if supervised else 5
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    ours = Server([args.server, "--listen", "127.0.0.1", "--port", "0", "--read-timeout", "2"])
    regak = Server([args.flawed_server, "--flaw=misspells_method"])
    self_bridge = Server([args.flawed_server, "--flaw=bridges_to_self"])
    try:
        client = "--id={id} --port={port} --server={server}"
        listing = f"""\
# The grade of the conformance tests: our server and client, and flawed ones.
ours: server-at = 127.0.0.1:{ours.port}
ours: client = {args.client} {client}
regak: server-at = 127.0.0.1:{regak.port}
regak: client = {args.flawed_client} --flaw=misspells {client}
self-bridge: server-at = 127.0.0.1:{self_bridge.port}
"""
        if supervised:
            listing += (f"started: server = {args.server} --listen {{host}} --port {{port}} "
                        "--read-timeout 2\n")
        (out / "implementations.txt").write_text(listing)
        started = time.monotonic()
        done = subprocess.run([args.conformance, "grade", str(out / "implementations.txt"),
                               "-o", str(out / "grade"), "-j", "2", "--timeout", "3000",
                               "--no-color"], capture_output=True, text=True, timeout=240)
        elapsed = time.monotonic() - started
    finally:
        for s in (ours, regak, self_bridge):
            s.stop()
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    print(f"grade took {elapsed:.1f} s")
    check("grade exits 0 when every run wrote its report", done.returncode == 0, done.returncode)
    check("progress names each finished run", all(
        re.search(rf"\[\d/{runs}\] {name}: \d+ passed", done.stderr)
        for name in ("ours server", "ours client", "regak server", "regak client",
                     "self-bridge server") + (("started server",) if supervised else ())),
          done.stderr)
    header = re.search(r"^server mode +ours +regak +self-bridge( +started)?$", done.stdout, re.M)
    check("the terminal matrix has a column per implementation", header is not None)
    check("the terminal matrix has section totals",
          re.search(r"^§5\.1 REGISTER +2/2 +0/2 +2/2( +2/2)?$", done.stdout, re.M) is not None)
    check("the terminal matrix marks a case per implementation",
          re.search(r"^  5\.1-register +✔ +× +✔( +✔)?$", done.stdout, re.M) is not None)

    grade = out / "grade"
    matrix = json.loads((grade / "matrix.json").read_text())
    validate(Path(args.schemas) / "grade.json", matrix, "matrix.json")
    for impl in matrix["implementations"]:
        for r in impl["runs"]:
            report = json.loads((grade / r["report"]).read_text())
            validate(Path(args.schemas) / "report.json", report, r["report"])
            check(f'{r["report"]}: counts agree with the matrix',
                  all(report[k] == r[k] for k in ("passed", "failed", "skipped", "crashed",
                                                  "not_run")))
            for f in (r["html"], r["junit"], r["log"]):
                check(f"{f} written", (grade / f).is_file())
    names = [i["name"] for i in matrix["implementations"]]
    check("implementations in the list's order",
          names == ["ours", "regak", "self-bridge"] + (["started"] if supervised else []), names)
    if supervised:
        started = outcomes(matrix, "started", "server")
        check("a server grade started itself passes every server case", started and
              set(started.values()) <= {"passed", "skipped"},
              {k: v for k, v in started.items() if v not in ("passed", "skipped")})
    ours_server = outcomes(matrix, "ours", "server")
    check("our server passes every server case", ours_server and
          set(ours_server.values()) <= {"passed", "skipped"},
          {k: v for k, v in ours_server.items() if v not in ("passed", "skipped")})
    ours_client = outcomes(matrix, "ours", "client")
    check("our client passes every client case",
          ours_client and set(ours_client.values()) == {"passed"},
          {k: v for k, v in ours_client.items() if v != "passed"})
    regak_server = outcomes(matrix, "regak", "server")
    check("a server that misspells REGACK fails 5.1-register and 6.3-two-clients-a-first",
          regak_server.get("5.1-register") == "failed" and
          regak_server.get("6.3-two-clients-a-first") == "failed", regak_server)
    check("... and passes 4.2-unknown-method", regak_server.get("4.2-unknown-method") == "passed")
    bridge = outcomes(matrix, "self-bridge", "server")
    check("a server that bridges a client to itself fails 6.3-alone-twice only where pairing is "
          "involved", bridge.get("6.3-alone-twice") == "failed" and
          bridge.get("5.1-register") == "passed", bridge)
    check("self-bridge has no client column", outcomes(matrix, "self-bridge", "client") == {})
    regak_client = outcomes(matrix, "regak", "client")
    check("a client that misspells REGISTER fails 5.1-register",
          regak_client.get("5.1-register") == "failed", regak_client)
    totals = {(s["mode"], s["section"]): s for s in matrix["sections"]}
    check("section totals: §5.1 in server mode",
          totals[("server", "5.1")]["passed"] ==
          {"ours": 2, "regak": 0, "self-bridge": 2, **({"started": 2} if supervised else {})},
          totals[("server", "5.1")])

    junit = (grade / "junit.xml").read_text()
    check("junit.xml: a test suite per implementation",
          re.findall(r'<testsuite name="([^"]+)"', junit) == names)

    # A run past its time limit is stopped, its cases reported as not run, the grade's exit 1.
    (out / "slow.txt").write_text("slow: client = sleep 60\n")
    started = time.monotonic()
    slow = subprocess.run([args.conformance, "grade", str(out / "slow.txt"), "-o",
                           str(out / "slow"), "--time-limit", "2", "--filter", "5.1",
                           "--no-color"], capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    check("a run past --time-limit makes grade exit 1", slow.returncode == 1, slow.returncode)
    check("... and is stopped long before its own end", elapsed < 45, f"{elapsed:.1f} s")
    m = json.loads((out / "slow" / "matrix.json").read_text())
    validate(Path(args.schemas) / "grade.json", m, "slow/matrix.json")
    run0 = m["implementations"][0]["runs"][0]
    check("... with status 'timed out'", run0["status"] == "timed out", run0)
    check("... and its cases not run", {c["outcomes"]["slow"]["outcome"] for c in m["cases"]} ==
          {"not_run"}, m["cases"])
    check("... the reason in each cell", all(
        "timed out" in c["outcomes"]["slow"].get("message", "") for c in m["cases"]))

    # A server the run started (--exec) is stopped with its run at the time limit: the runner,
    # ended by grade's SIGTERM, takes its process group along.
    (out / "slow-server.txt").write_text("slowserver: server = sleep 62.5\n")
    slow = subprocess.run([args.conformance, "grade", str(out / "slow-server.txt"), "-o",
                           str(out / "slow-server"), "--time-limit", "2", "--filter", "5.1",
                           "--no-color"], capture_output=True, text=True, timeout=120)
    check("a server run past --time-limit makes grade exit 1", slow.returncode == 1,
          slow.returncode)
    time.sleep(0.5)
    check("... with the server it started stopped too", not sleeping("sleep 62.5"))

    # Ctrl-C (SIGINT) stops the runs, and what they started, with them; a runner that cannot run
    # (a bad address) fails with its reason.
    (out / "stop.txt").write_text("slow: client = sleep 61.5\nbroken: server-at = nowhere\n")
    grade_run = subprocess.Popen([args.conformance, "grade", str(out / "stop.txt"), "-o",
                                  str(out / "stop"), "-j", "2", "--time-limit", "200",
                                  "--filter", "5.1", "--no-color"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not sleeping("sleep 61.5"):
        time.sleep(0.1)
    check("the slow client is running", sleeping("sleep 61.5"))
    # The broken runner exits at once, by itself; the interrupt must come after grade saw it
    # exit (its log ends with the reason), or grade would rightly count it interrupted.
    broken_log = out / "stop" / "broken" / "server.log"
    while time.monotonic() < deadline and not (
            broken_log.exists() and "HOST:PORT" in broken_log.read_text(errors="replace")):
        time.sleep(0.1)
    time.sleep(1.0)
    grade_run.send_signal(signal.SIGINT)
    try:
        grade_run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        grade_run.kill()
        grade_run.communicate()
    check("SIGINT makes grade exit 1", grade_run.returncode == 1, grade_run.returncode)
    time.sleep(0.5)
    check("... with nothing it started left running", not sleeping("sleep 61.5"))
    m = json.loads((out / "stop" / "matrix.json").read_text())
    validate(Path(args.schemas) / "grade.json", m, "stop/matrix.json")
    runs = {i["name"]: i["runs"][0] for i in m["implementations"]}
    check("... the run it stopped 'failed', 'interrupted'",
          (runs["slow"]["status"], runs["slow"].get("error")) == ("failed", "interrupted"),
          runs["slow"])
    check("a runner that exits without a report: 'failed' with its reason",
          runs["broken"]["status"] == "failed" and runs["broken"]["exit_status"] == 2 and
          "HOST:PORT" in runs["broken"].get("error", ""), runs["broken"])

    bad = subprocess.run([args.conformance, "grade", "/dev/null", "-o", str(out / "empty")],
                         capture_output=True, text=True, timeout=60)
    check("an empty list is refused with status 2", bad.returncode == 2, bad.returncode)
    return 1 if failures else 0


class Dom(HTMLParser):
    """The elements of the rendered page: tag and attributes, in document order."""

    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def count(self, tag, **attrs):
        return sum(1 for t, a in self.elements if t == tag and all(
            v in (a.get(k.replace("_", "-")) or "").split() or a.get(k.replace("_", "-")) == v
            for k, v in attrs.items()))


def render(chromium, page, profile):
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-quic", "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = Dom()
    dom.feed(done.stdout)
    return dom


def render_all(args):
    chromium = args.chromium or shutil.which("chromium")
    if not chromium or not os.access(chromium, os.X_OK):
        print("chromium is not installed: skipped")
        return SKIP
    grade = Path(args.out) / "grade"
    matrix = json.loads((grade / "matrix.json").read_text())
    with tempfile.TemporaryDirectory() as profile:
        index = render(chromium, grade / "index.html", profile)
        failed = sum(1 for c in matrix["cases"] for o in c["outcomes"].values()
                     if o["outcome"] == "failed")
        check("index: a cell per implementation and case",
              index.count("td", data_outcome="passed") + index.count("td", data_outcome="failed")
              + index.count("td", data_outcome="skipped") ==
              sum(len(c["outcomes"]) for c in matrix["cases"]))
        check("index: as many failed cells as the matrix", index.count("td", data_outcome="failed")
              == failed, f'{index.count("td", data_outcome="failed")} != {failed}')
        check("index: a row per run", index.count("tr", **{"class": "run"}) ==
              sum(len(i["runs"]) for i in matrix["implementations"]))
        links = [a.get("href", "") for t, a in index.elements if t == "a"]
        check("index: links to each run's report",
              all(any(h == r["html"] for h in links)
                  for i in matrix["implementations"] for r in i["runs"]))
        check("index: each mark links to the case in the report",
              "regak/server.html#case-5.1-register" in links)
        check("index: no external resources", not any(
            a.get("src") or (t == "link" and a.get("href")) for t, a in index.elements))

        for name, mode in (("regak", "client"), ("ours", "server")):
            run = next(r for i in matrix["implementations"] if i["name"] == name
                       for r in i["runs"] if r["mode"] == mode)
            page = render(chromium, grade / run["html"], profile)
            label = run["html"]
            check(f"{label}: a case per case", page.count("details", **{"class": "case"}) ==
                  sum(run[k] for k in ("passed", "failed", "skipped", "crashed", "not_run")))
            check(f"{label}: failed cases as in the JSON",
                  page.count("details", data_verdict="failed") == run["failed"],
                  f'{page.count("details", data_verdict="failed")} != {run["failed"]}')
            opened = sum(1 for t, a in page.elements
                         if t == "details" and "open" in a and a.get("data-verdict") == "failed")
            check(f"{label}: failing cases open", opened == run["failed"])
            check(f"{label}: a sequence diagram per case",
                  page.count("svg", **{"class": "sequence"}) == page.count("details",
                                                                          **{"class": "case"}))
            arrows = page.count("g", **{"class": "arrow"})
            check(f"{label}: the diagrams have arrows", arrows >= 4 * page.count(
                "svg", **{"class": "sequence"}), arrows)
            check(f"{label}: the arrows are labelled by method", any(
                t == "g" and "message" in a.get("class", "") for t, a in page.elements))
            if run["failed"]:
                check(f"{label}: the failing step is marked",
                      page.count("g", **{"class": "at-fault"}) >= run["failed"])
                check(f"{label}: the first difference is marked",
                      page.count("mark") >= 2 * run["failed"])
            check(f"{label}: no external resources", not any(
                a.get("src") or (t == "link" and a.get("href")) for t, a in page.elements))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    for flag in ("--conformance", "--server", "--client", "--flawed-server", "--flawed-client",
                 "--schemas", "--out"):
        r.add_argument(flag, required=True)
    h = sub.add_parser("render")
    h.add_argument("--out", required=True)
    h.add_argument("--chromium")
    args = parser.parse_args()
    return run(args) if args.what == "run" else render_all(args)


if __name__ == "__main__":
    sys.exit(main())
