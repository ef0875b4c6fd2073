//! Optimal one-to-one assignment, shared by the tracker and the evaluation.
//!
//! Both the tracker (detections to tracks) and the CLEAR-MOT/IDF1 evaluation (hypotheses to
//! ground truth) need a maximum-weight bipartite matching over a sparse set of allowed
//! pairs. We do not hand-write the Hungarian method: this wraps
//! [`pathfinding::kuhn_munkres`], which maximises the total of integer weights over a
//! complete matching of rows into columns. Disallowed pairs get weight 0 and every allowed
//! pair a strictly positive weight, so the optimum over complete matchings is the optimum
//! over partial matchings of allowed pairs; pairs that end up on a 0 edge are dropped.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

/// Maximum-weight matching between `rows` and `cols` items.
///
/// `weight(r, c)` returns `Some(w)` with `w > 0` for an allowed pair and `None` for a
/// forbidden one. Returns the matched `(row, col)` pairs, sorted by row.
pub(crate) fn max_weight_matching(
    rows: usize,
    cols: usize,
    mut weight: impl FnMut(usize, usize) -> Option<i64>,
) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let mut any = false;
    let mut w = vec![0i64; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            if let Some(v) = weight(r, c) {
                debug_assert!(v > 0, "allowed pairs must have a positive weight");
                w[r * cols + c] = v.max(1);
                any = true;
            }
        }
    }
    if !any {
        return Vec::new();
    }
    // kuhn_munkres needs rows <= columns: transpose when needed.
    let transposed = rows > cols;
    let (nr, nc) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let m = Matrix::from_fn(nr, nc, |(i, j)| {
        if transposed {
            w[j * cols + i]
        } else {
            w[i * cols + j]
        }
    });
    let (_total, assignment) = kuhn_munkres(&m);
    let mut pairs: Vec<(usize, usize)> = assignment
        .into_iter()
        .enumerate()
        .filter_map(|(i, j)| {
            let (r, c) = if transposed { (j, i) } else { (i, j) };
            (w[r * cols + c] > 0).then_some((r, c))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_best_total_not_the_greedy_pair() {
        // Greedy would take (0,0)=10 and then (1,1)=1: total 11. Optimal: 9 + 8 = 17.
        let w = [[10, 9], [8, 1]];
        let p = max_weight_matching(2, 2, |r, c| Some(w[r][c]));
        assert_eq!(p, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn forbidden_pairs_are_never_returned() {
        let p = max_weight_matching(2, 3, |r, c| (r == 1 && c == 2).then_some(5));
        assert_eq!(p, vec![(1, 2)]);
        assert!(max_weight_matching(3, 2, |_, _| None).is_empty());
        assert!(max_weight_matching(0, 2, |_, _| Some(1)).is_empty());
    }

    #[test]
    fn more_rows_than_columns() {
        let w = [[1, 2], [5, 1], [3, 9]];
        let p = max_weight_matching(3, 2, |r, c| Some(w[r][c]));
        assert_eq!(p, vec![(1, 0), (2, 1)]);
    }
}
