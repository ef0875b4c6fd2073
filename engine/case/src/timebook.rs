//! Cameras and clock corrections, as the case's audit chain records them.
//!
//! Why in the chain and nowhere else: a clock correction moves every result in time and a
//! camera assignment decides which footage a "camera 2" search covers; both change what an
//! investigator concludes. Kept in a side file they could be edited without trace. They
//! are therefore only entries of the case's log (the camera in the collection entry,
//! then `camera_assigned` and `clock_corrected` alteration entries with the operator and
//! the reason), replayed here on each use: the history is the log itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use vigie_audit::event::Event;
use vigie_audit::Entry;
use vigie_core::clock::{ClockCorrection, ClockFix, ClockScope};
use vigie_evidence::SourceRecord;

/// How a source's camera was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraOrigin {
    /// Given or confirmed by an operator.
    Operator,
    /// Proposed from the export's folder or channel name, not yet confirmed.
    Proposed,
}

impl CameraOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            CameraOrigin::Operator => "operator",
            CameraOrigin::Proposed => "proposed",
        }
    }
}

/// One correction with who made it, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRecord {
    pub correction: ClockCorrection,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub reason: String,
}

impl CorrectionRecord {
    /// `#12 offset +1m30s (camera C2) by alice on 2024-06-02: reason`.
    pub fn describe(&self) -> String {
        format!(
            "#{} {} by {} on {}: {}",
            self.seq,
            self.correction.describe(),
            self.operator,
            self.at.format("%Y-%m-%d %H:%M UTC"),
            self.reason
        )
    }
}

/// The cameras and corrections of a case's sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeBook {
    cameras: BTreeMap<String, (String, CameraOrigin)>,
    by_source: BTreeMap<String, Vec<CorrectionRecord>>,
    by_camera: BTreeMap<String, Vec<CorrectionRecord>>,
    /// Each camera's zones and lines (scene file text, its hash, the entry).
    scenes: BTreeMap<String, (String, String, u64)>,
}

impl TimeBook {
    /// Replay a case's log.
    pub fn replay(entries: &[Entry]) -> Self {
        let mut book = TimeBook::default();
        for e in entries {
            book.add(e);
        }
        book
    }

    /// Take one more entry into account (in log order).
    pub fn add(&mut self, e: &Entry) {
        match Event::from_entry(e) {
            Some(Event::EvidenceIngested { sources, .. }) => {
                for s in sources {
                    let Some(camera) = s.camera else { continue };
                    let origin = match s.camera_origin.as_deref() {
                        Some("operator") => CameraOrigin::Operator,
                        _ => CameraOrigin::Proposed,
                    };
                    // A re-ingest of known bytes does not move the source to another camera.
                    self.cameras.entry(s.source_id).or_insert((camera, origin));
                }
            }
            Some(Event::CameraAssigned { camera, sources }) => {
                for (id, _) in sources {
                    self.cameras
                        .insert(id, (camera.clone(), CameraOrigin::Operator));
                }
            }
            Some(Event::CameraSceneSet {
                camera,
                scene_sha256,
                scene,
            }) => {
                self.scenes.insert(camera, (scene, scene_sha256, e.seq));
            }
            Some(Event::ClockCorrected { correction, .. }) => {
                let rec = CorrectionRecord {
                    seq: e.seq,
                    at: e.time,
                    operator: e.operator.clone(),
                    reason: e.justification.clone(),
                    correction: correction.clone(),
                };
                match correction.scope {
                    ClockScope::Source { source_id } => {
                        self.by_source.entry(source_id).or_default().push(rec)
                    }
                    ClockScope::Camera { camera } => {
                        self.by_camera.entry(camera).or_default().push(rec)
                    }
                }
            }
            _ => {}
        }
    }

    /// The camera recorded for a source (`None` for sources ingested before cameras were
    /// recorded: their camera is their file name).
    pub fn camera_of(&self, source_id: &str) -> Option<(&str, CameraOrigin)> {
        self.cameras.get(source_id).map(|(c, o)| (c.as_str(), *o))
    }

    /// A camera's zones and lines: the scene file's text and hash (`None`: none set).
    pub fn scene_of(&self, camera: &str) -> Option<(&str, &str)> {
        self.scenes
            .get(camera)
            .map(|(t, h, _)| (t.as_str(), h.as_str()))
    }

    /// Every camera named in the log (assigned a source, corrected or given a scene).
    pub fn cameras(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .cameras
            .values()
            .map(|(c, _)| c.clone())
            .chain(self.by_camera.keys().cloned())
            .chain(self.scenes.keys().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The correction in force for a source of `camera`: the source's own last one, else
    /// its camera's last one; a withdrawal (`revert`) ends the scope's correction.
    pub fn in_force(&self, source_id: &str, camera: &str) -> Option<&CorrectionRecord> {
        let own = self.by_source.get(source_id).and_then(|v| v.last());
        if let Some(r) = own {
            if r.correction.fix != ClockFix::Revert {
                return Some(r);
            }
        }
        self.by_camera
            .get(camera)
            .and_then(|v| v.last())
            .filter(|r| r.correction.fix != ClockFix::Revert)
    }

    /// Every correction that ever concerned a source of `camera`, in log order.
    pub fn history(&self, source_id: &str, camera: &str) -> Vec<&CorrectionRecord> {
        let mut all: Vec<&CorrectionRecord> = self
            .by_source
            .get(source_id)
            .into_iter()
            .flatten()
            .chain(self.by_camera.get(camera).into_iter().flatten())
            .collect();
        all.sort_by_key(|r| r.seq);
        all
    }

    /// A source's camera and clock as this book says.
    pub fn timing(&self, rec: &SourceRecord) -> SourceTiming {
        SourceTiming::from_book(rec, self)
    }

    /// Every correction of the case, in log order.
    pub fn all(&self) -> Vec<&CorrectionRecord> {
        let mut all: Vec<&CorrectionRecord> = self
            .by_source
            .values()
            .chain(self.by_camera.values())
            .flatten()
            .collect();
        all.sort_by_key(|r| r.seq);
        all
    }
}

// ---- a source's timing ----------------------------------------------------------------

/// A source's camera and clock.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceTiming {
    pub source_id: String,
    /// The camera the source belongs to.
    pub camera: String,
    /// Wall-clock time of the first frame (ms since the Unix epoch, UTC), after the clock
    /// correction in force; `None` when it is not known.
    pub start_wall_ms: Option<i64>,
    /// The start as recorded at ingest (the recorder's container, or the operator's
    /// `--start`), before any correction.
    pub recorded_start_wall_ms: Option<i64>,
    /// The correction in force, said for people; `None` when none.
    pub correction: Option<String>,
    /// The IANA time zone local times are shown in (`None`: UTC).
    pub time_zone: Option<String>,
    /// How the camera was chosen: `operator`, `proposed` (from the export's folder or
    /// channel name, unconfirmed) or `file_name` (sources ingested before cameras were).
    pub camera_origin: &'static str,
    /// The correction in force, with who made it, when and why.
    pub in_force: Option<CorrectionRecord>,
    /// What applying the correction had to decide (said wherever the times are shown).
    pub notes: Vec<String>,
}

impl SourceTiming {
    /// Timing from the registry record alone (no correction, camera from the file name).
    pub fn recorded(rec: &SourceRecord) -> Self {
        let start = rec.meta.start_time.map(|s| s.epoch_ms());
        Self {
            source_id: rec.source_id.clone(),
            camera: rec
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| rec.source_id.clone()),
            start_wall_ms: start,
            recorded_start_wall_ms: start,
            correction: None,
            time_zone: None,
            camera_origin: "file_name",
            in_force: None,
            notes: Vec::new(),
        }
    }

    /// Timing from the registry record and the case's time book (the chain's cameras and
    /// corrections).
    pub fn from_book(rec: &SourceRecord, book: &TimeBook) -> Self {
        let mut t = Self::recorded(rec);
        if let Some((camera, origin)) = book.camera_of(&rec.source_id) {
            t.camera = camera.to_owned();
            t.camera_origin = origin.as_str();
        }
        if let Some(r) = book.in_force(&rec.source_id, &t.camera) {
            match r.correction.apply(t.recorded_start_wall_ms) {
                Ok(applied) => {
                    t.start_wall_ms = applied.start_wall_ms;
                    t.notes = applied.notes;
                }
                // Corrections are checked when made; one that cannot apply (a zone this
                // build does not know) leaves the recorder's clock, said.
                Err(e) => t
                    .notes
                    .push(format!("correction #{} not applied: {e}", r.seq)),
            }
            t.correction = Some(r.describe());
            t.time_zone = r.correction.time_zone.clone();
            t.in_force = Some(r.clone());
        }
        t
    }

    /// The zone, parsed (`None`: UTC).
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.time_zone
            .as_deref()
            .and_then(|z| vigie_core::clock::parse_zone(z).ok())
    }

    /// A wall-clock time shown in the source's zone, with its UTC offset.
    pub fn show(&self, wall_ms: i64) -> String {
        vigie_core::clock::format_local(wall_ms, self.zone().as_ref())
    }

    /// The corrected start as a time with the UTC offset in force at that moment (the
    /// zone's, else the recorded start's, else UTC).
    pub fn start_fixed(
        &self,
        recorded: Option<chrono::DateTime<chrono::FixedOffset>>,
    ) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        use chrono::{Offset, TimeZone};
        let utc = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(self.start_wall_ms?)?;
        let offset = match (self.zone(), recorded) {
            (Some(z), _) => z.offset_from_utc_datetime(&utc.naive_utc()).fix(),
            (None, Some(r)) => *r.offset(),
            (None, None) => chrono::FixedOffset::east_opt(0).expect("zero offset"),
        };
        Some(utc.with_timezone(&offset))
    }

    /// Whether the corrected clock differs from the recorded one (both are then shown).
    pub fn is_corrected(&self) -> bool {
        self.start_wall_ms != self.recorded_start_wall_ms
    }

    /// The daylight-saving changes inside `[start, start + duration_ms]`, said for people.
    pub fn offset_changes(&self, duration_ms: i64) -> Vec<String> {
        let (Some(zone), Some(start)) = (self.zone(), self.start_wall_ms) else {
            return Vec::new();
        };
        vigie_core::clock::offset_changes(&zone, start, start + duration_ms)
            .iter()
            .map(|c| c.describe(&zone))
            .collect()
    }

    /// The corrected wall-clock time of media time `pts_ms`.
    pub fn wall_ms(&self, pts_ms: i64) -> Option<i64> {
        self.start_wall_ms.map(|s| s + pts_ms)
    }
}
