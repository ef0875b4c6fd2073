//! Parsing and checking `models/manifest.toml`, shared by `build.rs` and the crate's tests.
//!
//! Why shared: the check that makes a biometric manifest fail the *build* must be the same
//! code a unit test exercises with a face manifest; including this file in both places
//! (with `#[path]`) guarantees it. It depends on `serde` and `toml` only.

use serde::Deserialize;

use super::denylist::{find_denied, known_biometric, DeniedTerm};

/// Tasks this build knows. Keep in sync with `Task` in allowlist.rs (build.rs maps these names to
/// its variants; a name missing here is an unknown task and fails the build).
pub const KNOWN_TASKS: &[&str] = &[
    "object_detection",
    "text_detection",
    "text_recognition",
    "plate_detection",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub task: String,
    pub description: String,
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub licence: String,
    pub source: Source,
    pub inputs: Vec<TensorEntry>,
    pub outputs: Vec<TensorEntry>,
    pub preprocess: Preprocess,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub labels_from_metadata: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub registry: String,
    pub package: String,
    pub version: String,
    pub path: String,
    #[serde(default)]
    pub conversion: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocess {
    pub width: u32,
    pub height: u32,
    pub resize: String,
    pub channel_order: String,
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestProblem {
    Parse(String),
    Denied {
        model: String,
        field: &'static str,
        term: DeniedTerm,
    },
    UnknownTask {
        model: String,
        task: String,
    },
    /// The entry's SHA-256 is that of a known biometric model, whatever its names say.
    KnownBiometric {
        model: String,
        sha256: String,
        what: &'static str,
    },
    Invalid {
        model: String,
        problem: String,
    },
}

impl std::fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Parse(e) => write!(f, "models/manifest.toml does not parse ({e}); fix its syntax"),
            Self::Denied { model, field, term } => write!(
                f,
                "model '{model}': its {field} names a biometric function ('{}' in \"{}\"); vigie never runs biometric models: remove this entry from models/manifest.toml",
                term.term, term.text
            ),
            Self::UnknownTask { model, task } => write!(
                f,
                "model '{model}': unknown task '{task}' (this build knows {}); tasks are added in engine/policy, never biometric ones",
                KNOWN_TASKS.join(", ")
            ),
            Self::KnownBiometric { model, sha256, what } => write!(
                f,
                "model '{model}': its sha256 {sha256} is a known biometric model ({what}); vigie never runs biometric models, whatever the manifest calls them: remove this entry from models/manifest.toml"
            ),
            Self::Invalid { model, problem } => {
                write!(f, "model '{model}': {problem}; fix models/manifest.toml")
            }
        }
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parse and check a manifest; every problem found is returned (the build prints them all).
pub fn check(text: &str) -> Result<Manifest, Vec<ManifestProblem>> {
    let manifest: Manifest =
        toml::from_str(text).map_err(|e| vec![ManifestProblem::Parse(e.to_string())])?;
    let mut problems = Vec::new();
    if manifest.schema_version != 1 {
        problems.push(ManifestProblem::Invalid {
            model: "-".into(),
            problem: format!("schema_version {} (expected 1)", manifest.schema_version),
        });
    }
    let mut seen_ids = Vec::new();
    let mut seen_files = Vec::new();
    for m in &manifest.models {
        let model = m.id.clone();
        let mut fields: Vec<(&'static str, &str)> = vec![
            ("id", &m.id),
            ("task", &m.task),
            ("description", &m.description),
            ("file", &m.file),
            ("source path", &m.source.path),
            ("source package", &m.source.package),
        ];
        fields.extend(m.labels.iter().map(|l| ("label", l.as_str())));
        for (field, text) in fields {
            if let Some(term) = find_denied(text) {
                problems.push(ManifestProblem::Denied {
                    model: model.clone(),
                    field,
                    term,
                });
            }
        }
        if let Some(what) = known_biometric(&m.sha256) {
            problems.push(ManifestProblem::KnownBiometric {
                model: model.clone(),
                sha256: m.sha256.clone(),
                what,
            });
        }
        if !KNOWN_TASKS.contains(&m.task.as_str()) {
            problems.push(ManifestProblem::UnknownTask {
                model: model.clone(),
                task: m.task.clone(),
            });
        }
        let mut invalid = |problem: String| {
            problems.push(ManifestProblem::Invalid {
                model: model.clone(),
                problem,
            })
        };
        if m.id.is_empty()
            || !m
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            invalid("id must be non-empty lowercase letters, digits and '-'".into());
        }
        if seen_ids.contains(&m.id) {
            invalid("duplicate id".into());
        }
        seen_ids.push(m.id.clone());
        if seen_files.contains(&m.file) {
            invalid(format!("file '{}' is declared twice", m.file));
        }
        seen_files.push(m.file.clone());
        if m.file.contains('/') || m.file.contains("..") || !m.file.ends_with(".onnx") {
            invalid(format!("file '{}' must be a plain .onnx file name", m.file));
        }
        if !is_hex64(&m.sha256) {
            invalid("sha256 must be 64 lowercase hex digits".into());
        }
        if m.inputs.is_empty() || m.outputs.is_empty() {
            invalid("at least one input and one output must be declared".into());
        }
        if m.labels.is_empty() == m.labels_from_metadata.is_none() {
            invalid("declare exactly one of `labels` or `labels_from_metadata`".into());
        }
        if !["bgr", "rgb"].contains(&m.preprocess.channel_order.as_str()) {
            invalid(format!(
                "channel_order '{}' (expected bgr or rgb)",
                m.preprocess.channel_order
            ));
        }
        if ![
            "stretch",
            "letterbox",
            "keep_aspect_multiple_of_32",
            "height_keep_aspect",
        ]
        .contains(&m.preprocess.resize.as_str())
        {
            invalid(format!(
                "resize '{}' (expected stretch, letterbox, keep_aspect_multiple_of_32 or height_keep_aspect)",
                m.preprocess.resize
            ));
        }
        if m.preprocess.std.iter().any(|s| *s <= 0.0) {
            invalid("std values must be > 0".into());
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(problems)
    }
}
