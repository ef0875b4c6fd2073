//! `vigie eval detect --video V --gt GT`: the detector alone scored, frame by frame,
//! against MOTChallenge ground truth (persons), and which model an evaluation scored.
//!
//! Why: the street frames (`eval detect DIR`, Pascal VOC) label no person, and the
//! persons' recall matters as much as the vehicles' for reading a search that found
//! nothing. The MOT sequences label every person on every frame, so they give the
//! detector's per-frame recall and precision on persons with the same matching as the
//! VOC folders (`vigie_detect::eval`). Every frame is decoded at its native size (frame
//! n of the video, counted from 0, is ground-truth frame n + 1), and goes to the
//! detector alone: no motion gate, no tracker.

use std::path::Path;
use std::time::Instant;

use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_detect::eval::{person_from_mot, Evaluator, GroundTruth};
use vigie_detect::CCTV_CLASSES;
use vigie_track::eval::read_mot;

use crate::bench::{DetectEval, DetectorParams};
use crate::error::AppError;
use crate::measure::Measurement;

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

/// A model's manifest id and SHA-256 (hex), as evaluations report it.
pub fn model_ref(model: vigie_policy::AllowedModelId) -> (&'static str, String) {
    let spec = model.spec();
    (spec.id, spec.sha256_hex())
}

/// Score NanoDet on every frame of a declared `video` against its declared MOTChallenge
/// ground truth `gt` (persons) at `iou`.
pub fn eval_detect_video(
    m: &Measurement,
    params: &DetectorParams,
    video: &Path,
    gt: &Path,
    iou: f32,
) -> Result<DetectEval, AppError> {
    if !(iou > 0.0 && iou <= 1.0) {
        return Err(bad(format!("invalid --iou {iou} (expected > 0 and <= 1)")));
    }
    m.check(video)?;
    m.check(gt)?;
    let truth = read_mot(gt).map_err(|e| {
        let mut s = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(c) = cur {
            s += &format!(": {c}");
            cur = c.source();
        }
        bad(s)
    })?;
    let config = params.config(None, 0, 0)?;
    let kept: Vec<String> = if config.classes.is_empty() {
        CCTV_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        config.classes.clone()
    };
    // MOT ground truth labels persons only: other classes are not scored (counting every
    // car as a false positive would say nothing about the detector).
    let (classes, unannotated): (Vec<String>, Vec<String>) =
        kept.into_iter().partition(|c| c == "person");
    if classes.is_empty() {
        return Err(bad(
            "MOTChallenge ground truth labels persons only: keep `person` in --classes",
        ));
    }
    vigie_decode::init();
    let cfg = DecodeConfig {
        output_size: OutputSize::Native,
        ..DecodeConfig::default()
    };
    cfg.validate()?;
    let mut dec = Decoder::open(video, &cfg)?;
    // Built for the first frame's size: the model is chosen by the frames' shape.
    let mut det: Option<vigie_detect::Detector> = None;
    let mut models = Vec::new();
    let mut ev = Evaluator::new(iou, &classes);
    let t = Instant::now();
    let mut infer_s = 0.0;
    let mut ridden_kept = 0u64;
    let mut n: i64 = 0;
    while let Some(frame) = dec.next_frame()? {
        n += 1;
        let gts: Vec<GroundTruth> = truth
            .frames
            .get(&n)
            .into_iter()
            .flatten()
            .filter_map(|b| person_from_mot(b.x, b.y, b.w, b.h, b.conf, frame.width, frame.height))
            .collect();
        let d = match &mut det {
            Some(d) => d,
            None => det.insert(m.nanodet(params.config(None, frame.width, frame.height)?)?),
        };
        crate::bench::count_model(&mut models, d.config().model);
        let ti = Instant::now();
        let dets = d.detect(&frame)?;
        infer_s += ti.elapsed().as_secs_f64();
        ridden_kept += dets.iter().filter(|d| d.rider_score.is_some()).count() as u64;
        ev.add(&dets, &gts);
    }
    if n == 0 {
        return Err(bad(format!(
            "no frame could be decoded from {}",
            video.display()
        )));
    }
    // Ground truth past the last decoded frame would silently go unscored.
    if let Some(last) = truth.frames.keys().next_back().filter(|l| **l > n) {
        return Err(bad(format!(
            "the ground truth has frame {last} but the video has {n} frames (frame n of the video is ground-truth frame n + 1): is it this video's ground truth? {}",
            gt.display()
        )));
    }
    Ok(DetectEval {
        images: ev.images,
        total: ev.total(),
        per_class: ev.counts,
        not_annotated: unannotated,
        models,
        ridden_kept,
        detect_seconds: infer_s,
        seconds: t.elapsed().as_secs_f64(),
    })
}
