#!/usr/bin/env python3
"""A local Azure Key Vault (REST, api-version 7.x) with Microsoft Entra ID and
managed identity token endpoints, for tests.

It answers as the documented APIs do: the same paths, JSON Web Keys, error
shape {"error": {"code", "message"}} for Key Vault and
{"error", "error_description"} for the token endpoints, bearer-token checks,
and it really signs with keys it holds (python `cryptography`), returning raw
r||s as Key Vault does.

Keys: EC P-256/P-384/P-521 (ES256/ES384/ES512) and RSA (RS256/RS384/RS512).

Usage: azurekv_server.py PORT --tenant T --client-id C [options]   (binds 127.0.0.1)

  --client-secret S       accept client credentials with that secret
  --federated-token F     accept that workload identity client assertion
  --identity-header H     accept App Service managed identity requests with that X-IDENTITY-HEADER
  --deny-key NAME         403 Forbidden on every operation on key NAME
  --deny-sign NAME        403 Forbidden on sign with key NAME (get works)
  --token-lifetime SECS   lifetime of issued tokens (default 3599)

Endpoints:
  POST /{tenant}/oauth2/v2.0/token                      Entra ID client credentials
  GET  /metadata/identity/oauth2/token                  IMDS (Metadata: true)
  GET  /msi/token                                       App Service (X-IDENTITY-HEADER)
  GET  /keys/{name}[/{version}]?api-version=7.4         get key
  POST /keys/{name}/create?api-version=7.4              create key (or a new version)
  POST /keys/{name}/{version}/sign?api-version=7.4      sign a digest
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

RESOURCE = "https://vault.azure.net"
CURVES = {
    "P-256": (ec.SECP256R1, hashes.SHA256, "ES256", 32),
    "P-384": (ec.SECP384R1, hashes.SHA384, "ES384", 48),
    "P-521": (ec.SECP521R1, hashes.SHA512, "ES512", 66),
}
RSA_ALGS = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class KvError(Exception):
    def __init__(self, code: int, kv_code: str, message: str, inner=None):
        super().__init__(message)
        self.code, self.kv_code, self.message, self.inner = code, kv_code, message, inner


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.tokens = {}
        self.keys = {}  # name -> [ {version, private, crv, created, key_ops} ]
        self.stats = {"token_requests": 0, "sign_requests": 0, "api_requests": 0}

    def issue(self) -> str:
        token = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.time() + self.args.token_lifetime
            self.stats["token_requests"] += 1
        return token


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azurekv-test"

    @property
    def state(self) -> State:
        return self.server.state

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path.split("?")[0]))

    def reply(self, code: int, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> bytes:
        # Read once, before any reply: an unread body would corrupt the next
        # request on this keep-alive connection.
        if not hasattr(self, "_body"):
            n = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(n) if n else b""
        return self._body

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        if hasattr(self, "_body"):
            del self._body
        self.body()
        url = urlsplit(self.path)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        st = self.state
        if path == "/_health":
            return self.reply(200, {})
        if path == "/_stats":
            with st.lock:
                return self.reply(200, dict(st.stats))
        if path == "/_revoke" and method == "POST":
            with st.lock:
                st.tokens.clear()
            return self.reply(200, {})
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", path)
        if m and method == "POST":
            return self.entra_token(m.group(1))
        if path == "/metadata/identity/oauth2/token" and method == "GET":
            return self.imds_token(query)
        if path == "/msi/token" and method == "GET":
            return self.app_service_token(query)
        if path.startswith("/keys/"):
            try:
                self.authenticate()
                if not query.get("api-version", "").startswith("7."):
                    raise KvError(400, "BadParameter", "The 'api-version' query parameter is missing or not supported.")
                with st.lock:
                    st.stats["api_requests"] += 1
                return self.reply(200, self.key_vault(method, path, self.body()))
            except KvError as e:
                headers = {}
                if e.code == 401:
                    headers["WWW-Authenticate"] = (
                        'Bearer authorization="http://%s/%s", resource="%s"'
                        % (self.headers.get("Host", ""), st.args.tenant, RESOURCE)
                    )
                err = {"code": e.kv_code, "message": e.message}
                if e.inner:
                    err["innererror"] = {"code": e.inner}
                return self.reply(e.code, {"error": err}, headers)
        return self.reply(404, {"error": {"code": "NotFound", "message": "Resource not found."}})

    # -- tokens ---------------------------------------------------------------
    def entra_error(self, code: int, error: str, description: str):
        self.reply(
            code,
            {
                "error": error,
                "error_description": description + "\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 0\r\nTimestamp: 2024-01-01 00:00:00Z",
                "error_codes": [int(re.search(r"AADSTS(\d+)", description).group(1))],
            },
        )

    def entra_token(self, tenant: str):
        a = self.state.args
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        if tenant != a.tenant:
            return self.entra_error(400, "invalid_request", "AADSTS90002: Tenant '%s' not found." % tenant)
        if form.get("grant_type") != "client_credentials":
            return self.entra_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
        if form.get("scope") != RESOURCE + "/.default":
            return self.entra_error(400, "invalid_scope", "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
        if form.get("client_id") != a.client_id:
            return self.entra_error(
                400, "unauthorized_client", "AADSTS700016: Application with identifier '%s' was not found in the directory." % form.get("client_id")
            )
        if "client_assertion" in form:
            if (
                form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                or not a.federated_token
                or form["client_assertion"] != a.federated_token
            ):
                return self.entra_error(401, "invalid_client", "AADSTS700211: No matching federated identity record found for presented assertion.")
        elif not a.client_secret or form.get("client_secret") != a.client_secret:
            return self.entra_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'." % a.client_id,
            )
        lifetime = a.token_lifetime
        self.reply(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": self.state.issue()})

    def imds_token(self, query):
        if self.headers.get("Metadata") != "true":
            return self.reply(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
        if query.get("resource") != RESOURCE:
            return self.reply(400, {"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal was not found."})
        lifetime = self.state.args.token_lifetime
        now = int(time.time())
        self.reply(
            200,
            {
                "access_token": self.state.issue(),
                "client_id": self.state.args.client_id,
                "expires_in": str(lifetime),
                "expires_on": str(now + lifetime),
                "ext_expires_in": str(lifetime),
                "not_before": str(now),
                "resource": RESOURCE,
                "token_type": "Bearer",
            },
        )

    def app_service_token(self, query):
        a = self.state.args
        if not a.identity_header or self.headers.get("X-IDENTITY-HEADER") != a.identity_header:
            return self.reply(401, {"error": "unauthorized", "error_description": "Missing or invalid X-IDENTITY-HEADER."})
        if query.get("api-version") != "2019-08-01" or query.get("resource") != RESOURCE:
            return self.reply(400, {"error": "invalid_request", "error_description": "Invalid api-version or resource."})
        now = int(time.time())
        self.reply(
            200,
            {
                "access_token": self.state.issue(),
                "expires_on": str(now + a.token_lifetime),
                "resource": RESOURCE,
                "token_type": "Bearer",
                "client_id": a.client_id,
            },
        )

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise KvError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
        with self.state.lock:
            expiry = self.state.tokens.get(auth[len("Bearer "):])
        if expiry is None or expiry < time.time():
            raise KvError(401, "Unauthorized", "AKV10032: Invalid issuer. The token was not issued for this tenant.")

    # -- Key Vault ------------------------------------------------------------
    def key_vault(self, method: str, path: str, raw_body: bytes):
        st = self.state
        parts = path.split("/")[2:]  # after /keys/
        name = parts[0]
        if not re.fullmatch(r"[0-9a-zA-Z-]{1,127}", name):
            raise KvError(400, "BadParameter", "The request URI contains an invalid name: %s" % name)
        op = "sign" if path.endswith("/sign") else ("create" if path.endswith("/create") else "get")
        if name in st.args.deny_key or (op == "sign" and name in st.args.deny_sign):
            raise KvError(
                403,
                "Forbidden",
                "The user, group or application 'appid=%s' does not have keys %s permission on key vault 'test;location=local'." % (st.args.client_id, op),
                inner="AccessDenied",
            )
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            raise KvError(400, "BadParameter", "The request body is not valid JSON.")
        with st.lock:
            if method == "POST" and len(parts) == 2 and parts[1] == "create":
                kty = body.get("kty")
                if kty in ("EC", "EC-HSM"):
                    crv = body.get("crv", "P-256")
                    if crv not in CURVES:
                        raise KvError(400, "BadParameter", "Invalid curve: %s" % crv)
                    private = ec.generate_private_key(CURVES[crv][0]())
                elif kty in ("RSA", "RSA-HSM"):
                    crv = None
                    private = rsa.generate_private_key(public_exponent=65537, key_size=int(body.get("key_size", 2048)))
                else:
                    raise KvError(400, "BadParameter", "Invalid kty: %s" % kty)
                version = secrets.token_hex(16)
                st.keys.setdefault(name, []).append(
                    {
                        "version": version,
                        "private": private,
                        "crv": crv,
                        "kty": body["kty"],
                        "key_ops": body.get("key_ops") or ["sign", "verify"],
                        "created": int(time.time()),
                        "tags": body.get("tags") or {},
                    }
                )
                return self.bundle(name, st.keys[name][-1])
            if method == "GET" and len(parts) in (1, 2):
                return self.bundle(name, self.find(name, parts[1] if len(parts) == 2 else ""))
            if method == "POST" and len(parts) == 3 and parts[2] == "sign":
                st.stats["sign_requests"] += 1
                key = self.find(name, parts[1])
                return self.sign(name, key, body)
        raise KvError(404, "NotFound", "Resource not found.")

    def find(self, name: str, version: str) -> dict:
        versions = self.state.keys.get(name, [])
        if versions and not version:
            return versions[-1]
        for v in versions:
            if v["version"] == version:
                return v
        raise KvError(
            404,
            "KeyNotFound",
            "A key with (name/id) %s%s was not found in this key vault. If you recently deleted this key you may be able "
            "to recover it using the correct recovery command. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125182" % (name, "/" + version if version else ""),
        )

    def kid(self, name: str, key: dict) -> str:
        return "http://%s/keys/%s/%s" % (self.headers.get("Host", ""), name, key["version"])

    def bundle(self, name: str, key: dict) -> dict:
        nums = key["private"].public_key().public_numbers()
        jwk = {"kid": self.kid(name, key), "kty": key["kty"], "key_ops": key["key_ops"]}
        if key["crv"]:
            size = CURVES[key["crv"]][3]
            jwk.update(crv=key["crv"], x=b64url(nums.x.to_bytes(size, "big")), y=b64url(nums.y.to_bytes(size, "big")))
        else:
            jwk.update(n=b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")), e=b64url(nums.e.to_bytes(3, "big")))
        return {
            "key": jwk,
            "attributes": {
                "enabled": True,
                "created": key["created"],
                "updated": key["created"],
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
                "exportable": False,
            },
            "tags": key["tags"],
        }

    def sign(self, name: str, key: dict, body: dict) -> dict:
        if not key["crv"]:
            hash_cls = RSA_ALGS.get(body.get("alg"))
            if hash_cls is None:
                raise KvError(400, "BadParameter", "Invalid algorithm %r for an RSA key." % body.get("alg"))
            digest = b64url_decode(body.get("value", ""))
            if len(digest) != hash_cls.digest_size:
                raise KvError(400, "BadParameter", "Invalid digest length for %s." % body.get("alg"))
            sig = key["private"].sign(digest, padding.PKCS1v15(), utils.Prehashed(hash_cls()))
            return {"kid": self.kid(name, key), "value": b64url(sig)}
        _, hash_cls, alg, size = CURVES[key["crv"]]
        if body.get("alg") != alg:
            raise KvError(400, "BadParameter", "Invalid algorithm %r for a %s key." % (body.get("alg"), key["crv"]))
        try:
            digest = b64url_decode(body.get("value", ""))
        except ValueError:
            raise KvError(400, "BadParameter", "Property 'value' is not valid base64url.")
        if len(digest) != hash_cls.digest_size:
            raise KvError(400, "BadParameter", "Invalid digest length for %s." % alg)
        r, s = utils.decode_dss_signature(key["private"].sign(digest, ec.ECDSA(utils.Prehashed(hash_cls()))))
        return {"kid": self.kid(name, key), "value": b64url(r.to_bytes(size, "big") + s.to_bytes(size, "big"))}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("port", type=int)
    p.add_argument("--tenant", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret")
    p.add_argument("--federated-token")
    p.add_argument("--identity-header")
    p.add_argument("--deny-key", action="append", default=[])
    p.add_argument("--deny-sign", action="append", default=[])
    p.add_argument("--token-lifetime", type=int, default=3599)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print("azurekv test server on 127.0.0.1:%d" % args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
