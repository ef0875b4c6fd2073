//! Wall-clock parsing for operator input.
//!
//! CCTV clocks are local; a start time without an offset is ambiguous across DST changes,
//! so vigie insists on an explicit offset (`+02:00` or `Z`) rather than guessing a zone.

use chrono::{DateTime, FixedOffset};

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid wall-clock time {given:?}: expected RFC 3339 with an explicit offset, e.g. 2024-06-01T14:00:00+02:00 or 2024-06-01T12:00:00Z")]
pub struct WallClockParseError {
    pub given: String,
}

/// Parse an RFC 3339 time with an explicit offset.
pub fn parse_wall_clock(s: &str) -> Result<DateTime<FixedOffset>, WallClockParseError> {
    DateTime::parse_from_rfc3339(s.trim()).map_err(|_| WallClockParseError {
        given: s.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_z() {
        assert!(parse_wall_clock("2024-06-01T14:00:00+02:00").is_ok());
        assert!(parse_wall_clock("2024-06-01T12:00:00Z").is_ok());
    }

    #[test]
    fn rejects_times_without_offset() {
        let e = parse_wall_clock("2024-06-01T14:00:00").unwrap_err();
        assert!(e.to_string().contains("explicit offset"));
    }
}
