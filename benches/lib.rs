//! Shared helpers for vigie's criterion benchmarks.
//!
//! Benchmarks need footage with known properties. Rather than committing video, they
//! generate it once with the `ffmpeg` CLI into `target/bench-clips/` (synthetic, so it is
//! free of any licence or privacy concern), or use the default real footage fetched by
//! `tools/setup` when it is present.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A synthetic clip generated once with the `ffmpeg` CLI (`testsrc2`), e.g.
/// `clip("h264_1080p_10s", &["-c:v", "libx264", ...], "1920x1080", 10)`.
pub fn synthetic_clip(name: &str, size: &str, seconds: u32, codec_args: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-clips");
    std::fs::create_dir_all(&dir).expect("create target/bench-clips");
    let out = dir.join(name);
    if out.exists() {
        return out;
    }
    let tmp = dir.join(format!("tmp-{name}"));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=25:duration={seconds}"))
        .args(codec_args)
        .arg("-f")
        .arg(container_for(name))
        .arg(&tmp)
        .status()
        .expect("the ffmpeg CLI is needed to generate benchmark clips (tools/setup installs it)");
    assert!(status.success(), "ffmpeg failed to generate {name}");
    std::fs::rename(&tmp, &out).expect("rename clip");
    out
}

fn container_for(name: &str) -> &'static str {
    if name.ends_with(".mkv") {
        "matroska"
    } else if name.ends_with(".avi") {
        "avi"
    } else {
        "mp4"
    }
}

/// The default real footage, when `tools/setup` has fetched it.
pub fn default_footage() -> Option<PathBuf> {
    let p = vigie_core::paths::default_footage();
    p.exists().then_some(p)
}
