"""
Twisted's AMP on the workload of bench/amp_bench.ts: a client and a server in
one process over loopback TCP, N pipelined Sum calls with WINDOW in flight.

    /usr/bin/python3 bench/amp_twisted.py [N] [WINDOW] [ROUNDS]

Prints one line: the best calls per second over ROUNDS timed rounds (after a
warm-up round of N // 10 calls).
"""

import sys
import time

from twisted.internet import defer, protocol, reactor
from twisted.protocols import amp

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
WINDOW = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3


class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class SumServer(amp.AMP):
    @Sum.responder
    def sum(self, a, b):
        return {"total": a + b}


def run(client, n):
    done = defer.Deferred()
    state = {"sent": 0, "answered": 0}

    def answered(result):
        state["answered"] += 1
        if state["sent"] < n:
            send()
        elif state["answered"] == n:
            done.callback(None)

    def send():
        i = state["sent"]
        state["sent"] += 1
        client.callRemote(Sum, a=i, b=1).addCallback(answered)

    for _ in range(min(WINDOW, n)):
        send()
    return done


@defer.inlineCallbacks
def main():
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(SumServer), interface="127.0.0.1")
    client = yield protocol.ClientCreator(reactor, amp.AMP).connectTCP(
        "127.0.0.1", port.getHost().port
    )
    yield run(client, N // 10)
    best = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        yield run(client, N)
        best = max(best, N / (time.perf_counter() - start))
    print(round(best), flush=True)
    client.transport.loseConnection()
    yield port.stopListening()
    reactor.stop()


reactor.callWhenRunning(main)
reactor.run()
