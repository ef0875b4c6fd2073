//! Alerts land in the audit logs as `alert` entries.

use std::collections::BTreeMap;
use std::sync::Arc;

use vigie_audit::{
    Action, AuditAlertSink, AuditLog, InstallationKey, SystemClock, TeeAlertSink, VerifyStatus,
};
use vigie_core::{Alert, AlertKind, AlertSink};

fn alert() -> Alert {
    let mut details = BTreeMap::new();
    details.insert("sha256".to_owned(), "ab".repeat(32));
    Alert {
        kind: AlertKind::ModelRefused,
        message: "refused model face-embedder: not on the allowlist".into(),
        details,
    }
}

#[test]
fn alerts_are_recorded_in_both_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Arc::new(InstallationKey::from_secret_bytes([3; 32]));
    let machine = AuditLog::open(
        tmp.path().join("machine"),
        "machine",
        key.clone(),
        Arc::new(SystemClock),
    )
    .unwrap();
    let case = AuditLog::open(
        tmp.path().join("case"),
        "case:C1",
        key,
        Arc::new(SystemClock),
    )
    .unwrap();
    let sink = TeeAlertSink {
        first: AuditAlertSink::new(machine.clone(), Some("alice")).for_case("C1", "2026/1"),
        second: AuditAlertSink::new(case.clone(), Some("alice")).for_case("C1", "2026/1"),
    };
    sink.raise(&alert()).unwrap();
    for log in [&machine, &case] {
        let entries = log.entries().unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.action, Action::Alert);
        assert_eq!(e.operator, "alice");
        assert_eq!(e.case.as_deref(), Some("C1"));
        assert_eq!(e.params["kind"], "model_refused");
        assert_eq!(e.params["details"]["sha256"], "ab".repeat(32));
        assert_eq!(log.verify().unwrap().status, VerifyStatus::Intact);
    }
    // Without an operator, the entry is vigie's own.
    AuditAlertSink::new(machine.clone(), None)
        .raise(&alert())
        .unwrap();
    assert_eq!(machine.entries().unwrap()[1].operator, "vigie");
}

#[test]
fn a_failing_sink_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Arc::new(InstallationKey::from_secret_bytes([3; 32]));
    let machine = AuditLog::open(
        tmp.path().join("machine"),
        "machine",
        key,
        Arc::new(SystemClock),
    )
    .unwrap();
    AuditAlertSink::new(machine.clone(), None)
        .raise(&alert())
        .unwrap();
    // Cut the log: the sink must refuse (and say so) rather than re-sign a shorter chain.
    std::fs::write(machine.log_path(), b"").unwrap();
    let err = AuditAlertSink::new(machine, None)
        .raise(&alert())
        .unwrap_err();
    assert!(err.to_string().contains("failed verification"), "{err}");
}
