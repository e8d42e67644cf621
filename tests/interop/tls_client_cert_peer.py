"""A Twisted TLS server that requires a client certificate signed by the
test root CA, and answers each client with the common name of the
certificate it presented. Prints its port, then serves until killed.

Usage: python3 tls_client_cert_peer.py CERT_DIR
"""
import sys

from twisted.internet import protocol, reactor, ssl

directory = sys.argv[1]


def read(name):
    with open(f"{directory}/{name}") as f:
        return f.read()


server = ssl.PrivateCertificate.loadPEM(read("leaf.pem") + read("leaf.key"))
options = ssl.CertificateOptions(
    privateKey=server.privateKey.original,
    certificate=server.original,
    extraCertChain=[ssl.Certificate.loadPEM(read("int.pem")).original],
    verify=True,
    caCerts=[ssl.Certificate.loadPEM(read("ca.pem")).original],
    requireCertificate=True,
)


class Greet(protocol.Protocol):
    def dataReceived(self, data):
        name = self.transport.getPeerCertificate().get_subject().CN
        self.transport.write(f"hello {name}\n".encode())
        self.transport.loseConnection()


port = reactor.listenSSL(0, protocol.Factory.forProtocol(Greet), options, interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
