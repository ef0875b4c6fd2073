//! The plate pass: after tracking, read the licence plate of every vehicle track that was
//! seen large enough, from native-resolution crops.
//!
//! Why a second pass rather than reading plates in the analysis loop: analysis works on
//! frames scaled down to ~640 px, where a plate is 10-20 px wide and unreadable, and only
//! once a track has ended is it known which of its frames show the vehicle largest. So the
//! pass (1) picks, per vehicle track, the `frames_per_track` detections with the largest
//! boxes (at least `min_vehicle_width_px` wide in source pixels, spread over the track),
//! (2) decodes the source once more with the same sampling (so timestamps match) at native
//! resolution (with a plain `DecodeConfig`, which always deblocks: plate crops are
//! disclosed, so they never come from the analysis frames, which may skip the loop
//! filter), cropping only those boxes and stopping after the last one needed, and (3)
//! hands each track's crops to the plate reader, which votes across them. Memory stays
//! bounded by the crops actually requested.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use vigie_core::{BBox, PlateRead, RgbFrame};
use vigie_decode::{spawn_decoder, DecodeConfig, OutputSize};

use crate::{Analysis, PipelineError, SourceInput, Tube};

/// One native-resolution image of a vehicle.
#[derive(Debug, Clone)]
pub struct VehicleCrop {
    pub pts_ms: i64,
    pub rgb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// What the reader made of a track: the plate and its best plate image (RGB24).
#[derive(Debug, Clone)]
pub struct PlateOutcome {
    pub read: PlateRead,
    pub crop_rgb: Vec<u8>,
    pub crop_width: u32,
    pub crop_height: u32,
}

/// A plate reader as the pipeline sees it (implemented over `vigie-plate` by the CLI, so
/// this crate stays free of ONNX Runtime).
pub trait TrackPlateReader {
    fn read_track(
        &mut self,
        crops: &[VehicleCrop],
    ) -> Result<Option<PlateOutcome>, crate::StageError>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlatePassConfig {
    /// Track classes whose plates are read.
    pub classes: Vec<String>,
    /// Boxes narrower than this in source pixels are not read (a plate is ~1/5 of a car's
    /// width: 160 px gives a ~30 px plate, about the least that can be read).
    pub min_vehicle_width_px: f32,
    /// Crops per track (the largest boxes, at least `min_gap_ms` apart).
    pub frames_per_track: usize,
    pub min_gap_ms: i64,
    /// The box is enlarged by this fraction on each side before cropping.
    pub margin: f32,
}

impl Default for PlatePassConfig {
    fn default() -> Self {
        PlatePassConfig {
            classes: ["car", "truck", "bus", "motorcycle"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            min_vehicle_width_px: 160.0,
            frames_per_track: 5,
            min_gap_ms: 200,
            margin: 0.05,
        }
    }
}

/// Figures of one plate pass.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PlateStats {
    /// Vehicle tracks, and those seen large enough to be read.
    pub vehicle_tracks: u64,
    pub tracks_eligible: u64,
    pub tracks_with_plate: u64,
    pub crops: u64,
    /// Most crops held in memory at once: each track's crops are read and released as
    /// soon as its last one is decoded, so this follows the tracks visible together, not
    /// the length of the footage.
    pub max_crops_held: u64,
    /// Second decode (native resolution, up to the last crop needed).
    pub decode: Duration,
    /// Plate reading (localise + recognise + vote), all tracks.
    pub read: Duration,
}

impl PlateStats {
    /// Plate-stage time per eligible track, ms (decode share included).
    pub fn ms_per_track(&self) -> f64 {
        if self.tracks_eligible == 0 {
            0.0
        } else {
            (self.decode + self.read).as_secs_f64() * 1e3 / self.tracks_eligible as f64
        }
    }
}

/// Pick the detections to crop: per track, up to `n` largest boxes at least `gap` apart.
pub fn pick_frames(tube: &Tube, scale: f32, cfg: &PlatePassConfig) -> Vec<(i64, BBox)> {
    let mut boxes: Vec<&(i64, BBox)> = tube
        .boxes
        .iter()
        .filter(|(_, b)| b.w * scale >= cfg.min_vehicle_width_px)
        .collect();
    boxes.sort_by(|a, b| b.1.area().total_cmp(&a.1.area()).then(a.0.cmp(&b.0)));
    let mut picked: Vec<(i64, BBox)> = Vec::new();
    for (pts, b) in boxes {
        if picked.len() >= cfg.frames_per_track {
            break;
        }
        if picked
            .iter()
            .all(|(p, _)| (p - pts).abs() >= cfg.min_gap_ms)
        {
            picked.push((*pts, *b));
        }
    }
    picked.sort_by_key(|(p, _)| *p);
    picked
}

fn crop(frame: &RgbFrame, b: &BBox, scale: f32, margin: f32) -> Option<VehicleCrop> {
    let (fw, fh) = (frame.width as f32, frame.height as f32);
    let x0 = ((b.x - b.w * margin) * scale).clamp(0.0, fw - 1.0);
    let y0 = ((b.y - b.h * margin) * scale).clamp(0.0, fh - 1.0);
    let x1 = ((b.x + b.w * (1.0 + margin)) * scale).clamp(x0 + 1.0, fw);
    let y1 = ((b.y + b.h * (1.0 + margin)) * scale).clamp(y0 + 1.0, fh);
    let (x0, y0, x1, y1) = (x0 as usize, y0 as usize, x1 as usize, y1 as usize);
    let (w, h) = (x1 - x0, y1 - y0);
    if w < 8 || h < 8 {
        return None;
    }
    let stride = frame.width as usize * 3;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in y0..y1 {
        rgb.extend_from_slice(&frame.data[y * stride + x0 * 3..y * stride + x1 * 3]);
    }
    Some(VehicleCrop {
        pts_ms: frame.pts_ms,
        rgb,
        width: w as u32,
        height: h as u32,
    })
}

/// Read the plates of `analysis`'s vehicle tracks and store them in their summaries.
/// `decode` is the configuration the analysis ran with (its sampling is reused); the
/// returned outcomes are keyed by track id (best plate images, to be written by the
/// caller).
pub fn read_plates(
    input: &SourceInput,
    decode: &DecodeConfig,
    analysis: &mut Analysis,
    cfg: &PlatePassConfig,
    reader: &mut dyn TrackPlateReader,
) -> Result<(PlateStats, BTreeMap<u64, PlateOutcome>), PipelineError> {
    let mut stats = PlateStats::default();
    let mut outcomes = BTreeMap::new();
    let (work_w, _) = analysis.frame_size;
    if work_w == 0 {
        return Ok((stats, outcomes));
    }
    let native_w = source_width(&input.path, decode)?;
    let scale = native_w as f32 / work_w as f32;
    // pts -> [(track, box)]
    let mut wanted: BTreeMap<i64, Vec<(u64, BBox)>> = BTreeMap::new();
    for (d, tube) in analysis.descriptions.iter().zip(&analysis.tubes) {
        if !cfg.classes.contains(&d.summary.label) {
            continue;
        }
        stats.vehicle_tracks += 1;
        let picks = pick_frames(tube, scale, cfg);
        if picks.is_empty() {
            continue;
        }
        stats.tracks_eligible += 1;
        for (pts, b) in picks {
            wanted.entry(pts).or_default().push((tube.track_id, b));
        }
    }
    let Some(&last_pts) = wanted.keys().next_back() else {
        return Ok((stats, outcomes));
    };
    // Each track's last wanted frame: its crops are read (and released) right after it.
    let mut last_of: BTreeMap<u64, i64> = BTreeMap::new();
    for (pts, list) in &wanted {
        for (track, _) in list {
            last_of.insert(*track, *pts);
        }
    }
    let mut finishing: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for (track, pts) in &last_of {
        finishing.entry(*pts).or_default().push(*track);
    }
    let t = Instant::now();
    let mut read_time = std::time::Duration::ZERO;
    let native = DecodeConfig {
        output_size: OutputSize::Native,
        ..decode.clone()
    };
    let handle = spawn_decoder(&input.path, &native, 4)?;
    let mut crops: BTreeMap<u64, Vec<VehicleCrop>> = BTreeMap::new();
    let mut held = 0u64;
    let mut failed = None;
    for frame in handle.frames.iter() {
        if let Some(list) = wanted.get(&frame.pts_ms) {
            for (track, b) in list {
                if let Some(c) = crop(&frame, b, scale, cfg.margin) {
                    stats.crops += 1;
                    held += 1;
                    crops.entry(*track).or_default().push(c);
                }
            }
            stats.max_crops_held = stats.max_crops_held.max(held);
        }
        if let Some(done) = finishing.get(&frame.pts_ms) {
            let tr = Instant::now();
            for track in done {
                let Some(list) = crops.remove(track) else {
                    continue;
                };
                held -= list.len() as u64;
                match reader.read_track(&list) {
                    Ok(Some(o)) => {
                        if let Some(d) = analysis
                            .descriptions
                            .iter_mut()
                            .find(|d| d.summary.track_id == *track)
                        {
                            d.summary.plate = Some(o.read.clone());
                            stats.tracks_with_plate += 1;
                        }
                        outcomes.insert(*track, o);
                    }
                    Ok(None) => {}
                    Err(source) => {
                        failed = Some(PipelineError::PlateReader { source });
                        break;
                    }
                }
            }
            read_time += tr.elapsed();
        }
        if failed.is_some() || frame.pts_ms >= last_pts {
            break;
        }
    }
    // Stopping early is normal here: the decoder reports the closed channel as the end.
    let _ = handle.join();
    if let Some(e) = failed {
        return Err(e);
    }
    stats.decode = t.elapsed().saturating_sub(read_time);
    stats.read = read_time;
    Ok((stats, outcomes))
}

fn source_width(path: &Path, decode: &DecodeConfig) -> Result<u32, PipelineError> {
    let meta = vigie_decode::probe(path, decode.stream_index, None)?;
    Ok(meta.width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(w: f32) -> BBox {
        BBox {
            x: 0.0,
            y: 0.0,
            w,
            h: w / 2.0,
        }
    }

    #[test]
    fn picks_the_largest_boxes_spread_over_the_track() {
        let tube = Tube {
            track_id: 1,
            boxes: vec![
                (0, bx(50.0)),
                (100, bx(90.0)),
                (200, bx(100.0)),
                (300, bx(95.0)),
                (400, bx(99.0)),
                (900, bx(60.0)),
            ],
        };
        let cfg = PlatePassConfig {
            frames_per_track: 3,
            min_gap_ms: 150,
            min_vehicle_width_px: 160.0,
            ..PlatePassConfig::default()
        };
        // Scale 2: boxes >= 80 working px qualify.
        let p: Vec<i64> = pick_frames(&tube, 2.0, &cfg).iter().map(|x| x.0).collect();
        assert_eq!(p, vec![200, 400]);
        // Nothing wide enough at scale 1.
        assert!(pick_frames(&tube, 1.0, &cfg).is_empty());
    }

    #[test]
    fn crop_scales_and_clamps() {
        let data = (0..100 * 50 * 3).map(|i| (i % 256) as u8).collect();
        let frame = RgbFrame::from_rgb(100, 50, data, 5);
        let c = crop(
            &frame,
            &BBox {
                x: 40.0,
                y: 20.0,
                w: 20.0,
                h: 10.0,
            },
            2.0,
            0.0,
        )
        .unwrap();
        assert_eq!((c.width, c.height), (20, 10));
        assert_eq!(&c.rgb[..3], &frame.data[(40 * 100 + 80) * 3..][..3]);
    }
}
