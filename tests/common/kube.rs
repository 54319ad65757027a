//! Kubernetes API servers for tests, on 127.0.0.1: kmock (PyPI) behind
//! tests/tools/kube_emulator.py, and our own tests/tools/kube_rv_server.py
//! for what kmock cannot emulate. With a kubeconfig pointing at them.

use std::path::{Path, PathBuf};

use super::{Service, free_port, root};

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
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: {token}}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u, namespace: {namespace}}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    p
}
