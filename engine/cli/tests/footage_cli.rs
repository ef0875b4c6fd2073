//! Footage as it really arrives: raw elementary streams carry no timestamps, and every
//! frame must still be analysed at its own time.

mod common;

use assert_cmd::prelude::*;
use common::TestCase;

fn raw_h264(env: &TestCase, name: &str) -> std::path::PathBuf {
    let p = env.path(name);
    assert!(std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=gray:s=160x120:d=4:r=25[bg];color=c=red:s=24x24:d=4:r=25[fg];[bg][fg]overlay=x='t*30':y=40")
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-f", "h264"])
        .arg(&p)
        .status()
        .unwrap()
        .success());
    p
}

#[test]
fn a_raw_h264_stream_is_analysed_frame_by_frame_at_the_right_time() {
    let env = TestCase::open("C-raw");
    let raw = raw_h264(&env, "cam.h264");
    let probe = env.json(&["probe", raw.to_str().unwrap()]);
    assert_eq!(probe["meta"]["timestamps"], "frame_rate", "{probe}");
    let v = env.json(&[
        "ingest",
        "--start",
        "2026-11-30T14:00:00+01:00",
        raw.to_str().unwrap(),
    ]);
    let id = v["ingested"][0]["source"]["source_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{v}"));
    // 100 frames at 25 fps, sampled at 10 fps: 40 analysed (not 1).
    let a = env.json(&[
        "analyze",
        "--all",
        "--detector",
        "motion",
        "--sampling",
        "10fps",
    ]);
    assert_eq!(a["analysed"][0]["frames_analysed"], 40, "{a}");
    let d = env.json(&["decode", &id, "--sampling", "all"]);
    let text = d.to_string();
    assert!(text.contains("timed from the frame rate"), "{d}");
}

#[test]
fn ingest_fps_times_a_raw_stream_and_is_refused_for_files_with_timestamps() {
    let env = TestCase::open("C-fps");
    let raw = raw_h264(&env, "cam12.h264");
    env.cmd()
        .args(["ingest", "--fps", "12.5"])
        .arg(&raw)
        .assert()
        .success();
    let s = env.json(&["sources"]);
    let list = s["sources"].as_array().or_else(|| s.as_array()).unwrap();
    assert_eq!(list[0]["meta"]["fps"], 12.5);
    // 100 frames at 12.5 fps last 8 s: the last analysed frame is near 7.92 s.
    let a = env.json(&[
        "analyze",
        "--all",
        "--detector",
        "motion",
        "--sampling",
        "all",
    ]);
    assert_eq!(a["analysed"][0]["frames_analysed"], 100, "{a}");
    // A file with its own timestamps refuses --fps (the batch reports it).
    let mp4 = env.path("cam.mp4");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=d=1:s=96x64:r=10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
        &mp4,
    );
    let out = env
        .cmd()
        .args(["ingest", "--fps", "10"])
        .arg(&mp4)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fps applies to raw"));
}

#[test]
fn a_folder_ingest_identifies_files_by_content_and_reports_what_it_skipped() {
    let env = TestCase::open("C-folder");
    let dir = env.path("export");
    std::fs::create_dir_all(&dir).unwrap();
    // A recording under a vendor's name, a still image and a note.
    let dat = dir.join("CH01_20261130.dat");
    common::ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=d=1:s=96x64:r=10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
        ],
        &dat,
    );
    assert!(std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=32x32",
            "-frames:v",
            "1"
        ])
        .arg(dir.join("snapshot.png"))
        .status()
        .unwrap()
        .success());
    std::fs::write(dir.join("README.txt"), "player for the DVR export").unwrap();

    let v = env.json(&["ingest", dir.to_str().unwrap()]);
    let ingested = v["ingested"].as_array().unwrap();
    assert_eq!(ingested.len(), 1, "{v}");
    assert!(ingested[0]["source"]["path"]
        .as_str()
        .unwrap()
        .ends_with("CH01_20261130.dat"));
    let skipped = v["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2, "{v}");
    let why = |name: &str| {
        skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .map(|s| s["why"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{name} not reported: {v}"))
    };
    assert!(why("snapshot.png").contains("still image"));
    assert!(why("README.txt").contains("not video"));
    // The collection entry records what was skipped.
    let log = env.json(&["audit", "show", "--action", "collection"]);
    assert_eq!(log[0]["params"]["skipped"].as_array().unwrap().len(), 2);
}

#[test]
fn an_mp4_cut_before_its_index_is_salvaged_at_ingest_and_its_hash_kept() {
    let env = TestCase::open("C-salvage");
    let full = env.path("export-full.mp4");
    assert!(std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=gray:s=320x240:d=10:r=25[bg];color=c=red:s=32x32:d=10:r=25[fg];[bg][fg]overlay=x='t*25':y=100")
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "500k", "-g", "25"])
        .args(["-pix_fmt", "yuv420p", "-x264-params", "repeat-headers=1"])
        .arg(&full)
        .status()
        .unwrap()
        .success());
    let bytes = std::fs::read(&full).unwrap();
    let cut = env.path("export-cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 4]).unwrap();
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes[..bytes.len() / 4]))
    };
    let out = env
        .cmd()
        .args(["--json", "ingest"])
        .arg(&cut)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let src = &v["ingested"][0]["source"];
    assert_eq!(
        src["sha256"],
        hash.as_str(),
        "the untouched original's hash"
    );
    assert_eq!(src["salvage"]["parameter_sets"], "stream");
    assert!(src["salvage"]["nal_units"].as_u64().unwrap() > 40);
    // Usable like any source: verified, analysed.
    env.cmd().arg("verify").assert().success();
    let a = env.json(&[
        "analyze",
        "--all",
        "--detector",
        "motion",
        "--sampling",
        "all",
    ]);
    let frames = a["analysed"][0]["frames_analysed"].as_u64().unwrap();
    assert!((40..=80).contains(&frames), "{a}");
    // The collection entry names the salvage.
    let log = env.json(&["audit", "show", "--action", "collection"]);
    assert_eq!(
        log[0]["params"]["sources"][0]["salvaged"]["parameter_sets"],
        "stream"
    );
    assert_eq!(std::fs::read(&cut).unwrap(), &bytes[..bytes.len() / 4]);
    // The salvaged stream is what gets decoded: pointing the registry at another stream
    // (with its hash) disagrees with the collection entry.
    let reg = env
        .home
        .path()
        .join("cases/C-salvage/evidence/sources.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reg).unwrap()).unwrap();
    doc["sources"][0]["salvage"]["stream_sha256"] = serde_json::Value::String("0".repeat(64));
    std::fs::write(&reg, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = env.cmd().arg("verify").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("salvaged stream"));
}
