//! One error type for the layer, and one classification of every error into an exit
//! code and the alert it raises.
//!
//! Why: the class of an error (refused, integrity failure, bad input) decides the exit
//! code a script sees and whether the data controller is alerted. It used to be found by
//! downcasting along an `anyhow` chain, and lost whenever a crate wrapped another's error
//! transparently (a tampered plate model exited 2, "bad input", instead of 3, "refused").
//! Here each wrapped error is matched by type, recursively: [`AppError::class`].

use std::path::{Path, PathBuf};

use vigie_audit::AuditError;
use vigie_case::CaseError;
use vigie_core::AlertKind;
use vigie_evidence::RegistryError;
use vigie_policy::PolicyError;

/// What an error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input or usage: the message names the problem and the fix (exit 2).
    Usage,
    /// Refused: no authorised case, changed evidence, a forbidden model (exit 3). `alert`
    /// is the alert kind raised for the data controller, if any.
    Refused { alert: Option<AlertKind> },
    /// An audit log, registry, case file or index failed verification (exit 4).
    Integrity { alert: Option<AlertKind> },
    /// Stopped on request (closure, cancellation) before finishing (exit 2).
    Stopped,
}

impl ErrorClass {
    /// The documented exit code (0 success and 1 partial batch are not errors).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Usage | ErrorClass::Stopped => 2,
            ErrorClass::Refused { .. } => 3,
            ErrorClass::Integrity { .. } => 4,
        }
    }

    /// The alert kind this class of error raises (already recorded by whoever refused).
    pub fn alert(self) -> Option<AlertKind> {
        match self {
            ErrorClass::Refused { alert } | ErrorClass::Integrity { alert } => alert,
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Detect(#[from] vigie_detect::DetectError),
    #[error(transparent)]
    Plate(#[from] vigie_plate::PlateError),
    #[error(transparent)]
    Index(#[from] vigie_index::IndexError),
    #[error(transparent)]
    Decode(#[from] vigie_decode::DecodeError),
    #[error(transparent)]
    Pipeline(#[from] vigie_pipeline::PipelineError),
    #[error(transparent)]
    Synopsis(#[from] vigie_synopsis::SynopsisError),
    #[error(transparent)]
    Hash(#[from] vigie_evidence::HashError),
    #[error(transparent)]
    Walk(#[from] vigie_evidence::WalkError),
    #[error(transparent)]
    Scene(#[from] vigie_describe::SceneError),
    /// Zones and lines drawn on a camera view ([`crate::clock::DrawnScene`]).
    #[error(transparent)]
    SceneDrawing(#[from] crate::clock::SceneDrawError),
    #[error(transparent)]
    Query(#[from] vigie_index::QueryError),
    #[error("invalid operator id {0:?}: use 1 to 64 printable characters")]
    BadOperator(String),
    /// Operator accounts: logins, rights, administration ([`crate::accounts`]).
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    /// Sharded analysis and merge ([`crate::shard`]).
    #[error(transparent)]
    Shard(#[from] crate::shard::ShardError),
    /// A source's tube file and index rows are of different analysis runs
    /// ([`crate::layout::InterruptedAnalysis`]).
    #[error(transparent)]
    InterruptedAnalysis(#[from] crate::layout::InterruptedAnalysis),
    #[error("no index in this case yet: run `vigie analyze` first")]
    NoIndex,
    #[error("source {source_id} has no tube file: re-run `vigie analyze --force {source_id}`")]
    NoTubes { source_id: String },
    #[error("the {what} is damaged ({why}); re-run `vigie analyze --force`: {}", path.display())]
    DamagedDerived {
        what: String,
        why: String,
        path: PathBuf,
    },
    #[error("case {case_id:?}: {path} is a link or not a folder of the case ({why}): a case's folders must be its own; vigie refused to use it and alerted the data controller; replace the link with the case's own folder (restore it from the case backup)", path = path.display())]
    ForeignCaseFolder {
        case_id: String,
        path: PathBuf,
        why: String,
    },
    #[error("case {case_id:?}: its index holds source {source_id}, which this case never collected (an index copied or linked from another case); vigie refused to use it and alerted the data controller; move derived/ aside and run `vigie analyze --all` to rebuild this case's own index")]
    ForeignIndex { case_id: String, source_id: String },
    #[error("{0}")]
    BadInput(String),
    #[error("export refused: {0}")]
    BadExport(String),
    #[error("stopped before finishing: {0}; nothing of the unfinished part was written")]
    Stopped(String),
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AppError {
    /// An I/O error on `path`, for `map_err`.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
        move |source| AppError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The class of this error, looking through every wrapped error.
    pub fn class(&self) -> ErrorClass {
        match self {
            AppError::Case(e) => case_class(e),
            AppError::Audit(e) => audit_class(e),
            AppError::Registry(e) => registry_class(e),
            AppError::Policy(e) => policy_class(e),
            AppError::Detect(vigie_detect::DetectError::Policy(e)) => policy_class(e),
            AppError::Plate(vigie_plate::PlateError::Model(e)) => policy_class(e),
            AppError::Index(vigie_index::IndexError::Corrupt { .. }) => {
                ErrorClass::Integrity { alert: None }
            }
            AppError::Pipeline(e) => match e.stage_error() {
                Some(inner) => classify_dyn(inner),
                None => ErrorClass::Usage,
            },
            AppError::DamagedDerived { .. } | AppError::InterruptedAnalysis(_) => {
                ErrorClass::Integrity { alert: None }
            }
            AppError::ForeignCaseFolder { .. } | AppError::ForeignIndex { .. } => {
                ErrorClass::Integrity {
                    alert: Some(AlertKind::RecordMismatch),
                }
            }
            AppError::Account(e) => e.class(),
            AppError::Stopped(_) => ErrorClass::Stopped,
            AppError::Shard(crate::shard::ShardError::Refused { .. }) => ErrorClass::Refused {
                alert: Some(AlertKind::ShardRefused),
            },
            AppError::Shard(crate::shard::ShardError::CaseEnded { .. }) => {
                ErrorClass::Refused { alert: None }
            }
            _ => ErrorClass::Usage,
        }
    }
}

fn audit_class(e: &AuditError) -> ErrorClass {
    match e {
        AuditError::Tampered { .. } | AuditError::Unreadable { .. } => ErrorClass::Integrity {
            alert: Some(AlertKind::AuditTampered),
        },
        AuditError::Incomplete(_) | AuditError::ClockWentBack { .. } => {
            ErrorClass::Refused { alert: None }
        }
        AuditError::Io { .. } | AuditError::Key(_) => ErrorClass::Usage,
    }
}

fn registry_class(e: &RegistryError) -> ErrorClass {
    match e {
        e if e.is_evidence_changed() => ErrorClass::Refused {
            alert: Some(AlertKind::EvidenceChanged),
        },
        RegistryError::Corrupt { .. } | RegistryError::Version { .. } => {
            ErrorClass::Integrity { alert: None }
        }
        _ => ErrorClass::Usage,
    }
}

fn policy_class(e: &PolicyError) -> ErrorClass {
    let runtime = match e {
        PolicyError::RuntimeRefused { .. } => true,
        PolicyError::AlertNotRecorded { refusal, .. } => {
            matches!(**refusal, PolicyError::RuntimeRefused { .. })
        }
        _ => false,
    };
    if runtime {
        ErrorClass::Refused {
            alert: Some(AlertKind::RuntimeRefused),
        }
    } else if e.is_refusal() {
        ErrorClass::Refused {
            alert: Some(AlertKind::ModelRefused),
        }
    } else if matches!(e, PolicyError::RuntimeModified { .. }) {
        ErrorClass::Integrity { alert: None }
    } else {
        ErrorClass::Usage
    }
}

fn case_class(e: &CaseError) -> ErrorClass {
    match e {
        CaseError::NoCase
        | CaseError::NoOperator
        | CaseError::Closed { .. }
        | CaseError::Expired { .. }
        | CaseError::Closing(_)
        | CaseError::Busy { .. }
        | CaseError::AuthorizedInFuture { .. }
        | CaseError::BeyondRetention { .. }
        | CaseError::AlreadyExpired { .. } => ErrorClass::Refused { alert: None },
        CaseError::CorruptMeta { .. } => ErrorClass::Integrity { alert: None },
        CaseError::RecordMismatch { .. }
        | CaseError::EvidenceMismatch { .. }
        | CaseError::LogBehindMachineRecord { .. } => ErrorClass::Integrity {
            alert: Some(AlertKind::RecordMismatch),
        },
        CaseError::Audit(a) => audit_class(a),
        CaseError::Registry(r) => registry_class(r),
        _ => ErrorClass::Usage,
    }
}

/// Classify any error, typed or behind `dyn Error` (an `anyhow` chain in a front end, a
/// stage error inside the pipeline): the first cause of a known type decides.
pub fn classify_dyn(err: &(dyn std::error::Error + 'static)) -> ErrorClass {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = classify_one(e) {
            return c;
        }
        cur = e.source();
    }
    ErrorClass::Usage
}

fn classify_one(e: &(dyn std::error::Error + 'static)) -> Option<ErrorClass> {
    if let Some(e) = e.downcast_ref::<AppError>() {
        return Some(e.class());
    }
    if let Some(e) = e.downcast_ref::<CaseError>() {
        return Some(case_class(e));
    }
    if let Some(e) = e.downcast_ref::<crate::accounts::AccountError>() {
        return Some(e.class());
    }
    if let Some(e) = e.downcast_ref::<AuditError>() {
        return Some(audit_class(e));
    }
    if let Some(e) = e.downcast_ref::<RegistryError>() {
        return Some(registry_class(e));
    }
    if let Some(e) = e.downcast_ref::<PolicyError>() {
        return Some(policy_class(e));
    }
    if let Some(vigie_detect::DetectError::Policy(p)) =
        e.downcast_ref::<vigie_detect::DetectError>()
    {
        return Some(policy_class(p));
    }
    if let Some(vigie_plate::PlateError::Model(p)) = e.downcast_ref::<vigie_plate::PlateError>() {
        return Some(policy_class(p));
    }
    if let Some(e) = e.downcast_ref::<vigie_pipeline::PipelineError>() {
        return e.stage_error().map(classify_dyn);
    }
    if let Some(vigie_index::IndexError::Corrupt { .. }) =
        e.downcast_ref::<vigie_index::IndexError>()
    {
        return Some(ErrorClass::Integrity { alert: None });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_plate_model_is_a_refusal_with_a_model_alert() {
        let refusal = PolicyError::HashMismatch {
            id: "clp-det".into(),
            expected: "a".into(),
            actual: "b".into(),
            path: "/x".into(),
        };
        let e = AppError::Plate(vigie_plate::PlateError::Model(refusal));
        assert_eq!(e.class().exit_code(), 3);
        assert_eq!(e.class().alert(), Some(AlertKind::ModelRefused));
        // Behind a dyn chain too (as a front end sees it).
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert_eq!(classify_dyn(boxed.as_ref()).exit_code(), 3);
    }

    #[test]
    fn case_refusals_and_integrity_failures() {
        assert_eq!(AppError::Case(CaseError::NoCase).class().exit_code(), 3);
        assert_eq!(
            AppError::Case(CaseError::CorruptMeta {
                path: "/x".into(),
                why: "y".into()
            })
            .class()
            .exit_code(),
            4
        );
        assert_eq!(AppError::BadInput("x".into()).class().exit_code(), 2);
    }
}
