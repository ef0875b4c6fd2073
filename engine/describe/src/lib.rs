//! Describing tracks without biometrics.
//!
//! A track is summarised by what an investigator can say of an object on screen: its class,
//! its dominant colours (for persons, of the upper and lower body), its size, how fast and
//! in which direction it moved, the path it took, by which edges it came and went, the
//! zones it stayed in and the lines it crossed. Nothing here looks at faces, gait or any
//! other trait that identifies a person.
//!
//! Colours are measured on the object's own pixels: the caller passes a foreground test
//! (from the background model), so the road or wall behind the object inside its box does
//! not count. When the mask finds too little of the object in the box (a stationary
//! object absorbed into the background), the central part of the box is used instead.
//!
//! Lifecycle: [`Describer::observe`] for each frame a track is seen in (cheap: it samples
//! pixels on a grid and keeps the best thumbnail), then [`Describer::finish`] with the
//! track's full box history gives the [`vigie_core::TrackSummary`].

#![forbid(unsafe_code)]

pub mod colour;
pub mod geometry;
pub mod scene;

use std::collections::HashMap;

use vigie_core::{BBox, Colour, ColourShare, RgbFrame, TrackSummary};

pub use colour::{frame_light, name_lab, name_rgb, srgb_to_lab, ColourTable, FrameLight};
pub use scene::{Line, Scene, SceneError, Zone};

/// Parameters of the description, with the defaults used by `vigie analyze`.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeConfig {
    /// Colours covering less than this share of the object's pixels are not reported.
    pub min_colour_share: f32,
    /// At most this many colours per part, largest first.
    pub max_colours: usize,
    /// Pixels sampled per observation (on a regular grid over the box).
    pub samples_per_observation: u32,
    /// Below this share of foreground pixels in the box, use the box centre instead.
    pub min_mask_fill: f32,
    /// Ground-point speed (frame fractions per second) under which an object is
    /// stationary, for dwell.
    pub still_norm_s: f32,
    /// A box closer than this fraction of the frame to an edge touches it.
    pub edge_margin_frac: f32,
    /// Ramer–Douglas–Peucker tolerance for the stored path, in frame fractions.
    pub path_epsilon_norm: f32,
    /// How a track's colours are pooled over its views.
    pub pooling: ColourPooling,
}

/// How the colours of a track's views are pooled into the track's colours.
///
/// Why: a track is seen in many frames, most of them while the object is far and small. A
/// small view carries little colour (a few dozen pixels per part, mixed with the background
/// the coarse mask lets through, dark denim reading black), yet every view samples the same
/// number of pixels, so the small views outvote the few large ones in which a person
/// would name the colours. Chosen on the tuning half of `eval/colour/tracks.toml`
/// (doc/colour.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourPooling {
    /// Each view's sampled pixels count as its box height in working pixels to this power
    /// (0: every sampled pixel alike whatever the view's size, the rule before).
    pub height_power: f32,
    /// Views shorter than this (working pixels) are used only for a part that no taller
    /// view showed.
    pub min_view_height_px: f32,
    /// A view cut by the frame's edge: its parts are placed by the whole (uncut) box, and
    /// its lower body is not sampled when the box is cut at the bottom (the legs are out of
    /// the picture: what is left there is the torso or nothing).
    pub cut_views: bool,
}

impl ColourPooling {
    /// The pooling before views were weighed: every view alike.
    pub const EQUAL: ColourPooling = ColourPooling {
        height_power: 0.0,
        min_view_height_px: 0.0,
        cut_views: false,
    };
}

impl Default for ColourPooling {
    /// Chosen on the tuning half of `eval/colour/tracks.toml` (doc/colour.md): every value
    /// from 0 to 2 for the power and 0 to 60 px for the height gave the same counts there
    /// (80 px lost an upper body), so the values are those that say what a view is worth:
    /// its pixels (height squared), and none below 40 px where the coarse motion mask
    /// leaves a few cells per part.
    fn default() -> Self {
        Self {
            height_power: 2.0,
            min_view_height_px: 40.0,
            cut_views: true,
        }
    }
}

impl Default for DescribeConfig {
    fn default() -> Self {
        Self {
            min_colour_share: 0.12,
            max_colours: 3,
            samples_per_observation: 400,
            min_mask_fill: 0.15,
            still_norm_s: 0.02,
            edge_margin_frac: 0.02,
            path_epsilon_norm: 0.01,
            pooling: ColourPooling::default(),
        }
    }
}

/// One sighting of a track in a frame.
pub struct Observation<'a> {
    pub track_id: u64,
    pub label: &'a str,
    /// Box in frame pixels.
    pub bbox: &'a BBox,
    pub score: f32,
}

/// Which frame pixels belong to moving objects (from the background model).
#[derive(Clone, Copy)]
pub struct ObjectMask<'a> {
    /// Whether frame pixel (x, y) is foreground.
    pub is_object: &'a dyn Fn(u32, u32) -> bool,
    /// Share of foreground pixels inside the observation's box.
    pub fill: f32,
}

/// The best crop of a track, as packed RGB.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    /// Empty until cut again when the describer keeps no pixels
    /// ([`Describer::keep_thumbnail_pixels`]).
    pub rgb: Vec<u8>,
    pub pts_ms: i64,
    /// Top-left corner of the crop in the frame (working pixels).
    pub x_px: u32,
    pub y_px: u32,
    quality: f32,
}

/// Weighted colour-name histograms of one part each ([`ColourPooling`]).
#[derive(Default, Clone, Copy)]
struct Pooled {
    full: [f64; 11],
    upper: [f64; 11],
    lower: [f64; 11],
}

impl Pooled {
    fn add(&mut self, other: &Pooled) {
        for (a, b) in [
            (&mut self.full, &other.full),
            (&mut self.upper, &other.upper),
            (&mut self.lower, &other.lower),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

#[derive(Default)]
struct Accumulator {
    /// Unweighted counts of every view (the offline linker's colour cue).
    full: [u32; 11],
    /// Views at least `min_view_height_px` tall, and the others.
    large: Pooled,
    small: Pooled,
    thumbnail: Option<Thumbnail>,
    /// A rider was attached (`Describer::attach_rider`): upper/lower are the rider's.
    ridden: bool,
}

/// Zone visits (with dwell) and line crossings of a track from its per-frame boxes: what
/// analysis computes, and what re-applying a camera's new zones to tracks already analysed
/// computes from their stored boxes (no re-detection).
pub fn scene_events(
    history: &[(i64, BBox)],
    (frame_width, frame_height): (u32, u32),
    scene: &Scene,
    cfg: &DescribeConfig,
) -> (Vec<vigie_core::ZoneVisit>, Vec<vigie_core::LineCrossing>) {
    let ground = geometry::ground_points(history, frame_width, frame_height);
    (
        scene::zone_visits(&ground, &scene.zones, cfg.still_norm_s),
        scene::line_crossings(&ground, &scene.lines),
    )
}

/// Per-camera describer: owns the colour table and per-track accumulators.
pub struct Describer {
    cfg: DescribeConfig,
    scene: Scene,
    table: ColourTable,
    tracks: HashMap<u64, Accumulator>,
    /// Whether thumbnails keep their pixels ([`Describer::keep_thumbnail_pixels`]).
    thumbnail_pixels: bool,
}

/// A finished description: the summary plus the thumbnail pixels (the caller encodes and
/// stores the JPEG, then sets `summary.thumbnail`).
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub summary: TrackSummary,
    pub thumbnail: Option<Thumbnail>,
}

/// What the caller knows about the track when it ends.
pub struct TrackEnd<'a> {
    pub source_id: &'a str,
    pub camera: &'a str,
    pub track_id: u64,
    pub label: &'a str,
    pub confidence: f32,
    /// (pts_ms, box in frame pixels), time-ordered.
    pub history: &'a [(i64, BBox)],
    pub frame_width: u32,
    pub frame_height: u32,
    /// Wall-clock ms of pts 0, when known.
    pub start_wall_ms: Option<i64>,
}

impl Describer {
    pub fn new(cfg: DescribeConfig, scene: Scene) -> Self {
        Self {
            cfg,
            scene,
            table: ColourTable::default(),
            tracks: HashMap::new(),
            thumbnail_pixels: true,
        }
    }

    /// With `false`, each track's best view is kept as a place and an instant only (its
    /// [`Thumbnail::rgb`] empty), for a caller that cuts the pixels again from recorded
    /// pictures anyway (`vigie_pipeline::thumbnails`): a source's fragments all wait for
    /// the offline linking pass at its end, and their pixels would be held until then.
    pub fn keep_thumbnail_pixels(&mut self, keep: bool) {
        self.thumbnail_pixels = keep;
    }

    /// Sample the object's pixels in this frame. `is_object(x, y)` says whether a frame
    /// pixel is foreground; `None` when no mask is available.
    pub fn observe(
        &mut self,
        obs: &Observation<'_>,
        frame: &RgbFrame,
        mask: Option<ObjectMask<'_>>,
    ) {
        let (track_id, label, bbox, score) = (obs.track_id, obs.label, obs.bbox, obs.score);
        let (fw, fh) = (frame.width as f32, frame.height as f32);
        let x0 = bbox.x.max(0.0).floor() as u32;
        let y0 = bbox.y.max(0.0).floor() as u32;
        let x1 = ((bbox.x + bbox.w).min(fw).ceil() as u32).min(frame.width);
        let y1 = ((bbox.y + bbox.h).min(fh).ceil() as u32).min(frame.height);
        if x1 <= x0 + 1 || y1 <= y0 + 1 {
            return;
        }
        // The frame's light, once per frame: cast removed; monochrome frames name nothing.
        let colour_frame = self.table.prepare_frame(frame);
        let acc = self.tracks.entry(track_id).or_default();
        let use_mask = mask
            .filter(|m| m.fill >= self.cfg.min_mask_fill)
            .map(|m| m.is_object);
        let (bw, bh) = (x1 - x0, y1 - y0);
        let n = self.cfg.samples_per_observation.max(16) as f32;
        let step = ((bw * bh) as f32 / n).sqrt().max(1.0);
        let person = label == "person";
        let pooling = self.cfg.pooling;
        // Where the parts are: by the whole box, even where the frame cuts it.
        let (part_y0, part_h) = if pooling.cut_views {
            (bbox.y, bbox.h.max(1.0))
        } else {
            (y0 as f32, bh as f32)
        };
        let cut_bottom = pooling.cut_views && bbox.y + bbox.h > fh;
        let mut view = [[0u32; 11]; 3];
        let mut y = y0 as f32 + step / 2.0;
        while y < y1 as f32 {
            let yi = y as u32;
            let rel_y = (yi as f32 - part_y0) / part_h;
            let mut x = x0 as f32 + step / 2.0;
            while x < x1 as f32 {
                let xi = x as u32;
                x += step;
                let rel_x = (xi - x0) as f32 / bw as f32;
                let keep = match use_mask {
                    // A person's outer columns are mostly arms' edges and what the coarse
                    // mask lets through beside them (doc/colour.md).
                    Some(f) => f(xi, yi) && (!person || (0.2..0.8).contains(&rel_x)),
                    // Without a usable mask, the central part of the box is mostly object.
                    None => (0.2..0.8).contains(&rel_x) && (0.1..0.9).contains(&rel_y),
                };
                if !keep || !colour_frame {
                    continue;
                }
                let i = ((yi * frame.width + xi) * 3) as usize;
                let c = self.table.index(&frame.data[i..i + 3]);
                view[0][c] += 1;
                if person {
                    // Skip the head (top 15 %): upper body is the torso, lower the legs.
                    if (0.15..0.5).contains(&rel_y) {
                        view[1][c] += 1;
                    } else if (0.5..0.95).contains(&rel_y) && !cut_bottom {
                        view[2][c] += 1;
                    }
                }
            }
            y += step;
        }
        for (a, v) in acc.full.iter_mut().zip(view[0]) {
            *a += v;
        }
        // Each sampled pixel weighs as the view's height to a power: a large view says
        // more of the object's colours than a small one ([`ColourPooling`]).
        let height_px = bbox.h.max(1.0);
        let weight = f64::from(height_px.powf(pooling.height_power));
        let tier = if height_px >= pooling.min_view_height_px {
            &mut acc.large
        } else {
            &mut acc.small
        };
        for (dst, src) in [
            (&mut tier.full, &view[0]),
            (&mut tier.upper, &view[1]),
            (&mut tier.lower, &view[2]),
        ] {
            for (a, v) in dst.iter_mut().zip(src) {
                *a += weight * f64::from(*v);
            }
        }
        // Thumbnail: the largest, most confident view away from the frame edges.
        let margin = self.cfg.edge_margin_frac;
        let touches = bbox.x < fw * margin
            || bbox.y < fh * margin
            || bbox.x + bbox.w > fw * (1.0 - margin)
            || bbox.y + bbox.h > fh * (1.0 - margin);
        let quality = score * bbox.area().sqrt() * if touches { 0.5 } else { 1.0 };
        if acc.thumbnail.as_ref().is_none_or(|t| quality > t.quality) {
            let mut rgb = Vec::new();
            if self.thumbnail_pixels {
                rgb.reserve_exact((bw * bh * 3) as usize);
                for yy in y0..y1 {
                    let s = ((yy * frame.width + x0) * 3) as usize;
                    rgb.extend_from_slice(&frame.data[s..s + (bw * 3) as usize]);
                }
            }
            acc.thumbnail = Some(Thumbnail {
                width: bw,
                height: bh,
                rgb,
                pts_ms: frame.pts_ms,
                x_px: x0,
                y_px: y0,
                quality,
            });
        }
    }

    /// A part's colours from its large views, or its small ones when no large view
    /// showed it ([`ColourPooling::min_view_height_px`]).
    fn shares(&self, large: &[f64; 11], small: &[f64; 11]) -> Vec<ColourShare> {
        let hist = if large.iter().sum::<f64>() > 0.0 {
            large
        } else {
            small
        };
        let total: f64 = hist.iter().sum();
        if total <= 0.0 {
            return Vec::new();
        }
        let mut v: Vec<ColourShare> = hist
            .iter()
            .enumerate()
            .map(|(i, n)| ColourShare {
                colour: Colour::ALL[i],
                share: (*n / total) as f32,
            })
            .filter(|c| c.share >= self.cfg.min_colour_share)
            .collect();
        v.sort_by(|a, b| b.share.total_cmp(&a.share));
        v.truncate(self.cfg.max_colours);
        colour::order_as_named(&mut v);
        v
    }

    /// Summarise a track that ended, and forget its accumulator.
    pub fn finish(&mut self, end: TrackEnd<'_>) -> Description {
        let acc = self.tracks.remove(&end.track_id).unwrap_or_default();
        let geo =
            geometry::describe_motion(end.history, end.frame_width, end.frame_height, &self.cfg);
        let (zones, crossings) = scene_events(
            end.history,
            (end.frame_width, end.frame_height),
            &self.scene,
            &self.cfg,
        );
        let first = end.history.first().map(|h| h.0).unwrap_or(0);
        let last = end.history.last().map(|h| h.0).unwrap_or(0);
        let person = end.label == "person" || acc.ridden;
        let summary = TrackSummary {
            source_id: end.source_id.to_string(),
            camera: end.camera.to_string(),
            track_id: end.track_id,
            label: end.label.to_string(),
            confidence: end.confidence,
            first_pts_ms: first,
            last_pts_ms: last,
            first_wall_ms: end.start_wall_ms.map(|w| w + first),
            last_wall_ms: end.start_wall_ms.map(|w| w + last),
            colours: self.shares(&acc.large.full, &acc.small.full),
            upper_colours: if person {
                self.shares(&acc.large.upper, &acc.small.upper)
            } else {
                Vec::new()
            },
            lower_colours: if person {
                self.shares(&acc.large.lower, &acc.small.lower)
            } else {
                Vec::new()
            },
            ridden: acc.ridden,
            width_px: geo.width_px,
            height_px: geo.height_px,
            size_frac: geo.size_frac,
            speed_px_s: geo.speed_px_s,
            heading_deg: geo.heading_deg,
            direction: geo.heading_deg.map(vigie_core::Compass::from_heading_deg),
            path_norm: geo.path_norm,
            entry_edge: geo.entry_edge,
            exit_edge: geo.exit_edge,
            zones,
            crossings,
            thumbnail: None,
            thumbnail_at: acc.thumbnail.as_ref().map(|t| vigie_core::ThumbnailAt {
                pts_ms: t.pts_ms,
                x_px: t.x_px,
                y_px: t.y_px,
            }),
            plate: None,
        };
        Description {
            summary,
            thumbnail: acc.thumbnail,
        }
    }

    /// The colour-name histogram of a track's observations so far (the offline linker's
    /// colour cue: names, never pixels of a person's features).
    pub fn colour_histogram(&self, track_id: u64) -> Option<Vec<u32>> {
        self.tracks.get(&track_id).map(|a| a.full.to_vec())
    }

    /// Fold the observations of track `from` into track `into`: fragments of one object
    /// joined after tracking. The better thumbnail of the two is kept.
    pub fn merge(&mut self, into: u64, from: u64) {
        let Some(b) = self.tracks.remove(&from) else {
            return;
        };
        let a = self.tracks.entry(into).or_default();
        for (x, y) in a.full.iter_mut().zip(b.full) {
            *x += y;
        }
        a.large.add(&b.large);
        a.small.add(&b.small);
        if let Some(t) = b.thumbnail {
            if a.thumbnail.as_ref().is_none_or(|u| t.quality > u.quality) {
                a.thumbnail = Some(t);
            }
        }
    }

    /// Make track `rider` (a person) the rider of track `vehicle` (a bicycle or
    /// motorcycle, `vigie_track::riders`): the vehicle keeps its own colours and
    /// thumbnail, gains the rider's upper and lower body colours, and its summary says
    /// `ridden`; the rider's observations are forgotten (it is no longer a track).
    pub fn attach_rider(&mut self, vehicle: u64, rider: u64) {
        let r = self.tracks.remove(&rider).unwrap_or_default();
        let v = self.tracks.entry(vehicle).or_default();
        for (dst, src) in [(&mut v.large, &r.large), (&mut v.small, &r.small)] {
            for (x, y) in dst.upper.iter_mut().zip(&src.upper) {
                *x += y;
            }
            for (x, y) in dst.lower.iter_mut().zip(&src.lower) {
                *x += y;
            }
        }
        v.ridden = true;
    }

    /// Tracks with pending observations (for tests and leak checks).
    pub fn pending(&self) -> usize {
        self.tracks.len()
    }

    /// Thumbnail pixel bytes held for pending tracks (for tests and leak checks).
    pub fn thumbnail_bytes(&self) -> usize {
        self.tracks
            .values()
            .filter_map(|a| a.thumbnail.as_ref())
            .map(|t| t.rgb.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end of track `track_id` of source "S1", camera "cam", seen in frames like `frame`
    /// (no wall clock).
    fn end<'a>(
        track_id: u64,
        label: &'a str,
        confidence: f32,
        history: &'a [(i64, BBox)],
        frame: &RgbFrame,
    ) -> TrackEnd<'a> {
        TrackEnd {
            source_id: "S1",
            camera: "cam",
            track_id,
            label,
            confidence,
            history,
            frame_width: frame.width,
            frame_height: frame.height,
            start_wall_ms: None,
        }
    }

    /// A grey frame with a person-like box: red torso over blue legs.
    fn person_frame() -> RgbFrame {
        RgbFrame::painted(200, 200, 0, |x, y| match (x, y) {
            (80..=119, 50..=99) => [200, 20, 20],
            (80..=119, 100..=149) => [20, 40, 180],
            _ => [128, 128, 128],
        })
    }

    #[test]
    fn person_colours_come_from_the_object_pixels_only() {
        let frame = person_frame();
        let mut d = Describer::new(DescribeConfig::default(), Scene::default());
        // Box larger than the person: background grey inside it must not count.
        let bbox = BBox {
            x: 60.0,
            y: 40.0,
            w: 80.0,
            h: 120.0,
        };
        let mask = |x: u32, y: u32| (80..120).contains(&x) && (50..150).contains(&y);
        for _ in 0..3 {
            let obs = Observation {
                track_id: 7,
                label: "person",
                bbox: &bbox,
                score: 0.9,
            };
            d.observe(
                &obs,
                &frame,
                Some(ObjectMask {
                    is_object: &mask,
                    fill: 0.4,
                }),
            );
        }
        let history = [(0, bbox), (1000, BBox { y: 20.0, ..bbox })];
        let desc = d.finish(TrackEnd {
            start_wall_ms: Some(1_000_000),
            ..end(7, "person", 0.9, &history, &frame)
        });
        let s = desc.summary;
        let names: Vec<Colour> = s.colours.iter().map(|c| c.colour).collect();
        assert!(
            names.contains(&Colour::Red) && names.contains(&Colour::Blue),
            "{names:?}"
        );
        assert!(!names.contains(&Colour::Grey), "{names:?}");
        assert_eq!(
            s.upper_colours[0].colour,
            Colour::Red,
            "{:?}",
            s.upper_colours
        );
        assert_eq!(
            s.lower_colours[0].colour,
            Colour::Blue,
            "{:?}",
            s.lower_colours
        );
        assert_eq!(s.first_wall_ms, Some(1_000_000));
        assert_eq!(s.last_wall_ms, Some(1_001_000));
        assert!(desc.thumbnail.is_some());
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn a_ridden_vehicle_keeps_its_colours_and_gains_its_riders() {
        let frame = person_frame();
        let mut d = Describer::new(DescribeConfig::default(), Scene::default());
        // The rider: red torso over blue legs; the bicycle: the grey background box.
        let rider = BBox {
            x: 80.0,
            y: 50.0,
            w: 40.0,
            h: 100.0,
        };
        let bike = BBox {
            x: 10.0,
            y: 160.0,
            w: 60.0,
            h: 30.0,
        };
        for (id, label, bbox) in [(1, "person", &rider), (2, "bicycle", &bike)] {
            let obs = Observation {
                track_id: id,
                label,
                bbox,
                score: 0.9,
            };
            d.observe(&obs, &frame, None);
        }
        d.attach_rider(2, 1);
        assert_eq!(d.pending(), 1, "the rider is no longer a track");
        let desc = d.finish(end(2, "bicycle", 0.9, &[(0, bike)], &frame));
        let s = desc.summary;
        assert!(s.ridden);
        assert_eq!(s.colours[0].colour, Colour::Grey, "{:?}", s.colours);
        assert_eq!(
            s.upper_colours[0].colour,
            Colour::Red,
            "{:?}",
            s.upper_colours
        );
        assert_eq!(
            s.lower_colours[0].colour,
            Colour::Blue,
            "{:?}",
            s.lower_colours
        );
    }

    /// A 400x300 frame: a small grey figure at (10, 10, 10x30) and a large one at
    /// (100, 50, 40x160) in blue (upper body and legs alike), on a grey ground.
    fn small_grey_large_blue() -> RgbFrame {
        RgbFrame::painted(400, 300, 0, |x, y| {
            if (10..20).contains(&x) && (10..40).contains(&y) {
                [120, 120, 120]
            } else if (100..140).contains(&x) && (50..210).contains(&y) {
                [40, 60, 170]
            } else {
                [128, 128, 128]
            }
        })
    }

    /// Thirty small grey views and three large blue ones of one person track.
    fn pooled_lower(pooling: ColourPooling) -> Vec<ColourShare> {
        let frame = small_grey_large_blue();
        let cfg = DescribeConfig {
            pooling,
            ..DescribeConfig::default()
        };
        let mut d = Describer::new(cfg, Scene::default());
        let small = BBox {
            x: 10.0,
            y: 10.0,
            w: 10.0,
            h: 30.0,
        };
        let large = BBox {
            x: 100.0,
            y: 50.0,
            w: 40.0,
            h: 160.0,
        };
        let all = |_: u32, _: u32| true;
        for (bbox, n) in [(&small, 30), (&large, 3)] {
            for _ in 0..n {
                let obs = Observation {
                    track_id: 1,
                    label: "person",
                    bbox,
                    score: 0.8,
                };
                let mask = ObjectMask {
                    is_object: &all,
                    fill: 1.0,
                };
                d.observe(&obs, &frame, Some(mask));
            }
        }
        d.finish(end(1, "person", 0.8, &[(0, small), (1000, large)], &frame))
            .summary
            .lower_colours
    }

    #[test]
    fn a_few_large_views_outweigh_many_small_ones() {
        let lower = pooled_lower(DescribeConfig::default().pooling);
        assert_eq!(lower[0].colour, Colour::Blue, "{lower:?}");
        assert!(
            vigie_core::Colour::ALL
                .iter()
                .all(|c| *c == Colour::Blue || !lower.iter().any(|s| s.colour == *c)),
            "only the large views count: {lower:?}"
        );
        // Every view alike (the rule before): the small grey views outvote them.
        let equal = pooled_lower(ColourPooling::EQUAL);
        assert_eq!(equal[0].colour, Colour::Grey, "{equal:?}");
    }

    #[test]
    fn a_track_with_only_small_views_still_has_colours() {
        let frame = small_grey_large_blue();
        let mut d = Describer::new(DescribeConfig::default(), Scene::default());
        let small = BBox {
            x: 10.0,
            y: 10.0,
            w: 10.0,
            h: 30.0,
        };
        let all = |_: u32, _: u32| true;
        let obs = Observation {
            track_id: 3,
            label: "person",
            bbox: &small,
            score: 0.8,
        };
        d.observe(
            &obs,
            &frame,
            Some(ObjectMask {
                is_object: &all,
                fill: 1.0,
            }),
        );
        let s = d
            .finish(end(3, "person", 0.8, &[(0, small)], &frame))
            .summary;
        assert_eq!(s.lower_colours[0].colour, Colour::Grey, "{s:?}");
        assert_eq!(s.upper_colours[0].colour, Colour::Grey, "{s:?}");
    }

    #[test]
    fn a_view_cut_at_the_bottom_gives_no_lower_body() {
        // Red torso from y = 150, blue legs from y = 250; the frame ends at 300, the
        // person's box (150..350) is cut through the legs.
        let frame = RgbFrame::painted(200, 300, 0, |x, y| match (x, y) {
            (80..=119, 150..=249) => [200, 20, 20],
            (80..=119, 250..) => [20, 40, 180],
            _ => [128, 128, 128],
        });
        let bbox = BBox {
            x: 80.0,
            y: 150.0,
            w: 40.0,
            h: 200.0,
        };
        let describe = |pooling: ColourPooling| {
            let cfg = DescribeConfig {
                pooling,
                ..DescribeConfig::default()
            };
            let mut d = Describer::new(cfg, Scene::default());
            let obs = Observation {
                track_id: 1,
                label: "person",
                bbox: &bbox,
                score: 0.9,
            };
            d.observe(&obs, &frame, None);
            d.finish(end(1, "person", 0.9, &[(0, bbox)], &frame))
                .summary
        };
        let s = describe(DescribeConfig::default().pooling);
        assert_eq!(s.upper_colours[0].colour, Colour::Red, "{s:?}");
        assert!(s.lower_colours.is_empty(), "{:?}", s.lower_colours);
        // Placing the parts in the cut box, as before, calls the torso's red legs.
        let before = describe(ColourPooling::EQUAL);
        assert!(
            before.lower_colours.iter().any(|c| c.colour == Colour::Red),
            "{:?}",
            before.lower_colours
        );
    }

    #[test]
    fn without_a_mask_the_box_centre_is_used() {
        let frame = person_frame();
        let mut d = Describer::new(DescribeConfig::default(), Scene::default());
        let bbox = BBox {
            x: 70.0,
            y: 45.0,
            w: 60.0,
            h: 110.0,
        };
        let obs = Observation {
            track_id: 1,
            label: "car",
            bbox: &bbox,
            score: 0.8,
        };
        d.observe(&obs, &frame, None);
        let desc = d.finish(end(1, "car", 0.8, &[(0, bbox)], &frame));
        assert!(desc.summary.upper_colours.is_empty());
        let main = desc.summary.colours[0].colour;
        assert!(
            main == Colour::Red || main == Colour::Blue,
            "{:?}",
            desc.summary.colours
        );
    }
    /// A long track holds one view's pixels at most (memory per track does not grow with
    /// its length), and none when the caller cuts thumbnails again itself; the best view's
    /// place and instant are the same either way.
    #[test]
    fn a_long_track_holds_at_most_one_thumbnail() {
        let frame = person_frame();
        let run = |pixels: bool| {
            let mut d = Describer::new(DescribeConfig::default(), Scene::default());
            d.keep_thumbnail_pixels(pixels);
            let mut most = 0;
            for i in 0..2000u32 {
                // Boxes growing then shrinking: the best view changes many times.
                let s = 20.0 + (i % 200) as f32 * 0.3;
                let bbox = BBox {
                    x: 60.0,
                    y: 40.0,
                    w: s,
                    h: s * 1.5,
                };
                let f = RgbFrame {
                    pts_ms: i64::from(i) * 100,
                    ..frame.clone()
                };
                let obs = Observation {
                    track_id: 3,
                    label: "car",
                    bbox: &bbox,
                    score: 0.5 + (i % 7) as f32 * 0.05,
                };
                d.observe(&obs, &f, None);
                most = most.max(d.thumbnail_bytes());
            }
            let largest = BBox {
                x: 60.0,
                y: 40.0,
                w: 80.0,
                h: 120.0,
            };
            let desc = d.finish(end(3, "car", 0.8, &[(0, largest)], &frame));
            (most, desc)
        };
        let (most, with) = run(true);
        let t = with.thumbnail.as_ref().expect("a thumbnail");
        assert_eq!(t.rgb.len(), (t.width * t.height * 3) as usize);
        // One view of the largest box (about 80 x 120 px), never 2000 of them.
        assert!(most <= 81 * 121 * 3, "{most} bytes held");
        let (most, without) = run(false);
        assert_eq!(most, 0, "no pixels held");
        let u = without.thumbnail.as_ref().expect("a thumbnail's place");
        assert!(u.rgb.is_empty());
        assert_eq!(
            (u.pts_ms, u.x_px, u.y_px, u.width, u.height),
            (t.pts_ms, t.x_px, t.y_px, t.width, t.height)
        );
        assert_eq!(without.summary.thumbnail_at, with.summary.thumbnail_at);
    }
}
