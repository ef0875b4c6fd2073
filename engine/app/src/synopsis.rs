//! Synopses: one source's objects, or every file of one camera on one timeline, condensed
//! into a short video with its index (JSON) and WebVTT.
//!
//! Why here: a synopsis is a combination of the case's data (one `synopsis_built` entry
//! per source used, with the figures) and its three files are a disclosure (one
//! `exported` entry naming each file by hash, and for a camera every source used with
//! its hash and the stretch of it shown). The order is that of every result: validate
//! (a typo is an error), refuse to overwrite, do the work, write and sync the entries,
//! then hand the results back.
//!
//! Why a camera's timeline is built here: recorders write one file per hour and a file's
//! name says nothing reliable about its time. The camera's files are ordered by their
//! corrected wall-clock start (`SourceTiming`, the same clock every search and report
//! uses), cut to the requested time range, and laid one after the other; the engine
//! ([`vigie_synopsis::run_parts`]) draws each file's own backgrounds while the timeline
//! passes through it and keeps each object within half an hour of its own time, so an
//! object is shown over the light of its own hour. A file without a wall-clock start
//! cannot be placed on that timeline: it is left out, named, with the way out (`vigie
//! clock set`, or its own synopsis with `--source`, labelled with media time).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};
use vigie_audit::event::{Event, ExportKind, FileHash};
use vigie_core::{BBox, TrackSummary};
use vigie_evidence::SourceRecord;
use vigie_index::{Query, QueryArgs, MAX_LIMIT};
use vigie_synopsis::{Figures, IndexEntry, PartInput, SourceInput, SynopsisConfig, TubeInput};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::export::ExportTarget;
use crate::results::{refuse_existing, write_new};

/// Condense a source's objects into a short video.
#[derive(Debug, Clone)]
pub struct SynopsisRequest {
    /// Source id or registered path.
    pub source: String,
    /// The video (.mp4); its index (`.json`) and WebVTT (`.vtt`) are written next to it.
    pub output: PathBuf,
    /// Target length, seconds (`None`: the shortest within the collision budget).
    pub length_s: Option<f64>,
    /// Collision budget, share of object area (0..1).
    pub max_collisions: f64,
    pub keep_order: bool,
    /// Search filters selecting the tracks (`None`: every track of the source).
    pub filters: Option<QueryArgs>,
}

/// A synopsis written and disclosed.
#[derive(Debug)]
pub struct SynopsisOutcome {
    pub record: SourceRecord,
    pub video: ExportTarget,
    pub index: ExportTarget,
    pub webvtt: ExportTarget,
    /// Hashes of the video, index and WebVTT, in that order.
    pub files: Vec<FileHash>,
    pub figures: Figures,
    pub entries: Vec<IndexEntry>,
}

/// The operator's further settings of a synopsis (each `None`: the default).
#[derive(Debug, Clone, Default)]
pub struct SynopsisOptions {
    /// Longest automatic length, seconds (default: the footage's duration).
    pub max_length_s: Option<f64>,
    /// At most this many objects on screen at once (density).
    pub max_objects: Option<usize>,
    /// Shortest segment a long object is cut into, seconds (default 3).
    pub min_segment_s: Option<f64>,
    /// Shortest time a standing object pasted into the background stays on screen,
    /// seconds (default 0.3: `vigie_synopsis::DEFAULT_STILL_SHOW_MIN_MS`).
    pub still_show_min_s: Option<f64>,
    /// Shortest time two objects' boxes touch for them to be shown together, seconds
    /// (default 1.5: `vigie_synopsis::group::GroupRule`; 0: never grouped).
    pub together_s: Option<f64>,
    /// Moving objects shown this many times faster than they moved (default 1: their own
    /// pace; at most `vigie_synopsis::MAX_OBJECT_SPEED`).
    pub object_speed: Option<u32>,
}

/// One source on a synopsis's timeline: what the index, the disclosure and the printout
/// say about it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceUse {
    pub source_id: String,
    pub source_path: PathBuf,
    pub source_sha256: String,
    pub camera: String,
    /// The stretch shown, media time of the source, ms.
    pub from_ms: i64,
    pub to_ms: i64,
    /// The same stretch on the corrected wall clock (RFC 3339; `None` without one).
    pub from_wall: Option<String>,
    pub to_wall: Option<String>,
    /// The clock correction in force, said for people.
    pub correction: Option<String>,
    /// Where the stretch begins on the synopsis's timeline (before condensation), ms.
    pub timeline_start_ms: i64,
    /// Its objects shown.
    pub tracks: Vec<u64>,
}

/// A source of the camera that is not on the timeline, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    pub source_id: String,
    pub source_path: PathBuf,
    pub why: String,
}

/// Condense every file of a camera (or a time range across them) into one synopsis.
#[derive(Debug, Clone)]
pub struct CameraSynopsisRequest {
    /// Search filters; `camera` is required, `from`/`to` (RFC 3339) also bound the
    /// timeline, the others select the objects as in a search.
    pub filters: QueryArgs,
    pub output: PathBuf,
    pub length_s: Option<f64>,
    pub max_collisions: f64,
    pub keep_order: bool,
}

/// A camera synopsis written and disclosed.
#[derive(Debug)]
pub struct CameraSynopsisOutcome {
    pub camera: String,
    /// In timeline order (corrected wall clock).
    pub sources: Vec<SourceUse>,
    /// Sources of the camera not on the timeline (no wall clock), with the way out.
    pub left_out: Vec<LeftOut>,
    pub video: ExportTarget,
    pub index: ExportTarget,
    pub webvtt: ExportTarget,
    pub files: Vec<FileHash>,
    pub figures: Figures,
    pub entries: Vec<IndexEntry>,
}

/// Build a synopsis of a source's tracks (all, or those matching the filters), with the
/// default [`SynopsisOptions`].
pub fn synopsis(case: &EnteredCase, req: &SynopsisRequest) -> Result<SynopsisOutcome, AppError> {
    synopsis_with(case, req, &SynopsisOptions::default())
}

fn config(
    length_s: Option<f64>,
    max_collisions: f64,
    keep_order: bool,
    opts: &SynopsisOptions,
) -> Result<SynopsisConfig, AppError> {
    // NaN and infinity would become 0 s or a huge count of ms below and be reported as
    // such: name them as given.
    for (flag, v) in [
        ("--length-s", length_s),
        ("--max-length-s", opts.max_length_s),
        ("--min-segment-s", opts.min_segment_s),
        ("--still-show-min-s", opts.still_show_min_s),
        ("--together-s", opts.together_s),
    ] {
        if let Some(v) = v.filter(|v| !v.is_finite()) {
            return Err(AppError::BadInput(format!(
                "invalid {flag} {v}: give a number of seconds (e.g. 60)"
            )));
        }
    }
    let defaults = SynopsisConfig::default();
    let cfg = SynopsisConfig {
        length_ms: length_s.map(|s| (s * 1000.0).round() as i64),
        max_length_ms: opts.max_length_s.map(|s| (s * 1000.0).round() as i64),
        max_collision: max_collisions,
        max_objects: opts.max_objects,
        keep_order,
        min_segment_ms: opts
            .min_segment_s
            .map_or(defaults.min_segment_ms, |s| (s * 1000.0).round() as i64),
        still_show_min_ms: opts
            .still_show_min_s
            .map_or(defaults.still_show_min_ms, |s| (s * 1000.0).round() as i64),
        group: vigie_synopsis::group::GroupRule {
            min_together_ms: opts.together_s.map_or(defaults.group.min_together_ms, |s| {
                (s * 1000.0).round() as i64
            }),
            ..defaults.group
        },
        object_speed: opts.object_speed.unwrap_or(defaults.object_speed),
        ..defaults
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The three outputs, each refused if it exists.
fn outputs(
    case: &EnteredCase,
    output: &std::path::Path,
) -> Result<(ExportTarget, ExportTarget, ExportTarget), AppError> {
    match output.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("mp4") => {}
        _ => {
            return Err(AppError::BadInput(format!(
                "the synopsis must be an .mp4 file (H.264); name it e.g. synopsis.mp4: {}",
                output.display()
            )))
        }
    }
    let video = case.export_target(output)?;
    let index_out = video.sibling("json");
    let vtt_out = video.sibling("vtt");
    for t in [&video, &index_out, &vtt_out] {
        refuse_existing(t, "output")?;
    }
    Ok((video, index_out, vtt_out))
}

fn parse_filters(filters: &QueryArgs) -> Result<Query, AppError> {
    let mut f = filters.clone();
    f.limit = Some(MAX_LIMIT.to_string());
    Ok(Query::parse(&f)?)
}

/// A source's selected tubes and, when `hide_others`, the boxes of its other tracks
/// (never visible in a filtered synopsis), with the analysis's working size.
type SourceTubes = (Vec<TubeInput>, Vec<Vec<(i64, BBox)>>, (u32, u32));

fn tubes_of(
    case: &EnteredCase,
    record: &SourceRecord,
    tracks: &[TrackSummary],
    hide_others: bool,
) -> Result<SourceTubes, AppError> {
    let tube_file = case.layout().read_tubes(&record.source_id)?;
    let mut boxes: HashMap<u64, Vec<(i64, BBox)>> = tube_file
        .tubes
        .into_iter()
        .map(|t| (t.track_id, t.boxes))
        .collect();
    let mut tubes = Vec::with_capacity(tracks.len());
    for t in tracks {
        let Some(b) = boxes.remove(&t.track_id).filter(|b| !b.is_empty()) else {
            return Err(AppError::DamagedDerived {
                what: "tube file".into(),
                why: format!("track {} has no per-frame boxes", t.track_id),
                path: case.layout().tube_file(&record.source_id),
            });
        };
        tubes.push(TubeInput {
            track_id: t.track_id,
            label: t.label.clone(),
            first_pts_ms: t.first_pts_ms,
            last_pts_ms: t.last_pts_ms,
            first_wall_ms: t.first_wall_ms,
            last_wall_ms: t.last_wall_ms,
            boxes: b,
        });
    }
    let hidden = if hide_others {
        boxes.into_values().filter(|b| !b.is_empty()).collect()
    } else {
        Vec::new()
    };
    Ok((tubes, hidden, tube_file.frame_size))
}

/// What the engine needs of a source: its file, working size, duration (at least to its
/// last box), frame rate and corrected wall-clock start.
fn source_input(
    case: &EnteredCase,
    record: &SourceRecord,
    path: std::path::PathBuf,
    frame_size: (u32, u32),
    tubes: &[TubeInput],
) -> SourceInput {
    let last_box_ms = tubes
        .iter()
        .filter_map(|t| t.boxes.last().map(|b| b.0))
        .max()
        .unwrap_or(0);
    let timing = case.timing(record);
    SourceInput {
        source_id: record.source_id.clone(),
        path,
        stream_index: Some(record.meta.stream_index),
        frame_size,
        duration_ms: record
            .meta
            .duration_ms
            .map(|d| d as i64)
            .unwrap_or(0)
            .max(last_box_ms + 1),
        fps: record
            .meta
            .fps
            .filter(|f| *f > 0.0 && *f <= 240.0)
            .unwrap_or(25.0),
        start: timing.start_fixed(record.meta.start_time.map(|s| s.at)),
        time_zone: timing.zone(),
    }
}

/// A source moment on its corrected wall clock, RFC 3339 in the place's zone.
fn wall_of(source: &SourceInput, media_ms: i64) -> Option<String> {
    let t = source.start? + chrono::Duration::milliseconds(media_ms);
    Some(match source.time_zone {
        Some(z) => t.with_timezone(&z).to_rfc3339(),
        None => t.to_rfc3339(),
    })
}

/// The synopsis crate is given the path each source is decoded from (`/proc/self/fd/N`,
/// [`vigie_evidence::VerifiedSource::decode_path`]) and names sources by it in its index
/// entries (written to the index and the WebVTT track, which are handed over) and in its
/// errors: name them by their registered path instead.
fn registered_names(
    opened: &[vigie_evidence::VerifiedSource],
    syn: Result<vigie_synopsis::Synopsis, vigie_synopsis::SynopsisError>,
) -> Result<vigie_synopsis::Synopsis, vigie_synopsis::SynopsisError> {
    let name = |path: &mut PathBuf| {
        if let Some(o) = opened.iter().find(|o| o.decode_path() == *path) {
            path.clone_from(&o.record().path);
        }
    };
    match syn {
        Ok(mut syn) => {
            for e in &mut syn.entries {
                name(&mut e.source_path);
            }
            Ok(syn)
        }
        Err(vigie_synopsis::SynopsisError::NoBackground(mut path)) => {
            name(&mut path);
            Err(vigie_synopsis::SynopsisError::NoBackground(path))
        }
        Err(e) => Err(e),
    }
}

/// The objects of each source shown in a synopsis, from its entries.
fn tracks_per_source(entries: &[IndexEntry]) -> HashMap<String, Vec<u64>> {
    let mut out: HashMap<String, Vec<u64>> = HashMap::new();
    for e in entries {
        let list = out.entry(e.source_id.clone()).or_default();
        if !list.contains(&e.track_id) {
            list.push(e.track_id);
        }
    }
    out
}

/// Build a synopsis of a source's tracks (all, or those matching the filters). Records
/// the combination (`synopsis_built`) and one disclosure naming all three files. In a
/// filtered synopsis the source's other objects are never visible: cleared from the
/// cut-outs and filled opaque in the backgrounds where they stood still.
pub fn synopsis_with(
    case: &EnteredCase,
    req: &SynopsisRequest,
    opts: &SynopsisOptions,
) -> Result<SynopsisOutcome, AppError> {
    let query = req.filters.as_ref().map(parse_filters).transpose()?;
    let cfg = config(req.length_s, req.max_collisions, req.keep_order, opts)?;
    let (video, index_out, vtt_out) = outputs(case, &req.output)?;
    let record = case.find_source(&req.source)?;
    let index = case.index()?;
    let tracks = match &query {
        Some(q) => {
            let result = index.search(q)?;
            if result.truncated {
                return Err(AppError::BadInput(format!(
                    "more than {MAX_LIMIT} tracks match; narrow the filters (e.g. --from/--to) \
                     and make several synopses"
                )));
            }
            result
                .hits
                .into_iter()
                .map(|h| h.track)
                .filter(|t| t.source_id == record.source_id)
                .collect::<Vec<_>>()
        }
        None => index.tracks_of_source(&record.source_id)?,
    };
    if tracks.is_empty() {
        return Err(AppError::BadInput(format!(
            "no track of source {} matches (see `vigie search`; run `vigie analyze` on it first \
             if it was never analysed)",
            record.source_id
        )));
    }
    // What the filters left out must never be visible (every tube of the source not
    // selected; none without filters).
    let (tubes, hidden, frame_size) = tubes_of(case, &record, &tracks, query.is_some())?;
    // Opened once: the synopsis is cut from the inode that was hashed.
    let opened = case.open_source(&record)?;
    let source = source_input(case, &record, opened.decode_path(), frame_size, &tubes);
    case.layout().ensure_derived()?;
    let filters = query.as_ref().map(|q| json!(q.to_args()));
    let syn = registered_names(
        std::slice::from_ref(&opened),
        vigie_synopsis::run_with(
            &source,
            &tubes,
            &hidden,
            &cfg,
            &video.path,
            &case.layout().synopsis_work(),
        ),
    )?;
    unchanged_or_discard(case, std::slice::from_ref(&opened), &video.path)?;
    let figures = syn.figures;
    let mut tracks_shown: Vec<u64> = syn.entries.iter().map(|e| e.track_id).collect();
    tracks_shown.dedup();
    let timing = case.timing(&record);
    let used = SourceUse {
        source_id: record.source_id.clone(),
        source_path: record.path.clone(),
        source_sha256: record.sha256.clone(),
        camera: timing.camera.clone(),
        from_ms: 0,
        to_ms: source.duration_ms,
        from_wall: wall_of(&source, 0),
        to_wall: wall_of(&source, source.duration_ms),
        correction: timing.correction.clone(),
        timeline_start_ms: 0,
        tracks: tracks_shown.clone(),
    };
    let index_doc = json!({
        "vigie_version": env!("CARGO_PKG_VERSION"),
        "case": case.case_id(),
        "source_id": record.source_id,
        "source_path": record.path,
        "source_sha256": record.sha256,
        "camera": Value::Null,
        "time_range": Value::Null,
        "sources": [used],
        "left_out": [],
        "synopsis": video.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "frame_size": [source.frame_size.0, source.frame_size.1],
        "fps": source.fps,
        "filters": filters,
        "figures": figures,
        "tubes": syn.entries,
    });
    let doc = serde_json::to_vec_pretty(&index_doc).expect("the synopsis index serialises");
    write_new(&index_out.path, &doc)?;
    write_new(
        &vtt_out.path,
        vigie_synopsis::webvtt(&syn.entries).as_bytes(),
    )?;
    let figures_json = serde_json::to_value(&figures).unwrap_or(Value::Null);
    case.record(&Event::SynopsisBuilt {
        source_id: record.source_id.clone(),
        sha256: record.sha256.clone(),
        filters: filters.clone(),
        figures: figures_json,
        tracks: tracks_shown.clone(),
    })?;
    let files = case.record_export(
        ExportKind::Synopsis,
        Some(&record),
        json!({
            "filters": filters,
            "length_s": req.length_s,
            "max_collisions": req.max_collisions,
            "keep_order": req.keep_order,
            "max_length_s": opts.max_length_s,
            "max_objects": opts.max_objects,
            "min_segment_s": opts.min_segment_s,
            "still_show_min_s": opts.still_show_min_s,
            "together_s": opts.together_s,
            "object_speed": opts.object_speed.unwrap_or(1),
            "tracks": tracks_shown,
            "vigie_version": env!("CARGO_PKG_VERSION"),
        }),
        &[&video, &index_out, &vtt_out],
    )?;
    Ok(SynopsisOutcome {
        record,
        video,
        index: index_out,
        webvtt: vtt_out,
        files,
        figures,
        entries: syn.entries,
    })
}

/// Build one synopsis of every file of a camera (or of a time range across them): the
/// files with a wall-clock start, ordered by it (after clock correction), each cut to the
/// range, laid one after the other. Records one `synopsis_built` per source used and one
/// disclosure listing every source with its hash and the stretch shown. Files without a
/// wall clock are left out and named in the outcome, the index and the disclosure.
pub fn camera_synopsis_with(
    case: &EnteredCase,
    req: &CameraSynopsisRequest,
    opts: &SynopsisOptions,
) -> Result<CameraSynopsisOutcome, AppError> {
    let Some(camera) = req.filters.camera.clone().filter(|c| !c.trim().is_empty()) else {
        return Err(AppError::BadInput(
            "a camera synopsis needs --camera NAME (see `vigie camera list`)".into(),
        ));
    };
    let query = parse_filters(&req.filters)?;
    if let (Some(a), Some(b)) = (query.from_wall_ms, query.to_wall_ms) {
        if b <= a {
            return Err(AppError::BadInput(
                "--to must be after --from (the synopsis covers --from..--to)".into(),
            ));
        }
    }
    let cfg = config(req.length_s, req.max_collisions, req.keep_order, opts)?;
    let (video, index_out, vtt_out) = outputs(case, &req.output)?;
    let all = case.sources()?;
    let mut of_camera: Vec<(SourceRecord, crate::timing::SourceTiming)> = all
        .iter()
        .map(|r| (r.clone(), case.timing(r)))
        .filter(|(_, t)| t.camera == camera)
        .collect();
    if of_camera.is_empty() {
        let mut known: Vec<String> = all.iter().map(|r| case.timing(r).camera).collect();
        known.sort();
        known.dedup();
        return Err(AppError::BadInput(format!(
            "no source belongs to camera {camera:?} (cameras of this case: {}; see `vigie \
             camera list`)",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    // Timeline order: the corrected wall clock, never the file name.
    of_camera.sort_by(|a, b| {
        (a.1.start_wall_ms, &a.0.source_id).cmp(&(b.1.start_wall_ms, &b.0.source_id))
    });
    let left_out: Vec<LeftOut> = of_camera
        .iter()
        .filter(|(_, t)| t.start_wall_ms.is_none())
        .map(|(r, _)| LeftOut {
            source_id: r.source_id.clone(),
            source_path: r.path.clone(),
            why: format!(
                "no wall-clock start: not on the camera's timeline; set its clock with `vigie \
                 clock set {} --at T --true TIME` (or --offset), or make its own synopsis with \
                 `vigie synopsis --source {}` (labelled with media time)",
                r.source_id, r.source_id
            ),
        })
        .collect();
    let dated: Vec<&(SourceRecord, crate::timing::SourceTiming)> = of_camera
        .iter()
        .filter(|(_, t)| t.start_wall_ms.is_some())
        .collect();
    if dated.is_empty() {
        let ids: Vec<&str> = left_out.iter().map(|l| l.source_id.as_str()).collect();
        return Err(AppError::BadInput(format!(
            "no source of camera {camera:?} has a wall-clock start ({}), so none can be placed \
             on its timeline; set their clocks with `vigie clock set SOURCE --at T --true \
             TIME` (or --offset), or make a synopsis of each with `vigie synopsis --source \
             SOURCE` (labelled with media time)",
            ids.join(", ")
        )));
    }
    let index = case.index()?;
    let result = index.search(&query)?;
    if result.truncated {
        return Err(AppError::BadInput(format!(
            "more than {MAX_LIMIT} tracks match; narrow the range (--from/--to) or the filters \
             and make several synopses"
        )));
    }
    let mut selected: HashMap<String, Vec<TrackSummary>> = HashMap::new();
    for h in result.hits {
        selected
            .entry(h.track.source_id.clone())
            .or_default()
            .push(h.track);
    }
    // Only camera and time range given: every object of the range is selected, nothing
    // is hidden; any other filter hides the rest of each file.
    let only_scope = QueryArgs {
        camera: None,
        from: None,
        to: None,
        limit: None,
        ..req.filters.clone()
    } == QueryArgs::default();
    let mut parts: Vec<PartInput> = Vec::new();
    let mut records: Vec<&SourceRecord> = Vec::new();
    let mut opened: Vec<vigie_evidence::VerifiedSource> = Vec::new();
    for (record, timing) in dated {
        let start = timing.start_wall_ms.expect("dated");
        let tracks = selected.remove(&record.source_id).unwrap_or_default();
        let (tubes, hidden, frame_size) = match tubes_of(case, record, &tracks, !only_scope) {
            Ok(t) => t,
            Err(AppError::NoTubes { .. }) => {
                return Err(AppError::BadInput(format!(
                    "source {} of camera {camera:?} was never analysed, so its objects can be \
                     neither shown nor hidden; run `vigie analyze {}` first (or narrow \
                     --from/--to to leave it out)",
                    record.source_id, record.source_id
                )))
            }
            Err(e) => return Err(e),
        };
        // Opened once, like a single source; each file of the range holds a handle until
        // the synopsis is made.
        let opened_part = case.open_source(record)?;
        let source = source_input(case, record, opened_part.decode_path(), frame_size, &tubes);
        opened.push(opened_part);
        let from_ms = query.from_wall_ms.map_or(0, |f| (f - start).max(0));
        let to_ms = query
            .to_wall_ms
            .map_or(source.duration_ms, |t| (t - start).min(source.duration_ms));
        if to_ms <= from_ms {
            continue;
        }
        parts.push(PartInput {
            source,
            from_ms,
            to_ms,
            tubes,
            hidden,
        });
        records.push(record);
    }
    if parts.is_empty() {
        return Err(AppError::BadInput(format!(
            "no recording of camera {camera:?} covers --from..--to (see `vigie coverage`)"
        )));
    }
    if parts.iter().all(|p| p.tubes.is_empty()) {
        return Err(AppError::BadInput(format!(
            "no track of camera {camera:?} matches in that range (see `vigie search --camera \
             {camera}`)"
        )));
    }
    let size = parts[0].source.frame_size;
    if parts.iter().any(|p| p.source.frame_size != size) {
        let sizes: Vec<String> = parts
            .iter()
            .map(|p| {
                format!(
                    "{} {}x{}",
                    p.source.source_id, p.source.frame_size.0, p.source.frame_size.1
                )
            })
            .collect();
        return Err(AppError::BadInput(format!(
            "the files of camera {camera:?} were analysed at different working sizes ({}); a \
             synopsis draws them on one picture: make one synopsis per size with --from/--to \
             or --source, or re-analyse them at one --width",
            sizes.join(", ")
        )));
    }
    case.layout().ensure_derived()?;
    let filters = json!(query.to_args());
    let syn = registered_names(
        &opened,
        vigie_synopsis::run_parts(&parts, &cfg, &video.path, &case.layout().synopsis_work()),
    )?;
    unchanged_or_discard(case, &opened, &video.path)?;
    let figures = syn.figures;
    let shown = tracks_per_source(&syn.entries);
    let mut timeline = 0i64;
    let sources: Vec<SourceUse> = parts
        .iter()
        .zip(&records)
        .map(|(p, r)| {
            let timing = case.timing(r);
            let u = SourceUse {
                source_id: r.source_id.clone(),
                source_path: r.path.clone(),
                source_sha256: r.sha256.clone(),
                camera: camera.clone(),
                from_ms: p.from_ms,
                to_ms: p.to_ms,
                from_wall: wall_of(&p.source, p.from_ms),
                to_wall: wall_of(&p.source, p.to_ms),
                correction: timing.correction.clone(),
                timeline_start_ms: timeline,
                tracks: shown.get(&r.source_id).cloned().unwrap_or_default(),
            };
            timeline += p.to_ms - p.from_ms;
            u
        })
        .collect();
    let time_range = json!({ "from": req.filters.from, "to": req.filters.to });
    let index_doc = json!({
        "vigie_version": env!("CARGO_PKG_VERSION"),
        "case": case.case_id(),
        "source_id": Value::Null,
        "source_path": Value::Null,
        "source_sha256": Value::Null,
        "camera": camera,
        "time_range": time_range,
        "sources": sources,
        "left_out": left_out,
        "synopsis": video.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "frame_size": [size.0, size.1],
        "fps": figures.fps,
        "filters": filters,
        "figures": figures,
        "tubes": syn.entries,
    });
    let doc = serde_json::to_vec_pretty(&index_doc).expect("the synopsis index serialises");
    write_new(&index_out.path, &doc)?;
    write_new(
        &vtt_out.path,
        vigie_synopsis::webvtt(&syn.entries).as_bytes(),
    )?;
    let figures_json = serde_json::to_value(&figures).unwrap_or(Value::Null);
    for u in &sources {
        case.record(&Event::SynopsisBuilt {
            source_id: u.source_id.clone(),
            sha256: u.source_sha256.clone(),
            filters: Some(filters.clone()),
            figures: figures_json.clone(),
            tracks: u.tracks.clone(),
        })?;
    }
    let files = case.record_export(
        ExportKind::Synopsis,
        None,
        json!({
            "camera": camera,
            "time_range": time_range,
            "sources": sources,
            "left_out": left_out,
            "filters": filters,
            "length_s": req.length_s,
            "max_collisions": req.max_collisions,
            "keep_order": req.keep_order,
            "max_length_s": opts.max_length_s,
            "max_objects": opts.max_objects,
            "min_segment_s": opts.min_segment_s,
            "still_show_min_s": opts.still_show_min_s,
            "together_s": opts.together_s,
            "object_speed": opts.object_speed.unwrap_or(1),
            "vigie_version": env!("CARGO_PKG_VERSION"),
        }),
        &[&video, &index_out, &vtt_out],
    )?;
    Ok(CameraSynopsisOutcome {
        camera,
        sources,
        left_out,
        video,
        index: index_out,
        webvtt: vtt_out,
        files,
        figures,
        entries: syn.entries,
    })
}

/// A synopsis made from `opened` is kept only if no file changed while it was read;
/// otherwise the video is removed (it would show footage other than the hashed evidence)
/// and the refusal stands (evidence-changed alert).
fn unchanged_or_discard(
    case: &EnteredCase,
    opened: &[vigie_evidence::VerifiedSource],
    video: &std::path::Path,
) -> Result<(), AppError> {
    for o in opened {
        case.source_unchanged(o).inspect_err(|_| {
            let _ = std::fs::remove_file(video);
        })?;
    }
    Ok(())
}
