#!/usr/bin/env node
// Test-only: verify a Sigstore bundle with the Sigstore JS team's own
// verifier (@sigstore/verify, the one npm's provenance checks use), offline,
// against a given TrustedRoot JSON; for a key-signed bundle, with the PEM
// public key given, which the bundle's key hint must name.
//
//   node verify-bundle.js BUNDLE TRUSTED_ROOT [PUBLIC_KEY_PEM|-] [ARTIFACT]
//
// Prints what verified and exits 0, or the error and exits 1. An envelope
// bundle is verified as is (its payload is signed); a message-signature
// bundle needs the ARTIFACT it signs.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function main(argv) {
  if (argv.length < 2 || argv.length > 4) {
    throw new Error('usage: node verify-bundle.js BUNDLE TRUSTED_ROOT [PUBLIC_KEY_PEM|-] [ARTIFACT]');
  }
  const [bundlePath, rootPath, keyArg, artifactPath] = argv;
  const keyPath = keyArg === '-' ? undefined : keyArg;
  const artifact = artifactPath ? fs.readFileSync(artifactPath) : undefined;
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  let keys;
  if (keyPath) {
    const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath, 'utf8'));
    // cosign's hint: base64 SHA-256 of the key's DER.
    const der = publicKey.export({ format: 'der', type: 'spki' });
    const hint = crypto.createHash('sha256').update(der).digest('base64');
    keys = (wanted) => {
      if (wanted !== hint) throw new Error(`the bundle's key hint ${wanted} is not the given key's ${hint}`);
      return { publicKey, validFor: () => true };
    };
  }
  const verifier = new Verifier(toTrustMaterial(root, keys), {
    tlogThreshold: 1,
    ctlogThreshold: 0,
    timestampThreshold: 1,
  });
  const signer = verifier.verify(toSignedEntity(bundle, artifact));
  const who = signer.identity ? JSON.stringify(signer.identity) : 'the given key';
  console.log(`verified: ${bundle.mediaType}, signed by ${who}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`not verified: ${e && e.message ? e.message : e}`);
  process.exit(1);
}
