//! Parsing and checking `models/measured.toml` (the measured quality of allowlisted
//! models), shared by `build.rs` and the crate's tests.
//!
//! Why a compiled table: the exploitation report and the dossier state each model's
//! measured recall so that a search with no result is read for what it is. Those figures
//! must be the ones of the exact bytes vigie runs, so an entry names the model's id *and*
//! SHA-256, and the build fails when either no longer matches `models/manifest.toml` (a
//! changed model must be measured again, or its figures removed). Figures vigie can
//! reproduce on shared data are stored as counts (true/false positives, false negatives),
//! from which precision and recall are derived, so a number cannot disagree with its
//! counts; a test compares them with what `vigie eval detect` gives today. Figures measured
//! elsewhere (held-out data not shipped with vigie) are kept, marked as such.
//! Depends on `serde` and `toml` only.

use serde::Deserialize;

/// The row counting vehicles of any class (`vigie_detect::eval::ANY_VEHICLE`).
pub const ANY_VEHICLE: &str = "any vehicle";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredFile {
    pub schema_version: u32,
    #[serde(rename = "measurement", default)]
    pub measurements: Vec<MeasurementEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasurementEntry {
    /// The manifest id of the model measured.
    pub model: String,
    /// The SHA-256 of the bytes measured (must be the manifest's).
    pub sha256: String,
    /// `reproducible` (data under ../shared, checked by a test) or `held_out`.
    pub kind: String,
    pub dataset: String,
    pub split: String,
    #[serde(default)]
    pub images: Option<u64>,
    pub iou: f32,
    pub score_threshold: f32,
    pub vigie_version: String,
    pub command: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub note: Option<String>,
    pub classes: Vec<ClassEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassEntry {
    pub class: String,
    #[serde(default)]
    pub true_positives: Option<u64>,
    #[serde(default)]
    pub false_positives: Option<u64>,
    #[serde(default)]
    pub false_negatives: Option<u64>,
    /// Only for `held_out` entries without counts.
    #[serde(default)]
    pub recall: Option<f64>,
    #[serde(default)]
    pub precision: Option<f64>,
}

impl ClassEntry {
    /// `(recall, precision)`: from the counts when they are given, else as written.
    pub fn figures(&self) -> (Option<f64>, Option<f64>) {
        match (
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        ) {
            (Some(tp), Some(fp), Some(fn_)) => (
                (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64),
                (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64),
            ),
            _ => (self.recall, self.precision),
        }
    }
}

/// What the check needs to know of one manifest entry.
#[derive(Debug, Clone)]
pub struct KnownModel<'a> {
    pub id: &'a str,
    pub sha256: &'a str,
    /// Inline labels (empty when the labels come from the model's metadata).
    pub labels: &'a [String],
}

/// Why `models/measured.toml` was rejected.
#[derive(Debug, Clone, PartialEq)]
pub enum MeasuredProblem {
    Parse(String),
    UnknownModel {
        model: String,
    },
    OtherBytes {
        model: String,
        measured: String,
        manifest: String,
    },
    Invalid {
        model: String,
        dataset: String,
        problem: String,
    },
}

impl std::fmt::Display for MeasuredProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Parse(e) => write!(f, "models/measured.toml does not parse ({e}); fix its syntax"),
            Self::UnknownModel { model } => write!(
                f,
                "models/measured.toml: figures for '{model}', which is not in models/manifest.toml; remove them or add the model to the manifest"
            ),
            Self::OtherBytes { model, measured, manifest } => write!(
                f,
                "models/measured.toml: the figures for '{model}' were measured on sha256 {measured}, but the manifest now pins {manifest}; measure the new model again (vigie eval detect --json) or remove its figures"
            ),
            Self::Invalid { model, dataset, problem } => write!(
                f,
                "models/measured.toml: '{model}' on '{dataset}': {problem}"
            ),
        }
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Parse and check the measured figures against the manifest's models; every problem is
/// returned (the build prints them all).
pub fn check(text: &str, models: &[KnownModel<'_>]) -> Result<MeasuredFile, Vec<MeasuredProblem>> {
    let file: MeasuredFile =
        toml::from_str(text).map_err(|e| vec![MeasuredProblem::Parse(e.to_string())])?;
    let mut problems = Vec::new();
    if file.schema_version != 1 {
        problems.push(MeasuredProblem::Invalid {
            model: "-".into(),
            dataset: "-".into(),
            problem: format!("schema_version {} (expected 1)", file.schema_version),
        });
    }
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    for m in &file.measurements {
        let Some(known) = models.iter().find(|k| k.id == m.model) else {
            problems.push(MeasuredProblem::UnknownModel {
                model: m.model.clone(),
            });
            continue;
        };
        if known.sha256 != m.sha256 {
            problems.push(MeasuredProblem::OtherBytes {
                model: m.model.clone(),
                measured: m.sha256.clone(),
                manifest: known.sha256.to_owned(),
            });
        }
        let mut invalid = |problem: String| {
            problems.push(MeasuredProblem::Invalid {
                model: m.model.clone(),
                dataset: m.dataset.clone(),
                problem,
            })
        };
        if seen.contains(&(&m.model, &m.dataset, &m.kind)) {
            invalid("declared twice".into());
        }
        seen.push((&m.model, &m.dataset, &m.kind));
        let reproducible = match m.kind.as_str() {
            "reproducible" => true,
            "held_out" => false,
            other => {
                invalid(format!(
                    "kind '{other}' (expected reproducible or held_out)"
                ));
                continue;
            }
        };
        for (what, text) in [
            ("dataset", &m.dataset),
            ("split", &m.split),
            ("vigie_version", &m.vigie_version),
            ("command", &m.command),
        ] {
            if text.trim().is_empty() {
                invalid(format!("{what} is empty"));
            }
        }
        if !is_date(&m.date) {
            invalid(format!("date '{}' (expected YYYY-MM-DD)", m.date));
        }
        if !(m.iou > 0.0 && m.iou <= 1.0) {
            invalid(format!("iou {} (expected > 0 and <= 1)", m.iou));
        }
        if !(m.score_threshold > 0.0 && m.score_threshold < 1.0) {
            invalid(format!(
                "score_threshold {} (expected > 0 and < 1)",
                m.score_threshold
            ));
        }
        if reproducible {
            if m.images.is_none() {
                invalid("a reproducible measurement states its number of images".into());
            }
            if !m.command.starts_with("vigie eval detect") {
                invalid(
                    "a reproducible measurement's command is a `vigie eval detect` command line"
                        .into(),
                );
            }
        }
        if m.classes.is_empty() {
            invalid("no class".into());
        }
        let mut classes_seen: Vec<&str> = Vec::new();
        for c in &m.classes {
            if classes_seen.contains(&c.class.as_str()) {
                invalid(format!("class '{}' listed twice", c.class));
            }
            classes_seen.push(&c.class);
            if c.class != ANY_VEHICLE
                && !known.labels.is_empty()
                && !known.labels.contains(&c.class)
            {
                invalid(format!(
                    "class '{}' is not one of the model's labels",
                    c.class
                ));
            }
            let counts = [c.true_positives, c.false_positives, c.false_negatives];
            let all_counts = counts.iter().all(Option::is_some);
            if counts.iter().any(Option::is_some) && !all_counts {
                invalid(format!(
                    "class '{}': give true_positives, false_positives and false_negatives together",
                    c.class
                ));
            }
            if reproducible {
                if !all_counts {
                    invalid(format!(
                        "class '{}': a reproducible measurement gives counts, not figures",
                        c.class
                    ));
                }
                if c.recall.is_some() || c.precision.is_some() {
                    invalid(format!(
                        "class '{}': recall and precision are derived from the counts; remove them",
                        c.class
                    ));
                }
            } else if !all_counts && c.recall.is_none() {
                invalid(format!(
                    "class '{}': a held-out measurement gives at least the recall",
                    c.class
                ));
            }
            for (what, v) in [("recall", c.recall), ("precision", c.precision)] {
                if v.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                    invalid(format!(
                        "class '{}': {what} {} (expected 0 to 1)",
                        c.class,
                        v.unwrap_or_default()
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}
