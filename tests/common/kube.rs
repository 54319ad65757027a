//! Kubernetes API servers for tests, on 127.0.0.1: kmock (PyPI) behind
//! tests/tools/kube_emulator.py, our own tests/tools/kube_rv_server.py for
//! what kmock cannot emulate, and a real kube-apiserver with etcd when
//! `CHAINS_TEST_KUBE_APISERVER` names one ([`real`]). [`Cluster`] makes one
//! test body run on any of them; kubeconfigs point at them; [`rbac`]
//! decides requests as the API server's RBAC authorizer would.

pub mod rbac;
pub mod real;

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Service, free_port, root};

/// Which API server a [`Cluster`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// kmock: no resourceVersions, no conditional writes, full objects only.
    Kmock,
    /// tests/tools/kube_rv_server.py: resourceVersions, 410, metadata-only
    /// lists, a record of every request, and test hooks (partitions).
    Rv,
    /// kube-apiserver and etcd: RBAC from deploy/, Tekton's CRDs with the
    /// status subresource, managedFields, an audit log.
    Real,
}

enum Server {
    Python(Service),
    Real(real::ApiServer),
}

/// A test's API server, kept running while the value lives.
pub struct Cluster {
    pub flavor: Flavor,
    pub port: u16,
    server: Server,
}

impl Cluster {
    pub fn kmock() -> Cluster {
        Self::python(Flavor::Kmock, emulator())
    }

    pub fn rv() -> Cluster {
        Self::python(Flavor::Rv, rv_server())
    }

    fn python(flavor: Flavor, service: Service) -> Cluster {
        Cluster {
            flavor,
            port: service.port,
            server: Server::Python(service),
        }
    }

    /// kube-apiserver and etcd with Tekton's CRDs, the namespaces `ci` and
    /// `other`, and deploy/controller.yaml applied (its ConfigMap left to
    /// the test), then the manifests in `more` (e.g. deploy/buckets.yaml);
    /// `None`, saying why, when `CHAINS_TEST_KUBE_APISERVER` is not set.
    pub fn real(test: &str, more: &[&str]) -> Option<Cluster> {
        let Some(binary) = std::env::var_os(real::APISERVER_ENV).filter(|v| !v.is_empty()) else {
            eprintln!(
                "{test}: skipping the real kube-apiserver mode: {} is not set (it names a \
                 kube-apiserver binary; none installs from crates.io, PyPI, npm or Debian); \
                 the same scenario ran on the test server",
                real::APISERVER_ENV
            );
            return None;
        };
        let server = real::ApiServer::start(Path::new(&binary));
        server.install_tekton_crds();
        for ns in ["ci", "other"] {
            let (code, v) = server.send(
                "POST",
                "/api/v1/namespaces",
                Some(&serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})),
            );
            assert!(code < 300, "namespace {ns}: {code} {v}");
        }
        server.apply("deploy/controller.yaml", &["ConfigMap"]);
        for file in more {
            server.apply(file, &[]);
        }
        // Before any controller starts, so that none meets a 403 while the
        // authorizer catches up (the tests assert there is none).
        let mut granted = vec![
            "/apis/tekton.dev/v1/taskruns?limit=1",
            "/apis/tekton.dev/v1/pipelineruns?limit=1",
            "/api/v1/namespaces/tekton-chains/configmaps/chains-config",
            "/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases/chains-watch",
        ];
        if more.contains(&"deploy/buckets.yaml") {
            granted.push("/apis/coordination.k8s.io/v1/namespaces/tekton-chains/leases?limit=1");
        }
        server.wait_for_controller_rbac(&granted);
        Some(Cluster {
            flavor: Flavor::Real,
            port: server.port,
            server: Server::Real(server),
        })
    }

    pub fn url(&self) -> String {
        match &self.server {
            Server::Python(s) => format!("http://127.0.0.1:{}", s.port),
            Server::Real(r) => r.url(),
        }
    }

    /// A client for the test's own requests (trusting the real server's CA).
    pub fn client(&self) -> reqwest::blocking::Client {
        match &self.server {
            Server::Python(_) => reqwest::blocking::Client::new(),
            Server::Real(r) => r.client(),
        }
    }

    /// The bearer token of the test's own requests (the real server's
    /// admin; the test servers take any).
    pub fn admin_token(&self) -> Option<&str> {
        match &self.server {
            Server::Python(_) => None,
            Server::Real(r) => Some(&r.admin_token),
        }
    }

    /// The bearer token a controller named `who` connects with: `who`
    /// itself on the test servers (which tell clients apart by it), the
    /// controller's ServiceAccount token on the real one (all replicas).
    pub fn token(&self, who: &str) -> String {
        match &self.server {
            Server::Python(_) => who.to_string(),
            Server::Real(r) => r.controller_token.clone(),
        }
    }

    /// A kubeconfig for controller `who` (see [`Cluster::token`]), with
    /// `namespace` as its context's; over TLS on the real server, the
    /// kubeconfig carries its CA.
    pub fn kubeconfig(&self, dir: &Path, namespace: &str, who: &str) -> PathBuf {
        match &self.server {
            Server::Python(s) => kubeconfig_as(dir, s.port, namespace, who),
            Server::Real(r) => {
                let path = dir.join(format!("kubeconfig-{who}"));
                let ca = CaIn::Data(r.ca.clone());
                write_kubeconfig(&path, &r.url(), Some(ca), namespace, &r.controller_token);
                path
            }
        }
    }

    /// The real server's audit log and the controller's token (for
    /// [`real::audit_traffic`]); `None` on the test servers.
    pub fn audit(&self) -> Option<(PathBuf, String)> {
        match &self.server {
            Server::Python(_) => None,
            Server::Real(r) => Some(r.audit()),
        }
    }

    /// The controllers' requests so far, as kube_rv_server.py's
    /// `/_test/traffic` lists them (`line`, `agent`, `token`, `answered`;
    /// the real server's come from its audit log, without Accept or bytes).
    pub fn traffic(&self) -> Vec<Value> {
        match &self.server {
            Server::Python(_) if self.flavor == Flavor::Rv => {
                reqwest::blocking::get(format!("{}/_test/traffic", self.url()))
                    .unwrap()
                    .json::<Value>()
                    .unwrap()
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            }
            Server::Python(_) => panic!("kmock records no traffic"),
            Server::Real(r) => r.traffic(),
        }
    }
}

/// Where a kubeconfig's cluster CA is.
pub enum CaIn {
    /// `certificate-authority-data`: the PEM, base64.
    Data(Vec<u8>),
    /// `certificate-authority`: a file.
    File(PathBuf),
}

/// Write a kubeconfig for `server` with a bearer `token`.
pub fn write_kubeconfig(path: &Path, server: &str, ca: Option<CaIn>, namespace: &str, token: &str) {
    use base64::Engine;
    let ca = match ca {
        None => String::new(),
        Some(CaIn::Data(pem)) => format!(
            ", certificate-authority-data: {}",
            base64::engine::general_purpose::STANDARD.encode(pem)
        ),
        Some(CaIn::File(p)) => format!(", certificate-authority: \"{}\"", p.display()),
    };
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"{server}\"{ca}}}\nusers:\n- name: u\n  user: {{token: {token}}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u, namespace: {namespace}}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
}

/// kmock, the Kubernetes API emulator.
pub fn emulator() -> Service {
    python_server("kube-emulator", "kube_emulator.py")
}

/// The small API server that keeps resourceVersions (conditional writes, 410 Gone).
pub fn rv_server() -> Service {
    python_server("kube-rv-server", "kube_rv_server.py")
}

/// `python3 tests/tools/<script> <port>`, ready when `/healthz` answers.
fn python_server(name: &str, script: &str) -> Service {
    let port = free_port();
    Service::start(
        name,
        Path::new("python3"),
        &[
            root()
                .join("tests/tools")
                .join(script)
                .display()
                .to_string(),
            port.to_string(),
        ],
        &[],
        port,
        &format!("http://127.0.0.1:{port}/healthz"),
    )
}

/// A kubeconfig in `dir` for the server on `port`, with `namespace` as the
/// context's default namespace and a bearer token.
pub fn kubeconfig(dir: &Path, port: u16, namespace: &str) -> PathBuf {
    kubeconfig_as(dir, port, namespace, "test-token")
}

/// As [`kubeconfig`], with the client's own bearer `token` (the test server
/// tells clients apart by it, e.g. to cut one off), in `kubeconfig-TOKEN`.
pub fn kubeconfig_as(dir: &Path, port: u16, namespace: &str, token: &str) -> PathBuf {
    let p = if token == "test-token" {
        dir.join("kubeconfig")
    } else {
        dir.join(format!("kubeconfig-{token}"))
    };
    write_kubeconfig(
        &p,
        &format!("http://127.0.0.1:{port}"),
        None,
        namespace,
        token,
    );
    p
}

/// tests/tools/kube_rv_server.py over TLS (tests/tools/kube_rv_tls.py),
/// under a certificate it writes into `cert_dir` as kube-apiserver writes
/// its own; the CA, read back from there as for a real API server.
pub fn rv_server_tls(cert_dir: &Path) -> (Service, Vec<u8>) {
    use std::process::{Command, Stdio};
    let port = free_port();
    let log = cert_dir.join("kube-rv-tls.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new("python3")
        .arg(root().join("tests/tools/kube_rv_tls.py"))
        .arg(port.to_string())
        .arg(cert_dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let mut service = Service {
        child,
        port,
        name: "kube-rv-tls".into(),
    };
    let ca = real::wait_ready(&mut service, cert_dir, "test-token", "/healthz", &log);
    (service, ca)
}
