//! Keyless signing: an ephemeral ECDSA P-256 key, certified by Fulcio for the
//! identity in an OIDC token.
//!
//! [`load`] generates the key in memory, proves possession of it to Fulcio
//! (`POST /api/v2/signingCert`, a signature over the token's subject) and keeps
//! the certificate chain Fulcio returns. The key never leaves the process.
//!
//! The token is decoded, never verified: Fulcio verifies it. Any issuer Fulcio
//! trusts works (email, Kubernetes, SPIFFE, CI providers): the subject proven
//! is the `email` claim when the issuer asserts a verified one, else `sub`,
//! the way cosign does. The token never appears in a message.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use sigstore::crypto::{SigStoreSigner, SigningScheme};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use crate::pem;
use crate::sign::{CertificateChain, PublicKey, SharedSigner, SignError, Signer};

/// The public Sigstore Fulcio instance.
pub const DEFAULT_URL: &str = "https://fulcio.sigstore.dev";

/// Fulcio's v2 REST endpoint for a signing certificate.
const SIGNING_CERT_PATH: &str = "/api/v2/signingCert";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an error body is read and quoted.
const MAX_ERROR_BODY: usize = 64 * 1024;
const MAX_QUOTED: usize = 500;

/// Where to get a certificate, and the identity to get it for.
#[derive(Clone)]
pub struct FulcioOptions {
    /// Fulcio's base URL, e.g. `https://fulcio.sigstore.dev`.
    pub url: String,
    /// The raw OIDC identity token (a JWT). Secret: never printed.
    pub identity_token: String,
}

impl fmt::Debug for FulcioOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FulcioOptions")
            .field("url", &self.url)
            .field("identity_token", &"<redacted>")
            .finish()
    }
}

/// Generate an ephemeral key and have Fulcio certify it for the token's identity.
pub fn load(opts: &FulcioOptions) -> Result<SharedSigner, SignError> {
    let token = opts.identity_token.trim();
    let identity = Identity::from_token(token)?;
    let base = opts.url.trim().trim_end_matches('/').to_string();
    let shown = display_url(&base)?;

    let key = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(|e| fulcio(format!("cannot generate an ephemeral key: {e}")))?;
    let spki = key
        .to_sigstore_keypair()
        .and_then(|k| k.public_key_to_der())
        .map_err(|e| fulcio(format!("cannot encode the ephemeral public key: {e}")))?;
    let public = PublicKey::from_spki_der(&spki)?;
    let proof = key
        .sign(identity.subject.as_bytes())
        .map_err(|e| fulcio(format!("cannot sign the proof of possession: {e}")))?;

    let request = serde_json::json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "ECDSA", "content": public.to_pem() },
            "proofOfPossession": STANDARD.encode(&proof),
        },
    });
    let endpoint = format!("{base}{SIGNING_CERT_PATH}");
    let body = post(&endpoint, &request, &shown, token, &identity)?;
    let issued = Issued::from_response(&body, &public, &shown)?;

    Ok(Arc::new(FulcioSigner {
        key,
        public,
        chain: issued.chain,
        not_after: issued.not_after,
        description: format!(
            "keyless key certified by Fulcio ({shown}) for {}",
            identity.subject
        ),
        url: shown,
    }))
}

/// A signer holding an ephemeral key and its Fulcio certificate.
pub struct FulcioSigner {
    key: SigStoreSigner,
    public: PublicKey,
    chain: CertificateChain,
    not_after: SystemTime,
    url: String,
    description: String,
}

impl Signer for FulcioSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        check_unexpired(self.not_after, SystemTime::now(), &self.url)?;
        self.key.sign(message).map_err(|e| SignError::Failed {
            signer: self.describe(),
            message: e.to_string(),
        })
    }

    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn certificate(&self) -> Option<&CertificateChain> {
        Some(&self.chain)
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn expires(&self) -> Option<SystemTime> {
        Some(self.not_after)
    }
}

/// Fulcio certificates last minutes: a signature made after the certificate
/// expired would never verify, so refuse to make one.
fn check_unexpired(not_after: SystemTime, now: SystemTime, url: &str) -> Result<(), SignError> {
    if now <= not_after {
        return Ok(());
    }
    Err(fulcio(format!(
        "the certificate from Fulcio ({url}) expired at {}; keyless certificates last minutes, \
         so sign smaller batches or request a new certificate with a fresh identity token",
        rfc3339(not_after)
    )))
}

fn fulcio(message: String) -> SignError {
    SignError::Fulcio { message }
}

/// What the token says, as far as the request needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    /// What the proof of possession signs: a verified `email`, else `sub`.
    subject: String,
    issuer: Option<String>,
    /// `exp`, seconds since the epoch.
    expires: Option<i64>,
}

impl Identity {
    fn from_token(token: &str) -> Result<Identity, SignError> {
        let bad = |why: &str| fulcio(format!("the identity token {why}"));
        if token.is_empty() {
            return Err(bad("is empty"));
        }
        let parts: Vec<&str> = token.split('.').collect();
        match parts.len() {
            3 => {}
            5 => {
                return Err(bad(
                    "is an encrypted JWT (JWE); Fulcio needs a signed JWT (JWS)",
                ));
            }
            _ => {
                return Err(bad(
                    "is not a JWT (three base64url parts separated by dots)",
                ));
            }
        }
        let base64url = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let payload = base64url
            .decode(parts[1])
            .map_err(|_| bad("payload is not base64url"))?;
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&payload).map_err(|_| bad("payload is not a JSON object"))?;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        // `email_verified` is a boolean, but some issuers send the string "true".
        let verified = match claims.get("email_verified") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let subject = match (text("email").filter(|_| verified), text("sub")) {
            (Some(email), _) => email,
            (None, Some(sub)) => sub,
            (None, None) => return Err(bad("has no `sub` claim (nor a verified `email`)")),
        };
        let expires = claims.get("exp").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        });
        Ok(Identity {
            subject,
            issuer: text("iss"),
            expires,
        })
    }
}

/// The URL for messages: validated, without credentials.
fn display_url(base: &str) -> Result<String, SignError> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| fulcio(format!("invalid Fulcio URL {base:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fulcio(format!(
            "invalid Fulcio URL {base:?}: the scheme must be http or https"
        )));
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// POST the request; the body of a 2xx answer, else a message naming the status.
fn post(
    endpoint: &str,
    request: &serde_json::Value,
    shown: &str,
    token: &str,
    identity: &Identity,
) -> Result<Vec<u8>, SignError> {
    // reqwest's blocking client runs its own runtime and must not be created or
    // dropped inside an async one: keep it on a thread of its own.
    // The deadline in force is this thread's: read it here, not on the new one.
    let limit = Limit {
        timeout: crate::deadline::cap(REQUEST_TIMEOUT),
        shown: crate::deadline::ended_by(REQUEST_TIMEOUT),
    };
    std::thread::scope(|scope| {
        scope
            .spawn(|| post_blocking(endpoint, request, shown, token, identity, &limit))
            .join()
            .unwrap_or_else(|_| Err(fulcio(format!("the request to Fulcio ({shown}) panicked"))))
    })
}

/// A request's timeout, and how to name it when it ends a request.
struct Limit {
    timeout: Duration,
    shown: String,
}

fn post_blocking(
    endpoint: &str,
    request: &serde_json::Value,
    shown: &str,
    token: &str,
    identity: &Identity,
    limit: &Limit,
) -> Result<Vec<u8>, SignError> {
    use std::io::Read;

    let client = reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(limit.timeout)
        // The request carries a credential: never resend it somewhere else.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("chains/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            fulcio(format!(
                "cannot create an HTTP client: {}",
                crate::cloud::error_chain(&e)
            ))
        })?;
    let response = client
        .post(endpoint)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(request)
        .send()
        .map_err(|e| transport_error(e, shown, limit))?;
    let status = response.status();
    if status.is_success() {
        return response
            .bytes()
            .map(|b| b.to_vec())
            .map_err(|e| transport_error(e, shown, limit));
    }
    let mut body = Vec::new();
    let _ = response.take(MAX_ERROR_BODY as u64).read_to_end(&mut body);
    let detail = error_detail(&body, token);
    let mut message = format!("Fulcio ({shown}) answered HTTP {status}");
    // 429 (and 408) say nothing of the request: no hint about the token.
    let refused = status.is_client_error() && !matches!(status.as_u16(), 408 | 429);
    if refused {
        message = format!("Fulcio ({shown}) refused the certificate request (HTTP {status})");
    }
    if !detail.is_empty() {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if refused {
        message.push_str(&token_hint(identity, SystemTime::now()));
    }
    Err(fulcio(message))
}

fn transport_error(e: reqwest::Error, shown: &str, limit: &Limit) -> SignError {
    if e.is_timeout() {
        return fulcio(format!(
            "Fulcio ({shown}) did not answer within {}",
            limit.shown
        ));
    }
    fulcio(format!(
        "cannot reach Fulcio ({shown}): {}",
        crate::cloud::error_chain(&e.without_url())
    ))
}

/// Fulcio's error message (grpc-gateway's `{"code":..,"message":..}`, or the
/// text), on one line, without the token, shortened.
fn error_detail(body: &[u8], token: &str) -> String {
    #[derive(Deserialize)]
    struct GatewayError {
        message: Option<String>,
        error: Option<String>,
    }
    let text = String::from_utf8_lossy(body);
    let message = match serde_json::from_slice::<GatewayError>(body) {
        Ok(GatewayError {
            message: Some(m), ..
        })
        | Ok(GatewayError { error: Some(m), .. }) => m,
        _ => text.into_owned(),
    };
    let message = redact(&message, token);
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_QUOTED {
        let cut: String = one_line.chars().take(MAX_QUOTED).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// Remove the token (and each of its parts) from text a server sent back.
fn redact(text: &str, token: &str) -> String {
    let mut out = text.to_string();
    if !token.is_empty() {
        out = out.replace(token, "<identity token>");
    }
    for part in token.split('.').filter(|p| p.len() >= 8) {
        out = out.replace(part, "<identity token>");
    }
    out
}

/// Why Fulcio may have refused the token, from what the token itself says.
fn token_hint(identity: &Identity, now: SystemTime) -> String {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut hint = String::new();
    if let Some(exp) = identity.expires.filter(|&exp| exp < now) {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(exp.max(0) as u64);
        hint.push_str(&format!(
            " (the identity token expired at {}; get a fresh one)",
            rfc3339(at)
        ));
    } else if let Some(iss) = &identity.issuer {
        hint.push_str(&format!(
            " (check that Fulcio trusts the token's issuer {iss} and that its audience is the \
             one Fulcio expects, usually \"sigstore\")"
        ));
    }
    hint
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{t:?}"))
}

/// A certificate chain Fulcio issued for our key.
struct Issued {
    chain: CertificateChain,
    not_after: SystemTime,
}

impl Issued {
    /// Parse Fulcio's answer and check the leaf certifies `public`.
    fn from_response(body: &[u8], public: &PublicKey, shown: &str) -> Result<Issued, SignError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Response {
            #[serde(alias = "signed_certificate_embedded_sct")]
            signed_certificate_embedded_sct: Option<Signed>,
            #[serde(alias = "signed_certificate_detached_sct")]
            signed_certificate_detached_sct: Option<Signed>,
        }
        #[derive(Deserialize)]
        struct Signed {
            chain: Option<Chain>,
        }
        #[derive(Deserialize)]
        struct Chain {
            #[serde(default)]
            certificates: Vec<String>,
        }

        let malformed = |why: String| {
            fulcio(format!(
                "Fulcio ({shown}) returned a malformed certificate response: {why}"
            ))
        };
        let response: Response = serde_json::from_slice(body)
            .map_err(|e| malformed(format!("not the expected JSON ({e})")))?;
        let certificates = response
            .signed_certificate_embedded_sct
            .or(response.signed_certificate_detached_sct)
            .and_then(|s| s.chain)
            .map(|c| c.certificates)
            .ok_or_else(|| {
                malformed(
                    "no signedCertificateEmbeddedSct.chain or signedCertificateDetachedSct.chain"
                        .into(),
                )
            })?;

        // Each entry is one PEM certificate; tolerate several in one string.
        let mut ders = Vec::new();
        for text in &certificates {
            let blocks = certificate_blocks(text).map_err(|why| malformed(why.to_string()))?;
            ders.extend(blocks);
        }
        if ders.is_empty() {
            return Err(malformed("the certificate chain is empty".into()));
        }
        let mut parsed = Vec::with_capacity(ders.len());
        for (i, der) in ders.iter().enumerate() {
            let cert = Certificate::from_der(der)
                .map_err(|e| malformed(format!("certificate {} is not X.509: {e}", i + 1)))?;
            parsed.push(cert);
        }

        let leaf = parsed[0].tbs_certificate();
        let leaf_key = leaf
            .subject_public_key_info()
            .to_der()
            .map_err(|e| malformed(format!("cannot encode the leaf's public key: {e}")))?;
        if leaf_key != public.spki_der() {
            let theirs = PublicKey::from_spki_der(&leaf_key)
                .map(|k| format!("{} key {}", k.kind(), k.key_id()))
                .unwrap_or_else(|_| "an unsupported key".into());
            return Err(fulcio(format!(
                "the certificate from Fulcio ({shown}) is for {theirs}, not for the ephemeral key {}",
                public.key_id()
            )));
        }
        let not_after = leaf.validity().not_after.to_system_time();

        Ok(Issued {
            chain: CertificateChain {
                certificate_pem: pem::encode("CERTIFICATE", &ders[0]),
                chain_pem: ders[1..]
                    .iter()
                    .map(|d| pem::encode("CERTIFICATE", d))
                    .collect(),
            },
            not_after,
        })
    }
}

/// The DER of every `CERTIFICATE` block in `text`, in order.
fn certificate_blocks(text: &str) -> Result<Vec<Vec<u8>>, &'static str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let stop = body.find(END).ok_or("a PEM certificate has no END line")?;
        let b64: String = body[..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        out.push(
            STANDARD
                .decode(b64)
                .map_err(|_| "a PEM certificate is not valid base64")?,
        );
        rest = &body[stop + END.len()..];
    }
    if out.is_empty() {
        return Err("an entry of the chain is not a PEM certificate");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn token(claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url(r#"{"alg":"RS256"}"#),
            b64url(claims),
            b64url("not-a-real-signature")
        )
    }

    #[test]
    fn subject_is_sub_without_email() {
        let id = Identity::from_token(&token(
            r#"{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:ns:sa","aud":["sigstore"],"exp":1700000000}"#,
        ))
        .unwrap();
        assert_eq!(
            id,
            Identity {
                subject: "system:serviceaccount:ns:sa".into(),
                issuer: Some("https://kubernetes.default.svc".into()),
                expires: Some(1700000000),
            }
        );
    }

    #[test]
    fn subject_is_verified_email() {
        for verified in ["true", r#""true""#] {
            let claims =
                format!(r#"{{"sub":"1234","email":"a@example.com","email_verified":{verified}}}"#);
            assert_eq!(
                Identity::from_token(&token(&claims)).unwrap().subject,
                "a@example.com"
            );
        }
        // An unverified email is not an identity Fulcio certifies: fall back to `sub`.
        for verified in ["false", r#""false""#, "null"] {
            let claims =
                format!(r#"{{"sub":"1234","email":"a@example.com","email_verified":{verified}}}"#);
            assert_eq!(
                Identity::from_token(&token(&claims)).unwrap().subject,
                "1234"
            );
        }
        let claims = r#"{"sub":"1234","email":"a@example.com"}"#;
        assert_eq!(
            Identity::from_token(&token(claims)).unwrap().subject,
            "1234"
        );
    }

    #[test]
    fn padded_payload_is_accepted() {
        let padded = base64::engine::general_purpose::URL_SAFE.encode(r#"{"sub":"abc"}"#);
        assert!(padded.ends_with('='));
        let t = format!("e30.{padded}.sig");
        assert_eq!(Identity::from_token(&t).unwrap().subject, "abc");
    }

    #[test]
    fn bad_tokens_are_explained_without_the_token() {
        let secret = "SECRETSECRETSECRET";
        let cases = [
            (String::new(), "is empty"),
            (secret.to_string(), "is not a JWT"),
            (format!("a.{secret}.c.d.e"), "encrypted JWT"),
            (format!("e30.{secret}!.c"), "not base64url"),
            (
                format!("e30.{}.c", b64url(&format!("[\"{secret}\"]"))),
                "not a JSON object",
            ),
            (
                token(r#"{"iss":"x","email":"SECRET@x","email_verified":false}"#),
                "no `sub`",
            ),
        ];
        for (t, want) in cases {
            let msg = Identity::from_token(&t).unwrap_err().to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(!msg.contains("SECRET"), "{msg}");
        }
    }

    #[test]
    fn options_debug_hides_the_token() {
        let o = FulcioOptions {
            url: "https://fulcio.example".into(),
            identity_token: "eyJ.SECRET.sig".into(),
        };
        let d = format!("{o:?}");
        assert!(d.contains("fulcio.example") && !d.contains("SECRET"), "{d}");
    }

    #[test]
    fn redact_removes_token_and_parts() {
        let t = token(r#"{"sub":"someone-long"}"#);
        let parts: Vec<&str> = t.split('.').collect();
        let text = format!("bad token {t}; payload {} sig {}", parts[1], parts[2]);
        let out = redact(&text, &t);
        for p in &parts {
            assert!(!out.contains(p), "{out}");
        }
    }

    #[test]
    fn error_detail_reads_gateway_json_or_text() {
        assert_eq!(
            error_detail(
                br#"{"code":3,"message":"There was an error processing the identity token","details":[]}"#,
                "t.o.k"
            ),
            "There was an error processing the identity token"
        );
        assert_eq!(error_detail(b"plain\n text ", "t.o.k"), "plain text");
        let long = "x".repeat(2000);
        assert!(error_detail(long.as_bytes(), "t.o.k").chars().count() <= MAX_QUOTED + 1);
        // The token is removed before the text is shortened.
        let t = token(&format!(r#"{{"sub":"{}"}}"#, "s".repeat(400)));
        let echoed = format!("{} {t}", "y".repeat(MAX_QUOTED - 20));
        let out = error_detail(echoed.as_bytes(), &t);
        assert!(out.ends_with("<identity token>"), "{out}");
    }

    #[test]
    fn hint_mentions_expiry_or_issuer() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let mut id = Identity {
            subject: "s".into(),
            issuer: Some("https://issuer.example".into()),
            expires: Some(1_000_000_000),
        };
        assert!(token_hint(&id, now).contains("expired at 2001-09-09T01:46:40Z"));
        id.expires = Some(3_000_000_000);
        assert!(token_hint(&id, now).contains("https://issuer.example"));
    }

    #[test]
    fn expired_certificates_do_not_sign() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert!(check_unexpired(t, t, "u").is_ok());
        let err = check_unexpired(t, t + Duration::from_secs(1), "http://f")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expired at 2001-09-09T01:46:40Z"), "{err}");
    }

    #[test]
    fn malformed_responses_are_rejected() {
        let key = SigningScheme::ECDSA_P256_SHA256_ASN1
            .create_signer()
            .unwrap();
        let der = key
            .to_sigstore_keypair()
            .unwrap()
            .public_key_to_der()
            .unwrap();
        let public = PublicKey::from_spki_der(&der).unwrap();
        for (body, want) in [
            (&b"not json"[..], "not the expected JSON"),
            (br#"{"other":{}}"#, "no signedCertificateEmbeddedSct"),
            (
                br#"{"signedCertificateDetachedSct":{"chain":{"certificates":[]}}}"#,
                "chain is empty",
            ),
            (
                br#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":["hello"]}}}"#,
                "not a PEM certificate",
            ),
            (
                br#"{"signedCertificateEmbeddedSct":{"chain":{"certificates":["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]}}}"#,
                "certificate 1 is not X.509",
            ),
        ] {
            let err = Issued::from_response(body, &public, "http://f")
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("malformed") && err.contains(want), "{err}");
        }
    }

    #[test]
    fn urls_are_checked_and_shown_without_credentials() {
        assert_eq!(
            display_url("https://user:pw@fulcio.example/base").unwrap(),
            "https://fulcio.example/base"
        );
        assert!(display_url("fulcio.example").is_err());
        assert!(display_url("ftp://fulcio.example").is_err());
    }
}
