#!/usr/bin/env python3
"""A local Grafeas v1 REST API as Container Analysis serves it, for tests.

No Grafeas server or Container Analysis emulator installs from the package
registries here, so this answers as the documented REST API does
(https://cloud.google.com/container-analysis/docs/reference/rest) for what
Tekton Chains creates: proto3 JSON bodies, parsed strictly with Google's
own Grafeas v1 types (PyPI `grafeas`: a misnamed or mistyped field is a
400 INVALID_ARGUMENT, as the service answers), Google's error shape
{"error": {"code", "message", "status"}}, bearer-token checks.

  POST /v1/projects/P/notes?noteId=N     create a note (409 ALREADY_EXISTS if
        it exists; 400 INVALID_ARGUMENT without noteId or a note kind)
  GET  /v1/projects/P/notes/N
  POST /v1/projects/P/occurrences        create an occurrence: resourceUri and
        noteName required, the note must exist (400), its kind must match the
        occurrence's details (400); answered with name, kind, createTime
  GET  /v1/projects/P/occurrences        list ({"occurrences": [...]})

Usage: grafeas_server.py PORT --static-token T [--deny-project P] [--fail-first N]
  --fail-first N   answer the first N occurrence creations with 503
Test-only: GET /_health, GET /_stats ({"notes": {...}, "occurrences": [...]}).
"""

import argparse
import base64
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# Google's Grafeas v1 types (PyPI `grafeas`): bodies are parsed strictly
# with them, as the service parses its JSON (an unknown field is a 400).
from google.protobuf.json_format import ParseError
from grafeas.grafeas_v1.types import Note, Occurrence

KINDS = {
    "attestation": "ATTESTATION",
    "build": "BUILD",
    "vulnerability": "VULNERABILITY",
    "image": "IMAGE",
    "package": "PACKAGE",
    "deployment": "DEPLOYMENT",
    "discovery": "DISCOVERY",
    "compliance": "COMPLIANCE",
    "dsseAttestation": "DSSE_ATTESTATION",
    "vulnerabilityAssessment": "VULNERABILITY_ASSESSMENT",
    "sbomReference": "SBOM_REFERENCE",
}


class ApiError(Exception):
    def __init__(self, code, status, message):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def kind_of(obj):
    found = [KINDS[k] for k in KINDS if k in obj]
    if len(found) != 1:
        raise ApiError(400, "INVALID_ARGUMENT", "exactly one kind of details is required")
    return found[0]


def parse_strictly(cls, body, what):
    """The body as Google's proto type (JSON names, types, no unknown field)."""
    try:
        cls.from_json(body.decode("utf-8") or "{}", ignore_unknown_fields=False)
    except (ParseError, ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received for %s: %s" % (what, e))


def check_bytes(value, field):
    try:
        base64.b64decode(value, validate=True)
    except Exception:  # noqa: BLE001
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid value at '%s' (TYPE_BYTES)" % field)


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.notes = {}
        self.occurrences = []
        self.creations = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_api(self, method):
        st = self.server.state
        url = urlparse(self.path)
        if method == "GET" and url.path == "/_health":
            return self.reply(200, {})
        if method == "GET" and url.path == "/_stats":
            with st.lock:
                return self.reply(200, {"notes": st.notes, "occurrences": st.occurrences})
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            if self.headers.get("Authorization") != "Bearer " + st.args.static_token:
                raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
            m = re.fullmatch(r"/v1/projects/([^/]+)/(notes|occurrences)(?:/([^/]+))?", url.path)
            if not m:
                raise ApiError(404, "NOT_FOUND", "unknown path %s" % url.path)
            project, collection, item = m.groups()
            if project in st.args.deny_project:
                raise ApiError(403, "PERMISSION_DENIED", "Permission denied on project %s" % project)
            query = parse_qs(url.query)
            with st.lock:
                if collection == "notes":
                    return self.reply(200, self.notes(st, method, project, item, query, body))
                return self.reply(200, self.occurrences(st, method, project, item, body))
        except ApiError as e:
            self.reply(e.code, {"error": {"code": e.code, "message": e.message, "status": e.status}})

    def notes(self, st, method, project, item, query, body):
        if method == "GET" and item:
            name = "projects/%s/notes/%s" % (project, item)
            if name not in st.notes:
                raise ApiError(404, "NOT_FOUND", "note %s not found" % name)
            return st.notes[name]
        if method != "POST" or item:
            raise ApiError(405, "INVALID_ARGUMENT", "unsupported")
        note_id = (query.get("noteId") or [""])[0]
        if not note_id:
            raise ApiError(400, "INVALID_ARGUMENT", "noteId is required")
        parse_strictly(Note, body, "note")
        note = json.loads(body or b"{}")
        kind = kind_of(note)
        name = "projects/%s/notes/%s" % (project, note_id)
        if name in st.notes:
            raise ApiError(409, "ALREADY_EXISTS", "Note %s already exists" % name)
        note.update({"name": name, "kind": kind, "createTime": now(), "updateTime": now()})
        st.notes[name] = note
        return note

    def occurrences(self, st, method, project, item, body):
        if method == "GET" and not item:
            return {"occurrences": [o for o in st.occurrences if o["name"].startswith("projects/%s/" % project)]}
        if method != "POST" or item:
            raise ApiError(405, "INVALID_ARGUMENT", "unsupported")
        st.creations += 1
        if st.creations <= st.args.fail_first:
            raise ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
        parse_strictly(Occurrence, body, "occurrence")
        occ = json.loads(body or b"{}")
        if not occ.get("resourceUri"):
            raise ApiError(400, "INVALID_ARGUMENT", "resourceUri is required")
        note = st.notes.get(occ.get("noteName", ""))
        if note is None:
            raise ApiError(400, "INVALID_ARGUMENT", "note %s does not exist" % occ.get("noteName"))
        kind = kind_of(occ)
        if kind != note["kind"]:
            raise ApiError(400, "INVALID_ARGUMENT", "occurrence kind %s does not match note kind %s" % (kind, note["kind"]))
        env = occ.get("envelope") or {}
        check_bytes(env.get("payload", ""), "occurrence.envelope.payload")
        for s in env.get("signatures", []):
            check_bytes(s.get("sig", ""), "occurrence.envelope.signatures.sig")
        if kind == "ATTESTATION":
            check_bytes(occ["attestation"].get("serializedPayload", ""), "occurrence.attestation.serialized_payload")
        occ.update({"name": "projects/%s/occurrences/%s" % (project, uuid.uuid4()), "kind": kind,
                    "createTime": now(), "updateTime": now()})
        st.occurrences.append(occ)
        return occ

    def do_GET(self):
        self.handle_api("GET")

    def do_POST(self):
        self.handle_api("POST")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--static-token", required=True)
    p.add_argument("--deny-project", action="append", default=[])
    p.add_argument("--fail-first", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("grafeas test server on 127.0.0.1:%d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
