//! CLI tests for cases, the audit log, the exploitation report, closure and retention.
//! Each test has its own temporary data root (VIGIE_HOME) and a fake clock
//! (VIGIE_FAKE_NOW, test-only).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

const OPENED_AT: &str = "2026-03-02T09:00:00Z";

struct Env {
    home: tempfile::TempDir,
    clips: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            clips: tempfile::tempdir().unwrap(),
        }
    }

    /// `vigie` with this data root at `now`, with neither case nor operator.
    fn bare(&self, now: &str) -> Command {
        let mut c = Command::cargo_bin("vigie").unwrap();
        c.env("VIGIE_HOME", self.home.path())
            .env("VIGIE_FAKE_NOW", now)
            .env_remove("VIGIE_CASE")
            .env_remove("VIGIE_OPERATOR")
            .arg("--quiet");
        c
    }

    /// `vigie` as operator `opj-1`, in `case` when given.
    fn cmd(&self, case: Option<&str>, now: &str) -> Command {
        let mut c = self.bare(now);
        c.env("VIGIE_OPERATOR", "opj-1");
        if let Some(case) = case {
            c.env("VIGIE_CASE", case);
        }
        c
    }

    /// Open a case with id `id`, authorised 2026-03-01 until `valid_until`.
    fn open(&self, id: &str, valid_until: &str) {
        self.cmd(None, OPENED_AT)
            .args([
                "case",
                "open",
                "--id",
                id,
                "--procedure",
                &format!("2026/{id}"),
                "--authorization",
                "AUT-17",
                "--magistrate",
                "Mme la juge Dupont",
                "--authorized-on",
                "2026-03-01",
                "--valid-until",
                valid_until,
                "--purpose",
                "vol avec violence",
            ])
            .assert()
            .success();
    }

    fn case_dir(&self, id: &str) -> PathBuf {
        self.home.path().join("cases").join(id)
    }

    fn clip(&self, name: &str) -> PathBuf {
        let out = self.clips.path().join(name);
        let status = Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
            ])
            .arg("testsrc2=size=160x120:rate=10:duration=1")
            .args(["-c:v", "mpeg4"])
            .arg(&out)
            .status()
            .expect("ffmpeg is needed by the CLI tests (see tools/setup)");
        assert!(status.success());
        out
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn entries(env: &Env, case: &str, extra: &[&str]) -> Vec<Value> {
    let out = env
        .cmd(Some(case), OPENED_AT)
        .args(["audit", "show", "--json"])
        .args(extra)
        .assert()
        .success()
        .get_output()
        .clone();
    json(&out).as_array().unwrap().clone()
}

#[test]
fn refused_without_case_or_operator() {
    let env = Env::new();
    // Opening needs an operator.
    env.bare(OPENED_AT)
        .args([
            "case",
            "open",
            "--procedure",
            "P",
            "--authorization",
            "A",
            "--magistrate",
            "M",
        ])
        .args(["--authorized-on", "2026-03-01", "--purpose", "x"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--operator"));
    env.open("A1", "2026-09-30");
    // Working needs a case...
    env.cmd(None, OPENED_AT)
        .args(["sources"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--case"));
    env.cmd(None, OPENED_AT)
        .args(["case", "report"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--case"));
    // ...and an operator.
    env.bare(OPENED_AT)
        .env("VIGIE_CASE", "A1")
        .args(["sources"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--operator"));
    // An unknown case or a path in place of an id: refused, nothing created.
    env.cmd(Some("NOPE"), OPENED_AT)
        .args(["sources"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("vigie case list"));
    env.cmd(Some("../A1"), OPENED_AT)
        .args(["sources"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid case id"));
    assert!(!env.home.path().join("cases/NOPE").exists());
    // Bad authorisation data: clear errors.
    let open_p2 = || {
        let mut c = env.cmd(None, OPENED_AT);
        c.args(["case", "open", "--procedure", "P2", "--purpose", "x"])
            .args(["--authorization", "A", "--magistrate", "M"]);
        c
    };
    open_p2()
        .args(["--authorized-on", "01/03/2026"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM-DD"));
    open_p2()
        .args([
            "--authorized-on",
            "2026-03-01",
            "--valid-until",
            "2030-01-01",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("3 years"));
}

#[test]
fn cases_are_isolated() {
    let env = Env::new();
    env.open("A1", "2026-09-30");
    env.open("B1", "2026-09-30");
    let clip = env.clip("cam1.avi");
    env.cmd(Some("A1"), OPENED_AT)
        .arg("ingest")
        .arg(&clip)
        .assert()
        .success();
    let a = json(
        &env.cmd(Some("A1"), OPENED_AT)
            .args(["sources", "--json"])
            .output()
            .unwrap(),
    );
    let b = json(
        &env.cmd(Some("B1"), OPENED_AT)
            .args(["sources", "--json"])
            .output()
            .unwrap(),
    );
    let count = |v: &Value| {
        v.get("sources")
            .and_then(Value::as_array)
            .or_else(|| v.as_array())
            .map(|a| a.len())
            .unwrap_or(0)
    };
    assert_eq!(count(&a), 1, "{a}");
    assert_eq!(count(&b), 0, "{b}");
    // B's log knows nothing of A's footage; A's records the collection.
    let clip_name = clip.file_name().unwrap().to_string_lossy().into_owned();
    let b_log = serde_json::to_string(&entries(&env, "B1", &[])).unwrap();
    assert!(!b_log.contains(&clip_name), "{b_log}");
    let a_open = entries(&env, "A1", &["--action", "lifecycle"]);
    assert_eq!(a_open.len(), 1, "case opening: {a_open:?}");
    assert_eq!(a_open[0]["params"]["event"], "case_opened");
    let a_collect = entries(&env, "A1", &["--action", "collection"]);
    assert_eq!(a_collect.len(), 1, "ingest: {a_collect:?}");
    assert!(a_collect
        .iter()
        .chain(a_open.iter())
        .all(|e| e["case"] == "A1"));
    // Each case's report lists only its own sources.
    for (case, n) in [("A1", 1), ("B1", 0)] {
        let out = env
            .cmd(Some(case), OPENED_AT)
            .args(["case", "report", "--json"])
            .assert()
            .success()
            .get_output()
            .clone();
        let report: Value =
            serde_json::from_slice(&fs::read(json(&out)["json"].as_str().unwrap()).unwrap())
                .unwrap();
        assert_eq!(report["sources"].as_array().unwrap().len(), n, "{case}");
        assert!(Path::new(json(&out)["html"].as_str().unwrap()).starts_with(env.case_dir(case)));
    }
}

#[test]
fn close_erases_derived_data_and_keeps_the_record() {
    let env = Env::new();
    env.open("C1", "2026-09-30");
    let derived = env.case_dir("C1").join("derived");
    fs::create_dir_all(derived.join("index")).unwrap();
    fs::write(derived.join("index/tracks.bin"), vec![0u8; 4096]).unwrap();
    fs::write(derived.join("thumb-0001.jpg"), b"jpeg").unwrap();
    env.cmd(Some("C1"), "2026-04-01T10:00:00Z")
        .args([
            "--reason",
            "procedure closed by the magistrate",
            "case",
            "close",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("erased 2 files"));
    assert!(!derived.exists());
    assert!(env.case_dir("C1").join("audit/audit.jsonl").is_file());
    assert!(env
        .case_dir("C1")
        .join("reports/final-report.html")
        .is_file());
    let erasures = entries(&env, "C1", &["--action", "erasure"]);
    assert_eq!(erasures.len(), 1);
    assert_eq!(
        erasures[0]["justification"],
        "procedure closed by the magistrate"
    );
    let listed = serde_json::to_string(&erasures[0]["params"]["erased"]).unwrap();
    assert!(
        listed.contains("derived/index/tracks.bin") && listed.contains("derived/thumb-0001.jpg")
    );
    env.cmd(Some("C1"), "2026-04-02T10:00:00Z")
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("intact"));
    // No more work in a closed case; its record can still be read.
    env.cmd(Some("C1"), "2026-04-02T10:00:00Z")
        .args(["sources"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("closed"));
    env.cmd(Some("C1"), "2026-04-02T10:00:00Z")
        .args(["case", "close"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already closed"));
    env.cmd(Some("C1"), "2026-04-02T10:00:00Z")
        .args(["case", "report"])
        .assert()
        .success();
    let show = json(
        &env.cmd(Some("C1"), "2026-04-02T10:00:00Z")
            .args(["case", "show", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(show["status"], "closed");
}

#[test]
fn purge_expired_follows_the_clock() {
    let env = Env::new();
    env.open("OLD", "2026-06-30");
    env.open("NEW", "2026-12-31");
    fs::write(env.case_dir("OLD").join("derived/synopsis.bin"), b"x").unwrap();
    // Before the end: nothing to purge.
    env.cmd(None, "2026-06-30T23:00:00Z")
        .args(["case", "purge-expired"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no expired case"));
    // The day after: work is refused, purge closes it.
    env.cmd(Some("OLD"), "2026-07-01T08:00:00Z")
        .args(["sources"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("expired"));
    let out = env
        .cmd(None, "2026-07-01T08:00:00Z")
        .args(["case", "purge-expired", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let done = json(&out)["purged"].clone();
    assert_eq!(done.as_array().unwrap().len(), 1);
    assert_eq!(done[0]["case_id"], "OLD");
    assert!(!env.case_dir("OLD").join("derived").exists());
    let listed = json(
        &env.cmd(None, "2026-07-01T08:00:00Z")
            .args(["case", "list", "--json"])
            .output()
            .unwrap(),
    );
    let status = |id: &str| {
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["case_id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("OLD"), "closed");
    assert_eq!(status("NEW"), "open");
    let last = entries(&env, "OLD", &["--action", "erasure"]);
    assert!(last[0]["justification"]
        .as_str()
        .unwrap()
        .contains("230-22"));
    assert!(last[0]["software_version"]
        .as_str()
        .unwrap()
        .contains("test clock"));
    // Three-year cap without an end date. (Opened after the purge above: entry times
    // never go backwards in the machine log, even under the test clock.)
    env.cmd(None, "2026-07-01T09:00:00Z")
        .args([
            "case",
            "open",
            "--id",
            "CAP",
            "--procedure",
            "2026/CAP",
            "--authorization",
            "A",
        ])
        .args([
            "--magistrate",
            "M",
            "--authorized-on",
            "2026-03-01",
            "--purpose",
            "x",
        ])
        .assert()
        .success();
    let out = env
        .cmd(None, "2029-03-01T00:00:00Z")
        .args(["case", "purge-expired", "--json"])
        .output()
        .unwrap();
    let ids: Vec<String> = json(&out)["purged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["case_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["CAP", "NEW"]);
}

#[test]
fn tampering_is_detected_named_and_alerted() {
    let env = Env::new();
    env.open("T1", "2026-09-30");
    env.cmd(Some("T1"), OPENED_AT)
        .args(["case", "report"])
        .assert()
        .success();
    let log = env.case_dir("T1").join("audit/audit.jsonl");
    let original = fs::read_to_string(&log).unwrap();
    assert_eq!(original.lines().count(), 2);
    fs::write(
        &log,
        original.replacen("vol avec violence", "vol simple", 1),
    )
    .unwrap();
    env.cmd(Some("T1"), OPENED_AT)
        .args(["audit", "verify"])
        .assert()
        .code(4)
        .stdout(predicate::str::contains("line 1"))
        .stderr(predicate::str::contains("verification failed"));
    // Nothing more can be appended to it, and the data controller was told.
    env.cmd(Some("T1"), OPENED_AT)
        .args(["case", "report"])
        .assert()
        .code(4);
    let alerts = json(
        &env.bare(OPENED_AT)
            .args(["alerts", "--json"])
            .output()
            .unwrap(),
    );
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "audit_tampered"),
        "{alerts}"
    );
    // The machine log itself is fine.
    env.bare(OPENED_AT)
        .args(["audit", "verify", "--machine"])
        .assert()
        .success();
    // Cutting the last entry off is detected too.
    let lines: Vec<&str> = original.lines().collect();
    fs::write(&log, format!("{}\n", lines[0])).unwrap();
    env.cmd(Some("T1"), OPENED_AT)
        .args(["audit", "verify", "--json"])
        .assert()
        .code(4)
        .stdout(predicate::str::contains("truncated"));
}

#[test]
fn torn_last_line_is_a_crash_not_tampering() {
    let env = Env::new();
    env.open("K1", "2026-09-30");
    let log = env.case_dir("K1").join("audit/audit.jsonl");
    let mut bytes = fs::read(&log).unwrap();
    let line = bytes.clone();
    bytes.extend_from_slice(&line[..line.len() / 2]);
    fs::write(&log, bytes).unwrap();
    env.cmd(Some("K1"), OPENED_AT)
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("torn last line"));
    // Work goes on; the fragment is set aside and the log is intact again.
    env.cmd(Some("K1"), OPENED_AT)
        .args(["case", "report"])
        .assert()
        .success();
    env.cmd(Some("K1"), OPENED_AT)
        .args(["audit", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("intact"));
}

#[test]
fn report_and_dossier() {
    let env = Env::new();
    env.open("R1", "2026-09-30");
    let out = env
        .cmd(Some("R1"), OPENED_AT)
        .args(["case", "report", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&out);
    let html = fs::read_to_string(v["html"].as_str().unwrap()).unwrap();
    assert!(html.contains("2026/R1") && html.contains("AUT-17") && html.contains("VERIFIED"));
    let disclosed = entries(&env, "R1", &["--action", "disclosure"]);
    assert_eq!(disclosed.len(), 1);
    assert_eq!(
        disclosed[0]["params"]["files"][0]["sha256"],
        v["html_sha256"]
    );
    assert_eq!(disclosed[0]["params"]["kind"], "report");

    env.bare(OPENED_AT)
        .args(["dossier"])
        .assert()
        .success()
        .stdout(predicate::str::contains("non-biometric guarantee"))
        .stdout(predicate::str::contains("`vigie case open`"))
        .stdout(predicate::str::contains("model_load"));
    let path = env.clips.path().join("dossier.html");
    env.bare(OPENED_AT)
        .args(["dossier", "--format", "html", "--out"])
        .arg(&path)
        .assert()
        .success();
    assert!(fs::read_to_string(&path)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
}
