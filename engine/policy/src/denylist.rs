//! The deny-list of biometric functions, shared by `build.rs` and the crate.
//!
//! Why a list of words and not only a closed `Task` enum: the enum stops code from *naming*
//! a biometric task, but a manifest entry could still smuggle one in under an allowed task
//! (an "object detector" whose labels are `face`, or an id like `arcface-embedding`). So
//! every string the manifest declares about a model (id, task, description, labels, file
//! and source path) is checked against this list, and the build fails on a match.
//!
//! Matching is deliberately broad (over-refusing only costs a rename): words are compared
//! after lower-casing and splitting on anything that is not a letter or digit, pairs of
//! adjacent words are compared joined (`head pose` -> `headpose`, `re id` -> `reid`), and a
//! few unambiguous stems are searched inside words (`blazeface`, `facemesh`, `gender_net`).
//!
//! This file is included with `#[path]` by build.rs, so it uses only `std`.

/// Whole words (or two adjacent words joined) that name a biometric function.
const DENIED_WORDS: &[&str] = &[
    "face",
    "faces",
    "facial",
    "landmark",
    "landmarks",
    "headpose",
    "reid",
    "reidentification",
    "reidentify",
    "personembedding",
    "personembeddings",
    "personreid",
    "gait",
    "iris",
    "fingerprint",
    "fingerprints",
    "voice",
    "voiceprint",
    "speaker",
    "age",
    "gender",
    "sex",
    "emotion",
    "emotions",
    "expression",
    "ethnicity",
    "ethnic",
    "race",
    "biometric",
    "biometrics",
    "pose",
    "skeleton",
    "keypoints",
    "liveness",
    "antispoof",
    "antispoofing",
    "palmprint",
    "retina",
    "lips",
    "mouth",
    "eye",
    "eyes",
];

/// Stems searched inside words: none of them occurs in an innocent English word that a
/// model manifest would plausibly contain.
const DENIED_STEMS: &[&str] = &[
    "face",
    "facial",
    "fingerprint",
    "biometric",
    "emotion",
    "gender",
    "ethnic",
    "landmark",
    "headpose",
    "reident",
    "antispoof",
    "liveness",
    "voiceprint",
    "faceid",
    "arcface",
    "insightface",
    "retinaface",
];

/// A deny-listed term found in some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedTerm {
    /// The deny-list entry that matched.
    pub term: &'static str,
    /// The text it was found in.
    pub text: String,
}

/// The first deny-listed term in `text`, if any.
pub fn find_denied(text: &str) -> Option<DeniedTerm> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let hit = |term: &'static str| {
        Some(DeniedTerm {
            term,
            text: text.to_string(),
        })
    };
    for w in &words {
        if let Some(t) = DENIED_WORDS.iter().find(|t| *t == w) {
            return hit(t);
        }
        if let Some(t) = DENIED_STEMS.iter().find(|t| w.contains(*t)) {
            return hit(t);
        }
    }
    for pair in words.windows(2) {
        let joined = format!("{}{}", pair[0], pair[1]);
        if let Some(t) = DENIED_WORDS.iter().find(|t| **t == joined) {
            return hit(t);
        }
    }
    None
}
