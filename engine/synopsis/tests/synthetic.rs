//! The whole library on synthetic footage with known ground truth (tools/gen-synthetic):
//! tubes built from the truth, not from an analysis, so every figure can be checked.

use std::path::Path;
use std::process::Command;

use vigie_core::BBox;
use vigie_synopsis::{SourceInput, SynopsisConfig, TubeInput};

fn synthetic(dir: &Path) -> std::path::PathBuf {
    let clip = dir.join("cam.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/gen-synthetic");
    let ok = Command::new("bash")
        .arg(script)
        .arg(&clip)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "tools/gen-synthetic failed (is ffmpeg installed?)");
    clip
}

/// Truth boxes, grown by `pad` px on each side (the mask must find the object inside).
fn truth_tubes(pad: f32) -> Vec<TubeInput> {
    let b = |x: f32, y: f32, w: f32, h: f32| BBox {
        x: x - pad,
        y: y - pad,
        w: w + 2.0 * pad,
        h: h + 2.0 * pad,
    };
    // red 70x40, y=260, x = 20 + 50 t, t in [0, 10); blue 40x80, x=500, y = 280 - 25 t,
    // t in [1, 9]. The clip is 10 fps.
    let red: Vec<(i64, BBox)> = (0..100)
        .map(|k| (k * 100, b(20.0 + 5.0 * k as f32, 260.0, 70.0, 40.0)))
        .collect();
    let blue: Vec<(i64, BBox)> = (10..=90)
        .map(|k| (k * 100, b(500.0, 280.0 - 2.5 * k as f32, 40.0, 80.0)))
        .collect();
    [(1, "red", red), (2, "blue", blue)]
        .into_iter()
        .map(|(id, label, boxes)| TubeInput {
            track_id: id,
            label: label.into(),
            first_pts_ms: boxes[0].0,
            last_pts_ms: boxes.last().unwrap().0,
            first_wall_ms: None,
            last_wall_ms: None,
            boxes,
        })
        .collect()
}

fn source(path: &Path) -> SourceInput {
    SourceInput {
        source_id: "Ssynthetic".into(),
        path: path.to_path_buf(),
        stream_index: None,
        frame_size: (640, 360),
        duration_ms: 12_000,
        fps: 10.0,
        start: None,
        time_zone: None,
    }
}

fn rgb_at(data: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * w + x) * 3) as usize;
    [data[i], data[i + 1], data[i + 2]]
}

fn is_grey(p: [u8; 3]) -> bool {
    p.iter().all(|&c| (100..=145).contains(&c))
}

#[test]
fn background_has_no_ghosts() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let bgs =
        vigie_synopsis::build_backgrounds(&source(&clip), &SynopsisConfig::default()).unwrap();
    assert_eq!(bgs.plan.segments, 1);
    let bg = bgs.at(5_000);
    // On the red box's path and the blue box's path: the grey scene, not the boxes.
    for (x, y) in [(55, 280), (300, 280), (520, 200), (520, 300), (220, 90)] {
        let p = rgb_at(bg, 640, x, y);
        assert!(is_grey(p), "ghost at ({x}, {y}): {p:?}");
    }
}

#[test]
fn synopsis_renders_every_tube_at_its_planned_time() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    let tubes = truth_tubes(12.0);
    let out = dir.path().join("syn.mp4");
    // Segments as long as the synopsis: both tubes fit whole.
    let cfg = SynopsisConfig {
        length_ms: Some(10_000),
        segment_share: 1.0,
        ..SynopsisConfig::default()
    };
    let syn = vigie_synopsis::run(&src, &tubes, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert_eq!((f.objects_selected, f.objects_shown), (2, 2));
    // Padded boxes, but the masks found the objects inside them.
    assert_eq!(f.whole_boxes, 0, "{f:?}");
    assert!(f.synopsis_duration_ms <= 10_100, "{f:?}");
    assert!(f.collision_rate <= 0.05, "{f:?}");
    // Index: original times as given, synopsis interval as long as the tube.
    for (e, t) in syn.entries.iter().zip(&tubes) {
        assert_eq!(
            (e.track_id, e.first_pts_ms, e.last_pts_ms),
            (t.track_id, t.first_pts_ms, t.last_pts_ms)
        );
        assert_eq!(
            e.last_frame - e.first_frame,
            ((t.last_pts_ms - t.first_pts_ms) / 100) as u64
        );
    }
    let vtt = vigie_synopsis::webvtt(&syn.entries);
    assert_eq!(vtt.matches(" --> ").count(), 2);

    // Decode the synopsis: frame count, and the red box where the plan put it.
    let red = &syn.entries[0];
    let want = red.first_frame + 50; // red at t = 5 s: x 270..340, y 260..300
    let cfg = vigie_decode::DecodeConfig {
        output_size: vigie_decode::OutputSize::Native,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(&out, &cfg).unwrap();
    let mut n = 0u64;
    while let Some(fr) = d.next_frame().unwrap() {
        if n == want {
            let p = rgb_at(&fr.data, fr.width, 305, 282);
            assert!(p[0] > 150 && p[1] < 90 && p[2] < 90, "not red: {p:?}");
            // Well outside any object: the background.
            assert!(is_grey(rgb_at(&fr.data, fr.width, 150, 200)));
        }
        n += 1;
    }
    assert_eq!(n, f.frames);
    // Never overwrites.
    let again = vigie_synopsis::run(&src, &tubes, &SynopsisConfig::default(), &out, dir.path());
    assert!(matches!(
        again,
        Err(vigie_synopsis::SynopsisError::OutputExists(_))
    ));
}

#[test]
fn long_tubes_are_cut_into_labelled_segments_and_unselected_objects_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    let tubes = truth_tubes(12.0);
    let out = dir.path().join("short.mp4");
    let cfg = SynopsisConfig {
        length_ms: Some(4_000),
        ..SynopsisConfig::default()
    };
    // Red selected, blue not: blue must never show, red is cut into segments.
    let hidden = vec![tubes[1].boxes.clone()];
    let syn = vigie_synopsis::run_with(&src, &tubes[..1], &hidden, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert_eq!((f.objects_selected, f.objects_shown), (1, 1), "{f:?}");
    // 9.9 s in segments of at least 3 s (the minimum beats a quarter of 4 s).
    assert_eq!(f.segments_cut, 3, "{f:?}");
    assert_eq!(f.objects_cut, 1);
    assert!(f.synopsis_duration_ms <= 4_000, "{f:?}");
    let e = &syn.entries;
    assert_eq!(e.len(), 3);
    assert_eq!((e[0].from_pts_ms, e[2].to_pts_ms), (0, 9_900));
    for (k, x) in e.iter().enumerate() {
        assert_eq!((x.segment, x.segments), (k as u32 + 1, 3));
        assert!(x.to_pts_ms - x.from_pts_ms >= 3_000, "{x:?}");
        assert_eq!(
            x.last_frame - x.first_frame,
            ((x.to_pts_ms - x.from_pts_ms) / 100) as u64
        );
    }
    // Every frame: no blue pixel anywhere (the blue box was cleared and is not in the
    // median: it moves).
    let cfg = vigie_decode::DecodeConfig {
        output_size: vigie_decode::OutputSize::Native,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(&out, &cfg).unwrap();
    let mut n = 0;
    while let Some(fr) = d.next_frame().unwrap() {
        let blue = fr
            .data
            .chunks_exact(3)
            .filter(|p| p[2] > 150 && p[0] < 90 && p[1] < 90)
            .count();
        assert!(blue < 20, "frame {n}: {blue} blue pixels");
        n += 1;
    }
    assert_eq!(n, f.frames);
}

#[test]
fn no_tube_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(&dir.path().join("absent.mp4"));
    let e = vigie_synopsis::plan(&src, &[], &SynopsisConfig::default()).unwrap_err();
    assert!(e.to_string().contains("no track selected"), "{e}");
}

/// The mean x of the red pixels in rows `y0..y1` (None: no red pixel).
fn red_x(data: &[u8], w: u32, y0: u32, y1: u32) -> Option<f64> {
    let (mut n, mut sx) = (0u64, 0u64);
    for y in y0..y1 {
        for x in 0..w {
            let p = rgb_at(data, w, x, y);
            if p[0] > 150 && p[1] < 90 && p[2] < 90 {
                n += 1;
                sx += u64::from(x);
            }
        }
    }
    (n > 50).then(|| sx as f64 / n as f64)
}

#[test]
fn objects_move_on_every_frame_between_sparse_detections() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    // Detections 300 ms apart (every third frame), as the adaptive rate leaves them.
    let sparse = |t: &TubeInput| {
        let boxes: Vec<(i64, BBox)> = t
            .boxes
            .iter()
            .copied()
            .filter(|(pts, _)| pts % 300 == 0)
            .collect();
        TubeInput {
            first_pts_ms: boxes[0].0,
            last_pts_ms: boxes.last().unwrap().0,
            boxes,
            ..t.clone()
        }
    };
    let tubes: Vec<TubeInput> = truth_tubes(12.0).iter().map(sparse).collect();
    let out = dir.path().join("smooth.mp4");
    let cfg = SynopsisConfig {
        length_ms: Some(10_000),
        segment_share: 1.0,
        ..SynopsisConfig::default()
    };
    // Red selected; blue unselected, its boxes as sparse: cleared between them too.
    let hidden = vec![tubes[1].boxes.clone()];
    let syn = vigie_synopsis::run_with(&src, &tubes[..1], &hidden, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert_eq!((f.objects_selected, f.objects_shown), (1, 1), "{f:?}");
    // Two cut-outs between each pair of detections; none drawn twice in a row.
    assert_eq!(f.cutouts_between, 66, "{f:?}");
    assert_eq!(f.repeated_draws, 0.0, "{f:?}");
    let e = &syn.entries[0];
    // 0..=9.9 s at 10 fps: one frame per source frame, not per detection.
    assert_eq!(e.last_frame - e.first_frame, 99);
    let cfg = vigie_decode::DecodeConfig {
        output_size: vigie_decode::OutputSize::Native,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(&out, &cfg).unwrap();
    let mut xs = Vec::new();
    let mut n = 0u64;
    while let Some(fr) = d.next_frame().unwrap() {
        let blue = fr
            .data
            .chunks_exact(3)
            .filter(|p| p[2] > 150 && p[0] < 90 && p[1] < 90)
            .count();
        assert!(blue < 20, "frame {n}: {blue} blue pixels");
        if (e.first_frame..=e.last_frame).contains(&n) {
            let x = red_x(&fr.data, fr.width, 250, 310);
            xs.push(x.unwrap_or_else(|| panic!("frame {n}: the red object is missing")));
        }
        n += 1;
    }
    assert_eq!(xs.len(), 100);
    // 5 px a frame in the source: every output frame shows the object further on (no
    // patch repeated on consecutive frames), monotonically.
    for (k, pair) in xs.windows(2).enumerate() {
        let step = pair[1] - pair[0];
        assert!(
            (3.0..=7.0).contains(&step),
            "frame {k} -> {}: x {:.1} -> {:.1}",
            k + 1,
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn a_plan_composed_without_drawing_collides_as_its_video_does() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    let tubes = truth_tubes(12.0);
    let cfg = SynopsisConfig::default();
    let bgs = vigie_synopsis::build_backgrounds(&src, &cfg).unwrap();
    let cut = vigie_synopsis::extract(&src, &tubes, &[], &bgs, &cfg, dir.path()).unwrap();
    // Short enough that the two objects overlap on the pixels.
    let mut rates = Vec::new();
    for length_ms in [3_000, 5_000] {
        let plan = vigie_synopsis::plan_on_masks(
            &src,
            &tubes,
            &cut,
            &SynopsisConfig {
                length_ms: Some(length_ms),
                ..cfg.clone()
            },
        )
        .unwrap();
        let dry = vigie_synopsis::compose_dry(&src, &tubes, &plan, &bgs, &cut).unwrap();
        let out = dir.path().join(format!("syn{length_ms}.mp4"));
        let real = vigie_synopsis::render(&src, &tubes, &plan, &bgs, &cut, &out).unwrap();
        assert_eq!(dry.frames, real.frames);
        assert_eq!(dry.collision_rate, real.collision_rate);
        assert_eq!(
            (dry.objects_shown, dry.max_at_once, dry.moving_draws),
            (real.objects_shown, real.max_at_once, real.moving_draws)
        );
        assert!(out.exists());
        rates.push(real.collision_rate);
    }
    assert!(rates[0] > 0.0, "the objects overlap at 3 s: {rates:?}");
    // The automatic length: the real video within the budget, after plans were measured.
    let out = dir.path().join("auto.mp4");
    let syn = vigie_synopsis::run(&src, &tubes, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert!(f.pixel_checks >= 1, "{f:?}");
    assert!(f.collision_rate <= cfg.max_collision, "{f:?}");
    assert_eq!((f.objects_selected, f.objects_shown), (2, 2));
}

#[test]
fn objects_shown_as_they_overlapped_in_the_footage_are_not_collisions() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    // The red object and a twin track on the same pixels (two people walking as one):
    // grouped, shifted together, their overlap is the footage's own.
    let mut tubes = truth_tubes(12.0);
    let mut twin = tubes[0].clone();
    twin.track_id = 3;
    tubes.push(twin);
    let cfg = SynopsisConfig {
        length_ms: Some(5_000),
        ..SynopsisConfig::default()
    };
    let bgs = vigie_synopsis::build_backgrounds(&src, &cfg).unwrap();
    let cut = vigie_synopsis::extract(&src, &tubes, &[], &bgs, &cfg, dir.path()).unwrap();
    let grouped = vigie_synopsis::plan_on_masks(&src, &tubes, &cut, &cfg).unwrap();
    assert_eq!(grouped.groups, 1);
    for (a, b) in grouped
        .pieces
        .iter()
        .filter(|p| p.tube == 0)
        .zip(grouped.pieces.iter().filter(|p| p.tube == 2))
    {
        assert_eq!((a.first_box, a.start_ms), (b.first_box, b.start_ms));
    }
    let r = vigie_synopsis::compose_dry(&src, &tubes, &grouped, &bgs, &cut).unwrap();
    // Every red pixel is drawn twice at one shift: at least the red share of the object
    // pixels overlaps as in the footage, and none of that is a collision.
    assert!(r.footage_overlap_rate > 0.4, "{r:?}");
    assert!(r.collision_rate < 0.2, "{r:?}");
    // Placed on their own, the twins are pulled apart: no overlap at one shift.
    let off = SynopsisConfig {
        group: vigie_synopsis::group::GroupRule {
            min_together_ms: 0,
            ..Default::default()
        },
        ..cfg
    };
    let alone = vigie_synopsis::plan_on_masks(&src, &tubes, &cut, &off).unwrap();
    assert_eq!(alone.groups, 0);
    let r2 = vigie_synopsis::compose_dry(&src, &tubes, &alone, &bgs, &cut).unwrap();
    assert!(r2.footage_overlap_rate < r.footage_overlap_rate, "{r2:?}");
}

#[test]
fn objects_shown_twice_as_fast_follow_their_own_path_in_half_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    let tubes = truth_tubes(12.0);
    let out = dir.path().join("fast.mp4");
    let cfg = SynopsisConfig {
        length_ms: Some(5_000),
        segment_share: 1.0,
        object_speed: 2,
        ..SynopsisConfig::default()
    };
    let syn = vigie_synopsis::run(&src, &tubes, &cfg, &out, dir.path()).unwrap();
    let f = &syn.figures;
    assert_eq!(
        (f.objects_selected, f.objects_shown, f.object_speed),
        (2, 2, 2)
    );
    // 9.9 s of the red object, uncut, on screen for half of it; its own times in the index.
    let red = syn.entries.iter().find(|e| e.track_id == 1).unwrap();
    assert_eq!((red.segments, red.speed), (1, 2), "{red:?}");
    assert_eq!((red.from_pts_ms, red.to_pts_ms), (0, 9_900));
    assert!(vigie_synopsis::webvtt(&syn.entries).contains("(shown 2x faster)"));
    let frames = red.last_frame - red.first_frame;
    assert!((49..=50).contains(&frames), "{red:?}");
    // Synopsis frame k of the piece shows source time 2k: red at x = 20 + 50 t px.
    let cfg = vigie_decode::DecodeConfig {
        output_size: vigie_decode::OutputSize::Native,
        ..Default::default()
    };
    let mut d = vigie_decode::Decoder::open(&out, &cfg).unwrap();
    let mut n = 0u64;
    let mut checked = 0;
    while let Some(fr) = d.next_frame().unwrap() {
        for (k, t_s) in [(10u64, 2.0f64), (25, 5.0), (45, 9.0)] {
            if n == red.first_frame + k {
                let x = (20.0 + 50.0 * t_s + 35.0) as u32;
                let p = rgb_at(&fr.data, fr.width, x, 282);
                assert!(
                    p[0] > 150 && p[1] < 90 && p[2] < 90,
                    "frame {n}: not red at {x}: {p:?}"
                );
                // Where it would be at its own pace: the background.
                let slow = (20.0 + 50.0 * t_s / 2.0 + 35.0) as u32;
                assert!(
                    is_grey(rgb_at(&fr.data, fr.width, slow, 282)),
                    "frame {n} at {slow}"
                );
                checked += 1;
            }
        }
        n += 1;
    }
    assert_eq!((n, checked), (f.frames, 3));
}

#[test]
fn objects_together_stay_together_at_any_speed() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(dir.path());
    let src = source(&clip);
    // A twin on the red object's pixels who joins 1.2 s after it: one group, one clock
    // per window, so at 3x it is on screen where it was in the footage.
    let mut tubes = truth_tubes(12.0);
    let mut twin = tubes[0].clone();
    twin.track_id = 3;
    twin.boxes.drain(..12);
    twin.first_pts_ms = twin.boxes[0].0;
    tubes.push(twin);
    let cfg = SynopsisConfig {
        length_ms: Some(3_000),
        object_speed: 3,
        ..SynopsisConfig::default()
    };
    let bgs = vigie_synopsis::build_backgrounds(&src, &cfg).unwrap();
    let cut = vigie_synopsis::extract(&src, &tubes, &[], &bgs, &cfg, dir.path()).unwrap();
    let plan = vigie_synopsis::plan_on_masks(&src, &tubes, &cut, &cfg).unwrap();
    assert_eq!(plan.groups, 1);
    // Every piece of the twin shares its clock with a piece of the red object (the
    // group's window it is in), and is on screen a third of its source delay from it.
    for b in plan.pieces.iter().filter(|p| p.tube == 2) {
        let a = plan
            .pieces
            .iter()
            .find(|a| a.tube == 0 && a.clock_key() == b.clock_key())
            .unwrap_or_else(|| panic!("{b:?} alone: {:?}", plan.pieces));
        let (fa, fb) = (tubes[0].boxes[a.first_box].0, tubes[2].boxes[b.first_box].0);
        assert!(
            ((b.start_ms - a.start_ms) - (fb - fa) / 3).abs() <= 1,
            "{a:?} {b:?}"
        );
    }
    let r = vigie_synopsis::compose_dry(&src, &tubes, &plan, &bgs, &cut).unwrap();
    assert!(r.footage_overlap_rate > 0.4, "{r:?}");
    assert!(r.collision_rate < 0.2, "{r:?}");
}
