//! `vigie eval mot --gt GT.txt --hyp HYP.txt`: CLEAR-MOT, IDF1 and HOTA of tracker output
//! (or `--det DET.txt`: run vigie's tracker over MOTChallenge detections, then score it).
//!
//! It reads MOTChallenge text files, not footage, so it needs no case and writes no audit
//! entry. The scoring rules are `motmetrics`' for CLEAR-MOT and IDF1 and TrackEval's for
//! HOTA (see `vigie_track::eval`), so the figures can be compared with published ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::json;
use vigie_track::eval::{evaluate, read_mot, EvalConfig, MotFile, MotMetrics};
use vigie_track::mot::{parse_detections, track_frames, tracks_to_mot, FrameClock};
use vigie_track::TrackerConfig;

use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["hyp", "det"])))]
pub struct Args {
    /// Ground truth in MOTChallenge format (`gt/gt.txt`: frame,id,x,y,w,h,conf,...).
    #[arg(long)]
    pub gt: PathBuf,
    /// Tracker output in MOTChallenge format (frame,id,x,y,w,h,conf,...).
    #[arg(long)]
    pub hyp: Option<PathBuf>,
    /// Instead of --hyp: detections in MOTChallenge format (frame,-1,x,y,w,h,score,...),
    /// tracked here with vigie's tracker (default settings), then scored.
    #[arg(long)]
    pub det: Option<PathBuf>,
    /// With --det: frame rate of the sequence (seqinfo.ini `frameRate`).
    #[arg(long, default_value_t = 25.0, requires = "det")]
    pub fps: f64,
    /// With --det: also report the Kalman predictions that fill a track's gaps.
    #[arg(long, requires = "det")]
    pub fill_gaps: bool,
    /// With --det: write the tracks in MOTChallenge format to this new file (never
    /// overwritten).
    #[arg(long, requires = "det")]
    pub write_hyp: Option<PathBuf>,
    /// Minimum IoU for a ground-truth box and a hypothesis to match (motmetrics: distance
    /// 1 - IoU at most 0.5).
    #[arg(long, default_value_t = 0.5)]
    pub iou: f64,
    /// Ground-truth rows whose confidence column is below this are dropped (MOT15 marks
    /// rows to ignore with 0).
    #[arg(long, default_value_t = 1.0)]
    pub gt_conf_min: f64,
}

/// Track a detection file with the default tracker, optionally writing the result.
fn track_detections(det: &Path, args: &Args) -> anyhow::Result<MotFile> {
    if !(args.fps.is_finite() && args.fps > 0.1 && args.fps <= 1000.0) {
        bail!("invalid --fps {} (expected > 0.1 and <= 1000)", args.fps);
    }
    let text = std::fs::read_to_string(det).with_context(|| {
        format!(
            "cannot read the detections (--det; check the path): {}",
            det.display()
        )
    })?;
    let frames = parse_detections(&text, "person")
        .with_context(|| format!("invalid detection file (--det): {}", det.display()))?;
    let clock = FrameClock::new(1000.0 / args.fps);
    let cfg = TrackerConfig {
        frame_interval_ms: clock.frame_interval_ms,
        ..TrackerConfig::default()
    };
    let tracks = track_frames(&frames, cfg, clock)?;
    let hyp = tracks_to_mot(&tracks, clock, args.fill_gaps);
    if let Some(out) = &args.write_hyp {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(out)
            .with_context(|| {
                format!(
                    "cannot create --write-hyp (it must not exist yet: choose a new path): {}",
                    out.display()
                )
            })?;
        let mut w = std::io::BufWriter::new(file);
        hyp.write(&mut w)
            .and_then(|_| w.flush())
            .with_context(|| format!("cannot write the tracks: {}", out.display()))?;
    }
    Ok(hyp)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if !(args.iou > 0.0 && args.iou <= 1.0) {
        bail!("invalid --iou {} (expected > 0 and <= 1)", args.iou);
    }
    if !args.gt_conf_min.is_finite() {
        bail!(
            "invalid --gt-conf-min {} (expected a finite number, usually 1)",
            args.gt_conf_min
        );
    }
    let gt = read_mot(&args.gt).context("cannot use the ground truth (--gt)")?;
    if gt.rows() == 0 {
        bail!(
            "the ground truth has no rows: pass a MOTChallenge gt.txt with --gt: {}",
            args.gt.display()
        );
    }
    let hyp = match (&args.hyp, &args.det) {
        (Some(h), _) => read_mot(h).context("cannot use the tracker output (--hyp)")?,
        (None, Some(d)) => track_detections(d, &args)?,
        (None, None) => bail!("pass the tracker output with --hyp, or detections with --det"),
    };
    let cfg = EvalConfig {
        iou_distance_max: 1.0 - args.iou,
        gt_conf_min: args.gt_conf_min,
    };
    let m = evaluate(&gt, &hyp, &cfg);
    if global.json {
        print_json(&json!({
            "gt": args.gt,
            "hyp": args.hyp,
            "det": args.det,
            "iou_min": args.iou,
            "gt_conf_min": args.gt_conf_min,
            "metrics": m,
        }))?;
    } else {
        print!("{}", describe(&m));
    }
    Ok(Outcome::Success)
}

/// The scores as text, one group a line.
pub fn describe(m: &MotMetrics) -> String {
    let pct = |v: f64| format!("{:.2} %", 100.0 * v);
    let mut s = String::new();
    s += &format!("MOTA       {}\n", pct(m.mota));
    s += &format!(
        "MOTP       {:.4} (mean 1 - IoU of matched boxes; mean IoU {:.4})\n",
        m.motp,
        1.0 - m.motp
    );
    s += &format!(
        "IDF1       {} (IDP {}, IDR {}; IDTP {}, IDFP {}, IDFN {})\n",
        pct(m.idf1),
        pct(m.idp),
        pct(m.idr),
        m.idtp,
        m.idfp,
        m.idfn
    );
    s += &format!(
        "HOTA       {} (DetA {}, AssA {}, LocA {})\n",
        pct(m.hota.hota),
        pct(m.hota.deta),
        pct(m.hota.assa),
        pct(m.hota.loca)
    );
    s += &format!(
        "errors     FP {}, FN {}, IDSW {}, fragmentations {}\n",
        m.num_false_positives, m.num_misses, m.num_switches, m.num_fragmentations
    );
    s += &format!(
        "precision  {}\nrecall     {}\n",
        pct(m.precision),
        pct(m.recall)
    );
    s += &format!(
        "objects    {} mostly tracked, {} partially, {} mostly lost\n",
        m.mostly_tracked, m.partially_tracked, m.mostly_lost
    );
    s += &format!(
        "counted    {} frames, {} ground-truth boxes of {} objects ({} rows ignored), {} hypothesis boxes of {} ids\n",
        m.num_frames,
        m.num_objects,
        m.num_unique_objects,
        m.num_gt_ignored,
        m.num_predictions,
        m.num_unique_hypotheses
    );
    s
}
