#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target from the protocol's own examples.

Sources, so that the seeds follow the documents instead of being copied by hand:
- the ```wire blocks of spec/tcp-chat.md (escapes \\r \\n \\\\ \\xHH; the block's line breaks are
  not part of the message), each with the decoding context in the HTML comment before it;
- the byte strings that the conformance transcripts (conformance/cases/*.md) send or expect,
  placeholders replaced by sample values, and the transcripts themselves (fuzz_transcript).

The spec's examples that carry an IPv4 address are also written with the addresses and ports at
the edges of RFC 3986's dec-octet alternatives and of Port's range, canonically and with a lenient
separator (which the codec decodes on its general path rather than its canonical one).

Every wire example becomes seeds in the input layout of fuzz/fuzz_input.hpp: option bytes, for the
stream target a chunk pattern, then the bytes. Examples of one context are also joined into one
stream (a chat: the CHAT message, then every text line), so that the decoders see several messages
in a row.

Usage: make_corpus.py [--source-dir DIR] --out DIR    (writes DIR/<target>/<name>)
"""

import argparse
import hashlib
import pathlib
import re
import sys

CONTEXTS = ("request", "response", "chat_open", "chat")

# Option bytes (fuzz_input.hpp): leniency bits, MAX-LINE, MAX-MESSAGE, MAX-HEADERS/MAX-ID.
LENIENT = bytes([0xFF, 0, 0, 0])
STRICT = bytes([0x00, 0, 0, 0])
SMALL_LIMITS = bytes([0xFF, 16, 16, 0x23])  # MAX-LINE 16, MAX-MESSAGE 64, 2 headers, MAX-ID 8

# Chunk patterns for the stream target: count byte ((n - 1) & 7), then n sizes.
WHOLE = bytes([0, 0xFF])          # one chunk of up to 8192 bytes
BYTEWISE = bytes([0, 1])          # one byte per feed()
MIXED = bytes([3, 3, 0, 7, 1])    # 3, nothing, 7, 1, ...

WIRE_BLOCK = re.compile(
    r"(?:<!--\s*wire:(?P<meta>[^>]*)-->\s*\n)?```wire[ \t]*\n(?P<body>.*?)\n```", re.S)
ESCAPE = re.compile(rb"\\(?:x([0-9A-Fa-f]{2})|(.))")


def unescape_wire(body):
    """A wire block's text to its bytes: line breaks dropped, escapes decoded."""
    text = "".join(body.splitlines()).encode("latin-1")

    def one(m):
        if m.group(1) is not None:
            return bytes([int(m.group(1), 16)])
        return {b"r": b"\r", b"n": b"\n", b"\\": b"\\", b"t": b"\t"}.get(m.group(2),
                                                                       b"\\" + m.group(2))
    return ESCAPE.sub(one, text)


def spec_examples(spec):
    """(name, context, bytes) of every wire block of the spec, in order."""
    text = spec.read_text(encoding="utf-8")
    for m in WIRE_BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("body"))
        context = None
        if m.group("meta"):
            found = re.search(r"context=(\w+)", m.group("meta"))
            context = found.group(1) if found else None
        yield f"spec-l{line}", context, unescape_wire(m.group("body"))


# Transcript byte strings (spec §12): "..." pieces with \r \n \t \\ \" \$ \xHH, ${placeholders},
# an optional *N repeat.
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"(?:\*(\d+))?')
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
SAMPLE = {"id": "user{n}", "ip": "127.0.0.{n}", "port": "300{n}", "run": "run1",
          "server": "127.0.0.2:5555"}


def placeholder_value(name):
    actor, _, field = name.rpartition(".")
    n = (ord(actor[0]) - ord("A")) % 8 + 1 if actor else 1
    if actor == "server" and field == "port":
        return "5555"
    return SAMPLE.get(field, "x").format(n=n)


def unescape_quoted(piece):
    out = bytearray()
    i = 0
    while i < len(piece):
        c = piece[i]
        if c == "\\" and i + 1 < len(piece):
            e = piece[i + 1]
            if e == "x" and i + 4 <= len(piece):
                out += bytes([int(piece[i + 2:i + 4], 16)])
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t"}.get(e, e.encode("latin-1"))
            i += 2
            continue
        if c == "$" and piece.startswith("${", i):
            end = piece.find("}", i)
            if end > 0:
                out += placeholder_value(piece[i + 2:end]).encode()
                i = end + 1
                continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def payload_bytes(text):
    data = b""
    for m in QUOTED.finditer(text):
        try:
            piece = unescape_quoted(m.group(1))
        except ValueError:
            return None
        data += piece * min(int(m.group(2) or 1), 10000)
    return data


SEND = re.compile(r"^\s*(?P<from>[A-Za-z][\w-]*)\s+->\s+(?P<to>[A-Za-z][\w-]*)[^:]*:\s(?P<payload>.*)$")
ENCODES = re.compile(r"^\s*encodes to:\s(?P<payload>.*)$")


def case_examples(case):
    """(name, context, bytes) of what a transcript sends or expects: each run of consecutive
    sends in one direction (one message, however the case splits it), each `encodes to`, and per
    direction the whole stream."""
    streams = {}
    run, run_key, run_line = b"", None, 0
    lines = case.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines + [""], 1):
        send = SEND.match(line)
        key = (send.group("from"), send.group("to")) if send else None
        if run and key != run_key:
            yield f"case-{case.stem}-l{run_line}", None, run
            run = b""
        encodes = ENCODES.match(line)
        data = payload_bytes((send or encodes).group("payload")) if (send or encodes) else None
        if not data:
            continue
        if encodes:
            yield f"case-{case.stem}-l{number}", None, data
            continue
        if not run:
            run_key, run_line = key, number
        run += data
        streams[key] = streams.get(key, b"") + data
    for (src, dst), data in streams.items():
        yield f"case-{case.stem}-{src}-{dst}", None, data


# Edge values (spec §4.3): each dec-octet alternative at its limits, and Port's.
EDGE_ADDRESSES = (b"255.255.255.255", b"250.249.200.199", b"0.9.10.99", b"100.1.0.254")
EDGE_PORTS = (b"65535", b"1", b"65536", b"10000")
IPV4_FIELD = re.compile(rb"IP: \d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\r\n")
PORT_FIELD = re.compile(rb"Port: \d+\r\n")


def edge_variants(examples):
    """The spec examples with an IPv4 address, given edge addresses and ports."""
    for name, context, data in examples:
        if not name.startswith("spec-") or not IPV4_FIELD.search(data):
            continue
        for i, (address, port) in enumerate(zip(EDGE_ADDRESSES, EDGE_PORTS)):
            edged = IPV4_FIELD.sub(b"IP: " + address + b"\r\n", data)
            edged = PORT_FIELD.sub(b"Port: " + port + b"\r\n", edged)
            yield f"{name}-edge{i}", context, edged
            yield f"{name}-edge{i}-tight", context, edged.replace(b"IP: ", b"IP:")


def write(directory, name, data, written):
    digest = hashlib.sha1(data).hexdigest()[:12]
    if digest in written.setdefault(directory, set()):
        return
    written[directory].add(digest)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}-{digest}").write_bytes(data)


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=pathlib.Path, default=here.parent)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()

    spec = args.source_dir / "spec" / "tcp-chat.md"
    cases = sorted((args.source_dir / "conformance" / "cases").glob("**/*.md"))
    examples = list(spec_examples(spec)) if spec.exists() else []
    for case in cases:
        examples.extend(case_examples(case))
    if not examples:
        print("make_corpus: no wire examples found (spec/tcp-chat.md, conformance/cases)",
              file=sys.stderr)
        return 1

    examples.extend(list(edge_variants(examples)))

    # Whole streams per context: what a decoder of that context reads, several messages in a row.
    joined = {c: b"".join(d for _, ctx, d in examples if ctx == c) for c in CONTEXTS}
    chat_open = next((d for _, ctx, d in examples if ctx == "chat_open"), b"")
    streams = [(f"stream-{c}", joined[c]) for c in CONTEXTS if joined[c]]
    if chat_open and joined["chat"]:
        streams.append(("stream-chat-session", chat_open + joined["chat"]))

    written = {}
    out = args.out
    for name, _, data in examples + [(n, None, d) for n, d in streams]:
        for target in ("decode", "roundtrip"):
            write(out / target, name + "-lenient", LENIENT + data, written)
            write(out / target, name + "-strict", STRICT + data, written)
            write(out / target, name + "-small", SMALL_LIMITS + data, written)
        write(out / "stream", name + "-whole", LENIENT + WHOLE + data, written)
        write(out / "stream", name + "-bytewise", LENIENT + BYTEWISE + data, written)
        write(out / "stream", name + "-mixed", STRICT + MIXED + data, written)
        write(out / "stream", name + "-small", SMALL_LIMITS + MIXED + data, written)
    for case in cases:
        write(out / "transcript", f"case-{case.stem}", case.read_bytes(), written)

    counts = ", ".join(f"{d.name} {len(s)}" for d, s in sorted(written.items()))
    print(f"make_corpus: {len(examples)} examples, {len(cases)} transcripts -> {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
