//! What the application layer's integration tests share: footage made with the ffmpeg
//! CLI, a case opened under a fresh authorisation, and the model-free analysis request.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use vigie_app::admin::Administration;
use vigie_app::analyze::{AnalyzeRequest, DetectorChoice};
use vigie_app::types::OpenRequest;
use vigie_app::{App, Operator};

/// `dir/NAME.mp4`: a `colour` 24x24 box crossing a grey 160x120 frame at `speed_px_s`, for
/// `secs` seconds at 10 fps (distinct colours or speeds make distinct sources).
pub fn moving_box(dir: &Path, name: &str, colour: &str, speed_px_s: u32, secs: u32) -> PathBuf {
    let graph = format!(
        "color=c=gray:s=160x120:d={secs}:r=10[bg];color=c={colour}:s=24x24:d={secs}:r=10[fg];[bg][fg]overlay=x='t*{speed_px_s}':y=40"
    );
    render_lavfi(&dir.join(format!("{name}.mp4")), &graph, &[])
}

/// Render the lavfi `graph` as H.264 to `out`, with `extra` encoder arguments.
pub fn render_lavfi(out: &Path, graph: &str, extra: &[&str]) -> PathBuf {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", graph])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(extra)
        .arg(out)
        .status()
        .expect("the ffmpeg CLI (installed by tools/setup)")
        .success();
    assert!(ok, "ffmpeg could not generate the test clip");
    out.to_owned()
}

/// Open case `case_id` as `op`, authorised today (so it never expires under the tests).
pub fn open_case(app: &App, op: &Operator, case_id: &str, procedure: &str, purpose: &str) {
    Administration::new(app, op.clone(), None)
        .open_case(OpenRequest {
            case_id: Some(case_id.into()),
            procedure: procedure.into(),
            authorization: "OJ-1".into(),
            magistrate: "Mme Juge".into(),
            authorized_on: chrono::Utc::now().date_naive(),
            valid_until: None,
            operator: op.to_string(),
            purpose: purpose.into(),
        })
        .unwrap();
}

/// Every source (or `sources`) analysed with the motion detector, every frame, at the
/// source's own size, one at a time.
pub fn motion_request(sources: Vec<String>) -> AnalyzeRequest {
    AnalyzeRequest {
        all: sources.is_empty(),
        sources,
        detector: DetectorChoice::Motion,
        detector_precision: vigie_app::bench::PrecisionChoice::Auto,
        detector_input: vigie_app::bench::InputChoice::Auto,
        scene: None,
        force: false,
        jobs: 1,
        device: "cpu".into(),
        motion_gate: true,
        sampling: "all".parse().unwrap(),
        width: vigie_app::types::OutputSize::Native,
        decoder_threads: 1,
        plates: None,
        plate_min_width_px: 0.0,
    }
}

/// The application over a data root at `home`, on the system clock.
pub fn app_at(home: &Path) -> App {
    App::new(
        vigie_case::DataRoot::new(home.to_owned()),
        std::sync::Arc::new(vigie_case::SystemClock),
    )
}

/// Copy the tree `from` into `to` (created), files and folders alike.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
