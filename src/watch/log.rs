//! Log lines on stderr: `level msg key=value ...` text, or one JSON object
//! per line (`--log-format json`) for log collectors.

use std::io::Write;
use std::sync::OnceLock;

use crate::cli::LogFormat;

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Choose the format once, before any line is written.
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
}

pub fn info(msg: &str, fields: &[(&str, &str)]) {
    line("info", msg, fields);
}

pub fn warn(msg: &str, fields: &[(&str, &str)]) {
    line("warn", msg, fields);
}

pub fn error(msg: &str, fields: &[(&str, &str)]) {
    line("error", msg, fields);
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn line(level: &str, msg: &str, fields: &[(&str, &str)]) {
    let text = match FORMAT.get().copied().unwrap_or(LogFormat::Text) {
        LogFormat::Json => {
            let mut o = serde_json::Map::new();
            o.insert("ts".into(), now().into());
            o.insert("level".into(), level.into());
            o.insert("msg".into(), msg.into());
            for (k, v) in fields {
                o.insert((*k).to_string(), (*v).into());
            }
            serde_json::Value::Object(o).to_string()
        }
        LogFormat::Text => {
            let mut s = format!("{} {level} {msg}", now());
            for (k, v) in fields {
                if v.contains(' ') || v.is_empty() {
                    s.push_str(&format!(" {k}={v:?}"));
                } else {
                    s.push_str(&format!(" {k}={v}"));
                }
            }
            s
        }
    };
    // One write per line, so lines from several threads do not interleave.
    let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
}
