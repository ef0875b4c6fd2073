//! Recorder clocks and their correction.
//!
//! Why: a recorder's clock is whatever someone set it to, often minutes off, in local time,
//! sometimes following daylight saving and sometimes not. An investigator who establishes
//! the true time of one moment ("the frame at 12.5 s was really 14:03:10") or the offset of
//! a camera must see every result on the corrected clock, and the record must keep what the
//! recorder said, what the operator established and why. This module is the arithmetic:
//! what a correction is ([`ClockCorrection`]), how it turns a recorded start into a true
//! one ([`ClockCorrection::apply`]), how a local time in an IANA zone is resolved (an hour
//! repeated or skipped by daylight saving is refused with the way out, never guessed:
//! [`resolve_local`]), how times are shown ([`format_local`]) and where the UTC offset
//! changes inside a recording ([`offset_changes`]).
//!
//! All times are milliseconds since the Unix epoch (UTC); a recording's media time
//! (`pts_ms`) is continuous, so a daylight-saving change inside a recording changes how
//! times are *shown*, never the order or the spacing of what was seen.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// What a correction applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum ClockScope {
    /// One source (wins over its camera's default).
    Source { source_id: String },
    /// Every source of a camera that has no correction of its own.
    Camera { camera: String },
}

impl ClockScope {
    pub fn describe(&self) -> String {
        match self {
            ClockScope::Source { source_id } => format!("source {source_id}"),
            ClockScope::Camera { camera } => format!("camera {camera}"),
        }
    }
}

/// What the operator established about a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockFix {
    /// True time = the recorder's time + `offset_ms`.
    Offset { offset_ms: i64 },
    /// The frame at media time `pts_ms` was really at `true_wall_ms` (one source only).
    Anchor {
        pts_ms: i64,
        true_wall_ms: i64,
        /// The true time as the operator typed it.
        as_given: String,
    },
    /// Back to the recorder's own clock (the earlier corrections stay in the history).
    Revert,
}

/// A clock correction, as recorded in the case's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockCorrection {
    pub scope: ClockScope,
    pub fix: ClockFix,
    /// IANA zone of the place (`Europe/Paris`): local times are shown in it, with their
    /// UTC offset at each moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The recorder wrote its local time (in `time_zone`) where UTC was expected: its
    /// recorded start is re-read as a local time before any offset applies.
    #[serde(default)]
    pub recorder_local: bool,
}

/// Why a clock correction cannot be made or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "unknown time zone {0:?}: give an IANA name such as Europe/Paris, America/New_York or UTC"
    )]
    UnknownZone(String),
    #[error(
        "cannot read {given:?} as a clock offset: write it like +90s, -1h30m, +00:01:30 or -250ms"
    )]
    BadOffset { given: String },
    #[error("cannot read {given:?} as a time: write 2024-06-01T14:03:10+02:00, or 2024-06-01 14:03:10 (or 14:03:10) with --tz")]
    BadTime { given: String },
    #[error("{local} happened twice in {zone} (the clocks went back: {first} then {second}); say which with its offset, e.g. {example}")]
    Ambiguous {
        local: String,
        zone: String,
        first: String,
        second: String,
        example: String,
    },
    #[error("{local} never happened in {zone} (the clocks went forward over it); check the time, or give it with an explicit offset")]
    Skipped { local: String, zone: String },
    #[error("{given:?} has no date and none can be taken from the source (its start is unknown): give the date too")]
    NoDate { given: String },
    #[error("a local time needs a time zone: add --tz (e.g. --tz Europe/Paris) or write the offset (+02:00)")]
    NoZone,
    #[error("{0}")]
    Invalid(String),
}

/// Parse an IANA zone name.
pub fn parse_zone(name: &str) -> Result<Tz, ClockError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ClockError::UnknownZone(name.to_owned()))
}

/// Parse a signed offset: `+90s`, `-1h30m`, `+2m5s`, `-250ms`, `+00:01:30`, `-01:00:00.500`.
pub fn parse_offset_ms(s: &str) -> Result<i64, ClockError> {
    let bad = || ClockError::BadOffset {
        given: s.to_owned(),
    };
    let t = s.trim();
    let (sign, rest) = match t.chars().next() {
        Some('+') => (1, &t[1..]),
        Some('-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let ms = if rest.contains(':') {
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let h: i64 = parts[0].parse().map_err(|_| bad())?;
        let m: i64 = parts[1].parse().map_err(|_| bad())?;
        let sec: f64 = parts[2].parse().map_err(|_| bad())?;
        if !(0..60).contains(&m) || !(0.0..60.0).contains(&sec) {
            return Err(bad());
        }
        h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as i64
    } else {
        let mut total = 0i64;
        let mut num = String::new();
        let mut chars = rest.chars().peekable();
        let mut any = false;
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: i64 = num.parse().map_err(|_| bad())?;
            num.clear();
            let unit_ms = match c {
                'h' => 3_600_000,
                'm' if chars.peek() == Some(&'s') => {
                    chars.next();
                    1
                }
                'm' => 60_000,
                's' => 1000,
                _ => return Err(bad()),
            };
            total += n * unit_ms;
            any = true;
        }
        if !num.is_empty() || !any {
            return Err(bad());
        }
        total
    };
    Ok(sign * ms)
}

/// Show a signed duration the way [`parse_offset_ms`] reads it (`+1m30s`, `-250ms`).
pub fn format_offset(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let mut rest = ms.unsigned_abs();
    let mut out = String::from(sign);
    for (unit, name) in [(3_600_000u64, "h"), (60_000, "m"), (1000, "s"), (1, "ms")] {
        if rest >= unit {
            out.push_str(&format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    if out.len() == 1 {
        out.push_str("0s");
    }
    out
}

/// A local time in `zone`, as a UTC instant; an hour repeated or skipped by daylight
/// saving is an error that says what to type instead.
pub fn resolve_local(local: NaiveDateTime, zone: &Tz) -> Result<i64, ClockError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.timestamp_millis()),
        LocalResult::Ambiguous(a, b) => Err(ClockError::Ambiguous {
            local: local.format("%Y-%m-%d %H:%M:%S").to_string(),
            zone: zone.name().to_owned(),
            first: a.format("%H:%M:%S%:z").to_string(),
            second: b.format("%H:%M:%S%:z").to_string(),
            example: b.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        }),
        LocalResult::None => Err(ClockError::Skipped {
            local: local.format("%Y-%m-%d %H:%M:%S").to_string(),
            zone: zone.name().to_owned(),
        }),
    }
}

/// Read the true time an operator typed: RFC 3339 with an offset; or a local date and
/// time (`2024-06-01 14:03:10`, `T` accepted) in `zone`; or a time alone (`14:03:10`),
/// dated from `default_day_ms` (the recorded time of that moment) in `zone`.
pub fn parse_true_time(
    s: &str,
    zone: Option<&Tz>,
    default_day_ms: Option<i64>,
) -> Result<i64, ClockError> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_millis());
    }
    let bad = || ClockError::BadTime {
        given: s.to_owned(),
    };
    let norm = t.replacen(' ', "T", 1);
    let local = if let Ok(dt) = NaiveDateTime::parse_from_str(&norm, "%Y-%m-%dT%H:%M:%S%.f") {
        dt
    } else if let Ok(time) = NaiveTime::parse_from_str(t, "%H:%M:%S%.f") {
        let day_ms = default_day_ms.ok_or_else(|| ClockError::NoDate {
            given: s.to_owned(),
        })?;
        let z = zone.ok_or(ClockError::NoZone)?;
        let day: NaiveDate = z
            .timestamp_millis_opt(day_ms)
            .single()
            .ok_or_else(bad)?
            .date_naive();
        day.and_time(time)
    } else {
        return Err(bad());
    };
    let z = zone.ok_or(ClockError::NoZone)?;
    resolve_local(local, z)
}

impl ClockCorrection {
    /// The zone, parsed (`None` when the correction names none).
    pub fn zone(&self) -> Result<Option<Tz>, ClockError> {
        self.time_zone.as_deref().map(parse_zone).transpose()
    }

    /// The true start of a source recorded as starting at `recorded_start_ms`, with notes
    /// on what the correction had to decide (a recorder-local start in a repeated or
    /// skipped hour).
    pub fn apply(&self, recorded_start_ms: Option<i64>) -> Result<Applied, ClockError> {
        let mut notes = Vec::new();
        let mut base = recorded_start_ms;
        if self.recorder_local {
            let zone = self.zone()?.ok_or(ClockError::NoZone)?;
            if let Some(r) = recorded_start_ms {
                let naive = DateTime::<Utc>::from_timestamp_millis(r)
                    .ok_or_else(|| ClockError::Invalid(format!("recorded start {r} ms")))?
                    .naive_utc();
                base = Some(match zone.from_local_datetime(&naive) {
                    LocalResult::Single(t) => t.timestamp_millis(),
                    LocalResult::Ambiguous(a, _) => {
                        notes.push(format!(
                            "the recorder's start {} happened twice in {} (clocks went back): the first was taken",
                            naive.format("%Y-%m-%d %H:%M:%S"),
                            zone.name()
                        ));
                        a.timestamp_millis()
                    }
                    LocalResult::None => {
                        notes.push(format!(
                            "the recorder's start {} never happened in {} (clocks went forward): read with the UTC offset in force before the change",
                            naive.format("%Y-%m-%d %H:%M:%S"),
                            zone.name()
                        ));
                        r - zone_offset_ms(&zone, r - 3 * 3_600_000)
                    }
                });
            }
        }
        let start = match &self.fix {
            ClockFix::Offset { offset_ms } => base.map(|b| b + offset_ms),
            ClockFix::Anchor {
                pts_ms,
                true_wall_ms,
                ..
            } => Some(true_wall_ms - pts_ms),
            ClockFix::Revert => recorded_start_ms,
        };
        Ok(Applied {
            start_wall_ms: start,
            notes,
        })
    }

    /// One line for people: what was established.
    pub fn describe(&self) -> String {
        let what = match &self.fix {
            ClockFix::Offset { offset_ms } => format!("offset {}", format_offset(*offset_ms)),
            ClockFix::Anchor {
                pts_ms, as_given, ..
            } => format!("frame at {:.3} s was {as_given}", *pts_ms as f64 / 1000.0),
            ClockFix::Revert => "back to the recorder's clock".to_owned(),
        };
        let mut s = format!("{what} ({})", self.scope.describe());
        if let Some(z) = &self.time_zone {
            s.push_str(&format!(", zone {z}"));
        }
        if self.recorder_local {
            s.push_str(", recorder wrote local time");
        }
        s
    }
}

/// A correction applied to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub start_wall_ms: Option<i64>,
    pub notes: Vec<String>,
}

/// The UTC offset of `zone` at `at_ms`, in ms.
pub fn zone_offset_ms(zone: &Tz, at_ms: i64) -> i64 {
    zone.timestamp_millis_opt(at_ms)
        .single()
        .map(|t| t.offset().fix().local_minus_utc() as i64 * 1000)
        .unwrap_or(0)
}

/// `2024-10-27 02:59:30.250+02:00` in `zone` (UTC, written `Z`, when `None`).
pub fn format_local(at_ms: i64, zone: Option<&Tz>) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(at_ms) else {
        return format!("{at_ms} ms");
    };
    let frac = if at_ms.rem_euclid(1000) != 0 {
        "%.3f"
    } else {
        ""
    };
    match zone {
        Some(z) => utc
            .with_timezone(z)
            .format(&format!("%Y-%m-%d %H:%M:%S{frac}%:z"))
            .to_string(),
        None => utc.format(&format!("%Y-%m-%d %H:%M:%S{frac}Z")).to_string(),
    }
}

/// A change of the UTC offset (daylight saving) at `at_wall_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffsetChange {
    pub at_wall_ms: i64,
    pub before_ms: i64,
    pub after_ms: i64,
}

impl OffsetChange {
    /// Clocks went back: an hour of local times is shown twice.
    pub fn repeats_local_times(&self) -> bool {
        self.after_ms < self.before_ms
    }

    /// What it means for people reading local times.
    pub fn describe(&self, zone: &Tz) -> String {
        let d = (self.before_ms - self.after_ms).abs();
        let at = format_local(self.at_wall_ms, Some(zone));
        if self.repeats_local_times() {
            format!(
                "clocks went back {} at {at} ({}): local times of the {} before it appear twice; times are shown with their UTC offset",
                format_offset(d).trim_start_matches('+'),
                zone.name(),
                format_offset(d).trim_start_matches('+'),
            )
        } else {
            format!(
                "clocks went forward {} at {at} ({}): {} of local times never happened; no footage is missing for it",
                format_offset(d).trim_start_matches('+'),
                zone.name(),
                format_offset(d).trim_start_matches('+'),
            )
        }
    }
}

/// Every change of `zone`'s UTC offset in `[from_ms, to_ms]`, to the second.
pub fn offset_changes(zone: &Tz, from_ms: i64, to_ms: i64) -> Vec<OffsetChange> {
    const STEP_MS: i64 = 6 * 3_600_000;
    let mut out = Vec::new();
    if to_ms <= from_ms {
        return out;
    }
    let mut a = from_ms;
    let mut oa = zone_offset_ms(zone, a);
    while a < to_ms {
        let b = (a + STEP_MS).min(to_ms);
        let ob = zone_offset_ms(zone, b);
        if ob != oa {
            // Bisect to the second.
            let (mut lo, mut hi) = (a, b);
            while hi - lo > 1000 {
                let mid = lo + (hi - lo) / 2;
                if zone_offset_ms(zone, mid) == oa {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let at = hi - hi.rem_euclid(1000);
            let at = if zone_offset_ms(zone, at) == ob {
                at
            } else {
                at + 1000
            };
            out.push(OffsetChange {
                at_wall_ms: at,
                before_ms: oa,
                after_ms: ob,
            });
        }
        a = b;
        oa = ob;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn offsets_parse_and_print_back() {
        for (s, v) in [
            ("+90s", 90_000),
            ("-1h30m", -5_400_000),
            ("+2m5s", 125_000),
            ("-250ms", -250),
            ("+00:01:30", 90_000),
            ("-01:00:00.500", -3_600_500),
            ("+1h2m3s4ms", 3_723_004),
        ] {
            assert_eq!(parse_offset_ms(s).unwrap(), v, "{s}");
            assert_eq!(parse_offset_ms(&format_offset(v)).unwrap(), v, "{s}");
        }
        for s in ["90s", "+", "+1x", "+1h30", "+00:61:00", "", "+1:2"] {
            assert!(parse_offset_ms(s).is_err(), "{s}");
        }
        assert_eq!(format_offset(0), "+0s");
        assert_eq!(format_offset(-90_000), "-1m30s");
    }

    #[test]
    fn local_times_resolve_and_daylight_saving_is_refused_not_guessed() {
        let paris = parse_zone("Europe/Paris").unwrap();
        let summer =
            NaiveDateTime::parse_from_str("2024-06-01T14:03:10", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(
            resolve_local(summer, &paris).unwrap(),
            ms("2024-06-01T12:03:10Z")
        );
        // 27 Oct 2024: 03:00 CEST -> 02:00 CET, 02:30 happened twice.
        let twice =
            NaiveDateTime::parse_from_str("2024-10-27T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        let e = resolve_local(twice, &paris).unwrap_err();
        assert!(matches!(e, ClockError::Ambiguous { .. }));
        assert!(e.to_string().contains("2024-10-27T02:30:00+01:00"), "{e}");
        // 31 Mar 2024: 02:00 CET -> 03:00 CEST, 02:30 never happened.
        let never =
            NaiveDateTime::parse_from_str("2024-03-31T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert!(matches!(
            resolve_local(never, &paris),
            Err(ClockError::Skipped { .. })
        ));
        assert!(matches!(
            parse_zone("Europe/Pariss"),
            Err(ClockError::UnknownZone(_))
        ));
    }

    #[test]
    fn true_times_in_every_accepted_form() {
        let paris = parse_zone("Europe/Paris").unwrap();
        let want = ms("2024-06-01T14:03:10+02:00");
        assert_eq!(
            parse_true_time("2024-06-01T14:03:10+02:00", None, None).unwrap(),
            want
        );
        assert_eq!(
            parse_true_time("2024-06-01 14:03:10", Some(&paris), None).unwrap(),
            want
        );
        let day = ms("2024-06-01T08:00:00Z");
        assert_eq!(
            parse_true_time("14:03:10", Some(&paris), Some(day)).unwrap(),
            want
        );
        assert!(matches!(
            parse_true_time("14:03:10", Some(&paris), None),
            Err(ClockError::NoDate { .. })
        ));
        assert!(matches!(
            parse_true_time("2024-06-01 14:03:10", None, None),
            Err(ClockError::NoZone)
        ));
        assert!(matches!(
            parse_true_time("tomorrow", Some(&paris), None),
            Err(ClockError::BadTime { .. })
        ));
    }

    #[test]
    fn corrections_apply_to_the_recorded_start() {
        let recorded = ms("2024-06-01T12:00:00Z");
        let scope = ClockScope::Source {
            source_id: "S1".into(),
        };
        let offset = ClockCorrection {
            scope: scope.clone(),
            fix: ClockFix::Offset { offset_ms: 90_000 },
            time_zone: None,
            recorder_local: false,
        };
        assert_eq!(
            offset.apply(Some(recorded)).unwrap().start_wall_ms,
            Some(recorded + 90_000)
        );
        assert_eq!(offset.apply(None).unwrap().start_wall_ms, None);
        let anchor = ClockCorrection {
            scope: scope.clone(),
            fix: ClockFix::Anchor {
                pts_ms: 12_500,
                true_wall_ms: ms("2024-06-01T14:03:10+02:00"),
                as_given: "14:03:10".into(),
            },
            time_zone: Some("Europe/Paris".into()),
            recorder_local: false,
        };
        // An anchor places even a source whose start is unknown.
        assert_eq!(
            anchor.apply(None).unwrap().start_wall_ms,
            Some(ms("2024-06-01T12:02:57.500Z"))
        );
        // A recorder that wrote Paris time as if it were UTC: 12:00 "UTC" is 10:00 UTC.
        let local = ClockCorrection {
            scope,
            fix: ClockFix::Offset { offset_ms: 0 },
            time_zone: Some("Europe/Paris".into()),
            recorder_local: true,
        };
        assert_eq!(
            local.apply(Some(recorded)).unwrap().start_wall_ms,
            Some(ms("2024-06-01T10:00:00Z"))
        );
        assert!(local.describe().contains("recorder wrote local time"));
    }

    #[test]
    fn offset_changes_are_found_to_the_second() {
        let paris = parse_zone("Europe/Paris").unwrap();
        let from = ms("2024-10-27T00:30:00Z");
        let ch = offset_changes(&paris, from, from + 3 * 3_600_000);
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].at_wall_ms, ms("2024-10-27T01:00:00Z"));
        assert!(ch[0].repeats_local_times());
        assert_eq!((ch[0].before_ms, ch[0].after_ms), (7_200_000, 3_600_000));
        assert!(
            ch[0].describe(&paris).contains("appear twice"),
            "{}",
            ch[0].describe(&paris)
        );
        assert_eq!(
            format_local(ch[0].at_wall_ms - 1000, Some(&paris)),
            "2024-10-27 02:59:59+02:00"
        );
        assert_eq!(
            format_local(ch[0].at_wall_ms, Some(&paris)),
            "2024-10-27 02:00:00+01:00"
        );
        assert!(offset_changes(
            &paris,
            ms("2024-06-01T00:00:00Z"),
            ms("2024-06-08T00:00:00Z")
        )
        .is_empty());
        let spring = offset_changes(
            &paris,
            ms("2024-03-30T00:00:00Z"),
            ms("2024-04-01T00:00:00Z"),
        );
        assert_eq!(spring.len(), 1);
        assert!(!spring[0].repeats_local_times());
        assert_eq!(
            format_local(ms("2024-06-01T12:00:00.250Z"), None),
            "2024-06-01 12:00:00.250Z"
        );
    }
}
