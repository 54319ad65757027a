//! A real registry (Debian's `docker-registry`, distribution 2.8, which has
//! no referrers API) on 127.0.0.1, with filesystem storage in a temp dir.
//! Needs `apt-get install docker-registry` (and `apache2-utils` for auth).

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chains::run::reference::ImageDigest;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Service, free_port};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

pub struct Registry {
    _service: Service,
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`
    pub host: String,
    /// The basic-auth user and password, for a registry started with auth.
    pub creds: Option<(String, String)>,
}

impl Registry {
    /// An anonymous registry.
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// A registry with htpasswd basic auth (bcrypt) for one user; needs
    /// `htpasswd` (`apt-get install apache2-utils`).
    pub fn with_auth(user: &str, password: &str) -> Registry {
        Registry::start_with(Some((user, password)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Registry {
        let installed = Command::new("docker-registry").arg("--version").output();
        assert!(
            installed.is_ok_and(|o| o.status.success()),
            "docker-registry is not installed: apt-get install -y --no-install-recommends docker-registry"
        );
        let dir = tempfile::tempdir().unwrap();
        let (port, debug) = (free_port(), free_port());
        let mut auth_yaml = String::new();
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) runs");
            assert!(out.status.success(), "htpasswd failed");
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, out.stdout).unwrap();
            auth_yaml = format!(
                "auth: {{htpasswd: {{realm: basic-realm, path: {}}}}}\n",
                file.display()
            );
        }
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{level: warn}}\n\
                 storage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}}}\n\
                 http: {{addr: 127.0.0.1:{port}, secret: test-secret, debug: {{addr: 127.0.0.1:{debug}}}}}\n\
                 {auth_yaml}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        // The API answers 401 with auth on; the debug listener says when it is up.
        let service = Service::start(
            "registry",
            Path::new("docker-registry"),
            &["serve".to_string(), config.display().to_string()],
            &[],
            port,
            &format!("http://127.0.0.1:{debug}/debug/vars"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "registry API did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            _service: service,
            _dir: dir,
            host: format!("127.0.0.1:{port}"),
            creds: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    pub fn http(&self) -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    pub fn auth(&self, rb: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.creds {
            Some((u, p)) => rb.basic_auth(u, Some(p)),
            None => rb,
        }
    }

    pub fn upload_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let http = self.http();
        let resp = self
            .auth(http.post(format!("http://{}/v2/{repo}/blobs/uploads/", self.host)))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202, "starting an upload");
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let url = if location.starts_with('/') {
            format!("http://{}{location}", self.host)
        } else {
            location
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        let resp = self
            .auth(http.put(format!("{url}{sep}digest={digest}")))
            .header("Content-Type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "finishing an upload");
        digest
    }

    /// Push a one-layer OCI image to `repo:tag`; its digest reference.
    pub fn push_image(&self, repo: &str, tag: &str, seed: &str) -> ImageDigest {
        let layer = format!("layer of {seed}").into_bytes();
        let layer_digest = self.upload_blob(repo, &layer);
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }))
        .unwrap();
        let config_digest = self.upload_blob(repo, &config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "size": config.len(), "digest": config_digest},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": layer.len(), "digest": layer_digest}],
        }))
        .unwrap();
        let resp = self
            .auth(
                self.http()
                    .put(format!("http://{}/v2/{repo}/manifests/{tag}", self.host)),
            )
            .header("Content-Type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "pushing the image manifest");
        ImageDigest::parse(&format!("{}/{repo}@{}", self.host, sha256(&manifest))).unwrap()
    }

    /// A manifest's bytes and JSON, or None on 404.
    pub fn manifest(&self, repo: &str, reference: &str, accept: &str) -> Option<(Vec<u8>, Value)> {
        let resp = self
            .auth(self.http().get(format!(
                "http://{}/v2/{repo}/manifests/{reference}",
                self.host
            )))
            .header("Accept", accept)
            .send()
            .unwrap();
        match resp.status().as_u16() {
            404 => None,
            200 => {
                let raw = resp.bytes().unwrap().to_vec();
                let json = serde_json::from_slice(&raw).unwrap();
                Some((raw, json))
            }
            s => panic!("GET manifest {repo}:{reference}: {s}"),
        }
    }

    pub fn blob(&self, repo: &str, digest: &str) -> Vec<u8> {
        let resp = self
            .auth(
                self.http()
                    .get(format!("http://{}/v2/{repo}/blobs/{digest}", self.host)),
            )
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "GET blob {digest}");
        resp.bytes().unwrap().to_vec()
    }
}

pub fn sha256(data: &[u8]) -> String {
    let hex: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
