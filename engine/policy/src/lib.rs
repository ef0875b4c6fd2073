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
//!   ([`vigie_core::AlertSink`]).

pub mod allowlist;
pub mod denylist;
mod error;
// Compiled here only for its unit tests (build.rs uses every field).
#[cfg(test)]
#[allow(dead_code)]
mod manifest_check;
mod runtime;
mod session;

pub use allowlist::{
    ids, models, AllowedModelId, ChannelOrder, Labels, ModelSpec, PreprocessSpec, Resize,
    SourceSpec, Task, TensorSpec,
};
pub use error::PolicyError;
pub use runtime::{runtime_library_path, Device, ORT_VERSION};
pub use session::{
    check_cache, check_candidate_file, model_path, CacheStatus, ModelSession, OutputTensor,
    SessionConfig,
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
