//! HOTA (Luiten et al., IJCV 2020), ported from TrackEval's `metrics/hota.py`.
//!
//! Why a second family of scores: MOTA is dominated by detection errors and IDF1 by one
//! global identity assignment; HOTA balances detection (DetA) and association (AssA) and
//! averages over localisation thresholds `alpha = 0.05, 0.10, ..., 0.95`. Per frame the
//! assignment maximises `global alignment score x IoU` (TrackEval's rule), solved with the
//! same Kuhn-Munkres wrapper as the rest of the crate (scores scaled to 1e-9).

use std::collections::HashMap;

use serde::Serialize;

use crate::assign::max_weight_matching;
use crate::eval::MotFile;

/// HOTA and its components, averaged over the 19 alpha thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotaScores {
    pub hota: f64,
    pub deta: f64,
    pub assa: f64,
    pub detre: f64,
    pub detpr: f64,
    pub assre: f64,
    pub asspr: f64,
    pub loca: f64,
    /// HOTA at alpha = 0.05 (TrackEval's `HOTA(0)`).
    pub hota_0: f64,
}

const EPS: f64 = f64::EPSILON;

fn alphas() -> Vec<f64> {
    (1..=19).map(|i| 0.05 * i as f64).collect()
}

/// Per-frame (gt index list, hyp index list, IoU matrix), ids mapped to 0..n.
type Frame = (Vec<usize>, Vec<usize>, Vec<Vec<f64>>);

/// HOTA of `hyp` against `gt` (gt already filtered of ignored rows).
pub(crate) fn hota(gt: &MotFile, hyp: &MotFile) -> HotaScores {
    let alphas = alphas();
    let na = alphas.len();
    let num_gt: usize = gt.rows();
    let num_hyp: usize = hyp.rows();
    if num_hyp == 0 || num_gt == 0 {
        return HotaScores {
            hota: 0.0,
            deta: 0.0,
            assa: 0.0,
            detre: 0.0,
            detpr: 0.0,
            assre: 0.0,
            asspr: 0.0,
            loca: 1.0,
            hota_0: 0.0,
        };
    }
    let gidx: HashMap<i64, usize> = gt
        .ids()
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v, i))
        .collect();
    let hidx: HashMap<i64, usize> = hyp
        .ids()
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v, i))
        .collect();
    let (ng, nh) = (gidx.len(), hidx.len());
    let empty = Vec::new();
    let frames: Vec<Frame> = gt
        .frames
        .keys()
        .chain(hyp.frames.keys())
        .copied()
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .map(|f| {
            let g = gt.frames.get(&f).unwrap_or(&empty);
            let h = hyp.frames.get(&f).unwrap_or(&empty);
            let sim = g
                .iter()
                .map(|gb| h.iter().map(|hb| gb.iou(hb)).collect())
                .collect();
            (
                g.iter().map(|b| gidx[&b.id]).collect(),
                h.iter().map(|b| hidx[&b.id]).collect(),
                sim,
            )
        })
        .collect();

    // Global alignment between ids.
    let mut potential = vec![0.0; ng * nh];
    let mut gt_count = vec![0.0; ng];
    let mut hyp_count = vec![0.0; nh];
    for (g, h, sim) in &frames {
        let col_sum: Vec<f64> = (0..h.len())
            .map(|j| sim.iter().map(|r| r[j]).sum())
            .collect();
        for (i, row) in sim.iter().enumerate() {
            let row_sum: f64 = row.iter().sum();
            for (j, s) in row.iter().enumerate() {
                let denom = col_sum[j] + row_sum - s;
                if denom > EPS {
                    potential[g[i] * nh + h[j]] += s / denom;
                }
            }
        }
        g.iter().for_each(|&i| gt_count[i] += 1.0);
        h.iter().for_each(|&j| hyp_count[j] += 1.0);
    }
    let align: Vec<f64> = (0..ng * nh)
        .map(|k| {
            let p = potential[k];
            p / (gt_count[k / nh] + hyp_count[k % nh] - p)
        })
        .collect();

    let mut tp = vec![0.0; na];
    let mut fneg = vec![0.0; na];
    let mut fpos = vec![0.0; na];
    let mut loc = vec![0.0; na];
    let mut matches: Vec<HashMap<(usize, usize), f64>> = vec![HashMap::new(); na];
    for (g, h, sim) in &frames {
        if g.is_empty() || h.is_empty() {
            for a in 0..na {
                fpos[a] += h.len() as f64;
                fneg[a] += g.len() as f64;
            }
            continue;
        }
        let pairs = max_weight_matching(g.len(), h.len(), |i, j| {
            let score = align[g[i] * nh + h[j]] * sim[i][j];
            let w = (score * 1e9).round() as i64;
            (w > 0).then_some(w)
        });
        for (a, alpha) in alphas.iter().enumerate() {
            let ok: Vec<&(usize, usize)> = pairs
                .iter()
                .filter(|(i, j)| sim[*i][*j] >= alpha - EPS)
                .collect();
            let n = ok.len() as f64;
            tp[a] += n;
            fneg[a] += g.len() as f64 - n;
            fpos[a] += h.len() as f64 - n;
            for &&(i, j) in &ok {
                loc[a] += sim[i][j];
                *matches[a].entry((g[i], h[j])).or_default() += 1.0;
            }
        }
    }

    let mut sums = HotaScores {
        hota: 0.0,
        deta: 0.0,
        assa: 0.0,
        detre: 0.0,
        detpr: 0.0,
        assre: 0.0,
        asspr: 0.0,
        loca: 0.0,
        hota_0: 0.0,
    };
    for a in 0..na {
        let (mut assa, mut assre, mut asspr) = (0.0, 0.0, 0.0);
        for (&(gi, hj), &m) in &matches[a] {
            assa += m * m / (gt_count[gi] + hyp_count[hj] - m).max(1.0);
            assre += m * m / gt_count[gi].max(1.0);
            asspr += m * m / hyp_count[hj].max(1.0);
        }
        let t = tp[a].max(1.0);
        let (assa, assre, asspr) = (assa / t, assre / t, asspr / t);
        let loca = loc[a].max(1e-10) / tp[a].max(1e-10);
        let detre = tp[a] / (tp[a] + fneg[a]).max(1.0);
        let detpr = tp[a] / (tp[a] + fpos[a]).max(1.0);
        let deta = tp[a] / (tp[a] + fneg[a] + fpos[a]).max(1.0);
        let hota = (deta * assa).sqrt();
        if a == 0 {
            sums.hota_0 = hota;
        }
        sums.hota += hota;
        sums.deta += deta;
        sums.assa += assa;
        sums.detre += detre;
        sums.detpr += detpr;
        sums.assre += assre;
        sums.asspr += asspr;
        sums.loca += loca;
    }
    let n = na as f64;
    HotaScores {
        hota: sums.hota / n,
        deta: sums.deta / n,
        assa: sums.assa / n,
        detre: sums.detre / n,
        detpr: sums.detpr / n,
        assre: sums.assre / n,
        asspr: sums.asspr / n,
        loca: sums.loca / n,
        hota_0: sums.hota_0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::parse_mot;

    #[test]
    fn perfect_tracking_is_one() {
        let gt = parse_mot("1,1,0,0,10,10,1\n2,1,1,0,10,10,1\n1,2,50,0,10,10,1\n").unwrap();
        let s = hota(&gt, &gt);
        assert!(
            (s.hota - 1.0).abs() < 1e-12 && (s.loca - 1.0).abs() < 1e-12,
            "{s:?}"
        );
    }

    #[test]
    fn one_identity_change_halves_association() {
        // 4 frames, perfect boxes, hypothesis id changes after 2 frames.
        let gt = parse_mot("1,1,0,0,10,10\n2,1,0,0,10,10\n3,1,0,0,10,10\n4,1,0,0,10,10\n").unwrap();
        let hyp =
            parse_mot("1,7,0,0,10,10\n2,7,0,0,10,10\n3,8,0,0,10,10\n4,8,0,0,10,10\n").unwrap();
        let s = hota(&gt, &hyp);
        // DetA 1; each match: 2 shared / (4 + 2 - 2) = 0.5 -> AssA 0.5, HOTA sqrt(0.5).
        assert!((s.deta - 1.0).abs() < 1e-12);
        assert!((s.assa - 0.5).abs() < 1e-12);
        assert!((s.hota - 0.5f64.sqrt()).abs() < 1e-12);
        assert!(hota(&gt, &MotFile::default()).hota == 0.0);
    }
}
