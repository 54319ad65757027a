#!/usr/bin/env python3
"""A local Cloud KMS (REST v1) with Google's OAuth token endpoints, for tests.

It answers as the documented APIs do: the same paths, JSON field names
(proto3 JSON: int64 as strings), error shape
{"error": {"code", "message", "status"}}, bearer-token checks, and it really
signs with keys it holds (python `cryptography`).

Usage: gcpkms_server.py PORT [options]   (binds 127.0.0.1)

  --sa-email EMAIL --sa-public-key PEM_FILE [--sa-key-id ID]
        accept service-account JWTs (RS256, checked with the key) at POST /token
  --client-id ID --client-secret S --refresh-token R
        accept that authorized_user refresh_token grant at POST /token
  --static-token T        an access token that is always valid
  --token-lifetime SECS   lifetime of issued tokens (default 3600)
  --deny-project P        403 PERMISSION_DENIED on every resource of project P
  --deny-sign-project P   403 PERMISSION_DENIED on asymmetricSign in project P (reads work)
  --pending-seconds S     how long a new key version stays PENDING_GENERATION (default 0.5)

Google endpoints:
  POST /token                                          OAuth 2.0 token endpoint
  GET  /computeMetadata/v1/instance/service-accounts/default/token   (Metadata-Flavor: Google)
  GET|POST /v1/projects/P/locations/L/keyRings[?keyRingId=R]      get / create key ring
  GET|POST /v1/{ring}/cryptoKeys[?cryptoKeyId=K], GET /v1/{key}
  GET|POST /v1/{key}/cryptoKeyVersions (filter=state=X, pageSize, pageToken)
  GET|PATCH /v1/{version} (updateMask=state), GET /v1/{version}/publicKey
  POST /v1/{version}:asymmetricSign
Test-only endpoints (underscored): GET /_health, GET /_stats, POST /_revoke (invalidate tokens).
"""

import argparse
import base64
import json
import re
import secrets
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

SCOPES = {"https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/cloudkms"}
# algorithm -> (key type, key parameter, hash, digest field); Ed25519 signs data, not a digest.
ALGORITHMS = {
    "EC_SIGN_P256_SHA256": ("ec", ec.SECP256R1, hashes.SHA256, "sha256"),
    "EC_SIGN_P384_SHA384": ("ec", ec.SECP384R1, hashes.SHA384, "sha384"),
    "RSA_SIGN_PKCS1_2048_SHA256": ("rsa-pkcs1", 2048, hashes.SHA256, "sha256"),
    "RSA_SIGN_PSS_2048_SHA256": ("rsa-pss", 2048, hashes.SHA256, "sha256"),
    "RSA_SIGN_PKCS1_4096_SHA512": ("rsa-pkcs1", 4096, hashes.SHA512, "sha512"),
    "EC_SIGN_ED25519": ("ed25519", None, None, None),
    "EC_SIGN_SECP256K1_SHA256": ("ec", ec.SECP256K1, hashes.SHA256, "sha256"),
}


def generate_key(algorithm: str):
    kind, param, _, _ = ALGORITHMS[algorithm]
    if kind == "ec":
        return ec.generate_private_key(param())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=param)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.tokens = {}  # token -> expiry (unix seconds)
        self.rings = {}  # ring name -> {"name", "createTime"}
        self.keys = {}  # key name -> {"purpose", "algorithm", "createTime", "versions": [dict]}
        self.stats = {"token_requests": 0, "metadata_requests": 0, "sign_requests": 0, "api_requests": 0}
        self.sa_public_key = None
        if args.sa_public_key:
            with open(args.sa_public_key, "rb") as f:
                self.sa_public_key = serialization.load_pem_public_key(f.read())

    def issue_token(self) -> dict:
        token = "ya29." + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.time() + self.args.token_lifetime
            self.stats["token_requests"] += 1
        return {"access_token": token, "expires_in": self.args.token_lifetime, "token_type": "Bearer"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcpkms-test"

    @property
    def state(self) -> State:
        return self.server.state

    def log_message(self, fmt, *args):  # quiet, but keep a trace on stderr
        sys.stderr.write("%s %s\n" % (self.command, self.path.split("?")[0]))

    # -- plumbing --------------------------------------------------------
    def reply(self, code: int, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def api_error(self, e: ApiError):
        headers = {}
        if e.code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
        self.reply(e.code, {"error": {"code": e.code, "message": e.message, "status": e.status}}, headers)

    def body(self) -> bytes:
        # Read once, before any reply: an unread body would corrupt the next
        # request on this keep-alive connection.
        if not hasattr(self, "_body"):
            n = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(n) if n else b""
        return self._body

    def json_body(self) -> dict:
        raw = self.body()
        if not raw:
            return {}
        try:
            v = json.loads(raw)
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if not isinstance(v, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        return v

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")

    def route(self, method: str):
        if hasattr(self, "_body"):
            del self._body
        self.body()
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        try:
            if path == "/_health":
                return self.reply(200, {})
            if path == "/_stats":
                with self.state.lock:
                    return self.reply(200, dict(self.state.stats))
            if path == "/_revoke" and method == "POST":
                with self.state.lock:
                    self.state.tokens.clear()
                return self.reply(200, {})
            if path == "/token" and method == "POST":
                return self.token_endpoint()
            if path == "/computeMetadata/v1/instance/service-accounts/default/token" and method == "GET":
                return self.metadata_token()
            if path.startswith("/v1/"):
                self.authenticate()
                with self.state.lock:
                    self.state.stats["api_requests"] += 1
                return self.reply(200, self.kms(method, path[len("/v1/"):], query))
            raise ApiError(404, "NOT_FOUND", "The requested URL was not found on this server.")
        except ApiError as e:
            self.api_error(e)

    # -- OAuth ------------------------------------------------------------
    def token_endpoint(self):
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            why = self.check_jwt(form.get("assertion", ""))
            if why:
                return self.reply(400, {"error": "invalid_grant", "error_description": why})
            return self.reply(200, self.state.issue_token())
        if grant == "refresh_token":
            a = self.state.args
            if not a.client_id or form.get("client_id") != a.client_id or form.get("client_secret") != a.client_secret:
                return self.reply(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
            if form.get("refresh_token") != a.refresh_token:
                return self.reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
            return self.reply(200, self.state.issue_token())
        return self.reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + grant})

    def check_jwt(self, assertion: str):
        """Why the service-account JWT is not acceptable, or None."""
        pub = self.state.sa_public_key
        if pub is None:
            return "Invalid JWT Signature."
        parts = assertion.split(".")
        if len(parts) != 3:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return "Invalid JWT."
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256."
        if self.state.args.sa_key_id and header.get("kid") != self.state.args.sa_key_id:
            return "Invalid JWT Signature."
        try:
            pub.verify(sig, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "Invalid JWT Signature."
        if claims.get("iss") != self.state.args.sa_email:
            return "Invalid JWT Signature."
        host = self.headers.get("Host", "")
        if claims.get("aud") != "http://%s/token" % host:
            return "Invalid JWT: Failed audience check."
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & SCOPES:
            return "Invalid OAuth scope or ID token audience provided."
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + 300 or exp < now or exp - iat > 3600:
            return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        return None

    def metadata_token(self):
        if self.headers.get("Metadata-Flavor") != "Google":
            body = b"Missing Metadata-Flavor:Google header.\n"
            self.send_response(403)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with self.state.lock:
            self.state.stats["metadata_requests"] += 1
        self.reply(200, self.state.issue_token())

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )
        token = auth[len("Bearer "):]
        if token == self.state.args.static_token:
            return
        with self.state.lock:
            expiry = self.state.tokens.get(token)
        if expiry is None or expiry < time.time():
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )

    # -- Cloud KMS ----------------------------------------------------------
    def kms(self, method: str, name: str, query: dict):
        m = re.match(r"^projects/([^/]+)/", name)
        project = m.group(1) if m else ""
        signing = name.endswith(":asymmetricSign")
        if project in self.state.args.deny_project or (signing and project in self.state.args.deny_sign_project):
            resource = name.split(":")[0]
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                "Permission '%s' denied on resource '%s' (or it may not exist)." % (self.permission(method, name), resource),
            )
        q = lambda k: query.get(k, [""])[0]  # noqa: E731
        loc = r"projects/[^/]+/locations/[^/]+"
        ring = loc + r"/keyRings/[^/]+"
        key = ring + r"/cryptoKeys/[^/]+"
        version = key + r"/cryptoKeyVersions/[^/:]+"
        st = self.state
        with st.lock:
            if re.fullmatch(loc + "/keyRings", name) and method == "POST":
                self.json_body()
                rid = q("keyRingId")
                if not re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", rid):
                    raise ApiError(400, "INVALID_ARGUMENT", "Invalid value for field key_ring_id")
                full = name + "/" + rid
                if full in st.rings:
                    raise ApiError(409, "ALREADY_EXISTS", "KeyRing %s already exists." % full)
                st.rings[full] = {"name": full, "createTime": now_rfc3339()}
                return st.rings[full]
            if re.fullmatch(ring, name) and method == "GET":
                if name not in st.rings:
                    raise ApiError(404, "NOT_FOUND", "KeyRing %s not found." % name)
                return st.rings[name]
            if re.fullmatch(ring + "/cryptoKeys", name) and method == "POST":
                body = self.json_body()
                ring_name = name[: -len("/cryptoKeys")]
                if ring_name not in st.rings:
                    raise ApiError(404, "NOT_FOUND", "KeyRing %s not found." % ring_name)
                kid = q("cryptoKeyId")
                if not re.fullmatch(r"[a-zA-Z0-9_-]{1,63}", kid):
                    raise ApiError(400, "INVALID_ARGUMENT", "Invalid value for field crypto_key_id")
                full = ring_name + "/cryptoKeys/" + kid
                if full in st.keys:
                    raise ApiError(409, "ALREADY_EXISTS", "CryptoKey %s already exists." % full)
                if body.get("purpose") != "ASYMMETRIC_SIGN":
                    raise ApiError(400, "INVALID_ARGUMENT", "This test server only creates ASYMMETRIC_SIGN keys.")
                alg = (body.get("versionTemplate") or {}).get("algorithm")
                if alg not in ALGORITHMS:
                    raise ApiError(400, "INVALID_ARGUMENT", "The specified algorithm is not supported: %s" % alg)
                st.keys[full] = {"purpose": "ASYMMETRIC_SIGN", "algorithm": alg, "createTime": now_rfc3339(), "versions": []}
                self.new_version(full)
                return self.crypto_key_json(full)
            if re.fullmatch(key, name) and method == "GET":
                return self.crypto_key_json(self.find_key(name))
            if re.fullmatch(key + "/cryptoKeyVersions", name):
                k = self.find_key(name.rsplit("/", 1)[0])
                if method == "POST":
                    self.json_body()
                    return self.version_json(k, self.new_version(k))
                versions = [self.version_json(k, v) for v in st.keys[k]["versions"]]
                f = q("filter")
                if f:
                    m = re.fullmatch(r"state\s*=\s*([A-Z_]+)", f)
                    if not m:
                        raise ApiError(400, "INVALID_ARGUMENT", "Invalid filter: %s" % f)
                    versions = [v for v in versions if v["state"] == m.group(1)]
                size = int(q("pageSize") or 0) or 1000
                start = int(q("pageToken") or 0)
                out = {"cryptoKeyVersions": versions[start:start + size], "totalSize": len(versions)}
                if not out["cryptoKeyVersions"]:
                    del out["cryptoKeyVersions"]
                if start + size < len(versions):
                    out["nextPageToken"] = str(start + size)
                return out
            if re.fullmatch(version, name) and method in ("GET", "PATCH"):
                k, v = self.find_version(name)
                if method == "PATCH":
                    body = self.json_body()
                    if q("updateMask") != "state" or body.get("state") not in ("ENABLED", "DISABLED"):
                        raise ApiError(400, "INVALID_ARGUMENT", "Only updateMask=state to ENABLED or DISABLED is supported.")
                    self.refresh(v)
                    if v["state"] not in ("ENABLED", "DISABLED"):
                        raise ApiError(400, "FAILED_PRECONDITION", "%s is %s." % (name, v["state"]))
                    v["state"] = body["state"]
                return self.version_json(k, v)
            if re.fullmatch(version + "/publicKey", name) and method == "GET":
                k, v = self.find_version(name[: -len("/publicKey")])
                self.require_enabled(name[: -len("/publicKey")], v)
                pem = v["private"].public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                ).decode()
                return {
                    "pem": pem,
                    "algorithm": st.keys[k]["algorithm"],
                    "pemCrc32c": str(crc32c(pem.encode())),
                    "name": name[: -len("/publicKey")],
                    "protectionLevel": "SOFTWARE",
                }
            if re.fullmatch(version + ":asymmetricSign", name) and method == "POST":
                st.stats["sign_requests"] += 1
                vname = name[: -len(":asymmetricSign")]
                k, v = self.find_version(vname)
                self.require_enabled(vname, v)
                return self.sign(vname, st.keys[k]["algorithm"], v, self.json_body())
        raise ApiError(404, "NOT_FOUND", "The requested URL /v1/%s was not found on this server." % name)

    @staticmethod
    def permission(method: str, name: str) -> str:
        """The IAM permission a request needs."""
        if name.endswith(":asymmetricSign"):
            return "cloudkms.cryptoKeyVersions.useToSign"
        if name.endswith("/publicKey"):
            return "cloudkms.cryptoKeyVersions.viewPublicKey"
        last = name.rstrip("/").split("/")
        collection = last[-1] if len(last) % 2 == 1 else last[-2]
        noun = {"keyRings": "keyRings", "cryptoKeys": "cryptoKeys", "cryptoKeyVersions": "cryptoKeyVersions"}.get(collection, "keyRings")
        if len(last) % 2 == 1:
            verb = "create" if method == "POST" else "list"
        else:
            verb = {"GET": "get", "PATCH": "update"}.get(method, "get")
        return "cloudkms.%s.%s" % (noun, verb)

    def find_key(self, name: str) -> str:
        if name not in self.state.keys:
            raise ApiError(404, "NOT_FOUND", "CryptoKey %s not found." % name)
        return name

    def find_version(self, name: str):
        k, _, vid = name.rpartition("/cryptoKeyVersions/")
        self.find_key(k)
        for v in self.state.keys[k]["versions"]:
            if v["id"] == vid:
                return k, v
        raise ApiError(404, "NOT_FOUND", "CryptoKeyVersion %s not found." % name)

    def new_version(self, k: str) -> dict:
        versions = self.state.keys[k]["versions"]
        v = {
            "id": str(len(versions) + 1),
            "private": generate_key(self.state.keys[k]["algorithm"]),
            "state": "PENDING_GENERATION",
            "ready": time.time() + self.state.args.pending_seconds,
            "createTime": now_rfc3339(),
        }
        versions.append(v)
        return v

    @staticmethod
    def refresh(v: dict):
        if v["state"] == "PENDING_GENERATION" and time.time() >= v["ready"]:
            v["state"] = "ENABLED"

    def require_enabled(self, name: str, v: dict):
        self.refresh(v)
        if v["state"] != "ENABLED":
            raise ApiError(
                400,
                "FAILED_PRECONDITION",
                "The request cannot be fulfilled. Resource %s has value %s in field crypto_key_version.state." % (name, v["state"]),
            )

    def crypto_key_json(self, k: str) -> dict:
        key = self.state.keys[k]
        return {
            "name": k,
            "purpose": key["purpose"],
            "createTime": key["createTime"],
            "versionTemplate": {"protectionLevel": "SOFTWARE", "algorithm": key["algorithm"]},
            "destroyScheduledDuration": "2592000s",
        }

    def version_json(self, k: str, v: dict) -> dict:
        self.refresh(v)
        out = {
            "name": "%s/cryptoKeyVersions/%s" % (k, v["id"]),
            "state": v["state"],
            "protectionLevel": "SOFTWARE",
            "algorithm": self.state.keys[k]["algorithm"],
            "createTime": v["createTime"],
        }
        if v["state"] != "PENDING_GENERATION":
            out["generateTime"] = v["createTime"]
        return out

    def sign(self, vname: str, algorithm: str, v: dict, body: dict) -> dict:
        kind, _, hash_cls, field = ALGORITHMS[algorithm]
        if kind == "ed25519":
            # Ed25519 signs the data itself: digest is not accepted.
            if "digest" in body or "data" not in body:
                raise ApiError(400, "INVALID_ARGUMENT", "Algorithm EC_SIGN_ED25519 requires field data, not digest.")
            data = self.b64_field(body["data"], "data")
            verified = self.check_crc(body, "dataCrc32c", data)
            sig = v["private"].sign(data)
            return self.signed(vname, sig, "verifiedDataCrc32c", verified)
        digest_obj = body.get("digest")
        if "data" in body or not isinstance(digest_obj, dict) or set(digest_obj) != {field}:
            raise ApiError(
                400,
                "INVALID_ARGUMENT",
                "The specified digest type does not match the algorithm %s: expected digest.%s." % (algorithm, field),
            )
        digest = self.b64_field(digest_obj[field], "digest." + field)
        if len(digest) != hash_cls.digest_size:
            raise ApiError(400, "INVALID_ARGUMENT", "The provided digest has the wrong length for %s." % algorithm)
        verified = self.check_crc(body, "digestCrc32c", digest)
        prehashed = utils.Prehashed(hash_cls())
        if kind == "ec":
            sig = v["private"].sign(digest, ec.ECDSA(prehashed))
        elif kind == "rsa-pkcs1":
            sig = v["private"].sign(digest, padding.PKCS1v15(), prehashed)
        else:  # Cloud KMS uses a salt as long as the digest
            pss = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size)
            sig = v["private"].sign(digest, pss, prehashed)
        return self.signed(vname, sig, "verifiedDigestCrc32c", verified)

    @staticmethod
    def b64_field(value, name: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (ValueError, TypeError):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid value at '%s' (TYPE_BYTES), Base64 decoding failed." % name)

    @staticmethod
    def check_crc(body: dict, field: str, data: bytes) -> bool:
        if field not in body:
            return False
        if int(body[field]) != crc32c(data):
            snake = {"digestCrc32c": "digest_crc32c", "dataCrc32c": "data_crc32c"}[field]
            raise ApiError(400, "INVALID_ARGUMENT", "The checksum in field %s did not match the data." % snake)
        return True

    @staticmethod
    def signed(vname: str, sig: bytes, verified_field: str, verified: bool) -> dict:
        return {
            "signature": base64.b64encode(sig).decode(),
            "signatureCrc32c": str(crc32c(sig)),
            verified_field: verified,
            "name": vname,
            "protectionLevel": "SOFTWARE",
        }

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--sa-email")
    p.add_argument("--sa-public-key")
    p.add_argument("--sa-key-id")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--refresh-token")
    p.add_argument("--static-token")
    p.add_argument("--token-lifetime", type=int, default=3600)
    p.add_argument("--deny-project", action="append", default=[])
    p.add_argument("--deny-sign-project", action="append", default=[])
    p.add_argument("--pending-seconds", type=float, default=0.5)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("gcpkms test server on 127.0.0.1:%d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
