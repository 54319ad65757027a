#!/usr/bin/env python3
"""Verify a DSSE envelope (or a Sigstore bundle's dsseEnvelope) with securesystemslib.

usage: dsse_verify.py FILE PUBKEY.pem [--rsa-scheme SCHEME]

This is the independent check for chains' signatures: securesystemslib (not
our code) computes the PAE and verifies. The envelope's keyid is used as is.
Exit 0 when verified, 1 when not, 2 on usage errors.
"""
import argparse
import copy
import json
import sys

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("key")
    ap.add_argument("--rsa-scheme", default="rsa-pkcs1v15-sha256")
    args = ap.parse_args()
    with open(args.file) as f:
        doc = json.loads(f.readline())
    if "dsseEnvelope" in doc:
        env = doc["dsseEnvelope"]
    else:
        env = doc
    with open(args.key, "rb") as f:
        pub = load_pem_public_key(f.read())
    scheme = args.rsa_scheme if isinstance(pub, rsa.RSAPublicKey) else None
    keys = []
    for sig in env.get("signatures", []):
        base = SSlibKey.from_crypto(pub, scheme=scheme)
        # from_crypto computes its own keyid; use the one in the envelope.
        keys.append(SSlibKey(sig.get("keyid", ""), base.keytype, base.scheme, base.keyval))
    envelope = Envelope.from_dict(copy.deepcopy(env))
    try:
        envelope.verify(keys, 1)
    except VerificationError as e:
        print(f"FAILED: {e}")
        return 1
    statement = json.loads(envelope.payload)
    print(f"VERIFIED payloadType={envelope.payload_type} predicateType={statement.get('predicateType')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
