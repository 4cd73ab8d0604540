//! How values are written in responses.

use std::time::{Duration, UNIX_EPOCH};

/// Milliseconds since the epoch as RFC 3339 in UTC, e.g. `2026-11-22T04:08:10.124Z`.
pub fn rfc3339(millis: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis)).to_string()
}
