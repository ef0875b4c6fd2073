//! Sharded analysis: a case's sources analysed by plain batch jobs on several machines
//! (a Slurm job array, a Kubernetes Indexed Job), then merged by one process.
//!
//! Why this shape: clusters already have schedulers and shared storage; vigie adds no
//! daemon and no protocol of its own. What it must keep is one case, one audit trail and
//! nothing analysed outside the authorisation, on storage where file locks cannot be
//! trusted across machines. So a shard (`vigie analyze --shard I/N`):
//! - enters the case like any work (open, authorised, unexpired; its operator checked),
//!   but writes **nothing** the case's other users write: its index, thumbnails, tubes
//!   and plate crops go to its own directory under `<case>/shards/<run>/`, its entries
//!   and alerts to its own journal;
//! - takes a deterministic share of the sources ([`plan`]: longest first onto the least
//!   loaded shard, from the registry every shard reads), so N shards cover every source
//!   once, and records the whole plan's hash so the merge can tell shards of different
//!   plans apart;
//! - ends with `shard.json`: what it did, every file with its SHA-256, the software and
//!   model hashes, signed with the **node's** key (enrolled in the machine log by an
//!   administrator; the installation key never leaves its machine). It is built in a
//!   staging directory renamed into place only once signed, after checking that the case
//!   was not closed meanwhile.
//!
//! `vigie merge` ([`merge_shards`]) is the only writer: it checks each record (signature
//! of an enrolled node, case, files, software and models identical to this
//! installation's, sources registered with the same hashes, one plan per run, no source
//! merged twice), imports each source in one transaction, then writes the shard's entries
//! to the case's log, each naming the shard, node and host, and a `shard_merged` entry.
//! A record merged before is recognised by its hash: merging twice changes nothing.
//! Closure erases `<case>/shards` with the rest of the derived data.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use vigie_audit::event::Event;
use vigie_audit::EntryRef;
use vigie_core::{Alert, AlertKind, AlertSink, AlertSinkError};
use vigie_evidence::SourceRecord;

use crate::analyze::{analyze_sources, AnalyzeOutcome, AnalyzeRequest};
use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::layout::DerivedLayout;
use crate::nodes::NodeKey;
use crate::progress::Progress;

/// Version of the `shard.json` format.
pub const SHARD_FORMAT: u32 = 1;
/// Where shard results live inside a case (erased at closure).
pub const SHARDS_DIR: &str = "shards";
/// The signed record of a finished shard.
pub const RECORD_FILE: &str = "shard.json";
/// The shard's entries, in the order it made them.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Why a shard or a merge was refused.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("bad shard {0:?}: give I/N with 0 <= I < N <= 4096 (I is the scheduler's 0-based array index, as $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)")]
    BadSpec(String),
    #[error("bad run name {0:?}: use 1 to 64 characters among A-Z a-z 0-9 . _ - (the same for every shard of a run and for its merge, e.g. slurm-$SLURM_ARRAY_JOB_ID)")]
    BadRun(String),
    #[error("shard {label} refused: {why}")]
    Refused { label: String, why: String },
    #[error("the case was closed or its authorisation ended while shard {label} ran; its results were discarded ({why})")]
    CaseEnded { label: String, why: String },
}

/// Which share of the sources a shard analyses: `index` of `count`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for ShardSpec {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError::BadSpec(s.to_owned());
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > 4096 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// The shard's directory name inside its run.
    pub fn dir_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// Check a run name (it becomes a directory name).
pub fn check_run(run: &str) -> Result<(), ShardError> {
    let ok = !run.is_empty()
        && run.len() <= 64
        && run
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !run.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ShardError::BadRun(run.to_owned()))
    }
}

/// One source of a plan: its id, hash and expected cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSource {
    pub source_id: String,
    pub sha256: String,
    /// Duration (ms) when known; the cost the plan balances.
    pub duration_ms: Option<u64>,
}

/// The sources split into `count` shares: longest first, each onto the share with the
/// least total duration so far (ties: the lowest index), sources of unknown duration
/// counted as one minute. Deterministic: the same registry gives the same shares on
/// every machine, whatever order the registry lists them in.
pub fn plan(sources: &[PlannedSource], count: u32) -> Vec<Vec<PlannedSource>> {
    const UNKNOWN_MS: u64 = 60_000;
    let mut sorted: Vec<&PlannedSource> = sources.iter().collect();
    sorted.sort_by(|a, b| {
        let (da, db) = (
            a.duration_ms.unwrap_or(UNKNOWN_MS),
            b.duration_ms.unwrap_or(UNKNOWN_MS),
        );
        db.cmp(&da).then_with(|| a.source_id.cmp(&b.source_id))
    });
    let mut shares: Vec<(u64, Vec<PlannedSource>)> = vec![(0, Vec::new()); count as usize];
    for s in sorted {
        let (i, _) = shares
            .iter()
            .enumerate()
            .min_by_key(|(i, (load, _))| (*load, *i))
            .expect("count >= 1");
        shares[i].0 += s.duration_ms.unwrap_or(UNKNOWN_MS).max(1);
        shares[i].1.push(s.clone());
    }
    shares.into_iter().map(|(_, v)| v).collect()
}

/// The hash of a plan: the sources (id and hash, sorted) and the number of shares.
pub fn plan_sha256(sources: &[PlannedSource], count: u32) -> String {
    let mut ids: Vec<(&str, &str)> = sources
        .iter()
        .map(|s| (s.source_id.as_str(), s.sha256.as_str()))
        .collect();
    ids.sort();
    hex::encode(Sha256::digest(vigie_audit::canonical::to_canonical_vec(
        &json!({ "count": count, "sources": ids }),
    )))
}

/// What a shard did with one source of its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardSource {
    pub source_id: String,
    pub sha256: String,
    /// `analysed`, `failed` or `skipped` (already in the case's index).
    pub status: String,
    pub tracks: u64,
    pub error: Option<String>,
}

/// A model the shard loaded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelRef {
    pub model_id: String,
    pub sha256: String,
}

/// A file of the shard's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFile {
    /// Relative to the shard's directory, `/`-separated.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `shard.json`: what a shard did, signed by its node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub format: u32,
    pub case_id: String,
    pub procedure: String,
    pub run: String,
    pub shard: ShardSpec,
    /// Hash of the whole plan ([`plan_sha256`]): every shard of a run has the same.
    pub plan_sha256: String,
    /// Every source of the plan, in plan order of this shard's share first.
    pub plan_sources: Vec<String>,
    /// This shard's share.
    pub assigned: Vec<String>,
    pub host: String,
    /// The node's Ed25519 public key (hex); the node is enrolled under it.
    pub public_key: String,
    pub operator: String,
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub vigie_version: String,
    /// SHA-256 of the `vigie` executable that ran the shard.
    pub binary_sha256: String,
    pub models: Vec<ModelRef>,
    pub force: bool,
    /// The analysis settings (detector, sampling, width, gate, plates, scene): every shard
    /// of a run must have the same, so that one run is one analysis.
    pub analysis: Value,
    /// The flags that re-run a shard of this run with the same settings.
    pub rerun_flags: Vec<String>,
    pub sources: Vec<ShardSource>,
    pub files: Vec<ShardFile>,
    /// Ed25519 signature (hex) of the canonical JSON of this record with `signature`
    /// empty.
    pub signature: String,
}

impl ShardRecord {
    fn label(&self) -> String {
        format!("{} {}", self.run, self.shard)
    }

    /// The bytes the node signs.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, AppError> {
        let mut unsigned = self.clone();
        unsigned.signature = String::new();
        let v = serde_json::to_value(&unsigned)
            .map_err(|e| AppError::BadInput(format!("shard record: {e}")))?;
        Ok(vigie_audit::canonical::to_canonical_vec(&v))
    }

    /// SHA-256 of the signed record (what the log remembers as merged).
    pub fn record_sha256(&self) -> Result<String, AppError> {
        let v = serde_json::to_value(self)
            .map_err(|e| AppError::BadInput(format!("shard record: {e}")))?;
        Ok(hex::encode(Sha256::digest(
            vigie_audit::canonical::to_canonical_vec(&v),
        )))
    }
}

/// One entry of a shard's journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub justification: Option<String>,
    pub event: Event,
}

/// The entries a shard makes, kept for its record instead of the case's log.
#[derive(Debug, Default)]
pub struct ShardJournal {
    entries: Mutex<Vec<JournalEntry>>,
}

impl ShardJournal {
    pub(crate) fn record(
        &self,
        event: &Event,
        justification: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<EntryRef, AppError> {
        use vigie_audit::Action;
        if matches!(
            event.action(),
            Action::Collection | Action::Alteration | Action::Disclosure | Action::Erasure
        ) {
            return Err(AppError::BadInput(format!(
                "a shard only analyses: `{}` is done on the main machine",
                event.kind()
            )));
        }
        let mut entries = self.entries.lock().expect("journal lock");
        let seq = entries.len() as u64;
        let entry = JournalEntry {
            seq,
            at,
            justification: justification.map(str::to_owned),
            event: event.clone(),
        };
        let bytes = serde_json::to_vec(&entry).unwrap_or_default();
        entries.push(entry);
        Ok(EntryRef {
            seq,
            hash: hex::encode(Sha256::digest(bytes)),
        })
    }

    fn entries(&self) -> Vec<JournalEntry> {
        self.entries.lock().expect("journal lock").clone()
    }
}

/// Alerts of a shard: into its journal (imported at merge) and onto stderr, which the
/// scheduler writes to the job's log under the case.
pub(crate) struct JournalAlerts {
    pub(crate) journal: Arc<ShardJournal>,
    pub(crate) clock: Arc<dyn vigie_audit::Clock>,
}

impl AlertSink for JournalAlerts {
    fn raise(&self, alert: &Alert) -> Result<(), AlertSinkError> {
        eprintln!("vigie: ALERT {:?}: {}", alert.kind, alert.message);
        self.journal
            .record(
                &Event::Alert {
                    kind: alert.kind,
                    message: alert.message.clone(),
                    details: alert.details.clone(),
                },
                None,
                self.clock.now(),
            )
            .map(|_| ())
            .map_err(|e| AlertSinkError(e.to_string()))
    }
}

/// `vigie analyze --shard`.
#[derive(Debug, Clone)]
pub struct ShardRequest {
    pub shard: ShardSpec,
    pub run: String,
    /// The node's key ([`NodeKey::default_path`] unless given).
    pub node_key: PathBuf,
    /// The analysis; its `sources`/`all` say which sources the plan splits.
    pub analyze: AnalyzeRequest,
}

/// What a shard did.
#[derive(Debug)]
pub struct ShardOutcome {
    pub dir: PathBuf,
    pub record: ShardRecord,
    pub analysis: AnalyzeOutcome,
}

impl ShardOutcome {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        json!({
            "case": self.record.case_id,
            "run": self.record.run,
            "shard": self.record.shard.to_string(),
            "dir": self.dir,
            "host": self.record.host,
            "assigned": self.record.assigned,
            "sources": self.record.sources,
            "plan_sha256": self.record.plan_sha256,
        })
    }

    /// Whether every source of the share was analysed (or already was).
    pub fn complete(&self) -> bool {
        self.record.sources.iter().all(|s| s.status != "failed")
    }
}

/// The settings that decide what an analysis finds (compared across a run's shards).
fn analysis_settings(req: &AnalyzeRequest) -> Value {
    let scene = req.scene.as_ref().map(|p| {
        let sha = vigie_evidence::hash_file(p, |_| {})
            .map(|(h, _)| h)
            .unwrap_or_default();
        json!({ "path": p, "sha256": sha })
    });
    json!({
        "detector": req.detector,
        // The precision the request resolves to on the node (`auto` is a fixed CPU-feature
        // test, vigie_detect::choice): two nodes that would analyse with float and int8
        // differ here, so their shards are not merged into one run (doc/models.md).
        "detector_precision": (req.detector == crate::analyze::DetectorChoice::Nanodet)
            .then(|| resolved_precision(req).to_string()),
        "detector_input": (req.detector == crate::analyze::DetectorChoice::Nanodet)
            .then(|| req.detector_input.to_string()),
        "device": req.device,
        "sampling": req.sampling.to_string(),
        "width": format!("{:?}", req.width),
        "motion_gate": req.motion_gate,
        "plates": req.plates.as_ref().map(|p| format!("{p:?}")),
        "plate_min_width_px": req.plate_min_width_px,
        "scene": scene,
    })
}

/// The precision `req` resolves to on this node.
fn resolved_precision(req: &AnalyzeRequest) -> vigie_detect::Precision {
    crate::analyze::resolve_precision(req.detector_precision, &req.device)
}

/// `vigie analyze` flags giving the same settings (plate reader options other than on
/// or off are the defaults'; a run with other plate flags names them in its scripts).
fn rerun_flags(req: &AnalyzeRequest) -> Vec<String> {
    let mut f = vec![
        "--detector".to_owned(),
        match req.detector {
            crate::analyze::DetectorChoice::Nanodet => "nanodet".to_owned(),
            crate::analyze::DetectorChoice::Motion => "motion".to_owned(),
        },
        "--sampling".to_owned(),
        req.sampling.to_string(),
        "--width".to_owned(),
        match req.width {
            vigie_decode::OutputSize::Native => "native".to_owned(),
            vigie_decode::OutputSize::MaxWidth(w) => w.to_string(),
            other => format!("{other:?}"),
        },
    ];
    if req.detector == crate::analyze::DetectorChoice::Nanodet {
        // The resolved precision, never `auto`: a shard re-run on a node of another CPU
        // kind must use the precision the rest of the run used, or the merge refuses it.
        f.push("--detector-precision".into());
        f.push(resolved_precision(req).to_string());
        if req.detector_input != vigie_detect::InputChoice::Auto {
            f.push("--detector-input".into());
            f.push(req.detector_input.to_string());
        }
    }
    if !req.motion_gate {
        f.push("--no-gate".into());
    }
    if req.plates.is_none() {
        f.push("--no-plates".into());
    }
    if let Some(scene) = &req.scene {
        f.push("--scene".into());
        f.push(scene.display().to_string());
    }
    if req.device != "cpu" {
        f.push("--device".into());
        f.push(req.device.clone());
    }
    f
}

/// The command that re-runs shard `spec` of `run` with `record`'s settings.
fn rerun_command(spec: ShardSpec, run: &str, flags: &[String]) -> String {
    let mut c = format!("vigie analyze --shard {spec} --run {run} --all");
    for f in flags {
        c.push(' ');
        if f.contains(' ') {
            c.push_str(&format!("'{f}'"));
        } else {
            c.push_str(f);
        }
    }
    c
}

/// The machine's name, for records (the signature, not this, identifies the node).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// SHA-256 of the running executable (hashed once per process).
fn binary_sha256() -> Result<String, AppError> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = HASH.get() {
        return Ok(h.clone());
    }
    let exe = std::env::current_exe().map_err(AppError::io(Path::new("/proc/self/exe")))?;
    let h = vigie_evidence::hash_file(&exe, |_| {})?.0;
    Ok(HASH.get_or_init(|| h).clone())
}

/// The runs directory of a case.
fn runs_dir(case_dir: &Path) -> PathBuf {
    case_dir.join(SHARDS_DIR)
}

/// Analyse this shard's share of the case's sources into its own directory.
pub fn run_shard(
    case: EnteredCase,
    req: &ShardRequest,
    progress: &dyn Progress,
) -> Result<ShardOutcome, AppError> {
    check_run(&req.run)?;
    let key = NodeKey::load(&req.node_key)?;
    let started_at = case.app().clock().now();
    let label = format!("{} {}", req.run, req.shard);

    // The plan, from the registry (each record checked against the chain).
    let records: Vec<SourceRecord> = if req.analyze.all {
        case.sources()?
    } else if req.analyze.sources.is_empty() {
        return Err(AppError::BadInput(
            "no source given: name the sources the shards split, or pass --all".into(),
        ));
    } else {
        req.analyze
            .sources
            .iter()
            .map(|s| case.find_source(s))
            .collect::<Result<_, _>>()?
    };
    let planned: Vec<PlannedSource> = records
        .iter()
        .map(|r| PlannedSource {
            source_id: r.source_id.clone(),
            sha256: r.sha256.clone(),
            duration_ms: r.meta.duration_ms,
        })
        .collect();
    let shares = plan(&planned, req.shard.count);
    let mine: Vec<PlannedSource> = shares[req.shard.index as usize].clone();
    let plan_hash = plan_sha256(&planned, req.shard.count);

    // Sources already in the case's index are left alone unless --force (as `analyze`).
    let case_index = DerivedLayout::new(case.case_dir()).existing_index().ok();
    let mut skipped = Vec::new();
    let mut todo = Vec::new();
    for s in &mine {
        let done = match &case_index {
            // Analysed completely: rows and tube file of the same run.
            Some(ix) if !req.analyze.force => {
                DerivedLayout::new(case.case_dir()).analysis_complete(ix, &s.source_id)?
            }
            _ => false,
        };
        if done {
            skipped.push(s.clone());
        } else {
            todo.push(s.source_id.clone());
        }
    }
    drop(case_index);

    // A staging directory only this process writes, renamed into place once signed.
    let run_dir = runs_dir(case.case_dir()).join(&req.run);
    vigie_audit::create_private_dir_all(&run_dir).map_err(AppError::io(&run_dir))?;
    let host = host_name();
    let staging = run_dir.join(format!(
        ".{}.{}.{}.partial",
        req.shard.dir_name(),
        host,
        std::process::id()
    ));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(AppError::io(&staging))?;
    }
    vigie_audit::create_private_dir_all(&staging).map_err(AppError::io(&staging))?;
    let journal = Arc::new(ShardJournal::default());
    let case = case.into_shard(&staging, journal.clone());

    let mut analyze = req.analyze.clone();
    analyze.all = false;
    analyze.sources = todo.clone();
    let analysis = if todo.is_empty() {
        AnalyzeOutcome {
            index: case.layout().index_path(),
            analysed: Vec::new(),
            skipped_already_analysed: Vec::new(),
            failed: Vec::new(),
        }
    } else {
        analyze_sources(&case, &analyze, progress)?
    };

    // The case may have been closed, or its authorisation may have ended, while this ran
    // (closure on another machine cannot see this one's lock): nothing is kept then.
    let still = vigie_case::CaseContext::enter(
        case.app().root(),
        case.case_id(),
        case.operator().as_str(),
        case.app().clock(),
    );
    if let Err(e) = still.and_then(|_| {
        if case.case_dir().join("closing").exists() {
            Err(vigie_case::CaseError::NoCase)
        } else {
            Ok(())
        }
    }) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(ShardError::CaseEnded {
            label,
            why: e.to_string(),
        }
        .into());
    }

    let mut sources = Vec::new();
    let by_id: BTreeMap<&str, &PlannedSource> =
        mine.iter().map(|s| (s.source_id.as_str(), s)).collect();
    for d in &analysis.analysed {
        sources.push(ShardSource {
            source_id: d.source_id.clone(),
            sha256: by_id
                .get(d.source_id.as_str())
                .map(|s| s.sha256.clone())
                .unwrap_or_default(),
            status: "analysed".into(),
            tracks: d.tracks as u64,
            error: None,
        });
    }
    for (id, e) in &analysis.failed {
        sources.push(ShardSource {
            source_id: id.clone(),
            sha256: by_id
                .get(id.as_str())
                .map(|s| s.sha256.clone())
                .unwrap_or_default(),
            status: "failed".into(),
            tracks: 0,
            error: Some(e.to_string()),
        });
    }
    for s in &skipped {
        sources.push(ShardSource {
            source_id: s.source_id.clone(),
            sha256: s.sha256.clone(),
            status: "skipped".into(),
            tracks: 0,
            error: Some("already in the case's index (use --force to redo)".into()),
        });
    }
    sources.sort_by(|a, b| a.source_id.cmp(&b.source_id));

    let entries = journal.entries();
    let mut models: BTreeSet<ModelRef> = BTreeSet::new();
    let mut text = Vec::new();
    for e in &entries {
        if let Event::ModelLoaded {
            model_id, sha256, ..
        } = &e.event
        {
            models.insert(ModelRef {
                model_id: model_id.clone(),
                sha256: sha256.clone(),
            });
        }
        serde_json::to_writer(&mut text, e)
            .map_err(|e| AppError::BadInput(format!("shard journal: {e}")))?;
        text.push(b'\n');
    }
    let journal_path = staging.join(JOURNAL_FILE);
    write_synced(&journal_path, &text)?;

    let mut files = Vec::new();
    list_files(&staging, &staging, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut record = ShardRecord {
        format: SHARD_FORMAT,
        case_id: case.case_id().to_owned(),
        procedure: case.procedure().to_owned(),
        run: req.run.clone(),
        shard: req.shard,
        plan_sha256: plan_hash,
        plan_sources: shares
            .iter()
            .flatten()
            .map(|s| s.source_id.clone())
            .collect(),
        assigned: mine.iter().map(|s| s.source_id.clone()).collect(),
        host,
        public_key: key.public_hex(),
        operator: case.operator().as_str().to_owned(),
        reason: case.reason().map(str::to_owned),
        started_at,
        finished_at: case.app().clock().now(),
        vigie_version: env!("CARGO_PKG_VERSION").to_owned(),
        binary_sha256: binary_sha256()?,
        models: models.into_iter().collect(),
        force: req.analyze.force,
        analysis: analysis_settings(&req.analyze),
        rerun_flags: rerun_flags(&req.analyze),
        sources,
        files,
        signature: String::new(),
    };
    record.signature = key.sign_hex(&record.signed_bytes()?);
    let text = serde_json::to_vec_pretty(&record)
        .map_err(|e| AppError::BadInput(format!("shard record: {e}")))?;
    write_synced(&staging.join(RECORD_FILE), &text)?;

    // Into place: a previous result of the same shard (a failed attempt re-run) is
    // replaced; one already merged stays recorded in the case's log by its hash.
    let dir = run_dir.join(req.shard.dir_name());
    if dir.exists() {
        let old = run_dir.join(format!(
            ".{}.replaced.{}",
            req.shard.dir_name(),
            std::process::id()
        ));
        std::fs::rename(&dir, &old).map_err(AppError::io(&dir))?;
        std::fs::remove_dir_all(&old).map_err(AppError::io(&old))?;
    }
    std::fs::rename(&staging, &dir).map_err(AppError::io(&dir))?;
    vigie_audit::sync_dir(&run_dir).map_err(AppError::io(&run_dir))?;
    Ok(ShardOutcome {
        dir,
        record,
        analysis,
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let mut f = std::fs::File::create(path).map_err(AppError::io(path))?;
    f.write_all(bytes).map_err(AppError::io(path))?;
    f.sync_all().map_err(AppError::io(path))
}

/// Every plain file under `dir` (relative to `base`), hashed; the record is left out.
fn list_files(base: &Path, dir: &Path, out: &mut Vec<ShardFile>) -> Result<(), AppError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(AppError::io(dir)(e)),
    };
    for entry in rd {
        let entry = entry.map_err(AppError::io(dir))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(AppError::io(&path))?;
        if ft.is_dir() {
            list_files(base, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if rel == RECORD_FILE {
                continue;
            }
            if !ft.is_file() {
                return Err(AppError::BadInput(format!(
                    "not a plain file in a shard result: {}",
                    path.display()
                )));
            }
            let (sha256, bytes) = vigie_evidence::hash_file(&path, |_| {})?;
            out.push(ShardFile {
                path: rel,
                sha256,
                bytes,
            });
        }
    }
    Ok(())
}

// ---- merge --------------------------------------------------------------------------

/// `vigie merge`.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    /// One run; every run of the case when `None`.
    pub run: Option<String>,
}

/// One shard merged (now or before).
#[derive(Debug, Clone, Serialize)]
pub struct MergedShard {
    pub run: String,
    pub shard: String,
    pub node: String,
    pub host: String,
    pub sources: Vec<String>,
    pub tracks: u64,
}

/// What a merge did.
#[derive(Debug, Default, Serialize)]
pub struct MergeOutcome {
    pub merged: Vec<MergedShard>,
    pub already_merged: Vec<MergedShard>,
    /// Shards of a run with no finished result: `run I/N` and the command to re-run.
    pub missing: Vec<Value>,
    /// Sources a shard could not analyse (its other sources were merged).
    pub failed: Vec<Value>,
    /// Shard results refused, with the reason (each also raised an alert).
    pub refused: Vec<Value>,
}

impl MergeOutcome {
    /// Every shard of every run merged, now or before, with no source failed.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty() && self.refused.is_empty()
    }
}

/// What the case's log says was merged: record hashes, and each source's record. Read
/// once per merge and kept up to date as shards are merged (not once per shard).
#[derive(Debug, Default)]
struct Merged {
    records: BTreeSet<String>,
    sources: BTreeMap<String, String>,
}

impl Merged {
    fn from_log(case: &EnteredCase) -> Result<Self, AppError> {
        let mut m = Merged::default();
        for e in case
            .context()
            .audit_log()
            .entries_but_consultations()?
            .iter()
        {
            if let Some(Event::ShardMerged {
                record_sha256,
                sources,
                ..
            }) = Event::from_entry(e)
            {
                m.add(record_sha256, sources.into_iter().map(|(id, _)| id));
            }
        }
        Ok(m)
    }

    fn add(&mut self, record_sha256: String, sources: impl IntoIterator<Item = String>) {
        for id in sources {
            self.sources.insert(id, record_sha256.clone());
        }
        self.records.insert(record_sha256);
    }
}

/// Verify and import every finished shard of the case's runs (or of one run).
pub fn merge_shards(case: &EnteredCase, req: &MergeRequest) -> Result<MergeOutcome, AppError> {
    if let Some(run) = &req.run {
        check_run(run)?;
    }
    let root = runs_dir(case.case_dir());
    let mut runs: Vec<String> = match std::fs::read_dir(&root) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| check_run(n).is_ok())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(AppError::io(&root)(e)),
    };
    if let Some(run) = &req.run {
        if !runs.contains(run) {
            return Err(AppError::BadInput(format!(
                "no shard result for run {run:?} in case {}: run `vigie analyze --shard I/N --run {run}` first (under {})",
                case.case_id(),
                root.display()
            )));
        }
        runs = vec![run.clone()];
    }
    runs.sort();
    // One merge at a time, on every machine: a marker created exclusively (O_EXCL holds
    // on shared file systems where `flock` may not), removed when the merge ends.
    let marker = root.join(MERGE_MARKER);
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let who = std::fs::read_to_string(&marker).unwrap_or_default();
            return Err(AppError::BadInput(format!(
                "another merge is running on this case ({}); wait for it, or if it died, remove {} and merge again (merging twice changes nothing)",
                who.trim(),
                marker.display()
            )));
        }
        Err(e) => return Err(AppError::io(&marker)(e)),
    };
    let _ = writeln!(
        f,
        "host {} pid {} since {}",
        host_name(),
        std::process::id(),
        case.app().clock().now().to_rfc3339()
    );
    drop(f);
    let mut out = MergeOutcome::default();
    let result = Merged::from_log(case).and_then(|mut merged| {
        runs.iter()
            .try_for_each(|run| merge_run(case, &root.join(run), run, &mut merged, &mut out))
    });
    let _ = std::fs::remove_file(&marker);
    result.map(|()| out)
}

/// The marker of a running merge, in `<case>/shards/`.
pub const MERGE_MARKER: &str = ".merging";

fn merge_run(
    case: &EnteredCase,
    dir: &Path,
    run: &str,
    merged: &mut Merged,
    out: &mut MergeOutcome,
) -> Result<(), AppError> {
    let mut shard_dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(AppError::io(dir))?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("shard-") && e.file_type().map(|t| t.is_dir()).unwrap_or(false)
        })
        .map(|e| e.path())
        .collect();
    shard_dirs.sort();
    let mut counts = BTreeSet::new();
    let mut present = BTreeSet::new();
    let mut run_settings: Option<RunSettings> = None;
    let mut flags: Vec<String> = Vec::new();
    for sdir in shard_dirs {
        let name = sdir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let shard_name = name
            .strip_prefix("shard-")
            .map(|n| n.replace("-of-", "/"))
            .unwrap_or(name.clone());
        let record = match read_record(&sdir) {
            Ok(r) => r,
            // Not finished (or abandoned): listed with the missing ones below.
            Err(_) if !sdir.join(RECORD_FILE).exists() => continue,
            Err(why) => {
                refuse(case, out, run, &shard_name, &sdir, why);
                continue;
            }
        };
        let spec = record.shard;
        match check_and_import(case, &sdir, run, &record, merged, &mut run_settings) {
            Ok(merge) => {
                counts.insert(spec.count);
                present.insert((spec.index, spec.count));
                if flags.is_empty() {
                    flags = record.rerun_flags.clone();
                }
                for s in record.sources.iter().filter(|s| s.status == "failed") {
                    out.failed.push(json!({
                        "run": run, "shard": spec.to_string(), "source_id": s.source_id,
                        "error": s.error,
                        "rerun": rerun_command(spec, run, &record.rerun_flags),
                    }));
                }
                match merge {
                    Merge::Done(m) => out.merged.push(m),
                    Merge::Already(m) => out.already_merged.push(m),
                }
            }
            Err(why) => refuse(case, out, run, &spec.to_string(), &sdir, why),
        }
    }
    for count in counts {
        for index in 0..count {
            if !present.contains(&(index, count)) {
                let spec = ShardSpec { index, count };
                out.missing.push(json!({
                    "run": run, "shard": spec.to_string(),
                    "rerun": rerun_command(spec, run, &flags),
                }));
            }
        }
    }
    Ok(())
}

/// A scratch file removed when dropped (on every way out of a merge).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // SQLite's companions, when the copy was opened.
        for ext in ["-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// What every shard of a run must share.
struct RunSettings {
    plan_sha256: String,
    count: u32,
    analysis: Value,
}

enum Merge {
    Done(MergedShard),
    Already(MergedShard),
}

fn read_record(dir: &Path) -> Result<ShardRecord, String> {
    let path = dir.join(RECORD_FILE);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a shard record: {e}", path.display()))
}

/// A refusal: listed, and an alert for the data controller.
fn refuse(
    case: &EnteredCase,
    out: &mut MergeOutcome,
    run: &str,
    shard: &str,
    dir: &Path,
    why: String,
) {
    let label = format!("{run} {shard}");
    let mut details = BTreeMap::new();
    details.insert("shard".into(), label.clone());
    details.insert("reason".into(), why.clone());
    details.insert("path".into(), dir.display().to_string());
    let _ = case.alert_sink().raise(&Alert {
        kind: AlertKind::ShardRefused,
        message: format!("shard result {label} refused at merge; nothing of it was imported"),
        details,
    });
    out.refused
        .push(json!({ "run": run, "shard": shard, "path": dir, "reason": why }));
}

fn check_and_import(
    case: &EnteredCase,
    dir: &Path,
    run: &str,
    record: &ShardRecord,
    merged: &mut Merged,
    run_settings: &mut Option<RunSettings>,
) -> Result<Merge, String> {
    let e = |x: AppError| x.to_string();
    // 1. Where it lies is what it says it is.
    if record.format != SHARD_FORMAT {
        return Err(format!(
            "record format {} (this vigie reads {SHARD_FORMAT})",
            record.format
        ));
    }
    if record.case_id != case.case_id() || record.procedure != case.procedure() {
        return Err(format!(
            "it belongs to case {} (procedure {}), not to {}",
            record.case_id,
            record.procedure,
            case.case_id()
        ));
    }
    let spec = record.shard;
    if spec.count == 0 || spec.count > 4096 || spec.index >= spec.count {
        return Err(format!(
            "it says shard {spec}, which no run has: a run has 1 to 4096 shards, numbered from 0; run the shard again with --shard I/N"
        ));
    }
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    if record.run != run || record.shard.dir_name() != name {
        return Err(format!(
            "it says run {} shard {} but lies in {run}/{name} (moved or copied)",
            record.run, record.shard
        ));
    }
    // 2. Signed by an enrolled node.
    let node = crate::nodes::node_by_key(case.app(), &record.public_key)
        .map_err(e)?
        .ok_or_else(|| {
            format!(
                "its key {} is not an enrolled node's (an administrator runs `vigie node enroll NAME --public-key {}` after checking it)",
                &record.public_key.get(..16).unwrap_or(&record.public_key),
                record.public_key
            )
        })?;
    if !crate::nodes::verify_signature(
        &record.public_key,
        &record.signed_bytes().map_err(e)?,
        &record.signature,
    ) {
        return Err(format!(
            "its signature does not verify with node {}'s key: the record was changed after the node signed it",
            node.name
        ));
    }
    let record_sha = record.record_sha256().map_err(e)?;
    let summary = |sources: Vec<String>| MergedShard {
        run: run.to_owned(),
        shard: record.shard.to_string(),
        node: node.name.clone(),
        host: record.host.clone(),
        tracks: record
            .sources
            .iter()
            .filter(|s| s.status == "analysed")
            .map(|s| s.tracks)
            .sum(),
        sources,
    };
    let analysed: Vec<&ShardSource> = record
        .sources
        .iter()
        .filter(|s| s.status == "analysed")
        .collect();
    // 3. One run is one plan and one analysis: the first shard read sets them.
    match run_settings {
        Some(r) if r.plan_sha256 != record.plan_sha256 || r.count != record.shard.count => {
            return Err(format!(
                "its plan ({} of {} shards) differs from the other shards' of run {run} ({} of {}): the sources or the number of shards changed between shards; start a new run",
                &record.plan_sha256[..12.min(record.plan_sha256.len())],
                record.shard.count,
                &r.plan_sha256[..12.min(r.plan_sha256.len())],
                r.count
            ))
        }
        Some(r) if r.analysis != record.analysis => {
            return Err(format!(
                "its analysis settings ({}) differ from the other shards' of run {run} ({}): re-run it with the same flags",
                record.analysis, r.analysis
            ))
        }
        Some(_) => {}
        None => {
            *run_settings = Some(RunSettings {
                plan_sha256: record.plan_sha256.clone(),
                count: record.shard.count,
                analysis: record.analysis.clone(),
            })
        }
    }
    if merged.records.contains(&record_sha) {
        return Ok(Merge::Already(summary(
            analysed.iter().map(|s| s.source_id.clone()).collect(),
        )));
    }
    // 4. Same software and models as this installation (and as the case's log).
    if record.vigie_version != env!("CARGO_PKG_VERSION") {
        return Err(format!(
            "it was made by vigie {} and this is vigie {}: run the same build on every node",
            record.vigie_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    let ours = binary_sha256().map_err(e)?;
    if record.binary_sha256 != ours {
        return Err(format!(
            "its vigie executable (SHA-256 {}) is not this one ({}): run the same build on every node",
            record.binary_sha256, ours
        ));
    }
    for m in &record.models {
        let allowed = vigie_policy::models()
            .iter()
            .find(|s| s.id == m.model_id)
            .map(|s| s.sha256_hex());
        if allowed.as_deref() != Some(m.sha256.as_str()) {
            return Err(format!(
                "model {} with SHA-256 {} is not this installation's allowlisted model",
                m.model_id, m.sha256
            ));
        }
    }
    // 5. Every file as the node signed it, and nothing else.
    let mut found = Vec::new();
    list_files(dir, dir, &mut found).map_err(e)?;
    found.sort_by(|a, b| a.path.cmp(&b.path));
    if found != record.files {
        let listed: BTreeMap<&str, &ShardFile> =
            record.files.iter().map(|f| (f.path.as_str(), f)).collect();
        let on_disk: BTreeMap<&str, &ShardFile> =
            found.iter().map(|f| (f.path.as_str(), f)).collect();
        let mut bad: Vec<String> = Vec::new();
        for (p, f) in &listed {
            match on_disk.get(p) {
                None => bad.push(format!("{p} missing")),
                Some(g) if g != f => bad.push(format!("{p} changed")),
                _ => {}
            }
        }
        for p in on_disk.keys().filter(|p| !listed.contains_key(*p)) {
            bad.push(format!("{p} added"));
        }
        return Err(format!(
            "its files differ from what the node signed: {}",
            bad.join(", ")
        ));
    }
    // 6. The share is the plan's, rebuilt here from the case's registry: a shard cannot
    // claim sources the plan gave to another, nor a plan of sources never collected.
    let mut planned = Vec::with_capacity(record.plan_sources.len());
    for id in &record.plan_sources {
        let rec = case
            .find_source(id)
            .ok()
            .filter(|r| &r.source_id == id)
            .ok_or_else(|| {
                format!("its plan names source {id:?}, which this case never collected")
            })?;
        planned.push(PlannedSource {
            source_id: rec.source_id.clone(),
            sha256: rec.sha256.clone(),
            duration_ms: rec.meta.duration_ms,
        });
    }
    if plan_sha256(&planned, spec.count) != record.plan_sha256 {
        return Err(format!(
            "its plan hash {} is not the hash of its {} sources as this case registered them: the record was not made from this case's registry; start a new run",
            &record.plan_sha256[..12.min(record.plan_sha256.len())],
            planned.len()
        ));
    }
    let shares = plan(&planned, spec.count);
    let mut share: Vec<&str> = shares[spec.index as usize]
        .iter()
        .map(|p| p.source_id.as_str())
        .collect();
    let mut assigned: Vec<&str> = record.assigned.iter().map(String::as_str).collect();
    share.sort_unstable();
    assigned.sort_unstable();
    if share != assigned {
        return Err(format!(
            "its share ({}) is not what the plan gives shard {spec} ({}); start a new run",
            assigned.join(", "),
            share.join(", ")
        ));
    }
    if let Some(s) = record
        .sources
        .iter()
        .find(|s| !record.assigned.contains(&s.source_id))
    {
        return Err(format!(
            "it reports source {}, which is not in its share",
            s.source_id
        ));
    }
    // The operator it names works in this case (once the installation has accounts).
    let operator = crate::Operator::new(&record.operator).map_err(e)?;
    crate::accounts::check_case_entry(case.app(), &operator, case.case_id(), &case.alert_sink())
        .map_err(|x| format!("its operator {:?} was refused: {x}", record.operator))?;
    // What is read from here on is checked against the signed hashes again, as read (a
    // file swapped after step 5 is caught).
    let signed = |rel: &str| record.files.iter().find(|f| f.path == rel);
    // A copied file is hashed as copied and must be what the node signed.
    let check_copy = |rel: &str, copied: &Path| -> Result<(), AppError> {
        let (sha256, _) = vigie_evidence::hash_file(copied, |_| {})?;
        if signed(rel).map(|f| f.sha256.as_str()) != Some(sha256.as_str()) {
            return Err(AppError::BadInput(format!(
                "{rel} changed while the shard was merged; merge again once nothing writes to the shard's folder"
            )));
        }
        Ok(())
    };
    // The shard's index, read from a copy (opening the signed file would change it),
    // checked as copied, removed when the merge is done with it.
    let shard_layout = DerivedLayout::new(dir);
    let case_layout = case.layout();
    let derived = case_layout.ensure_derived().map_err(e)?;
    let copy = RemoveOnDrop(derived.join(format!(".merge-{}.sqlite", std::process::id())));
    let shard_ix = if analysed.is_empty() {
        None
    } else {
        std::fs::copy(shard_layout.index_path(), &copy.0).map_err(|x| x.to_string())?;
        check_copy(
            &format!("derived/{}", vigie_index::INDEX_FILE_NAME),
            &copy.0,
        )
        .map_err(e)?;
        Some(vigie_index::Index::open_existing(&copy.0).map_err(|x| x.to_string())?)
    };
    // A source whose rows in the case come from the very analysis this shard holds (the
    // same run id): a merge of this shard that was interrupted after its rows were
    // written and before the log recorded it. Merging again imports the same rows and
    // records what the log lacks, instead of refusing a duplicate for good.
    let run_of = |ix: &vigie_index::Index, id: &str| -> Option<String> {
        ix.source(id).ok().flatten().and_then(|i| i.record.run_id)
    };
    // 6a. Sources registered with the same bytes, in the plan, and not merged already.
    let case_index = case.index_or_new().map_err(e)?;
    for s in &analysed {
        let rec = case.find_source(&s.source_id).map_err(e)?;
        if rec.sha256 != s.sha256 {
            return Err(format!(
                "source {} has SHA-256 {} in the case, {} in the shard",
                s.source_id, rec.sha256, s.sha256
            ));
        }
        if !record.assigned.contains(&s.source_id) {
            return Err(format!(
                "source {} is not in the shard's share",
                s.source_id
            ));
        }
        if let Some(other) = merged.sources.get(&s.source_id) {
            if !record.force {
                return Err(format!(
                    "duplicate: source {} was merged from another shard result (record {}); re-run with --force to replace it",
                    s.source_id,
                    &other[..12.min(other.len())]
                ));
            }
        } else if case_index
            .is_analysed(&s.source_id)
            .map_err(|x| x.to_string())?
            && !record.force
            && !shard_ix.as_ref().is_some_and(|ix| {
                run_of(ix, &s.source_id)
                    .is_some_and(|run| run_of(&case_index, &s.source_id) == Some(run))
            })
        {
            return Err(format!(
                "duplicate: source {} is already in the case's index; re-run the shard with --force to replace it",
                s.source_id
            ));
        }
    }
    drop(case_index);
    // 6b. The node's entries: only what an analysis records, about its own share.
    let journal_bytes = std::fs::read(dir.join(JOURNAL_FILE)).map_err(|x| x.to_string())?;
    if signed(JOURNAL_FILE).map(|f| f.sha256.as_str())
        != Some(hex::encode(Sha256::digest(&journal_bytes)).as_str())
    {
        return Err(format!(
            "its {JOURNAL_FILE} changed while it was checked; merge again once nothing writes to the shard's folder"
        ));
    }
    let mut journal = Vec::new();
    let mut analyses_seen: BTreeMap<String, Value> = BTreeMap::new();
    for line in journal_bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
    {
        let entry: JournalEntry = serde_json::from_slice(line)
            .map_err(|x| format!("its journal has an unreadable entry: {x}"))?;
        let about = match &entry.event {
            Event::ModelLoaded {
                model_id,
                sha256,
                task,
                source_id,
                ..
            } => {
                // One of the models the record lists (each checked against the
                // allowlist above), as the allowlist describes it.
                let listed = record
                    .models
                    .iter()
                    .any(|m| &m.model_id == model_id && &m.sha256 == sha256);
                let spec_task = vigie_policy::models()
                    .iter()
                    .find(|s| s.id == model_id.as_str())
                    .map(|s| s.task.as_str());
                if !listed || spec_task != Some(task.as_str()) {
                    return Err(format!(
                        "its journal records loading model {model_id} (SHA-256 {sha256}, task {task}), which is not a model of its record as this installation's allowlist describes it"
                    ));
                }
                source_id.clone()
            }
            Event::SourceAnalysed {
                source_id,
                sha256,
                tracks,
                analysis,
                ..
            } => {
                let Some(s) = analysed.iter().find(|s| &s.source_id == source_id) else {
                    return Err(format!(
                        "its journal records an analysis of source {source_id}, which the record does not list as analysed"
                    ));
                };
                if &s.sha256 != sha256 || s.tracks != *tracks {
                    return Err(format!(
                        "its journal's analysis of source {source_id} (SHA-256 {sha256}, {tracks} tracks) disagrees with its record (SHA-256 {}, {} tracks)",
                        s.sha256, s.tracks
                    ));
                }
                if analyses_seen
                    .insert(source_id.clone(), analysis.clone())
                    .is_some()
                {
                    return Err(format!(
                        "its journal records source {source_id} analysed twice"
                    ));
                }
                Some(source_id.clone())
            }
            Event::WorkStopped { source_id, .. } => source_id.clone(),
            Event::Alert { .. } => None,
            other => {
                return Err(format!(
                    "its journal holds a `{}` entry, which a shard never writes",
                    other.kind()
                ))
            }
        };
        if let Some(id) = about {
            if !record.assigned.contains(&id) {
                return Err(format!(
                    "its journal speaks of source {id}, which is not in the shard's share"
                ));
            }
        }
        journal.push(entry);
    }
    if let Some(s) = analysed
        .iter()
        .find(|s| !analyses_seen.contains_key(&s.source_id))
    {
        return Err(format!(
            "its journal has no record of analysing source {}, which its record lists as analysed",
            s.source_id
        ));
    }
    // 7. Import: every source checked first, then the files, then the rows of every
    // source in one transaction (all or none, as `analyze`: files first, rows last). A
    // failure removes the files it copied: nothing of the shard is left in the case.
    let mut created: Vec<PathBuf> = Vec::new();
    let mut replaced: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<(), AppError> {
        if analysed.is_empty() {
            // Every source of the share was skipped or failed: nothing to import.
            return Ok(());
        }
        let Some(shard_ix) = shard_ix.as_ref() else {
            return Ok(());
        };
        let bad = |m: String| AppError::BadInput(m);
        let mut rows = Vec::with_capacity(analysed.len());
        let mut files: Vec<String> = Vec::new();
        for s in &analysed {
            let info = shard_ix.source(&s.source_id)?.ok_or_else(|| {
                bad(format!(
                    "source {} is not in the shard's index",
                    s.source_id
                ))
            })?;
            let tracks = shard_ix.tracks_of_source(&s.source_id)?;
            // The rows say what the record and the journal say, of the registered file,
            // and under the camera this case gives it.
            let registered = case.find_source(&s.source_id)?;
            let camera = case.timing(&registered).camera;
            if info.record.sha256 != registered.sha256 || tracks.len() as u64 != s.tracks {
                return Err(bad(format!(
                    "source {} has SHA-256 {} and {} tracks in the shard's index, where its record says {} and {}",
                    s.source_id,
                    info.record.sha256,
                    tracks.len(),
                    s.sha256,
                    s.tracks
                )));
            }
            if info.record.params.get("analysis") != analyses_seen.get(&s.source_id) {
                return Err(bad(format!(
                    "source {}'s analysis settings in the shard's index differ from those its journal recorded",
                    s.source_id
                )));
            }
            if let Some(t) = tracks.iter().find(|t| t.source_id != s.source_id) {
                return Err(bad(format!(
                    "track {} of source {} says it belongs to source {}",
                    t.track_id, s.source_id, t.source_id
                )));
            }
            // Only where analysis writes, under the names it gives: a path a node made
            // up (`../../audit/...`) never reaches the case's directory.
            files.push(format!("tubes/{}.json", s.source_id));
            for t in &tracks {
                for (dir, path) in [
                    ("thumbnails", t.thumbnail.as_deref()),
                    ("plates", t.plate.as_ref().and_then(|p| p.crop.as_deref())),
                ] {
                    let Some(path) = path else { continue };
                    let own = path
                        .strip_prefix(dir)
                        .and_then(|p| p.strip_prefix('/'))
                        .is_some_and(|name| {
                            crate::analyze::is_image_name_of(name, &s.source_id, t.track_id)
                        });
                    if !own {
                        return Err(bad(format!(
                            "track {} of source {} names the file {path:?}, not {dir}/{}_{}_<run>.jpg",
                            t.track_id, s.source_id, s.source_id, t.track_id
                        )));
                    }
                    files.push(path.to_owned());
                }
            }
            // Under the camera this case gives the source now (it may have been named
            // since the shard ran; the clock is re-applied at the next entry, as for any
            // source whose camera or clock changed).
            let mut record = info.record.clone();
            record.camera = camera.clone();
            record.path = Some(registered.path.display().to_string());
            let tracks: Vec<vigie_core::TrackSummary> = tracks
                .into_iter()
                .map(|mut t| {
                    t.camera = camera.clone();
                    t
                })
                .collect();
            vigie_index::validate_source(&record, &tracks)?;
            rows.push((record, tracks));
        }
        for r in files {
            let from = shard_layout.derived().join(&r);
            let to = derived.join(&r);
            if let Some(parent) = to.parent() {
                vigie_audit::create_private_dir_all(parent).map_err(AppError::io(parent))?;
            }
            // Copied beside its place, checked, then put in place: a file that changed
            // under the merge never replaces the case's.
            let tmp = to.with_file_name(format!(
                ".{}.merging",
                to.file_name().unwrap_or_default().to_string_lossy()
            ));
            std::fs::copy(&from, &tmp).map_err(AppError::io(&from))?;
            if let Err(x) = check_copy(&format!("derived/{r}"), &tmp) {
                let _ = std::fs::remove_file(&tmp);
                return Err(x);
            }
            // A file of the case replaced (a forced re-analysis: the source's tube file)
            // is kept aside until the rows are in, and put back on failure.
            if to.exists() {
                let aside = to.with_file_name(format!(
                    ".{}.before-merge",
                    to.file_name().unwrap_or_default().to_string_lossy()
                ));
                std::fs::rename(&to, &aside).map_err(AppError::io(&to))?;
                replaced.push((to.clone(), aside));
            } else {
                created.push(to.clone());
            }
            std::fs::rename(&tmp, &to).map_err(AppError::io(&to))?;
        }
        let mut case_ix = case.index_or_new()?;
        let items: Vec<(&vigie_index::SourceRecord, &[vigie_core::TrackSummary])> =
            rows.iter().map(|(r, t)| (r, t.as_slice())).collect();
        case_ix.write_sources(&items)?;
        Ok(())
    })();
    drop(shard_ix);
    drop(copy);
    if result.is_err() {
        for f in &created {
            let _ = std::fs::remove_file(f);
        }
        for (to, aside) in &replaced {
            let _ = std::fs::rename(aside, to);
        }
    } else {
        for (_, aside) in &replaced {
            let _ = std::fs::remove_file(aside);
        }
    }
    result.map_err(e)?;
    // 8. The log: the node's own entries, each naming the shard, then the merge, whose
    // entry notes in the machine log the case log's head that holds them all.
    let failed: Vec<(String, String)> = record
        .sources
        .iter()
        .filter(|s| s.status == "failed")
        .map(|s| (s.source_id.clone(), s.error.clone().unwrap_or_default()))
        .collect();
    for entry in &journal {
        match &entry.event {
            Event::Alert {
                kind,
                message,
                details,
            } => {
                let mut details = details.clone();
                details.insert("shard".into(), record.label());
                details.insert("node".into(), node.name.clone());
                details.insert("at".into(), entry.at.to_rfc3339());
                let _ = case.alert_sink().raise(&Alert {
                    kind: *kind,
                    message: message.clone(),
                    details,
                });
            }
            _ => {
                case.record_for(
                    &entry.event,
                    &format!(
                        "shard {} on node {} ({}) at {}, operator {}: {}",
                        record.label(),
                        node.name,
                        record.host,
                        entry.at.to_rfc3339(),
                        record.operator,
                        entry
                            .justification
                            .as_deref()
                            .or(record.reason.as_deref())
                            .unwrap_or("-")
                    ),
                )
                .map_err(e)?;
            }
        }
    }
    case.record(&Event::ShardMerged {
        run: run.to_owned(),
        shard: record.shard.index,
        count: record.shard.count,
        node: node.name.clone(),
        host: record.host.clone(),
        operator: record.operator.clone(),
        reason: record.reason.clone(),
        started_at: record.started_at.to_rfc3339(),
        finished_at: record.finished_at.to_rfc3339(),
        record_sha256: record_sha.clone(),
        sources: analysed
            .iter()
            .map(|s| (s.source_id.clone(), s.sha256.clone()))
            .collect(),
        failed,
    })
    .map_err(e)?;
    merged.add(
        record_sha.clone(),
        analysed.iter().map(|s| s.source_id.clone()),
    );
    Ok(Merge::Done(summary(
        analysed.iter().map(|s| s.source_id.clone()).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::DetectorChoice;

    fn request(detector: DetectorChoice, device: &str) -> AnalyzeRequest {
        AnalyzeRequest {
            all: true,
            sources: Vec::new(),
            detector,
            detector_precision: vigie_detect::PrecisionChoice::Auto,
            detector_input: vigie_detect::InputChoice::Auto,
            scene: None,
            force: false,
            jobs: 1,
            device: device.into(),
            motion_gate: true,
            sampling: "all".parse().unwrap(),
            width: vigie_decode::OutputSize::Native,
            decoder_threads: 1,
            plates: None,
            plate_min_width_px: 0.0,
        }
    }

    /// The precision `auto` resolves to on the node is part of the settings compared at
    /// merge, so shards of nodes that would use float and int8 are never merged into one
    /// run; the motion detector has no precision.
    #[test]
    fn the_resolved_precision_is_in_the_compared_settings() {
        let here = vigie_detect::PrecisionChoice::Auto
            .resolve_here(true)
            .to_string();
        let s = analysis_settings(&request(DetectorChoice::Nanodet, "cpu"));
        assert_eq!(s["detector_precision"], here.as_str());
        // A GPU node resolves float whatever its CPU.
        let s = analysis_settings(&request(DetectorChoice::Nanodet, "cuda:0"));
        assert_eq!(s["detector_precision"], "float");
        let s = analysis_settings(&request(DetectorChoice::Motion, "cpu"));
        assert!(s["detector_precision"].is_null(), "{s}");
    }

    /// A forced precision is what every node records, whatever its CPU, and the re-run
    /// A size asked for (`--detector-input 768x448`) decides what the run finds: shards
    /// that used another size are not merged with it, and their re-run commands ask for it
    /// again. `auto` adds no flag (the rule by shape is the default).
    #[test]
    fn an_asked_detector_input_is_recorded_and_rerun_as_such() {
        let auto = request(DetectorChoice::Nanodet, "cpu");
        assert_eq!(analysis_settings(&auto)["detector_input"], "auto");
        assert!(!rerun_flags(&auto).iter().any(|f| f == "--detector-input"));
        let fine = AnalyzeRequest {
            detector_input: vigie_detect::InputChoice::Wide768x448,
            ..request(DetectorChoice::Nanodet, "cpu")
        };
        assert_ne!(analysis_settings(&fine), analysis_settings(&auto));
        assert_eq!(analysis_settings(&fine)["detector_input"], "768x448");
        let flags = rerun_flags(&fine);
        let at = flags
            .iter()
            .position(|f| f == "--detector-input")
            .expect("input flag");
        assert_eq!(flags[at + 1], "768x448", "{flags:?}");
        let motion = AnalyzeRequest {
            detector_input: vigie_detect::InputChoice::Wide768x448,
            ..request(DetectorChoice::Motion, "cpu")
        };
        assert!(analysis_settings(&motion)["detector_input"].is_null());
    }

    /// commands of a run carry the resolved precision, never `auto`.
    #[test]
    fn a_forced_precision_is_recorded_and_rerun_as_such() {
        for (choice, want) in [
            (vigie_detect::PrecisionChoice::Float, "float"),
            (vigie_detect::PrecisionChoice::Int8, "int8"),
        ] {
            let req = AnalyzeRequest {
                detector_precision: choice,
                ..request(DetectorChoice::Nanodet, "cpu")
            };
            assert_eq!(analysis_settings(&req)["detector_precision"], want);
            let flags = rerun_flags(&req);
            let at = flags
                .iter()
                .position(|f| f == "--detector-precision")
                .expect("precision flag");
            assert_eq!(flags[at + 1], want, "{flags:?}");
        }
        let here = vigie_detect::PrecisionChoice::Auto
            .resolve_here(true)
            .to_string();
        let flags = rerun_flags(&request(DetectorChoice::Nanodet, "cpu"));
        assert!(flags
            .windows(2)
            .any(|w| w[0] == "--detector-precision" && w[1] == here));
        let flags = rerun_flags(&request(DetectorChoice::Motion, "cpu"));
        assert!(
            !flags.iter().any(|f| f == "--detector-precision"),
            "{flags:?}"
        );
    }
}
