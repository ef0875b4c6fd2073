//! Redacted exports: clips and frames with every object the query did not select covered
//! (`vigie_redact`), and the explicit, justified way out of it.
//!
//! Why here: redaction is the default of every export that shows footage, so the layer
//! does it for every front end. A redacted clip is a re-encode (the source's own pixels
//! cannot be kept once covered): its disclosure entry records the redacted file's hash,
//! the hash of the source segment it was made from (a stream copy hashed and deleted), the
//! redaction parameters and the figures (objects covered, frames, pixels). An unredacted
//! export needs a justification and is recorded as a disclosure of its own kind
//! (`unredacted_clip`, `unredacted_frame`).
//!
//! Plates: every unselected vehicle that carries one is searched, frame by frame, with the
//! allowlisted plate detector (`clp-det`, through vigie-policy like every model, its load
//! recorded) on a crop of the frame being written, and only the plate located is covered;
//! where none is located, its lower part (`vigie_redact::PlateMasker`, fail-safe). Where
//! the detector is not installed, every vehicle's lower part is covered, as the recorded
//! parameters then say.
//!
//! Only the analysis's tracks (allowlisted object detector, or the model-free motion
//! detector), the plate detector and the motion mask say where objects are: no face
//! detection, ever.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use vigie_core::RgbFrame;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_evidence::{SourceRecord, VerifiedSource};
use vigie_plate::clp::{ClpDetector, ClpDetectorConfig};
use vigie_plate::PlateError;
use vigie_policy::{ids, PolicyError, SessionConfig};
use vigie_redact::Figures;
use vigie_redact::{
    FoundPlate, FramePlan, MotionMasker, PlateLocator, PlateMasker, Rect, RedactError,
    RedactParams, Redactor, Tally, TrackBoxes,
};
/// The plain types of plate redaction that front ends print.
pub use vigie_redact::{PlateFigures, VehicleMask};
use vigie_synopsis::encode::WriterThread;

use crate::entered::EnteredCase;
use crate::error::AppError;

/// Frames decoded before an export starts, to teach the motion mask the background.
pub const MOTION_PREROLL_MS: i64 = 3_000;
/// Frames whose median starts the motion mask's background (see
/// [`MotionMasker::prime`]), spread over at most [`BACKGROUND_SPAN_MS`].
pub const BACKGROUND_FRAMES: usize = 9;
pub const BACKGROUND_SPAN_MS: i64 = 30_000;

/// [`BACKGROUND_FRAMES`] frames spread over `[from_ms, to_ms]` (one decoding pass).
fn background_sample(
    source: &VerifiedSource,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<RgbFrame>, AppError> {
    let to_ms = to_ms.min(from_ms + BACKGROUND_SPAN_MS).max(from_ms);
    let n = BACKGROUND_FRAMES as i64;
    let step = ((to_ms - from_ms) / (n - 1)).max(1);
    let mut dec = Decoder::open(&source.decode_path(), &native_decode(source.record()))?;
    let mut out = Vec::with_capacity(BACKGROUND_FRAMES);
    let mut next_at = from_ms;
    let mut f = dec.frame_at(from_ms)?;
    while let Some(frame) = f.take() {
        if frame.pts_ms > to_ms || out.len() == BACKGROUND_FRAMES {
            break;
        }
        if frame.pts_ms >= next_at {
            next_at = frame.pts_ms + step;
            out.push(frame);
        }
        f = dec.next_frame()?;
    }
    Ok(out)
}

/// The justification of an unredacted export (`--unredacted --justification TEXT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unredacted {
    pub justification: String,
}

impl Unredacted {
    /// From the front end's flags: `--unredacted` needs a non-empty `--justification`,
    /// and a justification without `--unredacted` is a mistake too.
    pub fn from_flags(
        unredacted: bool,
        justification: Option<&str>,
    ) -> Result<Option<Self>, AppError> {
        let text = justification.map(str::trim).filter(|j| !j.is_empty());
        match (unredacted, text) {
            (false, None) if justification.is_none() => Ok(None),
            (false, _) => Err(AppError::BadInput(
                "--justification is only for --unredacted exports (redacted exports need none); \
                 remove it, or add --unredacted"
                    .into(),
            )),
            (true, None) => Err(AppError::BadInput(
                "--unredacted needs --justification TEXT (why this disclosure must show \
                 bystanders and uninvolved plates): it is recorded as an unredacted disclosure; \
                 without --unredacted the export is redacted"
                    .into(),
            )),
            (true, Some(j)) => {
                if j.chars().count() > 2000 {
                    return Err(AppError::BadInput(
                        "--justification is too long (at most 2000 characters)".into(),
                    ));
                }
                Ok(Some(Self {
                    justification: j.to_owned(),
                }))
            }
        }
    }
}

fn redact_error(e: RedactError, case: &EnteredCase, source_id: &str) -> AppError {
    match e {
        RedactError::Unordered { .. } | RedactError::BadFrameSize(..) => AppError::DamagedDerived {
            what: "tube file".into(),
            why: e.to_string(),
            path: case.layout().tube_file(source_id),
        },
        other => AppError::BadInput(other.to_string()),
    }
}

/// The redaction parameters for a source: the defaults, with boxes held for one
/// sampling interval of its analysis (40 ms to 1 s).
pub fn params_for(tracks: &[TrackBoxes]) -> RedactParams {
    let mut p = RedactParams::default();
    if let Some(i) = vigie_redact::sampling_interval_ms(tracks) {
        p.hold_ms = i.clamp(40, 1000);
    }
    p
}

/// The redactor of a source: its tracks (tube file boxes, index labels), `selected` kept
/// clear. A source never analysed cannot be redacted: the error says what to do.
pub fn redactor(
    case: &EnteredCase,
    record: &SourceRecord,
    selected: &[u64],
) -> Result<Redactor, AppError> {
    let tubes = match case.layout().read_tubes(&record.source_id) {
        Ok(t) => t,
        Err(AppError::NoTubes { .. }) | Err(AppError::NoIndex) => {
            return Err(AppError::BadExport(format!(
                "source {source_id} has no per-frame boxes, so the people and vehicles in it \
                 cannot be located to be masked; run `vigie analyze` on it first, or export \
                 it with --unredacted --justification TEXT",
                source_id = record.source_id
            )))
        }
        Err(e) => return Err(e),
    };
    let labels: HashMap<u64, String> = match case.layout().existing_index() {
        Ok(index) => index
            .tracks_of_source(&record.source_id)?
            .into_iter()
            // A ridden bicycle or motorcycle carries its rider (one track, its box over
            // both): covered whole, as a person is, never on its plate part only.
            .map(|t| {
                let label = if t.ridden {
                    "person".to_string()
                } else {
                    t.label
                };
                (t.track_id, label)
            })
            .collect(),
        Err(AppError::NoIndex) => HashMap::new(),
        Err(e) => return Err(e),
    };
    let tracks: Vec<TrackBoxes> = tubes
        .tubes
        .into_iter()
        .map(|t| TrackBoxes {
            // A track without a label in the index is covered whole.
            label: labels
                .get(&t.track_id)
                .cloned()
                .unwrap_or_else(|| "moving_object".into()),
            track_id: t.track_id,
            boxes: t.boxes,
        })
        .collect();
    let params = params_for(&tracks);
    Redactor::new(tubes.frame_size, tracks, selected, params)
        .map_err(|e| redact_error(e, case, &record.source_id))
}

/// The decoder settings of exports: native size, the source's stream and clock.
pub fn native_decode(record: &SourceRecord) -> DecodeConfig {
    DecodeConfig {
        stream_index: Some(record.meta.stream_index),
        output_size: OutputSize::Native,
        ..Default::default()
    }
    .for_source(&record.meta)
}

/// A vehicle's crop is given to the plate detector at its native resolution up to this
/// longer side (scaled down beyond). Measured on real plates the detector misses at the
/// reader's 640 px (`plates-ua-nomeroff`, 1200-1280 px photos: 0 of 4 vehicles at 640,
/// 1 at 960, 2 at 1280), at about 4 times the cost on the largest crops.
pub const PLATE_SEARCH_MAX_SIDE_PX: u32 = 1280;

/// The allowlisted plate detector (`clp-det`) as redaction's plate locator: it runs on
/// the crop of the frame where a vehicle is, at the frame's own resolution.
pub struct ClpLocator {
    det: ClpDetector,
    crop: Vec<u8>,
    /// Time spent in the detector (crop copy included).
    pub elapsed: Duration,
}

impl ClpLocator {
    /// Open the detector (hash-checked by vigie-policy; a refusal raises an alert on
    /// `alerts`), on the CPU with every core.
    pub fn open(alerts: &dyn vigie_core::AlertSink) -> Result<Self, AppError> {
        let cfg = ClpDetectorConfig {
            session: SessionConfig {
                intra_op_threads: crate::plates::cores(),
                ..SessionConfig::default()
            },
            max_side_px: PLATE_SEARCH_MAX_SIDE_PX,
            ..ClpDetectorConfig::default()
        };
        Ok(Self {
            det: ClpDetector::open(cfg, alerts)?,
            crop: Vec::new(),
            elapsed: Duration::ZERO,
        })
    }

    pub fn config(&self) -> &ClpDetectorConfig {
        self.det.config()
    }
}

impl PlateLocator for ClpLocator {
    type Error = AppError;

    fn locate(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        region: Rect,
    ) -> Result<Vec<FoundPlate>, AppError> {
        let started = Instant::now();
        let region = Rect {
            x0: region.x0.min(width),
            y0: region.y0.min(height),
            x1: region.x1.min(width),
            y1: region.y1.min(height),
        };
        let (cw, ch) = (
            region.x1.saturating_sub(region.x0),
            region.y1.saturating_sub(region.y0),
        );
        if cw < 8 || ch < 8 || rgb.len() != width as usize * height as usize * 3 {
            return Ok(Vec::new());
        }
        self.crop.clear();
        for y in region.y0..region.y1 {
            let row = (y as usize * width as usize + region.x0 as usize) * 3;
            self.crop
                .extend_from_slice(&rgb[row..row + cw as usize * 3]);
        }
        let quads = self.det.detect(&self.crop, cw, ch)?;
        let (ox, oy) = (region.x0 as f32, region.y0 as f32);
        let found = quads
            .into_iter()
            .map(|q| FoundPlate {
                corners_px: q.corners_px.map(|(x, y)| (x + ox, y + oy)),
                bbox_px: vigie_core::BBox {
                    x: q.bbox_px.x + ox,
                    y: q.bbox_px.y + oy,
                    ..q.bbox_px
                },
                score: q.score,
            })
            .collect();
        self.elapsed += started.elapsed();
        Ok(found)
    }
}

/// The plate detector that located plates, for the disclosure entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateDetectorUsed {
    pub model_id: String,
    pub sha256: String,
    /// Candidates below this score are not proposed at all.
    pub score_threshold: f32,
    /// A crop's longer side is scaled down to this before detection.
    pub max_side_px: u32,
}

/// How plates were covered in one export (`detail.redaction.plates`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlateRedaction {
    /// `plate_or_lower_part` (located where found, lower part elsewhere), `lower_part`
    /// or `whole`: as `parameters.vehicles`.
    pub method: VehicleMask,
    /// The detector, when one ran.
    pub detector: Option<PlateDetectorUsed>,
    /// Why plates were not located (detector not installed, no vehicle to search).
    pub not_located: Option<String>,
    /// Vehicles by frame: located, lower part (searched or too small), detector runs.
    pub figures: PlateFigures,
    /// Time spent in the plate detector, ms.
    pub detector_ms: f64,
}

/// The plate side of one export: the detector (opened only when an unselected
/// plate-carrying vehicle is in the span) and the per-track memory.
struct Plates {
    masker: PlateMasker,
    locator: Option<ClpLocator>,
    method: VehicleMask,
    not_located: Option<String>,
}

impl Plates {
    /// For an export of `[from_ms, to_ms]` of `source_id` by `redactor`. A detector that
    /// is not installed (model or ONNX Runtime absent) leaves every vehicle covered on
    /// its lower part, and says so; a refused model stays a refusal (its alert raised).
    fn for_export(
        case: &EnteredCase,
        source_id: &str,
        redactor: &Redactor,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Self, AppError> {
        let params = redactor.params();
        let mut out = Self {
            masker: PlateMasker::new(params.plates.clone())
                .map_err(|e| AppError::BadInput(e.to_string()))?,
            locator: None,
            method: params.vehicles,
            not_located: None,
        };
        if params.vehicles != VehicleMask::Plate {
            return Ok(out);
        }
        if !redactor.plates_to_locate(from_ms, to_ms) {
            out.not_located = Some("no unselected vehicle that carries a plate".into());
            return Ok(out);
        }
        out.open(case, Some(source_id))?;
        Ok(out)
    }

    /// Open the detector and record its load; not installed: lower parts, said so.
    fn open(&mut self, case: &EnteredCase, source_id: Option<&str>) -> Result<(), AppError> {
        let sink = case.alert_sink();
        match ClpLocator::open(&sink) {
            Ok(l) => {
                let spec = ids::CLP_DET.spec();
                case.record(&vigie_audit::event::Event::ModelLoaded {
                    model_id: spec.id.to_owned(),
                    sha256: spec.sha256_hex(),
                    task: spec.task.as_str().to_owned(),
                    device: "cpu".into(),
                    source_id: source_id.map(str::to_owned),
                })?;
                self.locator = Some(l);
                self.not_located = None;
            }
            Err(AppError::Plate(PlateError::Model(
                e @ (PolicyError::ModelMissing { .. } | PolicyError::RuntimeMissing { .. }),
            ))) => {
                self.method = VehicleMask::LowerPart;
                self.not_located = Some(format!("plate detector not installed: {e}"));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Cover the located plates of `plan` (the plan of `rgb`) instead of lower parts.
    fn refine(&mut self, plan: &mut FramePlan, rgb: &[u8]) -> Result<(), AppError> {
        // Every frame, vehicles or not: the masker counts frames for its memory.
        match self.locator.as_mut() {
            Some(l) => self.masker.refine(plan, rgb, l),
            None => Ok(()),
        }
    }

    /// The parameters as applied (lower parts where no detector was installed).
    fn parameters(&self, p: &RedactParams) -> RedactParams {
        RedactParams {
            vehicles: self.method,
            ..p.clone()
        }
    }

    fn outcome(&self) -> PlateRedaction {
        PlateRedaction {
            method: self.method,
            detector: self.locator.as_ref().map(|l| {
                let spec = ids::CLP_DET.spec();
                PlateDetectorUsed {
                    model_id: spec.id.to_owned(),
                    sha256: spec.sha256_hex(),
                    score_threshold: l.config().score_threshold,
                    max_side_px: l.config().max_side_px,
                }
            }),
            not_located: self.not_located.clone(),
            figures: self.masker.figures(),
            detector_ms: self
                .locator
                .as_ref()
                .map_or(0.0, |l| l.elapsed.as_secs_f64() * 1e3),
        }
    }
}

/// The hash of the source segment a redacted clip was made from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentHash {
    pub sha256: String,
    pub size_bytes: u64,
    /// Segment bounds (from the keyframe at or before the start), ms from the source's
    /// start.
    pub start_ms: i64,
    pub end_ms: i64,
    pub packets: u64,
    /// The container the packets were copied into (the hash is of that file).
    pub container: String,
}

/// A container that holds the source's codec without re-encoding and writes the same
/// bytes for the same packets (MP4 without a creation time, AVI), so that the segment's
/// hash can be recomputed; Matroska (random identifiers) only when neither holds it.
pub fn stream_copy_extension(record: &SourceRecord) -> &'static str {
    if matches!(
        record.meta.codec.as_str(),
        "h264" | "hevc" | "mpeg4" | "av1"
    ) {
        "mp4"
    } else {
        "avi"
    }
}

/// Stream-copy `[start_ms, end_ms]` of the source into a scratch file in the case's
/// derived directory, hash it and delete it.
pub fn segment_hash(
    case: &EnteredCase,
    source: &VerifiedSource,
    start_ms: i64,
    end_ms: i64,
) -> Result<SegmentHash, AppError> {
    let record = source.record();
    let dir = case.layout().ensure_derived()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let first = stream_copy_extension(record);
    let mut last_err = None;
    for ext in [first, "mkv"] {
        let scratch = dir.join(format!(
            "segment-{}-{}-{nanos}.{ext}",
            record.source_id,
            std::process::id()
        ));
        struct Remove<'a>(&'a Path);
        impl Drop for Remove<'_> {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(self.0);
            }
        }
        let _remove = Remove(&scratch);
        let report = match vigie_decode::export_segment(
            &source.decode_path(),
            Some(record.meta.stream_index),
            start_ms,
            end_ms,
            &scratch,
        ) {
            Ok(r) => r,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        let (sha256, size_bytes) = vigie_evidence::hash_file(&scratch, |_| {})?;
        return Ok(SegmentHash {
            sha256,
            size_bytes,
            start_ms: report.start_ms,
            end_ms: report.end_ms,
            packets: report.packets,
            container: match ext {
                "mp4" => "mp4",
                "avi" => "avi",
                _ => "matroska (identifiers random: the hash cannot be recomputed)",
            }
            .into(),
        });
    }
    Err(last_err.expect("two attempts").into())
}

/// How the motion mask learnt the background (with the parameters in the entry).
fn motion_learning(p: &RedactParams) -> Value {
    match p.motion {
        Some(_) => json!({
            "preroll_ms": MOTION_PREROLL_MS,
            "background_median_of_frames": BACKGROUND_FRAMES,
            "background_span_max_ms": BACKGROUND_SPAN_MS,
        }),
        None => Value::Null,
    }
}

/// What a redacted clip is made of, for the disclosure entry and the front ends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipRedaction {
    /// Tracks left clear: the exported one and those kept with `--keep`.
    pub selected: Vec<u64>,
    pub parameters: RedactParams,
    pub figures: Figures,
    /// How plates were covered.
    pub plates: PlateRedaction,
    /// The text burned into every frame.
    pub mark: String,
    pub source_segment: SegmentHash,
    /// First and last frame written, ms from the source's start.
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Frames written twice to keep the clip's timing where the source skipped frames.
    pub frames_repeated: u64,
    /// Seconds spent decoding, covering and encoding.
    pub elapsed_s: f64,
}

impl ClipRedaction {
    /// The `redaction` object of the disclosure entry's detail.
    pub fn detail(&self) -> Value {
        json!({
            "redacted": true,
            "selected": self.selected,
            "parameters": self.parameters,
            "motion_learning": motion_learning(&self.parameters),
            "figures": self.figures,
            "plates": self.plates,
            "objects_redacted": self.figures.objects_redacted,
            "mark": self.mark,
            "source_segment": self.source_segment,
            "encoding": {
                "codec": "h264", "container": "mp4", "method": "re-encoded after masking",
                "width": self.width, "height": self.height, "fps": self.fps,
                "frames": self.figures.frames, "frames_repeated": self.frames_repeated,
                "first_pts_ms": self.first_pts_ms, "last_pts_ms": self.last_pts_ms,
            },
        })
    }
}

/// Decode `[start_ms, end_ms]` of the source at its native size, cover what `redactor`
/// says (and what moves outside the selected objects), burn the mark, and encode H.264
/// into `output` (.mp4, which must not exist). The motion mask learns from the
/// [`MOTION_PREROLL_MS`] before the start.
pub fn write_redacted_clip(
    case: &EnteredCase,
    source: &VerifiedSource,
    redactor: &Redactor,
    start_ms: i64,
    end_ms: i64,
    output: &Path,
) -> Result<ClipRedaction, AppError> {
    let record = source.record();
    let started = Instant::now();
    let params = redactor.params().clone();
    let objects = redactor.objects_between(start_ms, end_ms);
    let mark = vigie_redact::mark_text(case.procedure(), Some(objects.len() as u64));
    let fps = record
        .meta
        .fps
        .filter(|f| f.is_finite() && *f >= 1.0 && *f <= 240.0)
        .unwrap_or(25.0);
    let mut motion = match &params.motion {
        Some(m) => {
            Some(MotionMasker::new(m).map_err(|e| redact_error(e, case, &record.source_id))?)
        }
        None => None,
    };
    let preroll_from = if motion.is_some() {
        (start_ms - MOTION_PREROLL_MS).max(0)
    } else {
        start_ms
    };
    let mut plates = Plates::for_export(case, &record.source_id, redactor, start_ms, end_ms)?;
    // The source segment the clip is made from, hashed before anything is written.
    let source_segment = segment_hash(case, source, start_ms, end_ms)?;
    if let Some(m) = motion.as_mut() {
        m.prime(&background_sample(source, preroll_from, end_ms)?);
    }
    let mut dec = Decoder::open(&source.decode_path(), &native_decode(record))?;
    let mut writer: Option<(WriterThread, u32, u32)> = None;
    let mut tally = Tally::default();
    let (mut first_pts, mut last_pts) = (None::<i64>, start_ms);
    let (mut pushed, mut repeated) = (0u64, 0u64);
    let mut previous: Option<Vec<u8>> = None;
    // Nothing written is left behind unrecorded: on any error the writer is closed and
    // its file removed.
    let mut encode = || -> Result<(), AppError> {
        let mut next = dec.frame_at(preroll_from)?;
        while let Some(mut frame) = next.take() {
            if frame.pts_ms > end_ms {
                break;
            }
            if frame.pts_ms < start_ms {
                if let Some(m) = motion.as_mut() {
                    m.observe(&frame);
                }
                next = dec.next_frame()?;
                continue;
            }
            if pushed % 50 == 0 {
                case.checkpoint()?;
            }
            let (w, h) = (frame.width, frame.height);
            if writer
                .as_ref()
                .is_some_and(|(_, ww, hh)| (*ww, *hh) != (w, h))
            {
                return Err(AppError::BadExport(format!(
                    "the source changes picture size at {:.3} s ({}x{} to {w}x{h}); export the \
                     parts before and after separately",
                    frame.pts_ms as f64 / 1000.0,
                    writer.as_ref().map_or(0, |x| x.1),
                    writer.as_ref().map_or(0, |x| x.2)
                )));
            }
            redact_frame_pixels(
                &mut frame,
                redactor,
                &mut plates,
                motion.as_mut(),
                &mark,
                &mut tally,
            )?;
            if writer.is_none() {
                writer = Some((WriterThread::spawn(output, w, h, fps)?, w, h));
            }
            let (wt, _, _) = writer.as_mut().expect("writer started");
            let first = *first_pts.get_or_insert(frame.pts_ms);
            // Keep the clip's clock: a frame the source skipped is shown by repeating the one
            // before (at most 2 s of them: longer holes are the source's own gaps).
            let due = ((frame.pts_ms - first) as f64 * fps / 1000.0).round() as u64;
            if let Some(prev) = &previous {
                let missing = due.saturating_sub(pushed).min((2.0 * fps) as u64);
                for _ in 0..missing {
                    wt.push(prev.clone())?;
                    pushed += 1;
                    repeated += 1;
                }
            }
            last_pts = frame.pts_ms;
            previous = Some(frame.data.clone());
            wt.push(frame.data)?;
            pushed += 1;
            next = dec.next_frame()?;
        }
        Ok(())
    };
    if let Err(e) = encode() {
        if let Some((wt, _, _)) = writer.take() {
            let _ = wt.finish();
            let _ = std::fs::remove_file(output);
        }
        return Err(e);
    }
    let Some((wt, width, height)) = writer else {
        return Err(AppError::BadInput(format!(
            "no frame of the source lies in {:.3}-{:.3} s (its duration is {}); check the \
             track with `vigie search`",
            start_ms as f64 / 1000.0,
            end_ms as f64 / 1000.0,
            record
                .meta
                .duration_ms
                .map(|d| format!("{:.3} s", d as f64 / 1000.0))
                .unwrap_or_else(|| "unknown".into())
        )));
    };
    if let Err(e) = wt.finish() {
        let _ = std::fs::remove_file(output);
        return Err(e.into());
    }
    let first_pts_ms = first_pts.unwrap_or(start_ms);
    Ok(ClipRedaction {
        selected: redactor.selected().collect(),
        parameters: plates.parameters(&params),
        figures: tally.figures(),
        plates: plates.outcome(),
        mark,
        source_segment,
        first_pts_ms,
        last_pts_ms: last_pts,
        width,
        height,
        fps,
        frames_repeated: repeated,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

/// Cover one decoded frame in place (plates located first) and burn the mark; counts it
/// in `tally`.
fn redact_frame_pixels(
    frame: &mut RgbFrame,
    redactor: &Redactor,
    plates: &mut Plates,
    motion: Option<&mut MotionMasker>,
    mark: &str,
    tally: &mut Tally,
) -> Result<(), AppError> {
    let mut plan = redactor.plan(frame.pts_ms, frame.width, frame.height);
    plates.refine(&mut plan, &frame.data)?;
    let cells = motion.map(|m| m.update(frame));
    let applied = vigie_redact::apply(
        &mut frame.data,
        &plan,
        cells.as_ref(),
        redactor.params().fill_rgb,
    );
    tally.add(&plan, &applied);
    vigie_redact::draw_mark(&mut frame.data, frame.width, frame.height, mark);
    Ok(())
}

/// One frame, redacted or not, ready to be written.
#[derive(Debug)]
pub struct MarkedFrame {
    pub frame: RgbFrame,
    /// `None` for an unredacted frame.
    pub redaction: Option<FrameRedaction>,
    pub mark: String,
}

/// What a redacted frame covers, for the disclosure entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameRedaction {
    pub selected: Vec<u64>,
    pub parameters: RedactParams,
    pub figures: Figures,
    /// How plates were covered.
    pub plates: PlateRedaction,
    pub mark: String,
}

impl FrameRedaction {
    pub fn detail(&self) -> Value {
        json!({
            "redacted": true,
            "selected": self.selected,
            "parameters": self.parameters,
            "motion_learning": motion_learning(&self.parameters),
            "figures": self.figures,
            "plates": self.plates,
            "objects_redacted": self.figures.objects_redacted,
            "mark": self.mark,
        })
    }
}

/// The frame at `at_ms` at its native size, with every object not in `keep` covered (and
/// what moves, learnt over the [`MOTION_PREROLL_MS`] before it) and the mark burned in;
/// unredacted (`redactor: None`), only the "UNREDACTED" mark. `None` if the source ends
/// before `at_ms`.
pub fn marked_frame(
    case: &EnteredCase,
    source: &VerifiedSource,
    redactor: Option<&Redactor>,
    at_ms: i64,
) -> Result<Option<MarkedFrame>, AppError> {
    let record = source.record();
    let motion_params = redactor.and_then(|r| r.params().motion.clone());
    let mut dec = Decoder::open(&source.decode_path(), &native_decode(record))?;
    let mut motion = match &motion_params {
        Some(m) => {
            Some(MotionMasker::new(m).map_err(|e| redact_error(e, case, &record.source_id))?)
        }
        None => None,
    };
    let from = if motion.is_some() {
        (at_ms - MOTION_PREROLL_MS).max(0)
    } else {
        at_ms
    };
    if let Some(m) = motion.as_mut() {
        m.prime(&background_sample(source, from, at_ms + MOTION_PREROLL_MS)?);
    }
    let mut frame = dec.frame_at(from)?;
    if let Some(m) = motion.as_mut() {
        while let Some(f) = frame.take() {
            if f.pts_ms + 1 >= at_ms {
                frame = Some(f);
                break;
            }
            m.observe(&f);
            frame = dec.next_frame()?;
        }
    }
    let Some(mut frame) = frame else {
        return Ok(None);
    };
    let Some(redactor) = redactor else {
        let mark = vigie_redact::mark_text(case.procedure(), None);
        vigie_redact::draw_mark(&mut frame.data, frame.width, frame.height, &mark);
        return Ok(Some(MarkedFrame {
            frame,
            redaction: None,
            mark,
        }));
    };
    let plan = redactor.plan(frame.pts_ms, frame.width, frame.height);
    let mark = vigie_redact::mark_text(case.procedure(), Some(plan.objects() as u64));
    let mut plates = Plates::for_export(
        case,
        &record.source_id,
        redactor,
        frame.pts_ms,
        frame.pts_ms,
    )?;
    let mut tally = Tally::default();
    redact_frame_pixels(
        &mut frame,
        redactor,
        &mut plates,
        motion.as_mut(),
        &mark,
        &mut tally,
    )?;
    Ok(Some(MarkedFrame {
        frame,
        redaction: Some(FrameRedaction {
            selected: redactor.selected().collect(),
            parameters: plates.parameters(redactor.params()),
            figures: tally.figures(),
            plates: plates.outcome(),
            mark: mark.clone(),
        }),
        mark,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unredacted_needs_a_justification_and_a_justification_needs_unredacted() {
        assert_eq!(Unredacted::from_flags(false, None).unwrap(), None);
        let e = Unredacted::from_flags(true, None).unwrap_err().to_string();
        assert!(e.contains("--justification"), "{e}");
        let e = Unredacted::from_flags(true, Some("   "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--justification"), "{e}");
        let e = Unredacted::from_flags(false, Some("x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--unredacted"), "{e}");
        assert_eq!(
            Unredacted::from_flags(true, Some(" court order 12 ")).unwrap(),
            Some(Unredacted {
                justification: "court order 12".into()
            })
        );
    }
}

// ---- contact sheets -------------------------------------------------------------------

/// The thumbnails of a contact sheet, redacted and written beside it.
#[derive(Debug, Default)]
pub struct SheetImages {
    /// Each shown track's image, relative to the sheet's directory (`/`-separated).
    pub images: HashMap<(String, u64), String>,
    /// The files written (to be hashed with the sheet).
    pub files: Vec<std::path::PathBuf>,
    /// Objects covered on at least one thumbnail.
    pub objects_redacted: u64,
    /// Tracks whose thumbnail was left out: analysed before vigie recorded where
    /// thumbnails are cut from, so the objects around them cannot be placed (re-analyse
    /// with `vigie analyze --force` to show them).
    pub withheld: Vec<(String, u64)>,
    /// How the plates of vehicles on the thumbnails were covered (`None`: no vehicle).
    pub plates: Option<PlateRedaction>,
}

/// Copies of the hits' thumbnails with every object the search did not select covered
/// (the tube boxes at the thumbnail's time, as in a redacted frame; the hits of the same
/// source stay clear unless a mask covers them), written into `dir` (created; it must not
/// exist). No motion mask: a thumbnail is one analysed frame's crop, and no frame is
/// decoded to make a sheet.
pub fn sheet_images(
    case: &EnteredCase,
    hits: &[vigie_index::Hit],
    dir: &Path,
) -> Result<SheetImages, AppError> {
    let mut out = SheetImages::default();
    let mut by_source: std::collections::BTreeMap<&str, Vec<&vigie_index::Hit>> =
        Default::default();
    for h in hits.iter().filter(|h| h.track.thumbnail.is_some()) {
        by_source.entry(&h.track.source_id).or_default().push(h);
    }
    if by_source.is_empty() {
        return Ok(out);
    }
    std::fs::create_dir(dir).map_err(AppError::io(dir))?;
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let derived = case.layout().derived();
    let mut covered: std::collections::BTreeSet<(String, u64)> = Default::default();
    // One plate detector for the sheet, opened at the first vehicle; each thumbnail is
    // one frame: no memory across them, every vehicle searched.
    let mut plates: Option<Plates> = None;
    let mut plate_figures = PlateFigures::default();
    let registered = case.sources_by_id()?;
    for (source_id, hits) in by_source {
        let Some(record) = registered.get(source_id) else {
            // Not a registered source (or one the chain disagrees with): nothing to
            // place the objects with.
            out.withheld.extend(
                hits.iter()
                    .map(|h| (h.track.source_id.clone(), h.track.track_id)),
            );
            continue;
        };
        let present: std::collections::BTreeSet<u64> = match case.layout().read_tubes(source_id) {
            Ok(t) => t.tubes.iter().map(|t| t.track_id).collect(),
            Err(_) => Default::default(),
        };
        let selected: Vec<u64> = hits
            .iter()
            .map(|h| h.track.track_id)
            .filter(|id| present.contains(id))
            .collect();
        let redactor = match redactor(case, record, &selected) {
            Ok(r) => Some(r),
            Err(AppError::BadExport(_)) => None,
            Err(e) => return Err(e),
        };
        for h in hits {
            let t = &h.track;
            let (Some(rel), Some(at), Some(redactor)) = (&t.thumbnail, t.thumbnail_at, &redactor)
            else {
                out.withheld.push((t.source_id.clone(), t.track_id));
                continue;
            };
            let src = derived.join(rel);
            if !src.starts_with(&derived) || rel.contains("..") {
                out.withheld.push((t.source_id.clone(), t.track_id));
                continue;
            }
            let img = image::open(&src)
                .map_err(|e| AppError::DamagedDerived {
                    what: "thumbnail".into(),
                    why: e.to_string(),
                    path: src.clone(),
                })?
                .to_rgb8();
            let (w, h) = img.dimensions();
            let mut rgb = img.into_raw();
            let mut plan = redactor.plan_crop(at.pts_ms, at.x_px, at.y_px, w, h);
            if !plan.vehicles.is_empty() && redactor.params().vehicles == VehicleMask::Plate {
                let p = match plates.as_mut() {
                    Some(p) => p,
                    None => {
                        let mut p = Plates {
                            masker: PlateMasker::new(redactor.params().plates.clone())
                                .map_err(|e| AppError::BadInput(e.to_string()))?,
                            locator: None,
                            method: VehicleMask::Plate,
                            not_located: None,
                        };
                        p.open(case, Some(source_id))?;
                        plates.insert(p)
                    }
                };
                p.masker = PlateMasker::new(redactor.params().plates.clone())
                    .map_err(|e| AppError::BadInput(e.to_string()))?;
                p.refine(&mut plan, &rgb)?;
                let f = p.masker.figures();
                plate_figures.vehicle_frames += f.vehicle_frames;
                plate_figures.located += f.located;
                plate_figures.located_reused += f.located_reused;
                plate_figures.lower_part += f.lower_part;
                plate_figures.lower_part_small += f.lower_part_small;
                plate_figures.locator_runs += f.locator_runs;
            }
            for m in &plan.masks {
                covered.insert((t.source_id.clone(), m.track_id));
            }
            vigie_redact::apply(&mut rgb, &plan, None, redactor.params().fill_rgb);
            let name = format!("{}_{}.jpg", t.source_id, t.track_id);
            let path = dir.join(&name);
            let file = std::fs::File::create(&path).map_err(AppError::io(&path))?;
            image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 90)
                .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
                .map_err(|e| AppError::Io {
                    path: path.clone(),
                    source: std::io::Error::other(e),
                })?;
            out.images.insert(
                (t.source_id.clone(), t.track_id),
                format!("{dir_name}/{name}"),
            );
            out.files.push(path);
        }
    }
    out.objects_redacted = covered.len() as u64;
    out.plates = plates.map(|p| PlateRedaction {
        figures: plate_figures,
        ..p.outcome()
    });
    Ok(out)
}
