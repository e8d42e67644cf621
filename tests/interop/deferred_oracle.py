"""
Runs programs of Deferred operations with Twisted's own Deferred, for
torsion's differential test of its callback chain.

Reads one JSON list of programs on stdin. A program is
    {"n": number of Deferreds, "ops": [op, ...]}
and an op is one of
    ["cb" | "eb" | "both", d, id, kind, other]  add a callback, errback or both
    ["fire", d, n]                               d.callback("v<n>")
    ["fail", d, n]                               d.errback(ValueError("x<n>"))
    ["cancel", d]                                d.cancel()
An added function records [id, what it got] and then, by kind: "ret" returns
"<what it got>|c<id>", "raise" raises ValueError("e<id>"), "retd" returns
Deferred number `other`, "recover" returns "r<id>", "pass" returns what it got.

Prints one JSON list: per program, {"trace": [...], "final": [...]}, where the
trace also records a call that raised, and "final" holds, per Deferred,
[called, paused, result].
"""

import json
import sys

from twisted.internet.defer import AlreadyCalledError, Deferred
from twisted.python.failure import Failure


def describe(x, ds):
    if isinstance(x, Failure):
        name = type(x.value).__name__
        return "F:" + name + (":" + str(x.value) if name == "ValueError" else "")
    if isinstance(x, Deferred):
        return "D%d" % ds.index(x) if x in ds else "D?"
    if x is None:
        return "None"
    return str(x)


def adder(op, ds, trace):
    _, _, ident, kind, other = op

    def f(x):
        trace.append([ident, describe(x, ds)])
        if kind == "ret":
            return "%s|c%d" % (describe(x, ds), ident)
        if kind == "raise":
            raise ValueError("e%d" % ident)
        if kind == "retd":
            return ds[other]
        if kind == "recover":
            return "r%d" % ident
        return x

    return f


def run(program):
    ds = [Deferred() for _ in range(program["n"])]
    trace = []
    for op in program["ops"]:
        what, d = op[0], ds[op[1]]
        try:
            if what == "cb":
                d.addCallback(adder(op, ds, trace))
            elif what == "eb":
                d.addErrback(adder(op, ds, trace))
            elif what == "both":
                d.addBoth(adder(op, ds, trace))
            elif what == "fire":
                d.callback("v%d" % op[2])
            elif what == "fail":
                d.errback(Failure(ValueError("x%d" % op[2])))
            elif what == "cancel":
                d.cancel()
        except AlreadyCalledError:
            trace.append(["AlreadyCalled", what, op[1]])
        except RecursionError:
            # Cancelling a cycle of Deferreds waiting on each other.
            trace.append(["raised", what, op[1], "StackOverflow"])
    final = []
    for d in ds:
        result = getattr(d, "result", None)
        final.append([bool(d.called), d.paused, describe(result, ds)])
        if isinstance(result, Failure):
            d.addErrback(lambda _: None)  # keep the log quiet
    return {"trace": trace, "final": final}


print(json.dumps([run(program) for program in json.load(sys.stdin)]))
