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
//                                       This wrapper adds what real Rekor does and
//                                       the mock does not: `hashedrekord` and
//                                       `dsse` v0.0.1 bodies are Rekor's
//                                       canonicalized entries (dsse: envelope and
//                                       payload hashes + signatures with their
//                                       verifiers; keys re-encoded as PEM), dsse
//                                       envelope signatures must verify (ECDSA and
//                                       RSA with SHA-256, as Rekor does), and
//                                       entries are keyed by entry ID = tree ID
//                                       (16 hex) + RFC 6962 leaf hash of the body.
//                                       hashedrekord signatures are NOT verified.
//                                       Other kinds are logged as proposed.
//   GET  /api/v1/log/entries/{uuid}     an entry logged by this process (by its
//                                       64-hex UUID or 80-hex entry ID)
//   GET  /api/v1/log/entries?logIndex=N
//   GET  /api/v1/log/publicKey          PEM
//   POST /api/v1/index/retrieve         Rekor's search index, by hash only
//                                       ({"hash": "[sha256:]HEX"}): a JSON array
//                                       of the entry IDs logged under it (for
//                                       hashedrekord its data hash, for dsse its
//                                       payload and envelope hashes), [] when
//                                       none; a malformed hash is a 400, as in
//                                       Rekor's OpenAPI spec. The mock has no
//                                       index, so this wrapper keeps one.
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

// Rekor's canonical form of a public key or certificate (Go's PEM encoding).
function canonicalKeyPEM(pem) {
  const text = Buffer.isBuffer(pem) ? pem.toString('utf8') : String(pem);
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const cert = new crypto.X509Certificate(text);
    return { pem: cert.toString(), key: cert.publicKey };
  }
  const key = crypto.createPublicKey(text);
  return { pem: key.export({ format: 'pem', type: 'spki' }), key };
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// DSSE's pre-authentication encoding.
function pae(payloadType, payload) {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

// Rekor verifies DSSE signatures with SHA-256 whatever the key (it loads
// verifiers with crypto.SHA256); Ed25519 signs the message itself.
function verifyDSSE(key, message, sig) {
  try {
    const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    return crypto.verify(algorithm, message, key, sig);
  } catch {
    return false;
  }
}

class RekorInputError extends Error {}

// What real Rekor stores for a proposed entry (its Canonicalize()), for the
// kinds Chains uploads; other kinds as proposed. Keys are in sorted order, as
// Go's json.Marshal writes these structs, so JSON.stringify is canonical here.
function canonicalRekorEntry(proposed) {
  const fail = (msg) => {
    throw new RekorInputError(`error processing entry: ${msg}`);
  };
  if (!proposed || typeof proposed !== 'object' || Array.isArray(proposed)) fail('not a JSON object');
  const { kind, apiVersion, spec } = proposed;
  if (kind === 'hashedrekord' && apiVersion === '0.0.1') {
    const hash = spec?.data?.hash;
    const lengths = { sha256: 64, sha384: 96, sha512: 128 };
    if (!hash || !(hash.algorithm in lengths)) fail('validation failure: unsupported hash algorithm');
    if (typeof hash.value !== 'string' || !new RegExp(`^[0-9a-f]{${lengths[hash.algorithm]}}$`).test(hash.value)) {
      fail('validation failure: invalid hash value');
    }
    const sig = spec?.signature?.content;
    if (typeof sig !== 'string' || sig === '') fail('validation failure: missing signature');
    let key;
    try {
      key = canonicalKeyPEM(Buffer.from(String(spec.signature.publicKey?.content || ''), 'base64'));
    } catch {
      fail('public key provided could not be parsed');
    }
    return {
      apiVersion,
      kind,
      spec: {
        data: { hash: { algorithm: hash.algorithm, value: hash.value } },
        signature: {
          content: Buffer.from(sig, 'base64').toString('base64'),
          publicKey: { content: Buffer.from(key.pem, 'utf8').toString('base64') },
        },
      },
    };
  }
  if (kind === 'dsse' && apiVersion === '0.0.1') {
    const content = spec?.proposedContent;
    if (!content || typeof content.envelope !== 'string') fail('proposed content envelope is missing');
    let env;
    try {
      env = JSON.parse(content.envelope);
    } catch (e) {
      fail(String(e.message));
    }
    if (!Array.isArray(env?.signatures) || env.signatures.length === 0) {
      fail('DSSE envelope must contain 1 or more signatures');
    }
    const payload = Buffer.from(String(env.payload || ''), 'base64');
    const message = pae(String(env.payloadType || ''), payload);
    const verifiers = [];
    for (const v of Array.isArray(content.verifiers) ? content.verifiers : []) {
      try {
        verifiers.push(canonicalKeyPEM(Buffer.from(String(v), 'base64')));
      } catch {
        fail('could not parse public key as x509');
      }
    }
    const signatures = [];
    for (const s of env.signatures) {
      const v = verifiers.find((k) => verifyDSSE(k.key, message, Buffer.from(String(s.sig || ''), 'base64')));
      if (!v) fail('all signatures must have a key that verifies it');
      if (!signatures.some((x) => x.signature === s.sig)) {
        signatures.push({ signature: s.sig, verifier: Buffer.from(v.pem, 'utf8').toString('base64') });
      }
    }
    signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
    return {
      apiVersion,
      kind,
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256Hex(Buffer.from(content.envelope, 'utf8')) },
        payloadHash: { algorithm: 'sha256', value: sha256Hex(payload) },
        signatures,
      },
    };
  }
  return proposed;
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
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

  // Real Rekor keys entries by entry ID: the log's tree ID (16 hex digits)
  // followed by the RFC 6962 leaf hash of the canonical body (the UUID).
  const treeID = crypto.randomBytes(8);
  treeID[0] = (treeID[0] & 0x7f) | 0x01;
  const treeIDHex = treeID.toString('hex');
  const byUUID = new Map(); // uuid (leaf hash hex) -> entry
  const byIndex = new Map(); // logIndex -> uuid
  const byHash = new Map(); // "sha256:hex" -> [entry ID]
  const indexKeys = (canonical) => {
    const spec = canonical.spec || {};
    if (canonical.kind === 'hashedrekord') {
      return [`${spec.data.hash.algorithm}:${spec.data.hash.value}`];
    }
    if (canonical.kind === 'dsse') {
      return [`sha256:${spec.payloadHash.value}`, `sha256:${spec.envelopeHash.value}`];
    }
    return [];
  };
  const entryID = (uuid) => `${treeIDHex}${uuid}`;

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
      let canonical;
      try {
        canonical = sortKeys(canonicalRekorEntry(JSON.parse(body.toString('utf8'))));
      } catch (e) {
        const message = e instanceof RekorInputError ? e.message : `error processing entry: ${e.message}`;
        return grpcError(res, 400, 400, message);
      }
      const text = JSON.stringify(canonical);
      const uuid = crypto
        .createHash('sha256')
        .update(Buffer.from([0x00]))
        .update(Buffer.from(text, 'utf8'))
        .digest('hex');
      if (byUUID.has(uuid)) {
        res.setHeader('Location', `${rekor.path}/${uuid}`);
        return send(res, 409, {
          code: 409,
          message: `an equivalent entry already exists in the transparency log with UUID ${entryID(uuid)}`,
        });
      }
      const out = await rekor.fn(text);
      if (out.statusCode !== 201) {
        return grpcError(res, out.statusCode, out.statusCode, String(out.response));
      }
      const logged = JSON.parse(out.response);
      const entry = Object.values(logged)[0];
      if (entry.body !== Buffer.from(text, 'utf8').toString('base64')) {
        throw new Error('the mock logged a different body than the canonical entry');
      }
      byUUID.set(uuid, entry);
      byIndex.set(entry.logIndex, uuid);
      for (const key of indexKeys(canonical)) {
        byHash.set(key, [...(byHash.get(key) || []), entryID(uuid)]);
      }
      return send(res, 201, { [entryID(uuid)]: entry }, 'application/json', {
        Location: `${rekor.path}/${uuid}`,
        ETag: uuid,
      });
    }
    if (req.method === 'GET' && path === rekor.path && url.searchParams.has('logIndex')) {
      const uuid = byIndex.get(Number(url.searchParams.get('logIndex')));
      if (!uuid) return grpcError(res, 404, 404, 'entry not found');
      return send(res, 200, { [entryID(uuid)]: byUUID.get(uuid) });
    }
    if (req.method === 'GET' && path.startsWith(`${rekor.path}/`)) {
      const wanted = path.slice(rekor.path.length + 1).toLowerCase();
      // An entry ID (80 hex) carries the tree ID before the UUID (64 hex).
      const uuid = wanted.length === 80 && wanted.startsWith(treeIDHex) ? wanted.slice(16) : wanted;
      if (!byUUID.has(uuid)) return grpcError(res, 404, 404, 'entry not found');
      return send(res, 200, { [entryID(uuid)]: byUUID.get(uuid) });
    }
    if (req.method === 'POST' && path === '/api/v1/index/retrieve') {
      let query;
      try {
        query = JSON.parse((await readBody(req)).toString('utf8'));
      } catch (e) {
        return grpcError(res, 400, 400, `parsing body: ${e.message}`);
      }
      const hash = String(query?.hash || '').toLowerCase();
      const m = /^(?:(sha256|sha512):)?([0-9a-f]+)$/.exec(hash);
      if (!m || m[2].length !== ((m[1] || 'sha256') === 'sha256' ? 64 : 128)) {
        return grpcError(res, 400, 400, 'validation failure: invalid hash');
      }
      return send(res, 200, byHash.get(`${m[1] || 'sha256'}:${m[2]}`) || []);
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
