//! The detector: one ONNX Runtime session (one per worker), preprocessing buffers reused
//! from frame to frame.

use vigie_core::riders::Seat;
use vigie_core::{AlertSink, RgbFrame};
use vigie_policy::{ids, AllowedModelId, Labels, ModelSession, Resize, SessionConfig, Task};

use crate::crops::{merge_windows, Window};
use crate::gfl::{decode_level, Candidate, Level, REG_BINS, STRIDES};
use crate::nms::nms_per_class;
use crate::preprocess::Preprocessor;
use crate::ridden::keep_ridden;
use crate::{DetectError, Detection};

/// Classes kept by default: what CCTV searches are about.
pub const CCTV_CLASSES: [&str; 6] = ["person", "bicycle", "car", "motorcycle", "bus", "truck"];

/// Validated detector settings (built once, see [`DetectorConfig::validate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Allowlisted object detector to use (default NanoDet COCO 416; callers that know the
    /// frame size choose with [`crate::detector_model_for`]).
    pub model: AllowedModelId,
    /// Class names to keep (default [`CCTV_CLASSES`]); empty = every class.
    pub classes: Vec<String>,
    /// Minimum class score, in (0, 1).
    pub score_threshold: f32,
    /// A bicycle or motorcycle box scoring at least this (and under `score_threshold`) is
    /// kept when a person scoring `score_threshold` sits on it ([`crate::ridden`]), in
    /// (0, 1); at `score_threshold` or above, no weak box is kept. Default 0.2.
    pub ridden_score_min: f32,
    /// IoU above which a lower-scoring box of the same class is suppressed, in (0, 1].
    pub nms_iou: f32,
    /// At most this many detections per frame.
    pub max_detections: usize,
    pub session: SessionConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            model: ids::NANODET_COCO_416,
            classes: CCTV_CLASSES.iter().map(|s| s.to_string()).collect(),
            score_threshold: 0.35,
            ridden_score_min: 0.2,
            nms_iou: 0.6,
            max_detections: 200,
            session: SessionConfig::default(),
        }
    }
}

impl DetectorConfig {
    /// Check the settings against the model; returns the class mask (one flag per label).
    pub fn validate(&self) -> Result<Vec<bool>, DetectError> {
        let spec = self.model.spec();
        if spec.task != Task::ObjectDetection {
            return Err(DetectError::BadConfig(format!(
                "model '{}' is a {} model, not an object detector; choose one listed by `vigie models` with task object_detection",
                spec.id,
                spec.task.as_str()
            )));
        }
        let Labels::Inline(labels) = spec.labels else {
            return Err(DetectError::BadConfig(format!(
                "model '{}' declares no class labels",
                spec.id
            )));
        };
        if !matches!(spec.preprocess.resize, Resize::Stretch | Resize::Letterbox) {
            return Err(DetectError::BadConfig(format!(
                "model '{}' declares resize '{:?}'; the detector supports stretch and letterbox",
                spec.id, spec.preprocess.resize
            )));
        }
        if !(self.score_threshold > 0.0 && self.score_threshold < 1.0) {
            return Err(DetectError::BadConfig(format!(
                "score threshold {} (expected > 0 and < 1)",
                self.score_threshold
            )));
        }
        if !(self.ridden_score_min > 0.0 && self.ridden_score_min < 1.0) {
            return Err(DetectError::BadConfig(format!(
                "ridden two-wheeler score {} (expected > 0 and < 1)",
                self.ridden_score_min
            )));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return Err(DetectError::BadConfig(format!(
                "NMS IoU {} (expected > 0 and <= 1)",
                self.nms_iou
            )));
        }
        if self.max_detections == 0 {
            return Err(DetectError::BadConfig(
                "max detections 0 (expected >= 1)".into(),
            ));
        }
        if self.classes.is_empty() {
            return Ok(vec![true; labels.len()]);
        }
        let mut keep = vec![false; labels.len()];
        for name in &self.classes {
            let want = name.trim().to_lowercase();
            match labels.iter().position(|l| *l == want) {
                Some(i) => keep[i] = true,
                None => {
                    return Err(DetectError::UnknownClass {
                        name: name.clone(),
                        known: labels.join(", "),
                    })
                }
            }
        }
        Ok(keep)
    }
}

/// Which output holds what, found once from the declared shapes.
#[derive(Debug, Clone)]
struct OutputMap {
    /// Per stride: (stride, grid_w, scores output index, boxes output index).
    levels: Vec<(u32, usize, usize, usize)>,
}

fn map_outputs(model: AllowedModelId, classes: usize) -> Result<OutputMap, DetectError> {
    let spec = model.spec();
    let (w, h) = (
        spec.preprocess.width as usize,
        spec.preprocess.height as usize,
    );
    let mut levels = Vec::new();
    for stride in STRIDES {
        let gw = w.div_ceil(stride as usize);
        let cells = (gw * h.div_ceil(stride as usize)) as i64;
        let find = |last: i64| {
            spec.outputs
                .iter()
                .position(|t| t.shape.len() == 3 && t.shape[1] == cells && t.shape[2] == last)
                .ok_or_else(|| {
                    DetectError::ModelOutput(format!(
                        "no output of shape [1, {cells}, {last}] for stride {stride} (outputs: {:?})",
                        spec.outputs.iter().map(|t| (t.name, t.shape)).collect::<Vec<_>>()
                    ))
                })
        };
        levels.push((
            stride,
            gw,
            find(classes as i64)?,
            find((4 * REG_BINS) as i64)?,
        ));
    }
    Ok(OutputMap { levels })
}

/// Per class (output order), the class whose boxes it is suppressed with: itself, or for
/// the motor-vehicle family (`car`, `truck`, `bus`: [`vigie_core::classes`]) the family's
/// first class in the model's labels. NanoDet's class scores are independent, so a van
/// gets a `car` box and a `truck` box at the same place; per-class suppression kept both,
/// and every such pair was one false positive (on the street CCTV frames, truck precision
/// 0.15 → 0.71 and any-vehicle precision 0.56 → 0.71 at the same any-vehicle recall, once
/// the family is suppressed together; doc/models.md). The better-scoring label stays.
pub fn nms_groups(labels: &[&str]) -> Vec<u16> {
    let family = |l: &str| vigie_core::classes::MOTOR_VEHICLE_FAMILY.contains(&l);
    let first = labels.iter().position(|l| family(l));
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| match first {
            Some(f) if family(l) => f as u16,
            _ => i as u16,
        })
        .collect()
}

/// A NanoDet detector bound to one session.
#[derive(Debug)]
pub struct Detector {
    session: ModelSession,
    labels: &'static [&'static str],
    /// Per class, the lowest score decoded (infinite: the class is not kept).
    min_score: Vec<f32>,
    /// Per class, the class id its boxes are suppressed with ([`nms_groups`]).
    nms_group: Vec<u16>,
    config: DetectorConfig,
    outputs: OutputMap,
    pre: Preprocessor,
    input: Vec<f32>,
    /// Window pixels cut from the frame, reused from run to run.
    crops: Vec<RgbFrame>,
}

impl Detector {
    /// Open the detector (its model is hash-checked by vigie-policy; refusals raise an
    /// alert on `alerts`).
    pub fn new(config: DetectorConfig, alerts: &dyn AlertSink) -> Result<Self, DetectError> {
        let keep = config.validate()?;
        let spec = config.model.spec();
        let Labels::Inline(labels) = spec.labels else {
            unreachable!("checked by validate")
        };
        let outputs = map_outputs(config.model, labels.len())?;
        let session = ModelSession::open(config.model, &config.session, alerts)?;
        // Weak two-wheelers are decoded only where a rider can vouch for them.
        let riders_kept = labels
            .iter()
            .zip(&keep)
            .any(|(l, &k)| k && *l == vigie_core::riders::RIDER_CLASS);
        let weak = config.ridden_score_min.min(config.score_threshold);
        let min_score = labels
            .iter()
            .zip(&keep)
            .map(|(l, &k)| match k {
                false => f32::INFINITY,
                true if riders_kept && vigie_core::riders::ridable(l) => weak,
                true => config.score_threshold,
            })
            .collect();
        Ok(Detector {
            session,
            labels,
            min_score,
            nms_group: nms_groups(labels),
            outputs,
            pre: Preprocessor::new(spec.preprocess),
            input: Vec::new(),
            crops: Vec::new(),
            config,
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Class names in output order.
    pub fn labels(&self) -> &'static [&'static str] {
        self.labels
    }

    /// Detect objects in one frame.
    pub fn detect(&mut self, frame: &RgbFrame) -> Result<Vec<Detection>, DetectError> {
        Ok(self.detect_batch(&[frame])?.pop().unwrap_or_default())
    }

    /// Detect objects in several frames with one inference call (when the model's batch
    /// dimension is dynamic, as for the NanoDet entry; a model declaring batch 1 is run
    /// frame by frame). Results are in input order. Batches trade latency for throughput;
    /// for several cores, also run one `Detector` per worker thread.
    pub fn detect_batch(
        &mut self,
        frames: &[&RgbFrame],
    ) -> Result<Vec<Vec<Detection>>, DetectError> {
        for f in frames {
            check_frame(f)?;
        }
        let fixed_batch = self.config.model.spec().inputs[0].shape.first() == Some(&1);
        let chunk = if fixed_batch { 1 } else { frames.len().max(1) };
        let mut results = Vec::with_capacity(frames.len());
        for group in frames.chunks(chunk) {
            self.run_group(group, &mut results)?;
        }
        Ok(results)
    }

    /// The network's input size (width, height): the largest window at scale 1.
    pub fn input_size(&self) -> (u32, u32) {
        self.pre.input_size()
    }

    /// Detect objects in `windows` of `frame` ([`crate::crops`]: each at scale 1, one
    /// batch item each, in one inference call), boxes in frame pixels: a box cut by a
    /// window's inner edge gives way to the same object whole in another window, then the
    /// windows' duplicates are merged by NMS (per class, car/truck/bus as one group).
    /// Windows must lie inside the frame.
    pub fn detect_windows(
        &mut self,
        frame: &RgbFrame,
        windows: &[Window],
    ) -> Result<Vec<Detection>, DetectError> {
        check_frame(frame)?;
        if let Some(w) = windows
            .iter()
            .find(|w| w.w == 0 || w.h == 0 || w.x + w.w > frame.width || w.y + w.h > frame.height)
        {
            return Err(DetectError::BadConfig(format!(
                "crop window {}x{} at ({}, {}) is empty or outside the {}x{} frame",
                w.w, w.h, w.x, w.y, frame.width, frame.height
            )));
        }
        let mut crops = std::mem::take(&mut self.crops);
        crops.resize_with(windows.len(), || RgbFrame {
            index: 0,
            pts_ms: 0,
            wall_ms: None,
            is_keyframe: false,
            width: 0,
            height: 0,
            data: Vec::new(),
        });
        for (w, c) in windows.iter().zip(crops.iter_mut()) {
            w.cut(frame, c);
        }
        let refs: Vec<&RgbFrame> = crops.iter().collect();
        let per_crop = self.detect_batch(&refs);
        self.crops = crops;
        let per_window: Vec<(Window, Vec<Detection>)> = windows
            .iter()
            .copied()
            .zip(per_crop?)
            .map(|(w, dets)| {
                let dets = dets
                    .into_iter()
                    .map(|d| Detection {
                        bbox_in_frame: w.to_frame(d.bbox_in_frame),
                        ..d
                    })
                    .collect();
                (w, dets)
            })
            .collect();
        let (iou, max) = (self.config.nms_iou, self.config.max_detections);
        let group = &self.nms_group;
        let merged = merge_windows(
            per_window,
            frame.width,
            frame.height,
            |d| d.bbox_in_frame,
            |all| {
                nms_per_class(
                    all,
                    |d| (group[d.class_id as usize], d.score, d.bbox_in_frame),
                    iou,
                    max,
                )
            },
        );
        // Weak two-wheelers were judged window by window: judged again on the whole frame
        // (a weak box only ever loses here).
        Ok(keep_ridden(
            merged,
            self.config.score_threshold,
            &Seat::default(),
        ))
    }

    fn run_group(
        &mut self,
        frames: &[&RgbFrame],
        results: &mut Vec<Vec<Detection>>,
    ) -> Result<(), DetectError> {
        let (w, h) = self.pre.input_size();
        let per_frame = 3 * w as usize * h as usize;
        // `run_into` writes every value: no clearing (a 2 MB memset per frame).
        self.input.resize(per_frame * frames.len(), 0.0);
        for (f, out) in frames.iter().zip(self.input.chunks_exact_mut(per_frame)) {
            self.pre.run_into(f, out);
        }
        let shape = [frames.len(), 3, h as usize, w as usize];
        // The outputs are decoded where ONNX Runtime left them (no copy).
        let Detector {
            session,
            labels,
            min_score,
            nms_group,
            config,
            outputs: map,
            pre,
            input,
            ..
        } = self;
        session.run_with(&[(&shape, input)], |outputs| {
            for (b, frame) in frames.iter().enumerate() {
                let mut cands: Vec<Candidate> = Vec::new();
                for &(stride, grid_w, si, bi) in &map.levels {
                    let item = |i: usize| {
                        let data = outputs[i].data;
                        let len = data.len() / frames.len();
                        &data[b * len..(b + 1) * len]
                    };
                    let level = Level {
                        stride,
                        grid_w,
                        scores: item(si),
                        boxes: item(bi),
                        classes: labels.len(),
                    };
                    decode_level(&level, min_score, w as f32, h as f32, &mut cands);
                }
                let kept = nms_per_class(
                    cands,
                    |c| (nms_group[c.class_id as usize], c.score, c.bbox_in_input),
                    config.nms_iou,
                    config.max_detections,
                );
                // Back to frame pixels: minus the padding offset, divided by the scale,
                // clipped to the frame; a box lying wholly in the padding is dropped.
                let g = pre.geometry(frame.width, frame.height);
                let dets = kept
                    .into_iter()
                    .map(|c| Detection {
                        class_id: c.class_id,
                        label: labels[c.class_id as usize],
                        score: c.score,
                        bbox_in_frame: g.to_frame(c.bbox_in_input),
                        rider_score: None,
                    })
                    .filter(|d| d.bbox_in_frame.w > 0.0 && d.bbox_in_frame.h > 0.0)
                    .collect();
                // Weak two-wheelers stay only under a sure rider.
                results.push(keep_ridden(dets, config.score_threshold, &Seat::default()));
            }
        })?;
        Ok(())
    }
}

fn check_frame(frame: &RgbFrame) -> Result<(), DetectError> {
    let expected = frame.width as usize * frame.height as usize * 3;
    if frame.width == 0 || frame.height == 0 || frame.data.len() != expected {
        return Err(DetectError::BadFrame {
            index: frame.index,
            width: frame.width,
            height: frame.height,
            len: frame.data.len(),
            expected,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_van_boxed_as_car_and_truck_keeps_one_box_persons_and_bicycles_stay_apart() {
        let Labels::Inline(labels) = ids::NANODET_COCO_416.spec().labels else {
            panic!("NanoDet declares its labels")
        };
        let group = nms_groups(labels);
        let id = |l: &str| labels.iter().position(|x| *x == l).unwrap() as u16;
        assert_eq!(group[id("truck") as usize], id("car"));
        assert_eq!(group[id("bus") as usize], id("car"));
        assert_eq!(group[id("person") as usize], id("person"));
        assert_eq!(group[id("bicycle") as usize], id("bicycle"));
        assert_eq!(group[id("motorcycle") as usize], id("motorcycle"));
        let b = |x: f32| crate::BBox {
            x,
            y: 10.0,
            w: 80.0,
            h: 50.0,
        };
        // (class, score, box): a van (car 0.6, truck 0.4), a rider (person on bicycle), a
        // car beside the van.
        let boxes = vec![
            (id("truck"), 0.4, b(0.0)),
            (id("car"), 0.6, b(2.0)),
            (id("person"), 0.7, b(300.0)),
            (id("bicycle"), 0.5, b(301.0)),
            (id("car"), 0.5, b(100.0)),
        ];
        let kept = nms_per_class(boxes, |&(c, s, bb)| (group[c as usize], s, bb), 0.6, 100);
        let classes: Vec<u16> = kept.iter().map(|k| k.0).collect();
        assert_eq!(
            classes,
            vec![id("person"), id("car"), id("bicycle"), id("car")],
            "the truck box on the van goes; the better-scoring car box stays"
        );
    }

    #[test]
    fn each_nanodet_size_maps_its_declared_outputs_to_strides() {
        // (stride, grid width, scores output, boxes output): the manifest's
        // Identity..Identity_5 order, found from the declared anchor counts.
        let m = map_outputs(ids::NANODET_COCO_416, 80).unwrap();
        assert_eq!(m.levels, [(8, 52, 0, 3), (16, 26, 1, 4), (32, 13, 2, 5)]);
        let m = map_outputs(ids::NANODET_COCO_512X288, 80).unwrap();
        assert_eq!(m.levels, [(8, 64, 0, 3), (16, 32, 1, 4), (32, 16, 2, 5)]);
        let spec = ids::NANODET_COCO_512X288.spec();
        assert_eq!(spec.inputs[0].shape, [-1, 3, 288, 512]);
        assert_eq!(spec.preprocess.resize, Resize::Letterbox);
        // Same weights, same labels and normalisation as the 416 entry.
        let square = ids::NANODET_COCO_416.spec();
        assert_eq!(
            (spec.preprocess.mean, spec.preprocess.std),
            (square.preprocess.mean, square.preprocess.std)
        );
        assert!(matches!(
            (spec.labels, square.labels),
            (Labels::Inline(a), Labels::Inline(b)) if a == b
        ));
        DetectorConfig {
            model: ids::NANODET_COCO_512X288,
            ..DetectorConfig::default()
        }
        .validate()
        .unwrap();
    }
}
