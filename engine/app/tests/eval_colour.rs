//! `vigie eval colour` through the application layer: on a small fixture the test makes
//! (generated pictures and clip, labels written here), and on the committed labels over
//! `../shared` footage and the fetched vtest.avi (skipped, visibly, when they are absent).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigie_app::eval_colour::{self, ColourEval, EvalColourRequest, Part, Roots, ScoreRow, Split};
use vigie_app::measure::Computed;
use vigie_app::{App, Measurement, Operator};
use vigie_case::DataRoot;
use vigie_core::Colour;

fn app(home: &Path) -> App {
    App::new(
        DataRoot::new(home.to_owned()),
        Arc::new(vigie_audit::SystemClock),
    )
}

/// A 200x120 street-like still: grey road with a slight warm cast, a person (red top,
/// faded blue jeans) and a silver car and a white van.
fn still(path: &Path) {
    let mut img = image::RgbImage::from_pixel(200, 120, image::Rgb([128, 124, 116]));
    let mut fill = |x0: u32, y0: u32, w: u32, h: u32, c: [u8; 3]| {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                img.put_pixel(x, y, image::Rgb(c));
            }
        }
    };
    // Person at (10, 10, 30x100): head, torso red, legs faded denim.
    fill(10, 10, 30, 15, [200, 170, 150]);
    fill(10, 25, 30, 35, [190, 35, 40]);
    fill(10, 60, 30, 50, [92, 104, 128]);
    // Silver car at (60, 60, 60x40).
    fill(60, 60, 60, 40, [172, 172, 170]);
    // White van under overcast light at (130, 20, 60x80): body L about 80.
    fill(130, 20, 60, 80, [205, 203, 198]);
    img.save(path).unwrap();
}

const FIXTURE_LABELS: &str = r#"
[[object]]
id = 1
source = "street.png"
box = [10, 10, 30, 100]
class = "person"
split = "tune"
upper = { colour = "red" }
lower = { colour = "blue" }

[[object]]
id = 2
source = "street.png"
box = [60, 60, 60, 40]
class = "car"
split = "test"
whole = { colour = "grey", alternatives = ["white"], ambiguous = true }

[[object]]
id = 3
source = "street.png"
box = [130, 20, 60, 80]
class = "truck"
split = "test"
whole = { colour = "white" }

[[object]]
id = 4
source = "street.png"
box = [130, 20, 60, 80]
class = "truck"
split = "test"
whole = { colour = "green" }

[[object]]
id = 5
source = "moving.mp4"
frame = 20
box = [60, 40, 24, 24]
class = "car"
split = "tune"
whole = { colour = "blue" }
"#;

fn row(e: &ColourEval, split: Split, part: Part) -> &ScoreRow {
    e.rows
        .iter()
        .find(|r| r.split == split && r.part == part && r.dataset == "all")
        .unwrap_or_else(|| panic!("no row {split:?} {part:?}: {:?}", e.rows))
}

#[test]
fn eval_colour_scores_a_generated_fixture_per_split_and_part() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    still(&work.path().join("street.png"));
    common::moving_box(work.path(), "moving", "blue", 30, 3);
    let labels = work.path().join("labels.toml");
    std::fs::write(&labels, FIXTURE_LABELS).unwrap();
    let roots = Roots {
        shared: work.path().join("no-shared"),
        cache: work.path().join("no-cache"),
    };
    let objects = eval_colour::load_labels(&labels).unwrap();
    let sources = eval_colour::label_sources(&labels, &objects, &roots);
    assert_eq!(sources.len(), 2, "{sources:?}");

    let app = app(home.path());
    let op = Operator::new("op-test").unwrap();
    let files: Vec<PathBuf> = std::iter::once(labels.clone()).chain(sources).collect();
    let m = Measurement::open(
        &app,
        Some(&op),
        "eval colour",
        &[Computed::ColourNames],
        &files,
        None,
    )
    .unwrap();
    let req = EvalColourRequest {
        labels: labels.clone(),
        roots: roots.clone(),
        split: None,
        width_px: 640,
    };
    let e = eval_colour::eval_colour(&m, &req).unwrap();
    let part = |id: u32, p: Part| {
        e.parts
            .iter()
            .find(|r| r.id == id && r.part == p)
            .unwrap_or_else(|| panic!("no result for {id} {p:?}"))
    };
    let first = |id: u32, p: Part| part(id, p).named.first().map(|c| c.colour);
    for (id, p, colour) in [
        (1, Part::Upper, Colour::Red),
        (1, Part::Lower, Colour::Blue),
        (2, Part::Whole, Colour::Grey),
        (3, Part::Whole, Colour::White),
        (5, Part::Whole, Colour::Blue),
    ] {
        assert_eq!(first(id, p), Some(colour), "{:?}", part(id, p));
    }
    // The deliberately wrong label is counted wrong everywhere.
    let wrong = part(4, Part::Whole);
    assert!(!wrong.first_right && !wrong.first_two_right && !wrong.found);

    let tune_upper = row(&e, Split::Tune, Part::Upper);
    assert_eq!(
        (tune_upper.score.parts, tune_upper.score.first_right),
        (1, 1)
    );
    let tune_whole = row(&e, Split::Tune, Part::Whole);
    assert_eq!((tune_whole.score.parts, tune_whole.score.found), (1, 1));
    let test_whole = row(&e, Split::Test, Part::Whole);
    assert_eq!(test_whole.score.parts, 3);
    assert_eq!(test_whole.score.ambiguous, 1);
    assert_eq!(test_whole.score.first_right, 2);
    assert!((test_whole.first_rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(e.search_min_share, vigie_index::query::COLOUR_MIN_SHARE);

    // One half only.
    let e = eval_colour::eval_colour(
        &m,
        &EvalColourRequest {
            split: Some(Split::Test),
            ..req.clone()
        },
    )
    .unwrap();
    assert!(e.parts.iter().all(|p| p.split == Split::Test));

    // A label file the measurement did not declare is refused before anything is read.
    let other = work.path().join("other.toml");
    std::fs::write(&other, FIXTURE_LABELS).unwrap();
    let err = eval_colour::eval_colour(
        &m,
        &EvalColourRequest {
            labels: other,
            ..req
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("other.toml"), "{err}");
}

/// `dir/walker.mp4`: a 30x90 "person" (red top, blue legs) walking right at 40 px/s across
/// a grey 320x240 frame from x = 20, y = 100, for 5 s at 10 fps.
fn walker(dir: &Path) -> PathBuf {
    let graph = "color=c=gray:s=320x240:d=5:r=10[bg];\
                 color=c=0xC02020:s=30x45:d=5:r=10[top];color=c=0x2030B0:s=30x45:d=5:r=10[legs];\
                 [top][legs]vstack[p];[bg][p]overlay=x='20+t*40':y=100";
    common::render_lavfi(&dir.join("walker.mp4"), graph, &["-g", "10"])
}

const FIXTURE_TRACK_LABELS: &str = r#"
[[person]]
id = 1
source = "walker.mp4"
t_ms = 2000
box = [100, 100, 30, 90]
split = "tune"
upper = { colour = "red" }
lower = { colour = "blue" }

[[person]]
id = 2
source = "walker.mp4"
t_ms = 3000
box = [140, 100, 30, 90]
split = "tune"
upper = { colour = "red" }
lower = { colour = "blue" }

[[person]]
id = 3
source = "walker.mp4"
t_ms = 3000
box = [140, 100, 30, 90]
split = "test"
upper = { colour = "green", alternatives = ["red"], ambiguous = true }
lower = { colour = "black" }

[[person]]
id = 4
source = "walker.mp4"
t_ms = 2000
box = [250, 10, 30, 90]
split = "test"
upper = { colour = "red" }
lower = { colour = "blue" }
"#;

#[test]
fn eval_colour_scores_whole_tracks_on_a_generated_clip() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    walker(work.path());
    let labels = work.path().join("tracks.toml");
    std::fs::write(&labels, FIXTURE_TRACK_LABELS).unwrap();
    let roots = Roots {
        shared: work.path().join("no-shared"),
        cache: work.path().join("no-cache"),
    };
    let people = eval_colour::load_track_labels(&labels).unwrap();
    assert_eq!(people.len(), 4);
    let sources = eval_colour::track_label_sources(&labels, &people, &roots);
    assert_eq!(sources, vec![work.path().join("walker.mp4")]);
    let app = app(home.path());
    let files: Vec<PathBuf> = std::iter::once(labels.clone()).chain(sources).collect();
    let m = Measurement::open(
        &app,
        None,
        "eval colour",
        &[Computed::ColourNames, Computed::Tracks],
        &files,
        None,
    )
    .unwrap();
    let e = eval_colour::eval_track_colour(
        &m,
        &eval_colour::EvalTrackColourRequest {
            labels: labels.clone(),
            roots: roots.clone(),
            split: None,
            pooling: None,
            detector: eval_colour::TrackDetector::MotionBlobsAsPersons,
        },
    )
    .unwrap();
    let p = |id: u32| e.persons.iter().find(|p| p.id == id).unwrap();
    // The walker is one track; labels 1 and 2 (same half) match it, 2 is not counted again.
    let track = p(1).track_id.unwrap_or_else(|| panic!("{:?}", e.persons));
    assert_eq!(p(2).track_id, Some(track));
    assert_eq!(p(2).duplicate_of, Some(1));
    // Label 3 is the same track in the other half: counted there.
    assert_eq!((p(3).track_id, p(3).duplicate_of), (Some(track), None));
    // Nothing walks where label 4 is.
    assert_eq!(p(4).track_id, None);
    assert_eq!(p(1).upper.named[0].colour, Colour::Red, "{:?}", p(1));
    assert_eq!(p(1).lower.named[0].colour, Colour::Blue, "{:?}", p(1));
    let row = |split: Split, part: Part| {
        e.rows
            .iter()
            .find(|r| r.split == split && r.part == part && r.dataset == "all")
            .unwrap_or_else(|| panic!("{:?}", e.rows))
    };
    let tune = row(Split::Tune, Part::Lower);
    assert_eq!((tune.persons, tune.unmatched, tune.score.parts), (1, 0, 1));
    assert_eq!((tune.score.first_right, tune.score.found), (1, 1));
    // Test half: label 3 matched and judged (upper right through its alternative, lower
    // wrong), label 4 unmatched.
    let up = row(Split::Test, Part::Upper);
    assert_eq!((up.persons, up.unmatched, up.score.parts), (2, 1, 1));
    assert_eq!(up.score.first_right, 1);
    assert_eq!(up.score.ambiguous, 1);
    let low = row(Split::Test, Part::Lower);
    assert_eq!((low.score.first_right, low.score.found), (0, 0));

    // A label file the measurement did not declare is refused.
    let other = work.path().join("other.toml");
    std::fs::write(&other, FIXTURE_TRACK_LABELS).unwrap();
    let err = eval_colour::eval_track_colour(
        &m,
        &eval_colour::EvalTrackColourRequest {
            labels: other,
            roots,
            split: None,
            pooling: None,
            detector: eval_colour::TrackDetector::MotionBlobsAsPersons,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("other.toml"), "{err}");
}

#[test]
fn committed_track_labels_are_well_formed() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let labels = manifest.join("../../eval/colour/tracks.toml");
    let people = eval_colour::load_track_labels(&labels).unwrap();
    let tune = people.iter().filter(|p| p.split == Split::Tune).count();
    let test = people.len() - tune;
    assert!(tune >= 20 && test >= 20, "tune {tune}, test {test}");
    for p in &people {
        assert!(
            p.source.starts_with("shared/") || p.source.starts_with("cache/"),
            "{p:?}"
        );
    }
}

#[test]
fn labels_with_a_repeated_id_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let labels = work.path().join("labels.toml");
    let text = format!(
        "{FIXTURE_LABELS}\n{}",
        &FIXTURE_LABELS[..FIXTURE_LABELS.find("[[object]]\nid = 2").unwrap()]
    );
    std::fs::write(&labels, text).unwrap();
    let err = eval_colour::load_labels(&labels).unwrap_err();
    assert!(err.to_string().contains("id 1 appears twice"), "{err}");
}

/// The committed labels over real footage: the held-out (test) half keeps the figures
/// measured when the naming was calibrated (doc/colour.md), so a change that loses them
/// fails here.
#[test]
fn committed_labels_on_real_footage_keep_their_figures() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let labels = manifest.join("../../eval/colour/labels.toml");
    let roots = Roots {
        shared: vigie_core::test_support::shared_datasets().join(".."),
        cache: vigie_core::paths::cache_dir(),
    };
    let objects = eval_colour::load_labels(&labels).unwrap();
    let sources = eval_colour::label_sources(&labels, &objects, &roots);
    if let Some(missing) = sources.iter().find(|p| !p.is_file()) {
        vigie_core::test_support::skip(&format!(
            "colour labels need ../shared/datasets and vtest.avi (tools/fetch-footage); missing {}",
            missing.display()
        ));
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let app = app(home.path());
    let files: Vec<PathBuf> = std::iter::once(labels.clone()).chain(sources).collect();
    let m = Measurement::open(
        &app,
        None,
        "eval colour",
        &[Computed::ColourNames],
        &files,
        None,
    )
    .unwrap();
    let e = eval_colour::eval_colour(
        &m,
        &EvalColourRequest {
            labels,
            roots,
            split: Some(Split::Test),
            width_px: 640,
        },
    )
    .unwrap();
    let floor = |p: Part, first: f64, two: f64, found: f64| {
        let r = row(&e, Split::Test, p);
        assert!(
            r.first_rate >= first && r.first_two_rate >= two && r.found_rate >= found,
            "{p:?}: first {:.3} (>= {first}), first two {:.3} (>= {two}), search {:.3} (>= {found})",
            r.first_rate,
            r.first_two_rate,
            r.found_rate
        );
    };
    // Measured (test half, with the dark-blue rule): whole 84.0 / 96.0 / 100 %, upper 96.8 /
    // 96.8 / 96.8 %, lower 90.3 / 96.8 / 96.8 % (first / first two / search). The floors
    // are the issue's targets (first >= 80 %, first two >= 95 %, search >= 90 %).
    floor(Part::Whole, 0.80, 0.95, 0.90);
    floor(Part::Upper, 0.80, 0.95, 0.90);
    floor(Part::Lower, 0.80, 0.95, 0.90);
    // The case the issue names: vtest.avi's jeans under grey daylight.
    let vtest_lower = e
        .rows
        .iter()
        .find(|r| r.dataset == "vtest.avi" && r.part == Part::Lower)
        .unwrap();
    assert!(
        vtest_lower.first_rate >= 0.8 && vtest_lower.found_rate >= 0.95,
        "{vtest_lower:?}"
    );
}
