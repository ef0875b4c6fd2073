//! Plate-reading evaluation over labelled still images: the read rate, and where the
//! failures come from.
//!
//! Two dataset layouts are understood: openalpr's benchmarks (`<name>.txt` beside each
//! image: `file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`, a plate box to tell a missed plate from
//! a misread one) and nomeroff-net's (`accuracy_test_data*.json`: `{"1.jpeg": ["AT6883CM"]}`,
//! images in `benchmark_*_np_images/`, no boxes).
//!
//! A read is correct when it equals the truth after normalisation (separators dropped,
//! upper case, Cyrillic look-alikes mapped to Latin) with the letter O and the digit 0
//! treated as equal (the openalpr labels write one for the other). Failures are sorted into:
//! - `not_found`: no region of the image gave plate-like text;
//! - `wrong_region`: text was read, but from a region that is not the plate (only with
//!   boxes) — the ranking chose a sticker or a logo;
//! - `misread`: the plate region was read, with at least one wrong character.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use vigie_core::plate::{fold, normalise};

use crate::geom::RgbView;
use crate::{PlateError, PlateReader};

/// One labelled image.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub image: PathBuf,
    /// Truth, as written in the dataset.
    pub truth: String,
    /// The plate's box (x, y, w, h) in image pixels, when the dataset gives one.
    pub box_px: Option<(f32, f32, f32, f32)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: line {line}: {message} (expected file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE)")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{dir}: not a plate dataset this build knows (no openalpr `*.txt` labels beside images, no nomeroff `accuracy_test_data*.json`)")]
    Unknown { dir: String },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Load a dataset directory (layout detected).
pub fn load_dataset(dir: &Path) -> Result<Vec<Sample>, DatasetError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let jsons: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("accuracy_test_data") && n.ends_with(".json"))
        })
        .collect();
    if !jsons.is_empty() {
        let mut out = Vec::new();
        for j in jsons {
            out.extend(load_nomeroff(j, dir)?);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for p in &entries {
        if p.extension().and_then(|e| e.to_str()) == Some("txt") {
            out.extend(load_openalpr_label(p)?);
        }
    }
    if out.is_empty() {
        return Err(DatasetError::Unknown {
            dir: dir.display().to_string(),
        });
    }
    Ok(out)
}

fn load_openalpr_label(path: &Path) -> Result<Vec<Sample>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |message: &str| DatasetError::Line {
            path: path.display().to_string(),
            line: i + 1,
            message: message.to_string(),
        };
        if f.len() < 6 {
            return Err(bad("fewer than 6 tab-separated fields"));
        }
        let num = |s: &str| {
            s.trim()
                .parse::<f32>()
                .map_err(|_| bad("a box value is not a number"))
        };
        out.push(Sample {
            image: dir.join(f[0].trim()),
            truth: f[5].trim().to_string(),
            box_px: Some((num(f[1])?, num(f[2])?, num(f[3])?, num(f[4])?)),
        });
    }
    Ok(out)
}

fn load_nomeroff(json: &Path, dir: &Path) -> Result<Vec<Sample>, DatasetError> {
    let text = std::fs::read_to_string(json).map_err(|e| io_err(json, e))?;
    let map: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&text).map_err(|e| io_err(json, e))?;
    let name = json.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let sub = if name.contains("multiline") {
        "benchmark_multiline_np_images"
    } else {
        "benchmark_oneline_np_images"
    };
    let mut out = Vec::new();
    for (file, truths) in map {
        let image = dir.join(sub).join(&file);
        // The JSON lists more images than the benchmark folder ships: skip the absent.
        if !image.is_file() {
            continue;
        }
        if let Some(t) = truths.into_iter().next() {
            out.push(Sample {
                image,
                truth: t,
                box_px: None,
            });
        }
    }
    Ok(out)
}

/// Equal after normalisation, with O and 0 equal.
pub fn same_plate(a: &str, b: &str) -> bool {
    let (a, b) = (fold(&normalise(a)), fold(&normalise(b)));
    !a.is_empty() && a == b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    NotFound,
    WrongRegion,
    Misread,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampleResult {
    pub image: String,
    pub truth: String,
    pub read: Option<String>,
    pub format: Option<String>,
    pub confidence: Option<f32>,
    pub correct: bool,
    pub failure: Option<Failure>,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub images: usize,
    pub exact: usize,
    pub read_rate: f64,
    pub not_found: usize,
    pub wrong_region: usize,
    pub misread: usize,
    /// Reads that fit a known format, and how many of them were right.
    pub format_known: usize,
    pub format_known_exact: usize,
    pub ms_per_image: f64,
    pub samples: Vec<SampleResult>,
}

fn iou(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> f32 {
    let x1 = a.0.max(b.0);
    let y1 = a.1.max(b.1);
    let x2 = (a.0 + a.2).min(b.0 + b.2);
    let y2 = (a.1 + a.3).min(b.1 + b.3);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a.2 * a.3 + b.2 * b.3 - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Read every sample and score it. `on_sample` sees each result as it comes.
pub fn evaluate(
    reader: &mut PlateReader,
    samples: &[Sample],
    mut on_sample: impl FnMut(&SampleResult),
) -> Result<EvalReport, PlateError> {
    let mut results = Vec::with_capacity(samples.len());
    let mut total_ms = 0f64;
    for s in samples {
        let img = image::open(&s.image)
            .map_err(|e| PlateError::Image {
                path: s.image.display().to_string(),
                message: e.to_string(),
            })?
            .to_rgb8();
        let (w, h) = img.dimensions();
        let view = RgbView::new(img.as_raw(), w, h).expect("image crate gives packed RGB");
        let t = Instant::now();
        let (reading, plate) = reader.read_still(&view)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        total_ms += ms;
        let correct = plate
            .as_ref()
            .is_some_and(|p| same_plate(&p.text, &s.truth));
        let failure = if correct {
            None
        } else if plate.is_none() {
            Some(Failure::NotFound)
        } else if let Some(gt) = s.box_px {
            let on_plate = |c: &crate::Candidate| iou(c.bounds(), gt) > 0.2;
            let best_on_plate = reading.best().is_some_and(on_plate);
            if best_on_plate {
                Some(Failure::Misread)
            } else if reading.candidates.iter().any(on_plate) {
                Some(Failure::WrongRegion)
            } else {
                Some(Failure::NotFound)
            }
        } else {
            Some(Failure::Misread)
        };
        let r = SampleResult {
            image: s
                .image
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            truth: s.truth.clone(),
            read: plate.as_ref().map(|p| p.display.clone()),
            format: plate.as_ref().map(|p| p.format.clone()),
            confidence: plate.as_ref().map(|p| p.confidence),
            correct,
            failure,
            ms,
        };
        on_sample(&r);
        results.push(r);
    }
    let n = results.len();
    let count = |f: Failure| results.iter().filter(|r| r.failure == Some(f)).count();
    let exact = results.iter().filter(|r| r.correct).count();
    let known: Vec<&SampleResult> = results
        .iter()
        .filter(|r| r.format.as_deref().is_some_and(|f| f != "unknown"))
        .collect();
    Ok(EvalReport {
        images: n,
        exact,
        read_rate: if n == 0 { 0.0 } else { exact as f64 / n as f64 },
        not_found: count(Failure::NotFound),
        wrong_region: count(Failure::WrongRegion),
        misread: count(Failure::Misread),
        format_known: known.len(),
        format_known_exact: known.iter().filter(|r| r.correct).count(),
        ms_per_image: if n == 0 { 0.0 } else { total_ms / n as f64 },
        samples: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_plate_ignores_separators_case_and_o_zero() {
        assert!(same_plate("RK-O99 AN", "rk099an"));
        assert!(!same_plate("RK099AN", "RK098AN"));
        assert!(!same_plate("", ""));
    }

    #[test]
    fn openalpr_labels_parse_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a.jpg\t1\t2\t30\t8\tAB123CD\n").unwrap();
        let s = load_dataset(dir.path()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].truth, "AB123CD");
        assert_eq!(s[0].box_px, Some((1.0, 2.0, 30.0, 8.0)));
        std::fs::write(dir.path().join("b.txt"), "b.jpg\t1\tx\t30\t8\tAB\n").unwrap();
        let e = load_dataset(dir.path()).unwrap_err().to_string();
        assert!(e.contains("b.txt") && e.contains("line 1"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_dataset(empty.path()),
            Err(DatasetError::Unknown { .. })
        ));
    }
}
