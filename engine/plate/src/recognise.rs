//! Plate text recognition: PP-OCRv6 (small, or tiny as the fast option) restricted to the
//! plate alphabet, decoded CTC-greedy with per-character confidences and runners-up.
//!
//! Why restrict at decoding time rather than filter the text afterwards: the recogniser's
//! dictionary has 18,710 symbols (6,906 for tiny), and on a plate the national emblem, the
//! EU band or a screw is often read as some Chinese character or punctuation. Dropping such
//! a symbol *after* decoding would also drop the plate character it hid; instead every
//! non-plate symbol's probability is pooled with the CTC blank ("no plate character here")
//! and the plate characters compete among themselves, case folded (`o` counts for `O`) and
//! full-width forms folded to ASCII. The runners-up of each character are kept so that the
//! vote and the format check can correct `0`/`O`, `8`/`B` confusions later.
//!
//! The same model reads recorders' burned-in clocks ([`crate::overlay`]): restricted the
//! same way to [`CLOCK_ALPHABET`] (digits, letters, `/ - . :`, space), with the per-step
//! probabilities kept ([`StepProbs`]) so that a candidate time can be scored against the
//! pixels ([`ctc_log_likelihood`]). Plate reads are unchanged.

use vigie_core::AlertSink;
use vigie_policy::{ids, AllowedModelId, Labels, ModelSession, SessionConfig, Task};

use crate::geom::{resize_into, Normalise, RgbView};
use crate::PlateError;

/// The characters a plate can hold, after folding.
pub const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The recogniser's input height.
pub const STRIP_HEIGHT_PX: u32 = 48;

/// Narrowest batch width (as the upstream pipeline: 320 px for a 48 px height).
const MIN_BATCH_WIDTH_PX: u32 = 320;

/// Widest strip accepted (wider strips are squeezed): 10:1 is wider than any plate.
pub const MAX_STRIP_WIDTH_PX: u32 = 480;

/// One recognised character with its probability and its best alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct CharRead {
    pub ch: char,
    /// Probability of `ch` at its best time step.
    pub p: f32,
    /// The best plate characters at that step, most likely first (includes `ch`).
    pub alts: Vec<(char, f32)>,
}

/// One line of plate text as read from one image.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextRead {
    pub chars: Vec<CharRead>,
}

impl TextRead {
    pub fn text(&self) -> String {
        self.chars.iter().map(|c| c.ch).collect()
    }

    /// Geometric mean of the character probabilities (0 when empty): comparable across
    /// lengths, unlike the product.
    pub fn mean_confidence(&self) -> f32 {
        if self.chars.is_empty() {
            return 0.0;
        }
        let log: f32 = self.chars.iter().map(|c| c.p.max(1e-6).ln()).sum();
        (log / self.chars.len() as f32).exp()
    }
}

/// Map a dictionary symbol to its plate-alphabet index, if it is a plate character.
pub fn fold_symbol(s: &str) -> Option<u8> {
    let mut it = s.chars();
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    // Full-width ASCII forms (U+FF10.. digits, U+FF21.. letters).
    let c = if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        char::from_u32(c as u32 - 0xFEE0)?
    } else {
        c
    };
    let c = c.to_ascii_uppercase();
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|i| i as u8)
}

/// The characters of a burned-in recorder clock, after folding: digits, the letters (AM/PM,
/// month and day names, and the letters OCR confuses with digits, which the clock parser
/// folds back), the separators `/ - . :` and the space.
pub const CLOCK_ALPHABET: &[u8; 41] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/-.: ";

/// Map a dictionary symbol to its [`CLOCK_ALPHABET`] index, if a clock can show it.
/// Full-width forms fold to ASCII, and the CJK date and time units to the separators they
/// stand for (`2017年03月07日 12时04分12秒` reads `2017-03-07 12:04:12 `).
pub fn fold_clock_symbol(s: &str) -> Option<u8> {
    let mut it = s.chars();
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0)?,
        '年' | '月' => '-',
        '时' | '時' | '分' => ':',
        '日' | '秒' | '\u{3000}' => ' ',
        c => c,
    };
    let c = c.to_ascii_uppercase();
    CLOCK_ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|i| i as u8)
}

/// Greedy CTC decoding of one item restricted to [`ALPHABET`]. `probs` is `[steps, classes]`
/// row-major (softmax output); `map[k]` is the plate index of class `k` (`None` for the
/// blank and every non-plate symbol, which are pooled as "no character").
pub fn ctc_decode(probs: &[f32], steps: usize, classes: usize, map: &[Option<u8>]) -> TextRead {
    ctc_decode_in(probs, steps, classes, map, ALPHABET)
}

/// [`ctc_decode`] restricted to another alphabet (at most 64 characters): `map[k]` is the
/// index in `alphabet` of class `k`.
pub fn ctc_decode_in(
    probs: &[f32],
    steps: usize,
    classes: usize,
    map: &[Option<u8>],
    alphabet: &[u8],
) -> TextRead {
    debug_assert_eq!(probs.len(), steps * classes);
    assert!(
        !alphabet.is_empty() && alphabet.len() <= 64,
        "alphabet of 1 to 64 characters"
    );
    let mut out = TextRead::default();
    let mut prev: Option<u8> = None;
    let mut agg_all = [0f32; 64];
    let agg = &mut agg_all[..alphabet.len()];
    for t in 0..steps {
        let row = &probs[t * classes..(t + 1) * classes];
        agg.fill(0.0);
        let mut none = 0f32;
        for (k, &p) in row.iter().enumerate() {
            match map.get(k).copied().flatten() {
                Some(i) => agg[i as usize] += p,
                None => none += p,
            }
        }
        let (best, &p_best) = agg
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("non-empty alphabet");
        if p_best <= none {
            prev = None;
            continue;
        }
        let best = best as u8;
        let alts = || {
            let mut idx: Vec<usize> = (0..agg.len()).collect();
            idx.sort_by(|&a, &b| agg[b].total_cmp(&agg[a]));
            idx.iter()
                .take(3)
                .filter(|&&i| agg[i] > 0.01)
                .map(|&i| (alphabet[i] as char, agg[i]))
                .collect::<Vec<_>>()
        };
        if prev == Some(best) {
            let last = out.chars.last_mut().expect("prev implies a char");
            if p_best > last.p {
                last.p = p_best;
                last.alts = alts();
            }
        } else {
            out.chars.push(CharRead {
                ch: alphabet[best as usize] as char,
                p: p_best,
                alts: alts(),
            });
        }
        prev = Some(best);
    }
    out
}

/// Recogniser settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RecogniserConfig {
    /// `ppocrv6-rec-small` (default) or `ppocrv6-rec-tiny` (about 5x faster, a little less
    /// accurate).
    pub model: AllowedModelId,
    pub session: SessionConfig,
}

impl Default for RecogniserConfig {
    fn default() -> Self {
        RecogniserConfig {
            model: ids::PPOCRV6_REC_SMALL,
            session: SessionConfig::default(),
        }
    }
}

/// An upright plate image for the recogniser: RGB24, [`STRIP_HEIGHT_PX`] high.
#[derive(Debug, Clone, PartialEq)]
pub struct Strip {
    pub rgb: Vec<u8>,
    pub width: u32,
}

/// A text recogniser bound to one session.
#[derive(Debug)]
pub struct Recogniser {
    session: ModelSession,
    map: Vec<Option<u8>>,
    /// The same classes folded to [`CLOCK_ALPHABET`] (the trailing space class counts).
    clock_map: Vec<Option<u8>>,
    norm: Normalise,
    input: Vec<f32>,
}

impl Recogniser {
    pub fn open(cfg: &RecogniserConfig, alerts: &dyn AlertSink) -> Result<Self, PlateError> {
        let spec = cfg.model.spec();
        if spec.task != Task::TextRecognition {
            return Err(PlateError::BadConfig(format!(
                "model '{}' is a {} model, not a text recogniser; choose ppocrv6-rec-small or ppocrv6-rec-tiny",
                spec.id,
                spec.task.as_str()
            )));
        }
        let session = ModelSession::open(cfg.model, &cfg.session, alerts)?;
        let bad = |problem: String| PlateError::BadOutput {
            model: spec.id.to_string(),
            problem,
        };
        let Labels::FromMetadata { key } = spec.labels else {
            return Err(bad("the manifest gives no dictionary metadata key".into()));
        };
        let dict = session
            .metadata(key)?
            .ok_or_else(|| bad(format!("no '{key}' metadata (the OCR dictionary)")))?;
        // CTC classes: blank, the dictionary lines, then a space.
        let mut map = vec![None];
        map.extend(dict.lines().map(fold_symbol));
        map.push(None);
        let mut clock_map = vec![None];
        clock_map.extend(dict.lines().map(fold_clock_symbol));
        clock_map.push(fold_clock_symbol(" "));
        let p = spec.preprocess;
        Ok(Recogniser {
            session,
            map,
            clock_map,
            norm: Normalise {
                bgr: p.channel_order == vigie_policy::ChannelOrder::Bgr,
                scale: p.scale,
                mean: p.mean,
                std: p.std,
            },
            input: Vec::new(),
        })
    }

    pub fn model_id(&self) -> &'static str {
        self.session.spec().id
    }

    /// Read a batch of strips (one inference call, padded to the widest).
    pub fn read(&mut self, strips: &[Strip]) -> Result<Vec<TextRead>, PlateError> {
        let (data, steps, classes) = self.run_batch(strips)?;
        Ok(data
            .chunks_exact(steps * classes)
            .map(|item| ctc_decode_in(item, steps, classes, &self.map, ALPHABET))
            .collect())
    }

    /// Read a batch of strips restricted to [`CLOCK_ALPHABET`] (a burned-in clock: digits,
    /// separators, spaces and letters), otherwise as [`Recogniser::read`]; each read comes
    /// with its per-step probabilities, so that a caller can score other texts
    /// ([`ctc_log_likelihood`]).
    pub fn read_clock(
        &mut self,
        strips: &[Strip],
    ) -> Result<Vec<(TextRead, StepProbs)>, PlateError> {
        let (data, steps, classes) = self.run_batch(strips)?;
        Ok(data
            .chunks_exact(steps * classes)
            .map(|item| {
                (
                    ctc_decode_in(item, steps, classes, &self.clock_map, CLOCK_ALPHABET),
                    StepProbs::pooled(item, steps, classes, &self.clock_map, CLOCK_ALPHABET.len()),
                )
            })
            .collect())
    }

    /// One inference call over a batch: the softmax output `[strips, steps, classes]`
    /// flattened, with `steps` and `classes`.
    fn run_batch(&mut self, strips: &[Strip]) -> Result<(Vec<f32>, usize, usize), PlateError> {
        if strips.is_empty() {
            return Ok((Vec::new(), 1, 1));
        }
        for s in strips {
            if s.width == 0 || s.rgb.len() != (s.width * STRIP_HEIGHT_PX * 3) as usize {
                return Err(PlateError::BadImage(format!(
                    "recogniser strip of {} bytes for width {} (expected width x {STRIP_HEIGHT_PX} x 3)",
                    s.rgb.len(),
                    s.width
                )));
            }
        }
        let h = STRIP_HEIGHT_PX;
        let batch_w = strips
            .iter()
            .map(|s| s.width.min(MAX_STRIP_WIDTH_PX))
            .max()
            .unwrap_or(0)
            .max(MIN_BATCH_WIDTH_PX);
        let item = (3 * h * batch_w) as usize;
        self.input.clear();
        self.input.resize(item * strips.len(), 0.0);
        let mut tmp = Vec::new();
        for (i, s) in strips.iter().enumerate() {
            let w = s.width.min(MAX_STRIP_WIDTH_PX);
            let view = RgbView::new(&s.rgb, s.width, h).expect("checked above");
            tmp.clear();
            tmp.resize((3 * h * w) as usize, 0.0);
            resize_into(&view, w, h, &self.norm, &mut tmp);
            // Copy row by row into the padded item (padding stays 0, i.e. mid-grey).
            let dst = &mut self.input[i * item..(i + 1) * item];
            for c in 0..3usize {
                for y in 0..h as usize {
                    let src = &tmp[(c * h as usize + y) * w as usize..][..w as usize];
                    let off = (c * h as usize + y) * batch_w as usize;
                    dst[off..off + w as usize].copy_from_slice(src);
                }
            }
        }
        let shape = [strips.len(), 3, h as usize, batch_w as usize];
        let mut out = self.session.run(&[(&shape, &self.input)])?;
        let o = out.swap_remove(0);
        if o.shape.len() != 3
            || o.shape[0] != strips.len()
            || o.shape[1] == 0
            || o.shape[2] != self.map.len()
        {
            return Err(PlateError::BadOutput {
                model: self.model_id().to_string(),
                problem: format!(
                    "output shape {:?}, expected [{}, steps, {}] (dictionary + blank + space)",
                    o.shape,
                    strips.len(),
                    self.map.len()
                ),
            });
        }
        let (steps, classes) = (o.shape[1], o.shape[2]);
        Ok((o.data, steps, classes))
    }
}

/// A read's per-step probabilities over an alphabet: column 0 pools the CTC blank with
/// every symbol outside the alphabet ("no character here"), column `1 + k` is the
/// alphabet's character `k`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepProbs {
    pub steps: usize,
    /// 1 + the alphabet's length.
    pub width: usize,
    /// `steps x width`, row-major.
    pub p: Vec<f32>,
}

impl StepProbs {
    /// Pool a softmax output `[steps, classes]` onto an alphabet of `alphabet_len`
    /// characters (`map[k]`: the alphabet index of class `k`).
    pub fn pooled(
        probs: &[f32],
        steps: usize,
        classes: usize,
        map: &[Option<u8>],
        alphabet_len: usize,
    ) -> Self {
        let width = alphabet_len + 1;
        let mut p = vec![0f32; steps * width];
        for t in 0..steps {
            let row = &probs[t * classes..(t + 1) * classes];
            let dst = &mut p[t * width..(t + 1) * width];
            for (k, &v) in row.iter().enumerate() {
                match map.get(k).copied().flatten() {
                    Some(i) => dst[1 + i as usize] += v,
                    None => dst[0] += v,
                }
            }
        }
        StepProbs { steps, width, p }
    }
}

fn log_add(a: f32, b: f32) -> f32 {
    if a == f32::NEG_INFINITY {
        return b;
    }
    if b == f32::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// Natural log of the probability that the read `sp` spells `target` (indices into the
/// alphabet `sp` was pooled on), summed over every CTC alignment (the forward algorithm).
/// `-inf` when no alignment fits (more characters than steps allow).
pub fn ctc_log_likelihood(sp: &StepProbs, target: &[u8]) -> f32 {
    let (t_max, w) = (sp.steps, sp.width);
    if t_max == 0 {
        return if target.is_empty() {
            0.0
        } else {
            f32::NEG_INFINITY
        };
    }
    // Extended labels: blank, l1, blank, l2, ..., blank (column indices).
    let mut ext = Vec::with_capacity(2 * target.len() + 1);
    ext.push(0usize);
    for &c in target {
        ext.push(1 + c as usize);
        ext.push(0);
    }
    let s_max = ext.len();
    let lp = |t: usize, col: usize| sp.p[t * w + col].max(1e-12).ln();
    let mut alpha = vec![f32::NEG_INFINITY; s_max];
    alpha[0] = lp(0, ext[0]);
    if s_max > 1 {
        alpha[1] = lp(0, ext[1]);
    }
    let mut next = vec![f32::NEG_INFINITY; s_max];
    for t in 1..t_max {
        for s in 0..s_max {
            let mut a = alpha[s];
            if s >= 1 {
                a = log_add(a, alpha[s - 1]);
            }
            if s >= 2 && ext[s] != 0 && ext[s] != ext[s - 2] {
                a = log_add(a, alpha[s - 2]);
            }
            next[s] = if a == f32::NEG_INFINITY {
                a
            } else {
                a + lp(t, ext[s])
            };
        }
        std::mem::swap(&mut alpha, &mut next);
    }
    if s_max > 1 {
        log_add(alpha[s_max - 1], alpha[s_max - 2])
    } else {
        alpha[0]
    }
}

/// `text` as indices into [`CLOCK_ALPHABET`] (`None` if it holds another character).
pub fn clock_indices(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| {
            CLOCK_ALPHABET
                .iter()
                .position(|&a| a as char == c)
                .map(|i| i as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_of(dict: &[&str]) -> Vec<Option<u8>> {
        let mut m = vec![None];
        m.extend(dict.iter().map(|s| fold_symbol(s)));
        m.push(None);
        m
    }

    #[test]
    fn clock_folding_keeps_separators_and_spaces_without_touching_plate_folding() {
        let idx = |s: &str| fold_clock_symbol(s).map(|i| CLOCK_ALPHABET[i as usize] as char);
        assert_eq!(idx("/"), Some('/'));
        assert_eq!(idx("\u{FF1A}"), Some(':'), "full-width colon");
        assert_eq!(idx("p"), Some('P'));
        assert_eq!(idx(" "), Some(' '));
        assert_eq!(idx("年"), Some('-'));
        assert_eq!(idx("中"), None);
        assert_eq!(idx("12"), None);
        // The plate alphabet still drops separators.
        assert_eq!(fold_symbol("/"), None);
        assert_eq!(fold_symbol(":"), None);
        // Decoding in the clock alphabet keeps the separator a plate read pools with blank.
        let dict = ["1", ":", "2"];
        let mut map = vec![None];
        map.extend(dict.iter().map(|s| fold_clock_symbol(s)));
        map.push(fold_clock_symbol(" "));
        let c = map.len();
        let mut probs = vec![0f32; 3 * c];
        probs[1] = 0.9;
        probs[c + 2] = 0.9;
        probs[2 * c + 3] = 0.9;
        let r = ctc_decode_in(&probs, 3, c, &map, CLOCK_ALPHABET);
        assert_eq!(r.text(), "1:2");
    }

    #[test]
    fn ctc_likelihood_sums_alignments_and_prefers_what_was_read() {
        // Alphabet "AB": columns none, A, B.
        let sp = StepProbs {
            steps: 3,
            width: 3,
            p: vec![
                0.1, 0.8, 0.1, //
                0.7, 0.2, 0.1, //
                0.1, 0.1, 0.8,
            ],
        };
        let ab = ctc_log_likelihood(&sp, &[0, 1]);
        let ba = ctc_log_likelihood(&sp, &[1, 0]);
        let a = ctc_log_likelihood(&sp, &[0]);
        assert!(ab > ba && ab > a, "{ab} {ba} {a}");
        // The same sum by brute force over every path of 3 steps.
        let cols = |path: &[usize]| -> f32 {
            path.iter()
                .enumerate()
                .map(|(t, &c)| sp.p[t * 3 + c])
                .product()
        };
        let mut total = 0f32;
        for a in 0..3 {
            for b in 0..3 {
                for c in 0..3 {
                    let path = [a, b, c];
                    // Collapse repeats, drop blanks.
                    let mut out = Vec::new();
                    let mut prev = usize::MAX;
                    for &x in &path {
                        if x != prev && x != 0 {
                            out.push(x);
                        }
                        prev = x;
                    }
                    if out == [1, 2] {
                        total += cols(&path);
                    }
                }
            }
        }
        assert!((ab - total.ln()).abs() < 1e-4, "{ab} vs {}", total.ln());
        // Too long for the steps: impossible.
        assert_eq!(ctc_log_likelihood(&sp, &[0, 0, 0]), f32::NEG_INFINITY);
        assert_eq!(clock_indices("1:"), Some(vec![1, 39]));
        assert_eq!(clock_indices("1,"), None);
    }

    #[test]
    fn folding() {
        assert_eq!(fold_symbol("a"), fold_symbol("A"));
        assert_eq!(fold_symbol("\u{FF10}"), fold_symbol("0"));
        assert_eq!(fold_symbol("-"), None);
        assert_eq!(fold_symbol("中"), None);
        assert_eq!(fold_symbol("AB"), None);
    }

    /// One-hot-ish rows: `(class, p)` with the rest spread on class 0 (blank).
    fn rows(classes: usize, steps: &[(usize, f32)]) -> Vec<f32> {
        let mut v = vec![0f32; steps.len() * classes];
        for (t, &(k, p)) in steps.iter().enumerate() {
            v[t * classes] = 1.0 - p;
            v[t * classes + k] += p;
        }
        v
    }

    #[test]
    fn ctc_collapses_repeats_and_pools_non_plate_symbols_with_blank() {
        // dict: A, 1, "-", 中, a
        let dict = ["A", "1", "-", "中", "a"];
        let map = map_of(&dict);
        let classes = map.len();
        let (a, one, dash, han, lower_a) = (1, 2, 3, 4, 5);
        let probs = rows(
            classes,
            &[
                (a, 0.9),
                (a, 0.8),
                (0, 1.0),
                (a, 0.7),
                (dash, 0.9),
                (lower_a, 0.6),
                (han, 0.95),
                (one, 0.55),
            ],
        );
        let r = ctc_decode(&probs, 8, classes, &map);
        assert_eq!(r.text(), "AAA1");
        assert!((r.chars[0].p - 0.9).abs() < 1e-6);
        assert!(
            (r.chars[2].p - 0.6).abs() < 1e-6,
            "lower-case a counts for A"
        );
    }

    #[test]
    fn a_plate_character_hidden_under_a_non_plate_symbol_wins_only_if_likelier_than_no_char() {
        let dict = ["A", "B", "中"];
        let map = map_of(&dict);
        let c = map.len();
        // step: 中 0.5, B 0.3, A 0.2 -> none (0.5) beats B (0.3): no char.
        let mut probs = vec![0f32; c];
        probs[3] = 0.5;
        probs[2] = 0.3;
        probs[1] = 0.2;
        assert_eq!(ctc_decode(&probs, 1, c, &map).text(), "");
        // 中 0.2, B 0.5, A 0.3 -> B, with A as runner-up.
        probs[3] = 0.2;
        probs[2] = 0.5;
        probs[1] = 0.3;
        let r = ctc_decode(&probs, 1, c, &map);
        assert_eq!(r.text(), "B");
        assert_eq!(r.chars[0].alts[1].0, 'A');
    }
}
