//! Results: searching the case's index, and the files that carry footage or results out
//! of vigie (contact sheet, clip, frame, synopsis).
//!
//! Why here: a search is a consultation of personal data and every file written is a
//! disclosure. The order is the same for every front end: validate (a typo is an error,
//! never an empty result), check that no output would be overwritten, do the work, write
//! and sync the typed entry, and only then hand results back for display. Every output
//! path goes through [`EnteredCase::export_target`] (a bare name lands in the case's
//! `exports/`, erased at closure) and every written file is hashed into one `exported`
//! entry by [`EnteredCase::record_export`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;
use vigie_audit::event::{Event, ExportKind, FileHash};
use vigie_core::TrackSummary;
use vigie_decode::ExportReport;
use vigie_evidence::SourceRecord;
use vigie_index::render::{self, SheetOptions};
use vigie_index::{Query, QueryArgs, SearchResult};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::export::ExportTarget;

/// Refuse to overwrite an output, or to write through a link (a dangling one too: it
/// would put the file wherever it points, past the export path's checks).
pub(crate) fn refuse_existing(target: &ExportTarget, what: &str) -> Result<(), AppError> {
    if std::fs::symlink_metadata(&target.path).is_ok() {
        return Err(AppError::BadExport(format!(
            "the {what} file already exists (choose another name; vigie never overwrites an \
             output): {}",
            target.path.display()
        )));
    }
    Ok(())
}

/// Write a new file (never over an existing one) and sync it.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(AppError::io(path))?;
    f.write_all(bytes).map_err(AppError::io(path))?;
    f.sync_all().map_err(AppError::io(path))?;
    Ok(())
}

// ---- search ---------------------------------------------------------------------------

/// Parse search flags into a query; the error names the bad flag and what it accepts.
/// Front ends call it before entering the case, so a typo is reported as such.
pub fn parse_query(args: &QueryArgs) -> Result<Query, AppError> {
    Ok(Query::parse(args)?)
}

/// A search of the case's index.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    /// Also write an HTML contact sheet here (see [`crate::export`]).
    pub sheet: Option<PathBuf>,
    /// How the front end shows the results (`table`, `csv`, `json`), recorded in the
    /// consultation; `sheet` when a sheet is asked for.
    pub output: String,
    /// A sheet linking the analysis's own thumbnails (bystanders shown), with its
    /// justification; `None`: thumbnails redacted and written beside the sheet.
    pub sheet_unredacted: Option<crate::redact::Unredacted>,
}

/// A search's results and the contact sheet written, if any.
#[derive(Debug)]
pub struct SearchOutcome {
    pub result: SearchResult,
    pub sheet: Option<(ExportTarget, FileHash)>,
    /// For a search with a time range: how much of it analysed footage covers. No hit in
    /// an uncovered stretch means no footage, not nothing happened.
    pub coverage: Option<TimeCoverage>,
    /// The clock of every source with a hit whose times are not simply the recorder's
    /// (a correction in force, a time zone, a daylight-saving change): which correction
    /// the times use.
    pub clocks: Vec<ClockNote>,
}

/// Which clock the times of one source's results are on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClockNote {
    pub source_id: String,
    pub camera: String,
    /// The correction in force, said for people (`None`: the recorder's clock).
    pub correction: Option<String>,
    /// Corrected minus recorded time (ms), when both are known.
    pub shift_ms: Option<i64>,
    pub time_zone: Option<String>,
    /// Daylight-saving changes inside the source, and what the correction had to decide.
    pub notes: Vec<String>,
}

/// Show the hits' times on the corrected clock of their source, in the place's time
/// zone, with the recorder's time beside them where the two differ; one note per source
/// whose clock is not simply the recorder's.
fn apply_clocks(case: &EnteredCase, result: &mut SearchResult) -> Vec<ClockNote> {
    let mut timings: std::collections::BTreeMap<String, Option<crate::timing::SourceTiming>> =
        Default::default();
    let mut notes = Vec::new();
    // One reading of the registry for every hit's source.
    let registered = case.sources_by_id().unwrap_or_default();
    for h in &mut result.hits {
        let id = h.track.source_id.clone();
        let timing = timings.entry(id.clone()).or_insert_with(|| {
            let rec = registered.get(&id)?;
            let t = case.timing(rec);
            if t.correction.is_some() || t.time_zone.is_some() {
                let mut n = t.notes.clone();
                n.extend(t.offset_changes(rec.meta.duration_ms.unwrap_or(0) as i64));
                notes.push(ClockNote {
                    source_id: id.clone(),
                    camera: t.camera.clone(),
                    correction: t.correction.clone(),
                    shift_ms: t
                        .start_wall_ms
                        .zip(t.recorded_start_wall_ms)
                        .map(|(a, b)| a - b),
                    time_zone: t.time_zone.clone(),
                    notes: n,
                });
            }
            Some(t)
        });
        let Some(t) = timing.as_ref() else { continue };
        let rfc = |ms: i64| {
            chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).map(|u| match t.zone() {
                Some(z) => u.with_timezone(&z).to_rfc3339(),
                None => u.to_rfc3339(),
            })
        };
        if t.zone().is_some() {
            h.first_wall = h.track.first_wall_ms.and_then(rfc);
            h.last_wall = h.track.last_wall_ms.and_then(rfc);
        }
        if t.is_corrected() {
            h.recorded_first_wall = t
                .recorded_start_wall_ms
                .and_then(|r| rfc(r + h.track.first_pts_ms));
        }
    }
    notes
}

/// How much of a wall-clock range the analysed footage covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeCoverage {
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    /// Milliseconds of the range covered by analysed footage.
    pub covered_ms: i64,
    /// Stretches of the range with no analysed footage (`[from, to)`, wall-clock ms).
    pub uncovered: Vec<(i64, i64)>,
    /// Analysed sources with no known wall-clock start (they cannot be placed in time).
    pub sources_without_start: Vec<String>,
}

impl TimeCoverage {
    pub fn is_complete(&self) -> bool {
        self.uncovered.is_empty() && self.sources_without_start.is_empty()
    }
}

/// The coverage of `[from, to)` by analysed footage (of the camera `camera` when given:
/// its name, or the name its analysis was indexed under), from [`crate::coverage`]:
/// holes in recordings, truncated tails and time without recording are uncovered.
pub fn time_coverage(
    case: &EnteredCase,
    from_wall_ms: i64,
    to_wall_ms: i64,
    camera: Option<&str>,
) -> Result<TimeCoverage, AppError> {
    let index_sources = case.index()?.sources()?;
    // Only analysed sources cover anything; one whose record disagrees with the chain was
    // refused (with an alert) by `sources_by_id` and covers nothing.
    let registered = case.sources_by_id()?;
    let timed: Vec<(SourceRecord, crate::timing::SourceTiming)> = index_sources
        .iter()
        .filter_map(|info| registered.get(&info.record.source_id).cloned())
        .map(|rec| {
            let t = case.timing(&rec);
            (rec, t)
        })
        .collect();
    let cov = crate::coverage::compute_from(
        &timed,
        &index_sources,
        &crate::coverage::CoverageRequest {
            camera: camera.map(str::to_owned),
            from_wall_ms: Some(from_wall_ms),
            to_wall_ms: Some(to_wall_ms),
        },
    );
    let sources_without_start = cov
        .unplaced
        .iter()
        .filter(|u| u.analysed && u.reason == crate::coverage::UnplacedReason::NoStart)
        .map(|u| u.source_id.clone())
        .collect();
    let mut uncovered = Vec::new();
    let mut covered_ms = 0;
    let mut at = from_wall_ms;
    for (a, b) in cov.analysed_spans() {
        if b <= at || a >= to_wall_ms {
            continue;
        }
        if a > at {
            uncovered.push((at, a.min(to_wall_ms)));
        }
        let end = b.min(to_wall_ms);
        covered_ms += end - a.max(at);
        at = end;
        if at >= to_wall_ms {
            break;
        }
    }
    if at < to_wall_ms {
        uncovered.push((at, to_wall_ms));
    }
    Ok(TimeCoverage {
        from_wall_ms,
        to_wall_ms,
        covered_ms,
        uncovered,
        sources_without_start,
    })
}

/// Search the case's index. The consultation (the query, its output and the tracks
/// returned) is recorded before the results are returned; a contact sheet is a
/// disclosure of its own, with its hash.
pub fn search(case: &EnteredCase, req: &SearchRequest) -> Result<SearchOutcome, AppError> {
    let sheet = match &req.sheet {
        Some(p) => {
            let t = case.export_target(p)?;
            refuse_existing(&t, "contact sheet")?;
            Some(t)
        }
        None => None,
    };
    // A redacted sheet's thumbnails go to `<sheet name>.files/` beside it.
    let images_dir = match (&sheet, &req.sheet_unredacted) {
        (Some(t), None) => {
            let stem = t
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sheet".into());
            let dir = t
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/"))
                .join(format!("{stem}.files"));
            if dir.exists() {
                return Err(AppError::BadExport(format!(
                    "the contact sheet's image folder already exists (choose another sheet name; vigie never overwrites an output): {}",
                    dir.display()
                )));
            }
            Some(dir)
        }
        _ => None,
    };
    let index = case.index()?;
    let mut result = index.search(&req.query)?;
    let clocks = apply_clocks(case, &mut result);
    let output = if sheet.is_some() {
        "sheet"
    } else {
        req.output.as_str()
    };
    let tracks: Vec<String> = result
        .hits
        .iter()
        .map(|h| format!("{}#{}", h.track.source_id, h.track.track_id))
        .collect();
    case.record(&Event::Search {
        query: json!(req.query.to_args()),
        count: result.hits.len() as u64,
        parsed: json!(req.query),
        output: Some(output.to_owned()),
        sheet: sheet.as_ref().map(|t| t.path.display().to_string()),
        truncated: result.truncated,
        tracks: tracks.clone(),
    })?;
    let sheet = match sheet {
        None => None,
        Some(target) => {
            let sheet_dir = target
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/"));
            let title = format!("vigie search, case {}", case.case_id());
            let (kind, html, extra, detail) = match (&req.sheet_unredacted, &images_dir) {
                (Some(_), _) | (None, None) => {
                    let html = render::sheet(
                        &result,
                        &SheetOptions {
                            sheet_dir,
                            derived_dir: case.layout().derived(),
                            title: format!(
                                "{title} · {}",
                                vigie_redact::mark_text(case.procedure(), None)
                            ),
                        },
                    );
                    let why = req
                        .sheet_unredacted
                        .as_ref()
                        .map(|u| u.justification.clone());
                    (
                        ExportKind::UnredactedSheet,
                        html,
                        Vec::new(),
                        json!({ "flags": req.query.to_args(), "tracks": tracks, "justification": why }),
                    )
                }
                (None, Some(dir)) => {
                    let images = crate::redact::sheet_images(case, &result.hits, dir)?;
                    let mut shown = result.clone();
                    for h in &mut shown.hits {
                        h.track.thumbnail = images
                            .images
                            .get(&(h.track.source_id.clone(), h.track.track_id))
                            .cloned();
                    }
                    let html = render::sheet(
                        &shown,
                        &SheetOptions {
                            sheet_dir: sheet_dir.clone(),
                            derived_dir: sheet_dir,
                            title: format!(
                                "{title} · {}",
                                vigie_redact::mark_text(
                                    case.procedure(),
                                    Some(images.objects_redacted)
                                )
                            ),
                        },
                    );
                    let mut extra = Vec::with_capacity(images.files.len());
                    for f in &images.files {
                        extra.push(case.export_target(f)?);
                    }
                    (
                        ExportKind::ContactSheet,
                        html,
                        extra,
                        json!({
                            "flags": req.query.to_args(), "tracks": tracks,
                            "redaction": {
                                "objects_redacted": images.objects_redacted,
                                "thumbnails": images.files.len(),
                                "withheld": images.withheld.iter().map(|(s, t)| format!("{s}#{t}")).collect::<Vec<_>>(),
                                "plates": images.plates,
                                "motion_mask": false,
                                "params": vigie_redact::RedactParams::default(),
                            },
                        }),
                    )
                }
            };
            write_new(&target.path, html.as_bytes())?;
            // The sheet and the images it shows leave vigie: a disclosure, with hashes.
            let mut targets: Vec<&ExportTarget> = vec![&target];
            targets.extend(extra.iter());
            let files = case.record_export(kind, None, detail, &targets)?;
            let hash = files.into_iter().next().expect("one file recorded");
            Some((target, hash))
        }
    };
    let coverage = match (req.query.from_wall_ms, req.query.to_wall_ms) {
        (Some(from), Some(to)) if to > from => {
            Some(time_coverage(case, from, to, req.query.camera.as_deref())?)
        }
        _ => None,
    };
    Ok(SearchOutcome {
        result,
        sheet,
        coverage,
        clocks,
    })
}

/// Search results as CSV (one line per track, with a header).
pub fn results_csv(result: &SearchResult) -> String {
    render::csv(result)
}

/// Search results as a text table.
pub fn results_table(result: &SearchResult) -> String {
    render::table(result)
}

// ---- clip -----------------------------------------------------------------------------

/// Export the source segment where a track appears.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRequest {
    pub track_id: u64,
    /// Source id or path, when several sources have a track with this id.
    pub source: Option<String>,
    /// Context kept before and after the track, seconds (0 to 600).
    pub margin_s: f64,
    pub output: PathBuf,
    /// Other tracks of the same source left clear (redacted clips only).
    pub keep: Vec<u64>,
    /// `Some`: no redaction, a stream copy of the original pixels, recorded as an
    /// `unredacted_clip` disclosure with its justification. `None` (the default): every
    /// object other than the track (and `keep`) is masked, and the clip re-encoded.
    pub unredacted: Option<crate::redact::Unredacted>,
}

/// A clip written and disclosed.
#[derive(Debug)]
pub struct ClipOutcome {
    pub record: SourceRecord,
    pub track: TrackSummary,
    /// Segment bounds (for a redacted clip: its first and last frame; `packets` is then
    /// the frame count).
    pub report: ExportReport,
    pub target: ExportTarget,
    pub file: FileHash,
    /// What was masked (`None`: an unredacted stream copy).
    pub redaction: Option<crate::redact::ClipRedaction>,
}

/// Export the segment of a track (plus margins). By default redacted: every other object
/// masked (`crate::redact`), re-encoded as H.264 MP4, recorded with the source segment's
/// hash, the parameters and the figures. With [`ClipRequest::unredacted`]: copied without
/// re-encoding (the original pixels) and recorded as an unredacted disclosure.
pub fn clip(case: &EnteredCase, req: &ClipRequest) -> Result<ClipOutcome, AppError> {
    if !(0.0..=600.0).contains(&req.margin_s) {
        return Err(AppError::BadInput(format!(
            "invalid --margin {} (expected 0 to 600 seconds)",
            req.margin_s
        )));
    }
    if req.unredacted.is_some() && !req.keep.is_empty() {
        return Err(AppError::BadInput(
            "--keep is for redacted clips (an unredacted clip shows everything); remove it".into(),
        ));
    }
    if req.unredacted.is_none() {
        match req.output.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("mp4") => {}
            _ => {
                return Err(AppError::BadInput(format!(
                    "a redacted clip is re-encoded as H.264 in MP4: name it .mp4 (e.g. \
                     clip.mp4), not {}",
                    req.output.display()
                )))
            }
        }
    }
    let target = case.export_target(&req.output)?;
    refuse_existing(&target, "clip")?;
    let index = case.index()?;
    let source_filter = match &req.source {
        Some(s) => Some(case.find_source(s)?.source_id),
        None => None,
    };
    let hits = index.tracks_by_id(source_filter.as_deref(), req.track_id)?;
    let track = match hits.as_slice() {
        [] => {
            return Err(AppError::BadInput(format!(
                "no track {} in this case's index (see `vigie search`)",
                req.track_id
            )))
        }
        [one] => one.clone(),
        many => {
            return Err(AppError::BadInput(format!(
                "track id {} exists in several sources ({}); choose one with --source",
                req.track_id,
                many.iter()
                    .map(|t| t.source_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let record = case.find_source(&track.source_id)?;
    // Opened once: the clip is cut from the inode that was hashed, and not recorded if the
    // file changed while it was read.
    let source = case.open_source(&record)?;
    let margin_ms = (req.margin_s * 1000.0) as i64;
    let start_ms = (track.first_pts_ms - margin_ms).max(0);
    let end_ms = track.last_pts_ms + margin_ms;
    if let Some(u) = &req.unredacted {
        let report = vigie_decode::export_segment(
            &source.decode_path(),
            Some(record.meta.stream_index),
            start_ms,
            end_ms,
            &target.path,
        )?;
        unchanged_or_discard(case, &source, &target)?;
        let files = case.record_export(
            ExportKind::UnredactedClip,
            Some(&record),
            json!({
                "track_id": track.track_id, "start_ms": report.start_ms, "end_ms": report.end_ms,
                "margin_s": req.margin_s, "packets": report.packets,
                "redaction": { "redacted": false, "justification": u.justification },
            }),
            &[&target],
        )?;
        let file = files.into_iter().next().expect("one file recorded");
        return Ok(ClipOutcome {
            record,
            track,
            report,
            target,
            file,
            redaction: None,
        });
    }
    let mut selected = vec![track.track_id];
    selected.extend(&req.keep);
    selected.sort_unstable();
    selected.dedup();
    let redactor = crate::redact::redactor(case, &record, &selected)?;
    let red = crate::redact::write_redacted_clip(
        case,
        &source,
        &redactor,
        start_ms,
        end_ms,
        &target.path,
    )?;
    unchanged_or_discard(case, &source, &target)?;
    let report = ExportReport {
        output: target.path.clone(),
        start_ms: red.first_pts_ms,
        end_ms: red.last_pts_ms,
        packets: red.figures.frames + red.frames_repeated,
    };
    let files = case.record_export(
        ExportKind::Clip,
        Some(&record),
        json!({
            "track_id": track.track_id, "start_ms": report.start_ms, "end_ms": report.end_ms,
            "margin_s": req.margin_s, "keep": req.keep,
            "redaction": red.detail(),
        }),
        &[&target],
    )?;
    let file = files.into_iter().next().expect("one file recorded");
    Ok(ClipOutcome {
        record,
        track,
        report,
        target,
        file,
        redaction: Some(red),
    })
}

// ---- frame ----------------------------------------------------------------------------

/// Parse `--at` into ms from the start of the source: seconds (`12.5`), `MM:SS`,
/// `HH:MM:SS`, or a wall-clock time (RFC 3339 with offset) when the start (`start_ms`,
/// ms since the epoch) is known.
pub fn parse_at(s: &str, start_ms: Option<i64>) -> Result<i64, AppError> {
    let s = s.trim();
    if let Ok(t) = vigie_core::parse_wall_clock(s) {
        let Some(start) = start_ms else {
            return Err(AppError::BadInput(format!("--at {s:?} is a wall-clock time but this source has no known start time; give seconds from the start instead (e.g. --at 12.5)")));
        };
        let ms = t.timestamp_millis() - start;
        if ms < 0 {
            return Err(AppError::BadInput(format!(
                "--at {s:?} is before the source starts"
            )));
        }
        return Ok(ms);
    }
    let bad = || {
        AppError::BadInput(format!("invalid --at {s:?} (expected seconds such as 12.5, MM:SS, HH:MM:SS, or RFC 3339 with offset)"))
    };
    let nums: Vec<f64> = s
        .split(':')
        .map(|p| p.parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let secs = match nums.as_slice() {
        [s] => *s,
        [m, s] => m * 60.0 + s,
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok((secs * 1000.0).round() as i64)
}

/// Export one frame as a PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRequest {
    /// Source id or registered path.
    pub source: String,
    /// When (see [`parse_at`]).
    pub at: String,
    pub output: PathBuf,
    /// Tracks of the source left clear (none by default: every object is masked).
    pub keep: Vec<u64>,
    /// `Some`: no redaction (the "UNREDACTED" mark only), recorded as an
    /// `unredacted_frame` disclosure with its justification.
    pub unredacted: Option<crate::redact::Unredacted>,
}

/// A frame written and disclosed.
#[derive(Debug)]
pub struct FrameOutcome {
    pub record: SourceRecord,
    pub pts_ms: i64,
    pub wall_ms: Option<i64>,
    pub width_px: u32,
    pub height_px: u32,
    pub target: ExportTarget,
    pub file: FileHash,
    /// What was masked (`None`: unredacted).
    pub redaction: Option<crate::redact::FrameRedaction>,
}

/// Write the frame of a source at a given time as a PNG (native size) with the mark, by
/// default redacted (every object not in `keep` masked, `crate::redact`), and record the
/// disclosure with the file's hash.
pub fn frame(case: &EnteredCase, req: &FrameRequest) -> Result<FrameOutcome, AppError> {
    if req.unredacted.is_some() && !req.keep.is_empty() {
        return Err(AppError::BadInput(
            "--keep is for redacted frames (an unredacted frame shows everything); remove it"
                .into(),
        ));
    }
    let target = case.export_target(&req.output)?;
    refuse_existing(&target, "frame")?;
    let record = case.find_source(&req.source)?;
    let source = case.open_source(&record)?;
    let timing = case.timing(&record);
    let at_ms = parse_at(&req.at, timing.start_wall_ms)?;
    let redactor = match &req.unredacted {
        None => Some(crate::redact::redactor(case, &record, &req.keep)?),
        Some(_) => None,
    };
    let Some(marked) = crate::redact::marked_frame(case, &source, redactor.as_ref(), at_ms)? else {
        return Err(AppError::BadInput(format!(
            "the source ends before {:.3} s (its duration is {})",
            at_ms as f64 / 1000.0,
            record
                .meta
                .duration_ms
                .map(|d| format!("{:.3} s", d as f64 / 1000.0))
                .unwrap_or_else(|| "unknown".into())
        )));
    };
    let frame = &marked.frame;
    image::save_buffer_with_format(
        &target.path,
        &frame.data,
        frame.width,
        frame.height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| AppError::Io {
        path: target.path.clone(),
        source: std::io::Error::other(e),
    })?;
    unchanged_or_discard(case, &source, &target)?;
    let (kind, redaction) = match (&req.unredacted, &marked.redaction) {
        (Some(u), _) => (
            ExportKind::UnredactedFrame,
            json!({ "redacted": false, "justification": u.justification, "mark": marked.mark }),
        ),
        (None, Some(r)) => (ExportKind::Frame, r.detail()),
        (None, None) => unreachable!("a redacted frame has its redaction"),
    };
    let files = case.record_export(
        kind,
        Some(&record),
        json!({
            "at_ms": frame.pts_ms, "wall_ms": timing.wall_ms(frame.pts_ms),
            "recorded_wall_ms": frame.wall_ms, "clock": timing.correction,
            "keep": req.keep, "redaction": redaction,
        }),
        &[&target],
    )?;
    let file = files.into_iter().next().expect("one file recorded");
    Ok(FrameOutcome {
        record,
        pts_ms: frame.pts_ms,
        wall_ms: timing.wall_ms(frame.pts_ms),
        width_px: frame.width,
        height_px: frame.height,
        target,
        file,
        redaction: marked.redaction,
    })
}

// ---- synopsis -------------------------------------------------------------------------

pub use crate::synopsis::{
    camera_synopsis_with, synopsis, synopsis_with, CameraSynopsisOutcome, CameraSynopsisRequest,
    LeftOut, SourceUse, SynopsisOptions, SynopsisOutcome, SynopsisRequest,
};

/// The export made from `source` is recorded only if the file did not change while it was
/// read; otherwise the written file is removed (it shows footage other than the hashed
/// evidence) and the refusal stands (evidence-changed alert).
fn unchanged_or_discard(
    case: &EnteredCase,
    source: &vigie_evidence::VerifiedSource,
    target: &ExportTarget,
) -> Result<(), AppError> {
    case.source_unchanged(source).inspect_err(|_| {
        let _ = std::fs::remove_file(&target.path);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_formats() {
        assert_eq!(parse_at("12.5", None).unwrap(), 12_500);
        assert_eq!(parse_at("01:02", None).unwrap(), 62_000);
        assert_eq!(parse_at("1:00:00", None).unwrap(), 3_600_000);
        assert_eq!(
            parse_at("2024-06-01T14:00:10+02:00", Some(1_717_243_200_000)).unwrap(),
            10_000
        );
        assert!(parse_at("2024-06-01T14:00:10+02:00", None).is_err());
        assert!(parse_at("soon", None)
            .unwrap_err()
            .to_string()
            .contains("expected seconds"));
        assert!(parse_at("-3", None).is_err());
    }

    #[test]
    fn an_output_that_is_a_link_is_refused_even_dangling() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("out.png");
        std::os::unix::fs::symlink(d.path().join("elsewhere/hidden.png"), &link).unwrap();
        let target = ExportTarget {
            path: link,
            inside_case: false,
        };
        assert!(refuse_existing(&target, "frame").is_err());
        let free = ExportTarget {
            path: d.path().join("free.png"),
            inside_case: false,
        };
        assert!(refuse_existing(&free, "frame").is_ok());
    }
}
