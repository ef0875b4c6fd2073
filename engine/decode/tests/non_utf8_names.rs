//! A file name that is not UTF-8 (Linux allows any bytes but `/` and NUL) is a typed error
//! naming the file and the fix, never a panic: `ffmpeg-next` unwraps the name as UTF-8.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use vigie_decode::{DecodeConfig, DecodeError, Decoder};

fn bad_name_copy() -> PathBuf {
    let src = common::clip("utf8-src.avi", &["-c:v", "mpeg4", "-q:v", "5"]);
    let dir = tempfile::tempdir().unwrap().keep();
    let bad = dir.join(OsStr::from_bytes(b"bad\xffname.avi"));
    std::fs::copy(&src, &bad).unwrap();
    bad
}

#[test]
fn probe_of_a_non_utf8_name_is_a_typed_error() {
    let bad = bad_name_copy();
    let e = vigie_decode::probe(&bad, None, None).unwrap_err();
    assert!(
        matches!(&e, DecodeError::NonUtf8Path { path } if path == &bad),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("not valid UTF-8") && msg.contains("rename"),
        "{msg}"
    );
    assert!(msg.contains("bad\u{fffd}name.avi"), "{msg}");
}

#[test]
fn decoder_and_salvage_reference_refuse_a_non_utf8_name() {
    let bad = bad_name_copy();
    let Err(e) = Decoder::open(&bad, &DecodeConfig::default()) else {
        panic!("a non-UTF-8 name opened");
    };
    assert!(matches!(e, DecodeError::NonUtf8Path { .. }), "{e:?}");
    let moovless = common::clip_dir().join("utf8-moovless.mp4");
    // An `ftyp` and an `mdat` with no `moov`: salvage reads the reference's parameter
    // sets by name.
    let mut box_ = 16u32.to_be_bytes().to_vec();
    box_.extend_from_slice(b"ftypisom\0\0\x02\0");
    box_.extend_from_slice(&16u32.to_be_bytes());
    box_.extend_from_slice(b"mdat");
    box_.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x80, 0x40]);
    std::fs::write(&moovless, &box_).unwrap();
    let r = vigie_decode::salvage::salvage(&moovless, Some(&bad));
    assert!(
        matches!(&r, Err(DecodeError::NonUtf8Path { path }) if path == &bad),
        "{:?}",
        r.as_ref().err()
    );
}

#[test]
fn export_to_a_non_utf8_name_is_a_typed_error() {
    let src = common::clip("utf8-export-src.mp4", &["-c:v", "libx264", "-g", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(OsStr::from_bytes(b"out\xfe.mp4"));
    let e = vigie_decode::export_segment(&src, None, 0, 1000, &out).unwrap_err();
    assert!(matches!(e, DecodeError::NonUtf8Path { .. }), "{e:?}");
}
