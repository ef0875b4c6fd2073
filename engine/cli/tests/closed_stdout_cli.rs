//! A reader that goes away early (`vigie ingest ... | head -1`) must neither make vigie
//! panic nor cut its work short: the command finishes, registers its evidence and writes
//! its audit-log entries, and only the printing stops.
//!
//! Each command runs with stdout on a pipe whose read end is closed as soon as the
//! process is spawned, long before vigie prints anything (it first opens the case).

mod common;

use std::process::{Command, Output, Stdio};

use common::{ffmpeg, parse_json, TestCase};
use serde_json::Value;

/// Run `cmd` with its stdout on a pipe closed at once; its exit status and stderr.
fn run_with_stdout_closed(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

/// Assert that the run ended quietly: no panic, the command's own exit status.
fn assert_quiet_success(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    assert_ne!(out.status.code(), Some(101), "{what}: {stderr}");
    assert!(out.status.success(), "{what} failed: {stderr}");
}

#[test]
fn ingest_into_a_closed_pipe_registers_everything_without_panicking() {
    let env = TestCase::open("C-pipe-ingest");
    let dir = env.path("footage");
    std::fs::create_dir(&dir).unwrap();
    for (i, size) in ["160x120", "176x144", "192x144"].iter().enumerate() {
        let src = format!("testsrc2=size={size}:rate=25:duration=1"); // distinct files
        ffmpeg(
            &["-f", "lavfi", "-i", &src],
            &dir.join(format!("cam{i}.mp4")),
        );
    }
    let mut ingest = env.cmd();
    ingest
        .args(["ingest", "--start", "2026-11-30T14:00:00+01:00"])
        .arg(&dir);
    assert_quiet_success("ingest", &run_with_stdout_closed(ingest));

    // The work went to completion: every file registered, the audit log intact.
    let sources = parse_json(&env.cmd().args(["--json", "sources"]).output().unwrap());
    let count = sources
        .get("sources")
        .and_then(Value::as_array)
        .or_else(|| sources.as_array())
        .map_or(0, Vec::len);
    assert_eq!(count, 3, "{sources}");
    let verify = env.cmd().args(["audit", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn listings_into_a_closed_pipe_end_quietly() {
    let env = TestCase::open("C-pipe-list");
    for args in [
        &["audit", "show"][..],
        &["--json", "audit", "show"],
        &["case", "list"],
        &["case", "show"],
    ] {
        let mut cmd = env.cmd();
        cmd.args(args);
        assert_quiet_success(&format!("vigie {args:?}"), &run_with_stdout_closed(cmd));
    }
}

#[test]
fn a_full_disk_behind_stdout_is_reported_after_the_work_not_as_a_panic() {
    let env = TestCase::open("C-pipe-full");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = env
        .cmd()
        .args(["audit", "show"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("could not write the output to stdout"),
        "{stderr}"
    );
}
