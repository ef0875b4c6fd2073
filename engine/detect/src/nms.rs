//! Per-class non-maximum suppression.

use crate::BBox;

/// Intersection over union of two boxes.
pub fn iou(a: &BBox, b: &BBox) -> f32 {
    let x1 = a.x.max(b.x);
    let y1 = a.y.max(b.y);
    let x2 = (a.x + a.w).min(b.x + b.w);
    let y2 = (a.y + a.h).min(b.y + b.h);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a.w * a.h + b.w * b.h - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Keep, per class, the highest-scoring boxes that overlap no kept box by more than
/// `iou_threshold`; at most `max_keep` overall, best first.
pub fn nms_per_class<T, F>(mut items: Vec<T>, key: F, iou_threshold: f32, max_keep: usize) -> Vec<T>
where
    F: Fn(&T) -> (u16, f32, BBox),
{
    items.sort_by(|a, b| key(b).1.total_cmp(&key(a).1));
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        if kept.len() >= max_keep {
            break;
        }
        let (class, _, bbox) = key(&item);
        let suppressed = kept.iter().any(|k| {
            let (kc, _, kb) = key(k);
            kc == class && iou(&kb, &bbox) > iou_threshold
        });
        if !suppressed {
            kept.push(item);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    #[test]
    fn iou_values() {
        assert_eq!(iou(&b(0.0, 0.0, 10.0, 10.0), &b(0.0, 0.0, 10.0, 10.0)), 1.0);
        assert_eq!(
            iou(&b(0.0, 0.0, 10.0, 10.0), &b(20.0, 0.0, 10.0, 10.0)),
            0.0
        );
        let v = iou(&b(0.0, 0.0, 10.0, 10.0), &b(5.0, 0.0, 10.0, 10.0));
        assert!((v - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn suppresses_overlaps_within_a_class_only() {
        let items = vec![
            (0u16, 0.9f32, b(0.0, 0.0, 10.0, 10.0)),
            (0, 0.8, b(1.0, 0.0, 10.0, 10.0)), // same class, overlaps: dropped
            (2, 0.7, b(1.0, 0.0, 10.0, 10.0)), // other class: kept
            (0, 0.6, b(50.0, 0.0, 10.0, 10.0)), // same class, apart: kept
        ];
        let kept = nms_per_class(items, |t| *t, 0.5, 10);
        let scores: Vec<f32> = kept.iter().map(|t| t.1).collect();
        assert_eq!(scores, vec![0.9, 0.7, 0.6]);
        let kept = nms_per_class(kept, |t| *t, 0.5, 2);
        assert_eq!(kept.len(), 2);
    }
}
