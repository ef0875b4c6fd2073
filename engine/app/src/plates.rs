//! Licence plates: the reader's options, the plate stage of analysis, and reading plates
//! on still images of a case (`vigie plates`).

use std::path::{Path, PathBuf};

use vigie_audit::event::Event;
use vigie_plate::geom::RgbView;
use vigie_plate::{Localiser, PlateReader, PlateReaderConfig};
use vigie_policy::{ids, Device, SessionConfig};

use crate::entered::EnteredCase;
use crate::error::AppError;

/// How plates are read (the front end's flags, validated here).
#[derive(Debug, Clone, PartialEq)]
pub struct PlateOptions {
    /// `auto`, `clp`, `text` or `both`.
    pub localiser: String,
    /// `small` or `tiny`.
    pub recogniser: String,
}

impl Default for PlateOptions {
    fn default() -> Self {
        Self {
            localiser: "auto".into(),
            recogniser: "small".into(),
        }
    }
}

/// Cores available to ONNX Runtime.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

impl PlateOptions {
    /// The reader configuration on `device` with `threads` intra-op threads.
    pub fn config(&self, device: Device, threads: usize) -> Result<PlateReaderConfig, AppError> {
        let localiser: Localiser = self
            .localiser
            .parse()
            .map_err(|e: vigie_plate::PlateError| AppError::BadInput(e.to_string()))?;
        let model = match self.recogniser.as_str() {
            "small" => ids::PPOCRV6_REC_SMALL,
            "tiny" => ids::PPOCRV6_REC_TINY,
            other => {
                return Err(AppError::BadInput(format!(
                    "unknown --plate-recogniser '{other}' (expected small or tiny)"
                )))
            }
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

/// Parse a device name (`cpu`, `cuda`, `cuda:N`).
pub fn parse_device(device: &str) -> Result<Device, AppError> {
    Ok(device.parse::<Device>()?)
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

/// Log one `model_loaded` entry per model of a plate reader.
pub fn log_models(
    case: &EnteredCase,
    reader: &PlateReader,
    device: &str,
    source_id: Option<&str>,
) -> Result<(), AppError> {
    for id in reader.model_ids() {
        let spec = vigie_policy::AllowedModelId::lookup(id)?.spec();
        case.record(&Event::ModelLoaded {
            model_id: spec.id.to_owned(),
            sha256: spec.sha256_hex(),
            task: spec.task.as_str().to_owned(),
            device: device.to_owned(),
            source_id: source_id.map(str::to_owned),
        })?;
    }
    Ok(())
}

/// Open the plate reader for analysing `source_id` and log its models.
pub fn open_stage(
    case: &EnteredCase,
    opts: &PlateOptions,
    device: &str,
    source_id: &str,
    threads: usize,
) -> Result<PlateStage, AppError> {
    let cfg = opts.config(parse_device(device)?, threads)?;
    let sink = case.alert_sink();
    let reader = PlateReader::open(cfg, &sink)?;
    log_models(case, &reader, device, Some(source_id))?;
    Ok(PlateStage(reader))
}

/// Write a plate image (RGB24) as the JPEG `derived/plates/<name>`; returns the path
/// relative to the derived directory.
pub fn write_plate_crop(
    derived: &Path,
    name: &str,
    o: &vigie_pipeline::plates::PlateOutcome,
) -> Result<String, AppError> {
    let dir = derived.join("plates");
    vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
    let path: PathBuf = dir.join(name);
    let file = std::fs::File::create(&path).map_err(AppError::io(&path))?;
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 90);
    enc.encode(
        &o.crop_rgb,
        o.crop_width,
        o.crop_height,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| AppError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    Ok(format!("plates/{name}"))
}

/// One still image of `vigie plates`: what was read, or why it could not be.
#[derive(Debug)]
pub struct StillResult {
    pub image: PathBuf,
    /// The image's `--json` entry (`image`, `sha256`, `plate`, `region_px`,
    /// `regions_read`), or the error that stopped this image.
    pub read: Result<serde_json::Value, AppError>,
}

impl StillResult {
    /// The `--json` entry (stable: fields are only added).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.read {
            Ok(v) => v.clone(),
            Err(e) => {
                serde_json::json!({ "image": self.image.display().to_string(), "error": e.to_string() })
            }
        }
    }
}

/// What `vigie plates` did, image by image, in the order given.
#[derive(Debug)]
pub struct StillsOutcome {
    pub images: Vec<StillResult>,
    /// The models the reader used.
    pub models: Vec<String>,
}

impl StillsOutcome {
    pub fn failed(&self) -> usize {
        self.images.iter().filter(|r| r.read.is_err()).count()
    }
}

/// Read the plate on still images of the entered case (photos handed to investigators).
///
/// The models loaded are logged first; a bad image is reported and the batch goes on; the
/// reads are recorded as one `plates_read` consultation naming each image read by SHA-256
/// (and what was read on it), whether or not every image could be read.
pub fn read_stills(
    case: &EnteredCase,
    opts: &PlateOptions,
    device: &str,
    images: &[PathBuf],
) -> Result<StillsOutcome, AppError> {
    use serde_json::json;
    let cfg = opts.config(parse_device(device)?, cores())?;
    let sink = case.alert_sink();
    let mut reader = PlateReader::open(cfg, &sink)?;
    log_models(case, &reader, device, None)?;
    let case_dir = case.case_dir().canonicalize().ok();
    let mut results = Vec::with_capacity(images.len());
    let mut hashed = Vec::new();
    let mut reads = Vec::new();
    for path in images {
        case.checkpoint()?;
        let read = (|| -> Result<serde_json::Value, AppError> {
            let (sha256, size_bytes) = vigie_evidence::hash_file(path, |_| {})?;
            hashed.push(vigie_audit::event::FileHash {
                path: path.display().to_string(),
                sha256: sha256.clone(),
                size_bytes,
                inside_case: match (&case_dir, path.canonicalize()) {
                    (Some(d), Ok(p)) => p.starts_with(d),
                    _ => false,
                },
            });
            reads.push(None);
            let img = image::open(path)
                .map_err(|e| {
                    AppError::BadInput(format!(
                        "cannot decode {} as an image (give a JPEG or PNG file): {e}",
                        path.display()
                    ))
                })?
                .to_rgb8();
            let (w, h) = img.dimensions();
            let view = RgbView::new(img.as_raw(), w, h)
                .ok_or_else(|| AppError::BadInput(format!("empty image: {}", path.display())))?;
            let (reading, plate) = reader.read_still(&view)?;
            if let (Some(p), Some(last)) = (&plate, reads.last_mut()) {
                *last = Some(p.text.clone());
            }
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
        results.push(StillResult {
            image: path.clone(),
            read,
        });
    }
    case.record(&Event::PlatesRead {
        images: hashed,
        reads,
    })?;
    Ok(StillsOutcome {
        images: results,
        models: reader.model_ids().iter().map(|s| s.to_string()).collect(),
    })
}
