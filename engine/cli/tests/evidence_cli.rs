//! CLI tests for the foundation: ingest, probe, sources, verify, decode, bench decode.
//! Clips are generated with the `ffmpeg` CLI into a temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use common::{parse_json as json, TestCase};
use predicates::prelude::*;

/// A 2 s, 25 fps `testsrc2` clip encoded with `args`, in the test's scratch directory.
fn clip(env: &TestCase, name: &str, args: &[&str]) -> PathBuf {
    let out = env.path(name);
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
        .arg("testsrc2=size=320x240:rate=25:duration=2")
        .args(args)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

fn h264(env: &TestCase, name: &str) -> PathBuf {
    clip(env, name, &["-c:v", "libx264", "-preset", "ultrafast"])
}

#[test]
fn help_explains_commands_and_exit_codes() {
    Command::cargo_bin("vigie")
        .unwrap()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("ingest"))
        .stdout(predicate::str::contains("Exit codes"));
}

#[test]
fn probe_prints_metadata_as_text_and_json() {
    let env = TestCase::open("T-0001");
    let clip = h264(&env, "a.mp4");
    env.cmd_no_case()
        .args(["probe"])
        .arg(&clip)
        .assert()
        .success()
        .stdout(predicate::str::contains("codec h264"))
        .stdout(predicate::str::contains("320x240"));
    let out = env
        .cmd_no_case()
        .args(["probe", "--json"])
        .arg(&clip)
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["meta"]["codec"], "h264");
    assert_eq!(v["meta"]["frame_count"], 50);
    assert_eq!(v["meta"]["fps"], 25.0);
}

#[test]
fn ingest_without_a_case_or_operator_is_refused() {
    // Exit 3: refused (no authorised case / no operator).
    let env = TestCase::open("T-0001");
    let clip = h264(&env, "a.mp4");
    env.cmd_no_case()
        .arg("ingest")
        .arg(&clip)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--case"));
    env.cmd()
        .env_remove("VIGIE_OPERATOR")
        .arg("ingest")
        .arg(&clip)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--operator"));
}

#[test]
fn batch_ingest_goes_on_past_bad_files_and_names_them() {
    let env = TestCase::open("T-0001");
    let dir = env.path("export");
    std::fs::create_dir_all(dir.join("cam2")).unwrap();
    let good1 = h264(&env, "export/cam1.mp4");
    let good2 = clip(&env, "export/cam2/b.avi", &["-c:v", "mpeg4"]);
    std::fs::write(dir.join("empty.mp4"), b"").unwrap();
    std::fs::write(dir.join("cam2/readme.mp4"), b"this is text, not video\n").unwrap();
    let out = env
        .cmd()
        .args(["ingest", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["ingested"].as_array().unwrap().len(), 2);
    assert_eq!(v["failed"].as_array().unwrap().len(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 bytes") && stderr.contains("empty.mp4"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not a video file") && stderr.contains("readme.mp4"),
        "{stderr}"
    );

    let out = env.cmd().args(["sources", "--json"]).output().unwrap();
    let sources = json(&out)["sources"].as_array().unwrap().clone();
    assert_eq!(sources.len(), 2);
    let hashes: Vec<&str> = sources
        .iter()
        .map(|s| s["sha256"].as_str().unwrap())
        .collect();
    for p in [&good1, &good2] {
        let h = sha256(p);
        assert!(hashes.contains(&h.as_str()), "{h} not in {hashes:?}");
    }
}

fn sha256(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn ingest_never_modifies_evidence() {
    let env = TestCase::open("T-0001");
    let clip = h264(&env, "a.mp4");
    let before = (
        sha256(&clip),
        std::fs::metadata(&clip).unwrap().modified().unwrap(),
    );
    let mut perms = std::fs::metadata(&clip).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&clip, perms).unwrap();
    env.cmd().arg("ingest").arg(&clip).assert().success();
    env.cmd()
        .args(["decode", "--sampling", "5fps"])
        .arg(&clip)
        .assert()
        .success();
    let after = (
        sha256(&clip),
        std::fs::metadata(&clip).unwrap().modified().unwrap(),
    );
    assert_eq!(before, after);
}

#[test]
fn decode_reports_frames_and_refuses_changed_evidence() {
    let env = TestCase::open("T-0001");
    let clip = h264(&env, "a.mp4");
    env.cmd().arg("ingest").arg(&clip).assert().success();
    let out = env
        .cmd()
        .args(["decode", "--json", "--sampling", "5fps"])
        .arg(&clip)
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out);
    assert_eq!(v["report"]["frames_decoded"], 50);
    assert_eq!(v["report"]["frames_emitted"], 10);

    // Alter one byte of the evidence: every later use is refused (exit 3).
    let mut bytes = std::fs::read(&clip).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&clip, &bytes).unwrap();
    env.cmd()
        .arg("decode")
        .arg(&clip)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("evidence changed since ingest"));
    env.cmd()
        .arg("verify")
        .assert()
        .code(3)
        .stdout(predicate::str::contains("evidence changed since ingest"));
    // Re-ingesting the altered file under the same path is refused as well.
    env.cmd().arg("ingest").arg(&clip).assert().code(3);
}

#[test]
fn decode_of_an_unregistered_source_names_the_fix() {
    let env = TestCase::open("T-0001");
    env.cmd()
        .args(["decode", "S123456789abc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("vigie ingest"));
}

#[test]
fn malformed_flags_are_clear_errors() {
    let env = TestCase::open("T-0001");
    env.cmd()
        .args(["decode", "x", "--sampling", "often"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid sampling mode"));
    env.cmd()
        .args(["ingest", "x.mp4", "--start", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("explicit offset"));
    // A bad --fps is said once, before any file is hashed or registered.
    let file = h264(&env, "fps.mp4");
    env.cmd()
        .args(["ingest", file.to_str().unwrap(), "--fps", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid --fps 0"));
    let v = env.json(&["sources", "--json"]);
    assert_eq!(v["sources"].as_array().map(Vec::len), Some(0), "{v}");
}

#[test]
fn bench_decode_prints_both_throughputs_and_the_ratio() {
    let env = TestCase::open("T-0001");
    let clip = h264(&env, "a.mp4");
    let out = env
        .cmd_no_case()
        .args(["bench", "decode", "--runs", "1", "--json"])
        .arg(&clip)
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out);
    assert_eq!(v["frames"], 50);
    for k in [
        "ffmpeg_null_fps",
        "vigie_decode_fps",
        "ratio_decode_vs_ffmpeg",
    ] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}");
    }
}

#[test]
fn real_footage_ingest_and_decode() {
    let footage = PathBuf::from(
        std::env::var("VIGIE_CACHE")
            .unwrap_or_else(|_| format!("{}/.cache/vigie", std::env::var("HOME").unwrap())),
    )
    .join("footage/vtest.avi");
    if !footage.exists() {
        vigie_core::test_support::skip(&format!("{} absent (run tools/setup)", footage.display()));
        return;
    }
    let env = TestCase::open("T-0001");
    let out = env
        .cmd()
        .args(["ingest", "--json", "--start", "2009-01-01T09:00:00+00:00"])
        .arg(&footage)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&out);
    let src = &v["ingested"][0]["source"];
    assert_eq!(
        src["sha256"],
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"
    );
    assert_eq!(src["meta"]["frame_count"], 795);
    assert_eq!(src["meta"]["start_time"]["origin"], "operator");
    let out = env
        .cmd()
        .args(["decode", "--json", "--sampling", "keyframes"])
        .arg(&footage)
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["first_frame"], "2009-01-01T09:00:00+00:00");
    assert!(v["report"]["frames_decoded"].as_u64().unwrap() < 795);
}

/// The same bytes under a second name are not a second source: the output says which
/// file the case's source was registered from, and the count says none was added.
#[test]
fn a_copy_of_registered_footage_names_the_file_it_was_registered_from() {
    let env = TestCase::open("DUP-1");
    let first = h264(&env, "first.mp4");
    let copy = env.path("copy.mp4");
    std::fs::copy(&first, &copy).unwrap();
    env.cmd().arg("ingest").arg(&first).assert().success();
    let out = env
        .cmd()
        .arg("ingest")
        .arg(&copy)
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("(already registered from {})", first.display())),
        "{text}"
    );
    assert!(
        text.contains("0 source(s) registered in case DUP-1 (1 already registered)"),
        "{text}"
    );
    let v = env.json(&["ingest", copy.to_str().unwrap()]);
    assert_eq!(v["ingested"][0]["already_present"], true, "{v}");
    assert_eq!(
        v["ingested"][0]["registered_path"],
        first.display().to_string(),
        "{v}"
    );
    // The file first registered, ingested again: already there, under its own name.
    let v = env.json(&["ingest", first.to_str().unwrap()]);
    assert!(v["ingested"][0]["registered_path"].is_null(), "{v}");
}
