"""
A Twisted peer for torsion's framing interop tests.

    framing_peer.py server KIND            listen on 127.0.0.1, port 0; print the port;
                                           echo every message back with Twisted's framing
    framing_peer.py client KIND PORT       read {"messages": [hex, ...]} on stdin; connect;
                                           send them; close once all are echoed back

KIND is "line" (LineReceiver), "netstring" (NetstringReceiver) or "int32"
(Int32StringReceiver). When the connection ends, the peer prints one JSON line
{"received": [hex, ...], "raw": hex, "brokenPeer": bool} and exits; it gives up
with exit status 3 after TIMEOUT seconds.
"""

import json
import sys

from twisted.internet import protocol, reactor
from twisted.protocols import basic

TIMEOUT = 30


def make_protocol_class(kind, role, messages):
    base = {
        "line": basic.LineReceiver,
        "netstring": basic.NetstringReceiver,
        "int32": basic.Int32StringReceiver,
    }[kind]

    class Peer(base):
        MAX_LENGTH = 1 << 20 if kind == "line" else 99999

        def connectionMade(self):
            self.received = []
            self.raw = []
            if role == "client":
                for m in messages:
                    self.send(m)

        def send(self, message):
            if kind == "line":
                self.sendLine(message)
            else:
                self.sendString(message)

        def dataReceived(self, data):
            self.raw.append(data)
            return base.dataReceived(self, data)

        def message(self, message):
            self.received.append(message)
            if role == "server":
                self.send(message)
            elif len(self.received) == len(messages):
                self.transport.loseConnection()

        def lineReceived(self, line):
            self.message(line)

        def stringReceived(self, string):
            self.message(string)

        def connectionLost(self, reason):
            summary = {
                "received": [m.hex() for m in self.received],
                "raw": b"".join(self.raw).hex(),
                "brokenPeer": bool(getattr(self, "brokenPeer", False)),
            }
            print(json.dumps(summary), flush=True)
            if reactor.running:
                reactor.stop()

    return Peer


def give_up():
    print(json.dumps({"error": "timed out"}), flush=True)
    reactor.stop()
    sys.exit(3)


def main(argv):
    role, kind = argv[1], argv[2]
    messages = []
    if role == "client":
        messages = [bytes.fromhex(m) for m in json.load(sys.stdin)["messages"]]
    factory = protocol.Factory.forProtocol(make_protocol_class(kind, role, messages))
    if role == "server":
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        print(port.getHost().port, flush=True)
    else:

        class OneShot(protocol.ClientFactory):
            def buildProtocol(self, addr):
                return factory.buildProtocol(addr)

            def clientConnectionFailed(self, connector, reason):
                print(json.dumps({"error": str(reason.value)}), flush=True)
                reactor.stop()

        reactor.connectTCP("127.0.0.1", int(argv[3]), OneShot(), timeout=TIMEOUT)
    reactor.callLater(TIMEOUT, give_up)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
