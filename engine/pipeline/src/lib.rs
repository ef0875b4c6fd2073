//! The analysis pipeline for one source.
//!
//! ```text
//!  decoder thread            analysis thread (this one)
//!  ┌──────────────┐  bounded  ┌───────────┐   ┌──────────┐   ┌─────────┐   ┌───────────┐
//!  │ FFmpeg decode│──channel─►│motion gate│──►│ detector │──►│ tracker │──►│ describer │──► tracks
//!  │ sample, RGB  │(32 frames)│ + fg mask │   │(if needed)│  │ByteTrack│   │colours,   │
//!  └──────────────┘           └───────────┘   └──────────┘   └─────────┘   │zones, ... │
//!                                                                          └───────────┘
//! ```
//!
//! Why this shape: on a 2-core machine decoding and detection are the two heavy stages, so
//! each gets a thread, and the bounded channel between them keeps memory flat (the decoder
//! blocks when analysis falls behind) instead of buffering hours of frames. The motion
//! gate runs on every frame (it is cheap) and the detector only as often as the motion
//! needs ([`rate`]): on motion no live track explains, on young, lost or unconfirmed
//! tracks, often enough that no moving track moves more than a share of its height
//! between two detections, plus a periodic refresh so nothing that arrived while the gate
//! was closed is missed for long. Frames between two detections are not given to the
//! tracker: its motion model carries the tracks across them. With
//! `AnalyzeConfig::detect_regions`, runs between refreshes name the regions that matter
//! (moving blobs, live tracks, the last run's boxes) and the detector may examine crops
//! around them ([`ObjectDetector::detect_regions`]); off by default, because with
//! NanoDet's fixed input a crop costs what the whole frame costs (`vigie_detect::crops`).
//!
//! Detecting ahead ([`AnalyzeConfig::detect_ahead`]): one ONNX Runtime session on both
//! cores does fewer frames per second than two sessions on one core each (NanoDet int8,
//! 2 cores: 85 against 114), but frames must be tracked in order and the rate decides a
//! frame's detection only once the frames before it are tracked. So while the detector
//! runs at a steady step (every frame, or every k-th), a frame due for detection is
//! detected together with the frame one step ahead (read early from the channel, at most
//! [`DETECT_AHEAD_MAX_FRAMES`]), side by side ([`ObjectDetector::detect_pair`]); that
//! frame's boxes wait, and are used only if the rate asks for them when its turn comes
//! (else the work is lost, and counted). The decisions, and so the tracks, are those of
//! frames detected one by one.
//!
//! Analysis frames are decoded with the codec's loop filter skipped
//! ([`AnalyzeConfig::loop_filter`]; about a fifth less decoding CPU on H.264): they are
//! [`vigie_decode::AnalysisFrame`]s, which the detector, gate, tracker and describer read
//! but nothing disclosed may be cut from. The thumbnails the describer keeps are cut again
//! from the recorded pictures at the end of the source ([`thumbnails`]), and with
//! [`analyze_source_with_thumbnails`] handed to the caller one at a time as they are cut,
//! so that re-cut thumbnails are never all held at once; the plate pass
//! decodes with a plain [`DecodeConfig`], which always deblocks.
//!
//! The detector is a trait object ([`ObjectDetector`]) so the pipeline does not depend on
//! ONNX Runtime: the CLI passes NanoDet (from `vigie-detect`, which goes through the model
//! policy) or the model-free [`MotionObjectDetector`].

#![forbid(unsafe_code)]

pub mod plates;
pub mod rate;
pub mod thumbnails;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vigie_core::{Detection, RgbFrame};
use vigie_decode::{
    spawn_analysis_decoder, AnalysisDecodeConfig, DecodeConfig, DecodeError, DecodeReport,
    Fidelity, LoopFilter,
};
use vigie_describe::{
    DescribeConfig, Describer, Description, ObjectMask, Observation, Scene, TrackEnd,
};
use vigie_motion::{BackgroundModel, ForegroundMask, MotionConfig, MotionConfigError};
use vigie_track::{FinishedTrack, PointSource, Tracker, TrackerConfig};

/// Furthest a frame is detected ahead, in analysed frames ([`AnalyzeConfig::detect_ahead`]):
/// the frames in between are held until then (their pixels and motion masks).
pub const DETECT_AHEAD_MAX_FRAMES: usize = 4;

/// A per-frame object detector. Each worker owns one (its own model session).
pub trait ObjectDetector {
    /// Detections in `frame` pixels. `mask` is the motion mask of the same frame, for
    /// detectors that use it.
    fn detect(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError>;
    /// Detections in `frame` pixels, looking at least at `regions` (frame pixels: where
    /// the motion gate sees motion and where live tracks are expected, [`rate::detect_regions`]).
    /// A detector may examine crops around them instead of the whole frame (NanoDet at
    /// scale 1, `vigie_detect::crops`) and says how much of the frame it examined. The
    /// default examines the whole frame.
    fn detect_regions(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
        regions: &[vigie_core::BBox],
    ) -> Result<Detected, StageError> {
        let _ = regions;
        Ok(Detected {
            detections: self.detect(frame, mask)?,
            area_share: 1.0,
        })
    }
    /// Whether [`detect_pair`](Self::detect_pair) works on its two frames at once (two
    /// model sessions, each on its share of the cores). The analysis then detects a frame
    /// due for detection together with a later one ([`AnalyzeConfig::detect_ahead`]).
    fn pairs(&self) -> bool {
        false
    }
    /// Detections in two frames, `a` then `b`, each with its motion mask: what two calls
    /// of [`detect`](Self::detect) give. The default makes those two calls.
    fn detect_pair(
        &mut self,
        a: (&RgbFrame, &ForegroundMask),
        b: (&RgbFrame, &ForegroundMask),
    ) -> Result<[Vec<Detection>; 2], StageError> {
        Ok([self.detect(a.0, a.1)?, self.detect(b.0, b.1)?])
    }
    /// A short name for reports (`nanodet_coco_416`, `motion`).
    fn name(&self) -> &str;
}

/// What [`ObjectDetector::detect_regions`] found, and how much of the frame it examined.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub detections: Vec<Detection>,
    /// Share of the frame's area given to the detector (1: the whole frame).
    pub area_share: f64,
}

/// The model-free detector: blobs of the motion mask, labelled `moving_object`.
pub struct MotionObjectDetector {
    /// Blobs smaller than this share of the frame are ignored.
    pub min_blob_frac: f32,
}

impl ObjectDetector for MotionObjectDetector {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
    ) -> Result<Vec<Detection>, StageError> {
        let min_area = (self.min_blob_frac * (mask.width * mask.height) as f32).max(2.0) as usize;
        let (sx, sy) = mask.scale_to(frame.width, frame.height);
        Ok(vigie_motion::find_blobs(mask, min_area)
            .iter()
            .map(|b| Detection {
                bbox_in_frame: vigie_core::BBox {
                    x: b.x0 as f32 * sx,
                    y: b.y0 as f32 * sy,
                    w: (b.x1 - b.x0 + 1) as f32 * sx,
                    h: (b.y1 - b.y0 + 1) as f32 * sy,
                },
                label: "moving_object".into(),
                score: (0.5 + 0.5 * b.fill()).min(1.0),
            })
            .collect())
    }

    fn name(&self) -> &str {
        "motion"
    }
}

/// Everything that parameterises the analysis of one source.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    /// Decoding settings (the plate pass and the thumbnail re-cut reuse them, deblocking).
    pub decode: DecodeConfig,
    /// The analysis decoder's loop filter. Skipping it (the default, `SkipAll`) saves
    /// decoding time; thumbnails are then cut again from recorded pictures ([`thumbnails`]).
    pub loop_filter: LoopFilter,
    pub motion: MotionConfig,
    pub tracker: TrackerConfig,
    pub describe: DescribeConfig,
    pub scene: Scene,
    /// Skip the detector on frames with no motion and no live track.
    pub motion_gate: bool,
    /// Even with the gate closed, run the detector at least this often.
    pub gate_refresh_ms: i64,
    /// How often the detector runs while the gate is open ([`rate`]).
    pub detect_rate: rate::DetectRateConfig,
    /// Between refreshes (with the adaptive rate), ask the detector for the moving regions
    /// and the live tracks only ([`ObjectDetector::detect_regions`]); the detector decides
    /// whether crops or the whole frame serve them. `false`: always the whole frame.
    pub detect_regions: bool,
    /// Detect a frame together with the frame one detection step ahead (the step between
    /// the last two detections, at most [`DETECT_AHEAD_MAX_FRAMES`]) when the detector can
    /// work on two at once ([`ObjectDetector::pairs`]): two sessions on one core each do
    /// more frames per second than one on both (NanoDet int8 on 2 cores: 114 against 85).
    /// The later frame's detections are used only if the rate decides, once the frames
    /// before it are tracked, that it needs them, so the tracks are those of frames
    /// detected one by one; only the time changes. Never with `detect_regions`.
    pub detect_ahead: bool,
    /// Keep the pts of every frame given to the detector ([`Analysis::detected_pts_ms`]),
    /// for evaluations that tell frames nobody looked at from frames where an object was
    /// missed.
    pub record_detected_frames: bool,
    /// Frames buffered between the decoder thread and the analysis thread. 32 (about
    /// 22 MB at 640x360): the decoder runs ahead through stretches where the detector is
    /// busy and the analysis eats the lead where the gate is closed; with 8 the analysis
    /// waited twice as long for frames on the 1080p clip (3% of its time).
    pub channel_frames: usize,
    /// Tracks with fewer detections than this are dropped as noise.
    pub min_track_detections: usize,
    /// A `moving_object` track (motion detector) that never moved is a ghost of the
    /// background model (an object that was there when the model started, then left),
    /// and is dropped.
    pub drop_motionless_blobs: bool,
    /// The offline pass over the whole source that joins fragments of one object
    /// (`vigie_track::link`), before tracks are described.
    pub link: vigie_track::link::LinkConfig,
}

impl Default for AnalyzeConfig {
    fn default() -> Self {
        Self {
            decode: DecodeConfig {
                sampling: vigie_core::SamplingMode::TargetFps { fps: 10.0 },
                output_size: vigie_decode::OutputSize::MaxWidth(640),
                ..Default::default()
            },
            loop_filter: LoopFilter::SkipAll,
            motion: MotionConfig::default(),
            tracker: TrackerConfig::default(),
            describe: DescribeConfig::default(),
            scene: Scene::default(),
            motion_gate: true,
            gate_refresh_ms: 2000,
            detect_rate: rate::DetectRateConfig::default(),
            detect_regions: false,
            detect_ahead: true,
            record_detected_frames: false,
            channel_frames: 32,
            min_track_detections: 3,
            drop_motionless_blobs: true,
            link: vigie_track::link::LinkConfig::default(),
        }
    }
}

/// What is analysed.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub source_id: String,
    pub camera: String,
    pub path: PathBuf,
}

/// Time spent in each stage (on the analysis thread; decoding runs concurrently). Frames
/// read ahead for [`AnalyzeConfig::detect_ahead`] count in `wait_for_frames` and `motion`
/// when read; `detect` is the detector's own time (a pair counted once, at its first
/// frame).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageTimes {
    pub wait_for_frames: Duration,
    pub motion: Duration,
    pub detect: Duration,
    pub track: Duration,
    pub describe: Duration,
    /// Thumbnails cut again from recorded pictures ([`thumbnails`]), after the source;
    /// with [`analyze_source_with_thumbnails`], the sink's time (writing them) included,
    /// and only the sink's when the analysis frames were recorded pictures (no re-cut).
    pub thumbnails: Duration,
    pub total: Duration,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AnalysisStats {
    pub frames_analysed: u64,
    pub frames_detected: u64,
    /// Frames analysed but not given to the detector.
    pub frames_gated_out: u64,
    /// Sum over detected frames of the share of the frame's area the detector saw (1 for
    /// a whole frame): `detected_area_frames / frames_analysed` is the share of the
    /// analysed picture that was detected.
    pub detected_area_frames: f64,
    /// Detected frames examined in crops rather than whole
    /// ([`ObjectDetector::detect_regions`]).
    pub frames_in_crops: u64,
    /// Detected frames whose detections were computed together with an earlier frame's
    /// ([`AnalyzeConfig::detect_ahead`]), and frames detected that way whose detections
    /// the rate then did not need (the time spent on them bought nothing).
    pub frames_detected_ahead: u64,
    pub detected_ahead_unused: u64,
    /// Why frames went to the detector.
    pub detect_reasons: rate::DetectReasons,
    /// The detection rate actually used, per minute of media time.
    pub detect_rate: Vec<rate::DetectRateInterval>,
    pub detections: u64,
    pub tracks: u64,
    pub tracks_dropped_as_noise: u64,
    /// Track fragments joined to an earlier fragment of the same object by the offline
    /// pass (each counted once).
    pub fragments_linked: u64,
    pub times: StageTimes,
    /// Person tracks attached to a bicycle or motorcycle as its rider
    /// (`vigie_track::riders`): each is part of the vehicle's result, not one of its own.
    pub riders_attached: u64,
    /// Whether the analysis frames were the recorded pictures, and the loop filter used.
    pub fidelity: Option<Fidelity>,
    pub loop_filter: Option<LoopFilter>,
    /// Thumbnails cut again from recorded pictures, and those whose frame was not found
    /// again (removed rather than kept from analysis pixels).
    pub thumbnails_recut: u64,
    pub thumbnails_dropped: u64,
}

impl AnalysisStats {
    /// Share of the analysed frames that went through the detector.
    pub fn detector_frame_share(&self) -> f64 {
        self.frames_detected as f64 / self.frames_analysed.max(1) as f64
    }

    /// Share of the analysed picture (frames times area) the detector saw.
    pub fn detected_area_share(&self) -> f64 {
        self.detected_area_frames / self.frames_analysed.max(1) as f64
    }
}

/// One kept track's per-frame boxes (detections only), for video synopses and exports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tube {
    pub track_id: u64,
    /// (pts_ms, box in working-resolution pixels), time-ordered.
    pub boxes: Vec<(i64, vigie_core::BBox)>,
}

/// The result of analysing one source.
pub struct Analysis {
    pub descriptions: Vec<Description>,
    /// Per-frame boxes of the kept tracks, in the same order as `descriptions`.
    pub tubes: Vec<Tube>,
    /// Working resolution the boxes are in.
    pub frame_size: (u32, u32),
    pub decode: DecodeReport,
    pub stats: AnalysisStats,
    /// Source duration covered (pts of the last analysed frame), ms.
    pub duration_ms: i64,
    /// pts of the frames given to the detector, in order (with
    /// `AnalyzeConfig::record_detected_frames`; empty otherwise).
    pub detected_pts_ms: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Motion(#[from] MotionConfigError),
    #[error("invalid tracker setting: {0}")]
    Tracker(String),
    #[error("invalid analysis setting: {0}")]
    Config(String),
    #[error("the {detector} detector failed: {source}")]
    Detector {
        detector: String,
        #[source]
        source: StageError,
    },
    #[error("the plate reader failed: {source}")]
    PlateReader {
        #[source]
        source: StageError,
    },
    #[error("stopped on request at {at_ms} ms: {why}")]
    Stopped { at_ms: i64, why: String },
    /// The caller's [`thumbnails::ThumbnailSink`] failed (writing a thumbnail file).
    #[error("a thumbnail could not be kept: {source}")]
    ThumbnailSink {
        #[source]
        source: StageError,
    },
}

/// The error of a stage behind a trait (detector, plate reader, thumbnail sink), kept as
/// the stage's own typed error so that the caller can classify it (a refused model stays
/// a refusal).
pub type StageError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl PipelineError {
    /// The stage's own error, when a stage failed.
    pub fn stage_error(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PipelineError::Detector { source, .. }
            | PipelineError::PlateReader { source }
            | PipelineError::ThumbnailSink { source } => {
                Some(source.as_ref() as &(dyn std::error::Error + 'static))
            }
            _ => None,
        }
    }
}

fn finish_track(
    describer: &mut Describer,
    t: &FinishedTrack,
    input: &SourceInput,
    frame_size: (u32, u32),
    start_wall_ms: Option<i64>,
) -> Description {
    let history: Vec<(i64, vigie_core::BBox)> = t
        .history
        .iter()
        .map(|p| (p.pts_ms, p.bbox_in_frame))
        .collect();
    describer.finish(TrackEnd {
        source_id: &input.source_id,
        camera: &input.camera,
        track_id: t.id,
        label: &t.label,
        confidence: t.mean_score(),
        history: &history,
        frame_width: frame_size.0,
        frame_height: frame_size.1,
        start_wall_ms,
    })
}

/// Analyse one source. `on_frame(pts_ms)` is called after each analysed frame (progress
/// and checkpoint): returning `ControlFlow::Break(why)` stops the analysis with
/// [`PipelineError::Stopped`] before anything of the source is returned. Every thumbnail's
/// pixels are kept in the returned descriptions: [`analyze_source_with_thumbnails`] hands
/// them over one at a time instead.
pub fn analyze_source(
    input: &SourceInput,
    cfg: &AnalyzeConfig,
    detector: &mut dyn ObjectDetector,
    on_frame: impl FnMut(i64) -> std::ops::ControlFlow<String>,
) -> Result<Analysis, PipelineError> {
    analyze(input, cfg, detector, on_frame, None)
}

/// [`analyze_source`], each thumbnail handed to `on_thumbnail(i, &descriptions[i])` as
/// soon as its pixels are final, then its pixels released (`Thumbnail::rgb` left empty in
/// the returned descriptions). Re-cut thumbnails ([`thumbnails`]) are handed over as each
/// is cut, in time order, so that at most one thumbnail's pixels are held at a time
/// instead of all of the source's until the caller writes them; thumbnails of an analysis
/// on the recorded pictures (held by the describer as it goes) after the source, in
/// `descriptions` order. Nothing is handed over for an analysis that is stopped.
pub fn analyze_source_with_thumbnails(
    input: &SourceInput,
    cfg: &AnalyzeConfig,
    detector: &mut dyn ObjectDetector,
    on_frame: impl FnMut(i64) -> std::ops::ControlFlow<String>,
    mut on_thumbnail: impl FnMut(usize, &Description) -> Result<(), StageError>,
) -> Result<Analysis, PipelineError> {
    analyze(input, cfg, detector, on_frame, Some(&mut on_thumbnail))
}

fn analyze(
    input: &SourceInput,
    cfg: &AnalyzeConfig,
    detector: &mut dyn ObjectDetector,
    mut on_frame: impl FnMut(i64) -> std::ops::ControlFlow<String>,
    on_thumbnail: Option<&mut thumbnails::ThumbnailSink<'_>>,
) -> Result<Analysis, PipelineError> {
    let started = Instant::now();
    let mut tracker =
        Tracker::new(cfg.tracker.clone()).map_err(|e| PipelineError::Tracker(e.to_string()))?;
    let mut model = BackgroundModel::new(cfg.motion.clone())?;
    let mut describer = Describer::new(cfg.describe.clone(), cfg.scene.clone());
    let decode = AnalysisDecodeConfig {
        decode: cfg.decode.clone(),
        loop_filter: cfg.loop_filter,
    };
    let handle = spawn_analysis_decoder(&input.path, &decode, cfg.channel_frames)?;
    // Thumbnails not cut from recorded pictures are cut again at the end ([`thumbnails`]):
    // until then each fragment keeps where its best view is, not pixels to throw away.
    describer.keep_thumbnail_pixels(handle.fidelity == Fidelity::Recorded);
    let start_wall_ms = handle.meta.start_time.map(|s| s.epoch_ms());
    let mut stats = AnalysisStats {
        fidelity: Some(handle.fidelity),
        // What the decoder did, not what was asked: a codec with no loop filter
        // (MPEG-4 Part 2...) decodes recorded pictures whatever the setting.
        loop_filter: Some(if handle.fidelity == Fidelity::Recorded {
            vigie_decode::LoopFilter::Apply
        } else {
            cfg.loop_filter
        }),
        ..AnalysisStats::default()
    };
    let mut descriptions = Vec::new();
    let mut finished: Vec<FinishedTrack> = Vec::new();
    let mut frame_size = (0, 0);
    let mut last_detect_ms: Option<i64> = None;
    let mut prev_pts_ms: Option<i64> = None;
    let mut examined: Vec<bool> = Vec::new();
    let mut detected_pts_ms = Vec::new();
    let mut last_pts = 0i64;
    // The last run's boxes: a detection waiting for confirmation is looked for there.
    let mut recent: Vec<vigie_core::BBox> = Vec::new();
    cfg.detect_rate.validate().map_err(PipelineError::Config)?;
    let rules = rate::RuleSettings {
        rate: &cfg.detect_rate,
        motion_gate: cfg.motion_gate,
        gate_refresh_ms: cfg.gate_refresh_ms,
        still_speed_h_s: cfg.tracker.still_speed_h_s,
        unexplained_frac_min: cfg.motion.gate_frac,
    };
    let keep = |t: &FinishedTrack,
                describer: &mut Describer,
                stats: &mut AnalysisStats,
                frame_size: (u32, u32)| {
        let d = finish_track(describer, t, input, frame_size, start_wall_ms);
        let ghost = cfg.drop_motionless_blobs
            && t.label == "moving_object"
            && d.summary.heading_deg.is_none();
        if t.detections().count() >= cfg.min_track_detections && !ghost {
            stats.tracks += 1;
            let tube = Tube {
                track_id: t.id,
                boxes: t
                    .detections()
                    .map(|p| (p.pts_ms, p.bbox_in_frame))
                    .collect(),
            };
            Some((d, tube))
        } else {
            stats.tracks_dropped_as_noise += 1;
            None
        }
    };
    let pairing = cfg.detect_ahead && !cfg.detect_regions && detector.pairs();
    // Frames read ahead of the one being analysed, with their motion masks, and their
    // detections when they were detected together with an earlier frame.
    let mut ahead: VecDeque<(
        vigie_decode::AnalysisFrame,
        ForegroundMask,
        Option<Vec<Detection>>,
    )> = VecDeque::with_capacity(DETECT_AHEAD_MAX_FRAMES);
    // Analysed frames since the last detected one (1: the previous frame was detected).
    let mut since_detect = usize::MAX;
    let next_frame = |stats: &mut AnalysisStats, model: &mut BackgroundModel| {
        let t_wait = Instant::now();
        let f = handle.frames.recv().ok()?;
        stats.times.wait_for_frames += t_wait.elapsed();
        let t = Instant::now();
        let mask = model.apply(f.for_analysis()).clone();
        stats.times.motion += t.elapsed();
        Some((f, mask))
    };
    loop {
        let (analysis_frame, mask, mut spare) = match ahead.pop_front() {
            Some(read) => read,
            None => match next_frame(&mut stats, &mut model) {
                Some((f, mask)) => (f, mask, None),
                None => break,
            },
        };
        // Pixels for the analysis stages only: what is cut from them for disclosure (the
        // describer's thumbnails) is cut again from recorded pictures at the end.
        let frame = analysis_frame.for_analysis();
        frame_size = (frame.width, frame.height);
        last_pts = frame.pts_ms;
        since_detect = since_detect.saturating_add(1);

        let live = tracker.active();
        let predicted = if cfg.motion_gate && cfg.detect_rate.adaptive {
            tracker.predicted_boxes(frame.pts_ms)
        } else {
            Vec::new()
        };
        let reason = rate::decide(
            &rules,
            &rate::FrameFacts {
                pts_ms: frame.pts_ms,
                prev_pts_ms,
                last_detect_ms,
                mask: &mask,
                frame_size,
                live,
                predicted: &predicted,
                has_tentative: tracker.has_tentative(),
                examined: &examined,
            },
        );
        prev_pts_ms = Some(frame.pts_ms);
        rate::record_rate(&mut stats.detect_rate, frame.pts_ms, reason.is_some());
        if reason.is_none() {
            stats.detected_ahead_unused += u64::from(spare.is_some());
        }
        if reason.is_none() && !live.is_empty() {
            // Nothing to learn from this frame: the tracker is not told of it, so live
            // tracks are neither lost nor given predicted points; at the next detection
            // its motion model carries them across the frames in between.
            stats.frames_gated_out += 1;
            stats.frames_analysed += 1;
            if let std::ops::ControlFlow::Break(why) = on_frame(frame.pts_ms) {
                let _ = handle.join();
                return Err(PipelineError::Stopped {
                    at_ms: frame.pts_ms,
                    why,
                });
            }
            continue;
        }
        let detections = if let Some(reason) = reason {
            let t = Instant::now();
            let mut read_ahead = Duration::ZERO;
            let use_regions = cfg.detect_regions
                && cfg.motion_gate
                && cfg.detect_rate.adaptive
                && rate::regions_suffice(reason);
            let found = if use_regions {
                let regions = rate::detect_regions(&mask, frame_size, live, &predicted, &recent);
                detector.detect_regions(frame, &mask, &regions)
            } else if let Some(detections) = spare.take() {
                stats.frames_detected_ahead += 1;
                Ok(Detected {
                    detections,
                    area_share: 1.0,
                })
            } else {
                // The partner: the frame as far ahead as the last detection is behind
                // (the rate's step is steady while the scene is), read if need be.
                // Its reading and motion mask count as such, not as detection.
                let k = since_detect;
                let partner = pairing && k <= DETECT_AHEAD_MAX_FRAMES && {
                    let read = Instant::now();
                    while ahead.len() < k {
                        match next_frame(&mut stats, &mut model) {
                            Some((f, m)) => ahead.push_back((f, m, None)),
                            None => break,
                        }
                    }
                    read_ahead += read.elapsed();
                    ahead.get(k - 1).is_some_and(|a| a.2.is_none())
                };
                if partner {
                    let (f, m, _) = &ahead[k - 1];
                    detector
                        .detect_pair((frame, &mask), (f.for_analysis(), m))
                        .map(|[detections, later]| {
                            ahead[k - 1].2 = Some(later);
                            Detected {
                                detections,
                                area_share: 1.0,
                            }
                        })
                } else {
                    detector.detect(frame, &mask).map(|detections| Detected {
                        detections,
                        area_share: 1.0,
                    })
                }
            }
            .map_err(|source| PipelineError::Detector {
                detector: detector.name().to_string(),
                source,
            })?;
            let d = found.detections;
            stats.times.detect += t.elapsed().saturating_sub(read_ahead);
            stats.frames_detected += 1;
            stats.detected_area_frames += found.area_share.clamp(0.0, 1.0);
            stats.frames_in_crops += u64::from(found.area_share < 1.0);
            if cfg.detect_regions {
                recent.clear();
                recent.extend(d.iter().map(|d| d.bbox_in_frame));
            }
            stats.detect_reasons.count(reason);
            stats.detections += d.len() as u64;
            last_detect_ms = Some(frame.pts_ms);
            since_detect = 0;
            if cfg.motion_gate && cfg.detect_rate.adaptive && cfg.detect_rate.examined_margin_px > 0
            {
                let boxes: Vec<vigie_core::BBox> = d
                    .iter()
                    .filter(|d| d.score >= cfg.tracker.low_score_min)
                    .map(|d| d.bbox_in_frame)
                    .collect();
                examined = rate::examined_area(
                    &mask,
                    cfg.detect_rate.examined_margin_px,
                    frame_size,
                    &boxes,
                );
            }
            if cfg.record_detected_frames {
                detected_pts_ms.push(frame.pts_ms);
            }
            d
        } else {
            stats.frames_gated_out += 1;
            Vec::new()
        };

        let t = Instant::now();
        let active = match tracker.update(frame.pts_ms, &detections) {
            Ok(a) => a,
            // Timestamps that go backwards (broken muxing): skip the frame, never crash.
            Err(_) => continue,
        };
        stats.times.track += t.elapsed();

        let t = Instant::now();
        for tr in active {
            let p = tr.last_point();
            if p.source != PointSource::Detection || p.pts_ms != frame.pts_ms {
                continue;
            }
            let fill = mask.fill_in(&p.bbox_in_frame, frame.width, frame.height);
            let (w, h) = (frame.width, frame.height);
            let is_object = |x: u32, y: u32| mask.at_frame(x, y, w, h);
            describer.observe(
                &Observation {
                    track_id: tr.id,
                    label: &tr.label,
                    bbox: &p.bbox_in_frame,
                    score: p.score,
                },
                frame,
                Some(ObjectMask {
                    is_object: &is_object,
                    fill,
                }),
            );
        }
        // Finished fragments wait for the offline linking pass at the end of the source
        // (their colour observations stay in the describer until then).
        finished.extend(tracker.drain_finished());
        stats.times.describe += t.elapsed();
        stats.frames_analysed += 1;
        if let std::ops::ControlFlow::Break(why) = on_frame(frame.pts_ms) {
            // Dropping the receiver stops the decoder thread at its next send.
            let _ = handle.join();
            return Err(PipelineError::Stopped {
                at_ms: frame.pts_ms,
                why,
            });
        }
    }
    let handle_fidelity = handle.fidelity;
    let decode = handle.join()?;
    finished.extend(tracker.finish());
    let t = Instant::now();
    let link = vigie_track::link::LinkConfig {
        frame_size: Some(frame_size),
        ..cfg.link.clone()
    };
    let linked =
        vigie_track::link::link_fragments(finished, &link, &|id| describer.colour_histogram(id));
    let mut tracks = Vec::with_capacity(linked.len());
    for l in linked {
        for other in &l.fragments[1..] {
            describer.merge(l.track.id, *other);
            stats.fragments_linked += 1;
        }
        tracks.push(l.track);
    }
    attach_riders(&mut tracks, &mut describer, &mut stats);
    for t in &tracks {
        if let Some(kept) = keep(t, &mut describer, &mut stats, frame_size) {
            descriptions.push(kept);
        }
    }
    stats.times.describe += t.elapsed();
    descriptions.sort_by_key(|(d, _)| (d.summary.first_pts_ms, d.summary.track_id));
    let (mut descriptions, tubes): (Vec<Description>, Vec<Tube>) = descriptions.into_iter().unzip();
    if handle_fidelity != Fidelity::Recorded {
        let t = Instant::now();
        let r = match on_thumbnail {
            Some(sink) => thumbnails::recut_thumbnails_into(
                &input.path,
                &cfg.decode,
                &mut descriptions,
                sink,
            )?,
            None => thumbnails::recut_thumbnails(&input.path, &cfg.decode, &mut descriptions)?,
        };
        stats.thumbnails_recut = r.recut;
        stats.thumbnails_dropped = r.dropped;
        stats.times.thumbnails = t.elapsed();
    } else if let Some(sink) = on_thumbnail {
        let t = Instant::now();
        thumbnails::hand_over(&mut descriptions, sink)?;
        stats.times.thumbnails = t.elapsed();
    }
    stats.times.total = started.elapsed();
    Ok(Analysis {
        descriptions,
        tubes,
        frame_size,
        decode,
        stats,
        duration_ms: last_pts,
        detected_pts_ms,
    })
}

/// The rider pass over a source's finished, linked tracks (`vigie_track::riders`): each
/// person riding a bicycle or motorcycle is folded into that vehicle (boxes united frame
/// by frame, so tubes, synopses and redaction cover the rider; the rider's upper and lower
/// colours added to the vehicle's description) and removed from `tracks`.
fn attach_riders(
    tracks: &mut Vec<FinishedTrack>,
    describer: &mut Describer,
    stats: &mut AnalysisStats,
) {
    use vigie_track::riders::{attach_rider, find_riders, RiderConfig};
    let matches = find_riders(tracks, &RiderConfig::default());
    if matches.is_empty() {
        return;
    }
    let mut riders = Vec::with_capacity(matches.len());
    for m in &matches {
        let Some(rider) = tracks.iter().position(|t| t.id == m.rider_id) else {
            continue;
        };
        riders.push(tracks.remove(rider));
        let rider = riders.last().expect("just pushed");
        if let Some(vehicle) = tracks.iter_mut().find(|t| t.id == m.vehicle_id) {
            attach_rider(vehicle, rider);
            describer.attach_rider(m.vehicle_id, m.rider_id);
            stats.riders_attached += 1;
        }
    }
}

/// Write a description's thumbnail as the JPEG `dir/name`; `false` (nothing written) when
/// it has none. The caller names the file: `vigie analyze` gives each analysis run names
/// of its own, so that a run which fails never overwrites what the index points at.
pub fn write_thumbnail(
    dir: &Path,
    name: &str,
    d: &Description,
    quality: u8,
) -> Result<bool, std::io::Error> {
    let Some(t) = &d.thumbnail else {
        return Ok(false);
    };
    std::fs::create_dir_all(dir)?;
    let file = std::fs::File::create(dir.join(name))?;
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), quality);
    enc.encode(&t.rgb, t.width, t.height, image::ExtendedColorType::Rgb8)
        .map_err(std::io::Error::other)?;
    Ok(true)
}
