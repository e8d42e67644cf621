"""
Twisted's echo server for the echo benchmark: a Protocol on listenTCP, the
same program as torsion_server.ts, on Twisted's default (epoll) reactor.

Usage: /usr/bin/python3 twisted_server.py  (prints the port on stdout)
"""

import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


factory = protocol.Factory.forProtocol(Echo)
port = reactor.listenTCP(0, factory, backlog=1024, interface="127.0.0.1")
print(port.getHost().port)
sys.stdout.flush()
reactor.run()
