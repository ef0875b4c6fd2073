//! Case lifecycle: opening, refusals, isolation, closure with erasure, retention.

mod common;

use std::fs;

use common::*;
use serde_json::json;
use vigie_audit::VerifyStatus;
use vigie_case::{
    close_case, list_cases, load_case, open_case, purge_expired, Action, CaseContext, CaseError,
    CaseStatus, ClosureReason,
};

#[test]
fn open_creates_layout_and_logs_in_both_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "2026/00042 PJ");
    assert_eq!(meta.case_id, "2026-00042-PJ");
    assert_eq!(meta.status, CaseStatus::Open);
    assert_eq!(meta.retention_end(), date("2026-09-30"));
    let dir = root.case_dir(&meta.case_id);
    for sub in ["audit", "evidence", "derived", "exports", "reports"] {
        assert!(dir.join(sub).is_dir(), "{sub}");
    }
    let case_log = root
        .case_log(&meta.case_id, at("2026-03-02T09:00:00Z"))
        .unwrap();
    let entries = case_log.entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, Action::Lifecycle);
    assert_eq!(entries[0].params["event"], "case_opened");
    assert_eq!(entries[0].params["authorization"], meta.authorization);
    assert_eq!(entries[0].procedure.as_deref(), Some("2026/00042 PJ"));
    let machine = root.machine_log(at("2026-03-02T09:00:00Z")).unwrap();
    assert_eq!(
        machine.entries().unwrap()[0].case.as_deref(),
        Some("2026-00042-PJ")
    );
    assert_eq!(load_case(&root, "2026-00042-PJ").unwrap(), meta);

    // Same procedure again: refused, with the fix.
    let err = open_case(&root, request("2026/00042 PJ"), at("2026-03-02T09:00:00Z")).unwrap_err();
    assert!(matches!(err, CaseError::CaseExists(_)), "{err}");
    assert!(err.to_string().contains("--id"));
}

#[cfg(unix)]
#[test]
fn everything_under_the_root_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "P1");
    let ctx = CaseContext::enter(&root, &meta.case_id, "opj", at("2026-03-02T10:00:00Z")).unwrap();
    ctx.log(Action::Consultation, json!({}), None, json!({"count": 0}))
        .unwrap();
    let mut stack = vec![
        root.path().join("cases"),
        root.path().join("machine"),
        root.keys_dir(),
    ];
    let mut n = 0;
    while let Some(p) = stack.pop() {
        let md = fs::metadata(&p).unwrap();
        let mode = md.permissions().mode() & 0o777;
        if md.is_dir() {
            assert_eq!(mode, 0o700, "{}", p.display());
            stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        n += 1;
    }
    assert!(n > 10);
}

#[test]
fn open_refuses_bad_authorisations() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let now = at("2026-03-02T09:00:00Z");
    let mut r = request("P");
    r.magistrate = " ".into();
    assert!(matches!(
        open_case(&root, r, now.clone()),
        Err(CaseError::MissingField("--magistrate"))
    ));
    let mut r = request("P");
    r.authorized_on = date("2026-03-05");
    assert!(matches!(
        open_case(&root, r, now.clone()),
        Err(CaseError::AuthorizedInFuture { .. })
    ));
    let mut r = request("P");
    r.valid_until = Some(date("2026-02-01"));
    assert!(matches!(
        open_case(&root, r, now.clone()),
        Err(CaseError::ValidBeforeAuthorized { .. })
    ));
    let mut r = request("P");
    r.valid_until = Some(date("2029-03-01"));
    let err = open_case(&root, r, now.clone()).unwrap_err();
    assert!(
        err.to_string().contains("--valid-until 2029-02-28"),
        "{err}"
    );
    let mut r = request("P");
    r.authorized_on = date("2022-01-10");
    r.valid_until = None;
    assert!(matches!(
        open_case(&root, r, now.clone()),
        Err(CaseError::AlreadyExpired { .. })
    ));
    let mut r = request("P");
    r.case_id = Some("../escape".into());
    assert!(matches!(
        open_case(&root, r, now.clone()),
        Err(CaseError::InvalidCaseId(_))
    ));
    assert!(
        list_cases(&root).unwrap().is_empty(),
        "nothing created by refused opens"
    );
}

#[test]
fn enter_refuses_without_case_operator_or_authorisation() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "P2");
    let now = at("2026-03-03T09:00:00Z");
    assert!(matches!(
        CaseContext::enter_from(&root, None, Some("x"), now.clone()),
        Err(CaseError::NoCase)
    ));
    assert!(matches!(
        CaseContext::enter_from(&root, Some("P2"), None, now.clone()),
        Err(CaseError::NoOperator)
    ));
    assert!(matches!(
        CaseContext::enter(&root, "P2", "  ", now.clone()),
        Err(CaseError::NoOperator)
    ));
    assert!(matches!(
        CaseContext::enter(&root, "nope", "x", now.clone()),
        Err(CaseError::UnknownCase(_))
    ));
    assert!(matches!(
        CaseContext::enter(&root, "../P2", "x", now.clone()),
        Err(CaseError::InvalidCaseId(_))
    ));
    // Last day of the authorisation: allowed. The day after: refused.
    CaseContext::enter(&root, &meta.case_id, "x", at("2026-09-30T23:59:59Z")).unwrap();
    let err =
        CaseContext::enter(&root, &meta.case_id, "x", at("2026-10-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, CaseError::Expired { .. }), "{err}");
    assert!(err.to_string().contains("purge-expired"));
}

#[test]
fn log_defaults_justification_to_purpose_and_cases_are_isolated() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let a = open(&root, "A-1");
    let b = open(&root, "B-1");
    let now = at("2026-03-03T09:00:00Z");
    let ca = CaseContext::enter(&root, &a.case_id, "alice", now.clone()).unwrap();
    let cb = CaseContext::enter(&root, &b.case_id, "bob", now.clone()).unwrap();
    assert_ne!(ca.evidence_dir(), cb.evidence_dir());
    assert!(ca.derived_dir().starts_with(ca.dir()));
    ca.log(
        Action::Consultation,
        json!({"q": "red car"}),
        None,
        json!({"count": 3}),
    )
    .unwrap();
    cb.log(
        Action::Consultation,
        json!({"q": "bus"}),
        Some("witness lead"),
        json!({"count": 1}),
    )
    .unwrap();
    let ea = ca.audit_log().entries().unwrap();
    let eb = cb.audit_log().entries().unwrap();
    assert_eq!(ea.len(), 2);
    assert_eq!(eb.len(), 2);
    assert_eq!(ea[1].justification, a.purpose);
    assert_eq!(ea[1].operator, "alice");
    assert_eq!(eb[1].justification, "witness lead");
    assert!(ea.iter().all(|e| e.case.as_deref() == Some("A-1")));
    assert!(eb.iter().all(|e| e.case.as_deref() == Some("B-1")));
    // Alerts land in the case's log and the machine log.
    use vigie_core::AlertSink;
    ca.alert_sink()
        .raise(&vigie_core::Alert {
            kind: vigie_core::AlertKind::ModelRefused,
            message: "refused".into(),
            details: Default::default(),
        })
        .unwrap();
    assert_eq!(ca.audit_log().entries().unwrap()[2].action, Action::Alert);
    let machine = root.machine_log(now).unwrap().entries().unwrap();
    assert!(machine
        .iter()
        .any(|e| e.action == Action::Alert && e.case.as_deref() == Some("A-1")));
    assert!(cb
        .audit_log()
        .entries()
        .unwrap()
        .iter()
        .all(|e| e.action != Action::Alert));
}

#[test]
fn close_erases_derived_data_logs_it_and_keeps_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let meta = open(&root, "C-1");
    let ctx = CaseContext::enter(&root, &meta.case_id, "opj", at("2026-03-04T09:00:00Z")).unwrap();
    fs::create_dir_all(ctx.derived_dir().join("index")).unwrap();
    fs::write(
        ctx.derived_dir().join("index/seg-0001.bin"),
        vec![1u8; 1000],
    )
    .unwrap();
    fs::write(
        ctx.derived_dir().join("thumb-1.jpg"),
        b"secret face-free thumbnail",
    )
    .unwrap();
    fs::write(ctx.exports_dir().join("clip.mp4"), vec![2u8; 500]).unwrap();
    ctx.log(
        Action::Disclosure,
        json!({"file": "clip.mp4"}),
        None,
        json!({"sha256": "cd".repeat(32)}),
    )
    .unwrap();

    let summary = close_case(
        &root,
        &meta.case_id,
        "opj",
        None,
        at("2026-05-01T10:00:00Z"),
    )
    .unwrap();
    assert_eq!(summary.erased_files, 3);
    assert_eq!(summary.erased_bytes, 1000 + 26 + 500);
    assert!(!ctx.derived_dir().exists());
    assert!(!ctx.exports_dir().exists());
    assert!(summary.final_report.html.is_file());
    assert!(summary.final_report.json.is_file());

    let meta = load_case(&root, &meta.case_id).unwrap();
    assert_eq!(meta.status, CaseStatus::Closed);
    assert_eq!(meta.closure_reason, Some(ClosureReason::Closed));
    let log = ctx.audit_log();
    let entries = log.entries().unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.action, Action::Erasure);
    let listed: Vec<&str> = last.params["erased"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "derived/index/seg-0001.bin",
            "derived/thumb-1.jpg",
            "exports/clip.mp4"
        ]
    );
    let raw = fs::read_to_string(log.log_path()).unwrap();
    assert!(!raw.contains("face-free"), "content is never logged");
    assert_eq!(log.verify().unwrap().status, VerifyStatus::Intact);
    let report = fs::read_to_string(&summary.final_report.json).unwrap();
    assert!(report.contains("\"status\": \"closed\""), "{report}");
    assert!(report.contains(&"cd".repeat(32)));

    // Closed: no more work, no second closure.
    let err =
        CaseContext::enter(&root, &meta.case_id, "opj", at("2026-05-02T10:00:00Z")).unwrap_err();
    assert!(matches!(err, CaseError::Closed { .. }), "{err}");
    assert!(matches!(
        close_case(
            &root,
            &meta.case_id,
            "opj",
            None,
            at("2026-05-02T10:00:00Z")
        ),
        Err(CaseError::AlreadyClosed(_))
    ));
    let machine = root
        .machine_log(at("2026-05-02T10:00:00Z"))
        .unwrap()
        .entries()
        .unwrap();
    assert_eq!(machine.last().unwrap().action, Action::Erasure);
    assert_eq!(
        machine.last().unwrap().params["event"],
        "case_closed_summary"
    );
    assert_eq!(
        machine.last().unwrap().params["final_report"][0]["sha256"],
        summary.final_report.html_sha256
    );
}

#[test]
fn purge_expired_closes_only_expired_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let now = at("2026-03-02T09:00:00Z");
    // Ends 2026-09-30.
    let short = open(&root, "SHORT");
    // No end date: 3-year cap, last day 2029-02-28.
    let mut r = request("LONG");
    r.valid_until = None;
    let long = open_case(&root, r, now.clone()).unwrap();
    fs::write(root.case_dir(&short.case_id).join("derived/x"), b"1").unwrap();
    fs::write(root.case_dir(&long.case_id).join("derived/y"), b"2").unwrap();

    assert!(
        purge_expired(&root, Some("cron"), at("2026-09-30T12:00:00Z"))
            .unwrap()
            .purged
            .is_empty()
    );
    let done = purge_expired(&root, Some("cron"), at("2026-10-01T00:00:01Z"))
        .unwrap()
        .purged;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].case_id, "SHORT");
    assert_eq!(done[0].retention_end, date("2026-09-30"));
    assert!(!root.case_dir("SHORT").join("derived").exists());
    assert!(root.case_dir("LONG").join("derived/y").exists());
    let s = load_case(&root, "SHORT").unwrap();
    assert_eq!(s.closure_reason, Some(ClosureReason::Expired));
    let e = root
        .case_log("SHORT", now.clone())
        .unwrap()
        .entries()
        .unwrap();
    assert!(e.last().unwrap().justification.contains("230-22"));
    assert_eq!(e.last().unwrap().operator, "cron");

    assert!(purge_expired(&root, None, at("2029-02-28T23:00:00Z"))
        .unwrap()
        .purged
        .is_empty());
    let done = purge_expired(&root, None, at("2029-03-01T00:00:00Z"))
        .unwrap()
        .purged;
    assert_eq!(
        done.iter().map(|d| d.case_id.as_str()).collect::<Vec<_>>(),
        ["LONG"]
    );
    assert_eq!(
        root.case_log("LONG", now)
            .unwrap()
            .entries()
            .unwrap()
            .last()
            .unwrap()
            .operator,
        "vigie"
    );
    let all: Vec<_> = list_cases(&root)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(all.iter().all(|m| m.status == CaseStatus::Closed));
}

#[test]
fn closure_is_refused_on_a_tampered_log_and_purge_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let root = root(tmp.path());
    let bad = open(&root, "BAD");
    let good = open(&root, "GOOD");
    let derived = root.case_dir(&bad.case_id).join("derived/keep-me");
    fs::write(&derived, b"x").unwrap();
    let log = root.case_dir(&bad.case_id).join("audit/audit.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    fs::write(&log, text.replacen("opj-martin", "someone", 1)).unwrap();

    let err = close_case(&root, "BAD", "opj", None, at("2026-04-01T00:00:00Z")).unwrap_err();
    assert!(err.to_string().contains("failed verification"), "{err}");
    assert!(derived.exists(), "nothing erased without a record of it");

    let summary = purge_expired(&root, None, at("2026-10-01T00:00:00Z")).unwrap();
    assert_eq!(summary.purged.len(), 1);
    assert_eq!(summary.purged[0].case_id, good.case_id);
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].case_id, "BAD");
    assert!(derived.exists());
}
