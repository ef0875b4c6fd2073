//! The measured quality of allowlisted models, compiled from `models/measured.toml`.
//!
//! Why in the binary: a search that finds nothing is only as good as the detector's
//! recall. The exploitation report, the technical dossier and `vigie models` state these
//! figures next to the models a case loaded, so the figures must travel with the exact
//! bytes they were measured on: build.rs refuses an entry whose model id or SHA-256 is
//! not the manifest's (see src/measured_check.rs), and a test compares the reproducible
//! entries with what `vigie eval detect --json` gives on the shared data.

use serde::Serialize;

/// Where a measurement's figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasuredKind {
    /// Measured by `vigie eval detect` on data under `../shared/datasets`; a test re-runs it.
    Reproducible,
    /// Measured elsewhere, on data not shipped with vigie; kept as reported.
    HeldOut,
}

impl MeasuredKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasuredKind::Reproducible => "reproducible",
            MeasuredKind::HeldOut => "held_out",
        }
    }
}

/// One class's figures in one measurement (per frame, per object: a detection matching a
/// labelled box at the IoU threshold).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeasuredClass {
    /// COCO name, or `any vehicle` (a labelled vehicle found by a vehicle box of any class).
    pub class: &'static str,
    /// Labelled objects scored (`true_positives + false_negatives`), when counted.
    pub objects: Option<u64>,
    pub true_positives: Option<u64>,
    pub false_positives: Option<u64>,
    pub false_negatives: Option<u64>,
    /// Share of labelled objects found.
    pub recall: Option<f64>,
    /// Share of detections that were labelled objects.
    pub precision: Option<f64>,
}

/// One measurement of one model on one data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeasuredSpec {
    pub model_id: &'static str,
    /// SHA-256 (hex) of the bytes measured: the manifest's.
    pub sha256: &'static str,
    pub kind: MeasuredKind,
    pub dataset: &'static str,
    /// Which part of the data set, and whether the model could have seen it.
    pub split: &'static str,
    pub images: Option<u64>,
    pub iou: f32,
    pub score_threshold: f32,
    pub vigie_version: &'static str,
    /// The command that measured it.
    pub command: &'static str,
    /// `YYYY-MM-DD`.
    pub date: &'static str,
    pub note: Option<&'static str>,
    pub classes: &'static [MeasuredClass],
}

include!(concat!(env!("OUT_DIR"), "/measured.rs"));

/// Every measurement compiled into this build, in file order.
pub fn measured() -> &'static [MeasuredSpec] {
    MEASURED
}

/// The measurements of one model (by manifest id); empty when it was never measured.
pub fn measured_for(model_id: &str) -> Vec<&'static MeasuredSpec> {
    MEASURED.iter().filter(|m| m.model_id == model_id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measurement_is_of_an_allowlisted_model_with_its_bytes() {
        for m in measured() {
            let spec = crate::AllowedModelId::lookup(m.model_id)
                .expect("build.rs checked the id")
                .spec();
            assert_eq!(spec.sha256_hex(), m.sha256);
            assert!(!m.classes.is_empty());
        }
        assert!(
            !measured_for("nanodet-coco-416").is_empty(),
            "the detector's figures are compiled in"
        );
        assert!(measured_for("no-such-model").is_empty());
    }

    use crate::measured_check::{check, KnownModel, MeasuredProblem};

    const REAL_MANIFEST: &str = include_str!("../../../models/manifest.toml");
    const REAL: &str = include_str!("../../../models/measured.toml");

    fn labels() -> Vec<String> {
        ["person", "car", "motorcycle"].map(String::from).to_vec()
    }

    fn entry(model: &str, sha: &str, kind: &str, class: &str) -> String {
        format!(
            r#"schema_version = 1
[[measurement]]
model = "{model}"
sha256 = "{sha}"
kind = "{kind}"
dataset = "d"
split = "all"
images = 3
iou = 0.5
score_threshold = 0.35
vigie_version = "0.2.0"
command = "vigie eval detect d --json"
date = "2026-12-06"
classes = [{class}]
"#
        )
    }

    #[test]
    fn the_real_figures_pass_the_build_check() {
        let manifest = crate::manifest_check::check(REAL_MANIFEST).expect("manifest");
        let known: Vec<KnownModel<'_>> = manifest
            .models
            .iter()
            .map(|m| KnownModel {
                id: &m.id,
                sha256: &m.sha256,
                labels: &m.labels,
            })
            .collect();
        let file = check(REAL, &known).expect("models/measured.toml must pass");
        assert_eq!(file.measurements.len(), measured().len());
    }

    #[test]
    fn figures_for_a_model_not_in_the_manifest_fail_the_build_check() {
        let sha = "a".repeat(64);
        let labels = labels();
        let known = [KnownModel {
            id: "tiny-det",
            sha256: &sha,
            labels: &labels,
        }];
        let counts =
            r#"{ class = "car", true_positives = 3, false_positives = 1, false_negatives = 1 }"#;
        let ok = entry("tiny-det", &sha, "reproducible", counts);
        let f = check(&ok, &known).expect("a clean entry");
        assert_eq!(
            f.measurements[0].classes[0].figures(),
            (Some(0.75), Some(0.75))
        );

        let problems = check(&entry("yolo-x", &sha, "reproducible", counts), &known).unwrap_err();
        assert_eq!(
            problems,
            vec![MeasuredProblem::UnknownModel {
                model: "yolo-x".into()
            }]
        );
        assert!(problems[0]
            .to_string()
            .contains("not in models/manifest.toml"));

        // Other bytes than the manifest pins: measured again or removed.
        let problems = check(
            &entry("tiny-det", &"b".repeat(64), "reproducible", counts),
            &known,
        )
        .unwrap_err();
        assert!(matches!(problems[0], MeasuredProblem::OtherBytes { .. }));
        assert!(problems[0]
            .to_string()
            .contains("measure the new model again"));
    }

    #[test]
    fn malformed_figures_are_refused() {
        let sha = "a".repeat(64);
        let labels = labels();
        let known = [KnownModel {
            id: "tiny-det",
            sha256: &sha,
            labels: &labels,
        }];
        let refused = |class: &str, kind: &str| {
            check(&entry("tiny-det", &sha, kind, class), &known)
                .unwrap_err()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        // A reproducible figure is counts, not a number that could disagree with them.
        assert!(refused(r#"{ class = "car", recall = 0.9 }"#, "reproducible").contains("counts"));
        assert!(refused(
            r#"{ class = "car", true_positives = 1, false_positives = 0, false_negatives = 0, recall = 0.5 }"#,
            "reproducible"
        )
        .contains("derived from the counts"));
        assert!(refused(r#"{ class = "boat", recall = 0.5 }"#, "held_out")
            .contains("not one of the model's labels"));
        assert!(
            refused(r#"{ class = "car", recall = 1.5 }"#, "held_out").contains("expected 0 to 1")
        );
        assert!(refused(r#"{ class = "car" }"#, "held_out").contains("at least the recall"));
        assert!(refused(r#"{ class = "car", recall = 0.5 }"#, "guessed").contains("kind 'guessed'"));
        // Held-out figures may be recall alone; "any vehicle" is always a known row.
        check(
            &entry(
                "tiny-det",
                &sha,
                "held_out",
                r#"{ class = "any vehicle", recall = 0.78 }"#,
            ),
            &known,
        )
        .expect("held-out recall");
        // Unknown fields are refused.
        assert!(matches!(
            check(
                &entry(
                    "tiny-det",
                    &sha,
                    "held_out",
                    r#"{ class = "car", recall = 0.5 }"#
                )
                .replace("split =", "trust_me = true\nsplit ="),
                &known
            )
            .unwrap_err()[0],
            MeasuredProblem::Parse(_)
        ));
    }
}
