//! Video synopsis: hours of activity condensed into minutes.
//!
//! Why: watching footage is what costs investigators days. A synopsis shows objects that
//! appeared at different times *simultaneously* over the empty scene, each labelled with
//! its real time and track id, and a JSON index plus a WebVTT track lead from any object
//! back to the original footage (source, track, original timestamps).
//!
//! The lifecycle is explicit, each step testable on its own:
//! 1. [`plan`]: from the tracks' boxes alone (no decoding), choose every tube's start in
//!    the synopsis ([`arrange`]) under a target length or a collision budget.
//! 2. [`build_backgrounds`]: temporal medians of frames sampled along the source, one per
//!    segment ([`background`]).
//! 3. [`extract`]: one decoding pass cuts every object out of its box with a foreground
//!    mask ([`mask`]) and spills the pixels to a scratch file (memory stays bounded).
//! 4. [`render`]: background of the matching time + blended objects + labels ([`font`]),
//!    encoded as H.264 MP4 ([`encode`]), with the figures ([`Figures`]).
//! 5. [`index_entries`], [`webvtt`]: where every tube came from.
//!
//! [`run`] chains them. Nothing here knows about cases or audit: the CLI logs the
//! combination and the disclosure.

#![forbid(unsafe_code)]

pub mod arrange;
pub mod background;
pub mod encode;
pub mod font;
pub mod mask;

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use vigie_core::{BBox, SamplingMode};
use vigie_decode::{DecodeConfig, DecodeError, Decoder, OutputSize};

use arrange::{ArrangeConfig, Arrangement, TubeShape};
use background::{BackgroundBuilder, BackgroundPlan, Backgrounds};
use mask::Rect;

#[derive(Debug, thiserror::Error)]
pub enum SynopsisError {
    #[error("invalid synopsis setting: {0}")]
    InvalidConfig(String),
    #[error("nothing to condense: no track selected (widen the filters, or run `vigie analyze` on this source first)")]
    NoTubes,
    #[error("no frame could be decoded to build the background; check the source with `vigie decode`: {}", .0.display())]
    NoBackground(PathBuf),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("no H.264 encoder in this FFmpeg build; install FFmpeg's libavcodec with libx264 (Debian: libavcodec-extra)")]
    NoEncoder,
    #[error("FFmpeg failed to {action} ({source}); check free space and that libx264 works: {}", .path.display())]
    Encode {
        action: &'static str,
        #[source]
        source: ffmpeg_next::Error,
        path: PathBuf,
    },
    #[error("the encoder thread stopped unexpectedly (this is a bug in vigie; please report it)")]
    EncoderPanicked,
    #[error("the output file already exists (choose another name; vigie never overwrites an output): {}", .0.display())]
    OutputExists(PathBuf),
    #[error("cannot read or write the synopsis scratch data ({0}); check free space in the case's derived directory")]
    Io(#[source] std::io::Error),
}

/// The source a synopsis is made from.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub source_id: String,
    pub path: PathBuf,
    pub stream_index: Option<usize>,
    /// Working resolution of the analysis (the tubes' boxes are in these pixels).
    pub frame_size: (u32, u32),
    pub duration_ms: i64,
    /// Frame rate of the synopsis (the source's).
    pub fps: f64,
    /// Wall-clock time of the source's first frame (after the clock correction in
    /// force), when known (labels show HH:MM:SS).
    pub start: Option<DateTime<FixedOffset>>,
    /// The place's time zone: labels and index times are shown in it, with the UTC
    /// offset of each moment (a daylight-saving change inside the source included).
    pub time_zone: Option<chrono_tz::Tz>,
}

/// One selected track and its per-frame boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct TubeInput {
    pub track_id: u64,
    pub label: String,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall_ms: Option<i64>,
    pub last_wall_ms: Option<i64>,
    /// (pts_ms, box in working pixels), time-ordered, at least one.
    pub boxes: Vec<(i64, BBox)>,
}

/// How to condense.
#[derive(Debug, Clone, PartialEq)]
pub struct SynopsisConfig {
    /// Target synopsis length; `None`: the shortest that keeps the box collision under
    /// `max_collision`.
    pub length_ms: Option<i64>,
    /// Collision budget (share of object area) for the automatic length.
    pub max_collision: f64,
    pub keep_order: bool,
    /// Background segments (each with its own median), ms; made longer for very long
    /// footage so at most 256 segments exist.
    pub background_segment_ms: i64,
    /// Frames sampled per background segment.
    pub background_samples: usize,
    /// Foreground threshold: sum of the absolute RGB differences to the background.
    pub fg_threshold: u16,
    /// Occupancy-grid cells per side.
    pub grid: usize,
}

impl Default for SynopsisConfig {
    fn default() -> Self {
        Self {
            length_ms: None,
            max_collision: 0.05,
            keep_order: false,
            background_segment_ms: 60_000,
            background_samples: 9,
            fg_threshold: 60,
            grid: 24,
        }
    }
}

impl SynopsisConfig {
    pub fn validate(&self) -> Result<(), SynopsisError> {
        let bad = |m: String| Err(SynopsisError::InvalidConfig(m));
        if let Some(l) = self.length_ms {
            if !(100..=86_400_000).contains(&l) {
                return bad(format!(
                    "invalid length {} s (expected 0.1 s to 24 h)",
                    l as f64 / 1000.0
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.max_collision) {
            return bad(format!(
                "invalid collision budget {} (expected 0 to 1)",
                self.max_collision
            ));
        }
        if !(1..=101).contains(&self.background_samples) {
            return bad(format!(
                "invalid background samples {} (expected 1 to 101)",
                self.background_samples
            ));
        }
        if self.background_segment_ms < 1_000 {
            return bad(format!(
                "invalid background segment {} ms (expected >= 1000)",
                self.background_segment_ms
            ));
        }
        if !(4..=128).contains(&self.grid) {
            return bad(format!("invalid grid {} (expected 4 to 128)", self.grid));
        }
        Ok(())
    }
}

fn validate_inputs(source: &SourceInput, tubes: &[TubeInput]) -> Result<(), SynopsisError> {
    if tubes.is_empty() {
        return Err(SynopsisError::NoTubes);
    }
    let (w, h) = source.frame_size;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(SynopsisError::InvalidConfig(format!(
            "invalid working size {w}x{h} (expected each side 16 to 8192; re-run `vigie analyze`)"
        )));
    }
    if !(source.fps.is_finite() && source.fps > 0.0) {
        return Err(SynopsisError::InvalidConfig(format!(
            "invalid frame rate {} (expected > 0)",
            source.fps
        )));
    }
    if let Some(t) = tubes.iter().find(|t| t.boxes.is_empty()) {
        return Err(SynopsisError::InvalidConfig(format!(
            "track {} has no boxes (re-run `vigie analyze --force` on this source)",
            t.track_id
        )));
    }
    Ok(())
}

/// Where every tube goes, before any pixel is decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub arrangement: Arrangement,
    pub slot_ms: i64,
}

fn shapes(tubes: &[TubeInput]) -> Vec<TubeShape> {
    tubes
        .iter()
        .map(|t| TubeShape {
            source_start_ms: t.boxes[0].0,
            boxes: t.boxes.clone(),
        })
        .collect()
}

/// Step 1: arrange the tubes (see [`arrange`]).
pub fn plan(
    source: &SourceInput,
    tubes: &[TubeInput],
    cfg: &SynopsisConfig,
) -> Result<Plan, SynopsisError> {
    cfg.validate()?;
    validate_inputs(source, tubes)?;
    // About 4000 slots over the source, never finer than 200 ms nor than a frame.
    let frame_ms = (1000.0 / source.fps).ceil() as i64;
    let slot_ms = (source.duration_ms / 4000).max(200).max(frame_ms);
    let acfg = ArrangeConfig {
        frame_size: source.frame_size,
        slot_ms,
        grid: cfg.grid,
        length_ms: cfg.length_ms.unwrap_or(slot_ms),
        keep_order: cfg.keep_order,
    };
    let shapes = shapes(tubes);
    let arrangement = match cfg.length_ms {
        Some(_) => arrange::arrange(&shapes, &acfg),
        None => arrange::arrange_auto(&shapes, &acfg, source.duration_ms, cfg.max_collision),
    }
    .map_err(SynopsisError::InvalidConfig)?;
    Ok(Plan {
        arrangement,
        slot_ms,
    })
}

fn open_decoder(source: &SourceInput, sampling: SamplingMode) -> Result<Decoder, SynopsisError> {
    let cfg = DecodeConfig {
        stream_index: source.stream_index,
        sampling,
        output_size: OutputSize::Exact {
            width: source.frame_size.0,
            height: source.frame_size.1,
        },
        convert_rgb: true,
        threads: 0,
        operator_start: None,
        // Used only for a stream timed from its frame rate (a raw stream).
        assumed_fps: Some(source.fps),
    };
    cfg.validate()?;
    Ok(Decoder::open(&source.path, &cfg)?)
}

/// Step 2: the per-segment median backgrounds. Sparse samples (long footage) are reached
/// by seeking; dense ones by one decoding pass that converts only the sampled frames.
pub fn build_backgrounds(
    source: &SourceInput,
    cfg: &SynopsisConfig,
) -> Result<Backgrounds, SynopsisError> {
    cfg.validate()?;
    let segment_ms = cfg
        .background_segment_ms
        .max(source.duration_ms.max(1) / 256);
    let plan = BackgroundPlan::new(source.duration_ms, segment_ms, cfg.background_samples);
    let (w, h) = source.frame_size;
    let mut builder = BackgroundBuilder::new(plan.clone(), w, h);
    let interval_ms = plan.segment_ms / plan.samples_per_segment as i64;
    if interval_ms >= 4_000 {
        let mut dec = open_decoder(source, SamplingMode::All)?;
        for t in plan.sample_times_ms() {
            if let Some(f) = dec.frame_at(t)? {
                builder.push(t, f.data);
            }
        }
    } else {
        let fps = 1000.0 / interval_ms.max(1) as f64;
        let mut dec = open_decoder(source, SamplingMode::TargetFps { fps })?;
        while let Some(f) = dec.next_frame()? {
            builder.push(f.pts_ms, f.data);
        }
    }
    builder
        .finish()
        .ok_or_else(|| SynopsisError::NoBackground(source.path.clone()))
}

/// One cut-out object in one source frame, stored in the scratch file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patch {
    pub pts_ms: i64,
    pub rect: Rect,
    /// Byte offset of `rect.w * rect.h` RGBA pixels (alpha 0 or 255) in the scratch file.
    pub offset: u64,
}

/// Every tube's cut-out objects (step 3's result).
pub struct Cutouts {
    scratch: File,
    /// Per tube (input order), time-ordered.
    pub patches: Vec<Vec<Patch>>,
    /// Boxes where the mask was nearly empty and the whole box was kept.
    pub whole_boxes: u64,
    pub frames_decoded: u64,
    pub decode_s: f64,
    pub extract_s: f64,
}

impl Cutouts {
    fn read(&self, p: &Patch, buf: &mut Vec<u8>) -> Result<(), SynopsisError> {
        buf.resize(p.rect.area() * 4, 0);
        self.scratch
            .read_exact_at(buf, p.offset)
            .map_err(SynopsisError::Io)
    }
}

/// Gaps between selected objects longer than this are skipped by seeking.
const SEEK_GAP_MS: i64 = 10_000;

/// The time spans (ms) where at least one tube has a box, merged across gaps up to
/// `gap_ms`, sorted.
pub fn activity_spans(tubes: &[TubeInput], gap_ms: i64) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = tubes
        .iter()
        .filter_map(|t| Some((t.boxes.first()?.0, t.boxes.last()?.0)))
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a - last.1 <= gap_ms => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Step 3: decode the source once and cut every tube's object out of each of its boxes.
/// Pixels go to an anonymous scratch file in `scratch_dir` (deleted when dropped).
pub fn extract(
    source: &SourceInput,
    tubes: &[TubeInput],
    backgrounds: &Backgrounds,
    cfg: &SynopsisConfig,
    scratch_dir: &Path,
) -> Result<Cutouts, SynopsisError> {
    validate_inputs(source, tubes)?;
    let t0 = Instant::now();
    let (w, h) = source.frame_size;
    let mut wanted: HashMap<i64, Vec<(usize, BBox)>> = HashMap::new();
    let mut last_pts = i64::MIN;
    for (i, t) in tubes.iter().enumerate() {
        for (pts, b) in &t.boxes {
            wanted.entry(*pts).or_default().push((i, *b));
            last_pts = last_pts.max(*pts);
        }
    }
    let scratch = tempfile::tempfile_in(scratch_dir).map_err(SynopsisError::Io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &scratch);
    let mut offset = 0u64;
    let mut patches: Vec<Vec<Patch>> = vec![Vec::new(); tubes.len()];
    let mut whole_boxes = 0u64;
    let mut frames = 0u64;
    let mut decode_s = 0.0;
    let mut dec = open_decoder(source, SamplingMode::All)?;
    let mut rgba = Vec::new();
    let spans = activity_spans(tubes, SEEK_GAP_MS);
    let mut span = 0usize;
    let mut pos_ms = 0i64;
    loop {
        let td = Instant::now();
        // Long stretches without any selected object are skipped by seeking (sparse
        // footage, filtered synopses); the decoder lands on the keyframe before.
        while span < spans.len() && spans[span].1 < pos_ms {
            span += 1;
        }
        let next = if span < spans.len() && spans[span].0 - pos_ms > SEEK_GAP_MS {
            let at = spans[span].0;
            dec.frame_at(at)?
        } else {
            dec.next_frame()?
        };
        let Some(frame) = next else {
            break;
        };
        decode_s += td.elapsed().as_secs_f64();
        pos_ms = frame.pts_ms;
        frames += 1;
        if let Some(list) = wanted.get(&frame.pts_ms) {
            let bg = backgrounds.at(frame.pts_ms);
            for (i, b) in list {
                let Some(r) = Rect::clamp(b, w, h) else {
                    continue;
                };
                let (m, whole) = mask::object_mask(&frame.data, bg, w, r, cfg.fg_threshold);
                whole_boxes += u64::from(whole);
                rgba.clear();
                for y in 0..r.h as usize {
                    let row = ((r.y as usize + y) * w as usize + r.x as usize) * 3;
                    for x in 0..r.w as usize {
                        let px = &frame.data[row + x * 3..row + x * 3 + 3];
                        rgba.extend_from_slice(px);
                        rgba.push(if m[y * r.w as usize + x] { 255 } else { 0 });
                    }
                }
                out.write_all(&rgba).map_err(SynopsisError::Io)?;
                patches[*i].push(Patch {
                    pts_ms: frame.pts_ms,
                    rect: r,
                    offset,
                });
                offset += rgba.len() as u64;
            }
        }
        if frame.pts_ms >= last_pts {
            break;
        }
    }
    out.flush().map_err(SynopsisError::Io)?;
    drop(out);
    // Frames the decoder decoded, including those it decoded to reach a seek target.
    let frames = frames.max(dec.report().frames_decoded);
    Ok(Cutouts {
        scratch,
        patches,
        whole_boxes,
        frames_decoded: frames,
        decode_s,
        extract_s: t0.elapsed().as_secs_f64(),
    })
}

/// Where one tube is shown in the synopsis (frame indices, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub first_frame: u64,
    pub last_frame: u64,
}

fn shown(plan: &Plan, tubes: &[TubeInput], fps: f64) -> Vec<Shown> {
    tubes
        .iter()
        .zip(&plan.arrangement.starts_ms)
        .map(|(t, &s)| {
            let dur = t.boxes.last().map(|b| b.0).unwrap_or(0) - t.boxes[0].0;
            let first = (s as f64 * fps / 1000.0).ceil() as u64;
            let last = (((s + dur) as f64 * fps / 1000.0).floor() as u64).max(first);
            Shown {
                first_frame: first,
                last_frame: last,
            }
        })
        .collect()
}

/// The measured figures of one synopsis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub source_duration_ms: i64,
    pub synopsis_duration_ms: i64,
    /// Source duration / synopsis duration.
    pub condensation: f64,
    /// Share of rendered object pixels that overlap another object's (0..1).
    pub collision_rate: f64,
    /// The arrangement's box-footprint proxy of the same (0..1).
    pub box_collision: f64,
    pub objects_selected: usize,
    pub objects_shown: usize,
    /// Boxes shown whole because the object had merged into the background.
    pub whole_boxes: u64,
    pub frames: u64,
    pub fps: f64,
    /// Source frames per second of decoding alone (in the cut-out pass).
    pub decode_fps: f64,
    /// Synopsis frames per second of composing + encoding.
    pub render_fps: f64,
    /// Seconds the cut-out pass spent in the decoder (long empty stretches are skipped).
    pub decode_s: f64,
    /// `render_s` over the time decoding the whole source takes at `decode_fps`: at most 1
    /// when rendering the synopsis takes no longer than decoding the source.
    pub render_vs_decode: f64,
    /// Seconds per step.
    pub background_s: f64,
    pub extract_s: f64,
    pub render_s: f64,
    /// Of `render_s`, seconds spent waiting for the H.264 encoder.
    pub encode_s: f64,
}

fn label_time(source: &SourceInput, pts_ms: i64) -> String {
    match (source.start, source.time_zone) {
        (Some(start), Some(zone)) => (start + chrono::Duration::milliseconds(pts_ms))
            .with_timezone(&zone)
            .format("%H:%M:%S")
            .to_string(),
        (Some(start), None) => {
            let t = start + chrono::Duration::milliseconds(pts_ms);
            t.format("%H:%M:%S").to_string()
        }
        (None, _) => format!("{:.1}s", pts_ms as f64 / 1000.0),
    }
}

/// Where a label goes: above its object, else below, else inside its top edge, the first
/// of those that does not cover an already placed label (above when all do), kept inside
/// the frame.
fn place_label(
    r: Rect,
    (tw, th): (u32, u32),
    (w, h): (u32, u32),
    placed: &[(i32, i32, i32, i32)],
) -> (i32, i32) {
    let (tw, th) = (tw as i32, th as i32);
    let x = (r.x as i32 + 1).min(w as i32 - tw - 2).max(1);
    let clamp_y = |y: i32| y.min(h as i32 - th - 2).max(1);
    let candidates = [
        clamp_y(r.y as i32 - th - 2),
        clamp_y((r.y + r.h) as i32 + 2),
        clamp_y(r.y as i32 + 2),
    ];
    let free = |y: i32| {
        placed.iter().all(|&(px, py, pw, ph)| {
            x + tw + 2 <= px || px + pw + 2 <= x || y + th + 2 <= py || py + ph + 2 <= y
        })
    };
    let y = candidates
        .iter()
        .copied()
        .find(|&y| free(y))
        .unwrap_or(candidates[0]);
    (x, y)
}

/// What rendering produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub frames: u64,
    pub shown: Vec<Shown>,
    pub objects_shown: usize,
    pub collision_rate: f64,
    pub render_s: f64,
    /// Of which waiting for the encoder thread.
    pub encode_s: f64,
}

/// Step 4: compose and encode the synopsis into `output` (refused if it exists).
pub fn render(
    source: &SourceInput,
    tubes: &[TubeInput],
    plan: &Plan,
    backgrounds: &Backgrounds,
    cutouts: &Cutouts,
    output: &Path,
) -> Result<Rendered, SynopsisError> {
    validate_inputs(source, tubes)?;
    let t0 = Instant::now();
    let (w, h) = source.frame_size;
    let fps = source.fps;
    let shown = shown(plan, tubes, fps);
    let frames = shown.iter().map(|s| s.last_frame + 1).max().unwrap_or(1);
    let length_ms = ((frames as f64 * 1000.0 / fps) as i64).max(1);
    let mut writer = encode::WriterThread::spawn(output, w, h, fps)?;
    let n = (w * h) as usize;
    let mut img = vec![0u8; n * 3];
    let mut sum = vec![0u16; n * 3];
    let mut count = vec![0u8; n];
    let mut patch = Vec::new();
    let mut was_shown = vec![false; tubes.len()];
    let (mut obj_px, mut overlap_px) = (0u64, 0u64);
    let mut encode_s = 0.0;
    // 5x7 labels at working resolutions up to 960 px wide, doubled above.
    let scale = if w > 960 { 2 } else { 1 };
    // Tubes by first frame; the active set is small.
    let mut by_start: Vec<usize> = (0..tubes.len()).collect();
    by_start.sort_by_key(|&i| shown[i].first_frame);
    let mut next = 0;
    let mut active: Vec<usize> = Vec::new();
    for f in 0..frames {
        while next < by_start.len() && shown[by_start[next]].first_frame <= f {
            active.push(by_start[next]);
            next += 1;
        }
        active.retain(|&i| shown[i].last_frame >= f);
        let t_ms = (f as f64 * 1000.0 / fps) as i64;
        let src_ms = (t_ms as i128 * source.duration_ms as i128 / length_ms as i128) as i64;
        backgrounds.blended_into(src_ms, &mut img);
        sum.fill(0);
        count.fill(0);
        let mut labels = Vec::new();
        for &i in &active {
            let ps = &cutouts.patches[i];
            if ps.is_empty() {
                continue;
            }
            let start = plan.arrangement.starts_ms[i];
            let want = tubes[i].boxes[0].0 + (t_ms - start).max(0);
            let k = ps.partition_point(|p| p.pts_ms <= want).saturating_sub(1);
            let p = ps[k];
            cutouts.read(&p, &mut patch)?;
            let r = p.rect;
            for y in 0..r.h as usize {
                for x in 0..r.w as usize {
                    let q = (y * r.w as usize + x) * 4;
                    if patch[q + 3] == 0 {
                        continue;
                    }
                    let j = (r.y as usize + y) * w as usize + r.x as usize + x;
                    count[j] = count[j].saturating_add(1);
                    for c in 0..3 {
                        sum[j * 3 + c] += u16::from(patch[q + c]);
                    }
                }
            }
            was_shown[i] = true;
            labels.push((
                r,
                format!("{} #{}", label_time(source, p.pts_ms), tubes[i].track_id),
            ));
        }
        for (j, &c) in count.iter().enumerate() {
            if c > 0 {
                obj_px += u64::from(c);
                if c > 1 {
                    overlap_px += u64::from(c);
                }
                for ch in 0..3 {
                    img[j * 3 + ch] = (sum[j * 3 + ch] / u16::from(c)) as u8;
                }
            }
        }
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::with_capacity(labels.len());
        for (r, text) in &labels {
            let (tw, th) = font::text_size(text, scale);
            let xy = place_label(*r, (tw, th), (w, h), &placed);
            placed.push((xy.0, xy.1, tw as i32, th as i32));
            font::draw_text(&mut img, w, h, xy.0, xy.1, text, scale);
        }
        let te = Instant::now();
        writer.push(img.clone())?;
        encode_s += te.elapsed().as_secs_f64();
    }
    let te = Instant::now();
    let written = writer.finish()?;
    encode_s += te.elapsed().as_secs_f64();
    Ok(Rendered {
        frames: written,
        shown,
        objects_shown: was_shown.iter().filter(|&&s| s).count(),
        collision_rate: if obj_px > 0 {
            overlap_px as f64 / obj_px as f64
        } else {
            0.0
        },
        render_s: t0.elapsed().as_secs_f64(),
        encode_s,
    })
}

/// One tube in the synopsis index: where it came from and where it is shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexEntry {
    pub track_id: u64,
    pub label: String,
    pub source_id: String,
    pub source_path: PathBuf,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall: Option<String>,
    pub last_wall: Option<String>,
    pub synopsis_start_ms: i64,
    pub synopsis_end_ms: i64,
    pub first_frame: u64,
    pub last_frame: u64,
}

fn rfc3339(
    ms: Option<i64>,
    start: Option<DateTime<FixedOffset>>,
    zone: Option<chrono_tz::Tz>,
) -> Option<String> {
    let t = DateTime::from_timestamp_millis(ms?)?;
    Some(match (zone, start) {
        (Some(z), _) => t.with_timezone(&z).to_rfc3339(),
        (None, Some(s)) => t.with_timezone(s.offset()).to_rfc3339(),
        (None, None) => t.to_rfc3339(),
    })
}

/// Step 5a: the index entries, one per tube (input order).
pub fn index_entries(source: &SourceInput, tubes: &[TubeInput], r: &Rendered) -> Vec<IndexEntry> {
    let ms = |f: u64| (f as f64 * 1000.0 / source.fps).round() as i64;
    tubes
        .iter()
        .zip(&r.shown)
        .map(|(t, s)| IndexEntry {
            track_id: t.track_id,
            label: t.label.clone(),
            source_id: source.source_id.clone(),
            source_path: source.path.clone(),
            first_pts_ms: t.first_pts_ms,
            last_pts_ms: t.last_pts_ms,
            first_wall: rfc3339(t.first_wall_ms, source.start, source.time_zone),
            last_wall: rfc3339(t.last_wall_ms, source.start, source.time_zone),
            synopsis_start_ms: ms(s.first_frame),
            synopsis_end_ms: ms(s.last_frame + 1),
            first_frame: s.first_frame,
            last_frame: s.last_frame,
        })
        .collect()
}

fn vtt_time(ms: i64) -> String {
    let ms = ms.max(0);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Step 5b: a WebVTT track, one cue per tube while it is shown, naming the source file,
/// the track and its original times (for click-through in a player).
pub fn webvtt(entries: &[IndexEntry]) -> String {
    let mut order: Vec<&IndexEntry> = entries.iter().collect();
    order.sort_by_key(|e| (e.synopsis_start_ms, e.track_id));
    let mut s = String::from("WEBVTT - vigie synopsis\n\n");
    for e in order {
        let when = match (&e.first_wall, &e.last_wall) {
            (Some(a), Some(b)) => format!("{a} .. {b}"),
            _ => format!(
                "{:.3} s .. {:.3} s",
                e.first_pts_ms as f64 / 1000.0,
                e.last_pts_ms as f64 / 1000.0
            ),
        };
        s.push_str(&format!(
            "{}#{}\n{} --> {}\n#{} {} | {} | source {} ({:.3}-{:.3} s) | {}\n\n",
            e.source_id,
            e.track_id,
            vtt_time(e.synopsis_start_ms),
            vtt_time(e.synopsis_end_ms),
            e.track_id,
            e.label,
            when,
            e.source_id,
            e.first_pts_ms as f64 / 1000.0,
            e.last_pts_ms as f64 / 1000.0,
            e.source_path.display(),
        ));
    }
    s
}

/// A finished synopsis.
#[derive(Debug, Clone)]
pub struct Synopsis {
    pub figures: Figures,
    pub entries: Vec<IndexEntry>,
}

/// All steps: plan, backgrounds, extraction, rendering into `output`.
pub fn run(
    source: &SourceInput,
    tubes: &[TubeInput],
    cfg: &SynopsisConfig,
    output: &Path,
    scratch_dir: &Path,
) -> Result<Synopsis, SynopsisError> {
    if output.exists() {
        return Err(SynopsisError::OutputExists(output.to_path_buf()));
    }
    let plan = plan(source, tubes, cfg)?;
    let t = Instant::now();
    let bgs = build_backgrounds(source, cfg)?;
    let background_s = t.elapsed().as_secs_f64();
    let cut = extract(source, tubes, &bgs, cfg, scratch_dir)?;
    let r = render(source, tubes, &plan, &bgs, &cut, output)?;
    let synopsis_ms = (r.frames as f64 * 1000.0 / source.fps).round() as i64;
    let figures = Figures {
        source_duration_ms: source.duration_ms,
        synopsis_duration_ms: synopsis_ms,
        condensation: source.duration_ms as f64 / synopsis_ms.max(1) as f64,
        collision_rate: r.collision_rate,
        box_collision: plan.arrangement.box_collision,
        objects_selected: tubes.len(),
        objects_shown: r.objects_shown,
        whole_boxes: cut.whole_boxes,
        frames: r.frames,
        fps: source.fps,
        decode_fps: cut.frames_decoded as f64 / cut.decode_s.max(1e-9),
        render_fps: r.frames as f64 / r.render_s.max(1e-9),
        decode_s: cut.decode_s,
        // Against decoding the whole source at the measured rate (the cut-out pass skips
        // long empty stretches, so its own decoding time can be shorter).
        render_vs_decode: r.render_s
            / (source.duration_ms as f64 / 1000.0 * source.fps
                / (cut.frames_decoded as f64 / cut.decode_s.max(1e-9)))
            .max(1e-9),
        background_s,
        extract_s: cut.extract_s,
        render_s: r.render_s,
        encode_s: r.encode_s,
    };
    Ok(Synopsis {
        entries: index_entries(source, tubes, &r),
        figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_avoid_each_other_and_stay_in_the_frame() {
        let r = Rect {
            x: 100,
            y: 50,
            w: 30,
            h: 60,
        };
        let first = place_label(r, (60, 7), (640, 360), &[]);
        assert_eq!(first, (101, 41));
        // The same place is taken: the label goes below the object.
        let second = place_label(r, (60, 7), (640, 360), &[(first.0, first.1, 60, 7)]);
        assert_eq!(second, (101, 112));
        // At the top-right corner: moved inside the frame.
        let corner = Rect {
            x: 630,
            y: 0,
            w: 10,
            h: 10,
        };
        let (x, y) = place_label(corner, (60, 7), (640, 360), &[]);
        assert!(x + 60 <= 640 && y >= 1, "{x},{y}");
    }

    #[test]
    fn activity_spans_merge_short_gaps() {
        let t = |a: i64, b: i64| TubeInput {
            track_id: 0,
            label: String::new(),
            first_pts_ms: a,
            last_pts_ms: b,
            first_wall_ms: None,
            last_wall_ms: None,
            boxes: vec![(a, BBox::default()), (b, BBox::default())],
        };
        let spans = activity_spans(&[t(50_000, 60_000), t(0, 1_000), t(5_000, 8_000)], 10_000);
        assert_eq!(spans, vec![(0, 8_000), (50_000, 60_000)]);
    }
}
