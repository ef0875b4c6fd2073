//! `vigie eval mot --gt GT.txt --hyp HYP.txt`: CLEAR-MOT, IDF1 and HOTA of tracker output
//! (or `--det DET.txt`: run vigie's tracker over MOTChallenge detections, then score it).
//!
//! It reads MOTChallenge text files, not footage, so it needs no case; it still goes
//! through the measurement door (`vigie_app::Measurement`): the files are hashed and logged
//! in the machine log, since `--det` produces tracks. The scoring rules are `motmetrics`' for CLEAR-MOT and IDF1 and TrackEval's for
//! HOTA (see `vigie_track::eval`), so the figures can be compared with published ones.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::measure::Computed;
use vigie_app::types::MotMetrics;
use vigie_app::Measurement;

use crate::output::{out, print_json, Outcome};
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

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    // Refuse bad flags and absent files before anything is logged.
    if !(args.iou > 0.0 && args.iou <= 1.0) {
        anyhow::bail!("invalid --iou {} (expected > 0 and <= 1)", args.iou);
    }
    for (flag, path) in [
        ("--gt", Some(&args.gt)),
        ("--hyp", args.hyp.as_ref()),
        ("--det", args.det.as_ref()),
    ] {
        if let Some(p) = path.filter(|p| !p.is_file()) {
            anyhow::bail!(
                "cannot read {flag} (no such file; check the path): {}",
                p.display()
            );
        }
    }
    let files: Vec<PathBuf> = std::iter::once(args.gt.clone())
        .chain(args.hyp.clone())
        .chain(args.det.clone())
        .collect();
    let computed: &[Computed] = if args.det.is_some() {
        &[Computed::Tracks]
    } else {
        &[]
    };
    let app = vigie_app::App::from_env()?;
    let meas = Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "eval mot",
        computed,
        &files,
        global.reason.as_deref(),
    )?;
    let m = vigie_app::bench::eval_mot(
        &meas,
        &vigie_app::bench::EvalMotRequest {
            gt: args.gt.clone(),
            hyp: args.hyp.clone(),
            det: args.det.clone(),
            fps: args.fps,
            fill_gaps: args.fill_gaps,
            write_hyp: args.write_hyp.clone(),
            iou: args.iou,
            gt_conf_min: args.gt_conf_min,
        },
    )?;
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
        out!("{}", describe(&m));
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
