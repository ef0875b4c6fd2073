//! Reading the recorder's clock burned into the picture (`vigie clock read`): the overlay is
//! read at a few points of a source, and vigie proposes the clock correction those readings
//! support, flags a clock that drifts against media time, and names the readings that
//! disagree.
//!
//! Why: the container's start time is often missing or wrong, while most recorders write
//! their clock into every frame. Reading it by hand at one frame is what investigators do
//! today; reading it at several points catches a misread digit and a clock that runs fast
//! or slow within one file. Why advice only: a correction changes every time shown for the
//! footage, so it stays the operator's act (`vigie clock set`, with its reason), here
//! prepared as a command to review. The reading itself is a consultation of the footage
//! and is logged as one (`clock_read`), after the model loads.
//!
//! Times read are the recorder's local time with no zone; "local ms" below are those
//! times counted as if they were UTC, only ever compared with each other.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;
use vigie_audit::event::Event;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_plate::geom::RgbView;
use vigie_plate::overlay::{
    read_samples, ClockSample, OverlayClockReader, OverlayConfig, SampleClock,
};
use vigie_policy::SessionConfig;

pub use vigie_plate::overlay::{ClockDate, DateOrder};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::plates::{cores, parse_device};
use crate::progress::Progress;

/// Points read when the request does not say.
pub const DEFAULT_POINTS: usize = 7;

/// Most points one request may read (each costs a seek, a decode and two models).
pub const MAX_POINTS: usize = 100;

/// Readings agree when their offsets (read time minus media time, less the drift) fit in
/// a window this wide: each reading is the clock cut to the second (a one-second window),
/// and frames are timed to a few ms.
pub const AGREE_MS: i64 = 1200;

/// The fastest drift looked for: the clock's rate against media time off by a fifth (a
/// recorder dropping one frame in five).
pub const MAX_DRIFT: f64 = 0.2;

/// A drift is flagged when it accumulates more than this over the span read: less is what
/// readings cut to the second explain.
pub const EXPLAINED_DRIFT_S: f64 = 1.5;

const DAY_MS: i64 = 86_400_000;

/// What to read.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockReadRequest {
    /// Source id or registered path.
    pub source: String,
    /// How many evenly spaced points of the source to read (1 to [`MAX_POINTS`]).
    pub points: usize,
    /// `dmy`, `mdy` or `ymd` when the date's order is known; `None`: the order most
    /// readings allow (day first on a tie, then year first, then month first), or the
    /// one closest to the recorded start.
    pub date_order: Option<String>,
    /// Execution device: `cpu`, `cuda` or `cuda:N`.
    pub device: String,
}

impl Default for ClockReadRequest {
    fn default() -> Self {
        Self {
            source: String::new(),
            points: DEFAULT_POINTS,
            date_order: None,
            device: "cpu".into(),
        }
    }
}

/// One point of the source and what its overlay said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockReading {
    /// Media time of the frame read.
    pub pts_ms: i64,
    /// The overlay's clock line as read (`None`: no clock line found there).
    pub text: Option<String>,
    /// Where the line is: x, y, width, height in the frame's pixels.
    pub box_px: Option<[f32; 4]>,
    /// Recogniser confidence of the line (0..1).
    pub confidence: Option<f32>,
    /// The local time it shows: `YYYY-MM-DD HH:MM:SS`, or `HH:MM:SS` when no date is read.
    pub local_time: Option<String>,
    /// The recogniser's first guess was another time, and this one fits its output better
    /// given what the other points show (see `vigie_plate::overlay::read_samples`).
    pub corrected: bool,
    /// Whether it agrees with the other readings (false: an outlier, or nothing read).
    pub consistent: bool,
    /// The time read minus the time the proposal (and the drift, when flagged) predicts.
    pub residual_ms: Option<i64>,
}

/// The correction the readings support: "the frame at `pts_ms` shows `local_time`".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockProposal {
    pub pts_ms: i64,
    pub local_time: String,
    /// The local time of the first frame, from the median offset of the consistent
    /// readings (to the second: the overlay shows no more).
    pub local_start: String,
    /// Consistent readings behind it.
    pub readings_used: usize,
    /// Whether the overlay's date was read (otherwise `clock set` dates the time from the
    /// recording).
    pub dated: bool,
}

/// How the clock runs against media time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockDrift {
    /// Least-squares slope of the time read against media time, minus one, in seconds
    /// per hour (positive: the clock runs fast, or the file lost frames).
    pub drift_s_per_h: f64,
    /// What readings cut to the second explain over the span read.
    pub explained_s_per_h: f64,
    /// Media time between the first and the last consistent reading.
    pub span_ms: i64,
    /// Beyond what the overlay's resolution explains.
    pub flagged: bool,
}

/// The recorded start (container or `--start`) against the burned-in clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartComparison {
    /// As recorded at ingest, before any correction (UTC, ms since the epoch).
    pub recorded_start_wall_ms: i64,
    /// With the correction in force, when there is one.
    pub corrected_start_wall_ms: Option<i64>,
    /// The first frame's time by the burned-in clock, as an instant: the local time read
    /// in `time_zone`, or taken as UTC when the case gives no zone.
    pub read_start_wall_ms: i64,
    pub time_zone: Option<String>,
    /// `read_start_wall_ms - recorded_start_wall_ms`.
    pub difference_ms: i64,
}

/// What `vigie clock read` found (its `--json`; fields are only ever added).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockReadOutcome {
    pub source_id: String,
    pub sha256: String,
    /// The models that read the overlay.
    pub models: Vec<String>,
    pub device: String,
    /// Points asked for.
    pub points: u64,
    pub readings: Vec<ClockReading>,
    /// The order the date was read in (`None`: no date read).
    pub date_order: Option<DateOrder>,
    /// The same digits in other orders (non-empty: the date is ambiguous; say which with
    /// `--date-order`).
    pub other_dates: Vec<ClockDate>,
    pub proposal: Option<ClockProposal>,
    pub drift: Option<ClockDrift>,
    pub recorded_start: Option<StartComparison>,
    /// The command that would make the proposal the source's clock (review it first).
    pub command: Option<String>,
    /// What the operator should know (ambiguities, outliers, drift, zone).
    pub notes: Vec<String>,
}

impl ClockReadOutcome {
    /// Points where a time was read.
    pub fn read_count(&self) -> usize {
        self.readings
            .iter()
            .filter(|r| r.local_time.is_some())
            .count()
    }

    /// Points whose reading agrees with the others.
    pub fn consistent_count(&self) -> usize {
        self.readings.iter().filter(|r| r.consistent).count()
    }
}

/// The media times read: the middles of `n` equal parts of the source.
pub fn points_ms(duration_ms: u64, n: usize) -> Vec<i64> {
    let n = n.max(1) as u64;
    (0..n)
        .map(|i| ((2 * i + 1) * duration_ms / (2 * n)) as i64)
        .collect()
}

fn parse_order(s: &str) -> Result<DateOrder, AppError> {
    s.parse::<DateOrder>().map_err(|_| {
        AppError::BadInput(format!(
            "unknown --date-order '{s}' (expected dmy, mdy or ymd)"
        ))
    })
}

/// Read the burned-in clock of one source at `req.points` points and propose a correction.
/// Advice only: nothing about the source's clock changes.
pub fn read_burned_clock(
    case: &EnteredCase,
    req: &ClockReadRequest,
    progress: &dyn Progress,
) -> Result<ClockReadOutcome, AppError> {
    if !(1..=MAX_POINTS).contains(&req.points) {
        return Err(AppError::BadInput(format!(
            "--points {} (expected 1 to {MAX_POINTS})",
            req.points
        )));
    }
    let order = req.date_order.as_deref().map(parse_order).transpose()?;
    let device = parse_device(&req.device)?;
    let rec = case.find_source(&req.source)?;
    // Opened once: the clock is read from the inode that was hashed.
    let opened = case.open_source(&rec)?;
    let Some(duration_ms) = rec.meta.duration_ms.filter(|d| *d > 0) else {
        return Err(AppError::BadInput(format!(
            "source {} has no known duration, so points cannot be spread over it: read a frame with `vigie frame` instead",
            rec.source_id
        )));
    };

    let session = SessionConfig {
        device,
        intra_op_threads: cores(),
    };
    let mut cfg = OverlayConfig::default();
    cfg.text.session = session;
    cfg.recogniser.session = session;
    let sink = case.alert_sink();
    let mut reader = OverlayClockReader::open(cfg, &sink)?;
    let models: Vec<String> = reader.model_ids().iter().map(|s| s.to_string()).collect();
    for id in reader.model_ids() {
        let spec = vigie_policy::AllowedModelId::lookup(id)?.spec();
        case.record(&Event::ModelLoaded {
            model_id: spec.id.to_owned(),
            sha256: spec.sha256_hex(),
            task: spec.task.as_str().to_owned(),
            device: req.device.clone(),
            source_id: Some(rec.source_id.clone()),
        })?;
    }

    let dcfg = DecodeConfig {
        output_size: OutputSize::Native,
        ..DecodeConfig::default()
    }
    .for_source(&rec.meta);
    let mut dec = Decoder::open(&opened.decode_path(), &dcfg)?;
    let unit = rec.source_id.as_str();
    progress.begin(unit, Some(duration_ms));
    let mut samples: Vec<Option<ClockSample>> = Vec::new();
    let mut at = Vec::new();
    for pts in points_ms(duration_ms, req.points) {
        case.checkpoint()?;
        at.push(pts);
        let Some(frame) = dec.frame_at(pts)? else {
            samples.push(None);
            continue;
        };
        let Some(view) = RgbView::new(&frame.data, frame.width, frame.height) else {
            samples.push(None);
            continue;
        };
        let lines = reader.read(&view)?;
        progress.frame(unit, frame.pts_ms);
        samples.push(Some(ClockSample {
            pts_ms: frame.pts_ms,
            lines,
        }));
    }
    progress.end(unit, true);

    let present: Vec<ClockSample> = samples.iter().flatten().cloned().collect();
    let mut read = read_samples(&present).into_iter();
    let per_point: Vec<(i64, Option<SampleClock>)> = samples
        .iter()
        .zip(&at)
        .map(|(s, &asked)| match s {
            Some(s) => (s.pts_ms, read.next().flatten()),
            None => (asked, None),
        })
        .collect();

    let timing = case.timing(&rec);
    let today = case.app().clock().now().date_naive();
    let mut out = analyse(&per_point, order, &timing, today);
    out.source_id = rec.source_id.clone();
    out.sha256 = rec.sha256.clone();
    out.models = models;
    out.device = req.device.clone();
    out.points = req.points as u64;
    out.command = out
        .proposal
        .as_ref()
        .map(|p| clock_set_command(&rec.source_id, p, timing.time_zone.as_deref()));
    if out.command.is_some() && timing.time_zone.is_none() {
        out.notes.push(
            "replace ZONE in the command with the place's IANA time zone (e.g. Europe/Paris): the overlay shows local time and never says which".into(),
        );
    }

    case.source_unchanged(&opened)?;
    case.record(&Event::ClockRead {
        source_id: rec.source_id.clone(),
        sha256: rec.sha256.clone(),
        points: out.points,
        readings: out
            .readings
            .iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect(),
        proposed: out
            .proposal
            .as_ref()
            .map(|p| serde_json::to_value(p).unwrap_or_default()),
        drift_s_per_h: out.drift.as_ref().map(|d| d.drift_s_per_h),
    })?;
    Ok(out)
}

/// The `vigie clock set` command that would make the proposal the source's clock.
pub fn clock_set_command(source_id: &str, p: &ClockProposal, zone: Option<&str>) -> String {
    format!(
        "vigie clock set {source_id} --at {}s --true \"{}\" --tz {} --reason \"read from the burned-in clock\"",
        p.pts_ms as f64 / 1000.0,
        p.local_time,
        zone.unwrap_or("ZONE")
    )
}

fn format_local(ms: i64, dated: bool) -> String {
    let secs = ms.div_euclid(1000);
    if dated {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    } else {
        let s = secs.rem_euclid(DAY_MS / 1000) as u32;
        NaiveTime::from_num_seconds_from_midnight_opt(s, 0)
            .map(|t| t.format("%H:%M:%S").to_string())
            .unwrap_or_default()
    }
}

fn local_ms(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_millis()
}

fn time_ms(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.num_seconds_from_midnight()) * 1000
}

/// The date order and the date most readings give (`None` when no reading has a date),
/// with the other orders' dates.
fn choose_date(
    clocks: &[&SampleClock],
    order: Option<DateOrder>,
    recorded_start_ms: Option<i64>,
    today: NaiveDate,
    notes: &mut Vec<String>,
) -> Option<(DateOrder, NaiveDate, Vec<ClockDate>)> {
    const PREFERENCE: [DateOrder; 3] = [DateOrder::Dmy, DateOrder::Ymd, DateOrder::Mdy];
    // The date most readings give in `o`, with how many give it (ties: more confident).
    let consensus = |o: DateOrder| -> Option<(NaiveDate, usize)> {
        let mut votes: Vec<(NaiveDate, usize, f32)> = Vec::new();
        for c in clocks {
            let Some(p) = &c.parsed else { continue };
            // A date after today is a misread (or a clock set years ahead: then the
            // readings are taken as times of day).
            let Some(d) = p.clock.date_in(o).filter(|d| *d <= today) else {
                continue;
            };
            match votes.iter_mut().find(|v| v.0 == d) {
                Some(v) => {
                    v.1 += 1;
                    v.2 += p.confidence;
                }
                None => votes.push((d, 1, p.confidence)),
            }
        }
        votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(a.2.total_cmp(&b.2)))
            .map(|(d, n, _)| (d, n))
    };
    let candidates: Vec<(DateOrder, NaiveDate, usize)> = PREFERENCE
        .iter()
        .filter_map(|&o| consensus(o).map(|(d, n)| (o, d, n)))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let chosen = match order {
        Some(o) => match candidates.iter().find(|c| c.0 == o) {
            Some(c) => *c,
            None => {
                notes.push(format!(
                    "the digits read do not form a date in the order asked ({}): the readings are taken as times of day",
                    o.as_str()
                ));
                return None;
            }
        },
        None => {
            let most = candidates.iter().map(|c| c.2).max().unwrap_or(0);
            let best: Vec<&(DateOrder, NaiveDate, usize)> =
                candidates.iter().filter(|c| c.2 == most).collect();
            let distinct = |v: &[&(DateOrder, NaiveDate, usize)]| v.iter().any(|c| c.1 != v[0].1);
            match recorded_start_ms.and_then(chrono::DateTime::from_timestamp_millis) {
                Some(start) if distinct(&best) => {
                    let day = start.date_naive();
                    let c = **best
                        .iter()
                        .min_by_key(|c| (c.1 - day).num_days().abs())
                        .expect("non-empty");
                    notes.push(format!(
                        "the date reads differently by the order of its fields; {} was taken as the closest to the recorded start ({day})",
                        c.0.as_str()
                    ));
                    c
                }
                _ => *best[0],
            }
        }
    };
    let others: Vec<ClockDate> = candidates
        .iter()
        .filter(|c| c.0 != chosen.0 && c.1 != chosen.1)
        .map(|c| ClockDate {
            order: c.0,
            date: c.1,
        })
        .collect();
    if !others.is_empty() && order.is_none() {
        notes.push(format!(
            "the date is ambiguous: read {} as {}, but {}; say which with --date-order",
            chosen.0.as_str(),
            chosen.1,
            others
                .iter()
                .map(|o| format!("{} gives {}", o.order.as_str(), o.date))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some((chosen.0, chosen.1, others))
}

/// Difference `a - b` of two local times; for times of day, the shortest way round the
/// clock face.
fn diff(a: i64, b: i64, dated: bool) -> i64 {
    let d = a - b;
    if dated {
        d
    } else {
        (d + DAY_MS / 2).rem_euclid(DAY_MS) - DAY_MS / 2
    }
}

fn median(v: &mut [i64]) -> i64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The readings, the proposal and the drift from what each point read (pure: the tests
/// drive it without models).
pub(crate) fn analyse(
    points: &[(i64, Option<SampleClock>)],
    order: Option<DateOrder>,
    timing: &crate::timing::SourceTiming,
    today: NaiveDate,
) -> ClockReadOutcome {
    let mut notes = Vec::new();
    let clocks: Vec<&SampleClock> = points.iter().filter_map(|p| p.1.as_ref()).collect();
    let date = choose_date(
        &clocks,
        order,
        timing.recorded_start_wall_ms,
        today,
        &mut notes,
    );
    let dated = date.is_some();

    // Each point's local time (ms), when a time was read.
    let locals: Vec<Option<i64>> = points
        .iter()
        .map(|(_, c)| {
            let c = c.as_ref()?;
            let t = c.checked?.time;
            Some(match &date {
                Some((o, consensus, _)) => {
                    // The point's own date when it is the consensus or a day either side
                    // (midnight inside the file); otherwise a misread: the consensus.
                    let own = c.parsed.as_ref().and_then(|p| p.clock.date_in(*o));
                    let d = own
                        .filter(|d| (*d - *consensus).num_days().abs() <= 1)
                        .unwrap_or(*consensus);
                    local_ms(d.and_time(t))
                }
                None => time_ms(t),
            })
        })
        .collect();
    let offsets: Vec<Option<i64>> = points
        .iter()
        .zip(&locals)
        .map(|((pts, _), l)| l.map(|l| l - pts))
        .collect();
    let confidence = |i: usize| points[i].1.as_ref().map_or(0.0, |c| c.line.confidence);
    // The readings that tell one story: those whose offsets (against a line through one
    // reading, flat or through a second reading at most [`MAX_DRIFT`] apart in rate) fit
    // in one window of [`AGREE_MS`] - as readings of one clock cut to the second do. The
    // most readings win; ties go to the flatter line, then to the more confident. A
    // drifting clock keeps its readings; a misread digit does not fit.
    let n = points.len();
    let read: Vec<usize> = (0..n).filter(|&i| offsets[i].is_some()).collect();
    let off = |i: usize| offsets[i].expect("read");
    let fits = |anchor: usize, slope: f64| -> Vec<usize> {
        let mut res: Vec<(f64, usize)> = read
            .iter()
            .map(|&k| {
                let expected = slope * (points[k].0 - points[anchor].0) as f64;
                (diff(off(k), off(anchor), dated) as f64 - expected, k)
            })
            .collect();
        res.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut best: &[(f64, usize)] = &[];
        let mut hi = 0;
        for lo in 0..res.len() {
            while hi < res.len() && res[hi].0 - res[lo].0 <= AGREE_MS as f64 {
                hi += 1;
            }
            if hi - lo > best.len() {
                best = &res[lo..hi];
            }
        }
        let mut v: Vec<usize> = best.iter().map(|r| r.1).collect();
        v.sort_unstable();
        v
    };
    let mut best: Option<(usize, f64, Vec<usize>)> = None;
    let mut consider = |anchor: usize, slope: f64| {
        let fit = fits(anchor, slope);
        let conf: f32 = fit.iter().map(|&k| confidence(k)).sum();
        let better = match &best {
            None => true,
            Some((_, s, f)) => {
                let conf_b: f32 = f.iter().map(|&k| confidence(k)).sum();
                fit.len()
                    .cmp(&f.len())
                    .then(s.abs().total_cmp(&slope.abs()))
                    .then(conf.total_cmp(&conf_b))
                    .is_gt()
            }
        };
        if better {
            best = Some((fit[0], slope, fit));
        }
    };
    for &i in &read {
        consider(i, 0.0);
        for &j in &read {
            let dx = (points[j].0 - points[i].0) as f64;
            if dx >= 1000.0 {
                let slope = diff(off(j), off(i), dated) as f64 / dx;
                if slope.abs() <= MAX_DRIFT {
                    consider(i, slope);
                }
            }
        }
    }
    let pivot = best.as_ref().map(|b| b.0);
    let mut inliers: Vec<usize> = best.map(|b| b.2).unwrap_or_default();

    // Offsets unwrapped around the pivot (times of day across midnight).
    let unwrapped = |i: usize| -> i64 {
        let p = offsets[pivot.expect("inliers imply a pivot")].expect("pivot read");
        p + diff(offsets[i].expect("inlier read"), p, dated)
    };
    let mut drift = None;
    let mut line: Option<(f64, f64, f64)> = None; // mean pts, mean offset, slope - 1
    if inliers.len() >= 3 {
        let xs: Vec<f64> = inliers.iter().map(|&i| points[i].0 as f64).collect();
        let ys: Vec<f64> = inliers.iter().map(|&i| unwrapped(i) as f64).collect();
        let mx = xs.iter().sum::<f64>() / xs.len() as f64;
        let my = ys.iter().sum::<f64>() / ys.len() as f64;
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let span_ms = (xs.iter().cloned().fold(f64::MIN, f64::max)
            - xs.iter().cloned().fold(f64::MAX, f64::min)) as i64;
        if sxx > 0.0 && span_ms > 0 {
            // Offsets against media time: their slope is the clock's rate minus one.
            let slope = sxy / sxx;
            let drift_s_per_h = slope * 3600.0;
            let explained_s_per_h = EXPLAINED_DRIFT_S * 3_600_000.0 / span_ms as f64;
            let flagged = drift_s_per_h.abs() > explained_s_per_h;
            if flagged {
                line = Some((mx, my, slope));
                notes.push(format!(
                    "the clock drifts {drift_s_per_h:+.1} s per hour against media time (more than the {explained_s_per_h:.1} s/h one-second readings explain over {:.0} s): a single correction cannot fix it everywhere; check for lost frames or a recorder clock running fast or slow",
                    span_ms as f64 / 1000.0
                ));
            }
            drift = Some(ClockDrift {
                drift_s_per_h: (drift_s_per_h * 1000.0).round() / 1000.0,
                explained_s_per_h: (explained_s_per_h * 1000.0).round() / 1000.0,
                span_ms,
                flagged,
            });
        }
    }
    let median_offset = if inliers.is_empty() {
        None
    } else {
        let mut v: Vec<i64> = inliers.iter().map(|&i| unwrapped(i)).collect();
        Some(median(&mut v))
    };
    // Residuals against the proposal (and the drift when flagged); a reading further than
    // the agreement bound is an outlier even if the pivot's window took it.
    let predicted = |i: usize| -> Option<i64> {
        let m = median_offset?;
        Some(match line {
            Some((mx, my, slope)) => (my + slope * (points[i].0 as f64 - mx)).round() as i64,
            None => m,
        })
    };
    let residual = |i: usize| -> Option<i64> {
        let p = predicted(i)?;
        let o = offsets[i]?;
        Some(diff(o, p, dated))
    };
    inliers.retain(|&i| residual(i).is_some_and(|r| r.abs() <= AGREE_MS));

    // The clock at media time 0. Each reading is the clock cut to the second, so its
    // offset lies within the second below the true one: the true offset is at least the
    // largest and less than the smallest plus one second; the middle of that interval, or
    // (readings conflicting, or a drift) the median plus half a second.
    let start_ms = median_offset.map(|m| {
        let offs: Vec<i64> = inliers.iter().map(|&i| unwrapped(i)).collect();
        let lo = offs.iter().copied().max().unwrap_or(m);
        let hi = offs.iter().copied().min().unwrap_or(m) + 1000;
        match line {
            Some((mx, my, slope)) => (my - slope * mx).round() as i64 + 500,
            None if lo < hi => (lo + hi) / 2,
            None => m + 500,
        }
    });

    let readings: Vec<ClockReading> = points
        .iter()
        .enumerate()
        .map(|(i, (pts, c))| ClockReading {
            pts_ms: *pts,
            text: c.as_ref().map(|c| c.line.text.clone()),
            box_px: c.as_ref().map(|c| c.line.box_px),
            confidence: c
                .as_ref()
                .map(|c| (c.line.confidence * 1000.0).round() / 1000.0),
            local_time: locals[i].map(|l| format_local(l, dated)),
            corrected: c
                .as_ref()
                .and_then(|c| c.checked)
                .is_some_and(|k| !k.as_read),
            consistent: inliers.contains(&i),
            residual_ms: residual(i),
        })
        .collect();

    let read = readings.iter().filter(|r| r.local_time.is_some()).count();
    let outliers: Vec<String> = readings
        .iter()
        .filter(|r| r.local_time.is_some() && !r.consistent)
        .map(|r| format!("{:.1} s", r.pts_ms as f64 / 1000.0))
        .collect();
    if !outliers.is_empty() {
        notes.push(format!(
            "readings at {} disagree with the others (misread digits, or a clock set during the recording): look at those frames",
            outliers.join(", ")
        ));
    }
    let unread = points.len() - read;
    if unread > 0 {
        notes.push(format!(
            "no clock could be read at {unread} of {} points",
            points.len()
        ));
    }

    // The proposal: the consistent reading closest to the median offset, as shown.
    let enough = inliers.len() >= 2 || (inliers.len() == 1 && points.len() == 1);
    let proposal = match (start_ms, enough) {
        (Some(start), true) => {
            let m = median_offset.unwrap_or(start);
            let anchor = *inliers
                .iter()
                .min_by(|&&a, &&b| {
                    let da = diff(offsets[a].unwrap_or(m), m, dated).abs();
                    let db = diff(offsets[b].unwrap_or(m), m, dated).abs();
                    da.cmp(&db).then(confidence(b).total_cmp(&confidence(a)))
                })
                .expect("enough inliers");
            Some(ClockProposal {
                pts_ms: points[anchor].0,
                local_time: readings[anchor].local_time.clone().unwrap_or_default(),
                local_start: format_local(start, dated),
                readings_used: inliers.len(),
                dated,
            })
        }
        (Some(_), false) => {
            notes.push(
                "only one reading, agreeing with no other: no correction is proposed (read more points, or check the frame by eye)".into(),
            );
            None
        }
        (None, _) => None,
    };

    // The recorded start against the clock read.
    let recorded_start = match (timing.recorded_start_wall_ms, start_ms, dated) {
        (Some(recorded), Some(m), true) => {
            let local = chrono::DateTime::from_timestamp_millis(m).map(|t| t.naive_utc());
            let zone = timing
                .time_zone
                .as_deref()
                .and_then(|z| vigie_core::clock::parse_zone(z).ok());
            let read_start = match (local, &zone) {
                (Some(l), Some(z)) => vigie_core::clock::resolve_local(l, z).ok().unwrap_or(m),
                _ => m,
            };
            let corrected = timing.start_wall_ms.filter(|s| *s != recorded);
            let difference_ms = read_start - recorded;
            if difference_ms.abs() > AGREE_MS {
                notes.push(format!(
                    "the recorded start and the burned-in clock differ by {}{}",
                    vigie_core::clock::format_offset(difference_ms),
                    if zone.is_none() {
                        " (the clock read as UTC: the case gives no time zone)"
                    } else {
                        ""
                    }
                ));
            }
            Some(StartComparison {
                recorded_start_wall_ms: recorded,
                corrected_start_wall_ms: corrected,
                read_start_wall_ms: read_start,
                time_zone: timing.time_zone.clone(),
                difference_ms,
            })
        }
        _ => None,
    };

    ClockReadOutcome {
        source_id: timing.source_id.clone(),
        sha256: String::new(),
        models: Vec::new(),
        device: String::new(),
        points: points.len() as u64,
        readings,
        date_order: date.as_ref().map(|d| d.0),
        other_dates: date.map(|d| d.2).unwrap_or_default(),
        proposal,
        drift,
        recorded_start,
        command: None,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_plate::overlay::{parse_clock, CheckedTime, OverlayText, ParsedClock};

    fn timing(
        recorded_start_wall_ms: Option<i64>,
        zone: Option<&str>,
    ) -> crate::timing::SourceTiming {
        crate::timing::SourceTiming {
            source_id: "S0123456789ab".into(),
            camera: "cam".into(),
            start_wall_ms: recorded_start_wall_ms,
            recorded_start_wall_ms,
            correction: None,
            time_zone: zone.map(str::to_owned),
            camera_origin: "operator",
            in_force: None,
            notes: Vec::new(),
        }
    }

    fn analyse_now(
        points: &[(i64, Option<SampleClock>)],
        order: Option<DateOrder>,
        timing: &crate::timing::SourceTiming,
    ) -> ClockReadOutcome {
        analyse(
            points,
            order,
            timing,
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
    }

    /// A point whose overlay read `text` (its own time, as read).
    fn point(pts_ms: i64, text: &str) -> (i64, Option<SampleClock>) {
        let clock = parse_clock(text).unwrap_or_else(|| panic!("{text:?} parses"));
        let time = clock.time;
        (
            pts_ms,
            Some(SampleClock {
                line: OverlayText {
                    box_px: [30.0, 28.0, 64.0, 10.0],
                    text: text.into(),
                    confidence: 0.9,
                    detector_score: 0.9,
                    read: Default::default(),
                    steps: Default::default(),
                },
                parsed: Some(ParsedClock {
                    clock,
                    corrections: 0,
                    confidence: 0.9,
                }),
                checked: Some(CheckedTime {
                    time,
                    as_read: true,
                    log_p_per_char: -0.1,
                }),
            }),
        )
    }

    /// The clock shown at `pts_ms` by a clock showing `h:m:s` at pts 0, running at `rate`.
    fn shown(pts_ms: i64, start_s: i64, rate: f64) -> String {
        let s = start_s + (pts_ms as f64 * rate / 1000.0).floor() as i64;
        format!(
            "2017-03-07 {:02}:{:02}:{:02}",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    }

    #[test]
    fn points_are_the_middles_of_equal_parts() {
        assert_eq!(points_ms(30_000, 3), vec![5000, 15000, 25000]);
        assert_eq!(points_ms(30_000, 1), vec![15000]);
        assert_eq!(
            points_ms(7_000, 7),
            vec![500, 1500, 2500, 3500, 4500, 5500, 6500]
        );
    }

    #[test]
    fn consistent_readings_give_a_proposal_and_an_outlier_is_named() {
        let start = 12 * 3600 + 4 * 60 + 11;
        let mut pts: Vec<(i64, Option<SampleClock>)> = points_ms(30_000, 7)
            .into_iter()
            .map(|p| point(p, &shown(p, start, 1.0)))
            .collect();
        // One misread: 10 s off.
        let p3 = pts[3].0;
        pts[3] = point(p3, &shown(p3 + 10_000, start, 1.0));
        // One point where nothing was read.
        pts[5].1 = None;
        let out = analyse_now(&pts, None, &timing(None, None));
        assert_eq!(out.read_count(), 6);
        assert_eq!(out.consistent_count(), 5);
        assert!(!out.readings[3].consistent);
        assert!((out.readings[3].residual_ms.unwrap() - 10_000).abs() <= 1000);
        let p = out.proposal.as_ref().expect("a proposal");
        assert_eq!(p.readings_used, 5);
        assert!(p.dated);
        // The anchor shows exactly what the overlay showed at its media time.
        assert_eq!(p.local_time, shown(p.pts_ms, start, 1.0));
        assert_eq!(&p.local_start[..11], "2017-03-07 ");
        let d = out.drift.as_ref().expect("drift measured");
        assert!(!d.flagged, "{d:?}");
        assert!(
            out.notes.iter().any(|n| n.contains("15.0 s")),
            "{:?}",
            out.notes
        );
        assert!(
            out.notes.iter().any(|n| n.contains("1 of 7")),
            "{:?}",
            out.notes
        );
        let cmd = clock_set_command("S0123456789ab", p, None);
        assert!(
            cmd.starts_with("vigie clock set S0123456789ab --at "),
            "{cmd}"
        );
        assert!(
            cmd.contains(&format!("--true \"{}\" --tz ZONE", p.local_time)),
            "{cmd}"
        );
    }

    #[test]
    fn a_clock_running_fast_is_flagged() {
        // Over an hour, a clock gaining 1% (36 s/h).
        let start = 8 * 3600;
        let pts: Vec<_> = points_ms(3_600_000, 7)
            .into_iter()
            .map(|p| point(p, &shown(p, start, 1.01)))
            .collect();
        let out = analyse_now(&pts, None, &timing(None, None));
        let d = out.drift.clone().expect("drift");
        assert!(d.flagged, "{d:?}");
        assert!((d.drift_s_per_h - 36.0).abs() < 1.0, "{d:?}");
        assert_eq!(out.consistent_count(), 7, "{:?}", out.readings);
        assert!(out.notes.iter().any(|n| n.contains("drifts")));
        // A recorder losing one frame in ten: every reading still fits the drifting line.
        let pts: Vec<_> = points_ms(60_000, 7)
            .into_iter()
            .map(|p| point(p, &shown(p, start, 1.1)))
            .collect();
        let out = analyse_now(&pts, None, &timing(None, None));
        assert_eq!(out.consistent_count(), 7, "{:?}", out.readings);
        let d = out.drift.unwrap();
        assert!(
            d.flagged && (d.drift_s_per_h - 360.0).abs() < d.explained_s_per_h,
            "{d:?}"
        );
        // The same readings one second apart at most: within resolution.
        let pts: Vec<_> = points_ms(3_600_000, 7)
            .into_iter()
            .map(|p| point(p, &shown(p, start, 1.0)))
            .collect();
        assert!(
            !analyse_now(&pts, None, &timing(None, None))
                .drift
                .unwrap()
                .flagged
        );
    }

    #[test]
    fn an_ambiguous_date_is_said_and_resolved_by_the_order_or_the_recorded_start() {
        let pts: Vec<_> = [1000, 11_000, 21_000]
            .into_iter()
            .map(|p| point(p, &format!("17/03/07 12:04:{:02}", 10 + p / 1000)))
            .collect();
        let out = analyse_now(&pts, None, &timing(None, None));
        assert_eq!(out.date_order, Some(DateOrder::Dmy));
        assert_eq!(out.other_dates.len(), 1);
        assert_eq!(out.other_dates[0].order, DateOrder::Ymd);
        assert!(out.notes.iter().any(|n| n.contains("--date-order")));
        assert_eq!(out.proposal.unwrap().local_start, "2007-03-17 12:04:10");

        let out = analyse_now(&pts, Some(DateOrder::Ymd), &timing(None, None));
        assert_eq!(out.proposal.unwrap().local_start, "2017-03-07 12:04:10");
        assert!(!out.notes.iter().any(|n| n.contains("--date-order")));

        // A recorded start in 2017 picks year first, and is compared with the clock.
        let recorded = NaiveDate::from_ymd_opt(2017, 3, 7)
            .unwrap()
            .and_hms_opt(11, 4, 10)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let out = analyse_now(&pts, None, &timing(Some(recorded), Some("Europe/Paris")));
        assert_eq!(out.date_order, Some(DateOrder::Ymd));
        let c = out.recorded_start.expect("compared");
        // 12:04:10 in Paris (UTC+1 in March) is 11:04:10 UTC: they agree, to the half
        // second a clock cut to the second leaves open.
        assert_eq!(c.difference_ms, 500, "{c:?}");
        let out = analyse_now(&pts, None, &timing(Some(recorded), None));
        assert_eq!(out.recorded_start.unwrap().difference_ms, 3_600_500);
        assert!(out.notes.iter().any(|n| n.contains("as UTC")));
    }

    #[test]
    fn times_of_day_without_a_date_wrap_at_midnight() {
        let pts: Vec<_> = [0, 10_000, 20_000, 30_000]
            .into_iter()
            .map(|p| {
                let s = (23 * 3600 + 59 * 60 + 45 + p / 1000) % 86_400;
                point(
                    p,
                    &format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
                )
            })
            .collect();
        let out = analyse_now(&pts, None, &timing(None, None));
        assert_eq!(out.consistent_count(), 4, "{:?}", out.readings);
        assert_eq!(out.date_order, None);
        let p = out.proposal.unwrap();
        assert!(!p.dated);
        assert_eq!(p.local_start, "23:59:45");
        assert!(!out.drift.unwrap().flagged);
    }

    #[test]
    fn one_lone_reading_proposes_nothing() {
        let pts = vec![
            point(1000, "2017-03-07 12:00:00"),
            point(2000, "2017-03-07 15:00:00"),
            (3000, None),
        ];
        let out = analyse_now(&pts, None, &timing(None, None));
        assert!(out.proposal.is_none());
        assert!(
            out.notes.iter().any(|n| n.contains("no correction")),
            "{:?}",
            out.notes
        );
    }
}
