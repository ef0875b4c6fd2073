//! Test clips generated with the `ffmpeg` CLI (never committed: synthetic, made on demand
//! into a per-run temporary directory), and the paths of real footage when present.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Directory holding this test binary's generated clips.
pub fn clip_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// Run the ffmpeg CLI with `args` (inputs and outputs), panicking with its stderr on error.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI is required for tests (run tools/setup)");
    assert!(
        out.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A clip of `testsrc2` at 25 fps, 2 s (50 frames), 320x240, encoded with `codec_args`.
pub fn clip(name: &str, codec_args: &[&str]) -> PathBuf {
    clip_with(name, "testsrc2=size=320x240:rate=25:duration=2", codec_args)
}

pub fn clip_with(name: &str, source: &str, codec_args: &[&str]) -> PathBuf {
    let out = clip_dir().join(name);
    if !out.exists() {
        // Tests run in parallel and share clips: write under a unique name, then rename
        // (atomic), so no test ever reads a half-written clip.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = clip_dir().join(format!("tmp{n}-{name}"));
        let mut args = vec!["-f", "lavfi", "-i", source];
        args.extend_from_slice(codec_args);
        let s = tmp.to_str().unwrap().to_string();
        args.push(&s);
        ffmpeg(&args);
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// The default real footage (fetched by tools/setup into the cache), if present.
pub fn vtest() -> Option<PathBuf> {
    let p = vigie_core::paths::default_footage();
    if p.exists() {
        Some(p)
    } else {
        vigie_core::test_support::skip(&format!("{} absent (run tools/setup)", p.display()));
        None
    }
}

/// A file from ../shared/datasets, if present.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        vigie_core::test_support::skip(&format!("../shared/datasets/{rel} absent"));
        None
    }
}
