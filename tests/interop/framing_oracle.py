"""
Runs Twisted's own framing receivers over chunked inputs, for torsion's
differential tests.

Reads one JSON object on stdin:
    {"kind": "line" | "netstring" | "int8" | "int16" | "int32",
     "cases": [{"max": int, "delimiter": hex (line only), "chunks": [hex, ...]}, ...]}
Each case is fed chunk by chunk, then one empty chunk, to a fresh receiver over
a StringTransport; feeding stops once the transport is disconnecting, as a real
transport stops reading then. Prints one JSON list: per case, the events
    "line <hex>", "exceeded", "string <hex>", "error", "limit <n>"
followed by "lost" if loseConnection was called.
"""

import json
import sys

from twisted.internet.testing import StringTransport
from twisted.protocols import basic


def receiver(kind, case, events):
    if kind == "line":

        class R(basic.LineReceiver):
            def lineReceived(self, line):
                events.append("line " + line.hex())

            def lineLengthExceeded(self, line):
                events.append("exceeded")
                return basic.LineReceiver.lineLengthExceeded(self, line)

        r = R()
        r.delimiter = bytes.fromhex(case["delimiter"])
    elif kind == "netstring":

        class R(basic.NetstringReceiver):
            def stringReceived(self, string):
                events.append("string " + string.hex())

            def _handleParseError(self):
                events.append("error")
                return basic.NetstringReceiver._handleParseError(self)

        r = R()
    else:
        base = {
            "int8": basic.Int8StringReceiver,
            "int16": basic.Int16StringReceiver,
            "int32": basic.Int32StringReceiver,
        }[kind]

        class R(base):
            def stringReceived(self, string):
                events.append("string " + string.hex())

            def lengthLimitExceeded(self, length):
                events.append("limit %d" % length)
                return base.lengthLimitExceeded(self, length)

        r = R()
    r.MAX_LENGTH = case["max"]
    return r


def run(kind, case):
    events = []
    r = receiver(kind, case, events)
    t = StringTransport()
    r.makeConnection(t)
    for chunk in [bytes.fromhex(c) for c in case["chunks"]] + [b""]:
        if t.disconnecting:
            break
        r.dataReceived(chunk)
    if t.disconnecting:
        events.append("lost")
    return events


def main():
    job = json.load(sys.stdin)
    print(json.dumps([run(job["kind"], case) for case in job["cases"]]))


if __name__ == "__main__":
    main()
