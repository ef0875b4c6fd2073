//! The exploitation report: what was done in a case, by whom, on which footage, with which
//! models, and whether the record of it is intact.
//!
//! Built only from the case's own files (case.json, the evidence registry, the audit log
//! and its verification), never from memory of the running process, so any later run
//! gives the same report for the same log. Written as JSON (for tools) and as one
//! self-contained HTML page (inline CSS, no script, no external resource) that prints to
//! PDF from any browser and can be attached to the procedure file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigie_audit::event::{Event, FileHash};
use vigie_audit::{Action, Clock, Entry, Verification};

use crate::error::{io_err, CaseError};
use crate::meta::CaseMeta;
use crate::root::DataRoot;

const REPORT_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub generated_at: DateTime<Utc>,
    pub software_version: String,
    pub case: CaseMeta,
    pub retention_end: NaiveDate,
    pub operators: Vec<OperatorRow>,
    pub sources: Vec<SourceRow>,
    pub models: Vec<ModelRow>,
    pub searches: Vec<SearchRow>,
    pub exports: Vec<ExportRow>,
    pub erasures: Vec<ActionRow>,
    pub alerts: Vec<AlertRow>,
    /// Entries per action category.
    pub entries_by_action: BTreeMap<String, u64>,
    pub audit: AuditSection,
    /// Per camera, which wall-clock intervals were recorded, analysed, damaged or missing
    /// (absent in reports written before it, and when the case has no index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageSection>,
    /// Every clock correction of the case, in log order (results use the last one of a
    /// source, else of its camera).
    #[serde(default)]
    pub clock_corrections: Vec<ClockRow>,
    /// Shard results of `vigie analyze --shard` merged into the case: which node, host
    /// and operator analysed which sources, and when.
    #[serde(default)]
    pub shards: Vec<ShardRow>,
    /// What the models the case loaded were measured to find, so that a search with no
    /// result is read for what it is (absent in reports written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSection>,
}

/// One shard result merged into the case (a `shard_merged` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRow {
    pub seq: u64,
    /// When it was merged.
    pub merged_at: DateTime<Utc>,
    pub merged_by: String,
    pub run: String,
    /// `I/N`, 0-based.
    pub shard: String,
    pub node: String,
    pub host: String,
    pub operator: String,
    pub started_at: String,
    pub finished_at: String,
    pub sources: Vec<String>,
    pub failed: Vec<String>,
    pub record_sha256: String,
}

/// One model's measured quality on one data set, as compiled into vigie
/// (`models/measured.toml`); the application layer hands these to the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredQuality {
    pub model_id: String,
    /// The SHA-256 of the bytes measured.
    pub sha256: String,
    /// `reproducible` (public test data under ../shared, re-checked by vigie's tests) or
    /// `held_out` (measured elsewhere, as reported).
    pub kind: String,
    pub dataset: String,
    pub split: String,
    pub images: Option<u64>,
    pub iou: f32,
    pub score_threshold: f32,
    pub vigie_version: String,
    pub command: String,
    pub date: String,
    pub note: Option<String>,
    pub classes: Vec<MeasuredClassRow>,
}

/// One class's per-frame figures in a [`MeasuredQuality`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredClassRow {
    /// COCO name, or `any vehicle`.
    pub class: String,
    /// Labelled objects scored, when counted.
    pub objects: Option<u64>,
    pub recall: Option<f64>,
    pub precision: Option<f64>,
}

/// Why no measured figure applies to a model the case loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotMeasured {
    /// The entry does not name the model (written before typed events).
    NoModelId,
    /// No figure is recorded in this build for this model id.
    NoFigures,
    /// Figures exist for this id, but of other bytes than the case loaded.
    OtherBytes,
}

/// The measured quality of one model loaded in the case (its `model_load` entries
/// grouped by model id and SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLimits {
    pub model_id: Option<String>,
    pub sha256: Option<String>,
    /// The `model_load` entries (sequence numbers).
    pub entries: Vec<u64>,
    /// The sources those entries loaded it for whose results come from it (their last
    /// `source_analysed` names it), in log order: the detector model is chosen per source
    /// (by the frame's shape, or asked for), so each source's figures are its model's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    pub measured: Vec<MeasuredQuality>,
    /// Why nothing was measured, when `measured` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<NotMeasured>,
}

/// "Limits of the search": per model loaded in the case, its measured recall and
/// precision per class and how to read a search that found nothing.
///
/// Why in the report: an investigator who searches "motorcycle heading north" and gets
/// nothing may conclude that none passed; that conclusion is only as good as the
/// detector's recall, which whoever reads the procedure file must see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitsSection {
    pub models: Vec<ModelLimits>,
}

/// The measured figures given to reports built without an explicit table
/// ([`install_measured`]).
static MEASURED: std::sync::OnceLock<Vec<MeasuredQuality>> = std::sync::OnceLock::new();

/// Give this process's reports the table of measured figures compiled into vigie.
///
/// Why a process-wide table: this crate does not depend on the model policy (which links
/// ONNX Runtime), yet the final report written at closure is built here; the application
/// layer installs the compiled table once, before any report. The first table installed
/// stays (the table is compiled in: every caller gives the same one). Without it, every
/// model reads "not measured".
pub fn install_measured(table: Vec<MeasuredQuality>) {
    let _ = MEASURED.set(table);
}

fn installed_measured() -> &'static [MeasuredQuality] {
    MEASURED.get().map(Vec::as_slice).unwrap_or_default()
}

/// The detector model each source's results come from: the `detector_model` (id,
/// SHA-256) of its last `source_analysed` entry, by source id.
pub type AnalysedWith = BTreeMap<String, (String, String)>;

/// The limits section for the models a report lists, from a table of measured figures.
/// Figures apply to a model only when both its id and its SHA-256 match (an entry that
/// recorded no SHA-256, written before typed events, is matched by id). A source is listed
/// under a model it was loaded for only if its results come from that model
/// (`analysed_with`, when known): a source analysed again with another size, or whose
/// re-analysis stopped after loading its model, is credited to the model of the results
/// the index holds.
pub fn limits_section(
    models: &[ModelRow],
    analysed_with: &AnalysedWith,
    table: &[MeasuredQuality],
) -> LimitsSection {
    let mut out: Vec<ModelLimits> = Vec::new();
    for m in models {
        let source = str_at(&m.params, &["source_id"])
            .map(str::to_owned)
            .filter(|s| {
                analysed_with.get(s).is_none_or(|(id, sha)| {
                    m.model_id.as_deref() == Some(id.as_str())
                        && m.sha256.as_deref().is_none_or(|m_sha| m_sha == sha)
                })
            });
        if let Some(l) = out
            .iter_mut()
            .find(|l| l.model_id == m.model_id && l.sha256 == m.sha256)
        {
            l.entries.push(m.seq);
            if let Some(s) = source.filter(|s| !l.sources.contains(s)) {
                l.sources.push(s);
            }
            continue;
        }
        let of_id: Vec<&MeasuredQuality> = table
            .iter()
            .filter(|q| m.model_id.as_deref() == Some(q.model_id.as_str()))
            .collect();
        let measured: Vec<MeasuredQuality> = of_id
            .iter()
            .filter(|q| m.sha256.as_deref().is_none_or(|s| s == q.sha256))
            .map(|q| (*q).clone())
            .collect();
        let not_measured = if !measured.is_empty() {
            None
        } else if m.model_id.is_none() {
            Some(NotMeasured::NoModelId)
        } else if of_id.is_empty() {
            Some(NotMeasured::NoFigures)
        } else {
            Some(NotMeasured::OtherBytes)
        };
        out.push(ModelLimits {
            model_id: m.model_id.clone(),
            sha256: m.sha256.clone(),
            entries: vec![m.seq],
            sources: source.into_iter().collect(),
            measured,
            not_measured,
        });
    }
    LimitsSection { models: out }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub operator: String,
    pub entries: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub source_id: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub container: String,
    pub codec: String,
    pub duration_ms: Option<u64>,
    pub start_time: Option<String>,
    pub start_time_origin: Option<String>,
    pub ingested_at: DateTime<Utc>,
    pub path: PathBuf,
    /// The camera the source belongs to, and how it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_origin: Option<String>,
    /// The start on the corrected clock, in the place's zone, when a correction is in
    /// force, and which correction that is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// Daylight-saving changes inside the recording, and what the correction decided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock_notes: Vec<String>,
}

/// One clock correction of the case (alteration entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    /// What was established, for which source or camera.
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub model_id: Option<String>,
    pub sha256: Option<String>,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub action: Action,
    pub params: Value,
    pub result_count: Option<u64>,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub params: Value,
    /// The first file's hash (kept for readers of report format 1).
    pub sha256: Option<String>,
    /// Every file that left vigie in this disclosure, with its hash and destination.
    #[serde(default)]
    pub files: Vec<FileHash>,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub params: Value,
    pub result: Value,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: Option<String>,
    pub message: Option<String>,
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSection {
    pub verification: Verification,
    pub summary: String,
    /// Line numbers that could not be read as entries (left out of the tables above).
    pub unreadable_lines: Vec<u64>,
    pub public_key: String,
    pub key_fingerprint: String,
    /// The signed heads of the machine log and of the case's log when the report was
    /// written: keep this report elsewhere and `vigie audit verify --against` it later.
    #[serde(default)]
    pub anchors: Vec<crate::anchor::Anchor>,
}

/// The coverage of the case's footage, as vigie-app computed it from the case's
/// registry and index when the report was written (`vigie coverage` gives the same).
///
/// Why in the report: whoever reads the procedure file must be able to tell "no result"
/// from "no footage analysed": the searches above say nothing of times not covered here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageSection {
    pub cameras: Vec<CameraCoverageRow>,
    /// Sources that cannot be placed in time, with why and how to fix it.
    pub unplaced: Vec<UnplacedSourceRow>,
    /// The timeline (self-contained SVG: no script, no external resource), inlined in the
    /// HTML report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_svg: Option<String>,
    /// Why coverage could not be computed (e.g. a damaged index), when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One camera's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraCoverageRow {
    pub camera: String,
    /// The IANA zone of its local times (`None`: UTC).
    pub time_zone: Option<String>,
    pub intervals: Vec<CoverageIntervalRow>,
    /// Readable footage, analysed or not.
    pub recorded_ms: i64,
    pub analysed_ms: i64,
    pub not_analysed_ms: i64,
    pub damaged_ms: i64,
    pub missing_ms: i64,
    /// Time covered by more than one recording.
    pub overlap_ms: i64,
}

/// One wall-clock interval `[from, to)` of a camera in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageIntervalRow {
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    /// `analysed`, `recorded` (not analysed), `damaged` or `missing`.
    pub state: String,
    /// How analysed footage was sampled (`all`, `10fps`, `keyframes`...).
    pub sampling: Option<String>,
    pub sources: Vec<String>,
    /// Why damaged, salvaged export...: for people.
    pub note: Option<String>,
    /// The interval in the camera's local time, when it has a zone.
    pub local: Option<String>,
}

/// A source that cannot be placed in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnplacedSourceRow {
    pub source_id: String,
    pub camera: String,
    pub duration_ms: Option<u64>,
    pub analysed: bool,
    /// Why, and how to fix it.
    pub why: String,
}

/// Where a report was written, with the hashes to cite it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub json: PathBuf,
    pub html_sha256: String,
    pub json_sha256: String,
}

fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

/// Build the report of a case (open or closed) from its files, with the measured figures
/// the application layer installed ([`install_measured`]).
pub fn build_report(
    root: &DataRoot,
    case_id: &str,
    clock: Arc<dyn Clock>,
) -> Result<Report, CaseError> {
    build_report_with(root, case_id, clock, installed_measured())
}

/// [`build_report`] with this table of measured figures.
pub fn build_report_with(
    root: &DataRoot,
    case_id: &str,
    clock: Arc<dyn Clock>,
    measured: &[MeasuredQuality],
) -> Result<Report, CaseError> {
    let meta = crate::case::load_case_with(root, case_id, clock.clone())?;
    let dir = root.case_dir(case_id);
    let log = root.case_log(case_id, clock.clone())?;
    let verification = log.verify()?;
    let (entries, unreadable_lines) = log.entries_lenient()?;

    let registry = vigie_evidence::Registry::open(dir.join("evidence"))?;
    let book = crate::timebook::TimeBook::replay(&entries);
    let clock_corrections: Vec<ClockRow> = book
        .all()
        .into_iter()
        .map(|r| ClockRow {
            seq: r.seq,
            at: r.at,
            operator: r.operator.clone(),
            what: r.correction.describe(),
            reason: r.reason.clone(),
        })
        .collect();
    let sources = registry
        .sources()?
        .into_iter()
        .map(|s| {
            let t = book.timing(&s);
            (s, t)
        })
        .map(|(s, t)| SourceRow {
            camera: Some(t.camera.clone()),
            camera_origin: Some(t.camera_origin.to_owned()),
            corrected_start_time: t
                .correction
                .as_ref()
                .and(t.start_wall_ms)
                .map(|ms| t.show(ms)),
            clock: t.correction.clone(),
            clock_notes: {
                let mut n = t.notes.clone();
                n.extend(t.offset_changes(s.meta.duration_ms.unwrap_or(0) as i64));
                n
            },
            source_id: s.source_id,
            sha256: s.sha256,
            size_bytes: s.size_bytes,
            container: s.meta.container,
            codec: s.meta.codec,
            duration_ms: s.meta.duration_ms,
            start_time: s.meta.start_time.map(|t| t.at.to_rfc3339()),
            start_time_origin: s.meta.start_time.map(|t| {
                serde_json::to_value(t.origin)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }),
            ingested_at: s.ingested_at,
            path: s.path,
        })
        .collect();

    let mut operators: BTreeMap<String, OperatorRow> = BTreeMap::new();
    let mut entries_by_action: BTreeMap<String, u64> = BTreeMap::new();
    let mut models = Vec::new();
    let mut analysed_with = AnalysedWith::new();
    let mut searches = Vec::new();
    let mut exports = Vec::new();
    let mut erasures = Vec::new();
    let mut alerts = Vec::new();
    for e in &entries {
        *entries_by_action
            .entry(e.action.as_str().to_owned())
            .or_default() += 1;
        let row = operators.entry(e.operator.clone()).or_insert(OperatorRow {
            operator: e.operator.clone(),
            entries: 0,
            first_at: e.time,
            last_at: e.time,
        });
        row.entries += 1;
        row.first_at = row.first_at.min(e.time);
        row.last_at = row.last_at.max(e.time);
        let typed = Event::from_entry(e);
        if e.params["event"] == "source_analysed" {
            let m = &e.params["analysis"]["detector_model"];
            if let (Some(source), Some(id), Some(sha)) = (
                e.params["source_id"].as_str(),
                m["id"].as_str(),
                m["sha256"].as_str(),
            ) {
                analysed_with.insert(source.to_owned(), (id.to_owned(), sha.to_owned()));
            }
        }
        match e.action {
            Action::ModelLoad => models.push(ModelRow {
                seq: e.seq,
                at: e.time,
                model_id: match &typed {
                    Some(Event::ModelLoaded { model_id, .. }) => Some(model_id.clone()),
                    _ => str_at(&e.params, &["model_id", "model", "id"]).map(str::to_owned),
                },
                sha256: match &typed {
                    Some(Event::ModelLoaded { sha256, .. }) => Some(sha256.clone()),
                    _ => str_at(&e.params, &["sha256"]).map(str::to_owned),
                },
                params: e.params.clone(),
            }),
            Action::Consultation | Action::Combination => searches.push(SearchRow {
                seq: e.seq,
                at: e.time,
                operator: e.operator.clone(),
                action: e.action,
                params: e.params.clone(),
                result_count: match &typed {
                    Some(Event::Search { count, .. }) => Some(*count),
                    Some(Event::SourcesListed { count }) => Some(*count),
                    Some(Event::SourceAnalysed { tracks, .. }) => Some(*tracks),
                    Some(Event::SynopsisBuilt { tracks, .. }) => Some(tracks.len() as u64),
                    Some(Event::PlatesRead { reads, .. }) => {
                        Some(reads.iter().filter(|r| r.is_some()).count() as u64)
                    }
                    Some(_) => None,
                    None => ["count", "results", "result_count"]
                        .iter()
                        .find_map(|k| e.result.get(*k).and_then(Value::as_u64)),
                },
                justification: e.justification.clone(),
            }),
            Action::Disclosure => {
                let files = match &typed {
                    Some(ev) => ev.files().to_vec(),
                    None => legacy_disclosed_files(e),
                };
                exports.push(ExportRow {
                    seq: e.seq,
                    at: e.time,
                    operator: e.operator.clone(),
                    params: e.params.clone(),
                    sha256: files.first().map(|f| f.sha256.clone()),
                    files,
                    justification: e.justification.clone(),
                })
            }
            Action::Erasure => erasures.push(action_row(e)),
            Action::Alert => alerts.push(AlertRow {
                seq: e.seq,
                at: e.time,
                kind: match &typed {
                    Some(Event::Alert { kind, .. }) => serde_json::to_value(kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned)),
                    _ => str_at(&e.params, &["kind", "event"]).map(str::to_owned),
                },
                message: str_at(&e.params, &["message"]).map(str::to_owned),
                params: e.params.clone(),
            }),
            Action::Collection | Action::Alteration | Action::Lifecycle => {}
        }
    }

    let key = root.key()?;
    Ok(Report {
        format_version: REPORT_FORMAT,
        generated_at: clock.now(),
        software_version: DataRoot::software_version(),
        retention_end: meta.retention_end(),
        case: meta,
        operators: operators.into_values().collect(),
        sources,
        searches,
        exports,
        erasures,
        alerts,
        entries_by_action,
        audit: AuditSection {
            summary: verification.summary(),
            verification,
            unreadable_lines,
            public_key: key.public_hex(),
            key_fingerprint: key.fingerprint(),
            anchors: crate::anchor::current_anchors(root, Some(&[case_id.to_owned()]), clock)?,
        },
        coverage: None,
        limits: Some(limits_section(&models, &analysed_with, measured)),
        models,
        clock_corrections,
        shards: entries
            .iter()
            .filter_map(|e| match Event::from_entry(e) {
                Some(Event::ShardMerged {
                    run,
                    shard,
                    count,
                    node,
                    host,
                    operator,
                    started_at,
                    finished_at,
                    record_sha256,
                    sources,
                    failed,
                    ..
                }) => Some(ShardRow {
                    seq: e.seq,
                    merged_at: e.time,
                    merged_by: e.operator.clone(),
                    run,
                    shard: format!("{shard}/{count}"),
                    node,
                    host,
                    operator,
                    started_at,
                    finished_at,
                    sources: sources.into_iter().map(|(id, _)| id).collect(),
                    failed: failed
                        .into_iter()
                        .map(|(id, why)| format!("{id}: {why}"))
                        .collect(),
                    record_sha256,
                }),
                _ => None,
            })
            .collect(),
    })
}

/// The files of a disclosure written before typed events: `result.sha256` (clips, frames,
/// sheets), `result.files[]` (synopses: video, index, WebVTT), `params.sha256`.
fn legacy_disclosed_files(e: &Entry) -> Vec<FileHash> {
    let output = str_at(&e.params, &["output", "file", "html", "sheet"]).unwrap_or_default();
    // Old entries name files inside the case relative to it (`exports/...`).
    let inside = |p: &str| p.starts_with("exports/") || p.starts_with("reports/");
    if let Some(list) = e.result.get("files").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|f| {
                Some(FileHash {
                    path: str_at(f, &["file", "path"]).unwrap_or_default().to_owned(),
                    sha256: str_at(f, &["sha256"])?.to_owned(),
                    size_bytes: f.get("size_bytes").and_then(Value::as_u64).unwrap_or(0),
                    inside_case: inside(str_at(f, &["file", "path"]).unwrap_or_default()),
                })
            })
            .collect();
    }
    str_at(&e.result, &["sha256", "output_sha256"])
        .or_else(|| str_at(&e.params, &["sha256"]))
        .map(|h| {
            vec![FileHash {
                path: output.to_owned(),
                sha256: h.to_owned(),
                size_bytes: e
                    .result
                    .get("size_bytes")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                inside_case: inside(output),
            }]
        })
        .unwrap_or_default()
}

fn action_row(e: &Entry) -> ActionRow {
    ActionRow {
        seq: e.seq,
        at: e.time,
        operator: e.operator.clone(),
        params: e.params.clone(),
        result: e.result.clone(),
        justification: e.justification.clone(),
    }
}

/// The report as pretty JSON (with a trailing newline).
pub fn render_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report serialises");
    s.push('\n');
    s
}

/// Write `<stem>.json` and `<stem>.html` into `dir` (atomically, 0600). A missing `dir`
/// is created 0700; an existing one is left as it is (it may be the operator's own).
pub fn write_report(dir: &Path, stem: &str, report: &Report) -> Result<ReportFiles, CaseError> {
    if !dir.is_dir() {
        vigie_audit::create_private_dir_all(dir).map_err(io_err(dir))?;
    }
    let json = render_json(report);
    let html = render_html(report);
    let json_path = dir.join(format!("{stem}.json"));
    let html_path = dir.join(format!("{stem}.html"));
    vigie_audit::write_atomic(&json_path, json.as_bytes()).map_err(io_err(&json_path))?;
    vigie_audit::write_atomic(&html_path, html.as_bytes()).map_err(io_err(&html_path))?;
    Ok(ReportFiles {
        html_sha256: hex::encode(Sha256::digest(html.as_bytes())),
        json_sha256: hex::encode(Sha256::digest(json.as_bytes())),
        html: html_path,
        json: json_path,
    })
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn t(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn j(v: &Value) -> String {
    esc(&vigie_audit::canonical::to_canonical_string(v))
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(esc).unwrap_or_else(|| "—".to_owned())
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#111}\
h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}\
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}\
th,td{border:1px solid #bbb;padding:.25em .4em;text-align:left;vertical-align:top}\
th{background:#eee}code{font-size:.9em;word-break:break-all}\
.ok{color:#060;font-weight:bold}.bad{color:#a00;font-weight:bold}.warn{color:#a60;font-weight:bold}\
.muted{color:#555}@media print{body{margin:0;max-width:none}}";

/// The report as one self-contained HTML page.
pub fn render_html(r: &Report) -> String {
    let mut h = String::new();
    let c = &r.case;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<title>Rapport d'exploitation / Exploitation report — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&c.procedure)
    );
    let _ = writeln!(
        h,
        "<h1>Rapport d'exploitation — procédure {}<br><span class=\"muted\">Exploitation report</span></h1>",
        esc(&c.procedure)
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">Generated {} by {}. Case <code>{}</code>. Report format {}.</p>",
        t(&r.generated_at),
        esc(&r.software_version),
        esc(&c.case_id),
        r.format_version
    );

    // Audit verification first: a reader must know whether to trust the rest.
    let (class, label) = match r.audit.verification.status {
        vigie_audit::VerifyStatus::Tampered { .. } => ("bad", "FAILED"),
        vigie_audit::VerifyStatus::Intact => ("ok", "VERIFIED"),
        _ => ("warn", "VERIFIED (interrupted write)"),
    };
    let _ = writeln!(h, "<h2>Audit log verification</h2>");
    let _ = writeln!(
        h,
        "<p><span class=\"{class}\">{label}</span> — {}</p>",
        esc(&r.audit.summary)
    );
    let head = r
        .audit
        .verification
        .signed_head
        .as_ref()
        .map(|p| format!("entry {} — <code>{}</code>", p.seq, esc(&p.hash)))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(
        h,
        "<table><tr><th>Signed head</th><td>{head}</td></tr><tr><th>Installation public key (Ed25519)</th><td><code>{}</code></td></tr><tr><th>Key fingerprint</th><td><code>{}</code></td></tr><tr><th>Unreadable lines</th><td>{}</td></tr></table>",
        esc(&r.audit.public_key),
        esc(&r.audit.key_fingerprint),
        if r.audit.unreadable_lines.is_empty() {
            "none".to_owned()
        } else {
            r.audit
                .unreadable_lines
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    );

    let _ = writeln!(h, "<h2>Anchors (signed heads)</h2>");
    let _ = writeln!(
        h,
        "<p class=\"muted\">Keep this report outside the machine: <code>vigie audit verify --against</code> its JSON proves later that no entry up to these points was removed or rewritten, even by someone holding the installation key.</p>"
    );
    table(
        &mut h,
        &["Log", "Entry", "Hash", "Signature"],
        r.audit.anchors.iter().map(|a| {
            vec![
                esc(&a.log_id),
                a.seq.to_string(),
                format!("<code>{}</code>", esc(&a.hash)),
                format!("<code>{}</code>", esc(&a.signature)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Procedure and authorisation</h2>\n<table>");
    let rows: [(&str, String); 11] = [
        ("Procedure number", esc(&c.procedure)),
        ("Authorisation reference", esc(&c.authorization)),
        ("Magistrate", esc(&c.magistrate)),
        ("Authorised on", c.authorized_on.to_string()),
        (
            "Valid until",
            c.valid_until
                .map(|d| d.to_string())
                .unwrap_or_else(|| "— (3-year limit applies)".into()),
        ),
        ("Retention end (last day)", r.retention_end.to_string()),
        ("Purpose", esc(&c.purpose)),
        ("Opened by", esc(&c.opened_by)),
        ("Opened at", t(&c.created_at)),
        (
            "Status",
            match (c.status, c.closure_reason) {
                (crate::CaseStatus::Open, _) => "open".to_owned(),
                (crate::CaseStatus::Closed, Some(crate::ClosureReason::Expired)) => {
                    "closed (authorisation expired)".to_owned()
                }
                (crate::CaseStatus::Closed, _) => "closed".to_owned(),
            },
        ),
        (
            "Closed",
            match (&c.closed_at, &c.closed_by) {
                (Some(at), Some(by)) => format!("{} by {}", t(at), esc(by)),
                _ => "—".into(),
            },
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    let _ = writeln!(h, "</table>");

    let _ = writeln!(h, "<h2>Operators</h2>");
    table(
        &mut h,
        &["Operator", "Entries", "First action", "Last action"],
        r.operators.iter().map(|o| {
            vec![
                esc(&o.operator),
                o.entries.to_string(),
                t(&o.first_at),
                t(&o.last_at),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Sources (evidence) and their hashes</h2>");
    table(
        &mut h,
        &[
            "Id",
            "SHA-256",
            "Size (bytes)",
            "Format",
            "Duration",
            "Camera",
            "Start time",
            "Corrected start (clock in force)",
            "Ingested",
            "Path at ingest",
        ],
        r.sources.iter().map(|s| {
            vec![
                esc(&s.source_id),
                format!("<code>{}</code>", esc(&s.sha256)),
                s.size_bytes.to_string(),
                format!("{} / {}", esc(&s.container), esc(&s.codec)),
                s.duration_ms
                    .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                    .unwrap_or_else(|| "—".into()),
                match (&s.camera, s.camera_origin.as_deref()) {
                    (Some(c), Some("proposed")) => format!("{} (proposed, unconfirmed)", esc(c)),
                    (Some(c), _) => esc(c),
                    _ => "—".into(),
                },
                match (&s.start_time, &s.start_time_origin) {
                    (Some(st), Some(o)) => format!("{} ({})", esc(st), esc(o)),
                    (Some(st), None) => esc(st),
                    _ => "—".into(),
                },
                match (&s.corrected_start_time, &s.clock) {
                    (Some(st), Some(c)) => format!("{} ({})", esc(st), esc(c)),
                    (None, Some(c)) => format!("unknown ({})", esc(c)),
                    _ => "recorder's clock".into(),
                } + &s
                    .clock_notes
                    .iter()
                    .map(|n| format!("<br>{}", esc(n)))
                    .collect::<String>(),
                t(&s.ingested_at),
                format!("<code>{}</code>", esc(&s.path.to_string_lossy())),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Clock corrections</h2>");
    if r.clock_corrections.is_empty() {
        let _ = writeln!(
            h,
            "<p>None: every time is the recorders' own clock (as recorded at ingest).</p>"
        );
    } else {
        table(
            &mut h,
            &[
                "Entry",
                "When",
                "Operator",
                "What was established",
                "Reason",
            ],
            r.clock_corrections.iter().map(|c| {
                vec![
                    c.seq.to_string(),
                    t(&c.at),
                    esc(&c.operator),
                    esc(&c.what),
                    esc(&c.reason),
                ]
            }),
        );
    }

    if let Some(cov) = &r.coverage {
        render_coverage(&mut h, cov);
    }
    if let Some(limits) = &r.limits {
        render_limits(&mut h, limits);
    }

    if !r.shards.is_empty() {
        let _ = writeln!(h, "<h2>Analysis on compute nodes (shards)</h2>");
        let _ = writeln!(
            h,
            "<p>Sources analysed by <code>vigie analyze --shard</code> on enrolled nodes, each result signed by its node and verified before it was merged.</p>"
        );
        table(
            &mut h,
            &[
                "Entry",
                "Merged",
                "Run, shard",
                "Node (host)",
                "Operator",
                "Analysed",
                "Sources",
                "Failed",
                "Record SHA-256",
            ],
            r.shards.iter().map(|x| {
                vec![
                    x.seq.to_string(),
                    format!("{} by {}", t(&x.merged_at), esc(&x.merged_by)),
                    format!("{} {}", esc(&x.run), esc(&x.shard)),
                    format!("{} ({})", esc(&x.node), esc(&x.host)),
                    esc(&x.operator),
                    format!("{} – {}", esc(&x.started_at), esc(&x.finished_at)),
                    esc(&x.sources.join(", ")),
                    esc(&x.failed.join("; ")),
                    format!("<code>{}</code>", esc(&x.record_sha256)),
                ]
            }),
        );
    }

    let _ = writeln!(h, "<h2>Models loaded and their hashes</h2>");
    table(
        &mut h,
        &["Entry", "Time", "Model", "SHA-256", "Parameters"],
        r.models.iter().map(|m| {
            vec![
                m.seq.to_string(),
                t(&m.at),
                opt(&m.model_id),
                m.sha256
                    .as_deref()
                    .map(|s| format!("<code>{}</code>", esc(s)))
                    .unwrap_or_else(|| "—".into()),
                format!("<code>{}</code>", j(&m.params)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Searches</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "Kind",
            "Parameters",
            "Results",
            "Justification",
        ],
        r.searches.iter().map(|s| {
            vec![
                s.seq.to_string(),
                t(&s.at),
                esc(&s.operator),
                s.action.as_str().to_owned(),
                format!("<code>{}</code>", j(&s.params)),
                s.result_count
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into()),
                esc(&s.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Exports (disclosures) and their hashes</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "Files (SHA-256, destination)",
            "Parameters",
            "Justification",
        ],
        r.exports.iter().map(|e| {
            vec![
                e.seq.to_string(),
                t(&e.at),
                esc(&e.operator),
                if e.files.is_empty() {
                    e.sha256
                        .as_deref()
                        .map(|s| format!("<code>{}</code>", esc(s)))
                        .unwrap_or_else(|| "—".into())
                } else {
                    e.files
                        .iter()
                        .map(|f| {
                            format!(
                                "<code>{}</code> {}{}",
                                esc(&f.sha256),
                                esc(&f.path),
                                if f.inside_case {
                                    ""
                                } else {
                                    " <span class=\"warn\">(outside the case)</span>"
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("<br>")
                },
                format!(
                    "{}<code>{}</code>",
                    // Unredacted exports (bystanders and plates shown) stand out.
                    match e.params.get("kind").and_then(Value::as_str) {
                        Some(k) if k.starts_with("unredacted_") =>
                            "<span class=\"warn\">UNREDACTED</span> ",
                        _ => "",
                    },
                    j(&e.params)
                ),
                esc(&e.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Alerts</h2>");
    table(
        &mut h,
        &["Entry", "Time", "Kind", "Message", "Details"],
        r.alerts.iter().map(|a| {
            vec![
                a.seq.to_string(),
                t(&a.at),
                opt(&a.kind),
                opt(&a.message),
                format!("<code>{}</code>", j(&a.params)),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Erasures</h2>");
    table(
        &mut h,
        &[
            "Entry",
            "Time",
            "Operator",
            "What was erased",
            "Result",
            "Justification",
        ],
        r.erasures.iter().map(|e| {
            vec![
                e.seq.to_string(),
                t(&e.at),
                esc(&e.operator),
                format!("<code>{}</code>", j(&e.params)),
                format!("<code>{}</code>", j(&e.result)),
                esc(&e.justification),
            ]
        }),
    );

    let _ = writeln!(h, "<h2>Audit entries by category</h2>");
    table(
        &mut h,
        &["Category", "Entries"],
        r.entries_by_action
            .iter()
            .map(|(k, v)| vec![esc(k), v.to_string()]),
    );
    let _ = writeln!(
        h,
        "<p class=\"muted\">Every entry of the case's audit log is in <code>audit/audit.jsonl</code>; <code>vigie audit verify --case {}</code> re-checks it against the signed head and the public key above.</p>",
        esc(&c.case_id)
    );
    h.push_str("</body>\n</html>\n");
    h
}

/// A wall-clock time in UTC, to the second (milliseconds when not round).
fn wall_utc(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) if ms.rem_euclid(1000) != 0 => t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ms} ms"),
    }
}

/// Whether markup has an event-handler attribute (` onload=`, ` onclick =`...).
fn has_event_handler(lower: &str) -> bool {
    lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].trim_start().starts_with('=')
    })
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The coverage section: the timeline, then a table per camera and the sources that
/// cannot be placed in time.
fn render_coverage(h: &mut String, cov: &CoverageSection) {
    let _ = writeln!(h, "<h2>Coverage of the footage</h2>");
    let _ = writeln!(
        h,
        "<p class=\"muted\">For each camera, the wall-clock intervals recorded, analysed (with the sampling), damaged or missing. A search finds nothing where footage is missing, damaged or not analysed: no result there means no footage analysed, not that nothing happened.</p>"
    );
    if let Some(why) = &cov.unavailable {
        let _ = writeln!(
            h,
            "<p class=\"warn\">Coverage could not be computed: {}</p>",
            esc(why)
        );
    }
    // Only an SVG without script or link is inlined: the page stays self-contained.
    if let Some(svg) = &cov.timeline_svg {
        let lower = svg.to_ascii_lowercase();
        if lower.trim_start().starts_with("<svg")
            && !["<script", "href", "<foreignobject", "javascript:"]
                .iter()
                .any(|bad| lower.contains(bad))
            && !has_event_handler(&lower)
        {
            let _ = writeln!(h, "<div>{svg}</div>");
        }
    }
    for c in &cov.cameras {
        let recorded_or_missing = c.recorded_ms + c.damaged_ms + c.missing_ms;
        let _ = writeln!(
            h,
            "<h3>Camera {}{}</h3>\n<p>Recorded {} (analysed {}, not analysed {}), damaged {}, missing {}{}{}.</p>",
            esc(&c.camera),
            c.time_zone
                .as_deref()
                .map(|z| format!(" <span class=\"muted\">({})</span>", esc(z)))
                .unwrap_or_default(),
            seconds(c.recorded_ms),
            seconds(c.analysed_ms),
            seconds(c.not_analysed_ms),
            seconds(c.damaged_ms),
            seconds(c.missing_ms),
            if recorded_or_missing > 0 {
                format!(
                    "; {:.1}% of the span analysed",
                    100.0 * c.analysed_ms as f64 / recorded_or_missing as f64
                )
            } else {
                String::new()
            },
            if c.overlap_ms > 0 {
                format!("; recordings overlap for {}", seconds(c.overlap_ms))
            } else {
                String::new()
            },
        );
        table(
            h,
            &[
                "From",
                "To",
                "Local time",
                "State",
                "Sampling",
                "Sources",
                "Note",
            ],
            c.intervals.iter().map(|i| {
                vec![
                    wall_utc(i.from_wall_ms),
                    wall_utc(i.to_wall_ms),
                    opt(&i.local),
                    if i.state == "analysed" {
                        format!("<span class=\"ok\">{}</span>", esc(&i.state))
                    } else if i.state == "damaged" || i.state == "missing" {
                        format!("<span class=\"bad\">{}</span>", esc(&i.state))
                    } else {
                        esc(&i.state)
                    },
                    opt(&i.sampling),
                    esc(&i.sources.join(", ")),
                    opt(&i.note),
                ]
            }),
        );
    }
    if !cov.unplaced.is_empty() {
        let _ = writeln!(h, "<h3>Sources that cannot be placed in time</h3>");
        table(
            h,
            &[
                "Source",
                "Camera",
                "Duration",
                "Analysed",
                "Why and how to fix it",
            ],
            cov.unplaced.iter().map(|u| {
                vec![
                    esc(&u.source_id),
                    esc(&u.camera),
                    u.duration_ms
                        .map(|ms| seconds(ms as i64))
                        .unwrap_or_else(|| "—".into()),
                    if u.analysed { "yes" } else { "no" }.to_owned(),
                    esc(&u.why),
                ]
            }),
        );
    }
}

/// A class name in French (the report is read in French procedures).
fn class_fr(class: &str) -> &str {
    match class {
        "person" => "personne",
        "bicycle" => "vélo",
        "car" => "voiture",
        "motorcycle" => "moto",
        "bus" => "bus",
        "truck" => "camion",
        "any vehicle" => "véhicule (toutes classes)",
        other => other,
    }
}

/// A class name in a "1 in N" sentence.
fn class_en(class: &str) -> &str {
    match class {
        "any vehicle" => "vehicle (any class)",
        other => other,
    }
}

/// How to read a search with no result for one class, from its per-frame recall:
/// `(english, french)`.
pub fn reading_of_recall(class: &str, recall: f64, objects: Option<u64>) -> (String, String) {
    let miss = (1.0 - recall).clamp(0.0, 1.0);
    let pct = (recall * 100.0).round();
    let (en, fr) = if miss < 0.005 {
        (
            format!("On the test frames the detector found every labelled {} in view (recall {recall:.2}); that does not prove it never misses one.", class_en(class)),
            format!("Sur les images de test, le détecteur a trouvé tous les objets annotés de classe « {} » visibles (rappel {}) ; cela ne prouve pas qu'il n'en manque jamais.", class_fr(class), fr_num(recall)),
        )
    } else if miss >= 0.5 {
        let tenths = (miss * 10.0).round().max(5.0);
        (
            format!("On a frame where a {} is in view, the detector misses it about {tenths} times in 10 (it found {pct}% of them): a search with no result says little about whether one passed.", class_en(class)),
            format!("Sur une image où un objet de classe « {} » est visible, le détecteur le manque environ {tenths} fois sur 10 (il en a trouvé {pct} %) : une recherche sans résultat dit peu de chose sur son passage.", class_fr(class)),
        )
    } else {
        let n = (1.0 / miss).round();
        (
            format!("On a frame where a {} is in view, the detector misses about 1 in {n} (it found {pct}% of them).", class_en(class)),
            format!("Sur une image où un objet de classe « {} » est visible, le détecteur en manque environ 1 sur {n} (il en a trouvé {pct} %).", class_fr(class)),
        )
    };
    match objects {
        Some(n) if n < 30 => (
            format!("{en} Only {n} labelled: a rough figure."),
            format!("{fr} Seulement {n} annotés : chiffre approximatif."),
        ),
        _ => (en, fr),
    }
}

/// "with vigie 0.2.0", or how it was measured when not by vigie.
pub fn measured_with(vigie_version: &str) -> String {
    if vigie_version.starts_with(|c: char| c.is_ascii_digit()) {
        format!("with vigie {vigie_version}")
    } else {
        format!("({vigie_version})")
    }
}

/// A decimal with a comma, two places.
fn fr_num(v: f64) -> String {
    format!("{v:.2}").replace('.', ",")
}

/// The limits section: per model loaded, its measured figures and how to read a search
/// with no result (English, then French).
fn render_limits(h: &mut String, limits: &LimitsSection) {
    let _ = writeln!(h, "<h2>Limites de la recherche / Limits of the search</h2>");
    let _ = writeln!(
        h,
        "<p>A search finds only what the detector detected. The figures below were measured frame by frame on annotated data: the recall is the share of labelled objects the detector found on a frame, the precision the share of its detections that were labelled objects (a detection counts when its box overlaps the labelled box at the IoU stated and its score reaches the threshold vigie uses; a bicycle or motorcycle also from a lower score when a person the detector is sure of sits on it, as in the analysis). They are per frame, not per track: an object in view over several analysed frames has several chances to be detected; whether it then forms a track also depends on the tracker, and a search on colour or direction also on those descriptions, which these figures do not measure. A search with no result means that no matching object was found, not that none passed.</p>"
    );
    let _ = writeln!(
        h,
        "<p lang=\"fr\">Une recherche ne trouve que ce que le détecteur a détecté. Les chiffres ci-dessous ont été mesurés image par image sur des données annotées : le rappel est la part des objets annotés que le détecteur trouve sur une image, la précision la part de ses détections qui sont des objets annotés (une détection compte quand sa boîte recouvre celle de l'objet au seuil d'IoU indiqué et que son score atteint le seuil utilisé par vigie ; un vélo ou une moto aussi à partir d'un score plus bas quand une personne dont le détecteur est sûr est assise dessus, comme dans l'analyse). Ils portent sur les images, non sur les pistes : un objet visible sur plusieurs images analysées a plusieurs chances d'être détecté ; qu'il forme ensuite une piste dépend aussi du suivi, et une recherche par couleur ou direction dépend aussi de ces descriptions, que ces chiffres ne mesurent pas. Une recherche sans résultat signifie qu'aucun objet correspondant n'a été trouvé, non qu'aucun n'est passé.</p>"
    );
    if limits.models.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"warn\">No detection model was loaded in this case (analysis by motion alone, or no analysis): no measured figure applies, and a search with no result cannot be read as \"nothing passed\".<br><span lang=\"fr\">Aucun modèle de détection n'a été chargé dans cette affaire (analyse par le mouvement seul, ou aucune analyse) : aucun chiffre mesuré ne s'applique, et une recherche sans résultat ne peut pas se lire « rien n'est passé ».</span></p>"
        );
        return;
    }
    for m in &limits.models {
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"muted\"><code>{}</code> — loaded at entr{} {}</span></h3>",
            opt(&m.model_id),
            m.sha256.as_deref().map(esc).unwrap_or_else(|| "—".into()),
            if m.entries.len() == 1 { "y" } else { "ies" },
            m.entries
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !m.sources.is_empty() {
            let _ = writeln!(
                h,
                "<p>Sources analysed with this model / Sources analysées avec ce modèle : {}</p>",
                m.sources
                    .iter()
                    .map(|s| format!("<code>{}</code>", esc(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if let Some(why) = m.not_measured {
            let (en, fr) = match why {
                NotMeasured::NoModelId => (
                    "the log entry does not name the model",
                    "l'entrée du journal ne nomme pas le modèle",
                ),
                NotMeasured::NoFigures => (
                    "this version of vigie records no measured figure for this model",
                    "cette version de vigie ne contient aucun chiffre mesuré pour ce modèle",
                ),
                NotMeasured::OtherBytes => (
                    "the figures this version of vigie records for this model id were measured on other bytes (another SHA-256) than the model loaded here",
                    "les chiffres que cette version de vigie contient pour ce modèle ont été mesurés sur un autre fichier (autre SHA-256) que celui chargé ici",
                ),
            };
            let _ = writeln!(
                h,
                "<p class=\"warn\">Not measured: {en}. This report cannot state what it misses; a search with no result cannot be read as \"nothing passed\".<br><span lang=\"fr\">Non mesuré : {fr}. Ce rapport ne peut pas dire ce qu'il manque ; une recherche sans résultat ne peut pas se lire « rien n'est passé ».</span></p>"
            );
            continue;
        }
        for q in &m.measured {
            let _ = writeln!(
                h,
                "<p><b>{}</b> ({}) — {}{}; IoU ≥ {}, score ≥ {}; measured {} {}: <code>{}</code>.{}</p>",
                esc(&q.dataset),
                if q.kind == "held_out" {
                    "held-out data, not available to vigie's tests: figures as reported / données réservées, hors des tests de vigie : chiffres tels que rapportés"
                } else {
                    "public test data of vigie's tests: figures re-checked by them / données de test publiques de vigie : chiffres revérifiés par ses tests"
                },
                esc(&q.split),
                q.images
                    .map(|n| format!(", {n} frames"))
                    .unwrap_or_default(),
                q.iou,
                q.score_threshold,
                esc(&q.date),
                esc(&measured_with(&q.vigie_version)),
                esc(&q.command),
                q.note
                    .as_deref()
                    .map(|n| format!("<br><span class=\"muted\">{}</span>", esc(n)))
                    .unwrap_or_default(),
            );
            table(
                h,
                &[
                    "Class / Classe",
                    "Objects / Objets",
                    "Recall / Rappel",
                    "Precision / Précision",
                    "Reading a search with no result / Lecture d'une recherche sans résultat",
                ],
                q.classes.iter().map(|c| {
                    let fig =
                        |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
                    let reading = match c.recall {
                        Some(r) => {
                            let (en, fr) = reading_of_recall(&c.class, r, c.objects);
                            format!("{}<br><span lang=\"fr\">{}</span>", esc(&en), esc(&fr))
                        }
                        None => "—".into(),
                    };
                    vec![
                        format!("{} / {}", esc(&c.class), esc(class_fr(&c.class))),
                        c.objects
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "—".into()),
                        fig(c.recall),
                        fig(c.precision),
                        reading,
                    ]
                }),
            );
        }
    }
}

#[cfg(test)]
mod limits_tests {
    use super::*;

    fn nanodet() -> MeasuredQuality {
        MeasuredQuality {
            model_id: "nanodet-coco-416".into(),
            sha256: "63".repeat(32),
            kind: "reproducible".into(),
            dataset: "street-cctv-vehicles/frames_voc_train".into(),
            split: "the whole folder".into(),
            images: Some(177),
            iou: 0.5,
            score_threshold: 0.35,
            vigie_version: "0.2.0".into(),
            command: "vigie eval detect DIR --json".into(),
            date: "2026-12-06".into(),
            note: None,
            classes: vec![
                MeasuredClassRow {
                    class: "motorcycle".into(),
                    objects: Some(576),
                    recall: Some(357.0 / 576.0),
                    precision: Some(357.0 / 520.0),
                },
                MeasuredClassRow {
                    class: "bus".into(),
                    objects: Some(3),
                    recall: Some(1.0 / 3.0),
                    precision: Some(0.125),
                },
            ],
        }
    }

    fn row(seq: u64, id: Option<&str>, sha: Option<String>) -> ModelRow {
        ModelRow {
            seq,
            at: DateTime::<Utc>::UNIX_EPOCH,
            model_id: id.map(str::to_owned),
            sha256: sha,
            params: Value::Null,
        }
    }

    #[test]
    fn each_model_names_the_sources_it_analysed() {
        let load = |seq, id: &str, source: &str| ModelRow {
            params: serde_json::json!({ "model_id": id, "source_id": source }),
            ..row(seq, Some(id), Some("63".repeat(32)))
        };
        let l = limits_section(
            &[
                load(3, "nanodet-coco-416", "S-tud"),
                load(5, "nanodet-coco-512x288", "S-street"),
                load(7, "nanodet-coco-416", "S-lobby"),
                load(9, "nanodet-coco-416", "S-tud"),
            ],
            &AnalysedWith::new(),
            &[nanodet()],
        );
        assert_eq!(l.models.len(), 2, "{l:?}");
        assert_eq!(l.models[0].sources, ["S-tud", "S-lobby"]);
        assert_eq!(l.models[0].entries, [3, 7, 9]);
        assert_eq!(l.models[1].sources, ["S-street"]);
        assert_eq!(l.models[1].not_measured, Some(NotMeasured::NoFigures));
        let mut h = String::new();
        render_limits(&mut h, &l);
        assert!(
            h.contains(
                "Sources analysées avec ce modèle : <code>S-tud</code>, <code>S-lobby</code>"
            ),
            "{h}"
        );
        assert!(h.contains("nanodet-coco-512x288"), "{h}");
    }

    /// A source analysed at 512x288, then again asked at 768x448: credited to the model
    /// of its last analysis only; a re-analysis that loaded a model and stopped before its
    /// `source_analysed` leaves the source under the model of the results kept.
    #[test]
    fn a_source_is_credited_to_the_model_of_its_last_analysis() {
        let sha = "63".repeat(32);
        let load = |seq, id: &str, source: &str| ModelRow {
            params: serde_json::json!({ "model_id": id, "source_id": source }),
            ..row(seq, Some(id), Some(sha.clone()))
        };
        let models = [
            load(3, "nanodet-coco-512x288", "S-a"),
            load(5, "nanodet-coco-512x288", "S-b"),
            load(7, "nanodet-coco-768x448", "S-a"),
            load(9, "nanodet-coco-768x448", "S-b"),
        ];
        let mut analysed = AnalysedWith::new();
        // S-a's re-analysis finished; S-b's stopped after loading the model.
        analysed.insert("S-a".into(), ("nanodet-coco-768x448".into(), sha.clone()));
        analysed.insert("S-b".into(), ("nanodet-coco-512x288".into(), sha.clone()));
        let l = limits_section(&models, &analysed, &[nanodet()]);
        assert_eq!(l.models.len(), 2, "{l:?}");
        assert_eq!(
            l.models[0].model_id.as_deref(),
            Some("nanodet-coco-512x288")
        );
        assert_eq!(l.models[0].sources, ["S-b"]);
        assert_eq!(l.models[1].sources, ["S-a"]);
        // Without analyses recorded, every load names its source (as before).
        let l = limits_section(&models, &AnalysedWith::new(), &[nanodet()]);
        assert_eq!(l.models[0].sources, ["S-a", "S-b"]);
    }

    #[test]
    fn figures_apply_to_the_model_id_and_bytes_loaded() {
        let table = [nanodet()];
        let l = limits_section(
            &[
                row(3, Some("nanodet-coco-416"), Some("63".repeat(32))),
                row(7, Some("nanodet-coco-416"), Some("63".repeat(32))),
                row(8, Some("nanodet-coco-416"), Some("99".repeat(32))),
                row(9, Some("yolox-nano"), Some("7a".repeat(32))),
                row(10, None, None),
                row(11, Some("nanodet-coco-416"), None),
            ],
            &AnalysedWith::new(),
            &table,
        );
        assert_eq!(l.models.len(), 5, "{l:?}");
        assert_eq!(
            l.models[0].entries,
            vec![3, 7],
            "one row per model and bytes"
        );
        assert_eq!(l.models[0].measured, table.to_vec());
        assert_eq!(l.models[1].not_measured, Some(NotMeasured::OtherBytes));
        assert_eq!(l.models[2].not_measured, Some(NotMeasured::NoFigures));
        assert_eq!(l.models[3].not_measured, Some(NotMeasured::NoModelId));
        assert_eq!(
            l.models[4].measured.len(),
            1,
            "an entry without hash: by id"
        );

        let mut h = String::new();
        render_limits(&mut h, &l);
        assert!(h.contains("Limites de la recherche / Limits of the search"));
        assert!(h.contains("<td>576</td><td>0.62</td><td>0.69</td>"), "{h}");
        assert!(h.contains("misses about 1 in 3"), "{h}");
        assert!(h.contains("en manque environ 1 sur 3"), "{h}");
        assert!(h.contains("misses it about 7 times in 10"), "bus: {h}");
        assert!(h.contains("Only 3 labelled"));
        assert!(h.contains("Not measured: this version of vigie records no measured figure"));
        assert!(h.contains("Non mesuré"));
        assert!(h.contains("other bytes"));

        let mut h = String::new();
        render_limits(&mut h, &limits_section(&[], &AnalysedWith::new(), &table));
        assert!(h.contains("No detection model was loaded"));
    }

    #[test]
    fn the_reading_follows_the_recall() {
        assert!(reading_of_recall("car", 0.884, Some(612))
            .0
            .contains("about 1 in 9"));
        assert!(reading_of_recall("person", 1.0, Some(40))
            .0
            .contains("found every"));
        let (en, fr) = reading_of_recall("any vehicle", 0.78, None);
        assert!(
            en.contains("vehicle (any class)") && en.contains("1 in 5"),
            "{en}"
        );
        assert!(
            fr.contains("véhicule (toutes classes)") && fr.contains("78 %"),
            "{fr}"
        );
    }
}

#[cfg(test)]
mod coverage_tests {
    use super::*;

    fn section(svg: &str) -> CoverageSection {
        CoverageSection {
            cameras: vec![CameraCoverageRow {
                camera: "hall <east>".into(),
                time_zone: Some("Europe/Paris".into()),
                intervals: vec![
                    CoverageIntervalRow {
                        from_wall_ms: 1_796_043_600_000,
                        to_wall_ms: 1_796_043_604_000,
                        state: "analysed".into(),
                        sampling: Some("10fps".into()),
                        sources: vec!["S1".into()],
                        note: None,
                        local: Some(
                            "2026-11-30 14:00:00+01:00 to 2026-11-30 14:00:04+01:00".into(),
                        ),
                    },
                    CoverageIntervalRow {
                        from_wall_ms: 1_796_043_604_000,
                        to_wall_ms: 1_796_043_610_500,
                        state: "missing".into(),
                        sampling: None,
                        sources: vec![],
                        note: None,
                        local: None,
                    },
                ],
                recorded_ms: 4_000,
                analysed_ms: 4_000,
                not_analysed_ms: 0,
                damaged_ms: 0,
                missing_ms: 6_500,
                overlap_ms: 0,
            }],
            unplaced: vec![UnplacedSourceRow {
                source_id: "S2".into(),
                camera: "yard".into(),
                duration_ms: Some(3_000),
                analysed: false,
                why: "its wall-clock start is unknown: `vigie clock set`".into(),
            }],
            timeline_svg: Some(svg.into()),
            unavailable: None,
        }
    }

    #[test]
    fn reports_written_before_the_coverage_section_still_read() {
        let snap = include_str!("../tests/snapshots/report__report_json.snap");
        let json = snap.splitn(3, "---\n").nth(2).expect("an insta snapshot");
        let mut report: Report = serde_json::from_str(json).expect("an older report reads");
        assert_eq!(report.coverage, None);
        assert!(!render_html(&report).contains("Coverage of the footage"));
        report.coverage = Some(section("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"));
        let back: Report = serde_json::from_str(&render_json(&report)).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn the_coverage_section_renders_a_table_per_camera_and_the_timeline() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect class=\"analysed\"/></svg>";
        let mut h = String::new();
        render_coverage(&mut h, &section(svg));
        assert!(h.contains("<h3>Camera hall &lt;east&gt;"), "{h}");
        assert!(h.contains(svg), "the timeline is inlined");
        assert!(h.contains("2026-11-30 13:00:00 UTC"));
        assert!(h.contains("2026-11-30 13:00:10.500 UTC"));
        assert!(h.contains("10fps") && h.contains("14:00:00+01:00"));
        assert!(h.contains("missing 6.5 s"));
        assert!(h.contains("38.1% of the span analysed"), "{h}");
        assert!(h.contains("cannot be placed in time") && h.contains("vigie clock set"));
        // An image with a script, a link or an event handler is never inlined.
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><a href=\"https://x\">x</a></svg>",
            "<svg onload = \"x()\"></svg>",
            "<p>not svg</p>",
        ] {
            let mut h = String::new();
            render_coverage(&mut h, &section(bad));
            assert!(!h.contains(bad), "{bad}");
        }
        // Text that merely contains " on" is fine.
        assert!(!has_event_handler("<svg><title>station one</title></svg>"));
        assert!(has_event_handler("<svg onclick=\"x\">"));
    }
}

fn table(h: &mut String, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let mut body = String::new();
    for row in rows {
        body.push_str("<tr>");
        for cell in row {
            let _ = write!(body, "<td>{cell}</td>");
        }
        body.push_str("</tr>\n");
    }
    if body.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>\n");
        return;
    }
    h.push_str("<table><tr>");
    for head in headers {
        let _ = write!(h, "<th>{head}</th>");
    }
    h.push_str("</tr>\n");
    h.push_str(&body);
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
