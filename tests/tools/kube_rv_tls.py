#!/usr/bin/env python3
"""kube_rv_server.py served over TLS, under a certificate made the way
kube-apiserver makes its own when given only --cert-dir: a CA and a serving
certificate for 127.0.0.1 signed by it, written as CERT_DIR/apiserver.crt
(the serving certificate, then the CA) and CERT_DIR/apiserver.key. The watch
tests read the CA out of that file into a kubeconfig exactly as they do for
a real kube-apiserver (tests/common/kube/real.rs).

usage: kube_rv_tls.py PORT CERT_DIR
Needs python's cryptography (CI installs it).
"""
import datetime
import ipaddress
import os
import ssl
import sys
from http.server import ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_rv_server  # noqa: E402


def write_certs(cert_dir):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1-ca@0")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1@0")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("kubernetes.default.svc")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt = os.path.join(cert_dir, "apiserver.crt")
    keyfile = os.path.join(cert_dir, "apiserver.key")
    with open(keyfile, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    # Written last, whole: the test waits for this file.
    tmp = crt + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    os.rename(tmp, crt)
    return crt, keyfile


if __name__ == "__main__":
    port, cert_dir = int(sys.argv[1]), sys.argv[2]
    crt, keyfile = write_certs(cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, keyfile)
    server = ThreadingHTTPServer(("127.0.0.1", port), kube_rv_server.Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
