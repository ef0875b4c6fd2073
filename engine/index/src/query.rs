//! The query model: raw flag strings in, a validated [`Query`] out.
//!
//! Two steps, as ripgrep's low/high args: [`QueryArgs`] mirrors the CLI flags as the
//! operator typed them (so this crate never sees clap), and [`Query::parse`] validates them
//! once into typed values. Every error names the flag, echoes what was given and says what
//! would have been accepted, because a search that silently ignores a typo ("teal",
//! "gate:sideways") returns a wrong answer that looks right.
//!
//! [`Query::to_args`] writes a query back as canonical flag strings; parsing those gives the
//! same query (property-tested), which is what the audit log relies on to replay a search.

use serde::{Deserialize, Serialize};
use vigie_core::plate::{self, PlatePattern, PlatePatternError, MAX_PLATE_QUERY_LEN};
use vigie_core::{parse_wall_clock, Colour, Compass, CrossingDirection};

use crate::error::QueryError;

/// A track matches a colour when that colour covers at least this share of its pixels
/// (of the whole object, or of its upper/lower body for `--upper`/`--lower`).
///
/// Why 0.2: the describer reports up to three dominant colours; a jacket over a shirt, a car
/// with black windows and tyres, all have a second colour well above 0.2, while shadows and
/// the stray background pixels the mask lets through stay below it.
pub const COLOUR_MIN_SHARE: f32 = 0.2;

/// The rule `--colour X` (whole object), `--upper X` and `--lower X` apply to a part's
/// colour list (the describer's, up to three colours of at least 0.12 each): the part
/// matches when X is among its colours **with a share of at least [`COLOUR_MIN_SHARE`]**
/// (0.2), whatever its rank. An empty list ("no colour": monochrome or infrared footage,
/// or nothing measured) matches no colour. The search's SQL applies this same rule
/// (`track_colour.share >= COLOUR_MIN_SHARE`); `vigie eval colour` calls this function.
pub fn colour_matches(shares: &[vigie_core::ColourShare], colour: Colour) -> bool {
    shares
        .iter()
        .any(|c| c.colour == colour && c.share >= COLOUR_MIN_SHARE)
}

/// `--class vehicle`: every road vehicle class of the COCO detector.
///
/// COCO has no "van": the detector calls a van `car` or `truck` (a minibus `bus`), and a
/// track takes the label most of its detections carried (`vigie_track::classes`). So a
/// van is found by `--class car` *or* by `--class truck`, never by both, and by
/// `--class vehicle` always.
pub const VEHICLE_CLASSES: [&str; 5] = ["car", "truck", "bus", "motorcycle", "bicycle"];

/// Classes a rider is attached to (`TrackSummary::ridden`).
pub const RIDDEN_CLASSES: [&str; 2] = ["bicycle", "motorcycle"];

/// What a `--class` value selects.
///
/// - `vehicle`: any of [`VEHICLE_CLASSES`];
/// - `person`: persons *and* ridden bicycles and motorcycles (a cyclist is one object, a
///   bicycle with its rider, and is still a person someone may be looking for:
///   `--class person --upper red` finds the cyclist in red);
/// - anything else: that label exactly (`--class bicycle` finds bicycles ridden or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRule {
    /// Labels that may match (what the side tables' `label` columns are filtered on).
    pub labels: Vec<String>,
    /// Of `labels`, the ridden classes match only when ridden (the `person` rule).
    pub ridden_only: Vec<String>,
}

impl ClassRule {
    pub fn of(class: &str) -> ClassRule {
        match class {
            "vehicle" => ClassRule {
                labels: VEHICLE_CLASSES.iter().map(|s| s.to_string()).collect(),
                ridden_only: Vec::new(),
            },
            "person" => ClassRule {
                labels: std::iter::once("person")
                    .chain(RIDDEN_CLASSES)
                    .map(str::to_string)
                    .collect(),
                ridden_only: RIDDEN_CLASSES.iter().map(|s| s.to_string()).collect(),
            },
            other => ClassRule {
                labels: vec![other.to_string()],
                ridden_only: Vec::new(),
            },
        }
    }

    /// Whether a track with this label (and ridden or not) matches.
    pub fn matches(&self, label: &str, ridden: bool) -> bool {
        self.labels.iter().any(|l| l == label)
            && (ridden || !self.ridden_only.iter().any(|l| l == label))
    }
}

/// Default and maximum number of results.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 100_000;

/// The longest duration accepted for `--dwell-min` (one year, in ms).
const MAX_DURATION_MS: i64 = 366 * 24 * 3_600_000;

/// Which part of an object a colour filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourPart {
    /// The whole object (`--colour`).
    Whole,
    /// Upper body, persons only (`--upper`).
    Upper,
    /// Lower body, persons only (`--lower`).
    Lower,
}

impl ColourPart {
    pub(crate) fn code(self) -> i64 {
        match self {
            ColourPart::Whole => 0,
            ColourPart::Upper => 1,
            ColourPart::Lower => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ColourPart::Whole => "whole",
            ColourPart::Upper => "upper",
            ColourPart::Lower => "lower",
        }
    }
}

/// One colour condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColourFilter {
    pub part: ColourPart,
    pub colour: Colour,
}

/// `--crosses LINE[:in|:out]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFilter {
    pub line: String,
    /// `None`: either direction.
    pub direction: Option<CrossingDirection>,
}

/// `--min-size`: a fraction of the frame area, or a box side in working pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinSize {
    /// Median box area / frame area >= this (0 < f <= 1). Written `0.05` or `5%`.
    FrameFraction(f32),
    /// The larger side of the median box >= this many working pixels. Written `40px`.
    Px(f32),
}

/// A validated search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Class label (`person`, `car`, `moving_object`, ...), lower case; `vehicle` and
    /// `person` select more than one label ([`ClassRule`]).
    pub class: Option<String>,
    /// All must match (at most one per part). A filter matches when its colour covers at
    /// least [`COLOUR_MIN_SHARE`] (a fifth) of the part, whether it is named first or not
    /// ([`colour_matches`]; doc/colour.md).
    pub colours: Vec<ColourFilter>,
    pub direction: Option<Compass>,
    pub zone: Option<String>,
    /// Stationary at least this long inside `zone` (or inside any zone when no zone given).
    pub dwell_min_ms: Option<i64>,
    pub crosses: Option<LineFilter>,
    /// Wall clock, ms since the Unix epoch (UTC). A track matches when its time span
    /// overlaps `[from, to]`; tracks without a wall-clock time never match a time filter.
    pub from_wall_ms: Option<i64>,
    pub to_wall_ms: Option<i64>,
    pub min_size: Option<MinSize>,
    pub camera: Option<String>,
    pub min_speed_px_s: Option<f32>,
    pub max_speed_px_s: Option<f32>,
    /// `--plate`: the track's plate matches this wildcard pattern (O and 0 equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<PlatePattern>,
    /// `--plate-fuzzy`: normalised plate text; tracks whose plate is likely this one
    /// despite OCR confusions ([`plate::fuzzy_likelihood`] at least
    /// [`plate::FUZZY_MIN_LIKELIHOOD`]), ranked by likelihood x read confidence instead
    /// of by time. Combines with `plate` (both must hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_fuzzy: Option<String>,
    pub limit: u32,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            class: None,
            colours: Vec::new(),
            direction: None,
            zone: None,
            dwell_min_ms: None,
            crosses: None,
            from_wall_ms: None,
            to_wall_ms: None,
            min_size: None,
            camera: None,
            min_speed_px_s: None,
            max_speed_px_s: None,
            plate: None,
            plate_fuzzy: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// The search flags exactly as typed (each `None` when the flag was not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryArgs {
    pub class: Option<String>,
    pub colour: Option<String>,
    pub upper: Option<String>,
    pub lower: Option<String>,
    pub direction: Option<String>,
    pub zone: Option<String>,
    pub dwell_min: Option<String>,
    pub crosses: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub min_size: Option<String>,
    pub camera: Option<String>,
    pub min_speed: Option<String>,
    pub max_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_fuzzy: Option<String>,
    pub limit: Option<String>,
}

fn colour_list() -> String {
    let names: Vec<&str> = Colour::ALL.iter().map(|c| c.name()).collect();
    format!("one of {}", names.join(", "))
}

fn parse_colour(flag: &'static str, s: &str) -> Result<Colour, QueryError> {
    s.parse::<Colour>()
        .map_err(|_| QueryError::new(flag, s, colour_list()))
}

/// Class labels: the detector's names, lower case.
fn parse_class(s: &str) -> Result<String, QueryError> {
    let v = s.trim().to_ascii_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ' || c == '-');
    if ok {
        Ok(v)
    } else {
        Err(QueryError::new(
            "--class",
            s,
            "a class label such as person, car, bicycle, truck or moving_object, or vehicle \
             for any of car, truck, bus, motorcycle, bicycle (letters, digits, '_', '-', at \
             most 64 characters)",
        ))
    }
}

/// Zone, line and camera names: operator-chosen, so free text, but not empty and printable.
fn parse_name(flag: &'static str, s: &str, what: &str) -> Result<String, QueryError> {
    let v = s.trim();
    if v.is_empty() || v.chars().count() > 128 || v.chars().any(char::is_control) {
        return Err(QueryError::new(
            flag,
            s,
            format!("a {what} name (1 to 128 printable characters)"),
        ));
    }
    Ok(v.to_string())
}

/// Durations: one or more `<integer><unit>` groups, units `ms`, `s`, `m`, `h`
/// (`30s`, `2m`, `1m30s`, `1500ms`). A bare number is refused: seconds or minutes?
pub fn parse_duration_ms(flag: &'static str, s: &str) -> Result<i64, QueryError> {
    let err = || {
        QueryError::new(
            flag,
            s,
            "a duration such as 30s, 2m, 1m30s or 1500ms (units ms, s, m, h; at most a year)",
        )
    };
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err(err());
    }
    let bytes = t.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 12 {
            return Err(err());
        }
        let n: i64 = t[start..i].parse().map_err(|_| err())?;
        let ustart = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let mult = match &t[ustart..i] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(err()),
        };
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
    }
    if total > MAX_DURATION_MS {
        return Err(err());
    }
    Ok(total)
}

fn parse_speed(flag: &'static str, s: &str) -> Result<f32, QueryError> {
    let t = s.trim();
    let t = t.strip_suffix("px/s").unwrap_or(t).trim();
    match t.parse::<f32>() {
        Ok(v) if v.is_finite() && (0.0..=1.0e6).contains(&v) => Ok(v),
        _ => Err(QueryError::new(
            flag,
            s,
            "a speed in working pixels per second, e.g. 40 or 40px/s (0 to 1000000)",
        )),
    }
}

fn parse_min_size(s: &str) -> Result<MinSize, QueryError> {
    let err = || {
        QueryError::new(
            "--min-size",
            s,
            "a fraction of the frame area (0.05 or 5%) or a box side in pixels (40px)",
        )
    };
    let t = s.trim();
    let num = |x: &str| x.trim().parse::<f32>().ok().filter(|v| v.is_finite());
    if let Some(px) = t.strip_suffix("px") {
        return match num(px) {
            Some(v) if v > 0.0 && v <= 100_000.0 => Ok(MinSize::Px(v)),
            _ => Err(err()),
        };
    }
    let frac = if let Some(pc) = t.strip_suffix('%') {
        num(pc).map(|v| v / 100.0)
    } else {
        num(t)
    };
    match frac {
        Some(f) if f > 0.0 && f <= 1.0 => Ok(MinSize::FrameFraction(f)),
        _ => Err(err()),
    }
}

fn parse_crosses(s: &str) -> Result<LineFilter, QueryError> {
    let t = s.trim();
    let (name, direction) = match t.rsplit_once(':') {
        None => (t, None),
        Some((name, dir)) => {
            let d = match dir.trim().to_ascii_lowercase().as_str() {
                "in" => CrossingDirection::In,
                "out" => CrossingDirection::Out,
                _ => {
                    return Err(QueryError::new(
                        "--crosses",
                        s,
                        format!(
                            "LINE, LINE:in or LINE:out (the direction after ':' must be `:in` \
                             or `:out`, not {:?})",
                            dir
                        ),
                    ))
                }
            };
            (name, Some(d))
        }
    };
    let line = parse_name("--crosses", name, "line")?;
    if line.contains(':') && direction.is_none() {
        return Err(QueryError::new("--crosses", s, "LINE, LINE:in or LINE:out"));
    }
    Ok(LineFilter { line, direction })
}

fn parse_plate(s: &str) -> Result<PlatePattern, QueryError> {
    PlatePattern::parse(s).map_err(|e: PlatePatternError| {
        QueryError::new("--plate", s, format!("a plate pattern ({e})"))
    })
}

/// `--plate-fuzzy`: a whole plate as read, without wildcards.
fn parse_plate_fuzzy(s: &str) -> Result<String, QueryError> {
    let err = |why: &str| {
        QueryError::new(
            "--plate-fuzzy",
            s,
            format!(
                "the plate as you read it, letters and digits with or without separators \
                 (AB-123-CD), 1 to {MAX_PLATE_QUERY_LEN} characters; {why}"
            ),
        )
    };
    if s.contains(['?', '*']) {
        return Err(err(
            "wildcards ? and * belong to --plate (--plate-fuzzy already tolerates misread \
             characters)",
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !plate::is_separator(*c) && plate::normalise(&c.to_string()).is_empty())
    {
        return Err(err(&format!(
            "{c:?} is neither a letter, a digit nor a separator"
        )));
    }
    let n = plate::normalise(s);
    if n.is_empty() {
        return Err(err("no letter or digit was given"));
    }
    if n.len() > MAX_PLATE_QUERY_LEN {
        return Err(err("this is longer than any plate"));
    }
    Ok(n)
}

fn parse_time(flag: &'static str, s: &str) -> Result<i64, QueryError> {
    parse_wall_clock(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            QueryError::new(
                flag,
                s,
                "an RFC 3339 time with an explicit offset, e.g. 2024-06-01T14:00:00+02:00 or \
                 2024-06-01T12:00:00Z",
            )
        })
}

fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

impl Query {
    /// Validate raw flags into a query. The first bad flag is reported.
    pub fn parse(a: &QueryArgs) -> Result<Query, QueryError> {
        let mut q = Query {
            class: a.class.as_deref().map(parse_class).transpose()?,
            ..Query::default()
        };
        for (flag, part, v) in [
            ("--colour", ColourPart::Whole, &a.colour),
            ("--upper", ColourPart::Upper, &a.upper),
            ("--lower", ColourPart::Lower, &a.lower),
        ] {
            if let Some(v) = v {
                q.colours.push(ColourFilter {
                    part,
                    colour: parse_colour(flag, v)?,
                });
            }
        }
        if let Some(d) = &a.direction {
            q.direction = Some(d.parse::<Compass>().map_err(|_| {
                QueryError::new(
                    "--direction",
                    d,
                    "one of n, ne, e, se, s, sw, w, nw (or north, north-east, ...; up is north)",
                )
            })?);
        }
        q.zone = a
            .zone
            .as_deref()
            .map(|z| parse_name("--zone", z, "zone"))
            .transpose()?;
        q.dwell_min_ms = a
            .dwell_min
            .as_deref()
            .map(|d| parse_duration_ms("--dwell-min", d))
            .transpose()?;
        q.crosses = a.crosses.as_deref().map(parse_crosses).transpose()?;
        q.from_wall_ms = a
            .from
            .as_deref()
            .map(|t| parse_time("--from", t))
            .transpose()?;
        q.to_wall_ms = a.to.as_deref().map(|t| parse_time("--to", t)).transpose()?;
        if let (Some(f), Some(t)) = (q.from_wall_ms, q.to_wall_ms) {
            if f > t {
                return Err(QueryError::new(
                    "--from",
                    a.from.as_deref().unwrap_or_default(),
                    format!(
                        "a time before --to {:?} (--from is after --to; swap them)",
                        a.to.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        q.min_size = a.min_size.as_deref().map(parse_min_size).transpose()?;
        q.camera = a
            .camera
            .as_deref()
            .map(|c| parse_name("--camera", c, "camera"))
            .transpose()?;
        q.min_speed_px_s = a
            .min_speed
            .as_deref()
            .map(|s| parse_speed("--min-speed", s))
            .transpose()?;
        q.max_speed_px_s = a
            .max_speed
            .as_deref()
            .map(|s| parse_speed("--max-speed", s))
            .transpose()?;
        if let (Some(lo), Some(hi)) = (q.min_speed_px_s, q.max_speed_px_s) {
            if lo > hi {
                return Err(QueryError::new(
                    "--min-speed",
                    a.min_speed.as_deref().unwrap_or_default(),
                    format!(
                        "a speed at most --max-speed {:?} (the range is empty; swap them)",
                        a.max_speed.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        q.plate = a.plate.as_deref().map(parse_plate).transpose()?;
        q.plate_fuzzy = a
            .plate_fuzzy
            .as_deref()
            .map(parse_plate_fuzzy)
            .transpose()?;
        if let Some(l) = &a.limit {
            q.limit = match l.trim().parse::<u32>() {
                Ok(v) if (1..=MAX_LIMIT).contains(&v) => v,
                _ => {
                    return Err(QueryError::new(
                        "--limit",
                        l,
                        format!("a whole number from 1 to {MAX_LIMIT}"),
                    ))
                }
            };
        }
        Ok(q)
    }

    /// The canonical flags for this query; `Query::parse(&q.to_args()) == Ok(q)`.
    pub fn to_args(&self) -> QueryArgs {
        let mut a = QueryArgs {
            class: self.class.clone(),
            ..QueryArgs::default()
        };
        for f in &self.colours {
            let slot = match f.part {
                ColourPart::Whole => &mut a.colour,
                ColourPart::Upper => &mut a.upper,
                ColourPart::Lower => &mut a.lower,
            };
            *slot = Some(f.colour.name().to_string());
        }
        a.direction = self.direction.map(|d| d.name().to_string());
        a.zone = self.zone.clone();
        a.dwell_min = self.dwell_min_ms.map(|d| format!("{d}ms"));
        a.crosses = self.crosses.as_ref().map(|c| match c.direction {
            None => c.line.clone(),
            Some(CrossingDirection::In) => format!("{}:in", c.line),
            Some(CrossingDirection::Out) => format!("{}:out", c.line),
        });
        a.from = self.from_wall_ms.map(ms_to_rfc3339);
        a.to = self.to_wall_ms.map(ms_to_rfc3339);
        a.min_size = self.min_size.map(|m| match m {
            MinSize::FrameFraction(f) => f.to_string(),
            MinSize::Px(p) => format!("{p}px"),
        });
        a.camera = self.camera.clone();
        a.min_speed = self.min_speed_px_s.map(|v| v.to_string());
        a.max_speed = self.max_speed_px_s.map(|v| v.to_string());
        a.plate = self.plate.as_ref().map(|p| p.as_str().to_string());
        a.plate_fuzzy = self.plate_fuzzy.clone();
        if self.limit != DEFAULT_LIMIT {
            a.limit = Some(self.limit.to_string());
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> QueryArgs {
        QueryArgs::default()
    }

    #[test]
    fn a_colour_matches_with_a_fifth_of_the_part_whatever_its_rank() {
        use vigie_core::ColourShare;
        let s = |colour, share| ColourShare { colour, share };
        let shares = [
            s(Colour::Grey, 0.5),
            s(Colour::Blue, 0.3),
            s(Colour::Black, 0.19),
        ];
        assert!(colour_matches(&shares, Colour::Grey));
        // Second, not first: still found.
        assert!(colour_matches(&shares, Colour::Blue));
        // Listed, but under the share.
        assert!(!colour_matches(&shares, Colour::Black));
        assert!(!colour_matches(&shares, Colour::Red));
        // "No colour" (monochrome footage) matches nothing.
        assert!(!colour_matches(&[], Colour::Grey));
        assert!(colour_matches(
            &[s(Colour::Red, COLOUR_MIN_SHARE)],
            Colour::Red
        ));
    }

    #[test]
    fn unknown_colour_lists_the_palette() {
        let e = Query::parse(&QueryArgs {
            colour: Some("teal".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--colour");
        let msg = e.to_string();
        assert!(msg.contains("\"teal\""), "{msg}");
        for c in Colour::ALL {
            assert!(msg.contains(c.name()), "{msg}");
        }
        let e = Query::parse(&QueryArgs {
            lower: Some("beige".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--lower");
    }

    #[test]
    fn crossing_direction_must_be_in_or_out() {
        let e = Query::parse(&QueryArgs {
            crosses: Some("gate:sideways".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--crosses");
        assert!(e.to_string().contains("`:in` or `:out`"), "{e}");
        let q = Query::parse(&QueryArgs {
            crosses: Some("gate:IN".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(
            q.crosses,
            Some(LineFilter {
                line: "gate".into(),
                direction: Some(CrossingDirection::In)
            })
        );
        let q = Query::parse(&QueryArgs {
            crosses: Some("main gate".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(q.crosses.unwrap().direction, None);
        assert!(Query::parse(&QueryArgs {
            crosses: Some(":in".into()),
            ..args()
        })
        .is_err());
    }

    #[test]
    fn from_after_to_is_refused() {
        let e = Query::parse(&QueryArgs {
            from: Some("2024-06-01T15:00:00+02:00".into()),
            to: Some("2024-06-01T14:00:00+02:00".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--from");
        assert!(e.to_string().contains("after --to"), "{e}");
        // Same instant written in two offsets is fine.
        let q = Query::parse(&QueryArgs {
            from: Some("2024-06-01T14:00:00+02:00".into()),
            to: Some("2024-06-01T12:00:00Z".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(q.from_wall_ms, q.to_wall_ms);
    }

    #[test]
    fn times_need_an_offset() {
        let e = Query::parse(&QueryArgs {
            to: Some("2024-06-01T14:00:00".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--to");
        assert!(e.to_string().contains("explicit offset"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("--dwell-min", "30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("--dwell-min", "2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("--dwell-min", "1m30s"), Ok(90_000));
        assert_eq!(parse_duration_ms("--dwell-min", "1500ms"), Ok(1_500));
        assert_eq!(parse_duration_ms("--dwell-min", "1h"), Ok(3_600_000));
        for bad in [
            "30",
            "",
            "s",
            "3x",
            "-3s",
            "1.5s",
            "99999999999999999h",
            "400d",
        ] {
            let e = parse_duration_ms("--dwell-min", bad).unwrap_err();
            assert!(e.to_string().contains("30s, 2m"), "{bad}: {e}");
        }
    }

    #[test]
    fn sizes_speeds_limits() {
        let p = |m: &str| {
            Query::parse(&QueryArgs {
                min_size: Some(m.into()),
                ..args()
            })
            .map(|q| q.min_size.unwrap())
        };
        assert_eq!(p("0.05"), Ok(MinSize::FrameFraction(0.05)));
        assert_eq!(p("5%"), Ok(MinSize::FrameFraction(0.05)));
        assert_eq!(p("40px"), Ok(MinSize::Px(40.0)));
        for bad in ["0", "1.5", "-3px", "big", "NaN", "inf%"] {
            assert_eq!(p(bad).unwrap_err().flag, "--min-size", "{bad}");
        }
        let e = Query::parse(&QueryArgs {
            min_speed: Some("50".into()),
            max_speed: Some("20px/s".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--min-speed");
        let e = Query::parse(&QueryArgs {
            limit: Some("0".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--limit");
    }

    #[test]
    fn direction_and_class() {
        let q = Query::parse(&QueryArgs {
            class: Some(" Car ".into()),
            direction: Some("north-east".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(q.class.as_deref(), Some("car"));
        assert_eq!(q.direction, Some(Compass::Ne));
        let e = Query::parse(&QueryArgs {
            direction: Some("upwards".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--direction");
        let e = Query::parse(&QueryArgs {
            class: Some("car; DROP TABLE".into()),
            ..args()
        })
        .unwrap_err();
        assert_eq!(e.flag, "--class");
    }

    #[test]
    fn plate_flags() {
        let q = Query::parse(&QueryArgs {
            plate: Some("ab-1?3-*".into()),
            plate_fuzzy: Some("ab 123 cd".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(q.plate.as_ref().map(|p| p.as_str()), Some("AB1?3*"));
        assert_eq!(q.plate_fuzzy.as_deref(), Some("AB123CD"));
        let a = q.to_args();
        assert_eq!(a.plate.as_deref(), Some("AB1?3*"));
        assert_eq!(Query::parse(&a), Ok(q));
        for bad in ["", "*", "AB#1", "ABCDEFGHIJKLMNOPQRS"] {
            let e = Query::parse(&QueryArgs {
                plate: Some(bad.into()),
                ..args()
            })
            .unwrap_err();
            assert_eq!(e.flag, "--plate", "{bad:?}");
            assert!(e.to_string().contains("e.g.") || bad.len() > 16, "{e}");
        }
        for (bad, why) in [
            ("AB-1?3", "belong to --plate"),
            ("", "no letter or digit"),
            (" - ", "no letter or digit"),
            ("AB#123", "'#' is neither"),
            ("ABCDEFGHIJKLMNOPQ", "longer than any plate"),
        ] {
            let e = Query::parse(&QueryArgs {
                plate_fuzzy: Some(bad.into()),
                ..args()
            })
            .unwrap_err();
            assert_eq!(e.flag, "--plate-fuzzy", "{bad:?}");
            assert!(e.to_string().contains(why), "{bad:?}: {e}");
        }
        // Queries without plates serialise as before (no plate keys).
        let json = serde_json::to_value(Query::default()).unwrap();
        assert!(json.get("plate").is_none() && json.get("plate_fuzzy").is_none());
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn opt<T: std::fmt::Debug + Clone + 'static>(
            s: impl Strategy<Value = T> + 'static,
        ) -> impl Strategy<Value = Option<T>> {
            prop_oneof![Just(None), s.prop_map(Some)]
        }

        fn name() -> impl Strategy<Value = String> {
            // Trimmed, printable, no ':' (line names with ':' need a direction).
            "[A-Za-z0-9_][A-Za-z0-9 _.é-]{0,20}[A-Za-z0-9_]"
        }

        fn query() -> impl Strategy<Value = Query> {
            let colours =
                (opt(0usize..11), opt(0usize..11), opt(0usize..11)).prop_map(|(w, u, l)| {
                    let mut v = Vec::new();
                    for (p, c) in [
                        (ColourPart::Whole, w),
                        (ColourPart::Upper, u),
                        (ColourPart::Lower, l),
                    ] {
                        if let Some(c) = c {
                            v.push(ColourFilter {
                                part: p,
                                colour: Colour::ALL[c],
                            });
                        }
                    }
                    v
                });
            let times =
                (opt(0i64..4_000_000_000_000), opt(0i64..4_000_000_000_000)).prop_map(|(a, b)| {
                    match (a, b) {
                        (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                        x => x,
                    }
                });
            let speeds = (opt(0.0f32..1.0e5), opt(0.0f32..1.0e5)).prop_map(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                x => x,
            });
            let size = opt(prop_oneof![
                (0.0001f32..=1.0).prop_map(MinSize::FrameFraction),
                (1.0f32..5000.0).prop_map(MinSize::Px),
            ]);
            let crosses = opt((
                name(),
                prop_oneof![
                    Just(None),
                    Just(Some(CrossingDirection::In)),
                    Just(Some(CrossingDirection::Out))
                ],
            )
                .prop_map(|(line, direction)| LineFilter { line, direction }));
            (
                (
                    opt("[a-z][a-z0-9_]{0,15}"),
                    colours,
                    opt(0usize..8),
                    opt(name()),
                ),
                (opt(0i64..MAX_DURATION_MS), crosses, times, size),
                (
                    opt(name()),
                    speeds,
                    1u32..=MAX_LIMIT,
                    opt("[A-Z0-9?*]{0,6}[A-Z0-9?][A-Z0-9?*]{0,6}"),
                    opt("[A-Z0-9]{1,10}"),
                ),
            )
                .prop_map(
                    |(
                        (class, colours, dir, zone),
                        (dwell, crosses, times, size),
                        (cam, sp, lim, plate_pat, plate_fuzzy),
                    )| {
                        Query {
                            class,
                            colours,
                            direction: dir.map(|d| Compass::ALL[d]),
                            zone,
                            dwell_min_ms: dwell,
                            crosses,
                            from_wall_ms: times.0,
                            to_wall_ms: times.1,
                            min_size: size,
                            camera: cam,
                            min_speed_px_s: sp.0,
                            max_speed_px_s: sp.1,
                            plate: plate_pat.map(|p| PlatePattern::parse(&p).unwrap()),
                            plate_fuzzy,
                            limit: lim,
                        }
                    },
                )
        }

        fn any_args() -> impl Strategy<Value = QueryArgs> {
            let s = || opt(any::<String>());
            (
                (s(), s(), s(), s(), s(), s(), s(), s()),
                (s(), s(), s(), s(), s(), s(), s()),
                (s(), s()),
            )
                .prop_map(
                    |((a, b, c, d, e, f, g, h), (i, j, k, l, m, n, o), (p, f2))| QueryArgs {
                        class: a,
                        colour: b,
                        upper: c,
                        lower: d,
                        direction: e,
                        zone: f,
                        dwell_min: g,
                        crosses: h,
                        from: i,
                        to: j,
                        min_size: k,
                        camera: l,
                        min_speed: m,
                        max_speed: n,
                        limit: o,
                        plate: p,
                        plate_fuzzy: f2,
                    },
                )
        }

        /// Strings that look almost valid, to reach deeper into each parser.
        fn near_args() -> impl Strategy<Value = QueryArgs> {
            let s = |re: &'static str| opt(re);
            (
                s("[0-9]{0,14}(ms|s|m|h|x|)[0-9]{0,3}(s|m|)"),
                s("[a-z:]{0,8}:(in|out|IN|x|)"),
                s("[0-9.]{0,6}(px|%|)"),
                s("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|\\+02:00|)"),
                s("-?[0-9.e]{0,8}(px/s|)"),
                s("[0-9-]{0,8}"),
                s("[a-zA-Z0-9 ?*.#-]{0,20}"),
            )
                .prop_map(|(d, c, m, t, sp, l, pl)| QueryArgs {
                    dwell_min: d,
                    crosses: c,
                    min_size: m,
                    from: t.clone(),
                    to: t,
                    min_speed: sp.clone(),
                    max_speed: sp,
                    limit: l,
                    plate: pl.clone(),
                    plate_fuzzy: pl,
                    ..QueryArgs::default()
                })
        }

        proptest! {
            #[test]
            fn never_panics_on_arbitrary_input(a in any_args()) {
                match Query::parse(&a) {
                    Ok(q) => prop_assert!(q.limit >= 1),
                    Err(e) => prop_assert!(e.flag.starts_with("--")),
                }
            }

            #[test]
            fn never_panics_on_near_valid_input(a in near_args()) {
                let _ = Query::parse(&a);
            }

            #[test]
            fn valid_queries_round_trip(q in query()) {
                let args = q.to_args();
                prop_assert_eq!(Query::parse(&args), Ok(q));
            }
        }
    }
}
