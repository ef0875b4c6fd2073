//! The case record and the evidence record, as the case's audit chain says they are.
//!
//! Why: `case.json` and `evidence/sources.json` are plain files outside the hash chain.
//! Editing `valid_until` in one extended an authorisation; editing a hash in the other let
//! a swapped file pass. The chain is the reference: the authorisation is the content of
//! the case log's first entry (`case_opened`), every later change (renewal, closure) is an
//! entry, and every source's hash, size and start time are in its collection entry. These
//! files are caches, checked against the chain on every use ([`check_meta`],
//! [`check_source`]); a mismatch is an integrity failure, never silently trusted or
//! skipped, and `vigie case repair` rebuilds `case.json` from the chain ([`meta_from_chain`]).
//!
//! Entries written before typed events are read too (their keys were stable), so old
//! cases keep working.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use vigie_audit::event::Event;
use vigie_audit::{Action, Entry};

use crate::meta::{new_meta_format, CaseMeta, CaseStatus, ClosureReason};

/// What the chain records of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCase {
    pub procedure: String,
    pub authorization: String,
    pub magistrate: String,
    pub authorized_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub purpose: String,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub status: CaseStatus,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closure_reason: Option<ClosureReason>,
}

/// What the chain records of one source at its collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSource {
    pub sha256: String,
    pub size_bytes: u64,
    /// RFC 3339, when the collection entry states it (typed entries do).
    pub start_time: Option<String>,
    /// Whether the entry recorded the start time at all (older entries did not).
    pub start_time_recorded: bool,
    /// The hash of the stream salvaged from a damaged export, as recorded (typed entries).
    pub salvaged_sha256: Option<String>,
}

/// Why the chain does not describe a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the case's audit log has no opening entry (it is empty, was reset or replaced)")]
    NoOpening,
    #[error("the case's audit log opening entry cannot be read: {0}")]
    BadOpening(String),
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn date_of(v: &Value, k: &str) -> Option<NaiveDate> {
    v.get(k)
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// Replay the case record from the case log's entries.
pub fn replay_case(entries: &[Entry]) -> Result<ChainCase, ChainError> {
    let first = entries.first().ok_or(ChainError::NoOpening)?;
    let mut case = match Event::from_entry(first) {
        Some(Event::CaseOpened {
            procedure,
            authorization,
            magistrate,
            authorized_on,
            valid_until,
            purpose,
            ..
        }) => ChainCase {
            procedure,
            authorization,
            magistrate,
            authorized_on,
            valid_until,
            purpose,
            opened_by: first.operator.clone(),
            opened_at: first.time,
            status: CaseStatus::Open,
            closed_at: None,
            closed_by: None,
            closure_reason: None,
        },
        Some(_) => return Err(ChainError::NoOpening),
        None => {
            // Before typed events: a collection entry `case_opened`.
            let p = &first.params;
            if str_of(p, "event").as_deref() != Some("case_opened") {
                return Err(ChainError::NoOpening);
            }
            ChainCase {
                procedure: first
                    .procedure
                    .clone()
                    .ok_or_else(|| ChainError::BadOpening("no procedure".into()))?,
                authorization: str_of(p, "authorization")
                    .ok_or_else(|| ChainError::BadOpening("no authorization".into()))?,
                magistrate: str_of(p, "magistrate")
                    .ok_or_else(|| ChainError::BadOpening("no magistrate".into()))?,
                authorized_on: date_of(p, "authorized_on")
                    .ok_or_else(|| ChainError::BadOpening("no authorisation date".into()))?,
                valid_until: date_of(p, "valid_until"),
                purpose: first.justification.clone(),
                opened_by: first.operator.clone(),
                opened_at: first.time,
                status: CaseStatus::Open,
                closed_at: None,
                closed_by: None,
                closure_reason: None,
            }
        }
    };
    for e in &entries[1..] {
        match Event::from_entry(e) {
            Some(Event::CaseRenewed {
                authorization,
                valid_until,
                ..
            }) => {
                case.authorization = authorization;
                case.valid_until = Some(valid_until);
            }
            Some(Event::CaseClosed { reason, .. }) => {
                case.status = CaseStatus::Closed;
                case.closed_at = Some(e.time);
                case.closed_by = Some(e.operator.clone());
                case.closure_reason = Some(if reason == "expired" {
                    ClosureReason::Expired
                } else {
                    ClosureReason::Closed
                });
            }
            Some(_) => {}
            None if e.action == Action::Erasure => match str_of(&e.params, "event").as_deref() {
                Some("case_closed") | Some("case_expired") => {
                    case.status = CaseStatus::Closed;
                    case.closed_at = Some(e.time);
                    case.closed_by = Some(e.operator.clone());
                    case.closure_reason = Some(
                        if str_of(&e.params, "event").as_deref() == Some("case_expired") {
                            ClosureReason::Expired
                        } else {
                            ClosureReason::Closed
                        },
                    );
                }
                _ => {}
            },
            None => {}
        }
    }
    Ok(case)
}

/// The fields of `meta` that disagree with the chain (empty: they agree). Times written
/// by two clock readings (`created_at`, `closed_at`) are not compared.
pub fn check_meta(meta: &CaseMeta, chain: &ChainCase) -> Vec<&'static str> {
    let mut bad = Vec::new();
    let mut cmp = |name: &'static str, same: bool| {
        if !same {
            bad.push(name);
        }
    };
    cmp("procedure", meta.procedure == chain.procedure);
    cmp("authorization", meta.authorization == chain.authorization);
    cmp("magistrate", meta.magistrate == chain.magistrate);
    cmp("authorized_on", meta.authorized_on == chain.authorized_on);
    cmp("valid_until", meta.valid_until == chain.valid_until);
    cmp("purpose", meta.purpose == chain.purpose);
    cmp("opened_by", meta.opened_by == chain.opened_by);
    cmp("status", meta.status == chain.status);
    cmp("closed_by", meta.closed_by == chain.closed_by);
    cmp(
        "closure_reason",
        meta.closure_reason == chain.closure_reason,
    );
    bad
}

/// `case.json` as the chain describes it (for `vigie case repair`). `created_at` is kept
/// from the damaged file when it could be read, else the opening entry's time.
pub fn meta_from_chain(
    case_id: &str,
    chain: &ChainCase,
    created_at: Option<DateTime<Utc>>,
) -> CaseMeta {
    CaseMeta {
        format_version: new_meta_format(),
        case_id: case_id.to_owned(),
        procedure: chain.procedure.clone(),
        authorization: chain.authorization.clone(),
        magistrate: chain.magistrate.clone(),
        authorized_on: chain.authorized_on,
        valid_until: chain.valid_until,
        opened_by: chain.opened_by.clone(),
        purpose: chain.purpose.clone(),
        status: chain.status,
        created_at: created_at.unwrap_or(chain.opened_at),
        closed_at: chain.closed_at,
        closed_by: chain.closed_by.clone(),
        closure_reason: chain.closure_reason,
    }
}

/// Every source the chain records as collected, by id (the last collection entry of a
/// source wins; they must agree anyway since the id is derived from the hash).
pub fn replay_sources(entries: &[Entry]) -> BTreeMap<String, ChainSource> {
    let mut out = BTreeMap::new();
    for e in entries {
        if e.action != Action::Collection {
            continue;
        }
        match Event::from_entry(e) {
            Some(Event::EvidenceIngested { sources, .. }) => {
                for s in sources {
                    out.insert(
                        s.source_id,
                        ChainSource {
                            sha256: s.sha256,
                            size_bytes: s.size_bytes,
                            start_time: s.start_time,
                            start_time_recorded: true,
                            salvaged_sha256: s
                                .salvaged
                                .as_ref()
                                .and_then(|v| v.get("stream_sha256"))
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        },
                    );
                }
            }
            Some(_) => {}
            None => {
                // Before typed events: params.sources[] with source_id, sha256, size_bytes.
                for s in e
                    .params
                    .get("sources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let (Some(id), Some(h)) = (str_of(s, "source_id"), str_of(s, "sha256")) {
                        out.insert(
                            id,
                            ChainSource {
                                sha256: h,
                                size_bytes: s
                                    .get("size_bytes")
                                    .and_then(Value::as_u64)
                                    .unwrap_or(0),
                                start_time: None,
                                start_time_recorded: false,
                                salvaged_sha256: None,
                            },
                        );
                    }
                }
            }
        }
    }
    out
}

/// The fields of a registry record that disagree with its collection entry (`None` when
/// the chain has no collection entry for it).
pub fn check_source(
    rec: &vigie_evidence::SourceRecord,
    chain: &BTreeMap<String, ChainSource>,
) -> Option<Vec<&'static str>> {
    let c = chain.get(&rec.source_id)?;
    let mut bad = Vec::new();
    if c.sha256 != rec.sha256 {
        bad.push("sha256");
    }
    if c.size_bytes != rec.size_bytes {
        bad.push("size_bytes");
    }
    // The salvaged stream is what gets decoded: its hash must be the one recorded (typed
    // entries record it, or record that there is none).
    if c.start_time_recorded
        && rec.salvage.as_ref().map(|s| s.stream_sha256.clone()) != c.salvaged_sha256
    {
        bad.push("salvaged stream");
    }
    if c.start_time_recorded {
        let registry_start = rec.meta.start_time.map(|s| s.at.to_rfc3339());
        if registry_start != c.start_time {
            bad.push("start_time");
        }
    }
    Some(bad)
}
