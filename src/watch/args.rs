//! `chains watch` flags. They live next to the controller rather than in
//! `cli.rs` so the controller's knobs and their defaults read in one place;
//! `cli.rs` only names the subcommand.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Kubeconfig to connect with [default: the in-cluster service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Watch only these namespaces, comma-separated [default: all namespaces].
    #[arg(long, value_name = "NS,...", value_delimiter = ',')]
    pub namespace: Vec<String>,

    /// Namespace holding chains-config, signing-secrets and the Lease
    /// [default: POD_NAMESPACE, else the service account's or the kubeconfig context's].
    #[arg(long, value_name = "NS", env = "POD_NAMESPACE")]
    pub controller_namespace: Option<String>,

    /// Signing key (cosign key, PEM key or KMS URI) for every artifact type,
    /// instead of the signing-secrets Secret.
    #[arg(long, value_name = "FILE|URI")]
    pub key: Option<String>,

    /// File holding --key's password [default: COSIGN_PASSWORD].
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Runs attested at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,

    /// Sustained requests per second to the Kubernetes API.
    #[arg(long, value_name = "QPS", default_value_t = 50.0)]
    pub kube_api_qps: f64,

    /// Requests allowed in a burst above --kube-api-qps.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub kube_api_burst: u32,

    /// Attest only runs that succeeded (failed runs are left unmarked).
    #[arg(long)]
    pub only_successful: bool,

    /// Do not elect a leader: process runs even if another replica does.
    #[arg(long)]
    pub no_leader_election: bool,

    /// The coordination.k8s.io Lease replicas elect a leader with.
    #[arg(long, value_name = "NAME", default_value = "chains-watch")]
    pub lease_name: String,

    /// How long a Lease holds without renewal (e.g. 15s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,

    /// How long the leader keeps working without a successful renewal; must
    /// be shorter than --lease-duration [default: 2/3 of --lease-duration,
    /// client-go's 10s for 15s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lease_renew_deadline: Option<Duration>,

    /// This replica's identity in the Lease [default: POD_NAME, else host name and pid].
    #[arg(long, value_name = "ID", env = "POD_NAME")]
    pub identity: Option<String>,

    /// Serve /metrics, /healthz and /readyz here.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9090")]
    pub metrics_address: String,

    /// First delay before a failed run is tried again (doubling per retry).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub retry_delay: Duration,

    /// Log lines as text or as JSON objects (one per line).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

impl WatchArgs {
    /// The renew deadline and the pause between lease attempts, checked
    /// against the lease duration (client-go's 15s/10s/2s by default).
    pub fn lease_timing(&self) -> Result<(Duration, Duration), String> {
        let duration = self.lease_duration;
        let deadline = self.lease_renew_deadline.unwrap_or(duration * 2 / 3);
        if deadline.is_zero() || deadline >= duration {
            return Err(format!(
                "--lease-renew-deadline ({}ms) must be above 0 and below --lease-duration ({}ms)",
                deadline.as_millis(),
                duration.as_millis()
            ));
        }
        let retry = (duration * 2 / 15)
            .max(Duration::from_millis(50))
            .min(deadline / 2);
        Ok((deadline, retry))
    }
}

/// `500ms`, `15s`, `2m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 15s or 2m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: unknown unit {unit:?} (ms, s or m)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
