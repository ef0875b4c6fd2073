//! Evidence is decoded through `/proc/self/fd/N` (the inode that was hashed), but a
//! decoder's error must name the evidence file: `/proc/self/fd/8` tells an investigator
//! nothing. Damaged files (not a video, empty, cut before their index) are opened as
//! vigie opens evidence, and every decoding entry point is tried on them.

mod common;

use std::path::{Path, PathBuf};

use vigie_decode::{AnalysisDecodeConfig, DecodeConfig, DecodeError, Decoder, LoopFilter};
use vigie_evidence::{OpenedEvidence, PinnedFile};

/// Assert that `e` names `file` and not the descriptor's path.
fn assert_names(e: &DecodeError, file: &Path) {
    let msg = e.to_string();
    assert!(!msg.contains("/proc/self/fd"), "{msg}");
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert_eq!(e.path(), Some(file), "{e:?}");
}

/// Every way of decoding `file` through `opened` (a descriptor's path) fails naming `file`.
fn assert_every_decoder_names(opened: &Path, file: &Path) {
    assert!(opened.starts_with("/proc/self/fd"), "{}", opened.display());
    assert_names(&vigie_decode::probe(opened, None, None).unwrap_err(), file);
    let Err(e) = Decoder::open(opened, &DecodeConfig::default()) else {
        panic!("{} opened", file.display());
    };
    assert_names(&e, file);
    let Err(e) = vigie_decode::spawn_decoder(opened, &DecodeConfig::default(), 4) else {
        panic!("{} opened", file.display());
    };
    assert_names(&e, file);
    let analysis = AnalysisDecodeConfig {
        decode: DecodeConfig::default(),
        loop_filter: LoopFilter::SkipAll,
    };
    let Err(e) = vigie_decode::spawn_analysis_decoder(opened, &analysis, 4) else {
        panic!("{} opened", file.display());
    };
    assert_names(&e, file);
    let out = tempfile::tempdir().unwrap();
    let e = vigie_decode::export_segment(opened, None, 0, 1000, &out.path().join("clip.mp4"))
        .unwrap_err();
    assert_names(&e, file);
}

/// `bytes` written to `dir/name`, by its real name (what the kernel reports back).
fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::canonicalize(path).unwrap()
}

#[test]
fn decoding_damaged_evidence_names_the_file_not_its_descriptor() {
    vigie_decode::init();
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/not-a-video.mp4");
    let not_video = file(dir.path(), "cam 1.mp4", &std::fs::read(fixture).unwrap());
    let empty = file(dir.path(), "cam 2.mp4", b"");
    let whole = std::fs::read(common::moving_box(dir.path(), "whole", "red", 20, 2)).unwrap();
    let cut = file(dir.path(), "cam 3.mp4", &whole[..whole.len() / 2]);

    for damaged in [&not_video, &empty, &cut] {
        // As the player pins a source, and as analysis opens it (hashed).
        let pinned = PinnedFile::open(damaged).unwrap();
        assert_every_decoder_names(&pinned.read_path(), damaged);
        let opened = OpenedEvidence::open(damaged, |_| {}).unwrap();
        assert_every_decoder_names(&opened.decode_path(), damaged);
    }

    // The cut export needs salvaging; this one cannot be (no parameter sets in its
    // stream), and the refusal names it too.
    let opened = OpenedEvidence::open(&cut, |_| {}).unwrap();
    let e = vigie_decode::probe(&opened.decode_path(), None, None).unwrap_err();
    assert!(matches!(e, DecodeError::NeedsSalvage { .. }), "{e:?}");
    let e = vigie_decode::salvage::salvage(&opened.decode_path(), None).unwrap_err();
    assert!(matches!(e, DecodeError::Salvage { .. }), "{e:?}");
    assert_names(&e, &cut);
}
