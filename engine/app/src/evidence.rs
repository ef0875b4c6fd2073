//! Evidence: ingest footage into a case, list and re-verify its sources, and decode one
//! for its damage report.
//!
//! Why here: each of these reads or registers footage, so each needs an entered case and
//! leaves one typed entry in its log (collection or consultation) *before* the front end
//! reports anything. Ingest is a batch: a path that cannot be read (missing, a broken or
//! looping link, no permission), a file that is not video or whose name the registry
//! cannot hold is reported with why, and the batch goes on with the next file.
//!
//! Evidence is opened once ([`vigie_evidence::OpenedEvidence`]): the hash, the probe and
//! the decoding all read the same inode, so a file renamed over the evidence in between is
//! not what gets processed, and a change written into it during the work is refused.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, Utc};
use rayon::prelude::*;
use vigie_audit::event::{Event, IngestedSource};
use vigie_core::{Alert, AlertKind, AlertSink, SamplingMode};
use vigie_decode::{DecodeConfig, DecodeReport, Decoder, OutputSize};
use vigie_evidence::{AddOutcome, RegistryError, SourceRecord};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::progress::Progress;

/// An error and every cause under it, on one line (`a: b: c`).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// What to ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestRequest {
    /// Files or directories (walked recursively; inside directories only video
    /// extensions are taken).
    pub paths: Vec<PathBuf>,
    /// Wall-clock time of the first frame, for files whose container has none.
    pub start: Option<DateTime<FixedOffset>>,
    /// Hashing threads (`None`: one per core).
    pub jobs: Option<usize>,
    /// Frame rate of raw elementary streams (which carry no timestamps): recorded in the
    /// registry and used to time their frames. Refused for files with timestamps.
    pub fps: Option<f64>,
    /// A healthy export of the same recorder, whose parameter sets let an export cut
    /// before its index be salvaged when its stream does not repeat them.
    pub reference: Option<PathBuf>,
    /// The camera every file belongs to. `None`: one is proposed per file from its
    /// channel and folder name ([`propose_camera`]), recorded as proposed until an
    /// operator confirms it (`vigie camera set`).
    pub camera: Option<String>,
    /// When not empty, only files whose real path (links resolved) lies inside one of
    /// these folders are taken; any other is a failure of its own. The web sets its
    /// ingest roots: a link under a root (on seized media, in a shared upload folder)
    /// must not pull in a file from elsewhere, such as another case's evidence.
    pub confine_to: Vec<PathBuf>,
}

/// The files whose real path (links resolved) lies inside one of `roots`, as real paths:
/// each is then read through that path, not through the link that was checked (a link
/// re-pointed in between cannot bring in another file). The others are failures.
fn confine(
    files: Vec<PathBuf>,
    roots: &[PathBuf],
    failed: &mut Vec<IngestFailure>,
) -> Vec<PathBuf> {
    let mut inside = Vec::with_capacity(files.len());
    for f in files {
        match f.canonicalize() {
            Ok(real) if roots.iter().any(|root| real.starts_with(root)) => inside.push(real),
            Ok(_) => failed.push(IngestFailure {
                path: f.clone(),
                error: AppError::BadInput(format!(
                    "refused: {} leads outside the ingest roots (a link); only files inside \
                     them are taken: copy the file into a root, or ask the administrator to \
                     add its folder as a root",
                    f.display()
                )),
            }),
            Err(e) => failed.push(IngestFailure {
                path: f.clone(),
                error: AppError::BadInput(format!("cannot resolve {}: {e}", f.display())),
            }),
        }
    }
    inside
}

/// Check a camera name: what an operator types and later searches with.
pub fn check_camera_name(name: &str) -> Result<String, AppError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(AppError::BadInput(format!(
            "invalid camera name {name:?}: give 1 to 64 printable characters (e.g. \"entrance-2\")"
        )));
    }
    Ok(n.to_owned())
}

/// The camera proposed for a file: its export folder's name, with the recorder channel
/// when the file name carries one (`ch02`, `channel2`, `cam2`, `camera02`, Hikvision
/// `D02`): `store-A/ch02`. DVR exports put one folder per recorder and name files by
/// channel, so this is right more often than the file name, and it is only a proposal.
pub fn propose_camera(path: &Path) -> String {
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|f| !f.is_empty());
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let channel = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|tok| {
            let lower = tok.to_ascii_lowercase();
            ["channel", "camera", "cam", "ch", "d"]
                .iter()
                .find_map(|p| {
                    let digits = lower.strip_prefix(p)?;
                    (!digits.is_empty()
                        && digits.len() <= 3
                        && digits.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| format!("ch{:02}", digits.parse::<u32>().unwrap_or(0)))
                })
        });
    match (folder, channel) {
        (Some(f), Some(c)) => format!("{f}/{c}"),
        (Some(f), None) => f,
        (None, Some(c)) => c,
        (None, None) => stem,
    }
}

/// One file that could not be ingested.
#[derive(Debug)]
pub struct IngestFailure {
    pub path: PathBuf,
    pub error: AppError,
}

/// One source registered (or found already registered).
#[derive(Debug, Clone)]
pub struct Ingested {
    pub record: SourceRecord,
    /// The same bytes were already registered.
    pub already_present: bool,
    /// When they were, the path they were first registered from, if not this one: the
    /// case's source is that file, and this one is only a copy of it (the audit entry
    /// records both).
    pub registered_path: Option<PathBuf>,
    /// The camera it belongs to, and whether an operator gave it (else proposed).
    pub camera: String,
    pub camera_confirmed: bool,
}

/// What an ingest did: sources registered and files that failed, sorted by path.
#[derive(Debug)]
pub struct IngestOutcome {
    pub ingested: Vec<Ingested>,
    pub failed: Vec<IngestFailure>,
    /// Files found in directories that are not recordings, with why they were skipped.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Hash, probe and register footage as evidence of the case; one `evidence_ingested`
/// entry lists every source added (with hashes) and every failure. Fails only when
/// nothing could be collected at all (no video file in the paths) or the log cannot be
/// written; individual bad files are in [`IngestOutcome::failed`].
pub fn ingest(
    case: &EnteredCase,
    req: &IngestRequest,
    progress: &dyn Progress,
) -> Result<IngestOutcome, AppError> {
    let camera = req.camera.as_deref().map(check_camera_name).transpose()?;
    // A usage error, said once before any file is hashed (it is checked again per file,
    // where it meets the file's own timestamps).
    if let Some(fps) = req
        .fps
        .filter(|f| !(f.is_finite() && (0.5..=480.0).contains(f)))
    {
        return Err(AppError::BadInput(format!(
            "invalid --fps {fps} (expected 0.5 to 480 frames per second)"
        )));
    }
    // A path that cannot be read (missing, a broken or looping link, no permission) is a
    // failure of its own: the batch goes on with the others.
    let walked = vigie_evidence::walk_sources(&req.paths);
    let mut walk_failed: Vec<IngestFailure> = walked
        .failed
        .into_iter()
        .map(|e| IngestFailure {
            path: e.path().to_path_buf(),
            error: e.into(),
        })
        .collect();
    // Confined to the roots (the web): checked before anything is read, files found by
    // content included.
    let (found, other) = if req.confine_to.is_empty() {
        (walked.files, walked.other)
    } else {
        let roots: Vec<PathBuf> = req
            .confine_to
            .iter()
            .filter_map(|r| r.canonicalize().ok())
            .collect();
        (
            confine(walked.files, &roots, &mut walk_failed),
            confine(walked.other, &roots, &mut walk_failed),
        )
    };
    let (identified, skipped) = identify_by_content(&other);
    let mut files = found;
    files.extend(identified);
    if files.is_empty() && walk_failed.is_empty() {
        return Err(AppError::BadInput(
            "no video files found in the given paths (inside directories, only files with a \
             video extension are taken; name files explicitly to take others)"
                .into(),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.jobs.unwrap_or(0))
        .build()
        .map_err(|e| AppError::BadInput(format!("cannot start hashing threads ({e})")))?;
    let failures = Mutex::new(Vec::<IngestFailure>::new());
    let salvage_dir = case.layout().derived().join("salvaged");
    let records: Vec<SourceRecord> = pool.install(|| {
        files
            .par_iter()
            .filter_map(|path| {
                let unit = path.display().to_string();
                progress.begin(&unit, None);
                let res = read_one(path, req, &salvage_dir);
                progress.end(&unit, res.is_ok());
                match res {
                    Ok(r) => Some(r),
                    Err(error) => {
                        failures
                            .lock()
                            .expect("no panics while locked")
                            .push(IngestFailure {
                                path: path.clone(),
                                error,
                            });
                        None
                    }
                }
            })
            .collect()
    });
    let mut failed = failures.into_inner().expect("no panics while locked");
    failed.extend(walk_failed);
    let mut ingested = Vec::new();
    let book = case.time_book();
    for rec in records {
        match case.registry().add(rec.clone()) {
            Ok(o) => {
                let registered_path = (o == AddOutcome::AlreadyPresent)
                    .then(|| case.registry().find(&rec.source_id).ok())
                    .flatten()
                    .map(|known| known.path)
                    .filter(|known| *known != rec.path);
                // A source keeps the camera of its first collection (a re-ingest of the
                // same bytes does not move it).
                let known = book.camera_of(&rec.source_id);
                let (cam, confirmed) = match (known, &camera) {
                    (Some((c, origin)), _) => (
                        c.to_owned(),
                        origin == vigie_case::timebook::CameraOrigin::Operator,
                    ),
                    (None, Some(c)) => (c.clone(), true),
                    (None, None) => (propose_camera(&rec.path), false),
                };
                ingested.push(Ingested {
                    record: rec,
                    already_present: o == AddOutcome::AlreadyPresent,
                    registered_path,
                    camera: cam,
                    camera_confirmed: confirmed,
                })
            }
            Err(e) => failed.push(IngestFailure {
                path: rec.path.clone(),
                error: e.into(),
            }),
        }
    }
    failed.sort_by(|a, b| a.path.cmp(&b.path));
    // Collection: what entered the case, with hashes; written (and synced) before the
    // front end reports anything as ingested.
    case.record(&Event::EvidenceIngested {
        sources: ingested
            .iter()
            .map(|i| {
                let r = &i.record;
                IngestedSource {
                    source_id: r.source_id.clone(),
                    sha256: r.sha256.clone(),
                    size_bytes: r.size_bytes,
                    path: r.path.display().to_string(),
                    added: !i.already_present,
                    start_time: r.meta.start_time.map(|s| s.at.to_rfc3339()),
                    start_time_origin: r.meta.start_time.and_then(|s| {
                        serde_json::to_value(s.origin)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                    }),
                    salvaged: r.salvage.as_ref().map(|s| {
                        serde_json::json!({
                            "stream_sha256": s.stream_sha256,
                            "codec": s.codec,
                            "parameter_sets": s.parameter_sets,
                            "reference_sha256": s.reference_sha256,
                            "nal_units": s.nal_units,
                            "bytes_skipped": s.bytes_skipped,
                            "frames_duration_ms": r.meta.duration_ms,
                        })
                    }),
                    camera: Some(i.camera.clone()),
                    camera_origin: Some(
                        if i.camera_confirmed {
                            "operator"
                        } else {
                            "proposed"
                        }
                        .to_owned(),
                    ),
                }
            })
            .collect(),
        failed: failed
            .iter()
            .map(|f| (f.path.display().to_string(), error_chain(&f.error)))
            .collect(),
        skipped: skipped
            .iter()
            .map(|(p, why)| (p.display().to_string(), why.clone()))
            .collect(),
    })?;
    Ok(IngestOutcome {
        ingested,
        failed,
        skipped,
    })
}

/// Files found in directories without a video extension, identified by what they hold: a
/// recording (whatever its name: DVR exports use `.dat`, `.bin`, `.vdo`...) is taken; a
/// still image, or anything FFmpeg cannot read as video, is skipped with the reason.
fn identify_by_content(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut taken = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        match vigie_decode::probe(p, None, None) {
            Ok(meta) if is_still_image(&meta.container) => skipped.push((
                p.clone(),
                format!("a still image ({}), not a recording", meta.container),
            )),
            Ok(_) => taken.push(p.clone()),
            Err(e) => skipped.push((p.clone(), format!("not video: {e}"))),
        }
    }
    (taken, skipped)
}

fn is_still_image(demuxer: &str) -> bool {
    demuxer
        .split(',')
        .any(|d| d == "image2" || d.ends_with("_pipe") || d == "gif" || d == "webp")
}

fn read_one(
    path: &Path,
    req: &IngestRequest,
    salvage_dir: &Path,
) -> Result<SourceRecord, AppError> {
    let (start, fps) = (req.start, req.fps);
    // The real name first (what the registry records; links resolved), then opened once:
    // what is probed and salvaged is the inode that was hashed.
    let path = std::fs::canonicalize(path).map_err(AppError::io(path))?;
    vigie_evidence::check_utf8_path(&path)?;
    let opened = vigie_evidence::OpenedEvidence::open(&path, |_| {})?;
    let sha256 = opened.sha256().to_owned();
    let size_bytes = opened.size_bytes();
    let media = opened.decode_path();
    let (mut meta, salvage) = match vigie_decode::probe(&media, None, start) {
        Ok(m) => (m, None),
        Err(vigie_decode::DecodeError::NeedsSalvage { .. }) => {
            salvage_one(&opened, req.reference.as_deref(), start, salvage_dir)?
        }
        Err(e) => return Err(e.naming_for(&media, &path).into()),
    };
    // Written to while it was read: neither its hash nor its metadata can be trusted.
    opened
        .check_unchanged()
        .map_err(vigie_evidence::RegistryError::from)?;
    if let Some(fps) = fps {
        if !(fps.is_finite() && (0.5..=480.0).contains(&fps)) {
            return Err(AppError::BadInput(format!(
                "invalid --fps {fps} (expected 0.5 to 480 frames per second)"
            )));
        }
        if meta.timestamps != vigie_core::TimestampSource::FrameRate {
            return Err(AppError::BadInput(format!(
                "--fps applies to raw elementary streams, which carry no timestamps; this {} file has its own: ingest it without --fps",
                meta.container
            )));
        }
        meta.fps = Some(fps);
    }
    Ok(SourceRecord {
        source_id: SourceRecord::id_for_hash(&sha256),
        path,
        sha256,
        size_bytes,
        meta,
        ingested_at: Utc::now(),
        salvage,
    })
}

/// Salvage the video of an export cut before its index into `<case>/derived/salvaged/`
/// (the original is only read); its metadata are the salvaged stream's.
fn salvage_one(
    opened: &vigie_evidence::OpenedEvidence,
    reference: Option<&Path>,
    start: Option<DateTime<FixedOffset>>,
    dir: &Path,
) -> Result<(vigie_core::SourceMeta, Option<vigie_evidence::Salvage>), AppError> {
    use vigie_decode::salvage::{salvage, stream_file_name, ParameterSets, SalvageCodec};
    let sha256 = opened.sha256();
    let media = opened.decode_path();
    let s = salvage(&media, reference).map_err(|e| e.naming_for(&media, opened.path()))?;
    vigie_audit::create_private_dir_all(dir).map_err(AppError::io(dir))?;
    let stream = dir.join(stream_file_name(
        &SourceRecord::id_for_hash(sha256),
        s.codec,
    ));
    vigie_audit::write_atomic(&stream, &s.annex_b).map_err(AppError::io(&stream))?;
    let (stream_sha256, _) = vigie_evidence::hash_file(&stream, |_| {})?;
    let meta = vigie_decode::probe(&stream, None, start)?;
    let reference_sha256 = match (&s.parameter_sets, reference) {
        (ParameterSets::Reference { .. }, Some(r)) => Some(vigie_evidence::hash_file(r, |_| {})?.0),
        _ => None,
    };
    Ok((
        meta,
        Some(vigie_evidence::Salvage {
            stream,
            stream_sha256,
            codec: match s.codec {
                SalvageCodec::H264 => "h264",
                SalvageCodec::Hevc => "hevc",
            }
            .into(),
            parameter_sets: match s.parameter_sets {
                ParameterSets::Stream => "stream",
                ParameterSets::Reference { .. } => "reference",
            }
            .into(),
            reference_sha256,
            nal_units: s.nal_units,
            bytes_skipped: s.bytes_skipped,
        }),
    ))
}

/// The sources registered in the case (a consultation, logged with their count).
pub fn list_sources(case: &EnteredCase) -> Result<Vec<SourceRecord>, AppError> {
    let sources = case.sources()?;
    case.record(&Event::SourcesListed {
        count: sources.len() as u64,
    })?;
    Ok(sources)
}

/// The re-hash of one source.
#[derive(Debug)]
pub struct SourceCheck {
    pub record: SourceRecord,
    /// `Ok` when the file still has its ingest hash.
    pub result: Result<(), RegistryError>,
}

impl SourceCheck {
    /// `ok`, or why not.
    pub fn status(&self) -> String {
        match &self.result {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }
}

/// Re-hash every source (or those named by id or path) against its ingest hash. Changed
/// or missing evidence is reported in the result and to the data controller (an
/// `evidence_changed` alert); the caller decides how to fail.
pub fn verify_sources(case: &EnteredCase, keys: &[String]) -> Result<Vec<SourceCheck>, AppError> {
    let records = if keys.is_empty() {
        case.sources()?
    } else {
        keys.iter()
            .map(|k| case.find_source(k))
            .collect::<Result<Vec<_>, _>>()?
    };
    let checks: Vec<SourceCheck> = records
        .into_iter()
        .map(|record| SourceCheck {
            result: case.registry().verify(&record),
            record,
        })
        .collect();
    let (mut changed, mut missing) = (Vec::new(), Vec::new());
    for c in &checks {
        match &c.result {
            Ok(()) => {}
            Err(e) if e.is_evidence_changed() => changed.push(c.record.source_id.clone()),
            Err(_) => missing.push(c.record.source_id.clone()),
        }
    }
    case.record(&Event::SourcesVerified {
        checked: checks.len() as u64,
        changed: changed.clone(),
        missing: missing.clone(),
    })?;
    if !changed.is_empty() || !missing.is_empty() {
        // The result stands even if the alert cannot be written.
        let _ = case.alert_sink().raise(&Alert {
            kind: AlertKind::EvidenceChanged,
            message: "evidence changed since ingest (found by `vigie verify`)".into(),
            details: checks
                .iter()
                .filter(|c| c.result.is_err())
                .map(|c| (c.record.source_id.clone(), c.status()))
                .collect(),
        });
    }
    Ok(checks)
}

/// How to decode a source.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeRequest {
    /// Source id or registered path.
    pub source: String,
    pub sampling: SamplingMode,
    pub width: OutputSize,
    /// Decoder threads (0: one per core).
    pub threads: usize,
    /// Video stream index (`None`: the best video stream).
    pub stream: Option<usize>,
}

/// The damage report of one decoded source.
#[derive(Debug)]
pub struct DecodeOutcome {
    pub record: SourceRecord,
    pub sampling: SamplingMode,
    /// Working size of the last frame (width, height), pixels.
    pub working_size_px: (u32, u32),
    pub report: DecodeReport,
    pub elapsed_s: f64,
    pub decoded_fps: f64,
    /// Time of the first and last kept frames: wall clock (ms since the epoch) when the
    /// start is known, else ms from the start.
    pub first_frame_ms: Option<i64>,
    pub last_frame_ms: Option<i64>,
}

impl DecodeOutcome {
    /// A frame time as shown: RFC 3339 when the source's start is known, else
    /// `N ms from start`.
    pub fn wall(&self, ms: Option<i64>) -> serde_json::Value {
        use serde_json::json;
        match (ms, self.record.meta.start_time) {
            (Some(ms), Some(_)) => DateTime::from_timestamp_millis(ms)
                .map(|t| json!(t.to_rfc3339()))
                .unwrap_or(json!(null)),
            (Some(ms), None) => json!(format!("{} ms from start", ms)),
            _ => json!(null),
        }
    }
}

/// Decode a registered source to the end and report what came out (frames, damage,
/// speed). The source's hash is checked first, through the handle the decoder then reads
/// (changed evidence is refused), and its identity again at the end (a change during the
/// decoding is refused, nothing recorded). Progress gets one `frame` call per kept frame.
pub fn decode_source(
    case: &EnteredCase,
    req: &DecodeRequest,
    progress: &dyn Progress,
) -> Result<DecodeOutcome, AppError> {
    let record = case.find_source(&req.source)?;
    // Opened once: the decoder reads the inode that was hashed, whatever becomes of the
    // name meanwhile, and a change written into it is caught before anything is recorded.
    let opened = case.open_source(&record)?;
    let shown = opened.media().path().to_path_buf();
    let cfg = DecodeConfig {
        stream_index: req.stream,
        sampling: req.sampling,
        output_size: req.width,
        convert_rgb: true,
        threads: req.threads,
        operator_start: record.meta.start_time.map(|s| s.at),
        assumed_fps: (record.meta.timestamps == vigie_core::TimestampSource::FrameRate)
            .then_some(record.meta.fps)
            .flatten(),
    };
    let unit = record.source_id.clone();
    progress.begin(&unit, record.meta.duration_ms);
    let started = Instant::now();
    let mut dec = Decoder::open(&opened.decode_path(), &cfg).map_err(|e| e.naming(&shown))?;
    let (mut first, mut last, mut size) = (None, None, (0, 0));
    let mut n: u64 = 0;
    while let Some(frame) = dec.next_frame().map_err(|e| e.naming(&shown))? {
        progress.frame(&unit, frame.pts_ms);
        first.get_or_insert(frame.wall_ms.unwrap_or(frame.pts_ms));
        last = Some(frame.wall_ms.unwrap_or(frame.pts_ms));
        size = (frame.width, frame.height);
        n += 1;
        if n.is_multiple_of(256) {
            case.checkpoint()?;
        }
    }
    let report = dec.finish();
    case.source_unchanged(&opened)?;
    progress.end(&unit, true);
    let elapsed_s = started.elapsed().as_secs_f64();
    case.record(&Event::SourceDecoded {
        source_id: record.source_id.clone(),
        sha256: record.sha256.clone(),
        sampling: req.sampling.to_string(),
        frames_decoded: report.frames_decoded,
        corrupt_packets: report.corrupt_packets,
        truncated: report.truncated,
    })?;
    Ok(DecodeOutcome {
        decoded_fps: report.frames_decoded as f64 / elapsed_s.max(1e-9),
        record,
        sampling: req.sampling,
        working_size_px: size,
        report,
        elapsed_s,
        first_frame_ms: first,
        last_frame_ms: last,
    })
}
