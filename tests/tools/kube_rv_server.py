#!/usr/bin/env python3
"""A small Kubernetes API test server with what kmock lacks: resourceVersions,
uids, conditional merge patches (409 on a stale metadata.resourceVersion),
watches resumed from a resourceVersion, and 410 Gone after compaction.
Like the real API server it serves metadata only (PartialObjectMetadata,
meta.k8s.io/v1) to a client whose Accept asks for
`application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` on a
list or `...;as=PartialObjectMetadata;...` on a get or watch, taking the
first acceptable media type of the Accept list (406 when none is), and it
filters lists by an equality `labelSelector`. With KUBE_RV_SERVER_FULL_LISTS=1
in its environment it ignores `as=` as an emulator would (full objects, kind List).

usage: kube_rv_server.py PORT [PRELOAD.jsonl]
PRELOAD holds one {"collection": "/apis/.../namespaces/ns/plural", "object": {...}}
per line, created before the server listens (the watch benchmark's backlog).

Test hooks (not Kubernetes API):
  POST /_test/hold     stop delivering events to open watches (they queue up)
  POST /_test/compact  forget history up to now and end every watch: a client
                       resuming from an older resourceVersion gets 410 Gone
  GET  /_test/requests the request lines seen so far, as a JSON list
  GET  /_test/traffic  each request so far: {"line", "agent", "accept", "token", "sent",
                       "received", "answered"} (bytes of the answer and of the
                       request body; a watch counts every event it delivered)
  POST /_test/partition {"token": T}  cut off clients with bearer token T: their
                       requests hang, are never applied, and their connections
                       close without an answer on heal; their watches deliver
                       nothing and end on heal
  POST /_test/heal     end every partition
"""
import bisect
import copy
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

lock = threading.Condition()
objects = {}  # (prefix, plural, ns, name) -> obj
# (prefix, plural) -> sorted [(ns, name)]: a list page is a bisect and a
# slice, not a sort of every object (the watch bench lists 100,000 runs in
# pages of 100; sorting per page made that quadratic).
names = {}
created = {}  # (prefix, plural, ns, name) -> the resourceVersion that created it
events = []  # (rv, prefix, plural, ns, type, obj), in resourceVersion order
event_rvs = []  # the rv of each entry of `events`, for bisect
state = {"rv": 100, "compacted": 0, "generation": 0, "hold": False, "partitioned": set()}
requests = []
traffic = []


def parse(path):
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        prefix, rest = "/".join(parts[:2]), parts[2:]
    else:
        prefix, rest = "/".join(parts[:3]), parts[3:]
    ns = None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        ns, rest = rest[1], rest[2:]
    plural = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else None
    return prefix, plural, ns, name


def merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge(target.get(k), v)
    return target


def bump(obj):
    state["rv"] += 1
    obj.setdefault("metadata", {})["resourceVersion"] = str(state["rv"])
    return state["rv"]


def negotiate(accept, is_list):
    """The representation for an Accept header: "full", "partial", or None
    (406). As the API server: media types in order; `as=` selects a
    meta.k8s.io/v1 (or v1beta1) conversion, the List kind for lists."""
    if os.environ.get("KUBE_RV_SERVER_FULL_LISTS"):
        return "full"
    want = "PartialObjectMetadataList" if is_list else "PartialObjectMetadata"
    for part in (accept or "*/*").split(","):
        fields = [f.strip() for f in part.split(";")]
        media, params = fields[0].lower(), dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if media not in ("application/json", "application/*", "*/*"):
            continue
        if "as" not in params:
            return "full"
        if params.get("as") == want and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return "partial"
    return None


def partial(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": copy.deepcopy(obj.get("metadata", {}))}


def selected(obj, selector):
    """Equality-based label selector (k=v,k2=v2)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        k, _, v = term.partition("=")
        if labels.get(k.strip()) != v.strip().lstrip("="):
            return False
    return True


def record_event(rv, prefix, plural, ns, kind, obj):
    """Keep a watch event (the caller holds the lock)."""
    events.append((rv, prefix, plural, ns, kind, copy.deepcopy(obj)))
    event_rvs.append(rv)


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": reason, "message": message}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.count(len(data))

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        return json.loads(self.rfile.read(n) or b"null")

    def token(self):
        auth = self.headers.get("authorization") or ""
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else ""

    def record(self, method):
        """Note the request (test hooks excepted) before it is served."""
        self.entry = None
        if urlparse(self.path).path.startswith("/_test/"):
            return
        self.entry = {"line": method + " " + self.path, "agent": self.headers.get("user-agent") or "",
                      "accept": self.headers.get("accept") or "",
                      "token": self.token(), "sent": 0,
                      "received": int(self.headers.get("content-length") or 0), "answered": False}
        with lock:
            requests.append(method + " " + self.path)
            traffic.append(self.entry)

    def count(self, n):
        if self.entry is not None:
            with lock:
                self.entry["sent"] += n
                self.entry["answered"] = True

    def cut_off(self):
        """A partitioned client's request: hang until healed, then close unanswered."""
        if self.entry is None:
            return False
        with lock:
            if self.entry["token"] not in state["partitioned"]:
                return False
            while self.entry["token"] in state["partitioned"]:
                lock.wait()
        self.close_connection = True
        return True

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        self.record("GET")
        if self.cut_off():
            return
        if url.path == "/healthz":
            return self.send_json(200, {"ok": True})
        if url.path == "/_test/requests":
            with lock:
                return self.send_json(200, list(requests))
        if url.path == "/_test/traffic":
            with lock:
                return self.send_json(200, [dict(e) for e in traffic])
        prefix, plural, ns, name = parse(url.path)
        watching = q.get("watch") == ["true"]
        form = negotiate(self.headers.get("accept"), name is None and not watching)
        if form is None:
            return self.send_json(406, status(406, "NotAcceptable", "only the following media types are accepted: application/json"))
        if watching:
            return self.watch(prefix, plural, ns, q, form)
        with lock:
            if name is not None:
                obj = objects.get((prefix, plural, ns, name))
                if obj is None:
                    return self.send_json(404, status(404, "NotFound", f"{plural} {name} not found"))
                return self.send_json(200, partial(obj) if form == "partial" else obj)
            selector = q.get("labelSelector", [""])[0]
            limit = int(q.get("limit", ["0"])[0])
            keys = names.get((prefix, plural), [])
            # As the API server, every page of a list is a snapshot at the
            # first page's resourceVersion, which the continue token carries
            # (opaque to clients) with the last key served: an object created
            # later is not listed but comes to a watch from that version.
            token = q.get("continue", [""])[0]
            if token:
                snapshot, *after = json.loads(token)
                if snapshot < state["compacted"]:
                    return self.send_json(410, status(410, "Expired", "the continue token is too old"))
                at = bisect.bisect_right(keys, tuple(after))
            else:
                snapshot = state["rv"]
                at = bisect.bisect_left(keys, (ns, "")) if ns is not None else 0
            page, last = [], None
            while at < len(keys) and (not limit or len(page) < limit):
                n, nm = keys[at]
                at += 1
                if ns is not None and n != ns:
                    break
                last = (n, nm)
                o = objects[(prefix, plural, n, nm)]
                if created[(prefix, plural, n, nm)] <= snapshot and selected(o, selector):
                    page.append(o)
            more = at < len(keys) and (ns is None or keys[at][0] == ns)
            meta = {"resourceVersion": str(snapshot)}
            if limit and more and last is not None:
                meta["continue"] = json.dumps([snapshot, *last])
            if form == "partial":
                return self.send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                            "metadata": meta, "items": [partial(o) for o in page]})
            return self.send_json(200, {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page})

    def watch(self, prefix, plural, ns, q, form="full"):
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def send(event):
            data = (json.dumps(event) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            self.count(len(data))

        with lock:
            generation = state["generation"]
            if since < state["compacted"]:
                events_out = [{"type": "ERROR", "object": status(410, "Expired", "too old resource version")}]
                done = True
            else:
                events_out, done = [], False
        if done:
            for e in events_out:
                send(e)
            self.wfile.write(b"0\r\n\r\n")
            return
        sent = since
        cut = False
        deadline = time.time() + int(q.get("timeoutSeconds", ["290"])[0])
        try:
            while time.time() < deadline:
                with lock:
                    if state["generation"] != generation:
                        break
                    batch = []
                    if self.entry["token"] in state["partitioned"]:
                        cut = True
                        lock.wait(0.2)
                        continue
                    if cut:
                        break
                    if not state["hold"]:
                        for rv, p, pl, n, t, o in events[bisect.bisect_right(event_rvs, sent):]:
                            if p == prefix and pl == plural and (ns is None or n == ns):
                                batch.append({"type": t, "object": partial(o) if form == "partial" else o})
                        if events:
                            sent = max(sent, events[-1][0])
                    if not batch:
                        lock.wait(0.2)
                for e in batch:
                    send(e)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        url = urlparse(self.path)
        # Read the body first: on a kept-alive connection, unread bytes would
        # be taken for the next request.
        obj = self.body()
        self.record("POST")
        if self.cut_off():
            return
        if url.path == "/_test/partition":
            with lock:
                state["partitioned"].add(obj["token"])
                lock.notify_all()
            return self.send_json(200, {})
        if url.path == "/_test/heal":
            with lock:
                state["partitioned"].clear()
                lock.notify_all()
            return self.send_json(200, {})
        if url.path == "/_test/hold":
            with lock:
                state["hold"] = True
            return self.send_json(200, {})
        if url.path == "/_test/compact":
            with lock:
                state["compacted"] = state["rv"]
                state["generation"] += 1
                state["hold"] = False
                events.clear()
                event_rvs.clear()
                lock.notify_all()
            return self.send_json(200, {})
        prefix, plural, ns, _ = parse(url.path)
        meta = obj.setdefault("metadata", {})
        ns = ns or meta.get("namespace")
        meta["namespace"] = ns
        key = (prefix, plural, ns, meta.get("name"))
        with lock:
            if key in objects:
                return self.send_json(409, status(409, "AlreadyExists", "exists"))
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            rv = bump(obj)
            objects[key] = obj
            created[key] = rv
            bisect.insort(names.setdefault((prefix, plural), []), (ns, meta.get("name")))
            record_event(rv, prefix, plural, ns, "ADDED", obj)
            lock.notify_all()
            return self.send_json(201, obj)

    def do_PATCH(self):
        url = urlparse(self.path)
        patch = self.body()
        self.record("PATCH")
        if self.cut_off():
            return
        prefix, plural, ns, name = parse(url.path)
        with lock:
            obj = objects.get((prefix, plural, ns, name))
            if obj is None:
                return self.send_json(404, status(404, "NotFound", "not found"))
            want = (patch.get("metadata") or {}).get("resourceVersion")
            if want is not None and want != obj["metadata"]["resourceVersion"]:
                return self.send_json(409, status(409, "Conflict", "the object has been modified"))
            obj = merge(obj, patch)
            rv = bump(obj)
            objects[(prefix, plural, ns, name)] = obj
            record_event(rv, prefix, plural, ns, "MODIFIED", obj)
            lock.notify_all()
            return self.send_json(200, obj)


def preload(path):
    with open(path) as f:
        for line in f:
            item = json.loads(line)
            prefix, plural, ns, _ = parse(item["collection"])
            obj = item["object"]
            meta = obj.setdefault("metadata", {})
            meta["namespace"] = ns
            meta.setdefault("uid", str(uuid.uuid4()))
            key = (prefix, plural, ns, meta["name"])
            created[key] = bump(obj)
            objects[key] = obj
            names.setdefault((prefix, plural), []).append((ns, meta["name"]))
    for keys in names.values():
        keys.sort()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        preload(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
