//! Precision and recall at an IoU threshold, per class, against Pascal VOC annotations.
//!
//! Matching is the usual greedy one: within an image and a class, detections are taken
//! best score first and each matches the unmatched ground-truth box it overlaps most if
//! that IoU is at least the threshold (true positive), else it is a false positive;
//! ground-truth boxes left unmatched are false negatives. VOC `difficult` objects are
//! neither required nor counted against.
//!
//! When at least two vehicle classes are evaluated, one more row, [`ANY_VEHICLE`], counts
//! the vehicles found whatever their class: the same greedy matching over every vehicle
//! detection (bicycle, car, motorcycle, bus, truck) against every labelled vehicle, so a
//! van labelled "car" and detected as "truck" is found; two boxes of different classes on
//! one vehicle count one true and one false positive. It is not added into
//! [`Evaluator::total`].
//!
//! Persons are scored on MOTChallenge ground truth (every person of every frame of a
//! video, [`person_from_mot`]): the street frames label no person, and the persons'
//! recall matters as much as the vehicles' for reading a search that found nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::nms::iou;
use crate::{BBox, DetectError, Detection};

/// The row counting vehicles of any class.
pub const ANY_VEHICLE: &str = "any vehicle";

/// Classes [`ANY_VEHICLE`] gathers.
pub const VEHICLE_CLASSES: [&str; 5] = ["bicycle", "car", "motorcycle", "bus", "truck"];

/// One annotated object.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundTruth {
    /// Class name, mapped to COCO names (`motorbike` -> `motorcycle`...).
    pub label: String,
    pub bbox_in_frame: BBox,
    pub difficult: bool,
}

/// VOC class names that differ from COCO's.
pub fn voc_to_coco(name: &str) -> String {
    let n = name.trim().to_lowercase();
    match n.as_str() {
        "motorbike" => "motorcycle".into(),
        "aeroplane" => "airplane".into(),
        "diningtable" => "dining table".into(),
        "pottedplant" => "potted plant".into(),
        "sofa" => "couch".into(),
        "tvmonitor" => "tv".into(),
        _ => n,
    }
}

/// Parse a Pascal VOC XML annotation (`path` is only used in errors).
pub fn parse_voc(xml: &str, path: &str) -> Result<Vec<GroundTruth>, DetectError> {
    let err = |problem: String| DetectError::Voc {
        problem,
        path: path.to_string(),
    };
    let doc = roxmltree::Document::parse(xml).map_err(|e| err(e.to_string()))?;
    let child_text = |node: roxmltree::Node<'_, '_>, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
    };
    let mut out = Vec::new();
    for obj in doc.descendants().filter(|n| n.has_tag_name("object")) {
        let name =
            child_text(obj, "name").ok_or_else(|| err("an <object> has no <name>".into()))?;
        let bb = obj
            .children()
            .find(|c| c.has_tag_name("bndbox"))
            .ok_or_else(|| err(format!("object '{name}' has no <bndbox>")))?;
        let coord = |tag: &str| -> Result<f32, DetectError> {
            child_text(bb, tag)
                .ok_or_else(|| err(format!("object '{name}' has no <{tag}>")))?
                .parse::<f32>()
                .map_err(|e| err(format!("object '{name}': <{tag}> is not a number ({e})")))
        };
        let (x1, y1, x2, y2) = (
            coord("xmin")?,
            coord("ymin")?,
            coord("xmax")?,
            coord("ymax")?,
        );
        if x2 <= x1 || y2 <= y1 {
            return Err(err(format!(
                "object '{name}' has an empty box ({x1},{y1})-({x2},{y2})"
            )));
        }
        let difficult = child_text(obj, "difficult").is_some_and(|d| d == "1");
        out.push(GroundTruth {
            label: voc_to_coco(&name),
            bbox_in_frame: BBox {
                x: x1,
                y: y1,
                w: x2 - x1,
                h: y2 - y1,
            },
            difficult,
        });
    }
    Ok(out)
}

/// A MOTChallenge ground-truth row (`frame,id,x,y,w,h,conf,...`, a person) as a box to
/// score on a `width` x `height` frame.
///
/// The box is cut to the frame (MOT boxes run past its edges for people walking in or
/// out; nothing outside the frame can be detected, and the detector's boxes are cut the
/// same way); a box with nothing left inside is dropped. A row whose `conf` column is 0
/// ("not to be considered" in MOTChallenge ground truth) is `difficult`: neither required
/// nor counted against.
pub fn person_from_mot(
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    conf: f64,
    width: u32,
    height: u32,
) -> Option<GroundTruth> {
    let x1 = x.max(0.0);
    let y1 = y.max(0.0);
    let x2 = (x + w).min(f64::from(width));
    let y2 = (y + h).min(f64::from(height));
    (x2 > x1 && y2 > y1).then(|| GroundTruth {
        label: "person".into(),
        bbox_in_frame: BBox {
            x: x1 as f32,
            y: y1 as f32,
            w: (x2 - x1) as f32,
            h: (y2 - y1) as f32,
        },
        difficult: conf <= 0.0,
    })
}

/// Counts for one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl ClassCounts {
    pub fn precision(&self) -> Option<f64> {
        let d = self.true_positives + self.false_positives;
        (d > 0).then(|| self.true_positives as f64 / d as f64)
    }
    pub fn recall(&self) -> Option<f64> {
        let d = self.true_positives + self.false_negatives;
        (d > 0).then(|| self.true_positives as f64 / d as f64)
    }
}

/// Accumulates counts over images.
#[derive(Debug, Clone)]
pub struct Evaluator {
    iou_threshold: f32,
    /// Classes evaluated (others are ignored on both sides).
    classes: Vec<String>,
    pub counts: BTreeMap<String, ClassCounts>,
    pub images: u64,
}

impl Evaluator {
    pub fn new(iou_threshold: f32, classes: &[String]) -> Self {
        let mut counts: BTreeMap<String, ClassCounts> = classes
            .iter()
            .map(|c| (c.clone(), ClassCounts::default()))
            .collect();
        let vehicles = classes
            .iter()
            .filter(|c| VEHICLE_CLASSES.contains(&c.as_str()))
            .count();
        if vehicles >= 2 {
            counts.insert(ANY_VEHICLE.to_string(), ClassCounts::default());
        }
        Evaluator {
            iou_threshold,
            classes: classes.to_vec(),
            counts,
            images: 0,
        }
    }

    /// Add one image's detections and ground truth.
    pub fn add(&mut self, detections: &[Detection], truth: &[GroundTruth]) {
        self.images += 1;
        for class in &self.classes {
            let dets: Vec<&Detection> = detections.iter().filter(|d| d.label == class).collect();
            let gts: Vec<&GroundTruth> = truth.iter().filter(|g| &g.label == class).collect();
            let c = self.counts.entry(class.clone()).or_default();
            greedy_match(dets, &gts, self.iou_threshold, c);
        }
        if let Some(c) = self.counts.get_mut(ANY_VEHICLE) {
            let vehicle = |label: &str| {
                VEHICLE_CLASSES.contains(&label) && self.classes.iter().any(|c| c == label)
            };
            let dets: Vec<&Detection> = detections.iter().filter(|d| vehicle(d.label)).collect();
            let gts: Vec<&GroundTruth> = truth.iter().filter(|g| vehicle(&g.label)).collect();
            greedy_match(dets, &gts, self.iou_threshold, c);
        }
    }

    /// Counts summed over every class ([`ANY_VEHICLE`] excluded: it counts them again).
    pub fn total(&self) -> ClassCounts {
        self.counts
            .iter()
            .filter(|(k, _)| k.as_str() != ANY_VEHICLE)
            .fold(ClassCounts::default(), |a, (_, c)| ClassCounts {
                true_positives: a.true_positives + c.true_positives,
                false_positives: a.false_positives + c.false_positives,
                false_negatives: a.false_negatives + c.false_negatives,
            })
    }
}

/// Best score first, each detection takes the unmatched box it overlaps most if the IoU
/// reaches `iou_threshold`.
fn greedy_match(
    mut dets: Vec<&Detection>,
    gts: &[&GroundTruth],
    iou_threshold: f32,
    c: &mut ClassCounts,
) {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut matched = vec![false; gts.len()];
    for d in dets {
        let best = gts
            .iter()
            .enumerate()
            .filter(|(i, _)| !matched[*i])
            .map(|(i, g)| (i, iou(&d.bbox_in_frame, &g.bbox_in_frame)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((i, v)) if v >= iou_threshold => {
                matched[i] = true;
                if !gts[i].difficult {
                    c.true_positives += 1;
                }
            }
            _ => c.false_positives += 1,
        }
    }
    c.false_negatives += gts
        .iter()
        .zip(&matched)
        .filter(|(g, m)| !**m && !g.difficult)
        .count() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::det;

    const XML: &str = r#"<annotation><size><width>100</width><height>50</height></size>
      <object><name>car</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>30</xmax><ymax>30</ymax></bndbox></object>
      <object><name>motorbike</name><bndbox><xmin>50</xmin><ymin>10</ymin><xmax>60</xmax><ymax>40</ymax></bndbox></object>
    </annotation>"#;

    #[test]
    fn parses_voc_and_maps_names() {
        let gts = parse_voc(XML, "t.xml").unwrap();
        assert_eq!(gts.len(), 2);
        assert_eq!(gts[1].label, "motorcycle");
        assert_eq!(
            gts[0].bbox_in_frame,
            BBox {
                x: 10.0,
                y: 10.0,
                w: 20.0,
                h: 20.0
            }
        );
    }

    #[test]
    fn bad_voc_names_the_problem_and_the_file() {
        let e = parse_voc(
            "<annotation><object><name>car</name></object></annotation>",
            "a/b.xml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no <bndbox>") && e.ends_with("a/b.xml"), "{e}");
    }

    #[test]
    fn counts_tp_fp_fn_per_class() {
        let gts = parse_voc(XML, "t.xml").unwrap();
        let classes = vec!["car".to_string(), "motorcycle".to_string()];
        let mut ev = Evaluator::new(0.5, &classes);
        ev.add(
            &[
                det("car", 0.9, 11.0, 11.0, 20.0, 20.0), // TP
                det("car", 0.8, 10.0, 10.0, 20.0, 20.0), // duplicate: FP
                det("car", 0.7, 70.0, 10.0, 10.0, 10.0), // FP
                det("person", 0.9, 0.0, 0.0, 5.0, 5.0),  // class not evaluated
            ],
            &gts,
        );
        assert_eq!(
            ev.counts["car"],
            ClassCounts {
                true_positives: 1,
                false_positives: 2,
                false_negatives: 0
            }
        );
        assert_eq!(
            ev.counts["motorcycle"],
            ClassCounts {
                true_positives: 0,
                false_positives: 0,
                false_negatives: 1
            }
        );
        assert_eq!(ev.total().precision(), Some(1.0 / 3.0));
        assert_eq!(ev.total().recall(), Some(0.5));
    }

    #[test]
    fn mot_rows_are_cut_to_the_frame() {
        let g = person_from_mot(-20.0, 100.0, 60.0, 200.0, 1.0, 640, 480).unwrap();
        assert_eq!(g.label, "person");
        assert_eq!(
            g.bbox_in_frame,
            BBox {
                x: 0.0,
                y: 100.0,
                w: 40.0,
                h: 200.0
            }
        );
        assert!(!g.difficult);
        let g = person_from_mot(600.0, 400.0, 100.0, 100.0, 0.0, 640, 480).unwrap();
        assert_eq!((g.bbox_in_frame.w, g.bbox_in_frame.h), (40.0, 80.0));
        assert!(g.difficult, "conf 0: not to be considered");
        assert_eq!(
            person_from_mot(650.0, 10.0, 20.0, 20.0, 1.0, 640, 480),
            None
        );
    }

    #[test]
    fn any_vehicle_matches_across_vehicle_classes() {
        let gts = parse_voc(XML, "t.xml").unwrap();
        let classes = vec!["car".to_string(), "motorcycle".to_string()];
        let mut ev = Evaluator::new(0.5, &classes);
        ev.add(
            &[
                det("motorcycle", 0.9, 11.0, 11.0, 20.0, 20.0), // the car, wrong class
                det("car", 0.8, 10.0, 10.0, 20.0, 20.0),        // same car again: FP
                det("car", 0.7, 50.0, 10.0, 10.0, 30.0),        // the motorbike, wrong class
                det("person", 0.9, 0.0, 0.0, 5.0, 5.0),         // not a vehicle
            ],
            &gts,
        );
        assert_eq!(
            ev.counts[ANY_VEHICLE],
            ClassCounts {
                true_positives: 2,
                false_positives: 1,
                false_negatives: 0
            }
        );
        // Per class: car 1 TP (the duplicate) + 1 FP, motorcycle 1 FP + 1 FN.
        assert_eq!(ev.total().true_positives, 1);
        assert_eq!(ev.total().false_positives, 2);
        assert_eq!(ev.total().false_negatives, 1);
        // One vehicle class only: no extra row.
        let ev = Evaluator::new(0.5, &["car".to_string(), "person".to_string()]);
        assert!(!ev.counts.contains_key(ANY_VEHICLE));
    }
}
