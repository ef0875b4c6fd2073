//! `vigie plates IMAGE...` and `vigie eval plates DIR`: the licence-plate reader on still
//! images (photos handed to investigators) and its read rate on labelled plate sets.
//!
//! Reading the plates of a case's photos is processing inside the procedure, so
//! `vigie plates` enters the case (`vigie_app::plates::read_stills`), which logs the models
//! loaded and a `plates_read` consultation naming each image by SHA-256 and what was read.
//! The evaluation runs on test datasets outside any case, so it goes through the
//! measurement door (`vigie_app::Measurement`): every label file and image is hashed and
//! logged in the machine log before anything is read.

use std::path::PathBuf;

use anyhow::bail;
use serde_json::json;
use vigie_app::measure::Computed;
use vigie_app::plates::PlateOptions;
use vigie_app::Measurement;

use crate::output::{outln, print_json, Outcome};
use crate::Global;

/// Plate-reader flags shared by `plates`, `eval plates` and `analyze`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlateFlags {
    /// Where plates are looked for: `auto` (plate detector, then the text detector when
    /// its read fits no plate format), `clp` (plate detector only: fastest), `text`
    /// (PP-OCRv6 text detector only), `both`.
    #[arg(long, default_value = "auto")]
    pub plate_localiser: String,
    /// Plate recogniser: `small` (PP-OCRv6 small, default) or `tiny` (about 5x faster on
    /// the recognition step, fewer exact reads).
    #[arg(long, default_value = "small")]
    pub plate_recogniser: String,
}

impl PlateFlags {
    /// The reader's options (validated by the application layer).
    pub fn options(&self) -> PlateOptions {
        PlateOptions {
            localiser: self.plate_localiser.clone(),
            recogniser: self.plate_recogniser.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Still images (JPEG, PNG).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub plate: PlateFlags,
    /// Execution device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let case = global.enter("plates")?;
    let out =
        vigie_app::plates::read_stills(&case, &args.plate.options(), &args.device, &args.images)?;
    let mut results = Vec::with_capacity(out.images.len());
    for r in &out.images {
        match &r.read {
            Ok(v) => {
                if !global.json {
                    match &v["plate"] {
                        serde_json::Value::Null => outln!("{}: no plate read", r.image.display()),
                        p => outln!(
                            "{}: {}  ({}, confidence {:.2})",
                            r.image.display(),
                            p["display"].as_str().unwrap_or(""),
                            p["format"].as_str().unwrap_or(""),
                            p["confidence"].as_f64().unwrap_or(0.0)
                        ),
                    }
                }
            }
            Err(e) => eprintln!(
                "vigie: {}: {e}; going on with the next image",
                r.image.display()
            ),
        }
        results.push(r.to_json());
    }
    let failed = out.failed();
    if global.json {
        print_json(&json!({ "images": results }))?;
    }
    Ok(if failed == 0 {
        Outcome::Success
    } else if failed < args.images.len() {
        Outcome::Partial
    } else {
        bail!("no image could be read ({failed} failed, see above)")
    })
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A labelled plate set: openalpr layout (`NAME.jpg` + `NAME.txt` with
    /// file, x, y, w, h, plate) or nomeroff layout (`accuracy_test_data*.json`).
    pub dir: PathBuf,
    #[command(flatten)]
    pub plate: PlateFlags,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Print every image's result.
    #[arg(long)]
    pub verbose: bool,
}

pub fn eval(a: EvalArgs, global: &Global) -> anyhow::Result<Outcome> {
    let dataset = vigie_app::bench::plate_dataset(&a.dir)?;
    if dataset.samples.is_empty() {
        bail!("no labelled image found in {}", a.dir.display());
    }
    let app = vigie_app::App::from_env()?;
    let m = Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "eval plates",
        &[Computed::PlateReads],
        &dataset.files,
        global.reason.as_deref(),
    )?;
    let verbose = a.verbose && !global.json;
    let result = vigie_app::bench::eval_plates(&m, &a.plate.options(), &a.device, &dataset, |s| {
        if verbose {
            outln!(
                "{:<16} truth {:<10} read {:<14} {}",
                s.image,
                s.truth,
                s.read.as_deref().unwrap_or("-"),
                match s.failure {
                    None => "ok".to_string(),
                    Some(f) => format!("{f:?}").to_lowercase(),
                }
            );
        }
    })?;
    let report = &result.report;
    if global.json {
        print_json(&json!({
            "dataset": a.dir.display().to_string(),
            "localiser": a.plate.plate_localiser, "recogniser": a.plate.plate_recogniser,
            "models": result.models,
            "report": report,
        }))?;
    } else {
        outln!(
            "{}: {} images, {} exact reads ({:.1}%, separators ignored, O = 0)\n  failures: plate not found {}, wrong region chosen {}, misread {}\n  reads fitting a known format: {} ({} exact)\n  {:.1} ms per image (localiser {}, recogniser {})",
            a.dir.display(),
            report.images,
            report.exact,
            report.read_rate * 100.0,
            report.not_found,
            report.wrong_region,
            report.misread,
            report.format_known,
            report.format_known_exact,
            report.ms_per_image,
            a.plate.plate_localiser,
            a.plate.plate_recogniser
        );
    }
    Ok(Outcome::Success)
}
