//! Several files of one camera on one synopsis timeline ([`vigie_synopsis::run_parts`]):
//! two clips made with FFmpeg, a dark one (the evening file) and a light one (the morning
//! file), each with one box crossing the frame. The synopsis must label each object with
//! its own file's wall clock, list each entry under its own source with its own media
//! times, and draw each file's background while the timeline passes through that file.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::DateTime;
use vigie_core::BBox;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_synopsis::{PartInput, SourceInput, SynopsisConfig, TubeInput};

/// A 6 s, 10 fps, 320x180 clip: background `bg`, a 40x40 `colour` box moving east at
/// 40 px/s at y = 100 from t = 1 s to t = 5 s.
fn clip(dir: &Path, name: &str, bg: &str, colour: &str) -> PathBuf {
    clip_of(dir, name, bg, colour, 6)
}

fn clip_of(dir: &Path, name: &str, bg: &str, colour: &str, secs: u32) -> PathBuf {
    let out = dir.join(name);
    let filter = "[0:v][1:v]overlay=x='40*(t-1)':y=100:eval=frame:enable='between(t,1,5)'[o]";
    let ok = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("color=c={bg}:size=320x180:rate=10:duration={secs}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "color=c={colour}:size=40x40:rate=10:duration={secs}"
        ))
        .args(["-filter_complex", filter, "-map", "[o]", "-c:v", "libx264"])
        .args(["-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "10"])
        .arg(&out)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "ffmpeg failed (is it installed?)");
    out
}

fn source(id: &str, path: &Path, start: &str) -> SourceInput {
    SourceInput {
        source_id: id.into(),
        path: path.to_path_buf(),
        stream_index: None,
        frame_size: (320, 180),
        duration_ms: 6_000,
        fps: 10.0,
        start: Some(DateTime::parse_from_rfc3339(start).unwrap()),
        time_zone: None,
    }
}

/// The box's truth, grown by 4 px: pts 1000..=5000 ms.
fn tube(id: u64, start: &str) -> TubeInput {
    let boxes: Vec<(i64, BBox)> = (10..=50)
        .map(|k| {
            (
                k * 100,
                BBox {
                    x: 4.0 * (k - 10) as f32 - 4.0,
                    y: 96.0,
                    w: 48.0,
                    h: 48.0,
                },
            )
        })
        .collect();
    let origin = DateTime::parse_from_rfc3339(start)
        .unwrap()
        .timestamp_millis();
    TubeInput {
        track_id: id,
        label: "moving_object".into(),
        first_pts_ms: 1_000,
        last_pts_ms: 5_000,
        first_wall_ms: Some(origin + 1_000),
        last_wall_ms: Some(origin + 5_000),
        boxes,
    }
}

fn frames(path: &Path) -> Vec<Vec<u8>> {
    vigie_decode::init();
    let cfg = DecodeConfig {
        output_size: OutputSize::Native,
        ..Default::default()
    };
    let mut d = Decoder::open(path, &cfg).unwrap();
    let mut out = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        out.push(f.data);
    }
    out
}

#[test]
fn two_files_share_one_timeline_with_their_own_times_and_backgrounds() {
    let dir = tempfile::tempdir().unwrap();
    let night = clip(dir.path(), "b-night.mp4", "0x202020", "0xd01818");
    let day = clip(dir.path(), "a-day.mp4", "0xd0d0d0", "0x1830c8");
    let (t_day, t_night) = ("2026-11-30T09:00:00+01:00", "2026-11-30T21:00:00+01:00");
    // In timeline order (the caller orders by corrected clock, not by name).
    let parts = vec![
        PartInput {
            source: source("Sday", &day, t_day),
            from_ms: 0,
            to_ms: 6_000,
            tubes: vec![tube(1, t_day)],
            hidden: Vec::new(),
        },
        PartInput {
            source: source("Snight", &night, t_night),
            from_ms: 0,
            to_ms: 6_000,
            tubes: vec![tube(2, t_night)],
            hidden: Vec::new(),
        },
    ];
    let cfg = SynopsisConfig {
        length_ms: Some(8_000),
        time_band_ms: Some(2_000),
        ..Default::default()
    };
    let out = dir.path().join("camera.mp4");
    let syn = vigie_synopsis::run_parts(&parts, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert_eq!(f.sources, 2, "{f:?}");
    assert_eq!(f.source_duration_ms, 12_000, "{f:?}");
    assert_eq!(f.objects_shown, 2, "{f:?}");
    // Each entry under its own source, with its own media time and wall clock.
    for (id, src, start) in [(1, "Sday", t_day), (2, "Snight", t_night)] {
        let e = syn.entries.iter().find(|e| e.track_id == id).unwrap();
        assert_eq!(e.source_id, src);
        assert_eq!((e.from_pts_ms, e.to_pts_ms), (1_000, 5_000), "{e:?}");
        let wall = DateTime::parse_from_rfc3339(e.from_wall.as_deref().unwrap()).unwrap();
        let origin = DateTime::parse_from_rfc3339(start).unwrap();
        assert_eq!((wall - origin).num_milliseconds(), 1_000, "{e:?}");
    }
    // The time band keeps the day object in the first half and the night one in the
    // second (their own times on the timeline: 1 s and 7 s of 12).
    let day_e = syn.entries.iter().find(|e| e.track_id == 1).unwrap();
    let night_e = syn.entries.iter().find(|e| e.track_id == 2).unwrap();
    assert!(
        day_e.synopsis_start_ms < night_e.synopsis_start_ms,
        "{day_e:?} {night_e:?}"
    );
    // The background follows the file: light at the start, dark at the end (a corner no
    // object crosses).
    let fr = frames(&out);
    assert_eq!(fr.len() as u64, f.frames);
    let corner = |d: &[u8]| d[((10 * 320 + 300) * 3) as usize];
    assert!(corner(&fr[0]) > 150, "first frame {}", corner(&fr[0]));
    assert!(
        corner(fr.last().unwrap()) < 80,
        "last frame {}",
        corner(fr.last().unwrap())
    );
    // The WebVTT names each source.
    let vtt = vigie_synopsis::webvtt(&syn.entries);
    assert!(vtt.contains("Sday#1") && vtt.contains("Snight#2"), "{vtt}");
}

#[test]
fn a_stretch_of_each_file_is_a_time_range_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = clip(dir.path(), "a.mp4", "0x606060", "0xd01818");
    let b = clip(dir.path(), "b.mp4", "0x606060", "0x1830c8");
    let (ta, tb) = ("2026-11-30T14:00:00+01:00", "2026-11-30T14:00:06+01:00");
    // 14:00:03 .. 14:00:09: the second half of a, the first half of b.
    let parts = vec![
        PartInput {
            source: source("Sa", &a, ta),
            from_ms: 3_000,
            to_ms: 6_000,
            tubes: vec![tube(1, ta)],
            hidden: Vec::new(),
        },
        PartInput {
            source: source("Sb", &b, tb),
            from_ms: 0,
            to_ms: 3_000,
            tubes: vec![tube(2, tb)],
            hidden: Vec::new(),
        },
    ];
    let out = dir.path().join("range.mp4");
    let syn =
        vigie_synopsis::run_parts(&parts, &SynopsisConfig::default(), &out, dir.path()).unwrap();
    assert_eq!(syn.figures.source_duration_ms, 6_000);
    let e1 = syn.entries.iter().find(|e| e.track_id == 1).unwrap();
    let e2 = syn.entries.iter().find(|e| e.track_id == 2).unwrap();
    // Only what lies in the range is shown, in each source's own media time.
    assert_eq!((e1.from_pts_ms, e1.to_pts_ms), (3_000, 5_000), "{e1:?}");
    assert_eq!((e2.from_pts_ms, e2.to_pts_ms), (1_000, 3_000), "{e2:?}");
    assert!(e1
        .from_wall
        .as_deref()
        .unwrap()
        .starts_with("2026-11-30T14:00:03"));
    assert!(e2
        .from_wall
        .as_deref()
        .unwrap()
        .starts_with("2026-11-30T14:00:07"));
    // Sources of different working sizes are refused, naming both.
    let mut odd = parts.clone();
    odd[1].source.frame_size = (640, 360);
    let e = vigie_synopsis::run_parts(
        &odd,
        &SynopsisConfig::default(),
        &dir.path().join("odd.mp4"),
        dir.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("Sa") && e.contains("Sb") && e.contains("working size"),
        "{e}"
    );
}

#[test]
fn a_stretch_far_into_a_file_samples_only_its_own_frames() {
    // 12..18 s of a 20 s file: reached by seeking; the decoder's sampling does not hold
    // after a seek, so the plan's sample times pick the frames (9, not every frame).
    let dir = tempfile::tempdir().unwrap();
    let path = clip_of(dir.path(), "long.mp4", "0x606060", "0xd01818", 20);
    let src = SourceInput {
        duration_ms: 20_000,
        ..source("Slong", &path, "2026-11-30T14:00:00+01:00")
    };
    let b =
        vigie_synopsis::build_backgrounds_within(&src, 12_000, 18_000, &SynopsisConfig::default())
            .unwrap();
    let samples: Vec<i64> = b.samples_ms.iter().flatten().copied().collect();
    assert!((1..=9).contains(&samples.len()), "{samples:?}");
    assert!(
        samples.iter().all(|t| (0..=6_000).contains(t)),
        "{samples:?}"
    );
}
