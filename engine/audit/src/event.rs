//! Typed audit events: one serde type per kind of event, each in exactly one category.
//!
//! Why: free-form `json!` payloads let every writer invent its own keys, and the
//! exploitation report then had to guess them (it missed the synopsis files' hashes). Here
//! the writer builds an [`Event`], the log records it, and the report and the dossier read
//! the same type back with [`Event::from_entry`]: a field renamed on one side is a compile
//! error on the other.
//!
//! On disk an event is the entry's `params` (tagged with `"event": "<kind>"`); the entry's
//! `result` is `{"event_format": 1}`, which is how a reader tells a typed entry from one
//! written before typed events existed. Older entries keep verifying (their bytes are
//! never rewritten) and the report renders them through its legacy reader.
//!
//! Adding a kind or an optional field is additive; renaming or removing one is a format
//! change that needs a new `event_format`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entry::{Action, Entry};

/// The value of `result.event_format` in entries written from an [`Event`].
pub const EVENT_FORMAT: u64 = 1;

/// One file that left vigie or was read, cited by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// Where the file was written (or read), as given or resolved.
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    /// Whether the file lies inside the case's directory (erased at closure) or elsewhere
    /// (a disclosed copy vigie cannot erase).
    #[serde(default)]
    pub inside_case: bool,
}

/// A file erased at closure: its path inside the case, not its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedFile {
    pub path: String,
    pub bytes: u64,
}

/// Work that held the case when it was closed (closure with `--wait` stops it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningWork {
    pub command: String,
    pub operator: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
}

/// What kind of file an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// A source segment: redacted (re-encoded, with the source segment's hash and the
    /// redaction parameters in the detail), or copied without re-encoding in entries
    /// written before redaction existed.
    Clip,
    /// One frame as an image (redacted since redaction exists).
    Frame,
    /// A source segment copied without re-encoding and without redaction, on an explicit
    /// request with its justification (in the detail): bystanders and plates are shown.
    UnredactedClip,
    /// One frame as an image without redaction, on an explicit request with its
    /// justification.
    UnredactedFrame,
    /// A video synopsis with its index and WebVTT.
    Synopsis,
    /// A contact sheet of search results (redacted thumbnails written beside it, each
    /// hashed, since redaction exists).
    ContactSheet,
    /// A contact sheet linking the analysis's own thumbnails, on an explicit request
    /// with its justification.
    UnredactedSheet,
    /// Search results as CSV or JSON.
    SearchResults,
    /// An exploitation report.
    Report,
    /// A coverage timeline (SVG): which times each camera recorded, analysed or missed.
    CoverageTimeline,
}

/// One source added to the case at ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestedSource {
    pub source_id: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub path: String,
    /// False when the same bytes were already registered.
    pub added: bool,
    /// Wall-clock start of the recording, RFC 3339, when known.
    pub start_time: Option<String>,
    /// Where the start time came from (`container`, `operator`).
    pub start_time_origin: Option<String>,
    /// For an export cut before its index: the salvaged stream (its hash) and how its
    /// parameter sets were found. The source's own hash is `sha256`, of the untouched file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salvaged: Option<serde_json::Value>,
    /// The camera the source belongs to (absent in entries written before 0.2.1: the
    /// camera was then the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    /// How the camera was chosen: `operator` (given at ingest) or `proposed` (taken from
    /// the export's folder or channel name, to be confirmed with `vigie camera set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_origin: Option<String>,
}

/// What a clock correction did to one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEffect {
    pub source_id: String,
    pub recorded_start_wall_ms: Option<i64>,
    pub corrected_start_wall_ms: Option<i64>,
}

/// Every kind of event vigie records. The variant decides the category ([`Event::action`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    // ---- case lifecycle ---------------------------------------------------------------
    /// A case opened under a magistrate's authorisation.
    CaseOpened {
        procedure: String,
        authorization: String,
        magistrate: String,
        authorized_on: NaiveDate,
        valid_until: Option<NaiveDate>,
        retention_end: NaiveDate,
        purpose: String,
    },
    /// The magistrate renewed (extended) the authorisation: the only way to extend it.
    CaseRenewed {
        /// Reference of the renewal.
        authorization: String,
        valid_until: NaiveDate,
        previous_authorization: String,
        previous_valid_until: Option<NaiveDate>,
        retention_end: NaiveDate,
    },
    /// `case.json` rebuilt from the chain (it was missing, damaged or edited).
    CaseRecordRepaired {
        /// The fields that differed (empty when the file was missing or unreadable).
        fields: Vec<String>,
        was: String,
    },
    /// The machine log's record of a case log's head, at every lifecycle event, report
    /// and disclosure: a case log that later disappears, is reset, truncated or replaced no
    /// longer contains this point, and `vigie audit verify` says so.
    CaseLogHead {
        case_id: String,
        seq: u64,
        hash: String,
        /// Why the head was recorded (`opened`, `renewed`, `closed`, `report`...).
        at: String,
    },
    /// Closure (by an operator, or at expiry): what was erased and what could not be.
    CaseClosed {
        /// `closed` or `expired`.
        reason: String,
        erased_dirs: Vec<String>,
        erased: Vec<ErasedFile>,
        erased_files: u64,
        erased_bytes: u64,
        kept: Vec<String>,
        /// Copies disclosed outside the case's directory: vigie cannot erase them; their
        /// holders must.
        outside_copies: Vec<FileHash>,
        /// Work stopped by the closure (`case close --wait`).
        #[serde(default)]
        stopped_work: Vec<RunningWork>,
    },
    /// The machine log's record of a closure, citing the case log's erasure entry and the
    /// final report.
    CaseClosedSummary {
        reason: String,
        erased_files: u64,
        erased_bytes: u64,
        case_log_seq: u64,
        case_log_hash: String,
        final_report: Vec<FileHash>,
    },
    // ---- collection -------------------------------------------------------------------
    /// Footage registered as evidence.
    EvidenceIngested {
        sources: Vec<IngestedSource>,
        /// Files that could not be ingested, with why.
        failed: Vec<(String, String)>,
        /// Files found in directories that are not recordings, with why they were skipped.
        #[serde(default)]
        skipped: Vec<(String, String)>,
    },
    // ---- consultation -----------------------------------------------------------------
    /// The list of sources was read.
    SourcesListed { count: u64 },
    /// Sources re-hashed against their ingest hash.
    SourcesVerified {
        checked: u64,
        changed: Vec<String>,
        missing: Vec<String>,
    },
    /// A source decoded for its damage report.
    SourceDecoded {
        source_id: String,
        sha256: String,
        sampling: String,
        frames_decoded: u64,
        corrupt_packets: u64,
        truncated: bool,
    },
    /// The recorder's clock burned into the picture was read at a few points of a source
    /// (`vigie clock read`): advice only, nothing is corrected.
    ClockRead {
        source_id: String,
        sha256: String,
        points: u64,
        /// Each point: media time, the text read, the local time it gives, and whether it
        /// agrees with the others.
        readings: Vec<Value>,
        /// The correction proposed (a frame's media time and the local time it shows).
        proposed: Option<Value>,
        /// The clock's drift against media time, seconds per hour, when measurable.
        drift_s_per_h: Option<f64>,
    },
    /// The coverage of the case's footage was read: per camera, which wall-clock intervals
    /// were recorded, analysed, damaged or missing (`vigie coverage`).
    CoverageRead {
        /// Cameras shown.
        cameras: u64,
        /// The range asked for (wall-clock ms since the Unix epoch), when one.
        #[serde(default)]
        from_wall_ms: Option<i64>,
        #[serde(default)]
        to_wall_ms: Option<i64>,
    },
    /// A search of the case's index.
    Search {
        /// The query as the operator gave it (flag form).
        query: Value,
        count: u64,
        /// The query as vigie understood it (after parsing and normalisation).
        #[serde(default)]
        parsed: Value,
        /// How the results were shown (`table`, `json`, `csv`, `sheet`).
        #[serde(default)]
        output: Option<String>,
        /// The contact sheet written, when one (also a disclosure entry of its own).
        #[serde(default)]
        sheet: Option<String>,
        /// Whether the results were cut at the limit.
        #[serde(default)]
        truncated: bool,
        /// The tracks shown, `source_id#track_id`.
        #[serde(default)]
        tracks: Vec<String>,
    },
    /// Plates read on still images of the case.
    PlatesRead {
        images: Vec<FileHash>,
        /// What was read on each image (plate text or null), in the order of `images`.
        reads: Vec<Option<String>>,
    },
    /// Footage or labelled data processed outside any case, through the measurement door
    /// (benchmarks, evaluations): machine log only.
    Measurement {
        /// The command (`bench analyze`, `eval detect`...).
        command: String,
        /// What was computed: `decode timing`, `detections`, `tracks`, `plate reads`.
        computed: Vec<String>,
        /// Every input file, by hash.
        files: Vec<FileHash>,
        /// Why (the operator's reason, or the measurement's default).
        purpose: String,
    },
    // ---- model load -------------------------------------------------------------------
    /// An allowlisted model loaded (its id and compiled hash).
    ModelLoaded {
        model_id: String,
        sha256: String,
        task: String,
        device: String,
        /// The source it was loaded for, when one.
        source_id: Option<String>,
    },
    // ---- combination ------------------------------------------------------------------
    /// A source analysed into the index.
    SourceAnalysed {
        source_id: String,
        sha256: String,
        /// The analysis parameters (detector, sampling, width, gate, plates, scene).
        analysis: Value,
        tracks: u64,
        plates_read: u64,
        frames_analysed: u64,
        corrupt_packets: u64,
        truncated: bool,
    },
    /// A synopsis arranged from a source's tracks.
    SynopsisBuilt {
        source_id: String,
        sha256: String,
        filters: Option<Value>,
        figures: Value,
        tracks: Vec<u64>,
    },
    /// Work stopped before it wrote its results (closure, cancellation).
    WorkStopped {
        command: String,
        source_id: Option<String>,
        why: String,
    },
    // ---- disclosure -------------------------------------------------------------------
    /// Files that left vigie: every file with its hash and where it went.
    Exported {
        kind: ExportKind,
        source_id: Option<String>,
        source_sha256: Option<String>,
        /// What was exported (track, times, filters...).
        detail: Value,
        files: Vec<FileHash>,
    },
    // ---- alteration -------------------------------------------------------------------
    /// Derived data rebuilt or removed on the operator's request.
    DerivedDataChanged { what: String, detail: Value },
    /// Sources assigned to a camera (or their proposed camera confirmed).
    CameraAssigned {
        camera: String,
        /// Each source with the camera it had before (`None`: the file name).
        sources: Vec<(String, Option<String>)>,
    },
    /// A camera's zones and lines set (the scene file's text, so the log alone says what
    /// every later analysis of that camera used).
    CameraSceneSet {
        camera: String,
        scene_sha256: String,
        scene: String,
    },
    /// A recorder clock corrected (the entry's justification says why). Results, searches,
    /// synopses and reports use the last correction of a source, else of its camera.
    ClockCorrected {
        correction: vigie_core::clock::ClockCorrection,
        /// What was in force before, said for people (`None`: the recorder's clock).
        previous: Option<String>,
        /// The sources it moves: id, recorded start and corrected start (ms since the
        /// epoch, UTC).
        sources: Vec<ClockEffect>,
    },
    // ---- operator accounts (machine log; `vigie_app::accounts` replays them) -----------
    /// An operator account created. The first account of an installation is an
    /// administrator. `credential_sha256` is the SHA-256 of the password hash (PHC string)
    /// kept in `machine/credentials.json`: a hash there that is not this one is refused.
    OperatorAdded {
        operator_id: String,
        admin: bool,
        credential_sha256: String,
    },
    /// An operator account disabled (for good: ids are never reused).
    OperatorDisabled { operator_id: String },
    /// An operator's password replaced (by the operator or an administrator).
    OperatorPasswordSet {
        operator_id: String,
        credential_sha256: String,
    },
    /// An administrator let an operator enter a case.
    CaseAccessGranted {
        operator_id: String,
        case_id: String,
    },
    /// An administrator withdrew an operator's access to a case.
    CaseAccessRevoked {
        operator_id: String,
        case_id: String,
    },
    /// An operator's password was checked and accepted (a web session starts), from `peer`.
    OperatorLoggedIn { operator_id: String, peer: String },
    /// A session ended (`logout`, `idle`, `expired`...).
    OperatorLoggedOut {
        operator_id: String,
        peer: String,
        why: String,
    },
    /// A long-running front end (the web server) started under an operating-system
    /// account: its sessions have no operating-system account of their own.
    ServiceStarted {
        service: String,
        os_account: String,
        pid: u32,
    },
    /// A compute node's public key enrolled (`vigie node enroll`): shard results signed
    /// with its key can be merged into a case (machine log).
    NodeEnrolled {
        node: String,
        /// Ed25519 public key, 64 hex digits.
        public_key: String,
    },
    /// A node's enrolment withdrawn: its shard results are refused from now on.
    NodeRevoked { node: String },
    // ---- combination (cluster) -----------------------------------------------------------
    /// A shard result (sources analysed by `vigie analyze --shard` on a node) verified and
    /// merged into the case's index. The node's own entries follow, each naming the shard.
    ShardMerged {
        run: String,
        /// 0-based, as the scheduler's array index.
        shard: u32,
        count: u32,
        node: String,
        host: String,
        /// The shard's operator and reason, as the node signed them.
        operator: String,
        reason: Option<String>,
        started_at: String,
        finished_at: String,
        /// SHA-256 of the signed record (merging the same record again changes nothing).
        record_sha256: String,
        /// Sources imported, with their hashes.
        sources: Vec<(String, String)>,
        /// Sources the shard could not analyse, with the reason.
        failed: Vec<(String, String)>,
    },
    // ---- alert ------------------------------------------------------------------------
    /// Something refused or detected that the data controller must know about. Same keys
    /// as the alert entries written before typed events (`kind`, `message`, `details`).
    Alert {
        kind: vigie_core::AlertKind,
        message: String,
        details: std::collections::BTreeMap<String, String>,
    },
}

impl Event {
    /// The category of the event (directive 2016/680 art. 25, plus vigie's own).
    pub fn action(&self) -> Action {
        match self {
            Event::CaseOpened { .. } | Event::CaseRenewed { .. } | Event::CaseLogHead { .. } => {
                Action::Lifecycle
            }
            Event::CaseRecordRepaired { .. } => Action::Alteration,
            Event::CaseClosed { .. } | Event::CaseClosedSummary { .. } => Action::Erasure,
            Event::EvidenceIngested { .. } => Action::Collection,
            Event::SourcesListed { .. }
            | Event::SourcesVerified { .. }
            | Event::SourceDecoded { .. }
            | Event::ClockRead { .. }
            | Event::CoverageRead { .. }
            | Event::Search { .. }
            | Event::PlatesRead { .. }
            | Event::Measurement { .. } => Action::Consultation,
            Event::ModelLoaded { .. } => Action::ModelLoad,
            Event::SourceAnalysed { .. }
            | Event::SynopsisBuilt { .. }
            | Event::WorkStopped { .. } => Action::Combination,
            Event::Exported { .. } => Action::Disclosure,
            Event::DerivedDataChanged { .. }
            | Event::CameraAssigned { .. }
            | Event::CameraSceneSet { .. }
            | Event::ClockCorrected { .. } => Action::Alteration,
            Event::OperatorAdded { .. }
            | Event::OperatorDisabled { .. }
            | Event::OperatorPasswordSet { .. }
            | Event::CaseAccessGranted { .. }
            | Event::CaseAccessRevoked { .. }
            | Event::OperatorLoggedIn { .. }
            | Event::OperatorLoggedOut { .. }
            | Event::ServiceStarted { .. }
            | Event::NodeEnrolled { .. }
            | Event::NodeRevoked { .. } => Action::Lifecycle,
            Event::ShardMerged { .. } => Action::Combination,
            Event::Alert { .. } => Action::Alert,
        }
    }

    /// The event's kind as written in `params.event`.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        }
    }

    /// The entry's `params` for this event.
    pub fn to_params(&self) -> Value {
        serde_json::to_value(self).expect("an event serialises")
    }

    /// The entry's `result` for a typed event.
    pub fn result_marker() -> Value {
        serde_json::json!({ "event_format": EVENT_FORMAT })
    }

    /// The typed event an entry records, or `None` for entries written before typed
    /// events (or by a newer vigie with a kind this one does not know).
    pub fn from_entry(entry: &Entry) -> Option<Event> {
        if entry.result.get("event_format").and_then(Value::as_u64) != Some(EVENT_FORMAT) {
            return None;
        }
        serde_json::from_value(entry.params.clone()).ok()
    }

    /// Every file an event names with its hash (the disclosures' files for the report).
    pub fn files(&self) -> &[FileHash] {
        match self {
            Event::Exported { files, .. } | Event::Measurement { files, .. } => files,
            Event::PlatesRead { images, .. } => images,
            Event::CaseClosed { outside_copies, .. } => outside_copies,
            Event::CaseClosedSummary { final_report, .. } => final_report,
            _ => &[],
        }
    }
}

/// Who records an event and in which case: everything of an entry but the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorder {
    pub operator: String,
    pub case: Option<String>,
    pub procedure: Option<String>,
    pub justification: String,
}

impl Recorder {
    /// The [`crate::NewEntry`] recording `event`.
    pub fn entry(&self, event: &Event) -> crate::NewEntry {
        crate::NewEntry {
            operator: self.operator.clone(),
            case: self.case.clone(),
            procedure: self.procedure.clone(),
            action: event.action(),
            params: event.to_params(),
            justification: self.justification.clone(),
            result: Event::result_marker(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_for(event: &Event) -> Entry {
        let r = Recorder {
            operator: "op".into(),
            case: Some("C1".into()),
            procedure: Some("2026/1".into()),
            justification: "test".into(),
        };
        let n = r.entry(event);
        Entry {
            seq: 1,
            time: Utc::now(),
            operator: n.operator,
            case: n.case,
            procedure: n.procedure,
            action: n.action,
            params: n.params,
            justification: n.justification,
            result: n.result,
            software_version: "t".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn an_event_round_trips_through_an_entry() {
        let ev = Event::Exported {
            kind: ExportKind::Synopsis,
            source_id: Some("S1".into()),
            source_sha256: Some("ab".into()),
            detail: serde_json::json!({ "length_s": 10 }),
            files: vec![FileHash {
                path: "exports/s.mp4".into(),
                sha256: "cd".into(),
                size_bytes: 3,
                inside_case: true,
            }],
        };
        let e = entry_for(&ev);
        assert_eq!(e.action, Action::Disclosure);
        assert_eq!(e.params["event"], "exported");
        assert_eq!(Event::from_entry(&e), Some(ev.clone()));
        assert_eq!(ev.files().len(), 1);
        assert_eq!(ev.kind(), "exported");
    }

    #[test]
    fn legacy_entries_are_not_typed() {
        let mut e = entry_for(&Event::SourcesListed { count: 2 });
        e.result = serde_json::json!({ "count": 2 });
        assert_eq!(Event::from_entry(&e), None);
    }

    #[test]
    fn alerts_keep_their_legacy_keys() {
        let e = entry_for(&Event::Alert {
            kind: vigie_core::AlertKind::ModelRefused,
            message: "m".into(),
            details: Default::default(),
        });
        assert_eq!(e.params["kind"], "model_refused");
        assert_eq!(e.params["message"], "m");
        assert_eq!(e.action, Action::Alert);
    }
}
