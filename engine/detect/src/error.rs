//! Detector errors: each names the problem and the fix; paths come last.

use vigie_policy::PolicyError;

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Policy(#[from] PolicyError),

    #[error("unknown class '{name}' (the detector knows the COCO-80 classes: {known})")]
    UnknownClass { name: String, known: String },

    #[error("invalid detector setting: {0}")]
    BadConfig(String),

    #[error("frame {index} is {width}x{height} but holds {len} bytes (expected width*height*3 = {expected}); the decoder produced a malformed frame")]
    BadFrame {
        index: u64,
        width: u32,
        height: u32,
        len: usize,
        expected: usize,
    },

    #[error("the detector model's outputs are not what NanoDet decoding expects: {0}; the manifest entry does not describe a NanoDet GFL head")]
    ModelOutput(String),

    #[error("cannot read image ({message}); it must be a JPEG or PNG file: {path}")]
    Image { message: String, path: String },

    #[error("bad Pascal VOC annotation ({problem}); fix or remove the file: {path}")]
    Voc { problem: String, path: String },
}
