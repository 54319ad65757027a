#!/usr/bin/env python3
"""Sign a payload into a DSSE envelope with securesystemslib (not our code).

usage: dsse_sign.py KEY.pem PAYLOAD_FILE [--payload-type TYPE]

KEY.pem is an unencrypted PKCS#8 private key. Prints the envelope as JSON.
This is the independent signer verify must accept.
"""
import argparse
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("key")
    ap.add_argument("payload")
    ap.add_argument("--payload-type", default="application/vnd.in-toto+json")
    args = ap.parse_args()
    with open(args.key, "rb") as f:
        signer = CryptoSigner(load_pem_private_key(f.read(), None))
    with open(args.payload, "rb") as f:
        payload = f.read()
    envelope = Envelope(payload=payload, payload_type=args.payload_type, signatures={})
    envelope.sign(signer)
    print(json.dumps(envelope.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
