//! Detections, tracks and their non-biometric description.
//!
//! These are the types the analysis stages hand to each other: a detector (NanoDet or the
//! motion detector) produces [`Detection`]s per frame, the tracker links them into tracks,
//! the describer summarises each track into a [`TrackSummary`], and the index stores and
//! searches summaries. A summary says what an object looked like and how it moved —
//! class, colours, size, speed, direction, path, zones, lines — never who it is.
//!
//! Coordinate spaces are in the names: `_in_frame` is working-resolution pixels, `_norm` is
//! 0..1 of the frame (so zones drawn once apply at any working resolution).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An axis-aligned box, top-left corner plus size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BBox {
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    pub fn centre(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Area of the overlap of two boxes (0 when they do not meet).
    pub fn intersection_area(&self, o: &BBox) -> f32 {
        let x1 = self.x.max(o.x);
        let y1 = self.y.max(o.y);
        let x2 = (self.x + self.w).min(o.x + o.w);
        let y2 = (self.y + self.h).min(o.y + o.h);
        (x2 - x1).max(0.0) * (y2 - y1).max(0.0)
    }

    /// The smallest box holding both (a rider and their bicycle).
    pub fn union(&self, o: &BBox) -> BBox {
        let (x0, y0) = (self.x.min(o.x), self.y.min(o.y));
        let x1 = (self.x + self.w).max(o.x + o.w);
        let y1 = (self.y + self.h).max(o.y + o.h);
        BBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// Intersection over union.
    pub fn iou(&self, o: &BBox) -> f32 {
        let inter = self.intersection_area(o);
        let union = self.area() + o.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// One object found in one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Box in working-resolution pixels.
    pub bbox_in_frame: BBox,
    /// Class label (COCO name such as `person`, `car`; `moving_object` for the motion
    /// detector).
    pub label: String,
    /// Detector confidence, 0..1.
    pub score: f32,
}

/// The named colour palette investigators search with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Black,
    White,
    Grey,
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    Pink,
    Brown,
}

impl Colour {
    pub const ALL: [Colour; 11] = [
        Colour::Black,
        Colour::White,
        Colour::Grey,
        Colour::Red,
        Colour::Orange,
        Colour::Yellow,
        Colour::Green,
        Colour::Blue,
        Colour::Purple,
        Colour::Pink,
        Colour::Brown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Colour::Black => "black",
            Colour::White => "white",
            Colour::Grey => "grey",
            Colour::Red => "red",
            Colour::Orange => "orange",
            Colour::Yellow => "yellow",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Purple => "purple",
            Colour::Pink => "pink",
            Colour::Brown => "brown",
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unknown colour {given:?} (expected one of black, white, grey, red, orange, yellow, green, blue, purple, pink, brown)")]
pub struct ColourParseError {
    pub given: String,
}

impl FromStr for Colour {
    type Err = ColourParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.trim().to_ascii_lowercase();
        let l = match l.as_str() {
            "gray" => "grey",
            "violet" => "purple",
            other => other,
        };
        Colour::ALL
            .into_iter()
            .find(|c| c.name() == l)
            .ok_or_else(|| ColourParseError {
                given: s.to_string(),
            })
    }
}

/// Eight-point compass direction in image coordinates: up is north.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compass {
    N,
    Ne,
    E,
    Se,
    S,
    Sw,
    W,
    Nw,
}

impl Compass {
    pub const ALL: [Compass; 8] = [
        Compass::N,
        Compass::Ne,
        Compass::E,
        Compass::Se,
        Compass::S,
        Compass::Sw,
        Compass::W,
        Compass::Nw,
    ];

    /// From a heading in degrees, clockwise from north (image up), any range.
    pub fn from_heading_deg(deg: f32) -> Self {
        let d = deg.rem_euclid(360.0);
        let i = ((d + 22.5) / 45.0).floor() as usize % 8;
        Self::ALL[i]
    }

    /// Heading of the sector's centre, degrees clockwise from north.
    pub fn heading_deg(self) -> f32 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as f32 * 45.0
    }

    pub fn name(self) -> &'static str {
        match self {
            Compass::N => "n",
            Compass::Ne => "ne",
            Compass::E => "e",
            Compass::Se => "se",
            Compass::S => "s",
            Compass::Sw => "sw",
            Compass::W => "w",
            Compass::Nw => "nw",
        }
    }
}

impl fmt::Display for Compass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "unknown direction {given:?} (expected n, ne, e, se, s, sw, w, nw or north, north-east, ...)"
)]
pub struct CompassParseError {
    pub given: String,
}

impl FromStr for Compass {
    type Err = CompassParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        let c = match l.as_str() {
            "n" | "north" | "up" => Compass::N,
            "ne" | "northeast" => Compass::Ne,
            "e" | "east" | "right" => Compass::E,
            "se" | "southeast" => Compass::Se,
            "s" | "south" | "down" => Compass::S,
            "sw" | "southwest" => Compass::Sw,
            "w" | "west" | "left" => Compass::W,
            "nw" | "northwest" => Compass::Nw,
            _ => {
                return Err(CompassParseError {
                    given: s.to_string(),
                })
            }
        };
        Ok(c)
    }
}

/// Which frame edge a track entered or left by (`inside` when it appeared or vanished
/// away from the edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    Top,
    Bottom,
    Left,
    Right,
    Inside,
}

/// A colour and the share of the object's pixels it covers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColourShare {
    pub colour: Colour,
    /// 0..1
    pub share: f32,
}

/// Time a track spent in a named zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneVisit {
    pub zone: String,
    pub entered_ms: i64,
    pub time_inside_ms: i64,
    /// Longest stretch stationary inside the zone.
    pub dwell_ms: i64,
}

/// Direction of a crossing of a directional line (`in` = from its left to its right side,
/// as documented with the zone file format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossingDirection {
    In,
    Out,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineCrossing {
    pub line: String,
    pub direction: CrossingDirection,
    pub at_ms: i64,
}

/// The frame and corner a track's thumbnail was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThumbnailAt {
    pub pts_ms: i64,
    pub x_px: u32,
    pub y_px: u32,
}

/// Everything vigie stores about one track: what it looked like and how it moved.
///
/// Times: `*_pts_ms` are from the start of the source; `*_wall_ms` are milliseconds since
/// the Unix epoch (UTC), present when the source's start time is known. Event times inside
/// (`entered_ms`, `at_ms`) are pts milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackSummary {
    pub source_id: String,
    pub camera: String,
    pub track_id: u64,
    pub label: String,
    pub confidence: f32,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall_ms: Option<i64>,
    pub last_wall_ms: Option<i64>,
    /// Dominant colours of the whole object, largest share first.
    pub colours: Vec<ColourShare>,
    /// For persons: upper and lower body; for a ridden bicycle or motorcycle, its
    /// rider's.
    pub upper_colours: Vec<ColourShare>,
    pub lower_colours: Vec<ColourShare>,
    /// A bicycle or motorcycle with its rider attached (one object: the rider is not a
    /// separate track; `upper_colours`/`lower_colours` are the rider's). Absent in
    /// indexes written before riders were attached, hence the default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ridden: bool,
    /// Median box size in working pixels, and as a fraction of the frame area.
    pub width_px: f32,
    pub height_px: f32,
    pub size_frac: f32,
    pub speed_px_s: f32,
    /// Overall heading, degrees clockwise from image up; `None` if the object barely moved.
    pub heading_deg: Option<f32>,
    pub direction: Option<Compass>,
    /// Simplified path of the box centre, 0..1 frame coordinates.
    pub path_norm: Vec<(f32, f32)>,
    pub entry_edge: Edge,
    pub exit_edge: Edge,
    pub zones: Vec<ZoneVisit>,
    pub crossings: Vec<LineCrossing>,
    /// Relative path of the best thumbnail (JPEG crop) inside the case's derived data.
    pub thumbnail: Option<String>,
    /// Where the thumbnail was cut from: the frame's time and the crop's top-left corner
    /// in working pixels, so that an export can mask the other objects in it (absent in
    /// indexes written before, hence the default: such thumbnails are withheld from
    /// redacted exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_at: Option<ThumbnailAt>,
    /// The licence plate, for vehicles large enough to read (absent in indexes written
    /// before plates were read, hence the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<crate::plate::PlateRead>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou() {
        let a = BBox {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        let b = BBox {
            x: 5.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBox { x: 20.0, ..a }), 0.0);
    }

    #[test]
    fn compass_sectors() {
        assert_eq!(Compass::from_heading_deg(0.0), Compass::N);
        assert_eq!(Compass::from_heading_deg(22.0), Compass::N);
        assert_eq!(Compass::from_heading_deg(23.0), Compass::Ne);
        assert_eq!(Compass::from_heading_deg(-90.0), Compass::W);
        assert_eq!(Compass::from_heading_deg(180.0), Compass::S);
        assert_eq!(Compass::from_heading_deg(350.0), Compass::N);
        for c in Compass::ALL {
            assert_eq!(Compass::from_heading_deg(c.heading_deg()), c);
            assert_eq!(c.name().parse::<Compass>(), Ok(c));
        }
        assert_eq!("North-East".parse::<Compass>(), Ok(Compass::Ne));
        assert!("upwards".parse::<Compass>().is_err());
    }

    #[test]
    fn colour_names() {
        for c in Colour::ALL {
            assert_eq!(c.name().parse::<Colour>(), Ok(c));
        }
        assert_eq!("Gray".parse::<Colour>(), Ok(Colour::Grey));
        let e = "teal".parse::<Colour>().unwrap_err();
        assert!(e.to_string().contains("expected one of"));
    }
}
