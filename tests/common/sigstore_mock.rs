//! The Sigstore JS team's `@sigstore/mock` (Rekor and Fulcio) behind
//! tests/tools/sigstore-mock/server.js, on 127.0.0.1.

use std::path::Path;

use super::{Service, free_port, root};

/// The mock, accepting tokens from any issuer.
pub fn start() -> Service {
    start_with_issuers(&[])
}

/// The mock; with `issuers`, its Fulcio accepts only tokens from those issuers.
pub fn start_with_issuers(issuers: &[&str]) -> Service {
    let dir = root().join("tests/tools/sigstore-mock");
    assert!(
        dir.join("node_modules/@sigstore/mock").is_dir(),
        "@sigstore/mock is not installed: run `npm ci --prefix tests/tools/sigstore-mock`"
    );
    let port = free_port();
    let mut args = vec![
        dir.join("server.js").display().to_string(),
        port.to_string(),
    ];
    for iss in issuers {
        args.extend(["--fulcio-issuer".to_string(), iss.to_string()]);
    }
    Service::start(
        "sigstore-mock",
        Path::new("node"),
        &args,
        &[],
        port,
        &format!("http://127.0.0.1:{port}/healthz"),
    )
}

/// The mock's base URL.
pub fn url(s: &Service) -> String {
    format!("http://127.0.0.1:{}", s.port)
}

/// An OIDC token with `claims` and a signature nobody checks: the mock's
/// Fulcio reads the claims and never verifies the token.
pub fn unsigned_jwt(claims: serde_json::Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        part(&claims),
        URL_SAFE_NO_PAD.encode(b"unchecked")
    )
}
