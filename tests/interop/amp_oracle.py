"""
Twisted's AMP box parser as an oracle for torsion's differential fuzz test.

Reads a JSON list of cases on stdin, each a list of hex chunks; feeds each case's
chunks to a fresh twisted.protocols.amp.BinaryBoxProtocol and prints one JSON
list of event lists: "box K=V,..." (hex keys and values, pairs sorted; keys as
torsion keeps them: decoded as UTF-8, or one character per byte if not UTF-8,
then encoded as UTF-8)
per box received, and "lost" when the parser closed the connection.
"""

import json
import sys

from twisted.protocols import amp


def text(key):
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return key.decode("latin-1")


class Receiver:
    def __init__(self, events):
        self.events = events

    def startReceivingBoxes(self, sender):
        pass

    def ampBoxReceived(self, box):
        pairs = sorted(
            "%s=%s" % (text(k).encode("utf-8").hex(), v.hex())
            for k, v in box.items()
        )
        self.events.append("box " + ",".join(pairs))


class Transport:
    def __init__(self, events):
        self.events = events
        self.disconnecting = False

    def loseConnection(self):
        if not self.disconnecting:
            self.events.append("lost")
        self.disconnecting = True


def run(chunks):
    events = []
    parser = amp.BinaryBoxProtocol(Receiver(events))
    transport = Transport(events)
    parser.makeConnection(transport)
    for chunk in chunks:
        if transport.disconnecting:
            break
        parser.dataReceived(bytes.fromhex(chunk))
    return events


print(json.dumps([run(case) for case in json.load(sys.stdin)]))
