//! Still images (JPEG, PNG) as frames, for tests, evaluation and `vigie detect IMAGE`.

use std::path::Path;

use vigie_core::RgbFrame;

use crate::DetectError;

/// Load a still as a packed RGB24 frame (index 0, pts 0).
pub fn load_still(path: &Path) -> Result<RgbFrame, DetectError> {
    let img = image::open(path).map_err(|e| DetectError::Image {
        message: e.to_string(),
        path: path.display().to_string(),
    })?;
    let rgb = img.to_rgb8();
    Ok(RgbFrame {
        index: 0,
        pts_ms: 0,
        wall_ms: None,
        is_keyframe: true,
        width: rgb.width(),
        height: rgb.height(),
        data: rgb.into_raw(),
    })
}
