#!/usr/bin/env node
// Test-only Fulcio + Rekor server on 127.0.0.1, built on the Sigstore JS
// team's @sigstore/mock handlers (which are request handlers, not a server).
//
//   node server.js PORT [--fulcio-issuer URL]...
//
// Fulcio (v2 REST API):
//   POST /api/v2/signingCert   the mock's CA issues a leaf (embedded SCT) + root.
//                              This wrapper adds what real Fulcio checks and the
//                              mock does not: the request shape, the token's
//                              `exp`, its `iss` (only with --fulcio-issuer), and
//                              the proof of possession (a signature by the
//                              submitted key over the token's `email`, when it
//                              has one, else its `sub`). Rejections use
//                              Fulcio's JSON error shape {code, message, details}.
//                              The token's signature is NOT verified.
//   GET  /api/v2/trustBundle   {"chains":[{"certificates":[ROOT_PEM]}]}
//   GET  /api/v1/rootCert      ROOT_PEM
// Rekor (v1 REST API):
//   POST /api/v1/log/entries            the mock logs the entry (SET, one-leaf
//                                       inclusion proof, signed checkpoint); an
//                                       entry with the same canonical body as an
//                                       earlier one gets 409 + Location, like Rekor.
//   GET  /api/v1/log/entries/{uuid}     an entry logged by this process
//   GET  /api/v1/log/entries?logIndex=N
//   GET  /api/v1/log/publicKey          PEM
// GET /healthz: 200 once everything is initialised.
//
// Nothing is persisted; identity tokens are never logged.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  rekorHandler,
} = require('@sigstore/mock');

function parseArgs(argv) {
  const args = { port: NaN, issuers: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--fulcio-issuer' && i + 1 < argv.length) {
      args.issuers.push(argv[++i]);
    } else if (Number.isNaN(args.port)) {
      args.port = Number(argv[i]);
    } else {
      throw new Error(`unexpected argument ${argv[i]}`);
    }
  }
  if (!Number.isInteger(args.port) || args.port <= 0 || args.port > 65535) {
    throw new Error('usage: node server.js PORT [--fulcio-issuer URL]...');
  }
  return args;
}

function toPEM(label, der) {
  const b64 = Buffer.from(der).toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function send(res, status, body, contentType = 'application/json', headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, ...headers });
  res.end(text);
}

// The error body grpc-gateway writes for Fulcio and Rekor.
function grpcError(res, status, grpcCode, message) {
  send(res, status, { code: grpcCode, message, details: [] });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 10 * 1024 * 1024) {
        reject(new Error('request body too large'));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeJwtPayload(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

// Fulcio's own messages (pkg/server/error.go).
const INVALID_TOKEN = 'There was an error processing the identity token';
const INVALID_PUBLIC_KEY = 'The public key supplied in the request could not be parsed';
const INVALID_SIGNATURE = 'The signature supplied in the request could not be verified';

// What real Fulcio checks before issuing; null when the request is acceptable.
function checkSigningCertRequest(body, issuers) {
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return [400, 3, 'request body is not JSON'];
  }
  const token = json?.credentials?.oidcIdentityToken;
  const claims = decodeJwtPayload(token);
  if (!claims) return [400, 3, INVALID_TOKEN];
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    return [400, 3, INVALID_TOKEN];
  }
  if (issuers.length > 0 && !issuers.includes(claims.iss)) {
    return [400, 3, INVALID_TOKEN];
  }
  const request = json.publicKeyRequest;
  let key;
  try {
    key = crypto.createPublicKey(request.publicKey.content);
  } catch {
    return [400, 3, INVALID_PUBLIC_KEY];
  }
  const subject = typeof claims.email === 'string' && claims.email !== '' ? claims.email : claims.sub;
  const proof = Buffer.from(String(request.proofOfPossession || ''), 'base64');
  let ok = false;
  try {
    ok = typeof subject === 'string' && crypto.verify('sha256', Buffer.from(subject, 'utf8'), key, proof);
  } catch {
    ok = false;
  }
  if (!ok) return [400, 3, INVALID_SIGNATURE];
  return null;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const base = `http://127.0.0.1:${args.port}`;

  const caKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ca = await initializeCA(caKeys, await initializeCTLog(caKeys));
  const fulcio = fulcioHandler(ca, { strict: true });
  const rootPEM = toPEM('CERTIFICATE', ca.rootCertificate);

  const rekorKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rekor = rekorHandler(await initializeTLog(base, rekorKeys), { strict: true });
  const rekorPublicPEM = rekorKeys.publicKey.export({ format: 'pem', type: 'spki' });

  const byUUID = new Map(); // uuid -> entry
  const byIndex = new Map(); // logIndex -> uuid
  const byBody = new Map(); // canonical body (base64) -> uuid

  const routes = async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/healthz') {
      return send(res, 200, 'ok', 'text/plain');
    }

    // Fulcio
    if (req.method === 'POST' && path === fulcio.path) {
      const body = await readBody(req);
      const rejected = checkSigningCertRequest(body, args.issuers);
      if (rejected) return grpcError(res, ...rejected);
      const out = await fulcio.fn(body);
      return send(res, out.statusCode, out.response, out.contentType || 'text/plain');
    }
    if (req.method === 'GET' && path === '/api/v2/trustBundle') {
      return send(res, 200, { chains: [{ certificates: [rootPEM] }] });
    }
    if (req.method === 'GET' && path === '/api/v1/rootCert') {
      return send(res, 200, rootPEM, 'application/pem-certificate-chain');
    }

    // Rekor
    if (req.method === 'POST' && path === rekor.path) {
      const body = await readBody(req);
      const out = await rekor.fn(body.toString('utf8'));
      if (out.statusCode !== 201) {
        return send(res, out.statusCode, out.response, out.contentType || 'text/plain');
      }
      const logged = JSON.parse(out.response);
      const [uuid] = Object.keys(logged);
      const entry = logged[uuid];
      const existing = byBody.get(entry.body);
      if (existing) {
        res.setHeader('Location', `/api/v1/log/entries/${existing}`);
        return send(res, 409, {
          code: 409,
          message: `An equivalent entry already exists in the transparency log with UUID ${existing}`,
        });
      }
      byUUID.set(uuid, entry);
      byIndex.set(entry.logIndex, uuid);
      byBody.set(entry.body, uuid);
      return send(res, 201, out.response, 'application/json', {
        Location: `/api/v1/log/entries/${uuid}`,
        ETag: uuid,
      });
    }
    if (req.method === 'GET' && path === rekor.path && url.searchParams.has('logIndex')) {
      const uuid = byIndex.get(Number(url.searchParams.get('logIndex')));
      if (!uuid) return grpcError(res, 404, 404, 'entry not found');
      return send(res, 200, { [uuid]: byUUID.get(uuid) });
    }
    if (req.method === 'GET' && path.startsWith(`${rekor.path}/`)) {
      const wanted = path.slice(rekor.path.length + 1).toLowerCase();
      // Rekor entry UUIDs may carry a 16-hex-digit tree ID prefix.
      const uuid = byUUID.has(wanted) ? wanted : wanted.slice(-64);
      if (!byUUID.has(uuid)) return grpcError(res, 404, 404, 'entry not found');
      return send(res, 200, { [uuid]: byUUID.get(uuid) });
    }
    if (req.method === 'GET' && path === '/api/v1/log/publicKey') {
      return send(res, 200, rekorPublicPEM, 'application/x-pem-file');
    }

    return grpcError(res, 404, 5, `no route for ${req.method} ${path}`);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, base);
    routes(req, res, url)
      .catch((e) => {
        if (!res.headersSent) grpcError(res, 500, 13, String(e && e.message ? e.message : e));
      })
      .finally(() => {
        // Method, path and status only: request bodies carry identity tokens.
        console.log(`${req.method} ${url.pathname} ${res.statusCode}`);
      });
  });
  server.listen(args.port, '127.0.0.1', () => {
    console.log(`sigstore-mock listening on ${base}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
