#!/usr/bin/env python3
"""A local Archivista (in-toto/archivista) upload API, for tests.

No Archivista server installs from the package registries here, so this
answers as Archivista's HTTP API does for what Chains uses:

  POST /upload, POST /v1/upload   body: a DSSE envelope (JSON). Archivista
        names it by its gitoid: sha256 over git's blob header
        "blob <length>\\0" and the bytes exactly as received, lowercase hex;
        answers 200 with {"gitoid": HEX} and a newline (Go's json.Encoder).
        A body its metadata store cannot parse as a DSSE envelope is a 500
        with the error as plain text (Go's http.Error); another method is a
        400 "<METHOD> is an unsupported method".
  GET /download/HEX, GET /v1/download/HEX   the stored bytes.

Usage: archivista_server.py PORT [--fail-first N]   (binds 127.0.0.1)
  --fail-first N   answer the first N uploads with 503 (to test retries)
Test-only: GET /_health, GET /_stats ({"uploads": n, "stored": [gitoid...]}).
"""

import argparse
import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def gitoid_sha256(data):
    h = hashlib.sha256()
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def envelope_problem(data):
    """Why the bytes are not a DSSE envelope (as go-witness decodes it), or None."""
    try:
        env = json.loads(data)
    except ValueError as e:
        return "failed to parse dsse envelope: %s" % e
    if not isinstance(env, dict):
        return "failed to parse dsse envelope: not an object"
    for field in ("payload", "payloadType", "signatures"):
        if field not in env:
            return "failed to parse dsse envelope: no %s" % field
    try:
        base64.b64decode(env["payload"], validate=True)
        for s in env["signatures"]:
            base64.b64decode(s["sig"], validate=True)
    except Exception as e:  # noqa: BLE001 - any decoding failure is the client's
        return "failed to parse dsse envelope: %s" % e
    if not env["signatures"]:
        return "envelope has no signatures"
    return None


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.objects = {}
        self.uploads = 0
        self.fail_first = args.fail_first


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_health":
            return self.send(200, b"ok")
        if self.path == "/_stats":
            with st.lock:
                body = {"uploads": st.uploads, "stored": sorted(st.objects)}
            return self.send(200, json.dumps(body).encode(), "application/json")
        for prefix in ("/download/", "/v1/download/"):
            if self.path.startswith(prefix):
                gid = self.path[len(prefix):]
                with st.lock:
                    data = st.objects.get(gid)
                if data is None:
                    return self.send(500, b"object not found\n")
                return self.send(200, data, "application/octet-stream")
        if self.path in ("/upload", "/v1/upload"):
            return self.send(400, b"GET is an unsupported method\n")
        self.send(404, b"404 page not found\n")

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        if self.path not in ("/upload", "/v1/upload"):
            return self.send(404, b"404 page not found\n")
        with st.lock:
            st.uploads += 1
            failing = st.uploads <= st.fail_first
        if failing:
            return self.send(503, b"upstream storage unavailable\n")
        problem = envelope_problem(data)
        if problem:
            return self.send(500, (problem + "\n").encode())
        gid = gitoid_sha256(data)
        with st.lock:
            st.objects[gid] = data
        self.send(200, (json.dumps({"gitoid": gid}) + "\n").encode(), "application/json")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--fail-first", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("archivista test server on 127.0.0.1:%d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
