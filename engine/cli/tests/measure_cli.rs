//! The measurement door from the command line: a benchmark that produces detections and
//! tracks on a file outside any case must first write a `measurement` entry in the
//! machine log naming the file's SHA-256 and what is computed.

mod common;

use std::path::Path;
use std::process::Command;

use assert_cmd::prelude::*;
use common::TestCase;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A 2 s test clip made with the `ffmpeg` CLI.
fn clip(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("x.mp4");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=2:size=160x120:rate=10")
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&path)
        .status()
        .expect("ffmpeg is needed by the CLI tests (see tools/setup)");
    assert!(status.success());
    path
}

fn machine_entries(home: &Path) -> Vec<Value> {
    std::fs::read_to_string(home.join("machine/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn bench_analyze_logs_the_measurement_with_the_file_hash() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = clip(work.path());
    let sha = hex::encode(Sha256::digest(std::fs::read(&file).unwrap()));
    let out = Command::new(assert_cmd::cargo::cargo_bin("vigie"))
        .env("VIGIE_HOME", home.path())
        .env("VIGIE_OPERATOR", common::OPERATOR)
        .env_remove("VIGIE_CASE")
        .args([
            "--quiet",
            "--json",
            "bench",
            "analyze",
            "--detector",
            "motion",
            "--no-plates",
        ])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .clone();
    let v = common::parse_json(&out);
    assert!(v["frames_decoded"].as_u64().unwrap() > 0);
    let entries = machine_entries(home.path());
    let m = entries
        .iter()
        .find(|e| e["params"]["event"] == "measurement")
        .unwrap_or_else(|| panic!("no measurement entry in {entries:#?}"));
    assert_eq!(m["params"]["command"], "bench analyze");
    let files = m["params"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["sha256"], sha.as_str());
    let computed: Vec<&str> = m["params"]["computed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        computed.contains(&"tracks") && computed.contains(&"detections"),
        "{computed:?}"
    );
}

#[test]
fn a_missing_file_computes_nothing_and_logs_no_measurement() {
    let env = TestCase::open("measure-missing");
    env.cmd_no_case()
        .args(["bench", "analyze", "--detector", "motion", "--no-plates"])
        .arg(env.path("absent.mp4"))
        .output()
        .unwrap();
    assert!(!machine_entries(env.home.path())
        .iter()
        .any(|e| e["params"]["event"] == "measurement"));
}
