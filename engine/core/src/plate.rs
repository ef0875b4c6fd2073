//! Licence-plate readings as stored with a track, and the pure text logic around them.
//!
//! Why here: the plate reader (`vigie-plate`, which runs models) produces a [`PlateRead`],
//! the index stores and searches it, and the CLI prints it. Searching (`--plate` wildcards,
//! `--plate-fuzzy`) must not depend on ONNX Runtime, so the text logic lives in this pure
//! crate and both sides share it.
//!
//! Reading a licence plate is not biometric processing (it identifies a vehicle, not a
//! person), but every search over plates is still logged as a consultation.

use serde::{Deserialize, Serialize};

/// The consensus reading of one vehicle's plate (over the frames of its track, or over
/// one still image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateRead {
    /// Normalised text: uppercase `A-Z0-9` only, separators removed (`AB123CD`).
    pub text: String,
    /// The text written as its format writes it (`AB-123-CD`, `1234 AB 56`); `text` when
    /// the format is unknown.
    pub display: String,
    /// Format id (`fr_siv`, `fr_fni`, ... see `plate::FORMATS`), `unknown` if none fits.
    pub format: String,
    /// 0..1: product of the per-character confidences, lowered for an unknown format.
    pub confidence: f32,
    /// One confidence per character of `text` (share of the vote it won, times the
    /// recogniser's probability).
    pub char_confidences: Vec<f32>,
    /// How many plate images (frames) took part in the vote.
    pub reads: u32,
    /// Time of the best plate image, ms from the start of the source.
    pub best_pts_ms: i64,
    /// Relative path of the best plate crop (JPEG) inside the case's derived data.
    pub crop: Option<String>,
}

// ---- Normalisation -------------------------------------------------------------------------

/// The Cyrillic letters that Ukrainian (and Russian, Bulgarian) plates use are exactly those
/// that look like Latin ones; a recogniser or an investigator may type either.
fn cyrillic_homoglyph(c: char) -> Option<char> {
    Some(match c {
        'А' | 'а' => 'A',
        'В' | 'в' => 'B',
        'С' | 'с' => 'C',
        'Е' | 'е' => 'E',
        'Н' | 'н' => 'H',
        'І' | 'і' => 'I',
        'К' | 'к' => 'K',
        'М' | 'м' => 'M',
        'О' | 'о' => 'O',
        'Р' | 'р' => 'P',
        'Т' | 'т' => 'T',
        'Х' | 'х' => 'X',
        _ => return None,
    })
}

/// The plate character `c` stands for (`A-Z`, `0-9`), if any.
fn plate_char(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        Some(c.to_ascii_uppercase())
    } else {
        cyrillic_homoglyph(c)
    }
}

/// Characters written between the groups of a plate (whitespace, `-`, `.`, `·`, `_`, `/`,
/// dashes), ignored in patterns and fuzzy texts.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '.' | '·' | '•' | '_' | '/' | '–' | '—')
}

/// Normalise a plate text: uppercase, keep only `A-Z` and `0-9` (separators, spaces and
/// any other character dropped; Cyrillic letters that look Latin become those Latin
/// letters). `"ab-123 cd"` -> `"AB123CD"`.
pub fn normalise(s: &str) -> String {
    s.chars().filter_map(plate_char).collect()
}

/// Fold a normalised text for matching: the letter `O` becomes the digit `0`.
///
/// Why: on French plates (and most others) O and 0 are drawn almost alike, recognisers
/// confuse them constantly, and SIV plates never use the letter O at all. Wildcard search,
/// storage (`text_fold` in the index) and the evaluation all treat them as equal.
pub fn fold(text_norm: &str) -> String {
    text_norm
        .chars()
        .map(|c| if c == 'O' { '0' } else { c })
        .collect()
}

// ---- Formats -------------------------------------------------------------------------------

/// What may stand at one position of a plate layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharClass {
    Letter,
    Digit,
    /// A letter or a digit, depending on the layout variant.
    Either,
}

/// One group of a layout, followed by the separator the format writes after it.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// `min..=max` characters, each one of `chars`.
    Run {
        chars: &'static str,
        min: u8,
        max: u8,
        sep: &'static str,
    },
    /// Exactly one of these codes (a Swiss canton, a Corsican department).
    OneOf {
        codes: &'static [&'static str],
        sep: &'static str,
    },
}

use Part::{OneOf, Run};

/// One way a format lays its characters out; `min_len..=max_len` bounds the whole text.
#[derive(Debug)]
struct Layout {
    parts: &'static [Part],
    min_len: u8,
    max_len: u8,
}

/// A national plate format: which normalised texts it accepts and how it writes them.
#[derive(Debug)]
pub struct PlateFormat {
    /// Stable id stored in the index (`fr_siv`, `fr_fni`, ...).
    pub id: &'static str,
    pub description: &'static str,
    /// A display example (`AB-123-CD`).
    pub example: &'static str,
    layouts: &'static [Layout],
}

/// The format id of a text no format fits.
pub const UNKNOWN_FORMAT: &str = "unknown";

const DIGITS: &str = "0123456789";
const DIGITS_1_9: &str = "123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// SIV: no I, O, U (too close to 1, 0, V).
const SIV_LETTERS: &str = "ABCDEFGHJKLMNPQRSTVWXYZ";
/// Italy: no I, O, Q, U.
const IT_LETTERS: &str = "ABCDEFGHJKLMNPRSTVWXYZ";
/// Spain: consonants only, no Ñ, Q.
const ES_LETTERS: &str = "BCDFGHJKLMNPRSTVWXYZ";
/// Netherlands (sidecodes 4 onwards): consonants, no C, M, Q, W, Y.
const NL_LETTERS: &str = "BDFGHJKLNPRSTVXZ";
/// Great Britain: no I, Q.
const GB_LETTERS: &str = "ABCDEFGHJKLMNOPRSTUVWXYZ";
/// Ukraine: the Cyrillic letters that have a Latin look-alike.
const UA_LETTERS: &str = "ABCEHIKMOPTX";
/// Czech region letters.
const CZ_REGIONS: &str = "ABCEHJKLMPSTUZ";
const CH_CANTONS: &[&str] = &[
    "AG", "AI", "AR", "BE", "BL", "BS", "FR", "GE", "GL", "GR", "JU", "LU", "NE", "NW", "OW", "SG",
    "SH", "SO", "SZ", "TG", "TI", "UR", "VD", "VS", "ZG", "ZH",
];

const fn run(chars: &'static str, min: u8, max: u8, sep: &'static str) -> Part {
    Run {
        chars,
        min,
        max,
        sep,
    }
}

/// Exactly one of `codes`, then `sep`.
const fn one_of(codes: &'static [&'static str], sep: &'static str) -> Part {
    OneOf { codes, sep }
}

/// A layout that takes every length its parts can fill.
const fn layout(parts: &'static [Part]) -> Layout {
    let (mut min_len, mut max_len, mut i) = (0, 0, 0);
    while i < parts.len() {
        match parts[i] {
            Run { min, max, .. } => {
                min_len += min;
                max_len += max;
            }
            OneOf { codes, .. } => {
                let (mut lo, mut hi, mut j) = (u8::MAX, 0, 0);
                while j < codes.len() {
                    let n = codes[j].len() as u8;
                    lo = if n < lo { n } else { lo };
                    hi = if n > hi { n } else { hi };
                    j += 1;
                }
                min_len += lo;
                max_len += hi;
            }
        }
        i += 1;
    }
    within(parts, min_len, max_len)
}

/// A layout narrower than its parts: only texts of `min_len..=max_len` characters.
const fn within(parts: &'static [Part], min_len: u8, max_len: u8) -> Layout {
    Layout {
        parts,
        min_len,
        max_len,
    }
}

/// The parts of a layout of runs, each `CHARS n "sep"` or `CHARS min..=max "sep"` (the
/// separator written after the group; none when left out): `runs![DIGITS 4 " ",
/// ES_LETTERS 3]` is Spain's `1234 BCD`.
macro_rules! runs {
    ($($chars:tt $min:literal $(..= $max:literal)? $($sep:literal)?),* $(,)?) => {
        &[$(run($chars, $min, runs!(@max $min $(, $max)?), runs!(@sep $($sep)?))),*]
    };
    (@max $min:literal) => { $min };
    (@max $min:literal, $max:literal) => { $max };
    (@sep) => { "" };
    (@sep $sep:literal) => { $sep };
}

/// Dutch sidecodes 1 to 14 (`L` letter, `D` digit), all six characters long.
macro_rules! nl {
    ($($a:ident $na:literal $b:ident $nb:literal $c:ident $nc:literal),* $(,)?) => {
        &[$(layout(runs![(nl!(@ $a)) $na "-", (nl!(@ $b)) $nb "-", (nl!(@ $c)) $nc])),*]
    };
    (@ L) => { NL_LETTERS };
    (@ D) => { DIGITS };
}

/// France FNI in Corsica and overseas: the department is a code, not two digits.
const FNI_CORSICA: &[Part] = &[
    run(DIGITS, 1, 4, " "),
    run(LETTERS, 2, 3, " "),
    one_of(&["2A", "2B"], ""),
];
const FNI_OVERSEAS: &[Part] = &[
    run(DIGITS, 1, 4, " "),
    run(LETTERS, 2, 3, " "),
    one_of(&["971", "972", "973", "974", "975", "976"], ""),
];

/// The known formats, in the order [`match_format`] tries them: the first that fits wins.
///
/// The order is for French investigators: the two French formats first, then the
/// neighbours, then the formats of the evaluation sets, then the loose ones. Ties that
/// text alone cannot break:
/// - `LLDDDLL` is France SIV, Italy and Slovakia alike. It is reported `fr_siv` when its
///   letters are all SIV letters (no I, O, U), else `sk`. Italy's letters are a subset
///   of SIV's, so `it` is never the first fit: it is listed for [`PlateFormat::fits`] and
///   [`PlateFormat::display`] when the country is known otherwise.
/// - `LLDDDD` with consonants only is a Swiss plate when `LL` is a canton, else Dutch.
/// - `de` accepts any letters-then-digits text (`L{2,5} D{1,4}`, optional `E`/`H`), so it
///   is tried last; without separators the district code cannot be told from the
///   letters that follow it, so it is displayed `MAB 1234`, not `M-AB 1234`.
///
/// Austria and most other countries' plates (free letter and digit runs) are left
/// `unknown`: a format that accepts everything validates nothing.
pub static FORMATS: &[PlateFormat] = &[
    PlateFormat {
        id: "fr_siv",
        description: "France, SIV (since 2009): AA-123-AA, letters without I, O, U",
        example: "AB-123-CD",
        layouts: &[layout(
            runs![SIV_LETTERS 2 "-", DIGITS 3 "-", SIV_LETTERS 2],
        )],
    },
    PlateFormat {
        id: "fr_fni",
        description: "France, FNI (before 2009): 1 to 4 digits, 2 or 3 letters, department \
                      (2 digits, 2A/2B, or 971-976)",
        example: "1234 AB 56",
        // At most 8 characters before the department's digits: 4 digits and 3 letters
        // never go together.
        layouts: &[
            within(runs![DIGITS 1..=4 " ", LETTERS 2..=3 " ", DIGITS 2], 5, 8),
            within(FNI_CORSICA, 5, 8),
            within(FNI_OVERSEAS, 6, 9),
        ],
    },
    PlateFormat {
        id: "be",
        description: "Belgium (since 2010): 1-ABC-123",
        example: "1-ABC-123",
        layouts: &[layout(runs![DIGITS_1_9 1 "-", LETTERS 3 "-", DIGITS 3])],
    },
    PlateFormat {
        id: "ch",
        description: "Switzerland: canton code and up to 6 digits, GE 123456",
        example: "GE 123456",
        layouts: &[layout(&[
            one_of(CH_CANTONS, " "),
            run(DIGITS_1_9, 1, 1, ""),
            run(DIGITS, 0, 5, ""),
        ])],
    },
    PlateFormat {
        id: "es",
        description: "Spain (since 2000): 1234 BCD, consonants only",
        example: "1234 BCD",
        layouts: &[layout(runs![DIGITS 4 " ", ES_LETTERS 3])],
    },
    PlateFormat {
        id: "nl",
        description: "Netherlands, sidecodes 1 to 14: six characters in three groups, \
                      GV-123-B",
        example: "GV-123-B",
        layouts: nl![
            L 2 D 2 D 2, D 2 D 2 L 2, D 2 L 2 D 2, L 2 D 2 L 2, L 2 L 2 D 2, D 2 L 2 L 2,
            D 2 L 3 D 1, D 1 L 3 D 2, L 2 D 3 L 1, L 1 D 3 L 2, L 3 D 2 L 1, L 1 D 2 L 3,
            D 1 L 2 D 3, D 3 L 2 D 1,
        ],
    },
    PlateFormat {
        id: "gb",
        description: "Great Britain (since 2001): AB12 CDE",
        example: "AB12 CDE",
        layouts: &[layout(runs![GB_LETTERS 2, DIGITS 2 " ", GB_LETTERS 3])],
    },
    PlateFormat {
        id: "it",
        description: "Italy (since 1994): AB 123 CD, letters without I, O, Q, U",
        example: "AB 123 CD",
        layouts: &[layout(runs![IT_LETTERS 2 " ", DIGITS 3 " ", IT_LETTERS 2])],
    },
    PlateFormat {
        id: "sk",
        description: "Slovakia: district code, 3 digits, 2 letters, PP-587AO",
        example: "PP-587AO",
        layouts: &[layout(runs![LETTERS 2 "-", DIGITS 3, LETTERS 2])],
    },
    PlateFormat {
        id: "cz",
        description: "Czechia: digit, region letter, digit or letter, 4 digits, 1T4 3213",
        example: "1T4 3213",
        layouts: &[layout(
            runs![DIGITS_1_9 1, CZ_REGIONS 1, ALNUM 1 " ", DIGITS 4],
        )],
    },
    PlateFormat {
        id: "ua",
        description: "Ukraine: AI 5255 EI (cars), 6808 XO (motorcycles), 10922 BX (trailers); \
                      Latin look-alike letters only",
        example: "AI 5255 EI",
        layouts: &[
            layout(runs![UA_LETTERS 2 " ", DIGITS 4 " ", UA_LETTERS 2]),
            layout(runs![DIGITS 4..=5 " ", UA_LETTERS 2]),
        ],
    },
    PlateFormat {
        id: "pl",
        description: "Poland: 2 or 3 letters (county), then a digit and 3 or 4 letters or \
                      digits, WA 12345",
        example: "WA 12345",
        // 7 or 8 characters: after 2 letters, 4 follow the digit.
        layouts: &[within(
            runs![LETTERS 2..=3 " ", DIGITS 1, ALNUM 3..=4],
            7,
            8,
        )],
    },
    PlateFormat {
        id: "de",
        description: "Germany (loose: district and letters cannot be told apart without \
                      separators): 2 to 5 letters, 1 to 4 digits, optional E or H",
        example: "MAB 1234",
        // At most 8 characters before the optional E or H.
        layouts: &[within(
            runs![LETTERS 2..=5 " ", DIGITS 1..=4, "EH" 0..=1],
            3,
            9,
        )],
    },
];

fn char_bit(c: u8) -> u64 {
    match c {
        b'0'..=b'9' => 1 << (c - b'0'),
        b'A'..=b'Z' => 1 << (10 + c - b'A'),
        _ => 0,
    }
}

fn set_mask(chars: &str) -> u64 {
    chars.bytes().fold(0, |m, c| m | char_bit(c))
}

const DIGIT_MASK: u64 = (1 << 10) - 1;
const LETTER_MASK: u64 = ((1 << 36) - 1) & !DIGIT_MASK;

impl Layout {
    /// Group lengths that split `text` along this layout (longest runs first), if any.
    fn split(&self, text: &[u8]) -> Option<Vec<usize>> {
        fn go(parts: &[Part], text: &[u8], out: &mut Vec<usize>) -> bool {
            let Some((part, rest)) = parts.split_first() else {
                return text.is_empty();
            };
            match *part {
                Run {
                    chars, min, max, ..
                } => {
                    let mask = set_mask(chars);
                    let fit = text
                        .iter()
                        .take(max as usize)
                        .take_while(|c| char_bit(**c) & mask != 0)
                        .count();
                    for k in (min as usize..=fit).rev() {
                        out.push(k);
                        if go(rest, &text[k..], out) {
                            return true;
                        }
                        out.pop();
                    }
                    false
                }
                OneOf { codes, .. } => {
                    for code in codes {
                        if text.starts_with(code.as_bytes()) {
                            out.push(code.len());
                            if go(rest, &text[code.len()..], out) {
                                return true;
                            }
                            out.pop();
                        }
                    }
                    false
                }
            }
        }
        if !(self.min_len as usize..=self.max_len as usize).contains(&text.len()) {
            return None;
        }
        let mut out = Vec::with_capacity(self.parts.len());
        go(self.parts, text, &mut out).then_some(out)
    }

    /// Per position, the union over every way of filling `len` characters of the
    /// characters allowed there (bit masks, see `char_bit`).
    fn allowed(&self, len: usize) -> Option<Vec<u64>> {
        fn go(parts: &[Part], len: usize, path: &mut Vec<u64>, acc: &mut Option<Vec<u64>>) {
            let Some((part, rest)) = parts.split_first() else {
                if path.len() == len {
                    match acc {
                        Some(a) => a.iter_mut().zip(path.iter()).for_each(|(a, p)| *a |= p),
                        None => *acc = Some(path.clone()),
                    }
                }
                return;
            };
            match *part {
                Run {
                    chars, min, max, ..
                } => {
                    let mask = set_mask(chars);
                    for k in min as usize..=max as usize {
                        if path.len() + k > len {
                            break;
                        }
                        path.extend(std::iter::repeat_n(mask, k));
                        go(rest, len, path, acc);
                        path.truncate(path.len() - k);
                    }
                }
                OneOf { codes, .. } => {
                    for code in codes {
                        if path.len() + code.len() > len {
                            continue;
                        }
                        path.extend(code.bytes().map(char_bit));
                        go(rest, len, path, acc);
                        path.truncate(path.len() - code.len());
                    }
                }
            }
        }
        if !(self.min_len as usize..=self.max_len as usize).contains(&len) {
            return None;
        }
        let mut acc = None;
        go(self.parts, len, &mut Vec::with_capacity(len), &mut acc);
        acc
    }
}

impl PlateFormat {
    /// Whether this format accepts the normalised text (`AB123CD`).
    pub fn fits(&self, text_norm: &str) -> bool {
        self.layouts
            .iter()
            .any(|l| l.split(text_norm.as_bytes()).is_some())
    }

    /// The text as this format writes it (`AB-123-CD`); the text unchanged when it does
    /// not fit.
    pub fn display(&self, text_norm: &str) -> String {
        let bytes = text_norm.as_bytes();
        for l in self.layouts {
            let Some(lengths) = l.split(bytes) else {
                continue;
            };
            let mut out = String::with_capacity(text_norm.len() + 3);
            let mut at = 0;
            let n = lengths.len();
            for (i, (part, k)) in l.parts.iter().zip(lengths).enumerate() {
                out.push_str(&text_norm[at..at + k]);
                at += k;
                let sep = match part {
                    Run { sep, .. } | OneOf { sep, .. } => *sep,
                };
                // No separator after an empty group or at the end.
                if k > 0 && i + 1 < n && at < text_norm.len() {
                    out.push_str(sep);
                }
            }
            return out;
        }
        text_norm.to_string()
    }

    /// Per position, the characters this format allows in a text of `len` characters
    /// (the union over its layout variants; sorted, digits first); `None` if it has no
    /// layout of that length. Finer than [`PlateFormat::classes`]: SIV letters exclude
    /// I, O and U.
    pub fn allowed(&self, len: usize) -> Option<Vec<String>> {
        let masks = self.allowed_masks(len)?;
        Some(
            masks
                .iter()
                .map(|m| {
                    ALNUM
                        .chars()
                        .filter(|c| char_bit(*c as u8) & m != 0)
                        .collect()
                })
                .collect(),
        )
    }

    fn allowed_masks(&self, len: usize) -> Option<Vec<u64>> {
        let mut acc: Option<Vec<u64>> = None;
        for l in self.layouts {
            if let Some(m) = l.allowed(len) {
                match &mut acc {
                    Some(a) => a.iter_mut().zip(m).for_each(|(a, m)| *a |= m),
                    None => acc = Some(m),
                }
            }
        }
        acc
    }

    /// Per-position class for texts of `len` characters (letter, digit, or either one
    /// depending on the layout variant); `None` if the format has no layout of that length.
    pub fn classes(&self, len: usize) -> Option<Vec<CharClass>> {
        let masks = self.allowed_masks(len)?;
        Some(
            masks
                .iter()
                .map(|m| match (m & DIGIT_MASK != 0, m & LETTER_MASK != 0) {
                    (true, false) => CharClass::Digit,
                    (false, true) => CharClass::Letter,
                    _ => CharClass::Either,
                })
                .collect(),
        )
    }

    /// The lengths this format's texts can have, shortest first.
    pub fn lengths(&self) -> Vec<usize> {
        (1..=16)
            .filter(|n| self.layouts.iter().any(|l| l.allowed(*n).is_some()))
            .collect()
    }
}

/// The first format of [`FORMATS`] that fits the normalised text.
pub fn match_format(text_norm: &str) -> Option<&'static PlateFormat> {
    FORMATS.iter().find(|f| f.fits(text_norm))
}

/// The format with this id.
pub fn format_by_id(id: &str) -> Option<&'static PlateFormat> {
    FORMATS.iter().find(|f| f.id == id)
}

/// The display text and the format id of a normalised text: `("AB-123-CD", "fr_siv")`,
/// or the text as is and [`UNKNOWN_FORMAT`] when no format fits.
pub fn display_of(text_norm: &str) -> (String, &'static str) {
    match match_format(text_norm) {
        Some(f) => (f.display(text_norm), f.id),
        None => (text_norm.to_string(), UNKNOWN_FORMAT),
    }
}

// ---- Wildcard patterns ---------------------------------------------------------------------

/// The longest pattern or fuzzy text accepted, in characters after normalisation (plates
/// have at most 10).
pub const MAX_PLATE_QUERY_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tok {
    /// A folded plate character (`O` already `0`).
    Char(u8),
    /// `?`: exactly one character.
    One,
    /// `*`: any run, possibly empty.
    Any,
}

/// A plate pattern as investigators type it: `AB-1?3-*`.
///
/// `?` stands for exactly one character, `*` for any run (possibly empty); separators
/// (spaces, `-`, `.`) are ignored, letters are case-insensitive, and the letter O and the
/// digit 0 are equal. The pattern must match the whole plate: `AB1*` is "starts with
/// AB1", `*123*` is "contains 123".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlatePattern {
    /// Canonical form: normalised, `*` runs collapsed (`AB1?3*`); parses to itself.
    canonical: String,
    tokens: Vec<Tok>,
}

/// Why a plate pattern was refused. The message names the problem and the fix; it does
/// not repeat the pattern (callers show it, last).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatePatternError {
    #[error(
        "the plate pattern is empty: give the characters you can read, ? for one unsure \
         character and * for an unread run, e.g. 'AB-1?3-*'"
    )]
    Empty,
    #[error(
        "a pattern of only * matches every plate: give at least one letter, digit or ?, \
         e.g. 'AB*'"
    )]
    OnlyAny,
    #[error(
        "character {ch:?} (position {position}) is not allowed in a plate pattern: use \
         letters A-Z, digits 0-9, separators (space - .), ? for exactly one character and * \
         for any run, e.g. 'AB-1?3-*'"
    )]
    BadChar { ch: char, position: usize },
    #[error(
        "the plate pattern has {len} characters, more than {max}: plates have at most 10; \
         use * for a run you cannot read"
    )]
    TooLong { len: usize, max: usize },
}

impl PlatePattern {
    /// Parse a pattern (see the type's documentation for the syntax).
    pub fn parse(s: &str) -> Result<PlatePattern, PlatePatternError> {
        let mut canonical = String::new();
        let mut tokens = Vec::new();
        for (i, c) in s.chars().enumerate() {
            let tok = match c {
                '?' => Tok::One,
                '*' => Tok::Any,
                c if is_separator(c) => continue,
                c => match plate_char(c) {
                    Some(p) => Tok::Char(if p == 'O' { b'0' } else { p as u8 }),
                    None => {
                        return Err(PlatePatternError::BadChar {
                            ch: c,
                            position: i + 1,
                        })
                    }
                },
            };
            if tok == Tok::Any && tokens.last() == Some(&Tok::Any) {
                continue;
            }
            canonical.push(match c {
                '?' | '*' => c,
                c => plate_char(c).unwrap_or(c),
            });
            tokens.push(tok);
        }
        if tokens.is_empty() {
            return Err(PlatePatternError::Empty);
        }
        if tokens.iter().all(|t| *t == Tok::Any) {
            return Err(PlatePatternError::OnlyAny);
        }
        if tokens.len() > MAX_PLATE_QUERY_LEN {
            return Err(PlatePatternError::TooLong {
                len: tokens.len(),
                max: MAX_PLATE_QUERY_LEN,
            });
        }
        Ok(PlatePattern { canonical, tokens })
    }

    /// The canonical form (`AB1?3*`): normalised, separators dropped, `*` runs collapsed.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// Whether the pattern has no wildcard (it names one plate).
    pub fn is_exact(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Tok::Char(_)))
    }

    /// Whether the normalised plate text matches (whole text, O and 0 equal).
    pub fn matches(&self, text_norm: &str) -> bool {
        let text = fold(text_norm).into_bytes();
        let p = &self.tokens;
        // Iterative glob matching: on a mismatch, go back to the last `*` and let it
        // swallow one more character.
        let (mut ti, mut pi) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(Tok::One) => {
                    ti += 1;
                    pi += 1;
                }
                Some(Tok::Char(c)) if *c == text[ti] => {
                    ti += 1;
                    pi += 1;
                }
                Some(Tok::Any) => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|t| *t == Tok::Any)
    }

    /// The pattern as an SQLite `GLOB` pattern over [`fold`]ed text (`AB1?3*`). Plate
    /// characters are never special to GLOB, so nothing needs escaping; a pattern that
    /// starts with literal characters lets SQLite search an index on the folded text.
    pub fn to_glob(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                Tok::Char(c) => *c as char,
                Tok::One => '?',
                Tok::Any => '*',
            })
            .collect()
    }
}

impl std::fmt::Display for PlatePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl std::str::FromStr for PlatePattern {
    type Err = PlatePatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlatePattern::parse(s)
    }
}

impl TryFrom<String> for PlatePattern {
    type Error = PlatePatternError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PlatePattern::parse(&s)
    }
}

impl From<PlatePattern> for String {
    fn from(p: PlatePattern) -> String {
        p.canonical
    }
}

// ---- Fuzzy matching ------------------------------------------------------------------------

/// Characters that recognisers (and eyes, on a blurred frame) mistake for one another.
/// O and 0 are not just confusable but equal (see [`fold`]).
pub const CONFUSION_GROUPS: &[&str] = &["0ODQ", "1IL", "8B", "5S", "2Z", "6G", "7T"];

/// Cost of substituting a character by another of its confusion group.
pub const CONFUSION_COST: f32 = 0.2;

/// Below this [`fuzzy_likelihood`] a candidate plate is not returned by `--plate-fuzzy`.
///
/// `exp(-1.4)`: a weighted edit cost of at most 1.4 — one character wrong beyond OCR
/// confusions plus up to two confusions, or up to seven confusions — is kept; two
/// characters wrong (cost 2) are not.
pub const FUZZY_MIN_LIKELIHOOD: f32 = 0.246;

/// Confusion group of each ASCII byte, plus one (0: none); built from
/// [`CONFUSION_GROUPS`] at compile time.
const GROUP_OF: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut g = 0;
    while g < CONFUSION_GROUPS.len() {
        let b = CONFUSION_GROUPS[g].as_bytes();
        let mut i = 0;
        while i < b.len() {
            t[b[i] as usize] = g as u8 + 1;
            i += 1;
        }
        g += 1;
    }
    t
};

fn substitution_cost(a: char, b: char) -> f32 {
    let fold1 = |c: char| if c == 'O' { '0' } else { c };
    let (a, b) = (fold1(a), fold1(b));
    let group = |c: char| GROUP_OF.get(c as usize).copied().unwrap_or(0);
    if a == b {
        0.0
    } else if group(a) != 0 && group(a) == group(b) {
        CONFUSION_COST
    } else {
        1.0
    }
}

/// Map each character to the first of its confusion group (`B` -> `8`, `O`/`D`/`Q` ->
/// `0`, ...). Two characters substitute for less than a whole error exactly when their
/// folds are equal, which lets the index look plates up by this fold (see
/// `vigie-index`'s fuzzy search).
pub fn confusion_fold(text_norm: &str) -> String {
    text_norm
        .chars()
        .map(|c| match GROUP_OF.get(c as usize).copied().unwrap_or(0) {
            0 => c,
            g => CONFUSION_GROUPS[g as usize - 1].as_bytes()[0] as char,
        })
        .collect()
}

/// Weighted edit distance between two normalised texts: a substitution within a
/// confusion group ([`CONFUSION_GROUPS`]) costs [`CONFUSION_COST`], O for 0 nothing, any
/// other substitution, insertion or deletion 1.
pub fn fuzzy_cost(query_norm: &str, candidate_norm: &str) -> f32 {
    // Plate texts are short ASCII: two rows on the stack, no allocation (a fuzzy search
    // scores every plate of a case).
    const ROW: usize = MAX_PLATE_QUERY_LEN + 1;
    let (q, c) = (query_norm.as_bytes(), candidate_norm.as_bytes());
    if !(query_norm.is_ascii() && candidate_norm.is_ascii()) || c.len() >= ROW {
        let q: Vec<char> = query_norm.chars().collect();
        let c: Vec<char> = candidate_norm.chars().collect();
        return edit_cost(
            &q,
            &c,
            &mut vec![0.0; c.len() + 1],
            &mut vec![0.0; c.len() + 1],
        );
    }
    let (mut prev, mut cur) = ([0.0f32; ROW], [0.0f32; ROW]);
    edit_cost(q, c, &mut prev[..=c.len()], &mut cur[..=c.len()])
}

/// Weighted Levenshtein over two rows of `c.len() + 1` cells.
fn edit_cost<T: Copy + Into<char>>(q: &[T], c: &[T], prev: &mut [f32], cur: &mut [f32]) -> f32 {
    for (j, v) in prev.iter_mut().enumerate() {
        *v = j as f32;
    }
    let (mut prev, mut cur) = (prev, cur);
    for (i, qc) in q.iter().enumerate() {
        cur[0] = (i + 1) as f32;
        for (j, cc) in c.iter().enumerate() {
            cur[j + 1] = (prev[j] + substitution_cost((*qc).into(), (*cc).into()))
                .min(prev[j + 1] + 1.0)
                .min(cur[j] + 1.0);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[c.len()]
}

/// How likely `candidate_norm` is the plate the investigator read as `query_norm`, in
/// 0..1: `exp(-fuzzy_cost)`. Equal texts give 1; each OCR confusion multiplies by
/// `exp(-0.2)` (0.82); each other error by `exp(-1)` (0.37).
pub fn fuzzy_likelihood(query_norm: &str, candidate_norm: &str) -> f32 {
    (-fuzzy_cost(query_norm, candidate_norm)).exp()
}

/// The largest length difference a candidate can have and still reach
/// [`FUZZY_MIN_LIKELIHOOD`] (each inserted or deleted character costs 1): a prefilter.
pub fn fuzzy_max_len_diff() -> usize {
    (-FUZZY_MIN_LIKELIHOOD.ln()).floor() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layout narrowed with `within` stays inside what its parts can fill.
    #[test]
    fn layout_bounds_lie_within_their_parts() {
        for f in FORMATS {
            for l in f.layouts {
                let filled = layout(l.parts);
                assert!(
                    filled.min_len <= l.min_len
                        && l.min_len <= l.max_len
                        && l.max_len <= filled.max_len,
                    "{}: {}..={} outside {}..={}",
                    f.id,
                    l.min_len,
                    l.max_len,
                    filled.min_len,
                    filled.max_len
                );
            }
        }
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalise("ab-123 cd"), "AB123CD");
        assert_eq!(normalise(" 1234·AB.56 "), "1234AB56");
        assert_eq!(normalise("АІ 5255 ЕІ"), "AI5255EI", "Cyrillic look-alikes");
        assert_eq!(normalise("é#!"), "");
        assert_eq!(fold("RKO26AJ"), "RK026AJ");
    }

    fn id(text: &str) -> &'static str {
        display_of(text).1
    }

    #[test]
    fn formats_recognise_their_examples() {
        for f in FORMATS {
            let n = normalise(f.example);
            assert!(
                f.fits(&n),
                "{} does not fit its example {}",
                f.id,
                f.example
            );
            assert_eq!(f.display(&n), f.example, "{}", f.id);
            assert!(f.lengths().contains(&n.len()), "{}", f.id);
        }
        // Ids are unique.
        for (i, f) in FORMATS.iter().enumerate() {
            assert!(FORMATS[i + 1..].iter().all(|g| g.id != f.id), "{}", f.id);
            assert_eq!(format_by_id(f.id).map(|g| g.id), Some(f.id));
        }
    }

    #[test]
    fn which_format_wins() {
        assert_eq!(display_of("AB123CD"), ("AB-123-CD".into(), "fr_siv"));
        assert_eq!(display_of("1234AB56"), ("1234 AB 56".into(), "fr_fni"));
        assert_eq!(display_of("123ABC2A"), ("123 ABC 2A".into(), "fr_fni"));
        assert_eq!(display_of("12AB974"), ("12 AB 974".into(), "fr_fni"));
        assert_eq!(display_of("1ABC123"), ("1-ABC-123".into(), "be"));
        assert_eq!(display_of("1234BCD"), ("1234 BCD".into(), "es"));
        assert_eq!(display_of("SG47471"), ("SG 47471".into(), "ch"));
        assert_eq!(
            display_of("PP587AO"),
            ("PP-587AO".into(), "sk"),
            "O is no SIV letter"
        );
        assert_eq!(display_of("BA268IM"), ("BA-268IM".into(), "sk"));
        assert_eq!(
            display_of("RK755AJ").1,
            "fr_siv",
            "SIV letters: the tie goes to SIV"
        );
        assert_eq!(display_of("1T43213"), ("1T4 3213".into(), "cz"));
        assert_eq!(display_of("AI5255EI"), ("AI 5255 EI".into(), "ua"));
        assert_eq!(display_of("6808XO"), ("6808 XO".into(), "ua"));
        assert_eq!(display_of("AB12CDE"), ("AB12 CDE".into(), "gb"));
        assert_eq!(display_of("GV123B"), ("GV-123-B".into(), "nl"));
        assert_eq!(display_of("WA1234X"), ("WA 1234X".into(), "pl"));
        assert_eq!(
            display_of("MAB1234").1,
            "pl",
            "Polish before the loose German"
        );
        assert_eq!(display_of("MAB123"), ("MAB 123".into(), "de"));
        assert_eq!(display_of("MAB12H"), ("MAB 12H".into(), "de"));
        for junk in [
            "",
            "A",
            "ABCDEFGHIJK",
            "123456789012",
            "AB-123-CD",
            "ab123cd",
        ] {
            assert_eq!(id(junk), UNKNOWN_FORMAT, "{junk:?}");
            assert_eq!(display_of(junk).0, junk);
        }
        // SIV letters exclude I, O, U; its digits are digits.
        let siv = format_by_id("fr_siv").unwrap();
        assert!(!siv.fits("AI123CD") && !siv.fits("AB12XCD") && !siv.fits("AB123C"));
        let it = format_by_id("it").unwrap();
        assert!(it.fits("AB123CD") && !it.fits("AQ123CD"));
        assert_eq!(it.display("AB123CD"), "AB 123 CD");
        assert_eq!(it.display("nonsense"), "nonsense");
    }

    #[test]
    fn classes_per_position() {
        use CharClass::{Digit as D, Either as E, Letter as L};
        let siv = format_by_id("fr_siv").unwrap();
        assert_eq!(siv.classes(7), Some(vec![L, L, D, D, D, L, L]));
        assert_eq!(siv.classes(8), None);
        assert_eq!(siv.allowed(7).unwrap()[0], SIV_LETTERS);
        let fni = format_by_id("fr_fni").unwrap();
        // 8 characters: 4 digits + 2 letters + dept, 3 + 3 + dept, or 3 + 2 / 2 + 3 + an
        // overseas dept (971-976); a dept's second character may be A or B (Corsica).
        assert_eq!(fni.classes(8), Some(vec![D, D, E, E, L, E, D, E]));
        assert_eq!(fni.classes(4), None);
        let cz = format_by_id("cz").unwrap();
        assert_eq!(cz.classes(7), Some(vec![D, L, E, D, D, D, D]));
        let ua = format_by_id("ua").unwrap();
        assert_eq!(ua.classes(8), Some(vec![L, L, D, D, D, D, L, L]));
        assert_eq!(ua.lengths(), vec![6, 7, 8]);
        // Every text a format fits is allowed position by position.
        for f in FORMATS {
            let n = normalise(f.example);
            let allowed = f.allowed(n.len()).unwrap();
            for (c, set) in n.chars().zip(&allowed) {
                assert!(set.contains(c), "{}: {c} not in {set}", f.id);
            }
        }
    }

    fn pat(s: &str) -> PlatePattern {
        PlatePattern::parse(s).unwrap()
    }

    #[test]
    fn wildcards() {
        let p = pat("AB-1?3-*");
        assert_eq!(p.as_str(), "AB1?3*");
        assert_eq!(p, pat("ab 1?3 **"), "separators, case and * runs");
        assert!(p.matches("AB123CD") && p.matches("AB193") && p.matches("AB1X3ZZZ"));
        assert!(!p.matches("AB13CD") && !p.matches("XAB123CD") && !p.matches("AB12"));
        assert!(pat("*123*").matches("AB123CD") && pat("*123*").matches("123"));
        assert!(!pat("*123*").matches("AB124CD"));
        assert!(pat("*CD").matches("AB123CD") && !pat("*CD").matches("AB123CE"));
        assert!(pat("A*B*C").matches("AXXBYYC") && !pat("A*B*C").matches("AXXBYY"));
        assert!(pat("???????").matches("AB123CD") && !pat("???????").matches("AB123C"));
        // O and 0 are one character, on either side.
        assert!(pat("RK026AJ").matches("RKO26AJ") && pat("RKO26AJ").matches("RK026AJ"));
        assert!(pat("AB-123-CD").is_exact() && !p.is_exact());
        assert_eq!(pat("ro-1?3*").to_glob(), "R01?3*");
        assert_eq!(pat("ro-1?3*").as_str(), "RO1?3*");
        // Round trip of the canonical form, and serde as a string.
        assert_eq!(pat(p.as_str()), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"AB1?3*\"");
        assert_eq!(serde_json::from_str::<PlatePattern>(&json).unwrap(), p);
        assert!(serde_json::from_str::<PlatePattern>("\"*\"").is_err());
    }

    #[test]
    fn malformed_patterns_say_how_to_fix_them() {
        for (s, want) in [
            ("", PlatePatternError::Empty),
            (" - . ", PlatePatternError::Empty),
            ("*", PlatePatternError::OnlyAny),
            ("* - *", PlatePatternError::OnlyAny),
            (
                "AB#1",
                PlatePatternError::BadChar {
                    ch: '#',
                    position: 3,
                },
            ),
            (
                "AB12%",
                PlatePatternError::BadChar {
                    ch: '%',
                    position: 5,
                },
            ),
        ] {
            assert_eq!(PlatePattern::parse(s), Err(want), "{s:?}");
        }
        assert!(matches!(
            PlatePattern::parse("ABCDEFGHIJKLMNOPQ"),
            Err(PlatePatternError::TooLong { len: 17, .. })
        ));
        let msg = PlatePattern::parse("AB#").unwrap_err().to_string();
        assert!(
            msg.contains("'#'") && msg.contains("? for exactly one"),
            "{msg}"
        );
        let msg = PlatePattern::parse("*").unwrap_err().to_string();
        assert!(msg.contains("at least one letter"), "{msg}");
    }

    #[test]
    fn fuzzy() {
        assert_eq!(fuzzy_likelihood("AB123CD", "AB123CD"), 1.0);
        assert_eq!(
            fuzzy_likelihood("AB123CD", "AB123CO".replace('O', "0").as_str()),
            { (-CONFUSION_COST).exp() }
        );
        // Three OCR confusions (B/8, 1/I, D/O): still high.
        let high = fuzzy_likelihood("AB123CD", "A8I23CO");
        assert!((high - (-0.6f32).exp()).abs() < 1e-6, "{high}");
        assert!(high > 0.5, "{high}");
        // Nothing in common.
        assert!(fuzzy_likelihood("AB123CD", "XY999ZZ") < 0.01);
        // One character wrong beyond confusions is returned, two are not.
        let one = fuzzy_likelihood("AB123CD", "AB123CF");
        let two = fuzzy_likelihood("AB123CD", "AB124CF");
        assert!(
            one >= FUZZY_MIN_LIKELIHOOD && two < FUZZY_MIN_LIKELIHOOD,
            "{one} {two}"
        );
        // A missing or extra character costs one.
        assert!((fuzzy_cost("AB123CD", "AB23CD") - 1.0).abs() < 1e-6);
        assert!((fuzzy_cost("AB123CD", "AB1234CD") - 1.0).abs() < 1e-6);
        // O and 0 equal; a closer plate ranks above.
        assert_eq!(fuzzy_cost("RKO26AJ", "RK026AJ"), 0.0);
        assert!(fuzzy_likelihood("AB123CD", "AB123C0") > fuzzy_likelihood("AB123CD", "AB123CF"));
        assert_eq!(fuzzy_cost("", "ABC"), 3.0);
        assert_eq!(fuzzy_max_len_diff(), 1);
        assert_eq!(confusion_fold("AB123CD"), confusion_fold("A8I23CO"));
        assert_eq!(confusion_fold("DOQ0LIT7GS"), "0000117765");
        // The index's fuzzy prefilter relies on at most one whole error being allowed.
        assert!(FUZZY_MIN_LIKELIHOOD > (-2.0f32).exp());
        // Symmetric.
        assert_eq!(
            fuzzy_cost("A8I23", "AB123CD"),
            fuzzy_cost("AB123CD", "A8I23")
        );
    }
}
