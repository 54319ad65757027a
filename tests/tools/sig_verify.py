#!/usr/bin/env python3
"""Verify a raw signature (cosign simple signing) with the `cryptography` package.

usage: sig_verify.py PAYLOAD_FILE SIGNATURE_B64_FILE PUBKEY.pem
Exit 0 when verified, 1 when not.
"""
import base64
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def main():
    payload = open(sys.argv[1], "rb").read()
    sig = base64.b64decode(open(sys.argv[2]).read().strip())
    pub = load_pem_public_key(open(sys.argv[3], "rb").read())
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            h = hashes.SHA384() if pub.curve.name == "secp384r1" else hashes.SHA256()
            pub.verify(sig, payload, ec.ECDSA(h))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, payload)
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(sig, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            print("FAILED: unsupported key")
            return 1
    except InvalidSignature:
        print("FAILED: signature does not verify")
        return 1
    print("VERIFIED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
