#!/usr/bin/env python3
"""A local MongoDB server for tests: no real one installs here (the test-server
packages download mongod at run time), so this answers MongoDB's documented
wire protocol for what a client storing documents uses, holding documents in
memory. BSON is pymongo's `bson` (code we did not write).

Usage: mongo_server.py PORT [--fail-updates CODE:NAME]

Wire protocol (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/):
  OP_QUERY (2004) on `admin.$cmd` for the legacy handshake, answered with OP_REPLY (1);
  OP_MSG (2013) with a body section (kind 0) and document sequences (kind 1),
  checksum flag honoured; answered with OP_MSG.
Commands: hello / isMaster / ismaster (a standalone, wire versions 0..17 =
MongoDB 6.0, no sessions), ping, buildInfo, endSessions, update (replacements
and upserts, filter by `_id` or empty), find (filter by `_id` or empty,
`firstBatch` only), listDatabases, drop. Others: CommandNotFound (59).
`--fail-updates 91:ShutdownInProgress` answers every update with that error.
A plain HTTP request gets mongod's own answer ("It looks like you are trying
to access MongoDB over HTTP on the native driver port."), which is also the
readiness check. Test-only: none; everything goes over the wire protocol.
"""

import argparse
import socketserver
import struct
import sys
import threading
from datetime import datetime, timezone

import bson
from bson.codec_options import CodecOptions
from bson.son import SON

OP_REPLY = 1
OP_QUERY = 2004
OP_MSG = 2013
CODEC = CodecOptions(document_class=SON)

STORE = {}  # (db, coll) -> {repr(_id): document}
LOCK = threading.Lock()
ARGS = None
NEXT_ID = [1]


def new_request_id():
    with LOCK:
        NEXT_ID[0] += 1
        return NEXT_ID[0]


def hello_reply():
    return SON(
        [
            ("helloOk", True),
            ("isWritablePrimary", True),
            ("ismaster", True),
            ("maxBsonObjectSize", 16 * 1024 * 1024),
            ("maxMessageSizeBytes", 48000000),
            ("maxWriteBatchSize", 100000),
            ("localTime", datetime.now(timezone.utc)),
            ("connectionId", 1),
            ("minWireVersion", 0),
            ("maxWireVersion", 17),
            ("readOnly", False),
            ("ok", 1.0),
        ]
    )


def error(code, name, message):
    return SON([("ok", 0.0), ("errmsg", message), ("code", code), ("codeName", name)])


def matches(doc, query):
    return all(doc.get(k) == v for k, v in query.items())


def command(cmd, sequences):
    name = next(iter(cmd.keys()))
    db = cmd.get("$db", "admin")
    lname = name.lower()
    if lname in ("hello", "ismaster"):
        return hello_reply()
    if lname in ("ping", "endsessions"):
        return SON([("ok", 1.0)])
    if lname == "buildinfo":
        return SON([("version", "6.0.0"), ("versionArray", [6, 0, 0, 0]), ("ok", 1.0)])
    if lname == "update":
        if ARGS.fail_updates:
            code, cname = ARGS.fail_updates.split(":", 1)
            return error(int(code), cname, f"update refused by the test server ({cname})")
        coll = cmd[name]
        updates = list(cmd.get("updates", [])) + sequences.get("updates", [])
        n, modified, upserted = 0, 0, []
        with LOCK:
            docs = STORE.setdefault((db, coll), {})
            for i, u in enumerate(updates):
                q, repl = u["q"], u["u"]
                if not isinstance(repl, dict) or any(k.startswith("$") for k in repl):
                    return error(9, "FailedToParse", "only replacement documents are supported here")
                found = [k for k, d in docs.items() if matches(d, q)]
                if found:
                    new = SON([("_id", docs[found[0]]["_id"])])
                    new.update((k, v) for k, v in repl.items() if k != "_id")
                    docs[found[0]] = new
                    n += 1
                    modified += 1
                elif u.get("upsert"):
                    _id = repl.get("_id", q.get("_id"))
                    if _id is None:
                        return error(2, "BadValue", "an upsert here needs an _id")
                    new = SON([("_id", _id)])
                    new.update((k, v) for k, v in repl.items() if k != "_id")
                    docs[repr(_id)] = new
                    n += 1
                    upserted.append(SON([("index", i), ("_id", _id)]))
        reply = SON([("n", n), ("nModified", modified)])
        if upserted:
            reply["upserted"] = upserted
        reply["ok"] = 1.0
        return reply
    if lname == "find":
        coll = cmd[name]
        flt = cmd.get("filter", {})
        with LOCK:
            docs = [d for d in STORE.get((db, coll), {}).values() if matches(d, flt)]
        return SON(
            [
                ("cursor", SON([("firstBatch", docs), ("id", bson.int64.Int64(0)), ("ns", f"{db}.{coll}")])),
                ("ok", 1.0),
            ]
        )
    if lname == "listdatabases":
        with LOCK:
            names = sorted({d for d, _ in STORE})
        return SON([("databases", [SON([("name", d), ("sizeOnDisk", 0), ("empty", False)]) for d in names]), ("ok", 1.0)])
    if lname == "drop":
        with LOCK:
            STORE.pop((db, cmd[name]), None)
        return SON([("ok", 1.0)])
    return error(59, "CommandNotFound", f"no such command: '{name}'")


def parse_msg(body):
    (flags,) = struct.unpack_from("<I", body, 0)
    end = len(body) - (4 if flags & 1 else 0)
    pos = 4
    cmd, sequences = None, {}
    while pos < end:
        kind = body[pos]
        pos += 1
        if kind == 0:
            (size,) = struct.unpack_from("<i", body, pos)
            cmd = bson.decode(body[pos : pos + size], CODEC)
            pos += size
        elif kind == 1:
            (size,) = struct.unpack_from("<i", body, pos)
            section = body[pos + 4 : pos + size]
            nul = section.index(b"\0")
            ident = section[:nul].decode()
            docs = bson.decode_all(section[nul + 1 :], CODEC)
            sequences.setdefault(ident, []).extend(docs)
            pos += size
        else:
            raise ValueError(f"unknown OP_MSG section kind {kind}")
    return cmd, sequences


class Handler(socketserver.BaseRequestHandler):
    def read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def handle(self):
        try:
            first = self.read(4)
            if first in (b"GET ", b"HEAD", b"POST"):
                text = b"It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n"
                self.request.sendall(
                    b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: "
                    + str(len(text)).encode()
                    + b"\r\n\r\n"
                    + text
                )
                return
            while True:
                (length,) = struct.unpack("<i", first)
                rest = self.read(length - 4)
                request_id, _, opcode = struct.unpack_from("<iii", rest, 0)
                body = rest[12:]
                if opcode == OP_MSG:
                    cmd, seqs = parse_msg(body)
                    reply = bson.encode(command(cmd, seqs))
                    payload = struct.pack("<I", 0) + b"\0" + reply
                    out_op = OP_MSG
                elif opcode == OP_QUERY:
                    pos = 4
                    nul = body.index(b"\0", pos)
                    pos = nul + 1 + 8
                    (size,) = struct.unpack_from("<i", body, pos)
                    query = bson.decode(body[pos : pos + size], CODEC)
                    if "$query" in query:
                        query = query["$query"]
                    reply = bson.encode(command(query, {}))
                    payload = struct.pack("<iqii", 0, 0, 0, 1) + reply
                    out_op = OP_REPLY
                else:
                    return
                header = struct.pack("<iiii", 16 + len(payload), new_request_id(), request_id, out_op)
                self.request.sendall(header + payload)
                first = self.read(4)
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--fail-updates", default="")
    ARGS = p.parse_args()
    with Server(("127.0.0.1", ARGS.port), Handler) as s:
        print(f"listening on 127.0.0.1:{ARGS.port}", flush=True)
        s.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
