#!/usr/bin/env python3
"""A real TUF repository for chains' tests, made with python-tuf's Metadata
API (PyPI `tuf`) and served on 127.0.0.1.

    tuf_repo.py init DIR TARGET_FILE   keys, root v1, targets/snapshot/timestamp v1,
                                       TARGET_FILE published as trusted_root.json
    tuf_repo.py publish DIR            new targets, snapshot and timestamp versions
    tuf_repo.py rotate-root DIR        root N+1 with a new root key, signed by the
                                       old and the new key (then publish)
    tuf_repo.py rotate-root-unsigned DIR
                                       root N+1 signed by its new key only (a client
                                       must refuse it); N is not advanced
    tuf_repo.py tamper-snapshot DIR    the served snapshot no longer has the length
                                       and hash the timestamp gives
    tuf_repo.py remove-root DIR        remove what rotate-root-unsigned wrote
    tuf_repo.py expire DIR             a new timestamp that expired yesterday
    tuf_repo.py bad-signature DIR      a new timestamp whose signed part was changed
                                       after signing
    tuf_repo.py tamper-target DIR      the served trusted_root.json no longer has the
                                       hash the targets metadata gives
    tuf_repo.py rollback DIR           the first timestamp served again
    tuf_repo.py serve DIR [PORT]       serve DIR/repo over HTTP on 127.0.0.1:PORT
                                       (default: any free port, printed)

The repository uses consistent snapshots, as Sigstore's does: metadata at
VERSION.ROLE.json (timestamp.json unversioned), targets at
targets/SHA256.NAME. Root keys are ECDSA P-256, the timestamp key Ed25519.
"""

import datetime
import functools
import hashlib
import http.server
import json
import os
import shutil
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

TARGET = "trusted_root.json"


def in_days(days):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now + datetime.timedelta(days=days)


def signer(base, name, kind="ecdsa"):
    """The signer of key NAME, made on first use and kept as PEM."""
    path = os.path.join(base, "keys", name + ".pem")
    if os.path.exists(path):
        with open(path, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), None)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "ed25519":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            private = ec.generate_private_key(ec.SECP256R1())
        with open(path, "wb") as f:
            f.write(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    return CryptoSigner(private)


def load_state(base):
    with open(os.path.join(base, "state.json")) as f:
        return json.load(f)


def save_state(base, state):
    with open(os.path.join(base, "state.json"), "w") as f:
        json.dump(state, f)


def write(base, name, md):
    md.to_file(os.path.join(base, "repo", name), JSONSerializer(compact=False))


def meta_file(base, name, version):
    with open(os.path.join(base, "repo", name), "rb") as f:
        data = f.read()
    return MetaFile(
        version=version,
        length=len(data),
        hashes={"sha256": hashlib.sha256(data).hexdigest()},
    )


def write_root(base, state, signers):
    root = Root(expires=in_days(365), consistent_snapshot=True)
    root.version = state["root"]
    for role, (name, kind) in {
        "root": (state["root_key"], "ecdsa"),
        "targets": ("targets", "ecdsa"),
        "snapshot": ("snapshot", "ecdsa"),
        "timestamp": ("timestamp", "ed25519"),
    }.items():
        root.add_key(signer(base, name, kind).public_key, role)
    md = Metadata(root)
    for s in signers:
        md.sign(s, append=True)
    write(base, f"{root.version}.root.json", md)


def publish(base, state, timestamp_days=1, tamper=False):
    """Targets, snapshot and timestamp, each one version up."""
    state["version"] += 1
    version = state["version"]
    with open(os.path.join(base, TARGET), "rb") as f:
        data = f.read()
    target = TargetFile.from_data(TARGET, data, ["sha256", "sha512"])
    served = os.path.join(base, "repo", "targets", f"{target.hashes['sha256']}.{TARGET}")
    os.makedirs(os.path.dirname(served), exist_ok=True)
    with open(served, "wb") as f:
        f.write(data)

    targets = Targets(version=version, expires=in_days(30))
    targets.targets[TARGET] = target
    md = Metadata(targets)
    md.sign(signer(base, "targets"))
    write(base, f"{version}.targets.json", md)

    snapshot = Snapshot(version=version, expires=in_days(7))
    snapshot.meta["targets.json"] = meta_file(base, f"{version}.targets.json", version)
    md = Metadata(snapshot)
    md.sign(signer(base, "snapshot"))
    write(base, f"{version}.snapshot.json", md)

    timestamp = Timestamp(version=version, expires=in_days(timestamp_days))
    timestamp.snapshot_meta = meta_file(base, f"{version}.snapshot.json", version)
    md = Metadata(timestamp)
    md.sign(signer(base, "timestamp", "ed25519"))
    if tamper:
        # Changed after signing: the signature no longer holds.
        md.signed.version += 1000
    write(base, "timestamp.json", md)
    save_state(base, state)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    command, base = argv[1], argv[2]
    if command == "init":
        os.makedirs(os.path.join(base, "repo"), exist_ok=True)
        shutil.copyfile(argv[3], os.path.join(base, TARGET))
        state = {"root": 1, "root_key": "root1", "version": 0}
        write_root(base, state, [signer(base, "root1")])
        publish(base, state)
        shutil.copyfile(
            os.path.join(base, "repo", "timestamp.json"),
            os.path.join(base, "first-timestamp.json"),
        )
        return
    state = load_state(base)
    if command == "publish":
        publish(base, state)
    elif command == "rotate-root":
        old = signer(base, state["root_key"])
        state["root"] += 1
        state["root_key"] = f"root{state['root']}"
        write_root(base, state, [old, signer(base, state["root_key"])])
        publish(base, state)
    elif command == "rotate-root-unsigned":
        draft = dict(state, root=state["root"] + 1, root_key="rogue")
        write_root(base, draft, [signer(base, "rogue")])
    elif command == "remove-root":
        os.remove(os.path.join(base, "repo", f"{state['root'] + 1}.root.json"))
    elif command == "tamper-snapshot":
        path = os.path.join(base, "repo", f"{state['version']}.snapshot.json")
        with open(path, "ab") as f:
            f.write(b" ")
    elif command == "expire":
        publish(base, state, timestamp_days=-1)
    elif command == "bad-signature":
        publish(base, state, tamper=True)
    elif command == "tamper-target":
        with open(os.path.join(base, TARGET), "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(base, "repo", "targets", f"{digest}.{TARGET}"), "ab") as f:
            f.write(b" ")
    elif command == "rollback":
        shutil.copyfile(
            os.path.join(base, "first-timestamp.json"),
            os.path.join(base, "repo", "timestamp.json"),
        )
    elif command == "serve":
        handler = functools.partial(
            http.server.SimpleHTTPRequestHandler, directory=os.path.join(base, "repo")
        )
        handler.log_message = lambda *args: None
        port = int(argv[3]) if len(argv) > 3 else 0
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
