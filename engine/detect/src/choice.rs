//! Which detector model a source is analysed with, chosen from the shape of the frames the
//! detector receives (issues 16 and 18).
//!
//! Why by shape: NanoDet-m is fully convolutional, so one set of weights runs at any input
//! size, each size an allowlisted file of its own (doc/models.md, "Detector input size").
//! A 16:9 frame letterboxed into the 416 x 416 square wastes 44 % of it on black bars; in
//! 512 x 288 it fills the input, gets 1.5x the pixels (512 x 288 against 416 x 234) and
//! costs 0.8x the time, and measured as good or better on every vehicle figure of the
//! street frames. A 4:3 frame in 512 x 288 gets fewer pixels than in 416 x 416 (384 x 288
//! against 416 x 312) and measured worse on TUD-Stadtmitte's identities: 4:3 sources keep
//! the 416 model, so what was measured on them stays true.
//!
//! Why deterministic and in one place: which model ran decides what a search can find;
//! every path that runs the detector (analysis, shards, evaluations, benchmarks) calls
//! [`detector_model_for`], so the same source always gets the same model whatever the
//! machine, its load or the path, and the model is recorded per source. Nothing here
//! depends on timing.
//!
//! The threshold, [`WIDE_ASPECT_MIN`] = 16:10 = 1.6 (width / height of the frame given to the
//! detector, i.e. after the decoder's scaling: the pixels the detector sees, not a display
//! aspect the container may declare and the decoder does not apply): at aspect `a` below
//! 16:9 the frame gets `288^2 a` input pixels in 512 x 288 and `416^2 / a` in 416 x 416,
//! equal at `a` = 1.44. At 1.6 (16:10) the wide input already gives 1.23x the pixels;
//! below it (3:2 = 1.5: 1.08x; 4:3: 0.85x) the gain is small or negative and nothing was
//! measured, so the square input stays. 16:10, 16:9, 1.85:1 and 2.39:1 frames are wide.
//! A frame whose size is unknown (0) keeps the square input.
//!
//! The choice is a small struct so that a later choice (a precision, say) can be added
//! to it without changing its callers.

use std::fmt;
use std::str::FromStr;

use vigie_policy::{ids, AllowedModelId};

/// Frames at least this wide for their height (width : height, 16:10 = 1.6) get the wide
/// input (see the module documentation for why). Compared in integers, so that a 16:10
/// frame is wide exactly.
pub const WIDE_ASPECT_MIN: (u64, u64) = (16, 10);

/// The detector input asked for: chosen by shape (the default), or forced (to measure
/// one against the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputChoice {
    /// By the frame's shape ([`detector_model_for`]).
    #[default]
    Auto,
    /// Always 416 x 416 (`nanodet-coco-416`).
    Square416,
    /// Always 512 x 288 (`nanodet-coco-512x288`).
    Wide512x288,
}

impl InputChoice {
    /// The flag values, as parsed and printed.
    pub const VALUES: [&'static str; 3] = ["auto", "416", "512x288"];
}

impl fmt::Display for InputChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputChoice::Auto => "auto",
            InputChoice::Square416 => "416",
            InputChoice::Wide512x288 => "512x288",
        })
    }
}

/// An unknown `--detector-input` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown detector input '{0}' (expected auto, 416 or 512x288)")]
pub struct BadInputChoice(pub String);

impl FromStr for InputChoice {
    type Err = BadInputChoice;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(InputChoice::Auto),
            "416" | "416x416" => Ok(InputChoice::Square416),
            "512x288" => Ok(InputChoice::Wide512x288),
            _ => Err(BadInputChoice(s.to_owned())),
        }
    }
}

/// What the detector runs for one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorModel {
    /// The allowlisted object detector.
    pub model: AllowedModelId,
    /// Whether it was forced (`--detector-input`) rather than chosen by shape.
    pub forced: bool,
}

impl DetectorModel {
    /// The model's manifest id (`nanodet-coco-512x288`).
    pub fn id(&self) -> &'static str {
        self.model.spec().id
    }
}

/// Whether a `width_px` x `height_px` frame counts as wide ([`WIDE_ASPECT_MIN`]).
pub fn is_wide(width_px: u32, height_px: u32) -> bool {
    let (aw, ah) = WIDE_ASPECT_MIN;
    width_px > 0 && height_px > 0 && u64::from(width_px) * ah >= u64::from(height_px) * aw
}

/// The detector model for frames of `width_px` x `height_px` (as the detector receives
/// them), unless `choice` forces one.
pub fn detector_model_for(width_px: u32, height_px: u32, choice: InputChoice) -> DetectorModel {
    let (model, forced) = match choice {
        InputChoice::Square416 => (ids::NANODET_COCO_416, true),
        InputChoice::Wide512x288 => (ids::NANODET_COCO_512X288, true),
        InputChoice::Auto if is_wide(width_px, height_px) => (ids::NANODET_COCO_512X288, false),
        InputChoice::Auto => (ids::NANODET_COCO_416, false),
    };
    DetectorModel { model, forced }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(w: u32, h: u32) -> &'static str {
        detector_model_for(w, h, InputChoice::Auto).id()
    }

    #[test]
    fn wide_sources_get_512x288_and_the_others_416() {
        for (w, h) in [
            (1920, 1080),
            (1280, 720),
            (640, 360),
            (854, 480),
            (1920, 1088), // 16:9 coded with a padded last macroblock row
            (1366, 768),
            (1920, 1200), // 16:10, exactly 1.6
            (1998, 1080), // 1.85:1
            (2560, 1080), // 2.37:1
        ] {
            assert_eq!(auto(w, h), "nanodet-coco-512x288", "{w}x{h}");
        }
        for (w, h) in [
            (640, 480),   // 4:3 (TUD)
            (704, 576),   // PAL D1 as coded (display 4:3 or 16:9: the pixels are 1.22:1)
            (720, 576),   // PAL, 1.25
            (1440, 1080), // HDV as coded, displayed 16:9 by its sample aspect: not applied
            (1280, 1024), // 5:4
            (1080, 720),  // 3:2
            (1919, 1200), // just under 1.6
            (500, 500),
            (1080, 1920), // portrait phone video
            (480, 640),
            (0, 0), // unknown size
            (1920, 0),
            (0, 1080),
        ] {
            assert_eq!(auto(w, h), "nanodet-coco-416", "{w}x{h}");
        }
    }

    #[test]
    fn a_forced_input_wins_over_the_shape() {
        let m = detector_model_for(640, 480, InputChoice::Wide512x288);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-512x288", true));
        let m = detector_model_for(1920, 1080, InputChoice::Square416);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-416", true));
        assert!(!detector_model_for(1920, 1080, InputChoice::Auto).forced);
    }

    #[test]
    fn the_chosen_model_declares_the_input_its_name_says() {
        let p = |w, h| {
            detector_model_for(w, h, InputChoice::Auto)
                .model
                .spec()
                .preprocess
        };
        let wide = p(1920, 1080);
        assert_eq!((wide.width, wide.height), (512, 288));
        let square = p(640, 480);
        assert_eq!((square.width, square.height), (416, 416));
    }

    #[test]
    fn flag_values_parse_and_print_back() {
        for v in InputChoice::VALUES {
            assert_eq!(v.parse::<InputChoice>().unwrap().to_string(), v);
        }
        assert_eq!(
            "416x416".parse::<InputChoice>().unwrap(),
            InputChoice::Square416
        );
        assert!("640x384".parse::<InputChoice>().is_err());
        assert_eq!(InputChoice::default(), InputChoice::Auto);
    }
}
