"""
A Twisted AMP peer for torsion's AMP interop tests.

    amp_peer.py server            listen on 127.0.0.1, port 0; print the port; answer
                                  every command below; for each connection that ends,
                                  print {"raw": hex of all bytes received} as a line
    amp_peer.py client PORT       connect, call torsion's server with the scenario
                                  below, print one JSON line of results, exit

The commands mirror tests/interop/amp_interop_test.ts: Sum, Divide (ZERO_DIVISION
mapped), Echo (every argument type), Fail (an unmapped error), Fatal (a fatal
error), Notify (no answer). The peer gives up with exit status 3 after TIMEOUT
seconds.
"""

import datetime
import decimal
import json
import sys

from twisted.internet import defer, protocol, reactor
from twisted.protocols import amp

TIMEOUT = 60


class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


class FatalError(Exception):
    pass


class Fail(amp.Command):
    arguments = []
    response = []


class Fatal(amp.Command):
    arguments = []
    response = []
    fatalErrors = {FatalError: b"FATAL"}


class Notify(amp.Command):
    arguments = [(b"text", amp.Unicode())]
    response = []
    requiresAnswer = False


class Notified(amp.Command):
    arguments = []
    response = [(b"texts", amp.ListOf(amp.Unicode()))]


class Nope(amp.Command):
    arguments = []
    response = []


KID = amp.AmpList([(b"name", amp.Unicode()), (b"n", amp.Integer())])
PERSON = amp.AmpList(
    [
        (b"name", amp.Unicode()),
        (b"tags", amp.ListOf(amp.Unicode())),
        (b"kids", KID),
        (b"note", amp.Unicode(optional=True)),
    ]
)
ECHO_SCHEMA = [
    (b"ints", amp.ListOf(amp.Integer())),
    (b"big", amp.Integer()),
    (b"bigNegative", amp.Integer()),
    (b"half", amp.Float()),
    (b"floats", amp.ListOf(amp.Float())),
    (b"yes", amp.Boolean()),
    (b"no", amp.Boolean()),
    (b"text", amp.Unicode()),
    (b"texts", amp.ListOf(amp.Unicode())),
    (b"raw", amp.String()),
    (b"when", amp.DateTime()),
    (b"whens", amp.ListOf(amp.DateTime())),
    (b"dec", amp.Decimal()),
    (b"decs", amp.ListOf(amp.Decimal())),
    (b"people", PERSON),
    (b"opt", amp.Integer(optional=True)),
    (b"missing", amp.Unicode(optional=True)),
]


class Echo(amp.Command):
    arguments = ECHO_SCHEMA
    response = ECHO_SCHEMA


def tz(sign, hours, minutes):
    return amp._FixedOffsetTZInfo.fromSignHoursMinutes(sign, hours, minutes)


# The same values as ECHO_VALUES in amp_interop_test.ts.
ECHO_VALUES = {
    "ints": [0, -1, 1, 2**53 - 1, -(2**53 - 1), 1234567890123],
    "big": 2**100,
    "bigNegative": -(3**70),
    "half": 0.5,
    "floats": [
        float("nan"),
        float("inf"),
        float("-inf"),
        1e16,
        1e-05,
        -0.0,
        123456.789,
        5e-324,
        1.7976931348623157e308,
        1.0,
    ],
    "yes": True,
    "no": False,
    "text": "h\u00e9llo w\u00f6rld \u2603 \U0001f600 \u0000 \u00fcn\u00efc\u00f6d\u00e9",
    "texts": ["", "a", "\u00df", "\U0001f600", "\ufeffbom"],
    "raw": bytes(range(256)),
    "when": datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=tz("+", 5, 30)),
    "whens": [
        datetime.datetime(1, 1, 1, 0, 0, 0, 0, tzinfo=tz("-", 8, 0)),
        datetime.datetime(9999, 12, 31, 23, 59, 59, 0, tzinfo=amp.utc),
    ],
    "dec": decimal.Decimal("-1234.5670"),
    "decs": [
        decimal.Decimal("1E+2"),
        decimal.Decimal("NaN"),
        decimal.Decimal("-Infinity"),
        decimal.Decimal("0.000"),
    ],
    "people": [
        {
            "name": "\u00c5da",
            "tags": ["x", "\u00ff"],
            "kids": [{"name": "k\u00efd", "n": -5}, {"name": "", "n": 0}],
            "note": "\u2603",
        },
        {"name": "Bob", "tags": [], "kids": [], "note": None},
    ],
    "opt": 7,
}


def normal(value):
    """A comparable form: NaN-safe, Decimal by text, datetimes with offsets."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return "Decimal " + str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return "bytes " + value.hex()
    return value


class Peer(amp.AMP):
    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.raw = []
        self.notified = []

    def dataReceived(self, data):
        self.raw.append(data)
        return super().dataReceived(data)

    @Sum.responder
    def sum(self, a, b):
        return {"total": a + b}

    @Divide.responder
    def divide(self, numerator, denominator):
        return {"result": numerator / denominator}

    @Echo.responder
    def echo(self, **kw):
        return kw

    @Fail.responder
    def fail(self):
        raise RuntimeError("an error torsion cannot know")

    @Fatal.responder
    def fatal(self):
        raise FatalError("fatal, as declared")

    @Notify.responder
    def notify(self, text):
        self.notified.append(text)
        return {}

    @Notified.responder
    def notified_(self):
        return {"texts": self.notified}


class ServerPeer(Peer):
    def connectionLost(self, reason):
        super().connectionLost(reason)
        print(json.dumps({"raw": b"".join(self.raw).hex()}), flush=True)


def name_of(failure):
    return type(failure.value).__name__


@defer.inlineCallbacks
def scenario(proto, results):
    # Echo first, so that its question has tag 1 and its answer is the first box.
    echoed = yield proto.callRemote(Echo, **ECHO_VALUES)
    expected = dict(ECHO_VALUES, missing=None)
    results["echo"] = normal(echoed) == normal(expected)
    if not results["echo"]:
        results["echoGot"] = repr(normal(echoed))
    answer = Echo.makeResponse(expected, proto)
    answer[b"_answer"] = b"1"
    results["echoBytes"] = b"".join(proto.raw).startswith(answer.serialize())

    sums = yield defer.gatherResults(
        [proto.callRemote(Sum, a=i, b=-2 * i) for i in range(500)]
    )
    results["sums"] = [s["total"] for s in sums] == [-i for i in range(500)]

    divided = yield proto.callRemote(Divide, numerator=1, denominator=4)
    results["divide"] = divided["result"]
    for command, key in [(Divide, "zero"), (Nope, "nope")]:
        try:
            if command is Divide:
                yield proto.callRemote(Divide, numerator=1, denominator=0)
            else:
                yield proto.callRemote(Nope)
            results[key] = "no error"
        except Exception as e:
            results[key] = [type(e).__name__, str(e)]

    proto.callRemote(Notify, text="n\u00f6 answer")
    notified = yield proto.callRemote(Notified)
    results["notified"] = notified["texts"]

    # Last: an unmapped error; torsion answers UNKNOWN and closes.
    proto.closed = defer.Deferred()
    try:
        yield proto.callRemote(Fail)
        results["fail"] = "no error"
    except Exception as e:
        results["fail"] = [type(e).__name__, getattr(e, "errorCode", b"").decode(), e.description]
    yield proto.closed
    results["closed"] = True


class ClientPeer(Peer):
    closed = None

    def connectionLost(self, reason):
        super().connectionLost(reason)
        if self.closed is not None:
            self.closed.callback(None)


def main(argv):
    role = argv[1]
    if "--log" in argv:
        from twisted.python import log

        log.startLogging(sys.stderr, setStdout=False)
    if role == "server":
        factory = protocol.Factory.forProtocol(ServerPeer)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        print(port.getHost().port, flush=True)
    else:
        results = {}

        def done(_):
            print(json.dumps(results), flush=True)
            reactor.stop()

        def failed(failure):
            results["error"] = failure.getTraceback()
            done(None)

        d = protocol.ClientCreator(reactor, ClientPeer).connectTCP(
            "127.0.0.1", int(argv[2]), timeout=TIMEOUT
        )
        d.addCallback(lambda proto: scenario(proto, results))
        d.addCallbacks(done, failed)

    def give_up():
        print(json.dumps({"error": "timed out"}), flush=True)
        reactor.stop()
        sys.exit(3)

    reactor.callLater(TIMEOUT, give_up)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
