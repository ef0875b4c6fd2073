//! The consensus of several reads of one plate (the frames of a track), checked against
//! the known plate formats.
//!
//! Why character-level and format-aware: a plate seen in 20 frames is rarely read the same
//! way in all of them (motion blur, a reflection on one character), but each character is
//! usually right in most. So reads of the most supported length vote position by position,
//! each weighted by its image's quality and spread over the recogniser's runners-up
//! (a `0` read at 0.6 with `O` at 0.3 gives `O` 0.3 of a vote). Then, per known format
//! (`vigie_core::plate::FORMATS`), the best string whose letters and digits fall where the
//! format wants them is compared with the unconstrained best: a format that explains the
//! votes almost as well wins (this is what turns `AB-I23-CD` into `AB-123-CD`); otherwise
//! the unconstrained text is kept, flagged `unknown`, with a lower confidence.

use std::collections::BTreeMap;

use vigie_core::plate::{CharClass, FORMATS};

use crate::recognise::TextRead;

/// One read taking part in a vote.
#[derive(Debug, Clone)]
pub struct WeightedRead<'a> {
    pub read: &'a TextRead,
    /// Image quality / localisation weight, > 0.
    pub weight: f32,
}

/// The outcome of a vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Consensus {
    pub text: String,
    pub display: String,
    pub format: &'static str,
    pub confidence: f32,
    pub char_confidences: Vec<f32>,
    /// Reads that had the winning length (and so voted character by character).
    pub agreeing_reads: usize,
    pub reads: usize,
}

/// Confidence factor for a text that fits no known format.
pub const UNKNOWN_FORMAT_FACTOR: f32 = 0.6;

/// A format's constrained string is preferred when it keeps at least this share of the
/// unconstrained string's vote.
const FORMAT_PREFERENCE: f32 = 0.35;

/// Plates have 4 to 10 characters (Europe: 5-8, with a margin).
pub const MIN_PLATE_CHARS: usize = 4;
pub const MAX_PLATE_CHARS: usize = 10;

fn allowed(class: CharClass, c: char) -> bool {
    match class {
        CharClass::Letter => c.is_ascii_uppercase(),
        CharClass::Digit => c.is_ascii_digit(),
        CharClass::Either => true,
    }
}

/// Formats earlier in `FORMATS` are preferred: a format's score is multiplied by this
/// power of its rank (so a loose late format such as `pl` does not beat `fr_siv` on a
/// string that only a confusion separates from a SIV plate).
const FORMAT_RANK_DECAY: f32 = 0.9;

/// Best string under per-position constraints: (text, per-position vote share, product).
/// A share is the character's part of the vote mass at its position.
fn best_under(
    dist: &[BTreeMap<char, f32>],
    classes: Option<&[CharClass]>,
) -> Option<(String, Vec<f32>, f32)> {
    let mut text = String::with_capacity(dist.len());
    let mut shares = Vec::with_capacity(dist.len());
    let mut product = 1f32;
    for (i, d) in dist.iter().enumerate() {
        let class = classes.map_or(CharClass::Either, |c| c[i]);
        let mass: f32 = d.values().sum();
        let (c, v) = d
            .iter()
            .filter(|(c, _)| allowed(class, **c))
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let share = (v / mass.max(1e-6)).min(1.0);
        text.push(*c);
        shares.push(share);
        product *= share;
    }
    Some((text, shares, product))
}

/// Vote over `reads`; `None` if no read has a plausible plate length.
pub fn vote(reads: &[WeightedRead]) -> Option<Consensus> {
    let plausible = |r: &TextRead| (MIN_PLATE_CHARS..=MAX_PLATE_CHARS).contains(&r.chars.len());
    // 1. The length with the most support.
    let mut by_len: BTreeMap<usize, f32> = BTreeMap::new();
    let mut all = 0f32;
    for r in reads.iter().filter(|r| plausible(r.read)) {
        let w = r.weight * r.read.mean_confidence();
        *by_len.entry(r.read.chars.len()).or_default() += w;
        all += w;
    }
    let (&len, &len_support) = by_len.iter().max_by(|a, b| a.1.total_cmp(b.1))?;
    // 2. Position-wise distributions over the reads of that length.
    let mut dist = vec![BTreeMap::<char, f32>::new(); len];
    let mut total = 0f32;
    let mut agreeing = 0;
    for r in reads.iter().filter(|r| r.read.chars.len() == len) {
        agreeing += 1;
        total += r.weight;
        for (d, c) in dist.iter_mut().zip(&r.read.chars) {
            if c.alts.is_empty() {
                *d.entry(c.ch).or_default() += r.weight * c.p;
            }
            for &(a, p) in &c.alts {
                *d.entry(a).or_default() += r.weight * p;
            }
        }
    }
    if total <= 0.0 {
        return None;
    }
    // 3. Unconstrained best, then the best explanation by each format.
    let (free_text, free_shares, free_score) = best_under(&dist, None)?;
    let mut best_fmt: Option<(&'static str, String, String, Vec<f32>, f32)> = None;
    for (rank, f) in FORMATS.iter().enumerate() {
        let Some(classes) = f.classes(len) else {
            continue;
        };
        let Some((text, shares, score)) = best_under(&dist, Some(&classes)) else {
            continue;
        };
        if !f.fits(&text) {
            continue;
        }
        let score = score * FORMAT_RANK_DECAY.powi(rank as i32);
        if best_fmt.as_ref().is_none_or(|b| score > b.4) {
            best_fmt = Some((f.id, f.display(&text), text, shares, score));
        }
    }
    let agreement = if all > 0.0 { len_support / all } else { 1.0 };
    let (text, display, format, shares, factor) = match best_fmt {
        Some((id, display, text, shares, score)) if score >= FORMAT_PREFERENCE * free_score => {
            (text, display, id, shares, 1.0)
        }
        _ => (
            free_text.clone(),
            free_text,
            "unknown",
            free_shares,
            UNKNOWN_FORMAT_FACTOR,
        ),
    };
    // How sure the recogniser was overall: the geometric mean of the vote mass per
    // position relative to the voters' weight (1 when every read was certain).
    let certainty = (dist
        .iter()
        .map(|d| (d.values().sum::<f32>() / total).clamp(1e-6, 1.0).ln())
        .sum::<f32>()
        / len as f32)
        .exp();
    let confidence = shares.iter().product::<f32>() * certainty * factor * agreement;
    let shares: Vec<f32> = shares.iter().map(|s| s * certainty).collect();
    Some(Consensus {
        text,
        display,
        format,
        confidence,
        char_confidences: shares,
        agreeing_reads: agreeing,
        reads: reads.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognise::CharRead;

    fn read(s: &str, p: f32) -> TextRead {
        TextRead {
            chars: s
                .chars()
                .map(|ch| CharRead {
                    ch,
                    p,
                    alts: vec![(ch, p)],
                })
                .collect(),
        }
    }

    #[test]
    fn majority_per_character_wins() {
        let reads = [
            read("AB123CD", 0.9),
            read("AB128CD", 0.9),
            read("AB123CO", 0.9),
            read("A8123CD", 0.5),
        ];
        let w: Vec<_> = reads
            .iter()
            .map(|r| WeightedRead {
                read: r,
                weight: 1.0,
            })
            .collect();
        let c = vote(&w).unwrap();
        assert_eq!(c.text, "AB123CD");
        assert_eq!(c.format, "fr_siv");
        assert_eq!(c.display, "AB-123-CD");
        assert_eq!(c.agreeing_reads, 4);
        assert!(c.confidence > 0.3 && c.confidence < 1.0, "{c:?}");
    }

    #[test]
    fn the_format_corrects_a_letter_digit_confusion_from_the_runner_up() {
        // Position 2 read as I (0.55) with 1 as runner-up (0.4): SIV wants a digit there.
        let mut r = read("ABI23CD", 0.95);
        r.chars[2].alts = vec![('I', 0.55), ('1', 0.4)];
        let w = [WeightedRead {
            read: &r,
            weight: 1.0,
        }];
        let c = vote(&w).unwrap();
        assert_eq!(c.text, "AB123CD");
        assert_eq!(c.format, "fr_siv");
    }

    #[test]
    fn an_unknown_format_is_kept_with_lower_confidence() {
        let known = read("AB123CD", 0.95);
        let unknown = read("Q1W2E3", 0.95);
        let vk = vote(&[WeightedRead {
            read: &known,
            weight: 1.0,
        }])
        .unwrap();
        let vu = vote(&[WeightedRead {
            read: &unknown,
            weight: 1.0,
        }])
        .unwrap();
        assert_eq!(vu.format, "unknown");
        assert_eq!(vu.text, "Q1W2E3");
        assert!(vu.confidence < vk.confidence * 0.7, "{vu:?} vs {vk:?}");
    }

    #[test]
    fn the_best_supported_length_votes_and_disagreement_lowers_confidence() {
        let a = read("AB123CD", 0.9);
        let b = read("AB123CDX", 0.9);
        let only = vote(&[WeightedRead {
            read: &a,
            weight: 1.0,
        }])
        .unwrap();
        let mixed = vote(&[
            WeightedRead {
                read: &a,
                weight: 2.0,
            },
            WeightedRead {
                read: &b,
                weight: 1.0,
            },
        ])
        .unwrap();
        assert_eq!(mixed.text, "AB123CD");
        assert_eq!(mixed.agreeing_reads, 1);
        assert!(mixed.confidence < only.confidence);
    }

    #[test]
    fn nothing_plausible_gives_no_plate() {
        let r = read("AB", 0.99);
        assert!(vote(&[WeightedRead {
            read: &r,
            weight: 1.0
        }])
        .is_none());
        assert!(vote(&[]).is_none());
    }
}
