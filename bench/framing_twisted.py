"""
Twisted's own framing receivers on the workloads of bench/framing_bench.ts, for
comparison: 1 MiB of 64-byte lines (LineReceiver, LineOnlyReceiver) and 16384
Int32-prefixed or netstring-framed 60-byte strings, fed in the same chunk sizes.

Run with /usr/bin/python3 bench/framing_twisted.py (the interpreter that has
Twisted). Prints, per workload, the mean time per 1 MiB and the throughput;
with --json, the same as a JSON list (what bench/report.ts reads).
"""

import json
import sys
import time

from twisted.protocols import basic

MiB = 1024 * 1024
LINE = 64
LINES = MiB // LINE

count = 0
results = []


class Lines(basic.LineReceiver):
    def lineReceived(self, line):
        global count
        count += 1


class DecodedLines(basic.LineReceiver):
    # torsion hands lineReceived a decoded string: the same work, in Python.
    def lineReceived(self, line):
        global count
        line.decode("utf-8", "replace")
        count += 1


class OnlyLines(basic.LineOnlyReceiver):
    def lineReceived(self, line):
        global count
        count += 1


class Strings(basic.Int32StringReceiver):
    def stringReceived(self, string):
        global count
        count += 1


class Netstrings(basic.NetstringReceiver):
    def stringReceived(self, string):
        global count
        count += 1


class NullTransport:
    disconnecting = False

    def write(self, data):
        pass

    def loseConnection(self):
        self.disconnecting = True


def chunks(stream, size):
    return [stream[i : i + size] for i in range(0, len(stream), size)]


lines = (b"x" * (LINE - 2) + b"\r\n") * LINES
frames = (b"\x00\x00\x00\x3c" + b"y" * (LINE - 4)) * LINES
netstrings = (b"60:" + b"z" * 60 + b",") * LINES


def measure(name, cls, inputs, min_seconds):
    global count
    times = []
    started = time.perf_counter()
    while not times or time.perf_counter() - started < min_seconds:
        p = cls()
        p.makeConnection(NullTransport())
        count = 0
        t0 = time.perf_counter()
        for chunk in inputs:
            p.dataReceived(chunk)
        times.append(time.perf_counter() - t0)
        if count != LINES:
            sys.exit("%s parsed %d messages, expected %d" % (name, count, LINES))
    mean = sum(times) / len(times)
    results.append({"name": name, "ms_per_mib": mean * 1e3, "mb_per_s": MiB / mean / 1e6,
                    "msg_per_s": LINES / mean, "runs": len(times)})
    if "--json" in sys.argv:
        return
    print(
        "%-62s %10.3f ms/MiB %9.1f MB/s %12.0f msg/s  (%d runs)"
        % (name, mean * 1e3, MiB / mean / 1e6, LINES / mean, len(times))
    )


def main():
    quick = "--quick" in sys.argv
    budget = 0.5 if quick else 3.0
    if "--json" not in sys.argv:
        print("Twisted", __import__("twisted").__version__, "on Python", sys.version.split()[0])
    measure("LineReceiver: 1 MiB of 64-byte lines, one 1 MiB chunk", Lines, [lines], budget)
    measure("LineReceiver: 1 MiB of 64-byte lines, 64 KiB chunks", Lines, chunks(lines, 65536), budget)
    measure("LineReceiver: 1 MiB of 64-byte lines, 1500-byte chunks", Lines, chunks(lines, 1500), budget)
    measure(
        "LineReceiver + UTF-8 decode: 64-byte lines, 64 KiB chunks",
        DecodedLines,
        chunks(lines, 65536),
        budget,
    )
    measure("LineOnlyReceiver: 1 MiB of 64-byte lines, 64 KiB chunks", OnlyLines, chunks(lines, 65536), budget)
    measure("Int32StringReceiver: 16384 messages of 60 bytes, one 1 MiB chunk", Strings, [frames], budget)
    measure("Int32StringReceiver: 16384 messages of 60 bytes, 64 KiB chunks", Strings, chunks(frames, 65536), budget)
    measure(
        "NetstringReceiver: 16384 netstrings of 60 bytes, 64 KiB chunks",
        Netstrings,
        chunks(netstrings, 65536),
        budget,
    )
    if "--json" in sys.argv:
        print(json.dumps({"twisted": __import__("twisted").__version__,
                          "python": sys.version.split()[0], "results": results}, indent=2))


if __name__ == "__main__":
    main()
