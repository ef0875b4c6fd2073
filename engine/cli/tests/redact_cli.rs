//! Redaction by default on synthetic footage with known ground truth (tools/gen-synthetic:
//! red, blue and yellow boxes on known paths), analysed with the model-free motion
//! detector: a clip of the red track is re-encoded with the blue and yellow boxes filled
//! and the mark burned in, its disclosure entry holds both hashes and the parameters; an
//! unredacted export needs a justification and is a disclosure of its own kind; frames
//! are redacted too.

mod common;

use std::path::Path;

use assert_cmd::prelude::*;
use common::{ffmpeg, synthetic_analysed, TestCase};
use predicates::prelude::*;
use serde_json::Value;

const W: usize = 640;
const H: usize = 360;

/// One frame of a video (at `at_s`) or a PNG as packed RGB24, through the ffmpeg CLI.
fn rgb_at(input: &Path, at_s: Option<f64>, out: &Path) -> Vec<u8> {
    let ss = at_s.map(|s| format!("{s:.3}"));
    let mut args: Vec<&str> = Vec::new();
    if let Some(ss) = &ss {
        args.extend(["-ss", ss.as_str()]);
    }
    args.extend(["-i", input.to_str().unwrap()]);
    args.extend(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24"]);
    ffmpeg(&args, out);
    let bytes = std::fs::read(out).unwrap();
    assert_eq!(bytes.len(), W * H * 3, "a 640x360 frame");
    bytes
}

fn px(img: &[u8], x: usize, y: usize) -> [u8; 3] {
    let i = (y * W + x) * 3;
    [img[i], img[i + 1], img[i + 2]]
}

fn is_fill(p: [u8; 3]) -> bool {
    p.iter().all(|c| *c < 40)
}

fn is_red(p: [u8; 3]) -> bool {
    p[0] > 150 && p[1] < 90 && p[2] < 90
}

/// The burned-in mark: white text on a black plate along the bottom-right corner.
fn has_mark(img: &[u8]) -> bool {
    let (mut white, mut black) = (0, 0);
    for y in H - 16..H - 1 {
        for x in W / 2..W - 1 {
            let p = px(img, x, y);
            if p.iter().all(|c| *c > 200) {
                white += 1;
            }
            if p.iter().all(|c| *c < 30) {
                black += 1;
            }
        }
    }
    white > 100 && black > 500
}

fn track_of(env: &TestCase, colour: &str) -> u64 {
    let v = env.json(&["search", "--colour", colour]);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{colour}: {v}");
    hits[0]["track_id"].as_u64().unwrap()
}

fn disclosures(env: &TestCase) -> Vec<Value> {
    env.json(&["audit", "show", "--action", "disclosure"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn clips_and_frames_are_redacted_unless_justified() {
    let (env, source_id) = synthetic_analysed("RED-1");
    let red = track_of(&env, "red");
    let red_s = red.to_string();
    // `vigie clip` of the red track (no margin) or `vigie frame` at 5 s, then `extra`,
    // written to `out`: the JSON report.
    let export = |what: &[&str], extra: &[&str], out: &Path| {
        let mut args = what.to_vec();
        args.extend(extra);
        args.extend(["-o", out.to_str().unwrap()]);
        env.json(&args)
    };
    let clip_red = |extra: &[&str], out: &Path| {
        export(&["clip", "--track", &red_s, "--margin", "0"], extra, out)
    };
    let frame_at_5 = |extra: &[&str], out: &Path| {
        export(&["frame", "--source", &source_id, "--at", "5"], extra, out)
    };

    // A redacted clip: re-encoded, the others filled, the red box clear, the mark on.
    let clip = env.path("red.mp4");
    let v = clip_red(&[], &clip);
    assert_eq!(v["redacted"], true, "{v}");
    assert_eq!(v["objects_redacted"], 2, "blue and yellow: {v}");
    let start_s = v["start_ms"].as_i64().unwrap() as f64 / 1000.0;
    assert!(start_s < 4.0, "{v}");
    // Source time 5 s: red at x 270..340, y 260..300; blue at x 500..540, y 155..235;
    // yellow standing at x 200..240, y 60..120.
    let img = rgb_at(&clip, Some(5.0 - start_s), &env.path("clip5.rgb"));
    assert!(
        is_red(px(&img, 305, 280)),
        "red clear: {:?}",
        px(&img, 305, 280)
    );
    assert!(
        is_fill(px(&img, 520, 195)),
        "blue filled: {:?}",
        px(&img, 520, 195)
    );
    assert!(
        is_fill(px(&img, 220, 90)),
        "yellow filled: {:?}",
        px(&img, 220, 90)
    );
    let bg = px(&img, 600, 20);
    assert!(
        bg.iter().all(|c| (80..170).contains(c)),
        "background: {bg:?}"
    );
    assert!(has_mark(&img), "the mark is burned in");

    // The disclosure: the clip's hash, the source segment's, the parameters, the figures.
    let d = disclosures(&env);
    let e = d
        .iter()
        .find(|e| e["params"]["kind"] == "clip")
        .expect("a clip disclosure");
    let r = &e["params"]["detail"]["redaction"];
    assert_eq!(r["redacted"], true);
    assert_eq!(e["params"]["files"][0]["sha256"], v["sha256"]);
    let seg = r["source_segment"]["sha256"].as_str().unwrap();
    assert_eq!(seg.len(), 64);
    assert_ne!(seg, v["sha256"].as_str().unwrap());
    assert_eq!(e["params"]["source_id"], source_id.as_str());
    // No vehicle here: nothing searched, no plate detector loaded.
    assert_eq!(r["parameters"]["vehicles"], "plate_or_lower_part");
    assert_eq!(r["plates"]["figures"]["vehicle_frames"], 0);
    assert!(r["plates"]["detector"].is_null(), "{r}");
    assert!(r["parameters"]["hold_ms"].as_i64().unwrap() >= 40);
    assert!(r["parameters"]["motion"]["min_diff"].as_f64().is_some());
    assert_eq!(r["figures"]["objects_redacted"], 2);
    assert!(r["figures"]["frames"].as_u64().unwrap() > 50);
    assert_eq!(r["encoding"]["codec"], "h264");
    assert!(r["mark"]
        .as_str()
        .unwrap()
        .starts_with("PROCEDURE 2026/00042 · vigie · REDACTED 2"));
    // The scratch copy of the source segment is gone.
    let leftovers: Vec<_> = std::fs::read_dir(env.derived())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("segment-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A redacted clip is MP4; a non-existent --keep track is named.
    env.cmd()
        .args(["clip", "--track", &red_s, "-o", "red.mkv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".mp4"));
    env.cmd()
        .args(["clip", "--track", &red_s, "--keep", "999", "-o", "k.mp4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("track 999"));

    // Unredacted: refused without a justification, naming the flag.
    let out = env
        .cmd()
        .args(["clip", "--track", &red_s, "--unredacted", "-o", "raw.mp4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--justification"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.home.path().join("cases/RED-1/exports/raw.mp4").exists());
    // With one: a stream copy, recorded as its own kind of disclosure.
    let raw = env.path("raw.mp4");
    let v = clip_red(
        &[
            "--unredacted",
            "--justification",
            "court order 2026-117: the whole scene",
        ],
        &raw,
    );
    assert_eq!(v["redacted"], false, "{v}");
    let img = rgb_at(&raw, Some(5.0 - start_s), &env.path("raw5.rgb"));
    assert!(!is_fill(px(&img, 520, 195)), "blue shown unredacted");
    let d = disclosures(&env);
    let e = d
        .iter()
        .find(|e| e["params"]["kind"] == "unredacted_clip")
        .expect("an unredacted clip disclosure");
    assert_eq!(
        e["params"]["detail"]["redaction"]["justification"],
        "court order 2026-117: the whole scene"
    );
    assert_eq!(e["params"]["files"][0]["sha256"], v["sha256"]);

    // Frames: every object masked by default; --keep leaves one clear.
    let png = env.path("f.png");
    let v = frame_at_5(&[], &png);
    assert_eq!(v["objects_redacted"], 3, "{v}");
    let img = rgb_at(&png, None, &env.path("f.rgb"));
    for (x, y) in [(305, 280), (520, 195), (220, 90)] {
        assert!(is_fill(px(&img, x, y)), "({x},{y}) {:?}", px(&img, x, y));
    }
    assert!(has_mark(&img));
    let kept = env.path("kept.png");
    let v = frame_at_5(&["--keep", &red_s], &kept);
    assert_eq!(v["objects_redacted"], 2, "{v}");
    let img = rgb_at(&kept, None, &env.path("kept.rgb"));
    assert!(is_red(px(&img, 305, 280)), "{:?}", px(&img, 305, 280));
    assert!(is_fill(px(&img, 520, 195)));
    // Unredacted frame: its own kind, the justification with it.
    let out = env
        .cmd()
        .args(["frame", "--source", &source_id, "--at", "5", "--unredacted"])
        .args(["-o", "u.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let u = env.path("u.png");
    let v = frame_at_5(&["--unredacted", "--justification", "zones to draw"], &u);
    assert_eq!(v["redacted"], false);
    let img = rgb_at(&u, None, &env.path("u.rgb"));
    assert!(is_red(px(&img, 305, 280)));
    assert!(has_mark(&img), "UNREDACTED mark");
    let d = disclosures(&env);
    assert!(d.iter().any(|e| e["params"]["kind"] == "unredacted_frame"
        && e["params"]["detail"]["redaction"]["justification"] == "zones to draw"));
    env.cmd().args(["audit", "verify"]).output().unwrap();
}

#[test]
fn contact_sheets_show_redacted_copies_unless_justified() {
    let (env, source_id) = synthetic_analysed("RED-2");
    let red = track_of(&env, "red");
    env.cmd()
        .args(["search", "--colour", "red", "--sheet", "red.html"])
        .assert()
        .success();
    let exports = env.home.path().join("cases/RED-2/exports");
    let html = std::fs::read_to_string(exports.join("red.html")).unwrap();
    let image = format!("red.files/{source_id}_{red}.jpg");
    assert!(html.contains(&image), "{html}");
    assert!(!html.contains("derived/thumbnails"), "{html}");
    assert!(html.contains("PROCEDURE 2026/00042"), "{html}");
    assert!(exports.join(&image).is_file());
    let sheet = disclosures(&env)
        .into_iter()
        .find(|e| e["params"]["kind"] == "contact_sheet")
        .expect("the sheet's disclosure");
    let files = sheet["params"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "the sheet and its thumbnail: {sheet}");
    assert_eq!(sheet["params"]["detail"]["redaction"]["thumbnails"], 1);
    // Never over an existing sheet or image folder.
    std::fs::remove_file(exports.join("red.html")).unwrap();
    env.cmd()
        .args(["search", "--colour", "red", "--sheet", "red.html"])
        .assert()
        .code(2);

    // The analysis's own thumbnails only with a justification, as its own disclosure.
    let unredacted = || {
        let mut c = env.cmd();
        c.args(["search", "--colour", "red", "--sheet", "raw.html"])
            .arg("--unredacted");
        c
    };
    unredacted().assert().code(2);
    unredacted()
        .args(["--justification", "magistrate's request of 2026-12-01"])
        .assert()
        .success();
    let raw = std::fs::read_to_string(exports.join("raw.html")).unwrap();
    assert!(raw.contains("derived/thumbnails"), "{raw}");
    let unredacted = disclosures(&env)
        .into_iter()
        .find(|e| e["params"]["kind"] == "unredacted_sheet")
        .expect("the unredacted sheet's disclosure");
    assert_eq!(
        unredacted["params"]["detail"]["justification"],
        "magistrate's request of 2026-12-01"
    );
}

/// The shared datasets (`../shared/datasets`, or `VIGIE_TEST_DATASETS`).
fn datasets() -> std::path::PathBuf {
    std::env::var_os("VIGIE_TEST_DATASETS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"))
}

/// End to end on a real car (a Ukrainian plate photo of `plates-ua-nomeroff` made into a
/// 2 s still clip in the test's scratch directory): analysed with the object detector,
/// the redacted frame covers the plate where `vigie plates` (the reader, on the photo
/// itself) finds it, shows the rest of the car, and records how plates were covered.
/// Skips, with the reason, when the photo or the models are absent.
#[test]
fn a_located_plate_is_covered_and_the_car_shown() {
    let photo = datasets().join("plates-ua-nomeroff/benchmark_oneline_np_images/10.jpeg");
    if !photo.is_file() {
        vigie_core::test_support::skip(&format!("{} absent", photo.display()));
        return;
    }
    for model in [
        "nanodet_coco_416.onnx",
        "nanodet_coco_416_int8.onnx",
        "nanodet_coco_512x288.onnx",
        "nanodet_coco_512x288_int8.onnx",
        "nanodet_coco_416x352.onnx",
        "nanodet_coco_416x352_int8.onnx",
        "clp_det.onnx",
    ] {
        let p = vigie_core::paths::cache_dir().join("models").join(model);
        if !p.is_file() {
            vigie_core::test_support::skip(&format!(
                "{} absent (run tools/fetch-models)",
                p.display()
            ));
            return;
        }
    }
    let env = common::TestCase::open("RED-3");
    let clip = env.path("car.mp4");
    ffmpeg(
        &[
            "-loop",
            "1",
            "-framerate",
            "25",
            "-t",
            "2",
            "-i",
            photo.to_str().unwrap(),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-crf",
            "18",
        ],
        &clip,
    );
    env.cmd()
        .args(["ingest", "--start", "2026-11-30T14:00:00+01:00"])
        .arg(&clip)
        .assert()
        .success();
    env.cmd().args(["analyze", "--all"]).assert().success();
    // Where the plate reader finds the plate on the photo itself.
    let v = env.json(&[
        "plates",
        "--plate-localiser",
        "clp",
        photo.to_str().unwrap(),
    ]);
    let r = &v["images"][0]["region_px"];
    let n = |k: &str| {
        r[k].as_f64()
            .unwrap_or_else(|| panic!("no plate region: {v}"))
    };
    let (px, py, pw, ph) = (
        n("x") as usize,
        n("y") as usize,
        n("w") as usize,
        n("h") as usize,
    );

    let png = env.path("car.png");
    let v = env.json(&[
        "frame",
        "--source",
        clip.to_str().unwrap(),
        "--at",
        "0.4",
        "-o",
        png.to_str().unwrap(),
    ]);
    let plates = &v["redaction"]["plates"];
    assert_eq!(plates["method"], "plate_or_lower_part", "{v}");
    assert_eq!(plates["detector"]["model_id"], "clp-det", "{v}");
    assert_eq!(plates["figures"]["located"], 1, "{v}");
    let (w, h) = (1280usize, 960usize);
    let raw = env.path("car.rgb");
    ffmpeg(
        &[
            "-i",
            png.to_str().unwrap(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
        ],
        &raw,
    );
    let img = std::fs::read(&raw).unwrap();
    assert_eq!(img.len(), w * h * 3);
    let filled = |x: usize, y: usize| img[(y * w + x) * 3..(y * w + x) * 3 + 3] == [16, 16, 16];
    let clear = (py..(py + ph).min(h))
        .flat_map(|y| (px..(px + pw).min(w)).map(move |x| (x, y)))
        .filter(|&(x, y)| !filled(x, y))
        .count();
    assert_eq!(clear, 0, "plate pixels left clear");
    // The car's lower half is not covered whole: far less than a quarter of the frame.
    assert!(
        v["redaction"]["figures"]["masked_pixel_share"]
            .as_f64()
            .unwrap()
            < 0.15,
        "{v}"
    );
    // The model's load is in the case log.
    let loads = env.json(&["audit", "show", "--action", "model_load"]);
    assert!(
        loads
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.to_string().contains("clp-det")),
        "{loads}"
    );
}
