//! The entered case: the permission every use of footage or results needs.

use std::path::Path;

use vigie_audit::event::{Event, FileHash};
use vigie_audit::EntryRef;
use vigie_case::{CaseContext, CaseMeta, WorkGuard};
use vigie_core::{Alert, AlertKind, AlertSink};
use vigie_evidence::{Registry, SourceRecord};

use crate::app::App;
use crate::error::AppError;
use crate::export::ExportTarget;
use crate::layout::DerivedLayout;
use crate::operator::Operator;
use crate::progress::CancelToken;

/// An open, authorised, unexpired case entered by one operator for one command.
///
/// Only [`EnteredCase::enter`] makes one, and it refuses an unknown, closed, expired or
/// closing case. While it lives, the case's lock is held shared, so closure cannot erase
/// derived data under running work; long work calls [`EnteredCase::checkpoint`], which
/// stops it when closure asks, when the front end cancels, or when the authorisation
/// runs out.
pub struct EnteredCase {
    app: App,
    ctx: CaseContext,
    registry: Registry,
    operator: Operator,
    reason: Option<String>,
    layout: DerivedLayout,
    cancel: CancelToken,
    command: String,
    work: WorkGuard,
    /// Where this work's entries and alerts go: the case's log, or (a shard on a compute
    /// node) the shard's own journal, signed with the node's key and imported by
    /// `vigie merge`.
    journal: Journal,
    /// What the case's chain says, replayed at entry and again after this work records a
    /// collection or an alteration (an ingest, a camera or clock change), so the same
    /// entered case sees what it just did.
    chain: std::sync::RwLock<ChainView>,
}

/// A source's files opened once, not hashed ([`EnteredCase::pin_source`]).
#[derive(Debug)]
pub struct PinnedSource {
    original: vigie_evidence::PinnedFile,
    /// The salvaged stream decoded instead of the original, when there is one.
    stream: Option<vigie_evidence::PinnedFile>,
}

impl PinnedSource {
    /// What a decoder opens: the salvaged stream's inode if any, else the original's.
    pub fn decode_path(&self) -> std::path::PathBuf {
        self.stream.as_ref().unwrap_or(&self.original).read_path()
    }
    /// The original's size when it was opened.
    pub fn original_size(&self) -> u64 {
        self.original.identity().size
    }
}

/// Where an entered case's entries go.
enum Journal {
    CaseLog,
    Shard(std::sync::Arc<crate::shard::ShardJournal>),
}

/// The parts of the case's chain a use case checks against.
struct ChainView {
    /// Each source's hash, size and start time as its collection entry recorded them.
    collected: std::collections::BTreeMap<String, vigie_case::chain::ChainSource>,
    /// Cameras and clock corrections.
    book: vigie_case::timebook::TimeBook,
}

impl ChainView {
    fn replay(entries: &[vigie_audit::Entry]) -> Self {
        Self {
            collected: vigie_case::chain::replay_sources(entries),
            book: vigie_case::timebook::TimeBook::replay(entries),
        }
    }

    /// The view of `log` as it is now. Every entry into the case replays it (a web
    /// server: every page view) and a case in use holds thousands of entries, mostly
    /// consultations, which the replay does not look at: the log is read from where the
    /// last reading stopped, without them (`AuditLog::entries_but_consultations`).
    fn of(log: &vigie_audit::AuditLog) -> Result<Self, AppError> {
        Ok(Self::replay(&log.entries_but_consultations()?))
    }
}

/// Refuse a case whose folders are links (or files): `derived/` linked to another case's
/// made that case's index and tubes this case's, and what this case then wrote went
/// there. Each folder that exists must be a real folder, right under the case's own.
fn check_own_folders(ctx: &CaseContext) -> Result<(), AppError> {
    for sub in vigie_case::SUBDIRS
        .iter()
        .chain(vigie_case::ERASED_AT_CLOSURE.iter())
    {
        let path = ctx.dir().join(sub);
        let why = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => format!("cannot be read: {e}"),
            Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(&path) {
                Ok(to) => format!("a link to {}", to.display()),
                Err(_) => "a link".to_owned(),
            },
            Ok(m) if !m.is_dir() => "a file, not a folder".to_owned(),
            Ok(_) => continue,
        };
        let mut details = std::collections::BTreeMap::new();
        details.insert("path".to_owned(), path.display().to_string());
        details.insert("why".to_owned(), why.clone());
        let _ = ctx.alert_sink().raise(&Alert {
            kind: AlertKind::RecordMismatch,
            message: "a folder of the case is a link or a file; vigie refused to enter the case"
                .into(),
            details,
        });
        return Err(AppError::ForeignCaseFolder {
            case_id: ctx.case_id().to_owned(),
            path,
            why,
        });
    }
    Ok(())
}

/// The alert sink of an entered case.
struct EnteredAlerts<'a>(Box<dyn AlertSink + 'a>);

impl AlertSink for EnteredAlerts<'_> {
    fn raise(&self, alert: &Alert) -> Result<(), vigie_core::AlertSinkError> {
        self.0.raise(alert)
    }
}

impl std::fmt::Debug for EnteredCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnteredCase")
            .field("case", &self.ctx.case_id())
            .field("operator", &self.operator)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl EnteredCase {
    /// Enter `case_id` as `operator` to run `command` (named in the running-work record
    /// closure shows). `reason` is recorded as the justification of every entry (the
    /// case's purpose when `None`).
    pub fn enter(
        app: &App,
        case_id: Option<&str>,
        operator: &Operator,
        reason: Option<&str>,
        command: &str,
    ) -> Result<Self, AppError> {
        if let Some(r) = reason {
            crate::operator::check_reason(r)?;
        }
        let ctx =
            CaseContext::enter_from(app.root(), case_id, Some(operator.as_str()), app.clock())?;
        // Once operator accounts exist, only an enabled account with access to this case
        // gets in (see `accounts`); a refusal is an alert.
        crate::accounts::check_case_entry(app, operator, ctx.case_id(), &ctx.alert_sink())?;
        let work = WorkGuard::begin(
            ctx.dir(),
            ctx.case_id(),
            command,
            operator.as_str(),
            app.clock().now(),
        )?;
        // Closure may have finished between the first check and the lock: check again
        // under the lock.
        let ctx = CaseContext::enter(app.root(), ctx.case_id(), operator.as_str(), app.clock())?;
        // The case's own files say it is open; the machine log must not say otherwise
        // (a case folder restored from a copy taken before closure or a rollback).
        crate::ledger::check_case_entry(app, &ctx, &ctx.alert_sink())?;
        check_own_folders(&ctx)?;
        let registry = Registry::open(ctx.evidence_dir())?;
        Ok(Self {
            chain: std::sync::RwLock::new(ChainView::of(ctx.audit_log())?),
            app: app.clone(),
            layout: DerivedLayout::new(ctx.dir()),
            registry,
            operator: operator.clone(),
            reason: reason
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
            cancel: CancelToken::new(),
            command: command.to_owned(),
            journal: Journal::CaseLog,
            work,
            ctx,
        })
    }

    /// This entry as a shard's (see [`crate::shard`]): derived data go to `staging` and
    /// entries and alerts to `journal`, never to the case's index or log, which other
    /// machines share and whose file locks cannot be trusted across them.
    pub(crate) fn into_shard(
        mut self,
        staging: &Path,
        journal: std::sync::Arc<crate::shard::ShardJournal>,
    ) -> Self {
        self.layout = DerivedLayout::new(staging);
        self.journal = Journal::Shard(journal);
        self
    }

    /// Stop this work when `token` is cancelled.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    pub fn app(&self) -> &App {
        &self.app
    }
    pub fn case_id(&self) -> &str {
        self.ctx.case_id()
    }
    pub fn procedure(&self) -> &str {
        self.ctx.procedure()
    }
    pub fn meta(&self) -> &CaseMeta {
        self.ctx.meta()
    }
    pub fn operator(&self) -> &Operator {
        &self.operator
    }
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    pub fn command(&self) -> &str {
        &self.command
    }
    pub fn layout(&self) -> &DerivedLayout {
        &self.layout
    }
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    pub fn case_dir(&self) -> &Path {
        self.ctx.dir()
    }
    /// The case context (for the crates that take one).
    pub fn context(&self) -> &CaseContext {
        &self.ctx
    }

    /// Record a typed event in the case's log, with this operator and reason. The action
    /// is reported as done only once this returns.
    pub fn record(&self, event: &Event) -> Result<EntryRef, AppError> {
        // On the CLI the operating-system account follows the reason (see `operator`).
        let why = self.operator.os_account().map(|_| {
            let reason = self.reason.as_deref().unwrap_or(&self.ctx.meta().purpose);
            self.operator.justification(reason)
        });
        if let Journal::Shard(journal) = &self.journal {
            return journal.record(
                event,
                why.as_deref().or(self.reason.as_deref()),
                self.app.clock().now(),
            );
        }
        let entry = self
            .ctx
            .record(event, why.as_deref().or(self.reason.as_deref()))?;
        self.note_head(&entry, event)?;
        if matches!(
            event.action(),
            vigie_audit::Action::Collection | vigie_audit::Action::Alteration
        ) {
            *self.chain.write().expect("chain view lock") = ChainView::of(self.ctx.audit_log())?;
        }
        Ok(entry)
    }

    /// Record an event in the case's log with a justification of its own (entries a
    /// shard made on a node, imported by `vigie merge`).
    pub(crate) fn record_for(
        &self,
        event: &Event,
        justification: &str,
    ) -> Result<EntryRef, AppError> {
        if let Journal::Shard(journal) = &self.journal {
            return journal.record(event, Some(justification), self.app.clock().now());
        }
        // Imported entries get no note each: the merge's own entry, recorded after
        // them through `record`, notes the head that holds them all.
        Ok(self.ctx.record(event, Some(justification))?)
    }

    /// Record in the machine log that the case's log now holds `entry`, unless it is a
    /// consultation. Such an entry (a collection, an analysis, a model loaded, a
    /// disclosure) is one that no copy of the case put back later may lose: entry refuses
    /// a case log that no longer holds the last head the machine log recorded of it, and
    /// `vigie audit verify` reports it (see `ledger`). One short machine-log entry, with
    /// no free text of the case (the operator's reason stays in the case's log).
    ///
    /// Why not consultations: a web page view is one, and every change of the machine
    /// log makes the next case entry verify it again in full (the account book and this
    /// ledger are replayed from its verified reading): noting them made a search page
    /// 10-20x slower on an installation with 3,000-10,000 machine entries (`vigie bench
    /// web`). Consultations after the last noted head are covered by the anchors
    /// (`vigie audit anchor`, the system journal), as before.
    fn note_head(&self, entry: &EntryRef, event: &Event) -> Result<(), AppError> {
        if event.action() == vigie_audit::Action::Consultation {
            return Ok(());
        }
        let why = format!(
            "the case log's head after a {} entry",
            event.action().as_str()
        );
        let recorder = self.ctx.recorder(Some(&why));
        // The event is recorded in the case's log already; should the machine log refuse
        // the note, the error says so (what was done exists and is recorded).
        vigie_case::record_case_entry_head(
            self.ctx.root(),
            self.ctx.case_id(),
            &recorder,
            event.action().as_str(),
            entry,
            self.app.clock(),
        )?;
        Ok(())
    }

    /// Where alerts go: the machine log and the case's log (a shard: its journal, and
    /// the scheduler's job log).
    pub fn alert_sink(&self) -> impl AlertSink + '_ {
        EnteredAlerts(match &self.journal {
            Journal::CaseLog => Box::new(self.ctx.alert_sink()),
            Journal::Shard(j) => Box::new(crate::shard::JournalAlerts {
                journal: j.clone(),
                clock: self.app.clock(),
            }),
        })
    }

    /// Whether long work may go on: `Err(Stopped)` when closure asked running work to
    /// stop or the front end cancelled, `Err(Case(Expired))` when the authorisation ran
    /// out while working.
    pub fn checkpoint(&self) -> Result<(), AppError> {
        if self.work.closing_requested() {
            return Err(AppError::Stopped("the case is being closed".into()));
        }
        if self.cancel.is_cancelled() {
            return Err(AppError::Stopped("cancelled by the operator".into()));
        }
        let today = self.app.clock().now().date_naive();
        let meta = self.ctx.meta();
        if meta.is_expired(today) {
            return Err(AppError::Case(vigie_case::CaseError::Expired {
                case_id: meta.case_id.clone(),
                end: meta.retention_end(),
                today,
            }));
        }
        Ok(())
    }

    /// A registered source by id or path, checked against its collection entry.
    pub fn find_source(&self, key: &str) -> Result<SourceRecord, AppError> {
        let rec = self.registry.find(key)?;
        self.check_record(&rec)?;
        Ok(rec)
    }

    /// A source's camera and clock as the case's record says now (correction in force).
    pub fn timing(&self, rec: &SourceRecord) -> crate::timing::SourceTiming {
        crate::timing::SourceTiming::from_book(
            rec,
            &self.chain.read().expect("chain view lock").book,
        )
    }

    /// The case's cameras and clock corrections, as its log records them (at entry, and
    /// after each change this work recorded).
    pub fn time_book(&self) -> vigie_case::timebook::TimeBook {
        self.chain.read().expect("chain view lock").book.clone()
    }

    /// The case's index (refused when nothing was analysed yet), its rows moved to the
    /// cameras and clocks the log records now.
    pub fn index(&self) -> Result<vigie_index::Index, AppError> {
        let mut ix = self.layout.existing_index()?;
        self.sync_index(&mut ix)?;
        Ok(ix)
    }

    /// The case's index, created when absent, in step with the log like [`Self::index`].
    pub fn index_or_new(&self) -> Result<vigie_index::Index, AppError> {
        let mut ix = self.layout.open_index()?;
        self.sync_index(&mut ix)?;
        Ok(ix)
    }

    /// Re-time the index's rows of every source whose camera or corrected clock changed
    /// since they were written (a `camera set` or `clock set` re-times in place; one
    /// interrupted before it re-timed is caught up here).
    fn sync_index(&self, ix: &mut vigie_index::Index) -> Result<(), AppError> {
        let records: std::collections::BTreeMap<String, SourceRecord> = self
            .registry
            .sources()?
            .into_iter()
            .map(|r| (r.source_id.clone(), r))
            .collect();
        for info in ix.sources()? {
            let id = &info.record.source_id;
            self.check_indexed_source(id)?;
            let Some(rec) = records.get(id) else { continue };
            let t = self.timing(rec);
            let want = vigie_index::SourceClock {
                // Sources collected before cameras were recorded keep the camera their
                // analysis gave them.
                camera: if t.camera_origin == "file_name" {
                    info.record.camera.clone()
                } else {
                    t.camera.clone()
                },
                start_wall_ms: t.start_wall_ms,
                clock: t.in_force.as_ref().map(|r| r.describe()),
            };
            if ix.source_clock(id)?.as_ref() != Some(&want) {
                ix.retime_source(id, &want)?;
            }
        }
        Ok(())
    }

    /// The registered sources by id, each checked against its collection entry on its own:
    /// one that disagrees is left out (with its alert), as [`Self::find_source`] refuses
    /// it. One reading of the registry for work over many sources (a search's clocks and
    /// coverage), where a [`Self::find_source`] each reads it once per source: a case of a
    /// thousand sources would read a thousand records a thousand times.
    pub fn sources_by_id(
        &self,
    ) -> Result<std::collections::BTreeMap<String, SourceRecord>, AppError> {
        Ok(self
            .registry
            .sources()?
            .into_iter()
            .filter(|r| self.check_record(r).is_ok())
            .map(|r| (r.source_id.clone(), r))
            .collect())
    }

    /// Every registered source, each checked against its collection entry.
    pub fn sources(&self) -> Result<Vec<SourceRecord>, AppError> {
        let all = self.registry.sources()?;
        for rec in &all {
            self.check_record(rec)?;
        }
        Ok(all)
    }

    /// An index row of a source this case never collected is another case's: the whole
    /// index is refused (its rows would be shown under this case's authorisation).
    fn check_indexed_source(&self, source_id: &str) -> Result<(), AppError> {
        let collected = |chain: &std::sync::RwLock<ChainView>| {
            chain
                .read()
                .expect("chain view lock")
                .collected
                .contains_key(source_id)
        };
        if collected(&self.chain) {
            return Ok(());
        }
        // Collected by another process since this case was entered (an ingest beside a
        // long-lived page): read the chain again before refusing.
        *self.chain.write().expect("chain view lock") = ChainView::of(self.ctx.audit_log())?;
        if collected(&self.chain) {
            return Ok(());
        }
        let mut details = std::collections::BTreeMap::new();
        details.insert("source_id".into(), source_id.to_owned());
        details.insert(
            "index".into(),
            self.layout.index_path().display().to_string(),
        );
        let _ = self.alert_sink().raise(&Alert {
            kind: AlertKind::RecordMismatch,
            message: "the case's index holds a source the case never collected; vigie refused to use the index".into(),
            details,
        });
        Err(AppError::ForeignIndex {
            case_id: self.case_id().to_owned(),
            source_id: source_id.to_owned(),
        })
    }

    /// The registry is a cache of the chain: a record whose hash, size or start time
    /// differs from its collection entry (or that has none) was edited behind vigie's
    /// back, and is refused with an alert.
    fn check_record(&self, rec: &SourceRecord) -> Result<(), AppError> {
        let checked = vigie_case::chain::check_source(
            rec,
            &self.chain.read().expect("chain view lock").collected,
        );
        let fields = match checked {
            Some(bad) if bad.is_empty() => return Ok(()),
            Some(bad) => bad.join(", "),
            None => "no collection entry records it".to_owned(),
        };
        let mut details = std::collections::BTreeMap::new();
        details.insert("source_id".into(), rec.source_id.clone());
        details.insert("fields".into(), fields.clone());
        let _ = self.alert_sink().raise(&Alert {
            kind: AlertKind::RecordMismatch,
            message: "the evidence registry disagrees with the audit chain; vigie refused to use the source".into(),
            details,
        });
        Err(AppError::Case(vigie_case::CaseError::EvidenceMismatch {
            case_id: self.case_id().to_owned(),
            source_id: rec.source_id.clone(),
            fields,
        }))
    }

    /// Re-hash a source before using it; changed evidence is refused and reported to the
    /// data controller (alert in the machine-wide and case logs).
    pub fn verify_source(&self, rec: &SourceRecord) -> Result<(), AppError> {
        self.open_source(rec).map(drop)
    }

    /// [`Self::verify_source`] that keeps the source open: decode from
    /// [`vigie_evidence::VerifiedSource::decode_path`] (the hashed inode, whatever became
    /// of the name), then call [`Self::source_unchanged`] when the work is done.
    pub fn open_source(
        &self,
        rec: &SourceRecord,
    ) -> Result<vigie_evidence::VerifiedSource, AppError> {
        self.check_record(rec)?;
        self.registry.open_verified(rec).map_err(|e| {
            if e.is_evidence_changed() {
                self.raise_evidence_changed(rec);
            }
            e.into()
        })
    }

    /// After the work on an opened source: refuses (with the evidence-changed alert) when
    /// a file changed while it was read, so its results are not reported.
    pub fn source_unchanged(
        &self,
        opened: &vigie_evidence::VerifiedSource,
    ) -> Result<(), AppError> {
        opened.check_unchanged().map_err(|e| {
            self.raise_evidence_changed(opened.record());
            e.into()
        })
    }

    /// Open a source's files once (refusing links), without hashing them: for a player,
    /// which decodes [`PinnedSource::decode_path`] at once and hashes the same inodes
    /// beside it ([`Self::verify_source_until`]).
    pub fn pin_source(&self, rec: &SourceRecord) -> Result<PinnedSource, AppError> {
        self.check_record(rec)?;
        let pin = |p: &Path| {
            vigie_evidence::PinnedFile::open(p).map_err(|e| {
                let e = vigie_evidence::RegistryError::from(e);
                if e.is_evidence_changed() {
                    self.raise_evidence_changed(rec);
                }
                AppError::from(e)
            })
        };
        Ok(PinnedSource {
            original: pin(&rec.path)?,
            stream: rec.salvage.as_ref().map(|s| pin(&s.stream)).transpose()?,
        })
    }

    /// Changed evidence: an alert in the machine-wide and case logs (the refusal stands
    /// even if it cannot be written).
    fn raise_evidence_changed(&self, rec: &SourceRecord) {
        let mut details = std::collections::BTreeMap::new();
        details.insert("source_id".into(), rec.source_id.clone());
        details.insert("sha256_at_ingest".into(), rec.sha256.clone());
        details.insert("path".into(), rec.path.display().to_string());
        let alert = Alert {
            kind: AlertKind::EvidenceChanged,
            message: "evidence changed since ingest; vigie refused to use it".into(),
            details,
        };
        let _ = self.alert_sink().raise(&alert);
    }

    /// [`Self::verify_source`] that gives up when `stop` is set (between reads of a few
    /// MiB), for a check that runs beside other work (a player's first frames): `Ok(true)`
    /// verified, `Ok(false)` stopped before the end (nothing concluded), `Err` changed
    /// (alert raised, as [`Self::verify_source`]) or unreadable. `on_bytes` is told each
    /// chunk hashed.
    ///
    /// `pinned` holds the source's files opened once ([`Self::pin_source`]): the hash reads
    /// them, the inodes a player decodes, not whatever the names hold by then.
    pub fn verify_source_until(
        &self,
        rec: &SourceRecord,
        pinned: &PinnedSource,
        stop: &std::sync::atomic::AtomicBool,
        mut on_bytes: impl FnMut(u64),
    ) -> Result<bool, AppError> {
        use std::sync::atomic::Ordering;
        self.check_record(rec)?;
        let mut files = vec![(
            rec.path.clone(),
            pinned.original.read_path(),
            rec.sha256.clone(),
        )];
        if let (Some(s), Some(stream)) = (&rec.salvage, &pinned.stream) {
            files.push((
                s.stream.clone(),
                stream.read_path(),
                s.stream_sha256.clone(),
            ));
        }
        for (path, read_from, expected) in files {
            struct Until<'a, R> {
                inner: R,
                stop: &'a std::sync::atomic::AtomicBool,
            }
            impl<R: std::io::Read> std::io::Read for Until<'_, R> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    if self.stop.load(Ordering::Relaxed) {
                        return Err(std::io::Error::other("verification stopped"));
                    }
                    self.inner.read(buf)
                }
            }
            // Read-only, like every opening of evidence.
            let file = std::fs::File::open(&read_from).map_err(|source| {
                vigie_evidence::HashError::Open {
                    path: path.clone(),
                    source,
                }
            })?;
            let hashed = vigie_evidence::hash_reader(Until { inner: file, stop }, &mut on_bytes);
            let actual = match hashed {
                Ok((actual, _)) => actual,
                Err(_) if stop.load(Ordering::Relaxed) => return Ok(false),
                Err(source) => {
                    return Err(vigie_evidence::HashError::Read {
                        path: path.clone(),
                        source,
                    }
                    .into())
                }
            };
            if actual != expected {
                self.raise_evidence_changed(rec);
                return Err(vigie_evidence::RegistryError::HashMismatch {
                    path,
                    expected,
                    actual,
                    ingested_at: rec.ingested_at,
                }
                .into());
            }
        }
        Ok(true)
    }

    /// Where an export named `requested` goes (see [`crate::export`]).
    pub fn export_target(&self, requested: &Path) -> Result<ExportTarget, AppError> {
        ExportTarget::resolve(&self.layout, requested)
    }

    /// Hash written export files and record them as one disclosure.
    pub fn record_export(
        &self,
        kind: vigie_audit::event::ExportKind,
        source: Option<&SourceRecord>,
        detail: serde_json::Value,
        targets: &[&ExportTarget],
    ) -> Result<Vec<FileHash>, AppError> {
        let mut files = Vec::with_capacity(targets.len());
        for t in targets {
            files.push(t.hash()?);
        }
        self.record(&Event::Exported {
            kind,
            source_id: source.map(|s| s.source_id.clone()),
            source_sha256: source.map(|s| s.sha256.clone()),
            detail,
            files: files.clone(),
        })?;
        Ok(files)
    }
}
