//! Refusals keep their class end to end: a tampered plate model, met by a command working
//! in a case, exits 3 ("refused", not 2 "bad input") **and** raises a `model_refused`
//! alert in the machine log and in the case's log.
//!
//! Needs the fetched ONNX Runtime and models (tools/setup); says so when it skips, and
//! fails instead of skipping under CI (`CI` set), where everything is fetched.

mod common;

use std::path::PathBuf;

use common::TestCase;
use serde_json::Value;

fn cache() -> PathBuf {
    std::env::var_os("VIGIE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/vigie"))
}

fn models_present() -> bool {
    let ok = cache().join("models/clp_det.onnx").is_file();
    if !ok {
        let msg = "skipped: run tools/fetch-models first (the plate models are needed)";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("{msg}");
    }
    ok
}

#[test]
fn a_tampered_plate_model_exits_3_and_raises_a_model_refused_alert() {
    if !models_present() {
        return;
    }
    let env = TestCase::open("C-refusal");
    // A cache where every model is the real one except the plate detector.
    let fake = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fake.path().join("models")).unwrap();
    std::os::unix::fs::symlink(cache().join("onnxruntime"), fake.path().join("onnxruntime"))
        .unwrap();
    for e in std::fs::read_dir(cache().join("models")).unwrap().flatten() {
        let name = e.file_name();
        if name == "clp_det.onnx" {
            let mut bytes = std::fs::read(e.path()).unwrap();
            bytes[2048] ^= 0x01;
            std::fs::write(fake.path().join("models").join(&name), bytes).unwrap();
        } else {
            std::os::unix::fs::symlink(e.path(), fake.path().join("models").join(&name)).unwrap();
        }
    }
    let still = env.path("car.png");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=white:s=320x240",
            "-frames:v",
            "1",
        ],
        &still,
    );

    let out = env
        .cmd()
        .env("VIGIE_CACHE", fake.path())
        .args(["plates", "--plate-localiser", "clp"])
        .arg(&still)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let alerts = env.json(&["alerts"]);
    let list = alerts.as_array().expect("alerts list");
    assert!(
        list.iter().any(|a| a["kind"] == "model_refused"),
        "a model_refused alert: {alerts}"
    );
    // In the case's log too.
    let log =
        std::fs::read_to_string(env.home.path().join("cases/C-refusal/audit/audit.jsonl")).unwrap();
    assert!(log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .any(|e| e["action"] == "alert" && e["params"]["kind"] == "model_refused"));
}

#[test]
fn an_unpinned_onnx_runtime_is_refused_with_exit_3_and_a_runtime_refused_alert() {
    if !models_present() {
        return;
    }
    let env = TestCase::open("C-runtime");
    let still = env.path("x.png");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=64x48",
            "-frames:v",
            "1",
        ],
        &still,
    );
    // Any library that is not the pinned runtime: a copy of the C library.
    let fake = env.path("libonnxruntime.so");
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("a C library to stand in for a shim runtime");
    std::fs::copy(libc, &fake).unwrap();
    let out = env
        .cmd_no_case()
        .env("ORT_DYLIB_PATH", &fake)
        .arg("detect")
        .arg(&still)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = env
        .cmd_no_case()
        .args(["--json", "alerts"])
        .output()
        .unwrap();
    let alerts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "runtime_refused"),
        "{alerts}"
    );
}
