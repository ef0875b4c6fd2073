//! The model policy: which models vigie can run, and the only door to ONNX Runtime.
//!
//! Why this crate exists: vigie must be unable to process biometric data *by
//! construction*, not by configuration. So:
//! - the set of runnable models is fixed at compile time: `build.rs` compiles
//!   `models/manifest.toml` into [`allowlist`] and fails the build if an entry names a
//!   biometric function ([`denylist`]); [`Task`] has no biometric variant;
//! - this is the only workspace crate that depends on `ort` (a test over `cargo metadata`
//!   enforces it), and it exposes no `ort` type: other crates get [`ModelSession`], which
//!   can only be built from an [`AllowedModelId`];
//! - [`ModelSession::open`] reads the model's bytes from the cache, hashes them, compares
//!   them with the compiled SHA-256, and only then commits *those bytes* from memory, so
//!   the bytes checked are the bytes run. No public function takes a path and returns a
//!   runnable model. A refused file raises an alert for the data controller
//!   ([`vigie_core::AlertSink`]);
//! - ONNX Runtime itself is pinned by SHA-256 (src/runtime.rs): `ORT_DYLIB_PATH` may only
//!   name a pinned library, and the bytes hashed are the bytes `dlopen`ed (sealed memfd);
//! - names are folded (NFKC, accents, look-alike letters) before the deny-list applies, and
//!   known biometric model hashes are refused at build and run time ([`denylist`]).

pub mod allowlist;
pub mod denylist;
mod error;
// Compiled here only for its unit tests (build.rs uses every field).
#[cfg(test)]
#[allow(dead_code)]
mod manifest_check;
pub mod measured;
// Compiled here only for its unit tests (build.rs uses every field).
#[cfg(test)]
#[allow(dead_code)]
mod measured_check;
mod runtime;
mod session;

pub use allowlist::{
    ids, models, AllowedModelId, ChannelOrder, Labels, ModelSpec, PreprocessSpec, Resize,
    SourceSpec, Task, TensorSpec,
};
pub use error::PolicyError;
pub use measured::{measured, measured_for, MeasuredClass, MeasuredKind, MeasuredSpec};
pub use runtime::{load_runtime, runtime_library_path, Device, ORT_VERSION};
pub use session::{
    check_cache, check_candidate_file, model_path, CacheStatus, ModelSession, OutputTensor,
    OutputView, SessionConfig, INTRA_OP_SPIN_US,
};

#[cfg(test)]
mod tests {
    use super::manifest_check::{check, ManifestProblem};

    const REAL: &str = include_str!("../../../models/manifest.toml");

    #[test]
    fn the_real_manifest_passes_the_build_check() {
        let m = check(REAL).expect("models/manifest.toml must pass");
        assert_eq!(m.models.len(), super::models().len());
    }

    fn with_entry(id: &str, task: &str, labels: &str) -> String {
        format!(
            r#"schema_version = 1
[[model]]
id = "{id}"
task = "{task}"
description = "test entry"
file = "x.onnx"
sha256 = "{sha}"
size_bytes = 1
licence = "MIT"
source = {{ registry = "npm", package = "p", version = "1", path = "m.json" }}
inputs = [{{ name = "in", shape = [1, 3, 8, 8] }}]
outputs = [{{ name = "out", shape = [1, 4] }}]
preprocess = {{ width = 8, height = 8, resize = "stretch", channel_order = "rgb", scale = 1.0, mean = [0.0, 0.0, 0.0], std = [1.0, 1.0, 1.0] }}
labels = [{labels}]
"#,
            sha = "0".repeat(64)
        )
    }

    #[test]
    fn a_clean_entry_passes() {
        check(&with_entry("tiny-det", "object_detection", r#""car""#)).expect("clean entry");
    }

    #[test]
    fn a_face_task_fails_the_build_check() {
        let problems = check(&with_entry("tiny-det", "face_detection", r#""car""#)).unwrap_err();
        assert!(
            problems.iter().any(|p| matches!(p, ManifestProblem::Denied { field: "task", term, .. } if term.term == "face")),
            "{problems:?}"
        );
        // And the task is unknown to this build anyway.
        assert!(problems
            .iter()
            .any(|p| matches!(p, ManifestProblem::UnknownTask { .. })));
        let msg = problems[0].to_string();
        assert!(
            msg.contains("biometric") && msg.contains("remove this entry"),
            "{msg}"
        );
    }

    #[test]
    fn a_face_label_under_an_allowed_task_fails() {
        let problems = check(&with_entry(
            "tiny-det",
            "object_detection",
            r#""car", "face""#,
        ))
        .unwrap_err();
        assert!(
            matches!(&problems[0], ManifestProblem::Denied { field: "label", .. }),
            "{problems:?}"
        );
    }

    #[test]
    fn biometric_ids_fail() {
        for id in [
            "arcface-r100",
            "person-reid-osnet",
            "gait-set",
            "age-gender-net",
            "blazeface-front",
            "head-pose-6d",
            "emotion-ferplus",
        ] {
            let problems = check(&with_entry(id, "object_detection", r#""car""#)).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| matches!(p, ManifestProblem::Denied { field: "id", .. })),
                "{id}: {problems:?}"
            );
        }
    }

    fn denied_label(label: &str) -> bool {
        // Raw UTF-8 inside a TOML basic string (Rust's `{:?}` escapes are not TOML's).
        assert!(!label.contains(['"', '\\']));
        let labels = format!("\"car\", \"{label}\"");
        match check(&with_entry("tiny-det", "object_detection", &labels)) {
            Ok(_) => false,
            Err(problems) => problems
                .iter()
                .any(|p| matches!(p, ManifestProblem::Denied { field: "label", .. })),
        }
    }

    #[test]
    fn look_alike_spellings_of_face_fail() {
        for label in [
            "f\u{0430}ce",                      // Cyrillic a
            "\u{0444}ace", // not a look-alike of f: left unmapped, refused as non-ASCII
            "fa\u{0441}e", // Cyrillic es
            "f\u{03b1}ce", // Greek alpha
            "\u{FF46}\u{FF41}\u{FF43}\u{FF45}", // full-width
            "fa\u{200B}ce", // zero-width space inside
            "fa\u{00AD}ce", // soft hyphen inside
            "FA\u{0421}E", // upper-case Cyrillic ES
            "f\u{0101}ce", // a with macron
            "\u{1D41F}ace", // mathematical bold f
        ] {
            assert!(denied_label(label), "{label:?} must be refused");
        }
        let problems = check(&with_entry(
            "tiny-det",
            "object_detection",
            "\"car\", \"f\u{0430}ce\"",
        ))
        .unwrap_err();
        assert!(
            matches!(&problems[0], ManifestProblem::Denied { field: "label", term, .. } if term.term == "face"),
            "{problems:?}"
        );
    }

    #[test]
    fn french_and_english_synonyms_fail() {
        for label in [
            "visage",
            "Visages",
            "reconnaissance faciale",
            "t\u{00EA}te",
            "portrait",
            "head detection",
            "head-shot",
            "mugshot",
            "biom\u{00E9}trie",
            "biometric",
            "empreinte digitale",
            "fingerprint",
            "iris",
            "gait",
            "d\u{00E9}marche",
            "voice",
            "voix",
            "person re-id",
            "re-identification",
            "\u{00E2}ge",
            "age",
            "gender",
            "genre",
            "sexe",
            "\u{00E9}motion",
            "ethnicity",
            "origine ethnique",
            "selfie",
            "figure",
        ] {
            assert!(denied_label(label), "{label:?} must be refused");
        }
        let problems = check(&with_entry("visage-net", "object_detection", "\"car\"")).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, ManifestProblem::Denied { field: "id", .. })),
            "{problems:?}"
        );
    }

    #[test]
    fn vehicle_object_plate_and_text_words_pass() {
        for label in [
            "car",
            "truck",
            "bus",
            "motorcycle",
            "bicycle",
            "person",
            "licence plate",
            "plaque d'immatriculation",
            "v\u{00E9}hicule",
            "text",
            "background",
            "traffic light",
            "hair drier",
            "teddy bear",
        ] {
            assert!(!denied_label(label), "{label:?} must pass");
        }
        let text = with_entry("tiny-det", "object_detection", "\"car\"")
            .replace("test entry", "NanoDet-m detector (GFL head), surface-level");
        // "surface" contains the stem "face": over-refusing costs a rename, by design.
        assert!(check(&text).is_err());
        let text = with_entry("tiny-det", "object_detection", "\"car\"").replace(
            "test entry",
            "NanoDet-m 416x416 COCO-80 object detector (GFL head)",
        );
        check(&text).expect("a detector's head is not a person's");
    }

    /// A known biometric model's hash fails the build whatever the entry says.
    #[test]
    fn a_known_biometric_hash_fails_the_build_check() {
        for (sha, _) in crate::denylist::KNOWN_BIOMETRIC_SHA256 {
            let text =
                with_entry("tiny-det", "object_detection", "\"car\"").replace(&"0".repeat(64), sha);
            let problems = check(&text).unwrap_err();
            assert!(
                matches!(&problems[0], ManifestProblem::KnownBiometric { sha256, .. } if sha256 == sha),
                "{problems:?}"
            );
            assert!(problems[0].to_string().contains("known biometric model"));
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = with_entry("tiny-det", "object_detection", r#""car""#)
            .replace("licence =", "skip_checks = true\nlicence =");
        assert!(matches!(
            check(&text).unwrap_err()[0],
            ManifestProblem::Parse(_)
        ));
    }
}
