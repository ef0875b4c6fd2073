//! Which detector model a source is analysed with, chosen from the shape of the frames the
//! detector receives (issues 16 and 18).
//!
//! Why by shape: NanoDet-m is fully convolutional, so one set of weights runs at any input
//! size, each size an allowlisted file of its own (doc/models.md, "Detector input size").
//! Three sizes chosen by shape, one per family of frame shapes (a fourth, 768 x 448, is
//! only ever asked for: [`InputChoice::Wide768x448`]):
//!
//! - **Wide** (16:10 and wider, [`WIDE_ASPECT_MIN`]): 512 x 288. A 16:9 frame letterboxed
//!   into the 416 x 416 square wastes 44 % of it on black bars; in 512 x 288 it fills the
//!   input, gets 1.5x the pixels (512 x 288 against 416 x 234) and costs 0.8x the time,
//!   and measured as good or better on every vehicle figure of the street frames.
//! - **Landscape** (from 416:352 = 13:11 = 1.18 up to 16:10: 4:3 such as TUD's 640 x 480
//!   and vtest.avi's 768 x 576, 3:2, 5:4, PAL 720 x 576 and 704 x 576 as coded, CIF):
//!   416 x 352. Such a frame is scaled to the full 416 px width and centred in the square
//!   too; in 416 x 352 it is centred with 32 rows less padding above and below. So the
//!   detector sees **the same picture pixels at the same scale, on the same anchor grid**
//!   (the picture moves up by 32 rows, a multiple of every stride, 8, 16 and 32, so each
//!   cell covers the same picture pixels as in the square): 0.85x the input and the
//!   detector time, and the square's detections within a few boxes (measured again on
//!   TUD: doc/models.md; tracking figures such as TUD-Stadtmitte's IDF1 move by a few
//!   points with such small changes). A shorter input would save more but move the grid
//!   or the scale: 416 x 320 (tried) moved the grid and lost detections (TUD-Campus
//!   person recall 0.791 -> 0.777, TUD-Stadtmitte precision 0.749 -> 0.726).
//! - **Other** (narrower than 1.18: square, portrait): 416 x 416.
//!
//! A 4:3 frame in 512 x 288 gets fewer pixels than in 416 x 416 (384 x 288 against 416 x
//! 312) and measured worse on TUD-Stadtmitte's identities, hence the landscape size rather
//! than the wide one.
//!
//! Why deterministic and in one place: which model ran decides what a search can find;
//! every path that runs the detector (analysis, shards, evaluations, benchmarks) calls
//! [`detector_model_for`], so the same source always gets the same model whatever the
//! load or the path (the size whatever the machine; the precision by the machine's
//! instruction set, below), and the model is recorded per source. Nothing here depends on
//! timing.
//!
//! The thresholds compare the frame given to the detector (after the decoder's scaling:
//! the pixels the detector sees, not a display aspect the container may declare and the
//! decoder does not apply), in integers. Wide, [`WIDE_ASPECT_MIN`] = 16:10 = 1.6: at
//! aspect `a` below 16:9 the frame gets `288^2 a` input pixels in 512 x 288 and `416^2 /
//! a` in 416 x 416, equal at `a` = 1.44. At 1.6 (16:10) the wide input already gives 1.23x
//! the pixels; below it (3:2 = 1.5: 1.08x; 4:3: 0.85x) the gain is small or negative and
//! nothing was measured. Landscape, [`LANDSCAPE_ASPECT_MIN`] = 416:352 = 1.18: the
//! narrowest frame that is still 416 px wide in 416 x 352. 16:10, 16:9, 1.85:1 and 2.39:1
//! frames are wide; 4:3, 3:2, 5:4 landscape. A frame whose size is unknown (0) keeps the
//! square input.
//!
//! The choice is a small struct: it also carries the precision (issue 18 item 3).
//!
//! Precision: each input size also exists as an int8 file (static QDQ quantisation of
//! the same weights, doc/models.md "int8 (issue 18 item 3)"). Which one `auto` takes is
//! a fixed test of the CPU's instruction set ([`CpuFeatures`], [`int8_suits`]), never a
//! timing, so that one machine always gives one source the same model: int8 only where it
//! was measured faster without losing accuracy (ONNX Runtime's CPU execution, x86_64 with
//! AVX512-VNNI or AVX-VNNI, whose 8-bit dot products it uses; without VNNI its u8 x s8
//! kernels can saturate their 16-bit intermediates, so int8 could cost accuracy there,
//! not only speed). Whether `auto` uses that test at all is [`AUTO_INT8_ON_VNNI`], decided
//! by the measurements on vigie's own path (doc/models.md). A machine-dependent choice
//! means two machines can pick differently: the precision is recorded with the model of
//! every source, and a sharded run records the one resolved where it started.

use std::fmt;
use std::str::FromStr;

use vigie_policy::{ids, AllowedModelId};

/// Frames at least this wide for their height (width : height, 16:10 = 1.6) get the wide
/// input (see the module documentation for why). Compared in integers, so that a 16:10
/// frame is wide exactly.
pub const WIDE_ASPECT_MIN: (u64, u64) = (16, 10);

/// Frames at least this wide for their height, and not wide, get the landscape input
/// (416 x 352): 416 : 352, the narrowest shape scaled to the input's full width, so the
/// picture keeps the scale and the anchor grid it has in 416 x 416.
pub const LANDSCAPE_ASPECT_MIN: (u64, u64) = (416, 352);

/// The detector input asked for: chosen by shape (the default), or forced (to measure
/// one against the other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputChoice {
    /// By the frame's shape ([`detector_model_for`]).
    #[default]
    Auto,
    /// Always 416 x 416 (`nanodet-coco-416`).
    Square416,
    /// Always 416 x 352 (`nanodet-coco-416x352`).
    Landscape416x352,
    /// Always 512 x 288 (`nanodet-coco-512x288`).
    Wide512x288,
    /// Always 768 x 448 (`nanodet-coco-768x448`): never chosen by shape, only asked for
    /// (small and distant objects in wide footage; doc/models.md "768 x 448 on request").
    Wide768x448,
}

impl InputChoice {
    /// The flag values, as parsed and printed.
    pub const VALUES: [&'static str; 5] = ["auto", "416", "416x352", "512x288", "768x448"];
}

impl fmt::Display for InputChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputChoice::Auto => "auto",
            InputChoice::Square416 => "416",
            InputChoice::Landscape416x352 => "416x352",
            InputChoice::Wide512x288 => "512x288",
            InputChoice::Wide768x448 => "768x448",
        })
    }
}

/// An unknown `--detector-input` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown detector input '{0}' (expected auto, 416, 416x352, 512x288 or 768x448)")]
pub struct BadInputChoice(pub String);

impl FromStr for InputChoice {
    type Err = BadInputChoice;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(InputChoice::Auto),
            "416" | "416x416" => Ok(InputChoice::Square416),
            "416x352" => Ok(InputChoice::Landscape416x352),
            "512x288" => Ok(InputChoice::Wide512x288),
            "768x448" => Ok(InputChoice::Wide768x448),
            _ => Err(BadInputChoice(s.to_owned())),
        }
    }
}

/// Whether `auto` takes the int8 model on machines where [`int8_suits`] holds. `true`:
/// measured through vigie (doc/models.md, "int8 (issue 18 item 3)"), int8 ran 1.6-2.3x
/// faster on such a CPU with any-vehicle and person precision and recall within 1 point
/// of float on every labelled set, at both input sizes. `false` would keep float
/// everywhere (int8 still chosen by `--detector-precision int8`).
pub const AUTO_INT8_ON_VNNI: bool = true;

/// The numeric precision of the detector's weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit float (the converted model as published).
    #[default]
    Float,
    /// 8-bit integer (QDQ; stem and output convolutions stay float).
    Int8,
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Float => "float",
            Precision::Int8 => "int8",
        })
    }
}

/// The precision asked for (`--detector-precision`): by the machine (`auto`, the
/// default), or forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrecisionChoice {
    /// By the machine ([`PrecisionChoice::resolve`]).
    #[default]
    Auto,
    /// Always float.
    Float,
    /// Always int8.
    Int8,
}

impl PrecisionChoice {
    /// The flag values, as parsed and printed.
    pub const VALUES: [&'static str; 3] = ["auto", "float", "int8"];

    /// The precision on a machine with `cpu` features, running on the CPU (`on_cpu`) or
    /// not: a forced one as is; `auto` gives int8 only when [`AUTO_INT8_ON_VNNI`] and
    /// [`int8_suits`] both hold.
    pub fn resolve(self, on_cpu: bool, cpu: CpuFeatures) -> Precision {
        match self {
            PrecisionChoice::Float => Precision::Float,
            PrecisionChoice::Int8 => Precision::Int8,
            PrecisionChoice::Auto if AUTO_INT8_ON_VNNI && int8_suits(on_cpu, cpu) => {
                Precision::Int8
            }
            PrecisionChoice::Auto => Precision::Float,
        }
    }

    /// [`PrecisionChoice::resolve`] with this machine's features.
    pub fn resolve_here(self, on_cpu: bool) -> Precision {
        self.resolve(on_cpu, CpuFeatures::of_this_machine())
    }
}

impl fmt::Display for PrecisionChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrecisionChoice::Auto => "auto",
            PrecisionChoice::Float => "float",
            PrecisionChoice::Int8 => "int8",
        })
    }
}

/// An unknown `--detector-precision` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown detector precision '{0}' (expected auto, float or int8)")]
pub struct BadPrecisionChoice(pub String);

impl FromStr for PrecisionChoice {
    type Err = BadPrecisionChoice;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(PrecisionChoice::Auto),
            "float" | "fp32" | "float32" => Ok(PrecisionChoice::Float),
            "int8" => Ok(PrecisionChoice::Int8),
            _ => Err(BadPrecisionChoice(s.to_owned())),
        }
    }
}

/// The CPU features the precision rule looks at (a parameter, so that the rule is
/// testable on any machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuFeatures {
    /// Built for and running on x86_64.
    pub x86_64: bool,
    /// AVX512-VNNI (Cascade Lake and later Xeons; every AMX-INT8 CPU has it).
    pub avx512vnni: bool,
    /// AVX-VNNI (the 256-bit form: Alder Lake and later client CPUs).
    pub avxvnni: bool,
}

impl CpuFeatures {
    /// This machine's, by `is_x86_feature_detected!` (fixed per machine, no timing).
    pub fn of_this_machine() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            CpuFeatures {
                x86_64: true,
                avx512vnni: std::arch::is_x86_feature_detected!("avx512vnni"),
                avxvnni: std::arch::is_x86_feature_detected!("avxvnni"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            CpuFeatures::default()
        }
    }
}

/// The rule: int8 suits CPU execution on x86_64 with AVX512-VNNI or AVX-VNNI (where it
/// was measured faster at equal accuracy); float anywhere else (a GPU, aarch64, x86
/// without VNNI: not measured).
pub fn int8_suits(on_cpu: bool, cpu: CpuFeatures) -> bool {
    on_cpu && cpu.x86_64 && (cpu.avx512vnni || cpu.avxvnni)
}

/// What the detector runs for one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorModel {
    /// The allowlisted object detector.
    pub model: AllowedModelId,
    /// Whether it was forced (`--detector-input`) rather than chosen by shape.
    pub forced: bool,
    /// Its precision (resolved by the caller, [`PrecisionChoice::resolve`]).
    pub precision: Precision,
}

impl DetectorModel {
    /// The model's manifest id (`nanodet-coco-512x288`).
    pub fn id(&self) -> &'static str {
        self.model.spec().id
    }
}

/// The shape families of the module documentation, one detector input each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// 16:10 and wider: 512 x 288.
    Wide,
    /// From 416:352 (1.18) up to 16:10, 4:3, 3:2 and 5:4 among them: 416 x 352.
    Landscape,
    /// Narrower than 1.18, or of unknown size: 416 x 416.
    Other,
}

/// Whether `width_px : height_px` is at least `aspect` (width, height), in integers.
fn at_least(width_px: u32, height_px: u32, (aw, ah): (u64, u64)) -> bool {
    width_px > 0 && height_px > 0 && u64::from(width_px) * ah >= u64::from(height_px) * aw
}

/// The shape family of a `width_px` x `height_px` frame.
pub fn shape_of(width_px: u32, height_px: u32) -> Shape {
    if at_least(width_px, height_px, WIDE_ASPECT_MIN) {
        Shape::Wide
    } else if at_least(width_px, height_px, LANDSCAPE_ASPECT_MIN) {
        Shape::Landscape
    } else {
        Shape::Other
    }
}

/// The detector model for frames of `width_px` x `height_px` (as the detector receives
/// them), unless `choice` forces one, at `precision`.
pub fn detector_model_for(
    width_px: u32,
    height_px: u32,
    choice: InputChoice,
    precision: Precision,
) -> DetectorModel {
    // The size: by shape for `auto`, else the one asked for (768 x 448 has no shape of
    // its own: it is only ever asked for).
    let size = match choice {
        InputChoice::Auto => match shape_of(width_px, height_px) {
            Shape::Wide => InputChoice::Wide512x288,
            Shape::Landscape => InputChoice::Landscape416x352,
            Shape::Other => InputChoice::Square416,
        },
        forced => forced,
    };
    let model = match (size, precision) {
        (InputChoice::Auto | InputChoice::Square416, Precision::Float) => ids::NANODET_COCO_416,
        (InputChoice::Landscape416x352, Precision::Float) => ids::NANODET_COCO_416X352,
        (InputChoice::Wide512x288, Precision::Float) => ids::NANODET_COCO_512X288,
        (InputChoice::Wide768x448, Precision::Float) => ids::NANODET_COCO_768X448,
        (InputChoice::Auto | InputChoice::Square416, Precision::Int8) => ids::NANODET_COCO_416_INT8,
        (InputChoice::Landscape416x352, Precision::Int8) => ids::NANODET_COCO_416X352_INT8,
        (InputChoice::Wide512x288, Precision::Int8) => ids::NANODET_COCO_512X288_INT8,
        (InputChoice::Wide768x448, Precision::Int8) => ids::NANODET_COCO_768X448_INT8,
    };
    let forced = choice != InputChoice::Auto;
    DetectorModel {
        model,
        forced,
        precision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(w: u32, h: u32) -> &'static str {
        detector_model_for(w, h, InputChoice::Auto, Precision::Float).id()
    }

    #[test]
    fn wide_sources_get_512x288_landscape_ones_416x352_and_the_others_416() {
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
            (960, 576),   // 960H
        ] {
            assert_eq!(auto(w, h), "nanodet-coco-512x288", "{w}x{h}");
        }
        for (w, h) in [
            (640, 480),   // 4:3 (TUD)
            (768, 576),   // 4:3 (vtest.avi)
            (704, 576),   // PAL D1 as coded (display 4:3 or 16:9: the pixels are 1.22:1)
            (720, 576),   // PAL, 1.25
            (352, 288),   // CIF, 1.22
            (1280, 1024), // 5:4
            (1440, 1080), // HDV as coded, displayed 16:9 by its sample aspect: not applied
            (1080, 720),  // 3:2
            (1919, 1200), // just under 1.6
            (416, 352),   // exactly 13:11
        ] {
            assert_eq!(auto(w, h), "nanodet-coco-416x352", "{w}x{h}");
        }
        for (w, h) in [
            (415, 352), // just under 13:11
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
    fn a_landscape_frame_keeps_its_scale_and_anchor_grid_from_the_square() {
        // The reason for the 416x352 size: a landscape frame is scaled to the full 416 px
        // width in both inputs, and centred 32 rows higher in the shorter one: a multiple
        // of every stride, so each cell of every level covers the same picture pixels.
        let square = ids::NANODET_COCO_416.spec().preprocess;
        for (w, h) in [
            (640u32, 480u32),
            (768, 576),
            (720, 576),
            (704, 576),
            (1080, 720),
            (1919, 1200),
            (416, 352),
            (1280, 1023), // odd picture height in the input
        ] {
            let p = detector_model_for(w, h, InputChoice::Auto, Precision::Float)
                .model
                .spec()
                .preprocess;
            assert_eq!((p.width, p.height), (416, 352), "{w}x{h}");
            let fit = |spec: vigie_policy::PreprocessSpec| {
                crate::preprocess::Geometry::new(spec.resize, spec.width, spec.height, w, h)
            };
            let (sq, g) = (fit(square), fit(p));
            assert_eq!(
                (g.content_w, g.content_h, g.offset_x),
                (sq.content_w, sq.content_h, sq.offset_x),
                "{w}x{h}: same picture pixels"
            );
            assert_eq!(sq.offset_y - g.offset_y, 32, "{w}x{h}: moved by 32 rows");
            assert_eq!(g.content_w, 416, "{w}x{h}: full width");
        }
    }

    #[test]
    fn a_forced_input_wins_over_the_shape() {
        let m = detector_model_for(640, 480, InputChoice::Wide512x288, Precision::Float);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-512x288", true));
        let m = detector_model_for(1920, 1080, InputChoice::Square416, Precision::Float);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-416", true));
        let m = detector_model_for(640, 480, InputChoice::Square416, Precision::Float);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-416", true));
        let m = detector_model_for(500, 500, InputChoice::Landscape416x352, Precision::Int8);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-416x352-int8", true));
        assert!(!detector_model_for(1920, 1080, InputChoice::Auto, Precision::Float).forced);
    }

    /// 768 x 448 is never chosen by shape, whatever the frame; asked for, it is given at
    /// both precisions, and its flag value parses and prints back.
    #[test]
    fn the_768x448_input_is_only_ever_asked_for() {
        for (w, h) in [
            (1920, 1080),
            (3840, 1080),
            (1280, 800),
            (640, 480),
            (480, 640),
            (0, 0),
        ] {
            for p in [Precision::Float, Precision::Int8] {
                let m = detector_model_for(w, h, InputChoice::Auto, p);
                assert!(!m.id().contains("768x448"), "{w}x{h}: {}", m.id());
            }
        }
        let m = detector_model_for(1920, 1080, InputChoice::Wide768x448, Precision::Float);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-768x448", true));
        let m = detector_model_for(640, 480, InputChoice::Wide768x448, Precision::Int8);
        assert_eq!((m.id(), m.forced), ("nanodet-coco-768x448-int8", true));
        let c: InputChoice = "768X448".parse().unwrap();
        assert_eq!(
            (c, c.to_string().as_str()),
            (InputChoice::Wide768x448, "768x448")
        );
        for v in InputChoice::VALUES {
            assert_eq!(v.parse::<InputChoice>().unwrap().to_string(), v);
        }
        let spec = ids::NANODET_COCO_768X448.spec();
        assert_eq!((spec.preprocess.width, spec.preprocess.height), (768, 448));
    }

    #[test]
    fn the_chosen_model_declares_the_input_its_name_says() {
        let p = |w, h| {
            detector_model_for(w, h, InputChoice::Auto, Precision::Float)
                .model
                .spec()
                .preprocess
        };
        let wide = p(1920, 1080);
        assert_eq!((wide.width, wide.height), (512, 288));
        let landscape = p(640, 480);
        assert_eq!((landscape.width, landscape.height), (416, 352));
        let square = p(500, 500);
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
        assert!("352x416".parse::<InputChoice>().is_err());
        assert_eq!(InputChoice::default(), InputChoice::Auto);
    }

    #[test]
    fn each_size_and_precision_gets_its_own_file() {
        let id = |w, h, p| detector_model_for(w, h, InputChoice::Auto, p).id();
        assert_eq!(id(1920, 1080, Precision::Int8), "nanodet-coco-512x288-int8");
        assert_eq!(id(640, 480, Precision::Int8), "nanodet-coco-416x352-int8");
        assert_eq!(id(500, 500, Precision::Int8), "nanodet-coco-416-int8");
        assert_eq!(id(1920, 1080, Precision::Float), "nanodet-coco-512x288");
        assert_eq!(id(640, 480, Precision::Float), "nanodet-coco-416x352");
        assert_eq!(id(500, 500, Precision::Float), "nanodet-coco-416");
        let m = detector_model_for(1920, 1080, InputChoice::Square416, Precision::Int8);
        assert_eq!(
            (m.id(), m.forced, m.precision),
            ("nanodet-coco-416-int8", true, Precision::Int8)
        );
        // Same input, same outputs as the float file of the same size.
        for (w, h) in [(1920, 1080), (640, 480), (500, 500)] {
            let f = detector_model_for(w, h, InputChoice::Auto, Precision::Float)
                .model
                .spec();
            let q = detector_model_for(w, h, InputChoice::Auto, Precision::Int8)
                .model
                .spec();
            assert_eq!(format!("{:?}", f.preprocess), format!("{:?}", q.preprocess));
            assert_eq!(format!("{:?}", f.inputs), format!("{:?}", q.inputs));
            assert_eq!(format!("{:?}", f.outputs), format!("{:?}", q.outputs));
            assert_eq!(format!("{:?}", f.labels), format!("{:?}", q.labels));
            assert_ne!(f.sha256_hex(), q.sha256_hex());
        }
    }

    #[test]
    fn int8_suits_only_cpu_execution_on_x86_64_with_vnni() {
        let cpu = |x86_64, avx512vnni, avxvnni| CpuFeatures {
            x86_64,
            avx512vnni,
            avxvnni,
        };
        assert!(int8_suits(true, cpu(true, true, false)));
        assert!(int8_suits(true, cpu(true, false, true)));
        assert!(int8_suits(true, cpu(true, true, true)));
        // AVX2 only (no VNNI): float.
        assert!(!int8_suits(true, cpu(true, false, false)));
        // A GPU: float, whatever the CPU.
        assert!(!int8_suits(false, cpu(true, true, true)));
        // Not x86_64 (aarch64): float even if flags were set by mistake.
        assert!(!int8_suits(true, cpu(false, true, true)));
    }

    #[test]
    fn auto_follows_the_decision_and_forced_precisions_win() {
        let vnni = CpuFeatures {
            x86_64: true,
            avx512vnni: true,
            avxvnni: false,
        };
        let plain = CpuFeatures {
            x86_64: true,
            ..CpuFeatures::default()
        };
        let expected_on_vnni = if AUTO_INT8_ON_VNNI {
            Precision::Int8
        } else {
            Precision::Float
        };
        assert_eq!(PrecisionChoice::Auto.resolve(true, vnni), expected_on_vnni);
        assert_eq!(PrecisionChoice::Auto.resolve(true, plain), Precision::Float);
        assert_eq!(PrecisionChoice::Auto.resolve(false, vnni), Precision::Float);
        for (on_cpu, f) in [(true, vnni), (true, plain), (false, vnni)] {
            assert_eq!(PrecisionChoice::Int8.resolve(on_cpu, f), Precision::Int8);
            assert_eq!(PrecisionChoice::Float.resolve(on_cpu, f), Precision::Float);
        }
        for v in PrecisionChoice::VALUES {
            assert_eq!(v.parse::<PrecisionChoice>().unwrap().to_string(), v);
        }
        assert!("int4".parse::<PrecisionChoice>().is_err());
        assert_eq!(PrecisionChoice::default(), PrecisionChoice::Auto);
    }
}
