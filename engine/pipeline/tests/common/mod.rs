//! What the pipeline's integration tests share: synthetic clips rendered from a lavfi
//! graph with the `ffmpeg` CLI (tools/setup installs it), made on demand into each test's
//! temporary directory, so that every test states its scene where it uses it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Render the lavfi `graph` into `dir/name` (H.264, ultrafast, yuv420p) and return the
/// clip's path; panics if ffmpeg is absent or fails.
pub fn render_lavfi(dir: &Path, name: &str, graph: &str) -> PathBuf {
    let clip = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", graph])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&clip)
        .status()
        .expect("the ffmpeg CLI (tools/setup)");
    assert!(status.success(), "ffmpeg could not render {graph}");
    clip
}
