//! An authorisation nobody can rewrite: the case record and the evidence record are
//! checked against the audit chain, case logs cannot vanish unnoticed, and anchors kept
//! elsewhere catch a log re-signed with the installation key. Each refusal is checked for
//! its exit code **and** its alert kind.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::prelude::*;

use common::{parse_json, TestCase};
use serde_json::Value;

fn case_dir(env: &TestCase) -> PathBuf {
    env.home.path().join("cases").join(&env.case_id)
}

/// Every alert kind in the machine log (all cases).
fn alert_kinds(env: &TestCase) -> Vec<String> {
    let out = env
        .cmd_no_case()
        .args(["--json", "alerts"])
        .output()
        .unwrap();
    let v = parse_json(&out);
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Keep the first `keep` lines of a log and re-sign its head with the installation key,
/// as someone holding the key would: the log alone then verifies.
fn shorten_and_resign(home: &Path, log_dir: &Path, log_id: &str, keep: usize) {
    let log = log_dir.join("audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().take(keep).collect();
    std::fs::write(&log, format!("{}\n", lines.join("\n"))).unwrap();
    let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    let key = vigie_audit::InstallationKey::load_or_create(&home.join("keys")).unwrap();
    let head = vigie_audit::SignedHead::sign(
        &key,
        log_id,
        last["seq"].as_u64().unwrap(),
        last["hash"].as_str().unwrap(),
        None,
    );
    std::fs::write(log_dir.join("audit.head"), head.to_bytes()).unwrap();
}

#[test]
fn an_edited_case_json_is_refused_and_repair_restores_it() {
    let env = TestCase::open("C-meta");
    let path = case_dir(&env).join("case.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let until = (chrono::Utc::now().date_naive() + chrono::Days::new(400)).to_string();
    meta["valid_until"] = Value::String(until);
    std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();

    let out = env.cmd().args(["sources"]).output().unwrap();
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("valid_until") && stderr(&out).contains("case repair"));
    assert!(alert_kinds(&env).contains(&"record_mismatch".to_owned()));
    // `audit verify` says so too.
    let out = env
        .cmd_no_case()
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let v = env.json(&["case", "repair"]);
    assert_eq!(v["fields_restored"][0], "valid_until", "{v}");
    assert!(v["case"]["valid_until"].is_null());
    env.cmd().args(["sources"]).assert().success();
    let log = env.json(&["audit", "show", "--action", "alteration"]);
    assert_eq!(log[0]["params"]["event"], "case_record_repaired");

    // A deleted case.json is an integrity failure, not an unknown case; repair rebuilds it.
    std::fs::remove_file(&path).unwrap();
    let out = env.cmd().args(["sources"]).output().unwrap();
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    env.json(&["case", "repair"]);
    env.cmd().args(["sources"]).assert().success();
}

#[test]
fn renewal_is_the_only_way_to_extend_and_is_logged() {
    let env = TestCase::open("C-base");
    let today = chrono::Utc::now().date_naive();
    let soon = (today + chrono::Days::new(5)).to_string();
    env.cmd_no_case()
        .args([
            "case",
            "open",
            "--id",
            "C-renew",
            "--procedure",
            "2026/00077",
        ])
        .args(["--authorization", "OJ-1", "--magistrate", "M. Juge"])
        .args([
            "--authorized-on",
            &today.to_string(),
            "--valid-until",
            &soon,
        ])
        .args(["--purpose", "renewal test"])
        .assert()
        .success();
    let later = (today + chrono::Days::new(60)).to_string();
    let out = env
        .cmd_no_case()
        .args([
            "--json", "--case", "C-renew", "case", "renew", "--until", &later,
        ])
        .args(["--authorization", "OJ-1-R1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v = parse_json(&out);
    assert_eq!(v["valid_until"], later);
    assert_eq!(v["authorization"], "OJ-1-R1");
    let out = env
        .cmd_no_case()
        .args([
            "--json",
            "--case",
            "C-renew",
            "audit",
            "show",
            "--action",
            "lifecycle",
        ])
        .output()
        .unwrap();
    let log = parse_json(&out);
    let renewed: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["params"]["event"] == "case_renewed")
        .collect();
    assert_eq!(renewed.len(), 1);
    assert_eq!(renewed[0]["params"]["previous_valid_until"], soon);
    // Beyond the 3-year limit (refused by law: exit 3), or not later (bad input: 2).
    let far = (today + chrono::Days::new(4 * 366)).to_string();
    for (until, expected) in [(far.as_str(), 3), (soon.as_str(), 2)] {
        let out = env
            .cmd_no_case()
            .args(["--case", "C-renew", "case", "renew", "--until", until])
            .args(["--authorization", "OJ-1-R2"])
            .output()
            .unwrap();
        assert_eq!(code(&out), Some(expected), "{}", stderr(&out));
    }
    // And the renewed record is consistent with the chain.
    env.cmd_no_case()
        .args(["--case", "C-renew", "case", "show"])
        .assert()
        .success();
}

#[test]
fn an_edited_evidence_hash_is_an_integrity_failure() {
    let env = TestCase::open("C-evid");
    let clip = env.path("clip.mp4");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=96x64:rate=10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
        &clip,
    );
    env.cmd().arg("ingest").arg(&clip).assert().success();
    env.cmd().arg("verify").assert().success();
    // Swap the file and edit the registry's hash to match the new bytes.
    let other = env.path("other.mp4");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=96x64:rate=12",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
        &other,
    );
    std::fs::copy(&other, &clip).unwrap();
    let new_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&clip).unwrap()))
    };
    let reg = case_dir(&env).join("evidence/sources.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&reg).unwrap()).unwrap();
    doc["sources"][0]["sha256"] = Value::String(new_hash);
    doc["sources"][0]["size_bytes"] = Value::from(std::fs::metadata(&clip).unwrap().len());
    std::fs::write(&reg, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    let out = env.cmd().arg("verify").output().unwrap();
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("sha256"), "{}", stderr(&out));
    assert!(alert_kinds(&env).contains(&"record_mismatch".to_owned()));
}

#[test]
fn a_case_log_deleted_reset_or_truncated_is_detected_through_the_machine_log() {
    // Deleted (the whole audit directory).
    let env = TestCase::open("C-del");
    env.cmd_no_case()
        .args(["audit", "verify"])
        .assert()
        .success();
    std::fs::remove_dir_all(case_dir(&env).join("audit")).unwrap();
    let out = env
        .cmd_no_case()
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(4));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("gone") || said.contains("reset"), "{said}");
    assert!(alert_kinds(&env).contains(&"audit_tampered".to_owned()));

    // Reset (log and head deleted together: the next command would start a new chain).
    let env = TestCase::open("C-reset");
    let audit = case_dir(&env).join("audit");
    std::fs::remove_file(audit.join("audit.jsonl")).unwrap();
    std::fs::remove_file(audit.join("audit.head")).unwrap();
    let out = env
        .cmd_no_case()
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reset"));

    // Truncated and re-signed with the key: the case log alone verifies, the head the
    // machine log recorded at the report does not match any more.
    let env = TestCase::open("C-trunc");
    env.cmd().args(["sources"]).assert().success();
    env.cmd().args(["case", "report"]).assert().success();
    let audit = case_dir(&env).join("audit");
    shorten_and_resign(env.home.path(), &audit, "case:C-trunc", 1);
    let out = env
        .cmd_no_case()
        .args(["--json", "audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(4));
    let v = parse_json(&out);
    let per_log = v.as_array().unwrap();
    assert!(per_log
        .iter()
        .any(|l| l["log_id"] == "case:C-trunc" && l["status"] == "intact"));
    assert!(per_log.iter().any(|l| l["log_id"] == "case:C-trunc"
        && l["finding"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cut off"))));
}

#[test]
fn an_anchor_catches_a_log_re_signed_with_the_key() {
    let env = TestCase::open("C-anchor");
    env.cmd().args(["sources"]).assert().success();
    let anchor = env.path("anchor.json");
    env.cmd_no_case()
        .args(["audit", "anchor", "-o"])
        .arg(&anchor)
        .assert()
        .success();
    // Someone with the installation key cuts the last entries of the machine log and
    // re-signs its head: locally, nothing shows.
    let machine = env.home.path().join("machine");
    let n = std::fs::read_to_string(machine.join("audit.jsonl"))
        .unwrap()
        .lines()
        .count();
    shorten_and_resign(env.home.path(), &machine, "machine", n - 2);
    env.cmd_no_case()
        .args(["audit", "verify", "--machine"])
        .assert()
        .success();
    let out = env
        .cmd_no_case()
        .args(["audit", "verify", "--machine", "--against"])
        .arg(&anchor)
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("against the anchor"));

    // A report's JSON is an anchor too.
    let env = TestCase::open("C-anchor2");
    let rep = env.json(&["case", "report"]);
    let report_json = PathBuf::from(rep["json"].as_str().unwrap());
    let kept = env.path("report.json");
    std::fs::copy(&report_json, &kept).unwrap();
    let audit = case_dir(&env).join("audit");
    shorten_and_resign(env.home.path(), &audit, "case:C-anchor2", 1);
    let out = env
        .cmd()
        .args(["audit", "verify", "--against"])
        .arg(&kept)
        .output()
        .unwrap();
    assert_eq!(
        code(&out),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
