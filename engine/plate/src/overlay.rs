//! The recorder's clock burned into the picture: find the overlay's text lines with the
//! PP-OCRv6 detector, read them with the recogniser restricted to what a clock shows, and
//! parse the usual recorder formats into a local date and time.
//!
//! Why here, with the plate models: reading an overlay is the same two models (text
//! detector, text recogniser) that read plates, already allowlisted by SHA-256 in
//! `vigie-policy`; a separate OCR engine would be a new model to vet for nothing. What
//! differs is tuning: overlay text is tiny in low-resolution footage (a 320x240 recorder
//! writes 7-pixel characters), so the reader searches only the bands where recorders put
//! their clock (the top and the bottom fifth of the picture), scaled so that the detector
//! sees small text at the size it finds best (about 15 px: a 320x240 band is enlarged
//! twice, a 1920-wide one shrunk to 960), and reads in the clock alphabet (digits,
//! letters, `/ - . :`, space) instead of the plate alphabet.
//!
//! Measured (PP-OCRv6 small, CPU): on 1280x720 and 1920x1080 street stills
//! (`street-cctv-vehicles`, 20-30 px text) all 180 frames read a complete clock that
//! advances with the frame numbers, about 0.17 s per frame; on a 320x240 MPEG-4 recorder
//! (`video02.avi`, 4 px wide digits) one frame in two is read right to the second (15 of 30
//! frames; the others misread a digit, often confidently, 3 as 2 for instance), about
//! 0.2 s per frame. Across the frames of one source, [`read_samples`] checks each time
//! against the others, and the caller keeps the readings that tell one story.
//!
//! Why a tolerant parser rather than one pattern per recorder brand: the formats vary
//! (`17/03/07 12:04:12`, `2018-12-31 17:11:38`, `03-07-2017 12:04:12 PM`,
//! `07 MAR 2017`), and OCR confuses `0`/`O`, `1`/`I`/`l`, `5`/`S`, `8`/`B` and drops
//! spaces. The parser folds look-alikes back to digits where a number is expected, finds
//! the time (`H:MM[:SS]`, or six digits beside a date), then the date among what is left,
//! and returns *every* reading of the date the digits allow (`17/03/07` is 17 March 2007
//! day-first and 7 March 2017 year-first): choosing is the investigator's call
//! ([`DateOrder`]), or the caller's, with other evidence. When the characters as read make
//! no complete clock (month `89`), [`parse_clock_read`] tries their runners-up. Times are
//! the recorder's local time, with no zone: the recorder never says which.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;
use vigie_core::AlertSink;

use crate::geom::{Pt, RgbView};
use crate::reader::strip_of;
use crate::recognise::{Recogniser, RecogniserConfig, StepProbs, Strip, TextRead};
use crate::text_det::{TextDetector, TextDetectorConfig};
use crate::PlateError;

// ---- reading the overlay -------------------------------------------------------------

/// Where and how the overlay is looked for.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayConfig {
    pub text: TextDetectorConfig,
    pub recogniser: RecogniserConfig,
    /// Height of the top and of the bottom band searched, as a share of the frame height
    /// (recorders write their clock in a corner or along an edge).
    pub band_share: f32,
    /// Lines lower than this (image pixels) are not read.
    pub min_line_height_px: f32,
    /// Lines narrower than this many heights are not a clock (the shortest, `12:04`, is
    /// about 2.5 heights).
    pub min_aspect: f32,
    /// At most this many lines are read per image (highest detector scores first).
    pub max_lines: usize,
    /// Margin added around each line before reading it, as a share of its height.
    pub strip_margin: f32,
}

impl Default for OverlayConfig {
    fn default() -> Self {
        OverlayConfig {
            // The detector finds small text best at about 15 px high in its input (measured
            // on 320x240 and 1280x720 / 1920x1080 overlays; 20 px and more loses lines): a
            // band is enlarged at most twice, and shrunk to 960 px across.
            text: TextDetectorConfig {
                box_threshold: 0.4,
                min_side_px: 96,
                max_side_px: 960,
                ..TextDetectorConfig::default()
            },
            recogniser: RecogniserConfig::default(),
            band_share: 0.2,
            min_line_height_px: 5.0,
            min_aspect: 2.0,
            max_lines: 8,
            strip_margin: 0.15,
        }
    }
}

/// One line of overlay text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlayText {
    /// The line's axis-aligned box in the image's pixels: x, y, width, height.
    pub box_px: [f32; 4],
    /// As read, in the clock alphabet (upper case).
    pub text: String,
    /// Recogniser confidence: geometric mean of the character probabilities.
    pub confidence: f32,
    /// The text detector's score of the line.
    pub detector_score: f32,
    /// The recogniser's characters with their runners-up (for [`parse_clock_read`]).
    #[serde(skip)]
    pub read: TextRead,
    /// The recogniser's per-step probabilities (to score other texts).
    #[serde(skip)]
    pub steps: StepProbs,
}

/// Text detector and recogniser, one session each (one reader per worker thread).
#[derive(Debug)]
pub struct OverlayClockReader {
    cfg: OverlayConfig,
    det: TextDetector,
    rec: Recogniser,
}

/// An axis-aligned box: x0, y0, x1, y1.
type Bounds = [f32; 4];

fn bounds_of(c: &[Pt; 4]) -> Bounds {
    let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for p in c {
        b[0] = b[0].min(p.0);
        b[1] = b[1].min(p.1);
        b[2] = b[2].max(p.0);
        b[3] = b[3].max(p.1);
    }
    b
}

/// Merge boxes that lie on one text row and touch or nearly touch (the detector often cuts
/// a clock at its space: `17/03/07` and `12:04:12`), keeping the best score.
fn merge_rows(mut boxes: Vec<(Bounds, f32)>) -> Vec<(Bounds, f32)> {
    boxes.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    let mut out: Vec<(Bounds, f32)> = Vec::new();
    for (b, s) in boxes {
        let h = b[3] - b[1];
        let hit = out.iter_mut().find(|(o, _)| {
            let oh = o[3] - o[1];
            let overlap_y = (o[3].min(b[3]) - o[1].max(b[1])) / oh.min(h).max(1e-3);
            let gap_x = b[0] - o[2];
            let ratio = oh / h.max(1e-3);
            overlap_y > 0.5 && gap_x < 1.5 * oh.max(h) && (0.5..=2.0).contains(&ratio)
        });
        match hit {
            Some((o, os)) => {
                o[0] = o[0].min(b[0]);
                o[1] = o[1].min(b[1]);
                o[2] = o[2].max(b[2]);
                o[3] = o[3].max(b[3]);
                *os = os.max(s);
            }
            None => out.push((b, s)),
        }
    }
    out
}

impl OverlayClockReader {
    pub fn open(cfg: OverlayConfig, alerts: &dyn AlertSink) -> Result<Self, PlateError> {
        if !(0.05..=1.0).contains(&cfg.band_share) {
            return Err(PlateError::BadConfig(format!(
                "overlay band share {} (expected 0.05 to 1)",
                cfg.band_share
            )));
        }
        if cfg.max_lines == 0 || !(0.0..=1.0).contains(&cfg.strip_margin) {
            return Err(PlateError::BadConfig(format!(
                "overlay max lines {} and strip margin {} (expected at least 1 line, a margin of 0 to 1)",
                cfg.max_lines, cfg.strip_margin
            )));
        }
        let det = TextDetector::open(cfg.text.clone(), alerts)?;
        let rec = Recogniser::open(&cfg.recogniser, alerts)?;
        Ok(OverlayClockReader { cfg, det, rec })
    }

    pub fn config(&self) -> &OverlayConfig {
        &self.cfg
    }

    /// Ids of the models this reader runs (for the audit log).
    pub fn model_ids(&self) -> Vec<&'static str> {
        vec![
            vigie_policy::ids::PPOCRV6_DET_SMALL.spec().id,
            self.rec.model_id(),
        ]
    }

    /// Every line of text in the overlay bands of `img`, best detector score first.
    pub fn read(&mut self, img: &RgbView) -> Result<Vec<OverlayText>, PlateError> {
        let mut boxes: Vec<(Bounds, f32)> = Vec::new();
        let regions = overlay_regions(img.width, img.height, self.cfg.band_share);
        for [x, y, w, h] in regions {
            let (data, cw, ch) = img.crop(x, y, w, h);
            let view = RgbView::new(&data, cw, ch).expect("crop of a valid image");
            for b in self.det.detect(&view)? {
                let mut bb = bounds_of(&b.rect.corners());
                bb[0] = (bb[0] + x as f32).max(0.0);
                bb[2] = (bb[2] + x as f32).min(img.width as f32);
                bb[1] = (bb[1] + y as f32).max(0.0);
                bb[3] = (bb[3] + y as f32).min(img.height as f32);
                boxes.push((bb, b.score));
            }
        }
        // A clock cut at its space (date, time) is one line again.
        let mut lines: Vec<(Bounds, f32)> = merge_rows(boxes)
            .into_iter()
            .filter(|(b, _)| {
                let (w, h) = (b[2] - b[0], b[3] - b[1]);
                h >= self.cfg.min_line_height_px && w >= self.cfg.min_aspect * h
            })
            .collect();
        lines.sort_by(|a, b| b.1.total_cmp(&a.1));
        lines.truncate(self.cfg.max_lines);
        let mut kept = Vec::new();
        let mut strips: Vec<Strip> = Vec::new();
        for (b, s) in lines {
            // A margin around the line: the detector's box is tight on small text, and
            // the recogniser was trained on lines with some background around them.
            let m = self.cfg.strip_margin * (b[3] - b[1]);
            let c = [
                (b[0] - m, b[1] - m),
                (b[2] + m, b[1] - m),
                (b[2] + m, b[3] + m),
                (b[0] - m, b[3] + m),
            ];
            if let Some(strip) = strip_of(img, c) {
                kept.push((b, s));
                strips.push(strip);
            }
        }
        let reads = self.rec.read_clock(&strips)?;
        Ok(kept
            .into_iter()
            .zip(reads)
            .map(|((b, s), (r, steps))| OverlayText {
                box_px: [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                text: r.text().trim().to_string(),
                confidence: r.mean_confidence(),
                detector_score: s,
                read: r,
                steps,
            })
            .collect())
    }

    /// The overlay line that reads as a clock, with its parse (the most confident of
    /// those that parse), or `None`.
    pub fn read_clock(
        &mut self,
        img: &RgbView,
    ) -> Result<Option<(OverlayText, ParsedClock)>, PlateError> {
        let lines = self.read(img)?;
        Ok(best_clock(lines))
    }
}

/// The regions searched in a `width x height` image: the top and the bottom band,
/// `band_share` of the height each (x, y, w, h in image pixels). Cutting the bands into
/// pieces, so that the detector could enlarge them more, was measured worse: it finds small
/// text best at about twice the size of a 320x240 recorder's.
pub fn overlay_regions(width: u32, height: u32, band_share: f32) -> Vec<[u32; 4]> {
    let band_h = ((height as f32 * band_share).round() as u32).clamp(1, height);
    let mut out = vec![[0, 0, width, band_h]];
    if band_h < height {
        out.push([0, height - band_h, width, band_h]);
    }
    out
}

/// Of several lines, the one that parses as the most complete clock (date and seconds
/// first), then with the highest confidence.
pub fn best_clock(lines: Vec<OverlayText>) -> Option<(OverlayText, ParsedClock)> {
    lines
        .into_iter()
        .filter_map(|l| {
            let p = if l.read.chars.is_empty() {
                parse_clock(&l.text).map(|clock| ParsedClock {
                    clock,
                    corrections: 0,
                    confidence: l.confidence,
                })
            } else {
                parse_clock_read(&l.read)
            };
            p.map(|p| (l, p))
        })
        .max_by(|a, b| {
            a.1.clock
                .completeness()
                .cmp(&b.1.clock.completeness())
                .then(a.1.confidence.total_cmp(&b.1.confidence))
        })
}

/// The overlay's lines read at one media time of a source.
#[derive(Debug, Clone)]
pub struct ClockSample {
    pub pts_ms: i64,
    pub lines: Vec<OverlayText>,
}

/// What one sample shows: its clock line, the clock parsed from it, and its time once
/// checked against the other samples.
#[derive(Debug, Clone)]
pub struct SampleClock {
    pub line: OverlayText,
    /// As parsed from the line's own read (`None`: it does not parse as a clock).
    pub parsed: Option<ParsedClock>,
    /// See [`read_samples`] (`None`: the line spells no plausible time).
    pub checked: Option<CheckedTime>,
}

/// A sample's time checked against the others ([`read_samples`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedTime {
    pub time: NaiveTime,
    /// Whether it is the time parsed from the sample's own read (otherwise the read was
    /// corrected: another time fits the recogniser's output better).
    pub as_read: bool,
    /// Mean log-probability per character of the line spelling this time
    /// (0 is certain).
    pub log_p_per_char: f32,
}

/// A checked time is kept only if the line spells it with at least this mean
/// log-probability per character (`ln 0.25`): below, the line does not show that clock.
pub const MIN_LOG_P_PER_CHAR: f32 = -1.386;

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// Read the clock of each sample of one source, each checked against the others.
///
/// Why: on a small overlay the recogniser's best guess misreads a digit in about every
/// other frame (`12:04:20` for `12:04:30`), and the right digit is sometimes close behind.
/// A recorder clock runs with media time, so each sample that parsed implies, for every
/// other sample, the time it should show (to the second, give or take one): the
/// candidates. Each candidate is scored by the probability that the sample's own
/// recogniser output spells it (over every CTC alignment, in the layout of the most
/// confident read) times the share of the other samples that imply it (smoothed): a read
/// is moved only when its own pixels leave the digit in doubt (a runner-up within a factor
/// of about the number of samples), never a confident one, and a line that spells no
/// candidate well enough ([`MIN_LOG_P_PER_CHAR`]) keeps no time. A sample whose lines do
/// not parse is looked up where the clock is in the others (the overlay does not move).
pub fn read_samples(samples: &[ClockSample]) -> Vec<Option<SampleClock>> {
    use chrono::Timelike;
    let tod_ms = |t: NaiveTime| i64::from(t.num_seconds_from_midnight()) * 1000;
    const DAY_MS: i64 = 86_400_000;
    let bests: Vec<Option<(OverlayText, ParsedClock)>> = samples
        .iter()
        .map(|s| best_clock(s.lines.clone()))
        .collect();
    // The layout: the most confident complete read whose time can be rewritten.
    let template = bests
        .iter()
        .flatten()
        .filter(|(_, p)| p.clock.has_seconds && p.clock.with_time(p.clock.time).is_some())
        .max_by(|a, b| {
            a.1.clock
                .completeness()
                .cmp(&b.1.clock.completeness())
                .then(a.1.confidence.total_cmp(&b.1.confidence))
        });
    // Each parsed sample's offset (time of day read minus media time), by sample.
    let offsets: Vec<(usize, i64)> = samples
        .iter()
        .zip(&bests)
        .enumerate()
        .filter_map(|(i, (s, b))| {
            let (_, p) = b.as_ref()?;
            p.clock
                .has_seconds
                .then(|| (i, tod_ms(p.clock.time) - s.pts_ms))
        })
        .collect();
    samples
        .iter()
        .zip(bests.iter())
        .enumerate()
        .map(|(i, (s, best))| {
            let (line, parsed) = match best {
                Some((l, p)) => (l.clone(), Some(p.clone())),
                None => {
                    let (tl, _) = template?;
                    let l = s
                        .lines
                        .iter()
                        .filter(|l| iou(&l.box_px, &tl.box_px) > 0.3)
                        .max_by(|a, b| {
                            iou(&a.box_px, &tl.box_px).total_cmp(&iou(&b.box_px, &tl.box_px))
                        })?;
                    (l.clone(), None)
                }
            };
            let own = parsed
                .as_ref()
                .filter(|p| p.clock.has_seconds)
                .map(|p| p.clock.time);
            let Some((_, template)) = template else {
                let checked = own.map(|time| CheckedTime {
                    time,
                    as_read: true,
                    log_p_per_char: line.confidence.max(1e-6).ln(),
                });
                return Some(SampleClock {
                    line,
                    parsed,
                    checked,
                });
            };
            // Candidates with their support: how many other samples imply each (a
            // neighbouring second counts half: the phase of the cut is unknown).
            let mut support: Vec<(NaiveTime, f32)> = own.map(|t| (t, 0.0)).into_iter().collect();
            let others = offsets.iter().filter(|(j, _)| *j != i).count();
            for (_, o) in offsets.iter().filter(|(j, _)| *j != i) {
                for (d, w) in [(-1000, 0.5), (0, 1.0), (1000, 0.5)] {
                    let ms = (s.pts_ms + o + d).rem_euclid(DAY_MS);
                    let Some(t) =
                        NaiveTime::from_num_seconds_from_midnight_opt((ms / 1000) as u32, 0)
                    else {
                        continue;
                    };
                    match support.iter_mut().find(|c| c.0 == t) {
                        Some(c) => c.1 += w,
                        None => support.push((t, w)),
                    }
                }
            }
            // Likelihood of the line spelling each, times the share of the others behind
            // it (Laplace-smoothed so the sample's own read always stands a chance).
            let mut checked: Option<(f32, CheckedTime)> = None;
            for (t, n) in support {
                let Some(target) = template
                    .clock
                    .with_time(t)
                    .and_then(|text| crate::recognise::clock_indices(&text))
                else {
                    continue;
                };
                let ll = crate::recognise::ctc_log_likelihood(&line.steps, &target);
                let score = ll + ((1.0 + n) / (1.0 + others as f32)).ln();
                if checked.as_ref().is_none_or(|(b, _)| score > *b) {
                    checked = Some((
                        score,
                        CheckedTime {
                            time: t,
                            as_read: Some(t) == own,
                            log_p_per_char: ll / target.len().max(1) as f32,
                        },
                    ));
                }
            }
            let checked = checked.map(|c| c.1);
            let checked = checked.filter(|b| b.log_p_per_char >= MIN_LOG_P_PER_CHAR);
            Some(SampleClock {
                line,
                parsed,
                checked,
            })
        })
        .collect()
}

/// A clock parsed from a recogniser read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedClock {
    pub clock: ClockText,
    /// Characters replaced by a runner-up or dropped to make the read a complete clock.
    pub corrections: usize,
    /// Geometric mean of the probabilities of the characters parsed (each correction
    /// counts at its runner-up's probability).
    pub confidence: f32,
}

/// At most this many characters are corrected in one read.
const MAX_CORRECTIONS: usize = 2;

/// A runner-up this much less likely than the character read is not tried.
const MIN_ALT_P: f32 = 0.05;

/// Parse a recogniser read as a clock. When the characters as read do not make a complete
/// clock (date and time with seconds: `17/89/07` has no month 89), up to
/// [`MAX_CORRECTIONS`] characters are replaced by their runners-up or dropped (a
/// character the recogniser was unsure of), and the likeliest variant that parses most
/// completely wins: the digits a field allows are a constraint the greedy read ignored.
pub fn parse_clock_read(read: &TextRead) -> Option<ParsedClock> {
    // Per character: its options with their probability, the read itself first.
    let options: Vec<Vec<(Option<char>, f32)>> = read
        .chars
        .iter()
        .map(|c| {
            let mut o = vec![(Some(c.ch), c.p.max(1e-6))];
            o.extend(
                c.alts
                    .iter()
                    .filter(|(a, p)| *a != c.ch && *p >= MIN_ALT_P)
                    .map(|(a, p)| (Some(*a), *p)),
            );
            if c.p < 0.5 {
                o.push((None, (c.p * 0.5).max(1e-6)));
            }
            o
        })
        .collect();
    let n = options.len();
    let base_log: f32 = options.iter().map(|o| o[0].1.ln()).sum();
    let text_of = |subs: &[(usize, usize)]| -> String {
        (0..n)
            .filter_map(|i| {
                let k = subs.iter().find(|s| s.0 == i).map_or(0, |s| s.1);
                options[i][k].0
            })
            .collect()
    };
    type Scored = Option<((u8, f32), ParsedClock)>;
    let variant = |subs: &[(usize, usize)]| -> Scored {
        let clock = parse_clock(&text_of(subs))?;
        let log = base_log
            + subs
                .iter()
                .map(|&(i, k)| options[i][k].1.ln() - options[i][0].1.ln())
                .sum::<f32>();
        let kept = n - subs
            .iter()
            .filter(|&&(i, k)| options[i][k].0.is_none())
            .count();
        Some((
            (clock.completeness(), log),
            ParsedClock {
                clock,
                corrections: subs.len(),
                confidence: (log / kept.max(1) as f32).exp(),
            },
        ))
    };
    let keep_better = |best: &mut Scored, v: Scored| {
        if let Some((key, p)) = v {
            let better = best
                .as_ref()
                .is_none_or(|(b, _)| key.0 > b.0 || (key.0 == b.0 && key.1 > b.1));
            if better {
                *best = Some((key, p));
            }
        }
    };
    let mut best = variant(&[]);
    if best.as_ref().is_some_and(|(k, _)| k.0 == COMPLETE) {
        return best.map(|(_, p)| p);
    }
    let singles: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (1..options[i].len()).map(move |k| (i, k)))
        .collect();
    for (a, &s1) in singles.iter().enumerate() {
        keep_better(&mut best, variant(&[s1]));
        if MAX_CORRECTIONS >= 2 {
            for &s2 in &singles[a + 1..] {
                if s2.0 != s1.0 {
                    keep_better(&mut best, variant(&[s1, s2]));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// [`ClockText::completeness`] of a date and a time with seconds.
const COMPLETE: u8 = 3;

// ---- parsing a clock -------------------------------------------------------------------

/// The order of a date's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day, month, year (`17/03/07`, `07-03-2017`): Europe.
    Dmy,
    /// Month, day, year (`03/17/2007`): United States.
    Mdy,
    /// Year, month, day (`2017-03-07`, `17/03/07` on many Asian recorders).
    Ymd,
}

impl DateOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }
}

impl std::str::FromStr for DateOrder {
    type Err = PlateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "dmy" => Ok(DateOrder::Dmy),
            "mdy" => Ok(DateOrder::Mdy),
            "ymd" => Ok(DateOrder::Ymd),
            other => Err(PlateError::BadConfig(format!(
                "unknown date order '{other}' (expected dmy, mdy or ymd)"
            ))),
        }
    }
}

/// One reading of the date shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockDate {
    pub order: DateOrder,
    pub date: NaiveDate,
}

/// A clock read from an overlay: the recorder's local time, no zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockText {
    /// The text after folding look-alikes back to digits, as parsed.
    pub normalised: String,
    pub time: NaiveTime,
    /// Whether the overlay shows seconds (without, the reading is good to the minute).
    pub has_seconds: bool,
    /// Whether the overlay shows a 12-hour clock (with AM/PM).
    pub twelve_hour: bool,
    /// Where the time's digits lie in `normalised` (character range, hour to last digit).
    pub time_span: [usize; 2],
    /// Every distinct date the digits allow, the most usual reading first (day-first, then
    /// year-first, then month-first); empty when the overlay shows no date.
    pub dates: Vec<ClockDate>,
}

impl ClockText {
    /// How much of a clock this is: 3 date and time with seconds, 2 time with seconds,
    /// 1 a time to the minute (a date without seconds counts as 1 too).
    pub fn completeness(&self) -> u8 {
        match (self.has_seconds, self.dates.is_empty()) {
            (true, false) => COMPLETE,
            (true, true) => 2,
            (false, _) => 1,
        }
    }

    /// The line as it would read at another `time`, in the same layout (the date and
    /// everything else unchanged); `None` when the layout cannot show it (a one-digit hour
    /// given a two-digit one).
    pub fn with_time(&self, time: NaiveTime) -> Option<String> {
        use chrono::Timelike;
        let [a, b] = self.time_span;
        let span = self.normalised.get(a..b)?;
        let slots: Vec<usize> = span
            .char_indices()
            .filter(|(_, c)| c.is_ascii_digit())
            .map(|(i, _)| a + i)
            .collect();
        let hour = if self.twelve_hour {
            (time.hour() + 11) % 12 + 1
        } else {
            time.hour()
        };
        let mut digits = if slots.len() % 2 == 1 {
            if hour >= 10 {
                return None;
            }
            hour.to_string()
        } else {
            format!("{hour:02}")
        };
        digits.push_str(&format!("{:02}", time.minute()));
        if self.has_seconds {
            digits.push_str(&format!("{:02}", time.second()));
        }
        if digits.len() != slots.len() {
            return None;
        }
        if self.twelve_hour && (time.hour() >= 12) != (self.time.hour() >= 12) {
            // AM/PM would change too: not the same layout.
            return None;
        }
        let mut out: Vec<u8> = self.normalised.clone().into_bytes();
        for (slot, d) in slots.iter().zip(digits.bytes()) {
            out[*slot] = d;
        }
        String::from_utf8(out).ok()
    }

    /// Whether the date reads differently in different orders.
    pub fn is_ambiguous(&self) -> bool {
        self.dates.len() > 1
    }

    /// The date in `order`, when the digits allow it.
    pub fn date_in(&self, order: DateOrder) -> Option<NaiveDate> {
        self.dates.iter().find(|d| d.order == order).map(|d| d.date)
    }

    /// The date and time: in `order` when given (`None` if the digits do not allow that
    /// order), else the first reading; `None` when the overlay shows no date.
    pub fn date_time(&self, order: Option<DateOrder>) -> Option<NaiveDateTime> {
        let date = match order {
            Some(o) => self.date_in(o)?,
            None => self.dates.first()?.date,
        };
        Some(date.and_time(self.time))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Digits(String),
    Word(String),
    /// `/ - . :`
    Sep(char),
    Space,
}

const MONTHS: [(&str, u32); 27] = [
    ("JAN", 1),
    ("JANV", 1),
    ("FEB", 2),
    ("FEV", 2),
    ("FEVR", 2),
    ("MAR", 3),
    ("MARS", 3),
    ("APR", 4),
    ("AVR", 4),
    ("AVRIL", 4),
    ("MAY", 5),
    ("MAI", 5),
    ("JUN", 6),
    ("JUIN", 6),
    ("JUL", 7),
    ("JUIL", 7),
    ("AUG", 8),
    ("AOU", 8),
    ("AOUT", 8),
    ("SEP", 9),
    ("SEPT", 9),
    ("OCT", 10),
    ("NOV", 11),
    ("DEC", 12),
    ("JUNE", 6),
    ("JULY", 7),
    ("MARCH", 3),
];

fn month_of(word: &str) -> Option<u32> {
    MONTHS.iter().find(|(w, _)| *w == word).map(|(_, m)| *m)
}

/// Letters OCR reads where a digit is.
fn digit_for(c: char) -> Option<char> {
    Some(match c {
        'O' | 'Q' | 'D' => '0',
        'I' | 'L' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        c if c.is_ascii_digit() => c,
        _ => return None,
    })
}

fn is_ampm(w: &str) -> bool {
    matches!(w, "AM" | "PM")
}

/// Split into tokens, folding look-alike letters to digits where a number is expected.
fn lex(text: &str) -> Vec<Tok> {
    // Characters first: alphanumeric runs, separators, spaces.
    let upper = text.to_uppercase();
    let chars: Vec<char> = upper.chars().collect();
    let mut raw: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            raw.push(Tok::Word(chars[start..i].iter().collect()));
            continue;
        }
        match c {
            '/' | '-' | '.' | ':' => raw.push(Tok::Sep(c)),
            _ => {
                if raw.last() != Some(&Tok::Space) {
                    raw.push(Tok::Space);
                }
            }
        }
        i += 1;
    }
    // Then each alphanumeric run: all digits (after folding) when it holds a digit or
    // touches a separator; otherwise split into digit and letter parts, where a letter part
    // that is no known word but folds to digits is a number.
    let n = raw.len();
    let mut out = Vec::new();
    for k in 0..n {
        let Tok::Word(run) = &raw[k] else {
            out.push(raw[k].clone());
            continue;
        };
        let touches_sep = (k > 0 && matches!(raw[k - 1], Tok::Sep(_)))
            || (k + 1 < n && matches!(raw[k + 1], Tok::Sep(_)));
        let has_digit = run.chars().any(|c| c.is_ascii_digit());
        let known = month_of(run).is_some() || is_ampm(run) || is_weekday(run);
        if !known && (has_digit || touches_sep) {
            if let Some(d) = run.chars().map(digit_for).collect::<Option<String>>() {
                out.push(Tok::Digits(d));
                continue;
            }
        }
        // Mixed run: split where letters meet digits (`12PM`, `07MAR2017`).
        let mut parts: Vec<(bool, String)> = Vec::new();
        for c in run.chars() {
            let digit = c.is_ascii_digit();
            match parts.last_mut() {
                Some((d, s)) if *d == digit => s.push(c),
                _ => parts.push((digit, c.to_string())),
            }
        }
        let m = parts.len();
        for (j, (digit, s)) in parts.iter().enumerate() {
            if *digit {
                out.push(Tok::Digits(s.clone()));
                continue;
            }
            let known = month_of(s).is_some() || is_ampm(s) || is_weekday(s);
            // A letter part between digits (or a run that is mostly digits) is a misread number.
            let between_digits = j > 0 && j + 1 < m;
            if !known && between_digits {
                if let Some(d) = s.chars().map(digit_for).collect::<Option<String>>() {
                    out.push(Tok::Digits(d));
                    continue;
                }
            }
            out.push(Tok::Word(s.clone()));
        }
    }
    // Adjacent digit tokens (from folding) join.
    let mut joined: Vec<Tok> = Vec::new();
    for t in out {
        match (joined.last_mut(), &t) {
            (Some(Tok::Digits(a)), Tok::Digits(b)) => a.push_str(b),
            _ => joined.push(t),
        }
    }
    joined
}

fn is_weekday(w: &str) -> bool {
    matches!(
        w,
        "MON"
            | "TUE"
            | "WED"
            | "THU"
            | "FRI"
            | "SAT"
            | "SUN"
            | "MONDAY"
            | "TUESDAY"
            | "WEDNESDAY"
            | "THURSDAY"
            | "FRIDAY"
            | "SATURDAY"
            | "SUNDAY"
            | "LUN"
            | "MER"
            | "JEU"
            | "VEN"
            | "SAM"
            | "DIM"
            | "LUNDI"
            | "MARDI"
            | "MERCREDI"
            | "JEUDI"
            | "VENDREDI"
            | "SAMEDI"
            | "DIMANCHE"
    )
}

fn render(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Digits(s) | Tok::Word(s) => s.clone(),
            Tok::Sep(c) => c.to_string(),
            Tok::Space => " ".into(),
        })
        .collect()
}

/// A time found in the tokens.
#[derive(Debug)]
struct TimeMatch {
    /// Tokens `start..end` hold the time (AM/PM included).
    start: usize,
    end: usize,
    /// Digits left of the hour in the first token (a date's last group with no space).
    leftover: Option<String>,
    time: NaiveTime,
    has_seconds: bool,
    /// Tokens `digits.0..digits.1` hold the hour to the last digits (no AM/PM).
    digits: (usize, usize),
    twelve_hour: bool,
}

fn num(s: &str) -> Option<u32> {
    s.parse().ok()
}

fn digits_at(toks: &[Tok], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Tok::Digits(s)) => Some(s),
        _ => None,
    }
}

fn sep_at(toks: &[Tok], i: usize) -> Option<char> {
    match toks.get(i) {
        Some(Tok::Sep(c)) => Some(*c),
        _ => None,
    }
}

/// An AM/PM marker at `i` (`PM`, `P.M.`, `P M`); returns (is PM, tokens used).
fn ampm_at(toks: &[Tok], i: usize) -> Option<(bool, usize)> {
    match toks.get(i)? {
        Tok::Word(w) if is_ampm(w) => Some((w == "PM", 1)),
        Tok::Word(w) if w == "A" || w == "P" => {
            let pm = w == "P";
            let mut j = i + 1;
            if matches!(toks.get(j), Some(Tok::Sep('.')) | Some(Tok::Space)) {
                j += 1;
            }
            match toks.get(j) {
                Some(Tok::Word(m)) if m == "M" => {
                    let mut used = j + 1 - i;
                    if sep_at(toks, j + 1) == Some('.') {
                        used += 1;
                    }
                    Some((pm, used))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The time whose first digit group is at `i`, if one starts there.
fn time_at(toks: &[Tok], i: usize) -> Option<TimeMatch> {
    // Inside a longer colon group (`25:00:00` is not `00:00`).
    if i > 0 && sep_at(toks, i - 1) == Some(':') {
        return None;
    }
    let a = digits_at(toks, i)?;
    let s1 = sep_at(toks, i + 1)?;
    if s1 != ':' && s1 != '.' {
        return None;
    }
    let b = digits_at(toks, i + 2)?;
    let (hour_s, leftover) = if a.len() > 2 {
        (&a[a.len() - 2..], Some(a[..a.len() - 2].to_string()))
    } else {
        (a, None)
    };
    let (min_s, sec_s, end, sep2) = match (b.len(), sep_at(toks, i + 3), digits_at(toks, i + 4)) {
        (2, Some(s2 @ (':' | '.')), Some(c)) if c.len() == 2 => (b, Some(c), i + 5, Some(s2)),
        // A third group of the wrong length: a misread, not a time without seconds.
        (2, Some(':' | '.'), Some(_)) => return None,
        (2, _, _) => (b, None, i + 3, None),
        // `12:0412`: the second colon lost; `12:04112`: read as a 1.
        (4, _, _) => (&b[..2], Some(&b[2..]), i + 3, None),
        (5, _, _) if &b[2..3] == "1" => (&b[..2], Some(&b[3..]), i + 3, None),
        _ => return None,
    };
    // A time needs a colon somewhere (`07.03.17` alone is a date), and digits glued
    // before the hour only with seconds (`0712:04:12`, not `2017:04`).
    if (s1 != ':' && sep2 != Some(':')) || (leftover.is_some() && sec_s.is_none()) {
        return None;
    }
    let mut hour = num(hour_s)?;
    let minute = num(min_s)?;
    let second = match sec_s {
        Some(s) => num(s)?,
        None => 0,
    };
    let digits = (i, end);
    // AM/PM right after (or right before) the time.
    let mut end = end;
    let mut start = i;
    let mut after = end;
    if matches!(toks.get(after), Some(Tok::Space)) {
        after += 1;
    }
    let marker = ampm_at(toks, after).map(|(pm, used)| (pm, after + used, true));
    let marker = marker.or_else(|| {
        let mut before = i.checked_sub(1)?;
        if matches!(toks.get(before), Some(Tok::Space)) {
            before = before.checked_sub(1)?;
        }
        // Look back for a one- or two-token marker ending at `before`.
        (before.saturating_sub(3)..=before).find_map(|j| {
            ampm_at(toks, j)
                .filter(|(_, used)| j + used == before + 1)
                .map(|(pm, _)| (pm, j, false))
        })
    });
    if let Some((pm, pos, after_time)) = marker {
        if leftover.is_none() && (1..=12).contains(&hour) {
            hour = match (pm, hour) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
            if after_time {
                end = pos;
            } else {
                start = pos;
            }
        } else {
            return None;
        }
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    Some(TimeMatch {
        start,
        end,
        leftover,
        time,
        has_seconds: sec_s.is_some(),
        digits,
        twelve_hour: marker.is_some(),
    })
}

/// Six bare digits `HHMMSS` (a time whose colons were lost), only beside a date.
fn bare_time_at(toks: &[Tok], i: usize) -> Option<TimeMatch> {
    let a = digits_at(toks, i)?;
    if a.len() != 6 {
        return None;
    }
    let time = NaiveTime::from_hms_opt(num(&a[..2])?, num(&a[2..4])?, num(&a[4..])?)?;
    Some(TimeMatch {
        start: i,
        end: i + 1,
        leftover: None,
        time,
        has_seconds: true,
        digits: (i, i + 1),
        twelve_hour: false,
    })
}

fn year_of(s: &str) -> Option<i32> {
    let y: i32 = s.parse().ok()?;
    match s.len() {
        // A recorder that writes two digits is from this century (and `87` is a misread
        // `07` far more often than a clock set to 1987).
        2 => Some(2000 + y),
        4 if (1970..=2099).contains(&y) => Some(y),
        _ => None,
    }
}

fn date_of(y: &str, m: u32, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year_of(y)?, m, num(d)?)
}

/// A part of a date: a number or a month name.
#[derive(Debug, Clone)]
enum Part {
    N(String),
    Month(u32),
}

/// Every reading of a date made of `parts`, in the order of preference.
fn readings(parts: &[Part]) -> Vec<ClockDate> {
    use DateOrder::*;
    let mut out: Vec<ClockDate> = Vec::new();
    let mut push = |order: DateOrder, date: Option<NaiveDate>| {
        if let Some(date) = date {
            if !out.iter().any(|d| d.date == date) {
                out.push(ClockDate { order, date });
            }
        }
    };
    let short = |s: &str| (1..=2).contains(&s.len());
    match parts {
        [Part::N(d), Part::Month(m), Part::N(y)] if short(d) => push(Dmy, date_of(y, *m, d)),
        [Part::Month(m), Part::N(d), Part::N(y)] if short(d) => push(Mdy, date_of(y, *m, d)),
        [Part::N(y), Part::Month(m), Part::N(d)] if y.len() == 4 && short(d) => {
            push(Ymd, date_of(y, *m, d))
        }
        [Part::N(a), Part::N(b), Part::N(c)] => {
            if a.len() == 4 && short(b) && short(c) {
                push(Ymd, num(b).and_then(|m| date_of(a, m, c)));
            } else if short(a) && short(b) && (c.len() == 4 || c.len() == 2) {
                push(Dmy, num(b).and_then(|m| date_of(c, m, a)));
                if a.len() == 2 && c.len() == 2 {
                    push(Ymd, num(b).and_then(|m| date_of(a, m, c)));
                }
                push(Mdy, num(a).and_then(|m| date_of(c, m, b)));
            }
        }
        // Separators lost: the digit count decides the split.
        [Part::N(_)] | [Part::N(_), Part::N(_)] => {
            let all: String = parts
                .iter()
                .map(|p| match p {
                    Part::N(s) => s.as_str(),
                    Part::Month(_) => "",
                })
                .collect();
            let split = |cuts: [usize; 2]| {
                vec![
                    Part::N(all[..cuts[0]].to_string()),
                    Part::N(all[cuts[0]..cuts[1]].to_string()),
                    Part::N(all[cuts[1]..].to_string()),
                ]
            };
            match all.len() {
                6 => return readings(&split([2, 4])),
                8 => {
                    let mut v = Vec::new();
                    if all.starts_with("19") || all.starts_with("20") {
                        v.extend(readings(&split([4, 6])));
                    }
                    if all[4..].starts_with("19") || all[4..].starts_with("20") {
                        for r in readings(&split([2, 4])) {
                            if !v.iter().any(|d: &ClockDate| d.date == r.date) {
                                v.push(r);
                            }
                        }
                    }
                    return v;
                }
                _ => {}
            }
        }
        _ => {}
    }
    out
}

/// The date in `toks` (a slice without the time), closest to `near_end` first.
fn find_date(toks: &[Tok], near_end: bool) -> Vec<ClockDate> {
    // Runs of parts joined by one separator (a space counts only next to a month name,
    // or when nothing better is found).
    for spaces in [false, true] {
        let mut runs: Vec<Vec<Part>> = Vec::new();
        let mut cur: Vec<Part> = Vec::new();
        let mut joined = true; // whether the next part continues `cur`
        let mut last_sep: Option<char> = None;
        for t in toks {
            match t {
                Tok::Digits(s) | Tok::Word(s) => {
                    let part = match t {
                        Tok::Digits(_) => Some(Part::N(s.clone())),
                        _ => month_of(s).map(Part::Month),
                    };
                    let Some(part) = part else {
                        // Another word ends the run.
                        if !cur.is_empty() {
                            runs.push(std::mem::take(&mut cur));
                        }
                        joined = true;
                        last_sep = None;
                        continue;
                    };
                    let space_ok = spaces
                        || matches!(part, Part::Month(_))
                        || matches!(cur.last(), Some(Part::Month(_)));
                    let continues = joined || (last_sep == Some(' ') && space_ok);
                    if !continues && !cur.is_empty() {
                        runs.push(std::mem::take(&mut cur));
                    }
                    cur.push(part);
                    joined = false;
                    last_sep = None;
                }
                Tok::Sep(c) => {
                    if matches!(c, '/' | '-' | '.') && last_sep.is_none() && !cur.is_empty() {
                        joined = true;
                        last_sep = Some(*c);
                    } else {
                        if !cur.is_empty() {
                            runs.push(std::mem::take(&mut cur));
                        }
                        joined = true;
                        last_sep = None;
                    }
                }
                Tok::Space => {
                    if joined && !cur.is_empty() && last_sep.is_some() {
                        // `17/ 03`: a separator then a space still joins.
                        continue;
                    }
                    joined = false;
                    last_sep = Some(' ');
                }
            }
        }
        if !cur.is_empty() {
            runs.push(cur);
        }
        if near_end {
            runs.reverse();
        }
        for run in runs {
            // Longer runs: the three parts nearest the time, then the first three.
            let windows: Vec<&[Part]> = if run.len() > 3 {
                if near_end {
                    vec![&run[run.len() - 3..], &run[..3]]
                } else {
                    vec![&run[..3], &run[run.len() - 3..]]
                }
            } else {
                vec![&run[..]]
            };
            for w in windows {
                let r = readings(w);
                if !r.is_empty() {
                    return r;
                }
            }
        }
    }
    Vec::new()
}

/// Parse a recorder clock line: `dd/mm/yy HH:MM:SS`, `dd-mm-yyyy`, `yyyy-mm-dd`,
/// `yyyy/mm/dd`, `mm/dd/yyyy`, month names (`07 MAR 2017`), 12-hour times with AM/PM, or a
/// time alone; other text on the line (camera names, weekdays) is skipped. `None` when no
/// valid time is found.
pub fn parse_clock(text: &str) -> Option<ClockText> {
    let mut toks = lex(text);
    let mut found = (0..toks.len()).find_map(|i| time_at(&toks, i));
    if found.is_none() {
        // Six bare digits beside a date.
        found = (0..toks.len()).rev().find_map(|i| {
            let t = bare_time_at(&toks, i)?;
            let before = find_date(&toks[..i], true);
            let after = find_date(&toks[i + 1..], false);
            (!before.is_empty() || !after.is_empty()).then_some(t)
        });
    }
    let t = found?;
    let rendered = render(&toks);
    let lead = rendered.len() - rendered.trim_start().len();
    let normalised = rendered.trim().to_string();
    // Character offsets of the time's digits in `normalised` (every token is ASCII).
    let offset = |tok: usize| -> usize { render(&toks[..tok]).len().saturating_sub(lead) };
    let time_span = [
        offset(t.digits.0) + t.leftover.as_ref().map_or(0, String::len),
        offset(t.digits.1).min(normalised.len()),
    ];
    let mut before: Vec<Tok> = toks.drain(..t.start).collect();
    if let Some(l) = &t.leftover {
        before.push(Tok::Digits(l.clone()));
    }
    let after: Vec<Tok> = toks.drain(t.end - t.start..).collect();
    let mut dates = find_date(&before, true);
    if dates.is_empty() {
        dates = find_date(&after, false);
    }
    Some(ClockText {
        normalised,
        time: t.time,
        has_seconds: t.has_seconds,
        twelve_hour: t.twelve_hour,
        time_span,
        dates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32, s: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, s).unwrap()
    }
    fn dates(c: &ClockText) -> Vec<(DateOrder, NaiveDate)> {
        c.dates.iter().map(|x| (x.order, x.date)).collect()
    }

    #[test]
    fn usual_formats() {
        use DateOrder::*;
        let c = parse_clock("2018-12-31 17:11:38").unwrap();
        assert_eq!(c.time, t(17, 11, 38));
        assert!(c.has_seconds);
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);
        assert!(!c.is_ambiguous());

        let c = parse_clock("2018/12/31 17:11:38").unwrap();
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);

        let c = parse_clock("31-12-2018 07:01:02").unwrap();
        assert_eq!(c.time, t(7, 1, 2));
        assert_eq!(dates(&c), vec![(Dmy, d(2018, 12, 31))]);

        let c = parse_clock("12/31/2018 07:01:02").unwrap();
        assert_eq!(dates(&c), vec![(Mdy, d(2018, 12, 31))]);

        let c = parse_clock("31.12.2018 23:59:59").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2018, 12, 31))]);

        let c = parse_clock("07 MAR 2017 12:04:12").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2017, 3, 7))]);
        let c = parse_clock("Mar 07 2017 12:04:12").unwrap();
        assert_eq!(dates(&c), vec![(Mdy, d(2017, 3, 7))]);
        let c = parse_clock("07-MAR-2017 12:04:12").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2017, 3, 7))]);

        // Time after the date, time first, time alone.
        let c = parse_clock("12:04:12 2017-03-07").unwrap();
        assert_eq!(dates(&c), vec![(Ymd, d(2017, 3, 7))]);
        let c = parse_clock("12:04:12").unwrap();
        assert!(c.dates.is_empty());
        assert_eq!(c.date_time(None), None);
        assert_eq!(c.time, t(12, 4, 12));
        let c = parse_clock("9:05").unwrap();
        assert_eq!(c.time, t(9, 5, 0));
        assert!(!c.has_seconds);
    }

    #[test]
    fn twelve_hour_clocks() {
        assert_eq!(
            parse_clock("03/07/2017 12:04:12 PM").unwrap().time,
            t(12, 4, 12)
        );
        assert_eq!(
            parse_clock("03/07/2017 12:04:12 AM").unwrap().time,
            t(0, 4, 12)
        );
        assert_eq!(
            parse_clock("03/07/2017 01:04:12PM").unwrap().time,
            t(13, 4, 12)
        );
        assert_eq!(parse_clock("1:04:12 p.m.").unwrap().time, t(13, 4, 12));
        assert_eq!(parse_clock("PM 01:04:12").unwrap().time, t(13, 4, 12));
        // 13 PM is not a time.
        assert_eq!(parse_clock("13:04:12 PM"), None);
    }

    #[test]
    fn ambiguous_dates_give_every_reading() {
        use DateOrder::*;
        let c = parse_clock("17/03/07 12:04:12").unwrap();
        assert!(c.is_ambiguous());
        assert_eq!(
            dates(&c),
            vec![(Dmy, d(2007, 3, 17)), (Ymd, d(2017, 3, 7))],
            "month 17 is no month: no month-first reading"
        );
        assert_eq!(
            c.date_time(Some(Ymd)),
            Some(d(2017, 3, 7).and_time(t(12, 4, 12)))
        );
        assert_eq!(c.date_time(Some(Mdy)), None);
        assert_eq!(
            c.date_time(None),
            Some(d(2007, 3, 17).and_time(t(12, 4, 12)))
        );

        let c = parse_clock("03/07/2017 08:00:00").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2017, 7, 3)), (Mdy, d(2017, 3, 7))]);

        // The same date whichever order: not ambiguous.
        let c = parse_clock("07/07/07 08:00:00").unwrap();
        assert!(!c.is_ambiguous());
        assert_eq!(c.dates[0].date, d(2007, 7, 7));
    }

    #[test]
    fn ocr_confusions_are_folded() {
        use DateOrder::*;
        let c = parse_clock("2O18-l2-3I l7:II:3B").unwrap();
        assert_eq!(c.time, t(17, 11, 38));
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);
        assert_eq!(c.normalised, "2018-12-31 17:11:38");

        let c = parse_clock("I7/O3/O7 I2:O4:S2").unwrap();
        assert_eq!(c.time, t(12, 4, 52));
        assert_eq!(
            c.dates[0],
            ClockDate {
                order: Dmy,
                date: d(2007, 3, 17)
            }
        );

        // The space between date and time lost.
        let c = parse_clock("17/03/0712:04:12").unwrap();
        assert_eq!(c.time, t(12, 4, 12));
        assert_eq!(c.date_in(Ymd), Some(d(2017, 3, 7)));
        let c = parse_clock("2018-12-3117:11:38").unwrap();
        assert_eq!(c.date_in(Ymd), Some(d(2018, 12, 31)));
        assert_eq!(c.time, t(17, 11, 38));

        // Separators lost where the digit count fixes the split.
        let c = parse_clock("20181231 171138").unwrap();
        assert_eq!(c.time, t(17, 11, 38));
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);
        let c = parse_clock("2018-1231 17:11:38").unwrap();
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);
        let c = parse_clock("31122018 17:11:38").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2018, 12, 31))]);
        let c = parse_clock("17:11:3B").unwrap();
        assert_eq!(c.time, t(17, 11, 38));
        let c = parse_clock("17:1138").unwrap();
        assert_eq!(c.time, t(17, 11, 38));
        // A colon read as a one.
        let c = parse_clock("2018-12-31 17:12119").unwrap();
        assert_eq!(c.time, t(17, 12, 19));
    }

    #[test]
    fn other_text_on_the_line_is_skipped() {
        use DateOrder::*;
        let c = parse_clock("CAM 01 2018-12-31 MON 17:11:38").unwrap();
        assert_eq!(dates(&c), vec![(Ymd, d(2018, 12, 31))]);
        assert_eq!(c.time, t(17, 11, 38));
        let c = parse_clock("CCTV DEPAN 31/12/2018 17:11:38 CH2").unwrap();
        assert_eq!(dates(&c), vec![(Dmy, d(2018, 12, 31))]);
        // Six bare digits are the time when a date stands beside them (the last group).
        let c = parse_clock("170307 120412").unwrap();
        assert_eq!(c.time, t(12, 4, 12));
        assert_eq!(c.date_in(Ymd), Some(d(2017, 3, 7)));
    }

    #[test]
    fn garbage_is_rejected() {
        for s in [
            "",
            "HELLO",
            "CCTV DEPAN JALAN 2",
            "12345",
            "99:99:99",
            "25:00:00",
            "12:60:00",
            "12:04:1",
            "17/03/07",
            "07.03.17",
            "AB:CD:EF",
            "1234567",
            "120412",
            "2017:04",
        ] {
            assert_eq!(parse_clock(s), None, "{s:?}");
        }
        // A time with an impossible date keeps the time, without a date.
        let c = parse_clock("32/13/2018 10:00:00").unwrap();
        assert!(c.dates.is_empty());
    }

    #[test]
    fn the_time_is_rewritten_in_the_same_layout() {
        let c = parse_clock("I7/O3/O7 I2:O4:S2").unwrap();
        assert_eq!(c.normalised, "17/03/07 12:04:52");
        assert_eq!(&c.normalised[c.time_span[0]..c.time_span[1]], "12:04:52");
        assert_eq!(
            c.with_time(t(9, 5, 7)).as_deref(),
            Some("17/03/07 09:05:07")
        );
        let c = parse_clock("17/03/0712:04:12").unwrap();
        assert_eq!(&c.normalised[c.time_span[0]..c.time_span[1]], "12:04:12");
        assert_eq!(
            c.with_time(t(12, 4, 13)).as_deref(),
            Some("17/03/0712:04:13")
        );
        let c = parse_clock(" 7:04:12 PM CAM1").unwrap();
        assert_eq!(
            c.with_time(t(19, 4, 13)).as_deref(),
            Some("7:04:13 PM CAM1")
        );
        assert_eq!(c.with_time(t(22, 4, 13)), None, "two-digit hour");
        assert_eq!(c.with_time(t(7, 4, 13)), None, "AM");
        let c = parse_clock("20181231 171138").unwrap();
        assert_eq!(
            c.with_time(t(17, 11, 39)).as_deref(),
            Some("20181231 171139")
        );
    }

    /// A line whose recogniser output spells `text` (one step per character, blanks
    /// between), except that character `soft.0` is only `soft.2` likely, its runner-up
    /// `soft.1` close behind.
    fn line(text: &str, soft: Option<(usize, char, f32)>) -> OverlayText {
        use crate::recognise::{clock_indices, ctc_decode_in, CLOCK_ALPHABET};
        let width = CLOCK_ALPHABET.len() + 1;
        let mut p = Vec::new();
        for (i, c) in text.chars().enumerate() {
            let mut row = vec![0f32; width];
            let k = 1 + clock_indices(&c.to_string()).unwrap()[0] as usize;
            match soft {
                Some((at, alt, q)) if at == i => {
                    row[k] = q;
                    row[1 + clock_indices(&alt.to_string()).unwrap()[0] as usize] = 0.9 - q;
                }
                _ => row[k] = 0.9,
            }
            row[0] = 0.1;
            p.extend(row);
            let mut blank = vec![0f32; width];
            blank[0] = 1.0;
            p.extend(blank);
        }
        let steps = StepProbs {
            steps: p.len() / width,
            width,
            p,
        };
        let map: Vec<Option<u8>> = std::iter::once(None)
            .chain((0..CLOCK_ALPHABET.len() as u8).map(Some))
            .collect();
        let read = ctc_decode_in(&steps.p, steps.steps, width, &map, CLOCK_ALPHABET);
        OverlayText {
            box_px: [10.0, 10.0, 100.0, 12.0],
            text: read.text(),
            confidence: read.mean_confidence(),
            detector_score: 0.9,
            read,
            steps,
        }
    }

    #[test]
    fn a_sample_is_corrected_only_when_its_own_read_allows_it() {
        let s = |pts_ms: i64, l: OverlayText| ClockSample {
            pts_ms,
            lines: vec![l],
        };
        let samples = vec![
            s(0, line("2017-03-07 12:04:10", None)),
            s(10_000, line("2017-03-07 12:04:20", None)),
            // `30` read as `20`: the tens digit barely a 2, a 3 close behind.
            s(20_000, line("2017-03-07 12:04:20", Some((17, '3', 0.5)))),
            // A confident misread stays what it is.
            s(30_000, line("2017-03-07 12:04:50", None)),
            // A line that spells no clock at all keeps no time.
            s(40_000, line("CAM 2 ENTRANCE", None)),
        ];
        let out = read_samples(&samples);
        let checked: Vec<Option<CheckedTime>> = out
            .iter()
            .map(|o| o.as_ref().and_then(|o| o.checked))
            .collect();
        assert_eq!(checked[0].unwrap().time, t(12, 4, 10));
        assert!(checked[0].unwrap().as_read);
        // The soft sample: its own best guess is 12:04:20 (2 at 0.5 vs 3 at 0.4)...
        let own = out[2].as_ref().unwrap().parsed.as_ref().unwrap().clock.time;
        assert_eq!(own, t(12, 4, 20));
        // ... but the others say 12:04:30 here, and its pixels allow it.
        assert_eq!(checked[2].unwrap().time, t(12, 4, 30));
        assert!(!checked[2].unwrap().as_read);
        // The confident misread is kept as read (the caller finds it an outlier).
        assert_eq!(checked[3].unwrap().time, t(12, 4, 50));
        assert!(checked[3].unwrap().as_read);
        assert!(checked[4].is_none(), "{:?}", out[4]);
    }

    /// A read of `text`, each character at 0.9 except those given with their runner-up.
    fn read_of(text: &str, doubts: &[(usize, char, f32)]) -> TextRead {
        use crate::recognise::CharRead;
        TextRead {
            chars: text
                .chars()
                .enumerate()
                .map(|(i, ch)| match doubts.iter().find(|d| d.0 == i) {
                    Some(&(_, alt, q)) => CharRead {
                        ch,
                        p: 0.9 - q,
                        alts: vec![(ch, 0.9 - q), (alt, q)],
                    },
                    None => CharRead {
                        ch,
                        p: 0.9,
                        alts: vec![(ch, 0.9)],
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn runners_up_complete_a_clock_the_read_left_incomplete() {
        // Month 89: its 8 has a 0 behind it.
        let p = parse_clock_read(&read_of("17/89/07 12:04:28", &[(3, '0', 0.15)])).unwrap();
        assert_eq!(p.corrections, 1);
        assert_eq!(p.clock.normalised, "17/09/07 12:04:28");
        assert_eq!(p.clock.date_in(DateOrder::Dmy), Some(d(2007, 9, 17)));
        assert!(p.confidence < 0.9);
        // A stray separator the recogniser was unsure of is dropped.
        let r = read_of("17./09/07 12:04:28", &[(2, '-', 0.45)]);
        let p = parse_clock_read(&r).unwrap();
        assert_eq!(p.clock.normalised, "17/09/07 12:04:28");
        // A complete read is left as it is, even with doubts.
        let p = parse_clock_read(&read_of("17/09/07 12:04:28", &[(16, '3', 0.4)])).unwrap();
        assert_eq!((p.corrections, p.clock.time), (0, t(12, 4, 28)));
        // No runner-up makes a month of 89: the time alone.
        let p = parse_clock_read(&read_of("17/89/07 12:04:28", &[])).unwrap();
        assert_eq!(p.corrections, 0);
        assert!(p.clock.dates.is_empty());
        assert_eq!(p.clock.completeness(), 2);
    }

    #[test]
    fn date_order_parses() {
        assert_eq!("DMY".parse::<DateOrder>().unwrap(), DateOrder::Dmy);
        assert_eq!("ymd".parse::<DateOrder>().unwrap(), DateOrder::Ymd);
        assert!("ydm".parse::<DateOrder>().is_err());
    }

    #[test]
    fn regions_are_the_top_and_bottom_bands() {
        assert_eq!(
            overlay_regions(320, 240, 0.2),
            vec![[0, 0, 320, 48], [0, 192, 320, 48]]
        );
        assert_eq!(overlay_regions(100, 50, 1.0), vec![[0, 0, 100, 50]]);
    }

    #[test]
    fn rows_merge() {
        let merged = merge_rows(vec![
            ([40.0, 10.0, 70.0, 18.0], 0.8),
            ([10.0, 10.5, 38.0, 18.5], 0.7),
            ([10.0, 100.0, 30.0, 108.0], 0.9),
        ]);
        assert_eq!(merged.len(), 2, "{merged:?}");
        let m = merged.iter().find(|(b, _)| b[1] < 50.0).unwrap();
        assert_eq!(m.0, [10.0, 10.0, 70.0, 18.5]);
        assert_eq!(m.1, 0.8);
    }
}

/// The reader on real stills with a timestamp overlay (skips, with the reason, when the
/// models, ONNX Runtime or the shared dataset are absent).
#[cfg(test)]
mod model_tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::Instant;

    use chrono::Datelike;
    use vigie_core::MemoryAlertSink;
    use vigie_policy::{ids, model_path, PolicyError};

    use super::*;

    /// Measured: every one of the 180 frames (30 of this sample) reads as a complete
    /// clock, 1280x720 and 1920x1080 alike.
    const MIN_COMPLETE_RATE: f64 = 0.9;

    fn reader() -> Option<OverlayClockReader> {
        for id in [ids::PPOCRV6_DET_SMALL, ids::PPOCRV6_REC_SMALL] {
            if !model_path(id).is_file() {
                vigie_core::test_support::skip(&format!(
                    "{} absent (run tools/fetch-models)",
                    model_path(id).display()
                ));
                return None;
            }
        }
        match OverlayClockReader::open(OverlayConfig::default(), &MemoryAlertSink::default()) {
            Ok(r) => Some(r),
            Err(PlateError::Model(PolicyError::RuntimeMissing { path, .. })) => {
                vigie_core::test_support::skip(&format!(
                    "ONNX Runtime absent at {path} (run tools/fetch-onnxruntime)"
                ));
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Street CCTV stills (`frameN.jpg`, N the frame number in its recording; two
    /// cameras, told apart by their size): the clock read on each is complete, and on each
    /// camera it never runs backwards and advances no faster than the frames (at 5 fps or
    /// more: at most one second per 5 frames, plus one for the cut to the second).
    #[test]
    fn stills_read_plausible_clocks() {
        let dir = vigie_core::test_support::shared_datasets()
            .join("street-cctv-vehicles/frames_voc_train");
        if !dir.is_dir() {
            vigie_core::test_support::skip(&format!("{} absent", dir.display()));
            return;
        }
        let Some(mut reader) = reader() else {
            return;
        };
        let mut frames: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                let n = p
                    .file_stem()?
                    .to_str()?
                    .strip_prefix("frame")?
                    .parse()
                    .ok()?;
                (p.extension()? == "jpg").then_some((n, p))
            })
            .collect();
        frames.sort();
        // Every sixth frame: both cameras, spread over the set.
        let sample: Vec<&(u64, PathBuf)> = frames.iter().step_by(6).collect();
        assert!(
            sample.len() >= 20,
            "{} frames in {}",
            frames.len(),
            dir.display()
        );
        let this_year = chrono::Utc::now().date_naive();
        let mut by_camera: BTreeMap<(u32, u32), Vec<(u64, NaiveDateTime)>> = BTreeMap::new();
        let (mut complete, mut secs) = (0usize, 0f64);
        for (n, path) in &sample {
            let img = image::open(path).unwrap().to_rgb8();
            let view = RgbView::new(img.as_raw(), img.width(), img.height()).unwrap();
            let t = Instant::now();
            let got = reader.read_clock(&view).unwrap();
            secs += t.elapsed().as_secs_f64();
            let Some((line, parsed)) = got else {
                eprintln!("frame{n}: no clock read");
                continue;
            };
            let Some(at) = parsed
                .clock
                .date_time(None)
                .filter(|_| parsed.clock.has_seconds)
            else {
                eprintln!("frame{n}: {:?} is not a complete clock", line.text);
                continue;
            };
            complete += 1;
            assert!(
                (2000..=this_year.year()).contains(&at.date().year()) && at.date() <= this_year,
                "frame{n}: {at} from {:?}",
                line.text
            );
            by_camera
                .entry((img.width(), img.height()))
                .or_default()
                .push((*n, at));
        }
        let rate = complete as f64 / sample.len() as f64;
        eprintln!(
            "overlay clock on street-cctv stills: {complete}/{} complete = {rate:.3}, {:.0} ms per image",
            sample.len(),
            1000.0 * secs / sample.len() as f64
        );
        assert!(
            rate >= MIN_COMPLETE_RATE,
            "complete rate {rate:.3} < {MIN_COMPLETE_RATE}"
        );
        assert_eq!(by_camera.len(), 2, "two cameras: {:?}", by_camera.keys());
        for (size, reads) in &by_camera {
            for w in reads.windows(2) {
                let ((n0, t0), (n1, t1)) = (w[0], w[1]);
                let dt_s = (t1 - t0).num_seconds();
                assert!(
                    dt_s >= 0 && dt_s <= ((n1 - n0) / 5) as i64 + 1,
                    "{size:?}: frame{n0} {t0} then frame{n1} {t1}"
                );
            }
        }
    }
}
