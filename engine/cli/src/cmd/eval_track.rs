//! `vigie eval track --video V --gt GT`: vigie's own detector + tracker scored against
//! MOTChallenge ground truth (MOTA, IDF1, HOTA), on every frame of the sequence.
//!
//! This is how the README's tracking figures on TUD-Campus and TUD-Stadtmitte are made:
//! the same decoder, detector and tracker as `vigie analyze`, without the motion gate
//! (MOT ground truth counts every frame), persons only.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_track::eval::{evaluate, read_mot, EvalConfig};
use vigie_track::mot::{track_frames, tracks_to_mot, FrameClock};
use vigie_track::TrackerConfig;

use super::analyze::DetectorChoice;
use crate::output::{print_json, Outcome};

/// A per-frame detector as a closure (NanoDet or the motion detector).
type FrameDetector =
    Box<dyn FnMut(&vigie_core::RgbFrame) -> anyhow::Result<Vec<vigie_core::Detection>>>;
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sequence as a video file (frame n of the video = ground-truth frame n + 1).
    #[arg(long)]
    pub video: PathBuf,
    /// MOTChallenge ground truth (`gt/gt.txt`).
    #[arg(long)]
    pub gt: PathBuf,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// Minimum detector score kept (low-score boxes feed ByteTrack's second stage).
    #[arg(long, default_value_t = 0.1)]
    pub min_score: f32,
    /// Write vigie's MOTChallenge output here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also count the tracker's predictions inside a track's span (gap filling).
    #[arg(long)]
    pub fill_gaps: bool,
    /// Tracker: first-stage (high) score threshold.
    #[arg(long)]
    pub high_score: Option<f32>,
    /// Tracker: minimum score to start a new track.
    #[arg(long)]
    pub new_track_score: Option<f32>,
    /// Tracker: how long a lost track is kept, ms.
    #[arg(long)]
    pub track_buffer_ms: Option<i64>,
}

pub fn run(a: Args, global: &Global) -> anyhow::Result<Outcome> {
    let gt = read_mot(&a.gt)?;
    let meta = vigie_decode::probe(&a.video, None, None)?;
    let fps = meta.fps.unwrap_or(25.0);
    let clock = FrameClock::new(1000.0 / fps);
    let root = vigie_case::DataRoot::from_env();
    let alerts =
        vigie_audit::AuditAlertSink::new(root.machine_log(vigie_case::clock_from_env()?)?, None);
    let mut detector: FrameDetector = match a.detector {
        DetectorChoice::Nanodet => {
            let cfg = vigie_detect::DetectorConfig {
                classes: vec!["person".into()],
                score_threshold: a.min_score.clamp(0.01, 0.99),
                ..Default::default()
            };
            let mut d = vigie_detect::Detector::new(cfg, &alerts)?;
            Box::new(move |f| Ok(d.detect(f)?.into_iter().map(Into::into).collect()))
        }
        DetectorChoice::Motion => {
            let mut m = vigie_motion::MotionDetector::new(vigie_motion::MotionConfig::default())?;
            Box::new(move |f| Ok(m.detect(f).0))
        }
    };
    let cfg = DecodeConfig {
        output_size: OutputSize::Native,
        ..Default::default()
    };
    let mut dec = Decoder::open(&a.video, &cfg)?;
    let t0 = Instant::now();
    let mut frames = Vec::new();
    let mut n = 0i64;
    while let Some(f) = dec.next_frame()? {
        n += 1;
        frames.push((
            n,
            detector(&f).with_context(|| format!("detector failed on frame {n}"))?,
        ));
    }
    if frames.is_empty() {
        bail!("no frame could be decoded from {}", a.video.display());
    }
    let detect_s = t0.elapsed().as_secs_f64();
    let mut tcfg = TrackerConfig {
        frame_interval_ms: 1000.0 / fps,
        ..Default::default()
    };
    if let Some(v) = a.high_score {
        tcfg.high_score_min = v;
    }
    if let Some(v) = a.new_track_score {
        tcfg.new_track_score_min = v;
    }
    if let Some(v) = a.track_buffer_ms {
        tcfg.track_buffer_ms = v;
    }
    let tracks = track_frames(&frames, tcfg, clock)?;
    let hyp = tracks_to_mot(&tracks, clock, a.fill_gaps);
    if let Some(out) = &a.out {
        let f = std::fs::File::create(out)
            .with_context(|| format!("cannot write {}", out.display()))?;
        hyp.write(std::io::BufWriter::new(f))?;
    }
    let m = evaluate(&gt, &hyp, &EvalConfig::default());
    if global.json {
        print_json(&json!({
            "video": a.video, "gt": a.gt, "detector": format!("{:?}", a.detector).to_lowercase(),
            "frames": n, "detect_seconds": detect_s, "metrics": m,
        }))?;
    } else {
        println!(
            "{}: {} frames, detector {:?} ({:.1} ms/frame)",
            a.video.display(),
            n,
            a.detector,
            detect_s * 1000.0 / n as f64
        );
        println!(
            "MOTA {:.4}  IDF1 {:.4}  HOTA {:.4}  MOTP {:.4}  FP {}  FN {}  IDSW {}  precision {:.3}  recall {:.3}",
            m.mota, m.idf1, m.hota.hota, m.motp, m.num_false_positives, m.num_misses, m.num_switches,
            m.precision, m.recall
        );
    }
    Ok(Outcome::Success)
}
