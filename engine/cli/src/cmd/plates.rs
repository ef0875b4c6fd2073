//! `vigie plates IMAGE...` and `vigie eval plates DIR`: the licence-plate reader on still
//! images (photos handed to investigators) and its read rate on labelled plate sets.
//!
//! Reading the plates of a case's photos is processing inside the procedure, so
//! `vigie plates` needs an open case and logs the models loaded and a consultation that
//! names each image by SHA-256 and what was read. The evaluation runs on test datasets
//! only and logs nothing but refusals.

use std::path::PathBuf;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_plate::eval::{evaluate, load_dataset};
use vigie_plate::geom::RgbView;
use vigie_plate::{Localiser, PlateReader, PlateReaderConfig};
use vigie_policy::{ids, Device, SessionConfig};

use crate::output::{print_json, Outcome};
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
    pub fn config(&self, device: Device, threads: usize) -> anyhow::Result<PlateReaderConfig> {
        let localiser: Localiser = self.plate_localiser.parse()?;
        let model = match self.plate_recogniser.as_str() {
            "small" => ids::PPOCRV6_REC_SMALL,
            "tiny" => ids::PPOCRV6_REC_TINY,
            other => bail!("unknown --plate-recogniser '{other}' (expected small or tiny)"),
        };
        let session = SessionConfig {
            device,
            intra_op_threads: threads,
        };
        let mut cfg = PlateReaderConfig {
            localiser,
            ..PlateReaderConfig::default()
        };
        cfg.recogniser.model = model;
        cfg.recogniser.session = session;
        cfg.clp.session = session;
        cfg.text.session = session;
        Ok(cfg)
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
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
    let ws = super::workspace::Workspace::enter(global)?;
    let device: Device = args.device.parse()?;
    let cfg = args.plate.config(device, cores())?;
    let sink = ws.alert_sink();
    let mut reader =
        PlateReader::open(cfg, sink.as_ref()).context("cannot start the plate reader")?;
    for id in reader.model_ids() {
        let spec = vigie_policy::AllowedModelId::lookup(id)?.spec();
        ws.log(
            vigie_audit::Action::ModelLoad,
            json!({ "model_id": spec.id, "sha256": spec.sha256_hex(), "task": spec.task.as_str(), "device": args.device }),
            json!({ "loaded": true }),
        )?;
    }
    let mut results = Vec::new();
    let mut failed = 0usize;
    for path in &args.images {
        let one = (|| -> anyhow::Result<serde_json::Value> {
            let (sha256, _) = vigie_evidence::hash_file(path, |_| {})
                .with_context(|| format!("cannot read {}", path.display()))?;
            let img = image::open(path)
                .with_context(|| {
                    format!(
                        "cannot decode {} as an image (give a JPEG or PNG file)",
                        path.display()
                    )
                })?
                .to_rgb8();
            let (w, h) = img.dimensions();
            let view = RgbView::new(img.as_raw(), w, h).context("empty image")?;
            let (reading, plate) = reader.read_still(&view)?;
            let region = reading.best().map(|c| {
                let (x, y, w, h) = c.bounds();
                json!({ "x": x.round(), "y": y.round(), "w": w.round(), "h": h.round(), "localiser": c.proposer })
            });
            Ok(json!({
                "image": path.display().to_string(),
                "sha256": sha256,
                "plate": plate.as_ref().map(|p| json!({
                    "text": p.text, "display": p.display, "format": p.format,
                    "confidence": (p.confidence * 1000.0).round() / 1000.0,
                    "char_confidences": p.char_confidences.iter().map(|c| (c * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
                })),
                "region_px": region,
                "regions_read": reading.candidates.len(),
            }))
        })();
        match one {
            Ok(v) => {
                if !global.json {
                    match &v["plate"] {
                        serde_json::Value::Null => println!("{}: no plate read", path.display()),
                        p => println!(
                            "{}: {}  ({}, confidence {:.2})",
                            path.display(),
                            p["display"].as_str().unwrap_or(""),
                            p["format"].as_str().unwrap_or(""),
                            p["confidence"].as_f64().unwrap_or(0.0)
                        ),
                    }
                }
                results.push(v);
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "vigie: {}: {e:#}; going on with the next image",
                    path.display()
                );
                results.push(
                    json!({ "image": path.display().to_string(), "error": format!("{e:#}") }),
                );
            }
        }
    }
    ws.log(
        vigie_audit::Action::Consultation,
        json!({ "command": "plates", "images": results.iter().map(|r| json!({ "image": r["image"], "sha256": r["sha256"] })).collect::<Vec<_>>(),
                "models": reader.model_ids() }),
        json!({ "plates": results.iter().map(|r| r["plate"]["text"].clone()).collect::<Vec<_>>(), "failed": failed }),
    )?;
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
    let samples = load_dataset(&a.dir).context("cannot load the plate dataset")?;
    if samples.is_empty() {
        bail!("no labelled image found in {}", a.dir.display());
    }
    let device: Device = a.device.parse()?;
    let cfg = a.plate.config(device, cores())?;
    let sink = super::models::alert_sink(global)?;
    let mut reader =
        PlateReader::open(cfg, sink.as_ref()).context("cannot start the plate reader")?;
    let verbose = a.verbose && !global.json;
    let report = evaluate(&mut reader, &samples, |s| {
        if verbose {
            println!(
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
    if global.json {
        print_json(&json!({
            "dataset": a.dir.display().to_string(),
            "localiser": a.plate.plate_localiser, "recogniser": a.plate.plate_recogniser,
            "models": reader.model_ids(),
            "report": report,
        }))?;
    } else {
        println!(
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

/// The plate reader behind the pipeline's plate-pass trait.
pub struct PlateStage(pub PlateReader);

impl vigie_pipeline::plates::TrackPlateReader for PlateStage {
    fn read_track(
        &mut self,
        crops: &[vigie_pipeline::plates::VehicleCrop],
    ) -> Result<Option<vigie_pipeline::plates::PlateOutcome>, vigie_pipeline::StageError> {
        let images: Vec<vigie_plate::TrackImage> = crops
            .iter()
            .filter_map(|c| {
                Some(vigie_plate::TrackImage {
                    pts_ms: c.pts_ms,
                    image: RgbView::new(&c.rgb, c.width, c.height)?,
                })
            })
            .collect();
        let plate = self.0.read_track(&images)?;
        Ok(plate.map(|p| vigie_pipeline::plates::PlateOutcome {
            read: p.read,
            crop_width: p.best_strip.width,
            crop_height: vigie_plate::recognise::STRIP_HEIGHT_PX,
            crop_rgb: p.best_strip.rgb,
        }))
    }
}

/// Open the plate reader for analysis and log its models (one entry per model).
pub fn open_stage(
    flags: &PlateFlags,
    device: &str,
    ws: &super::workspace::Workspace,
    source_id: &str,
    alerts: &dyn vigie_core::AlertSink,
) -> anyhow::Result<PlateStage> {
    let dev: Device = device.parse()?;
    let cfg = flags.config(dev, cores())?;
    let reader = PlateReader::open(cfg, alerts).context(
        "cannot start the plate reader (run tools/fetch-models, or analyse with --no-plates)",
    )?;
    for id in reader.model_ids() {
        let spec = vigie_policy::AllowedModelId::lookup(id)?.spec();
        ws.log(
            vigie_audit::Action::ModelLoad,
            json!({ "model_id": spec.id, "sha256": spec.sha256_hex(), "task": spec.task.as_str(),
                    "device": device, "source_id": source_id }),
            json!({ "loaded": true }),
        )?;
    }
    Ok(PlateStage(reader))
}

/// Write a plate image (RGB24) as a JPEG; returns the path relative to the derived dir.
pub fn write_plate_crop(
    derived: &std::path::Path,
    source_id: &str,
    track_id: u64,
    o: &vigie_pipeline::plates::PlateOutcome,
) -> anyhow::Result<String> {
    let dir = derived.join("plates");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = format!("{source_id}_{track_id}.jpg");
    let path = dir.join(&name);
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 90);
    enc.encode(
        &o.crop_rgb,
        o.crop_width,
        o.crop_height,
        image::ExtendedColorType::Rgb8,
    )
    .with_context(|| format!("cannot encode {}", path.display()))?;
    Ok(format!("plates/{name}"))
}
