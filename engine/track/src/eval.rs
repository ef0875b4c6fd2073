//! MOTChallenge evaluation: CLEAR-MOT (MOTA, MOTP, ...) and identity (IDF1) scores.
//!
//! Why reimplement: vigie's README reports tracking quality on public ground truth, and the
//! numbers must be the ones the community's reference tool gives. This follows the
//! `motmetrics` Python package (used by the MOTChallenge devkit ports) rule for rule:
//!
//! - **Files**: `frame,id,x,y,w,h,conf,...`, separated by commas or whitespace. Like
//!   `motmetrics`' `eval_motchallenge` app, ground-truth rows with `conf < 1` are dropped
//!   (in MOT15 `conf == 0` marks rows to ignore; they are removed, not forgiven, so a
//!   hypothesis on one counts as a false positive) and every hypothesis row is kept.
//! - **Distance**: `1 - IoU` of the boxes, a pair allowed when the distance is at most
//!   `iou_distance_max` (0.5, i.e. IoU >= 0.5).
//! - **Per frame** (`MOTAccumulator.update`): first keep every previous object->hypothesis
//!   correspondence that is still allowed; then solve the rest as a minimum-cost
//!   assignment that matches as many pairs as possible (motmetrics replaces forbidden pairs
//!   by a cost so large that the assignment maximises the number of allowed matches, then
//!   minimises their total distance). A match whose object was last matched to another
//!   hypothesis is an ID switch. Unmatched objects are misses, unmatched hypotheses false
//!   positives.
//! - **MOTA** = 1 - (misses + switches + false positives) / ground-truth boxes.
//!   **MOTP** = mean distance (`1 - IoU`) of matched pairs (motmetrics' convention: lower
//!   is better). **Fragmentations**: per object, changes from tracked to missed between its
//!   first and last tracked frame.
//! - **IDF1**: the global trajectory assignment minimising IDFP + IDFN; this equals the
//!   maximum-weight matching of objects to hypotheses where a pair's weight is the number of
//!   frames in which their boxes are within the distance threshold, so IDTP is that
//!   maximum, IDFN = GT boxes - IDTP, IDFP = hypothesis boxes - IDTP.
//!
//! - **HOTA**: see `hota.rs` (TrackEval's algorithm on the same rows).
//!
//! All assignments use the Kuhn-Munkres solver of `pathfinding` (see `assign.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::assign::max_weight_matching;
pub use crate::hota::HotaScores;

/// One box of a MOTChallenge file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MotBox {
    pub id: i64,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Column 7: a confidence (tracker output, detections) or a 0/1 "consider" flag (gt).
    pub conf: f64,
}

impl MotBox {
    /// Intersection over union (motmetrics `boxiou`: no +1 pixel convention).
    pub fn iou(&self, o: &MotBox) -> f64 {
        let ix = ((self.x + self.w).min(o.x + o.w) - self.x.max(o.x)).max(0.0);
        let iy = ((self.y + self.h).min(o.y + o.h) - self.y.max(o.y)).max(0.0);
        let inter = ix * iy;
        let union = self.w.max(0.0) * self.h.max(0.0) + o.w.max(0.0) * o.h.max(0.0) - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// A parsed MOTChallenge file: boxes by frame number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MotFile {
    pub frames: BTreeMap<i64, Vec<MotBox>>,
}

impl MotFile {
    pub fn rows(&self) -> usize {
        self.frames.values().map(Vec::len).sum()
    }

    /// Distinct ids.
    pub fn ids(&self) -> BTreeSet<i64> {
        self.frames.values().flatten().map(|b| b.id).collect()
    }

    /// Keep only boxes with `conf >= conf_min`; returns how many were dropped.
    pub fn retain_conf_at_least(&mut self, conf_min: f64) -> usize {
        let before = self.rows();
        for v in self.frames.values_mut() {
            v.retain(|b| b.conf >= conf_min);
        }
        self.frames.retain(|_, v| !v.is_empty());
        before - self.rows()
    }

    /// Write in MOTChallenge format (`frame,id,x,y,w,h,conf,-1,-1,-1`), frames in order.
    pub fn write(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        for (frame, boxes) in &self.frames {
            for b in boxes {
                writeln!(
                    out,
                    "{frame},{},{:.2},{:.2},{:.2},{:.2},{:.4},-1,-1,-1",
                    b.id, b.x, b.y, b.w, b.h, b.conf
                )?;
            }
        }
        Ok(())
    }
}

/// A MOTChallenge file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MotFileError {
    #[error("line {line}: {problem}; expected MOTChallenge rows `frame,id,x,y,w,h,conf,...` (comma- or space-separated numbers)")]
    Syntax { line: usize, problem: String },
    #[error("line {line}: id {id} appears twice in frame {frame}; each id may appear once per frame (a detection file with ids -1 is not tracker output: track it first)")]
    DuplicateId { line: usize, frame: i64, id: i64 },
    #[error("cannot read the MOTChallenge file (check the path and permissions): {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid MOTChallenge file: {path}")]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<MotFileError>,
    },
}

fn integral(v: f64, what: &str, line: usize) -> Result<i64, MotFileError> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        Ok(v as i64)
    } else {
        Err(MotFileError::Syntax {
            line,
            problem: format!("{what} {v} is not an integer"),
        })
    }
}

/// The numeric fields of one non-empty line (`None` for a blank line).
pub(crate) fn fields(text: &str, line: usize) -> Result<Option<Vec<f64>>, MotFileError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let parts = t
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty());
    let mut v = Vec::with_capacity(10);
    for p in parts {
        v.push(p.parse::<f64>().map_err(|_| MotFileError::Syntax {
            line,
            problem: format!("{p:?} is not a number"),
        })?);
    }
    if v.len() < 6 {
        return Err(MotFileError::Syntax {
            line,
            problem: format!("{} field(s), need at least 6", v.len()),
        });
    }
    if v[..6].iter().any(|x| !x.is_finite()) {
        return Err(MotFileError::Syntax {
            line,
            problem: "a frame, id or box field is not finite".into(),
        });
    }
    Ok(Some(v))
}

/// Parse MOTChallenge text. A missing confidence column counts as 1.
pub fn parse_mot(text: &str) -> Result<MotFile, MotFileError> {
    let mut file = MotFile::default();
    let mut seen: HashMap<(i64, i64), usize> = HashMap::new();
    for (n, l) in text.lines().enumerate() {
        let line = n + 1;
        let Some(v) = fields(l, line)? else { continue };
        let frame = integral(v[0], "frame", line)?;
        let id = integral(v[1], "id", line)?;
        if seen.insert((frame, id), line).is_some() {
            return Err(MotFileError::DuplicateId { line, frame, id });
        }
        file.frames.entry(frame).or_default().push(MotBox {
            id,
            x: v[2],
            y: v[3],
            w: v[4],
            h: v[5],
            conf: v.get(6).copied().unwrap_or(1.0),
        });
    }
    Ok(file)
}

/// Read and parse a MOTChallenge file.
pub fn read_mot(path: &Path) -> Result<MotFile, MotFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| MotFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_mot(&text).map_err(|e| MotFileError::InFile {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

/// Evaluation settings (motmetrics defaults for MOTChallenge 2D).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalConfig {
    /// Largest `1 - IoU` for a ground-truth/hypothesis pair to match. Default 0.5.
    pub iou_distance_max: f64,
    /// Ground-truth rows with a lower confidence column are dropped. Default 1.
    pub gt_conf_min: f64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            iou_distance_max: 0.5,
            gt_conf_min: 1.0,
        }
    }
}

/// CLEAR-MOT and identity scores of one sequence. Counts are boxes over all frames.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MotMetrics {
    pub num_frames: usize,
    /// Ground-truth boxes scored (after dropping `conf < gt_conf_min` rows).
    pub num_objects: usize,
    /// Ground-truth rows dropped by `gt_conf_min`.
    pub num_gt_ignored: usize,
    pub num_predictions: usize,
    pub num_unique_objects: usize,
    pub num_unique_hypotheses: usize,
    pub num_matches: usize,
    pub num_switches: usize,
    pub num_false_positives: usize,
    pub num_misses: usize,
    pub num_fragmentations: usize,
    /// Objects tracked in at least 80 % / between 20 and 80 % / under 20 % of their frames.
    pub mostly_tracked: usize,
    pub partially_tracked: usize,
    pub mostly_lost: usize,
    pub mota: f64,
    /// Mean `1 - IoU` of matched pairs (motmetrics convention; lower is better).
    pub motp: f64,
    pub precision: f64,
    pub recall: f64,
    pub idtp: usize,
    pub idfp: usize,
    pub idfn: usize,
    pub idp: f64,
    pub idr: f64,
    pub idf1: f64,
    /// HOTA and its components (TrackEval's definition, mean over alpha 0.05..0.95).
    pub hota: HotaScores,
}

fn ratio(n: f64, d: f64) -> f64 {
    if d == 0.0 {
        0.0
    } else {
        n / d
    }
}

/// Distance resolution of the per-frame assignment (distances are rounded to 1e-9).
const DIST_SCALE: f64 = 1e9;

/// Score `hyp` against `gt` (whose low-confidence rows are dropped first, see
/// [`EvalConfig::gt_conf_min`]).
pub fn evaluate(gt: &MotFile, hyp: &MotFile, cfg: &EvalConfig) -> MotMetrics {
    let mut gt = gt.clone();
    let num_gt_ignored = gt.retain_conf_at_least(cfg.gt_conf_min);
    let frames: BTreeSet<i64> = gt.frames.keys().chain(hyp.frames.keys()).copied().collect();
    let empty = Vec::new();

    let mut m: HashMap<i64, i64> = HashMap::new(); // object -> last matched hypothesis
    let mut tps: HashMap<(i64, i64), usize> = HashMap::new();
    // Per object: tracked (true) / missed (false) per frame it appears in, in frame order.
    let mut status: BTreeMap<i64, Vec<bool>> = BTreeMap::new();
    let (mut matches, mut switches, mut fps, mut misses) = (0, 0, 0, 0);
    let mut dist_sum = 0.0;
    let (mut num_objects, mut num_predictions) = (0, 0);

    for f in &frames {
        let o = gt.frames.get(f).unwrap_or(&empty);
        let h = hyp.frames.get(f).unwrap_or(&empty);
        num_objects += o.len();
        num_predictions += h.len();
        let dist: Vec<Vec<Option<f64>>> = o
            .iter()
            .map(|ob| {
                h.iter()
                    .map(|hb| {
                        let d = 1.0 - ob.iou(hb);
                        (d <= cfg.iou_distance_max).then_some(d)
                    })
                    .collect()
            })
            .collect();
        for (i, row) in dist.iter().enumerate() {
            for (j, d) in row.iter().enumerate() {
                if d.is_some() {
                    *tps.entry((o[i].id, h[j].id)).or_default() += 1;
                }
            }
        }
        let mut o_done = vec![false; o.len()];
        let mut h_done = vec![false; h.len()];
        // 1. Keep previous correspondences that are still allowed.
        for (i, ob) in o.iter().enumerate() {
            let Some(&hprev) = m.get(&ob.id) else {
                continue;
            };
            let Some(j) = (0..h.len()).find(|&j| !h_done[j] && h[j].id == hprev) else {
                continue;
            };
            if let Some(d) = dist[i][j] {
                o_done[i] = true;
                h_done[j] = true;
                matches += 1;
                dist_sum += d;
            }
        }
        // 2. Assign the rest: most matches first, then least total distance.
        let ri: Vec<usize> = (0..o.len()).filter(|&i| !o_done[i]).collect();
        let cj: Vec<usize> = (0..h.len()).filter(|&j| !h_done[j]).collect();
        let big = (ri.len().min(cj.len()) as i64 + 1) * DIST_SCALE as i64 + 1;
        let pairs = max_weight_matching(ri.len(), cj.len(), |r, c| {
            dist[ri[r]][cj[c]].map(|d| big - (d * DIST_SCALE).round() as i64)
        });
        for (r, c) in pairs {
            let (i, j) = (ri[r], cj[c]);
            let (oid, hid) = (o[i].id, h[j].id);
            match m.get(&oid) {
                Some(&prev) if prev != hid => switches += 1,
                _ => matches += 1,
            }
            m.insert(oid, hid);
            dist_sum += dist[i][j].unwrap_or(0.0);
            o_done[i] = true;
            h_done[j] = true;
        }
        for (i, ob) in o.iter().enumerate() {
            status.entry(ob.id).or_default().push(o_done[i]);
            if !o_done[i] {
                misses += 1;
            }
        }
        fps += h_done.iter().filter(|d| !**d).count();
    }

    let mut frag = 0;
    let (mut mt, mut pt, mut ml) = (0, 0, 0);
    for s in status.values() {
        let tracked = s.iter().filter(|t| **t).count();
        let r = tracked as f64 / s.len() as f64;
        if r >= 0.8 {
            mt += 1;
        } else if r < 0.2 {
            ml += 1;
        } else {
            pt += 1;
        }
        if let (Some(first), Some(last)) = (s.iter().position(|t| *t), s.iter().rposition(|t| *t)) {
            frag += s[first..=last].windows(2).filter(|w| w[0] && !w[1]).count();
        }
    }

    // Identity: maximum-weight matching of trajectories by co-occurrence counts.
    let oids: Vec<i64> = status.keys().copied().collect();
    let hids: Vec<i64> = hyp.ids().into_iter().collect();
    let oidx: HashMap<i64, usize> = oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    let hidx: HashMap<i64, usize> = hids.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    let mut w = vec![0i64; oids.len() * hids.len()];
    for (&(o, h), &n) in &tps {
        w[oidx[&o] * hids.len() + hidx[&h]] = n as i64;
    }
    let idtp: usize = max_weight_matching(oids.len(), hids.len(), |r, c| {
        let v = w[r * hids.len() + c];
        (v > 0).then_some(v)
    })
    .into_iter()
    .map(|(r, c)| w[r * hids.len() + c] as usize)
    .sum();
    let idfn = num_objects - idtp;
    let idfp = num_predictions - idtp;

    let detected = matches + switches;
    MotMetrics {
        num_frames: frames.len(),
        num_objects,
        num_gt_ignored,
        num_predictions,
        num_unique_objects: oids.len(),
        num_unique_hypotheses: hids.len(),
        num_matches: matches,
        num_switches: switches,
        num_false_positives: fps,
        num_misses: misses,
        num_fragmentations: frag,
        mostly_tracked: mt,
        partially_tracked: pt,
        mostly_lost: ml,
        mota: 1.0 - ratio((misses + switches + fps) as f64, num_objects as f64),
        motp: ratio(dist_sum, detected as f64),
        precision: ratio(detected as f64, (detected + fps) as f64),
        recall: ratio(detected as f64, num_objects as f64),
        idtp,
        idfp,
        idfn,
        idp: ratio(idtp as f64, (idtp + idfp) as f64),
        idr: ratio(idtp as f64, (idtp + idfn) as f64),
        idf1: ratio(2.0 * idtp as f64, (num_objects + num_predictions) as f64),
        hota: crate::hota::hota(&gt, hyp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rows: &[(i64, i64, f64, f64)]) -> MotFile {
        // 10x10 boxes at (x, y).
        let text: String = rows
            .iter()
            .map(|(f, id, x, y)| format!("{f},{id},{x},{y},10,10,1,-1,-1,-1\n"))
            .collect();
        parse_mot(&text).unwrap()
    }

    #[test]
    fn perfect_tracking() {
        let gt = file(&[
            (1, 1, 0.0, 0.0),
            (2, 1, 1.0, 0.0),
            (1, 2, 50.0, 0.0),
            (2, 2, 51.0, 0.0),
        ]);
        let r = evaluate(&gt, &gt, &EvalConfig::default());
        assert_eq!(
            (
                r.num_matches,
                r.num_switches,
                r.num_false_positives,
                r.num_misses
            ),
            (4, 0, 0, 0)
        );
        assert_eq!(r.mota, 1.0);
        assert_eq!(r.idf1, 1.0);
        assert_eq!(r.motp, 0.0);
        assert_eq!(r.mostly_tracked, 2);
    }

    #[test]
    fn counts_misses_false_positives_and_switches() {
        // Object 1 in frames 1..=4; hypothesis 7 follows it for 2 frames, then 8 takes over.
        // Frame 3 has also a far-away false positive; object 2 is never found.
        let gt = file(&[
            (1, 1, 0.0, 0.0),
            (2, 1, 0.0, 0.0),
            (3, 1, 0.0, 0.0),
            (4, 1, 0.0, 0.0),
            (2, 2, 100.0, 100.0),
        ]);
        let hyp = file(&[
            (1, 7, 1.0, 0.0),
            (2, 7, 1.0, 0.0),
            (3, 8, 1.0, 0.0),
            (4, 8, 1.0, 0.0),
            (3, 9, 300.0, 0.0),
        ]);
        let r = evaluate(&gt, &hyp, &EvalConfig::default());
        assert_eq!(r.num_objects, 5);
        assert_eq!(r.num_predictions, 5);
        assert_eq!(r.num_matches, 3);
        assert_eq!(r.num_switches, 1);
        assert_eq!(r.num_misses, 1);
        assert_eq!(r.num_false_positives, 1);
        assert!((r.mota - (1.0 - 3.0 / 5.0)).abs() < 1e-12);
        // IoU of two 10x10 boxes offset by 1: 90/110.
        assert!((r.motp - (1.0 - 90.0 / 110.0)).abs() < 1e-12);
        // Best identity pairing: 1<->7 (2 frames) or 1<->8 (2 frames): IDTP 2.
        assert_eq!((r.idtp, r.idfp, r.idfn), (2, 3, 3));
        assert!((r.idf1 - 0.4).abs() < 1e-12);
        assert_eq!(r.mostly_tracked, 1);
        assert_eq!(r.mostly_lost, 1);
    }

    #[test]
    fn previous_match_is_kept_even_if_another_is_closer() {
        // Hypothesis 5 follows object 1 from frame 1. In frame 2 hypothesis 6 is a perfect
        // fit but 5 is still within the threshold: motmetrics keeps 5 (no switch), and 6 is
        // a false positive.
        let gt = file(&[(1, 1, 0.0, 0.0), (2, 1, 0.0, 0.0)]);
        let hyp = file(&[(1, 5, 0.0, 0.0), (2, 5, 2.0, 0.0), (2, 6, 0.0, 0.0)]);
        let r = evaluate(&gt, &hyp, &EvalConfig::default());
        assert_eq!(
            (r.num_matches, r.num_switches, r.num_false_positives),
            (2, 0, 1)
        );
        assert!((r.motp - (1.0 - 80.0 / 120.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn assignment_maximises_the_number_of_matches() {
        // Minimum distance alone would pair o1-h1 (perfect) and leave o2 unmatched; the
        // motmetrics rule prefers two matches.
        let gt = file(&[(1, 1, 0.0, 0.0), (1, 2, 3.0, 0.0)]);
        let hyp = file(&[(1, 1, 2.0, 0.0), (1, 2, -2.0, 0.0)]);
        // o1(0) vs h1(2): IoU 80/120 = .667 ok; o1 vs h2(-2): .667 ok;
        // o2(3) vs h1(2): IoU 90/110 ok; o2 vs h2(-2): 50/150 no.
        let r = evaluate(&gt, &hyp, &EvalConfig::default());
        assert_eq!(r.num_matches, 2);
        assert_eq!(r.num_false_positives, 0);
    }

    #[test]
    fn fragmentations_count_interruptions_inside_the_tracked_span() {
        let gt = file(&(1..=6).map(|f| (f, 1, 0.0, 0.0)).collect::<Vec<_>>());
        // Tracked in 1,2, missed 3, tracked 4, missed 5,6 (trailing miss is not a fragment).
        let hyp = file(&[(1, 1, 0.0, 0.0), (2, 1, 0.0, 0.0), (4, 1, 0.0, 0.0)]);
        let r = evaluate(&gt, &hyp, &EvalConfig::default());
        assert_eq!(r.num_fragmentations, 1);
        assert_eq!(r.num_misses, 3);
        assert_eq!(r.partially_tracked, 1);
    }

    #[test]
    fn gt_rows_with_zero_confidence_are_dropped_not_forgiven() {
        let gt = parse_mot("1,1,0,0,10,10,1\n1,2,50,0,10,10,0\n").unwrap();
        let hyp = parse_mot("1,1,0,0,10,10,1\n1,2,50,0,10,10,1\n").unwrap();
        let r = evaluate(&gt, &hyp, &EvalConfig::default());
        assert_eq!(r.num_gt_ignored, 1);
        assert_eq!(r.num_objects, 1);
        assert_eq!(r.num_false_positives, 1);
    }

    #[test]
    fn parse_errors_name_the_line_and_the_fix() {
        let e = parse_mot("1,1,0,0,10,10,1\n1,2,abc,0,10,10\n").unwrap_err();
        let s = e.to_string();
        assert!(
            s.starts_with("line 2:") && s.contains("\"abc\"") && s.contains("expected"),
            "{s}"
        );
        let e = parse_mot("1,1,0,0\n").unwrap_err();
        assert!(e.to_string().contains("need at least 6"));
        let e = parse_mot("1,-1,0,0,1,1\n1,-1,5,5,1,1\n").unwrap_err();
        assert!(matches!(
            e,
            MotFileError::DuplicateId {
                line: 2,
                frame: 1,
                id: -1
            }
        ));
        let e = parse_mot("1.5,1,0,0,1,1\n").unwrap_err();
        assert!(e.to_string().contains("frame 1.5 is not an integer"));
        // Whitespace-separated and blank lines are fine.
        let f = parse_mot("\n1 3 0 0 10 10\n\n2\t3\t1\t0\t10\t10\t0.5\n").unwrap();
        assert_eq!(f.rows(), 2);
        assert_eq!(f.frames[&1][0].conf, 1.0);
        let e = read_mot(Path::new("/nonexistent/gt.txt")).unwrap_err();
        assert!(e.to_string().ends_with("/nonexistent/gt.txt"));
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn write_then_parse_round_trips() {
        let f = file(&[(1, 1, 0.5, 0.25), (3, 2, 10.0, 20.0)]);
        let mut out = Vec::new();
        f.write(&mut out).unwrap();
        assert_eq!(parse_mot(std::str::from_utf8(&out).unwrap()).unwrap(), f);
    }
}
