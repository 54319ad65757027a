//! Timestamps as Chains writes them: parsed as RFC 3339 (Kubernetes'
//! `metav1.Time`), moved to UTC, and formatted the way each Go encoder does.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parse an RFC 3339 timestamp and convert it to UTC. `None` if it is not one.
pub fn parse_utc(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

fn base(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Go's `time.RFC3339Nano` (encoding/json of `time.Time`): fraction with trailing zeros removed.
pub fn rfc3339_nano(t: OffsetDateTime) -> String {
    let nanos = t.nanosecond();
    if nanos == 0 {
        return format!("{}Z", base(t));
    }
    let frac = format!("{nanos:09}");
    format!("{}.{}Z", base(t), frac.trim_end_matches('0'))
}

/// protojson's `Timestamp`: 0, 3, 6 or 9 fractional digits.
pub fn protojson(t: OffsetDateTime) -> String {
    let nanos = t.nanosecond();
    let frac = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    format!("{}{frac}Z", base(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let t = parse_utc("1995-12-24T06:12:12.000000012+12:00").unwrap();
        assert_eq!(rfc3339_nano(t), "1995-12-23T18:12:12.000000012Z");
        assert_eq!(protojson(t), "1995-12-23T18:12:12.000000012Z");
        let t = parse_utc("2021-03-29T09:50:00.5Z").unwrap();
        assert_eq!(rfc3339_nano(t), "2021-03-29T09:50:00.5Z");
        assert_eq!(protojson(t), "2021-03-29T09:50:00.500Z");
        let t = parse_utc("2021-03-29T09:50:00Z").unwrap();
        assert_eq!(protojson(t), "2021-03-29T09:50:00Z");
        assert!(parse_utc("yesterday").is_none());
    }
}
