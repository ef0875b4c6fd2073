//! The shared harness of the CLI tests: a temporary data root with one open, authorised
//! case, a scratch directory, and `vigie` commands bound to them (as ripgrep's `rgtest!`
//! sets up a directory and a command for each test).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use serde_json::Value;

pub const OPERATOR: &str = "op-test";

/// A temporary data root holding one open case, plus a scratch directory.
pub struct TestCase {
    pub home: tempfile::TempDir,
    pub work: tempfile::TempDir,
    pub case_id: String,
}

impl TestCase {
    /// Open case `case_id`, authorised today (so it never expires under the tests).
    pub fn open(case_id: &str) -> Self {
        let tc = Self {
            home: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
            case_id: case_id.to_string(),
        };
        let today = chrono::Utc::now().date_naive().to_string();
        tc.cmd_no_case()
            .args(["case", "open", "--id", case_id, "--procedure", "2026/00042"])
            .args(["--authorization", "OJ-2026-117", "--magistrate", "Mme Juge"])
            .args(["--authorized-on", &today, "--purpose", "vigie CLI tests"])
            .assert()
            .success();
        tc
    }

    /// `vigie` with the temporary data root and the operator, outside any case.
    pub fn cmd_no_case(&self) -> Command {
        let mut c = Command::cargo_bin("vigie").unwrap();
        c.env("VIGIE_HOME", self.home.path())
            .env("VIGIE_OPERATOR", OPERATOR)
            .env_remove("VIGIE_CASE")
            .arg("--quiet");
        c
    }

    /// `vigie` in the test case.
    pub fn cmd(&self) -> Command {
        let mut c = self.cmd_no_case();
        c.env("VIGIE_CASE", &self.case_id);
        c
    }

    /// Run `vigie --json ARGS` in the case, assert success, parse stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "vigie {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_json(&out)
    }

    /// `vigie --json analyze --all --detector motion --width native EXTRA...` in the case
    /// (see [`analyze_motion`]), asserting success; its report.
    pub fn analyse_motion(&self, extra: &[&str]) -> Value {
        self.json(&analyze_motion(extra))
    }

    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// The case's derived-data directory.
    pub fn derived(&self) -> PathBuf {
        self.home
            .path()
            .join("cases")
            .join(&self.case_id)
            .join("derived")
    }
}

/// `analyze --all --detector motion --width native` then `extra`: the model-free analysis
/// at the footage's own size that the tests run (the synthetic objects' paths are in
/// native pixels).
pub fn analyze_motion<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "analyze",
        "--all",
        "--detector",
        "motion",
        "--width",
        "native",
    ];
    args.extend(extra);
    args
}

/// stdout of a command as JSON, with the text in the panic message when it is not.
pub fn parse_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `tools/gen-synthetic` into `dir`: the clip (3 coloured objects on known paths, 12 s)
/// and its scene file (zone `door`, line `middle`).
pub fn synthetic(dir: &Path) -> (PathBuf, PathBuf) {
    let clip = dir.join("cam-synthetic.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/gen-synthetic");
    assert!(Command::new("bash")
        .arg(script)
        .arg(&clip)
        .status()
        .unwrap()
        .success());
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("cam-synthetic.truth.json")).unwrap(),
    )
    .unwrap();
    let scene = dir.join("scene.toml");
    std::fs::write(&scene, truth["scene"].as_str().unwrap()).unwrap();
    (clip, scene)
}

/// A case with the synthetic clip ingested (wall clock 2026-11-30T14:00:00+01:00) and
/// analysed with the motion detector and its scene file; returns the case and the
/// source id. The analysis must find the clip's 3 objects.
pub fn synthetic_analysed(case_id: &str) -> (TestCase, String) {
    let env = TestCase::open(case_id);
    let (clip, scene) = synthetic(env.work.path());
    env.cmd()
        .args(["ingest", "--start", "2026-11-30T14:00:00+01:00"])
        .arg(&clip)
        .assert()
        .success();
    let v = env.analyse_motion(&["--scene", scene.to_str().unwrap()]);
    assert_eq!(v["analysed"][0]["tracks"], 3, "{v}");
    let source_id = v["analysed"][0]["source_id"].as_str().unwrap().to_string();
    (env, source_id)
}

/// Run the ffmpeg CLI quietly (`-v error -y` first), asserting it succeeded: the tests make
/// their footage with it (nothing from ../shared is committed).
pub fn ffmpeg(args: &[&str], output: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(output)
        .output()
        .expect("the ffmpeg CLI (installed by tools/setup)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
