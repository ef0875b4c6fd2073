//! Index-level tests: schema versioning, atomic writes (including a real process crash),
//! search semantics against a brute-force reference, and query plans.

use std::path::Path;

use vigie_core::plate::{self, PlatePattern, PlateRead};
use vigie_core::{
    Colour, ColourShare, Compass, CrossingDirection, Edge, LineCrossing, TrackSummary, ZoneVisit,
};

use crate::query::{ColourFilter, ColourPart, LineFilter, MinSize, Query, QueryArgs};
use crate::store::{Fault, Index, SourceRecord};
use crate::synth::{self, Rng, SynthConfig};
use crate::IndexError;

const T0: i64 = 1_717_243_200_000; // 2024-06-01T12:00:00Z

fn record(id: &str) -> SourceRecord {
    SourceRecord {
        source_id: id.to_string(),
        sha256: "ab".repeat(32),
        camera: "cam1".into(),
        path: Some(format!("/evidence/{id}.mp4")),
        analysed_at_ms: T0,
        params: serde_json::json!({"detector": "motion"}),
        run_id: None,
    }
}

fn base(source: &str, id: u64) -> TrackSummary {
    TrackSummary {
        source_id: source.into(),
        camera: "cam1".into(),
        track_id: id,
        label: "car".into(),
        confidence: 0.9,
        first_pts_ms: 0,
        last_pts_ms: 5_000,
        first_wall_ms: Some(T0),
        last_wall_ms: Some(T0 + 5_000),
        colours: vec![ColourShare {
            colour: Colour::Red,
            share: 0.7,
        }],
        upper_colours: vec![],
        lower_colours: vec![],
        ridden: false,
        width_px: 100.0,
        height_px: 50.0,
        size_frac: 0.01,
        speed_px_s: 120.0,
        heading_deg: Some(0.0),
        direction: Some(Compass::N),
        path_norm: vec![(0.5, 0.9), (0.5, 0.1)],
        entry_edge: Edge::Bottom,
        exit_edge: Edge::Top,
        zones: vec![],
        crossings: vec![],
        thumbnail: Some(format!("thumbs/{source}/{id}.jpg")),
        thumbnail_at: None,
        plate: None,
    }
}

/// A plate read as the reader would store it.
fn plate_read(text: &str, confidence: f32) -> PlateRead {
    let (display, format) = plate::display_of(text);
    PlateRead {
        text: text.into(),
        display,
        format: format.into(),
        confidence,
        char_confidences: vec![confidence.powf(1.0 / text.len() as f32); text.len()],
        reads: 5,
        best_pts_ms: 1_000,
        crop: Some(format!("plates/{text}.jpg")),
    }
}

fn tmp() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("index.sqlite");
    (d, p)
}

fn ids(r: &crate::SearchResult) -> Vec<(String, u64)> {
    r.hits
        .iter()
        .map(|h| (h.track.source_id.clone(), h.track.track_id))
        .collect()
}

fn count(ix: &Index, table: &str) -> i64 {
    ix.conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn all_counts(ix: &Index) -> Vec<i64> {
    [
        "source",
        "track",
        "track_detail",
        "track_colour",
        "track_zone",
        "track_line",
        "track_plate",
        "vocab",
    ]
    .iter()
    .map(|t| count(ix, t))
    .collect()
}

fn rich(source: &str, n: u64) -> Vec<TrackSummary> {
    (1..=n)
        .map(|i| {
            let mut t = base(source, i);
            t.zones = vec![ZoneVisit {
                zone: "doorway".into(),
                entered_ms: 0,
                time_inside_ms: 1_000,
                dwell_ms: 0,
            }];
            t.crossings = vec![LineCrossing {
                line: "gate".into(),
                direction: CrossingDirection::In,
                at_ms: 100,
            }];
            t.upper_colours = vec![ColourShare {
                colour: Colour::Blue,
                share: 0.5,
            }];
            if i % 2 == 1 {
                t.plate = Some(plate_read(&format!("AB{:03}CD", i % 1000), 0.9));
            }
            t
        })
        .collect()
}

#[test]
fn creates_a_versioned_wal_index() {
    let (_d, p) = tmp();
    let ix = Index::open(&p).unwrap();
    let v: i64 = ix
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, crate::SCHEMA_VERSION);
    let mode: String = ix
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = ix
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
    drop(ix);
    // Reopening an up-to-date index is a no-op.
    Index::open(&p).unwrap();
}

#[test]
fn refuses_a_newer_schema_untouched() {
    let (_d, p) = tmp();
    {
        let mut ix = Index::open(&p).unwrap();
        ix.write_source(&record("a"), &rich("a", 2)).unwrap();
        ix.conn.pragma_update(None, "user_version", 7).unwrap();
        ix.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let before = std::fs::read(&p).unwrap();
    let err = match Index::open(&p) {
        Err(e) => e,
        Ok(_) => panic!("a newer schema was accepted"),
    };
    assert!(matches!(
        err,
        IndexError::SchemaTooNew {
            found: 7,
            supported: crate::SCHEMA_VERSION,
            ..
        }
    ));
    let msg = err.to_string();
    assert!(
        msg.contains("upgrade vigie") && msg.contains("untouched"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn refuses_files_that_are_not_an_index() {
    let (d, p) = tmp();
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE other (x)").unwrap();
    }
    assert!(matches!(
        Index::open(&p),
        Err(IndexError::NotAnIndex { .. })
    ));
    let txt = d.path().join("notes.txt");
    std::fs::write(
        &txt,
        "this is not a database, just some text long enough. ".repeat(20),
    )
    .unwrap();
    let e = Index::open_existing(&txt).err().expect("text accepted");
    assert!(matches!(e, IndexError::NotAnIndex { .. }), "{e}");
}

#[test]
fn searching_a_missing_index_says_so_and_creates_nothing() {
    let (_d, p) = tmp();
    let e = crate::search(&p, &Query::default()).unwrap_err();
    assert!(matches!(e, IndexError::Missing { .. }));
    assert!(e.to_string().contains("vigie analyze"), "{e}");
    assert!(!p.exists());
}

#[test]
fn write_replace_and_resume() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    assert!(!ix.is_analysed("a").unwrap());
    ix.write_source(&record("a"), &rich("a", 5)).unwrap();
    ix.write_source(&record("b"), &rich("b", 2)).unwrap();
    assert!(ix.is_analysed("a").unwrap());
    assert_eq!(ix.track_count().unwrap(), 7);
    // Re-analysis replaces, leaving no orphan side rows.
    ix.write_source(&record("a"), &rich("a", 1)).unwrap();
    assert_eq!(ix.track_count().unwrap(), 3);
    assert_eq!(count(&ix, "track"), 3);
    assert_eq!(count(&ix, "track_colour"), 6);
    assert_eq!(count(&ix, "track_zone"), 3);
    assert_eq!(count(&ix, "track_line"), 3);
    assert_eq!(count(&ix, "track_plate"), 2, "tracks a#1, b#1");
    ix.check().unwrap();
    let s = ix.source("a").unwrap().unwrap();
    assert_eq!(s.track_count, 1);
    assert_eq!(s.record, record("a"));
    let by_id = ix.tracks_by_id(None, 1).unwrap();
    assert_eq!(
        by_id
            .iter()
            .map(|t| t.source_id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(ix.tracks_by_id(Some("b"), 2).unwrap(), rich("b", 2)[1..]);
    assert!(ix.tracks_by_id(Some("a"), 2).unwrap().is_empty());
    assert!(ix.remove_source("b").unwrap());
    assert!(!ix.is_analysed("b").unwrap());
    assert_eq!(count(&ix, "track"), 1);
    assert_eq!(count(&ix, "track_plate"), 1);
    ix.check().unwrap();
}

#[test]
fn invalid_tracks_are_refused_before_writing() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    ix.write_source(&record("a"), &rich("a", 3)).unwrap();
    let before = all_counts(&ix);
    let mut bad = rich("a", 4);
    bad[2].speed_px_s = f32::NAN;
    let e = ix.write_source(&record("a"), &bad).unwrap_err();
    assert!(e.to_string().contains("speed_px_s"), "{e}");
    let mut bad = rich("a", 4);
    bad[3].track_id = 1;
    assert!(ix.write_source(&record("a"), &bad).is_err());
    let bad = rich("other", 2);
    let e = ix.write_source(&record("a"), &bad).unwrap_err();
    assert!(e.to_string().contains("belongs to source"), "{e}");
    let mut r = record("a");
    r.sha256 = "xyz".into();
    assert!(ix.write_source(&r, &rich("a", 1)).is_err());
    // Plates: normalised text, confidence in 0..1, a format id.
    for (text, conf, format) in [
        ("AB-123-CD", 0.9, "fr_siv"),
        ("ab123cd", 0.9, "fr_siv"),
        ("", 0.9, "unknown"),
        ("AB123CD", 1.5, "fr_siv"),
        ("AB123CD", f32::NAN, "fr_siv"),
        ("AB123CD", 0.9, ""),
    ] {
        let mut bad = rich("a", 2);
        bad[1].plate = Some(PlateRead {
            text: text.into(),
            confidence: conf,
            format: format.into(),
            ..plate_read("AB123CD", 0.9)
        });
        let e = ix.write_source(&record("a"), &bad).unwrap_err();
        assert!(e.to_string().contains("plate"), "{text:?} {conf}: {e}");
    }
    assert_eq!(all_counts(&ix), before);
}

#[test]
fn failure_mid_write_leaves_the_previous_state() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    ix.write_source(&record("a"), &rich("a", 3)).unwrap();
    let before = all_counts(&ix);
    let before_hits = ids(&ix.search(&Query::default()).unwrap());
    // Replacing `a` fails after 50 of 100 tracks: the old 3 tracks must still be there.
    ix.fault = Some((50, Fault::Error));
    let e = ix.write_source(&record("a"), &rich("a", 100)).unwrap_err();
    assert!(matches!(e, IndexError::Injected { after: 50 }));
    // A new source failing half-way is not "analysed" and has no rows.
    let e = ix.write_source(&record("b"), &rich("b", 100)).unwrap_err();
    assert!(matches!(e, IndexError::Injected { .. }));
    ix.fault = None;
    assert!(!ix.is_analysed("b").unwrap());
    assert_eq!(all_counts(&ix), before);
    drop(ix);
    let ix = Index::open(&p).unwrap();
    assert_eq!(all_counts(&ix), before);
    assert_eq!(ids(&ix.search(&Query::default()).unwrap()), before_hits);
    ix.check().unwrap();
}

#[test]
fn several_sources_are_written_all_or_none() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    ix.write_source(&record("a"), &rich("a", 3)).unwrap();
    let before = all_counts(&ix);
    // The second source fails half-way: the first, written before it in the same call,
    // is not kept either.
    let (b, c) = (rich("b", 10), rich("c", 100));
    ix.fault = Some((50, Fault::Error));
    let e = ix
        .write_sources(&[(&record("b"), &b), (&record("c"), &c)])
        .unwrap_err();
    assert!(matches!(e, IndexError::Injected { after: 50 }));
    ix.fault = None;
    assert!(!ix.is_analysed("b").unwrap());
    assert!(!ix.is_analysed("c").unwrap());
    assert_eq!(all_counts(&ix), before);
    // An invalid track in the second: refused before anything is written.
    let mut bad = rich("c", 3);
    bad[1].confidence = f32::NAN;
    assert!(ix
        .write_sources(&[(&record("b"), &b), (&record("c"), &bad)])
        .is_err());
    assert!(!ix.is_analysed("b").unwrap());
    // Both good: both written.
    ix.write_sources(&[(&record("b"), &b), (&record("c"), &c)])
        .unwrap();
    assert!(ix.is_analysed("b").unwrap() && ix.is_analysed("c").unwrap());
    ix.check().unwrap();
}

const CRASH_ENV: &str = "VIGIE_INDEX_CRASH_CHILD";

/// Child half of `crash_mid_write_leaves_nothing_partial`: does nothing unless the
/// parent test runs it with `VIGIE_INDEX_CRASH_CHILD` set.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_ENV) else {
        return;
    };
    let mut ix = Index::open(Path::new(&path)).unwrap();
    // A small page cache, so SQLite spills uncommitted pages into the WAL before the abort
    // (the harder case for recovery: the WAL holds frames of a transaction never committed).
    ix.conn.pragma_update(None, "cache_size", 50).unwrap();
    ix.fault = Some((15_000, Fault::Abort));
    let _ = ix.write_source(&record("a"), &rich("a", 20_000));
    unreachable!("the fault aborts the process");
}

#[test]
fn crash_mid_write_leaves_nothing_partial() {
    let (_d, p) = tmp();
    {
        let mut ix = Index::open(&p).unwrap();
        ix.write_source(&record("a"), &rich("a", 3)).unwrap();
        ix.write_source(&record("b"), &rich("b", 2)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "tests::crash_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CRASH_ENV, &p)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the child should have aborted mid-write: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let wal = p.with_extension("sqlite-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        wal_len > 100_000,
        "the crash left uncommitted pages in the WAL ({wal_len} B)"
    );
    let ix = Index::open(&p).unwrap();
    ix.check().unwrap();
    assert_eq!(ix.track_count().unwrap(), 5);
    assert_eq!(count(&ix, "track"), 5);
    assert_eq!(count(&ix, "track_colour"), 10);
    assert_eq!(count(&ix, "track_plate"), 3, "a#1, a#3, b#1");
    assert_eq!(ix.source("a").unwrap().unwrap().track_count, 3);
}

// ---- search semantics -------------------------------------------------------------------

/// The reference semantics, written the obvious way.
fn matches(q: &Query, t: &TrackSummary) -> bool {
    if q.class
        .as_ref()
        .is_some_and(|c| !crate::ClassRule::of(c).matches(&t.label, t.ridden))
    {
        return false;
    }
    for f in &q.colours {
        let list = match f.part {
            ColourPart::Whole => &t.colours,
            ColourPart::Upper => &t.upper_colours,
            ColourPart::Lower => &t.lower_colours,
        };
        // The rule `vigie eval colour` uses too: this reference is checked against the SQL.
        if !crate::query::colour_matches(list, f.colour) {
            return false;
        }
    }
    if q.direction.is_some() && q.direction != t.direction {
        return false;
    }
    let zone_dwell = |z: &str| {
        t.zones
            .iter()
            .filter(|v| v.zone == z)
            .map(|v| v.dwell_ms)
            .max()
    };
    match (&q.zone, q.dwell_min_ms) {
        (Some(z), d) => match zone_dwell(z) {
            None => return false,
            Some(dw) => {
                if d.is_some_and(|d| dw < d) {
                    return false;
                }
            }
        },
        (None, Some(d)) => {
            if !t.zones.iter().any(|v| v.dwell_ms >= d) {
                return false;
            }
        }
        (None, None) => {}
    }
    if let Some(l) = &q.crosses {
        if !t
            .crossings
            .iter()
            .any(|c| c.line == l.line && l.direction.is_none_or(|d| d == c.direction))
        {
            return false;
        }
    }
    if q.from_wall_ms.is_some() || q.to_wall_ms.is_some() {
        let (Some(a), Some(b)) = (t.first_wall_ms, t.last_wall_ms) else {
            return false;
        };
        if q.from_wall_ms.is_some_and(|f| b < f) || q.to_wall_ms.is_some_and(|to| a > to) {
            return false;
        }
    }
    match q.min_size {
        Some(MinSize::FrameFraction(f)) if t.size_frac < f => return false,
        Some(MinSize::Px(px)) if t.width_px.max(t.height_px) < px => return false,
        _ => {}
    }
    if q.camera.as_ref().is_some_and(|c| *c != t.camera) {
        return false;
    }
    if q.min_speed_px_s.is_some_and(|v| t.speed_px_s < v)
        || q.max_speed_px_s.is_some_and(|v| t.speed_px_s > v)
    {
        return false;
    }
    if let Some(p) = &q.plate {
        if !t.plate.as_ref().is_some_and(|r| p.matches(&r.text)) {
            return false;
        }
    }
    if let Some(f) = &q.plate_fuzzy {
        if !t
            .plate
            .as_ref()
            .is_some_and(|r| plate::fuzzy_likelihood(f, &r.text) >= plate::FUZZY_MIN_LIKELIHOOD)
        {
            return false;
        }
    }
    true
}

/// The reference order: by time (the index's insertion order breaks ties), or with
/// `--plate-fuzzy` by likelihood x read confidence first.
fn reference<'a>(q: &Query, all: &'a [crate::Hit]) -> Vec<&'a crate::Hit> {
    let mut v: Vec<&crate::Hit> = all.iter().filter(|h| matches(q, &h.track)).collect();
    if let Some(f) = &q.plate_fuzzy {
        let score = |h: &crate::Hit| {
            let p = h.track.plate.as_ref().unwrap();
            plate::fuzzy_likelihood(f, &p.text) * p.confidence
        };
        v.sort_by(|a, b| score(b).total_cmp(&score(a))); // stable: time order kept on ties
    }
    v
}

fn q(f: impl FnOnce(&mut Query)) -> Query {
    let mut q = Query {
        limit: 1000,
        ..Query::default()
    };
    f(&mut q);
    q
}

#[test]
fn each_filter_means_what_it_says() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let mut ts = Vec::new();
    // 1: red car, north, 0..5 s after T0.
    ts.push(base("s", 1));
    // 2: person, blue top share 0.19 (below threshold), black bottom, dwells 40 s in doorway.
    let mut t = base("s", 2);
    t.label = "person".into();
    t.colours = vec![ColourShare {
        colour: Colour::Black,
        share: 0.6,
    }];
    t.upper_colours = vec![
        ColourShare {
            colour: Colour::Yellow,
            share: 0.8,
        },
        ColourShare {
            colour: Colour::Blue,
            share: 0.19,
        },
    ];
    t.lower_colours = vec![ColourShare {
        colour: Colour::Black,
        share: 0.9,
    }];
    t.zones = vec![
        ZoneVisit {
            zone: "doorway".into(),
            entered_ms: 0,
            time_inside_ms: 10_000,
            dwell_ms: 5_000,
        },
        ZoneVisit {
            zone: "doorway".into(),
            entered_ms: 20_000,
            time_inside_ms: 45_000,
            dwell_ms: 40_000,
        },
    ];
    t.first_wall_ms = Some(T0 + 3_600_000);
    t.last_wall_ms = Some(T0 + 3_700_000);
    t.last_pts_ms = 100_000;
    t.speed_px_s = 10.0;
    t.direction = Some(Compass::Sw);
    ts.push(t);
    // 3: blue car crossing the gate outwards, big, with no wall clock.
    let mut t = base("s", 3);
    t.colours = vec![ColourShare {
        colour: Colour::Blue,
        share: 0.2,
    }];
    t.crossings = vec![LineCrossing {
        line: "gate".into(),
        direction: CrossingDirection::Out,
        at_ms: 1_000,
    }];
    t.first_wall_ms = None;
    t.last_wall_ms = None;
    t.width_px = 400.0;
    t.size_frac = 0.2;
    t.camera = "cam2".into();
    t.speed_px_s = 300.0;
    ts.push(t);
    ix.write_source(&record("s"), &ts).unwrap();

    let run = |q: &Query| -> Vec<u64> {
        ix.search(q)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.track.track_id)
            .collect()
    };
    let colour = |part, colour| ColourFilter { part, colour };
    // Order: tracks without wall clock first, then by time.
    assert_eq!(run(&q(|_| {})), [3, 1, 2]);
    assert_eq!(run(&q(|q| q.class = Some("person".into()))), [2]);
    assert_eq!(
        run(&q(
            |q| q.colours = vec![colour(ColourPart::Whole, Colour::Blue)]
        )),
        [3],
        "share exactly at the threshold matches"
    );
    assert_eq!(
        run(&q(
            |q| q.colours = vec![colour(ColourPart::Upper, Colour::Blue)]
        )),
        Vec::<u64>::new(),
        "share below the threshold does not"
    );
    assert_eq!(
        run(&q(|q| q.colours = vec![
            colour(ColourPart::Upper, Colour::Yellow),
            colour(ColourPart::Lower, Colour::Black)
        ])),
        [2]
    );
    assert_eq!(
        run(&q(
            |q| q.colours = vec![colour(ColourPart::Lower, Colour::Red)]
        )),
        Vec::<u64>::new(),
        "whole-object colours are not lower-body colours"
    );
    assert_eq!(run(&q(|q| q.direction = Some(Compass::N))), [3, 1]);
    assert_eq!(run(&q(|q| q.zone = Some("doorway".into()))), [2]);
    assert_eq!(
        run(&q(|q| {
            q.zone = Some("doorway".into());
            q.dwell_min_ms = Some(30_000)
        })),
        [2],
        "dwell is the longest stationary stretch over the visits"
    );
    assert_eq!(
        run(&q(|q| q.dwell_min_ms = Some(41_000))),
        Vec::<u64>::new()
    );
    assert_eq!(run(&q(|q| q.dwell_min_ms = Some(40_000))), [2]);
    let cross = |d| LineFilter {
        line: "gate".into(),
        direction: d,
    };
    assert_eq!(run(&q(|q| q.crosses = Some(cross(None)))), [3]);
    assert_eq!(
        run(&q(|q| q.crosses = Some(cross(Some(CrossingDirection::Out))))),
        [3]
    );
    assert_eq!(
        run(&q(|q| q.crosses = Some(cross(Some(CrossingDirection::In))))),
        Vec::<u64>::new()
    );
    // Time overlap: a window starting inside track 1 (2 s after its start) finds it.
    assert_eq!(
        run(&q(|q| {
            q.from_wall_ms = Some(T0 + 2_000);
            q.to_wall_ms = Some(T0 + 3_000)
        })),
        [1]
    );
    assert_eq!(
        run(&q(|q| q.from_wall_ms = Some(T0 + 5_001))),
        [2],
        "track 1 ended before the window; track 3 has no clock"
    );
    assert_eq!(run(&q(|q| q.to_wall_ms = Some(T0 + 3_599_999))), [1]);
    // Track 2 started long before the window and is still there: found (max-duration bound).
    assert_eq!(
        run(&q(|q| {
            q.from_wall_ms = Some(T0 + 3_690_000);
            q.to_wall_ms = Some(T0 + 3_695_000)
        })),
        [2]
    );
    assert_eq!(
        run(&q(|q| q.min_size = Some(MinSize::FrameFraction(0.1)))),
        [3]
    );
    assert_eq!(run(&q(|q| q.min_size = Some(MinSize::Px(101.0)))), [3]);
    assert_eq!(
        run(&q(|q| q.min_size = Some(MinSize::Px(100.0)))),
        [3, 1, 2]
    );
    assert_eq!(run(&q(|q| q.camera = Some("cam2".into()))), [3]);
    assert_eq!(
        run(&q(|q| {
            q.min_speed_px_s = Some(50.0);
            q.max_speed_px_s = Some(200.0)
        })),
        [1]
    );
    // Limit and truncation.
    let r = ix.search(&q(|q| q.limit = 2)).unwrap();
    assert_eq!(r.hits.len(), 2);
    assert!(r.truncated);
    assert!(!ix.search(&q(|q| q.limit = 3)).unwrap().truncated);
    // Hints name unknown values when nothing matched.
    let r = ix.search(&q(|q| q.zone = Some("dorway".into()))).unwrap();
    assert!(r.hits.is_empty());
    assert_eq!(r.hints.len(), 1);
    assert!(
        r.hints[0].contains("no zone called \"dorway\""),
        "{:?}",
        r.hints
    );
    assert!(r.hints[0].contains("doorway"), "{:?}", r.hints);
    // Source path travels with the hit.
    let r = ix.search(&q(|q| q.class = Some("person".into()))).unwrap();
    assert_eq!(r.hits[0].source_path.as_deref(), Some("/evidence/s.mp4"));
    assert_eq!(r.hits[0].track, ts[1]);
    assert_eq!(
        r.hits[0].first_wall.as_deref(),
        Some("2024-06-01T13:00:00.000Z")
    );
}

fn random_filter_query(rng: &mut Rng, span: i64, plates: &[String]) -> Query {
    let mut q = Query {
        limit: 100_000,
        ..Query::default()
    };
    let pick = |rng: &mut Rng| rng.f64() < 0.4;
    if pick(rng) {
        q.class = Some(
            [
                "person",
                "car",
                "bicycle",
                "nothing",
                "vehicle",
                "motorcycle",
            ][rng.below(6) as usize]
                .into(),
        );
    }
    for part in [ColourPart::Whole, ColourPart::Upper, ColourPart::Lower] {
        if rng.f64() < 0.25 {
            q.colours.push(ColourFilter {
                part,
                colour: Colour::ALL[rng.below(11) as usize],
            });
        }
    }
    if pick(rng) {
        q.direction = Some(Compass::ALL[rng.below(8) as usize]);
    }
    if pick(rng) {
        q.zone = Some(synth::ZONES[rng.below(6) as usize].into());
    }
    if rng.f64() < 0.2 {
        q.dwell_min_ms = Some(rng.below(200_000) as i64);
    }
    if rng.f64() < 0.3 {
        q.crosses = Some(LineFilter {
            line: synth::LINES[rng.below(3) as usize].into(),
            direction: [
                None,
                Some(CrossingDirection::In),
                Some(CrossingDirection::Out),
            ][rng.below(3) as usize],
        });
    }
    if pick(rng) {
        let a = synth::BASE_WALL_MS + rng.below(span as u64) as i64;
        q.from_wall_ms = Some(a);
        if pick(rng) {
            q.to_wall_ms = Some(a + rng.below(6 * 3_600_000) as i64);
        }
    } else if rng.f64() < 0.2 {
        q.to_wall_ms = Some(synth::BASE_WALL_MS + rng.below(span as u64) as i64);
    }
    if rng.f64() < 0.2 {
        q.min_size = Some(if rng.f64() < 0.5 {
            MinSize::FrameFraction(rng.f64() as f32 * 0.02)
        } else {
            MinSize::Px(rng.f64() as f32 * 150.0)
        });
    }
    if rng.f64() < 0.2 {
        q.camera = Some(format!("cam{:02}", 1 + rng.below(4)));
    }
    if rng.f64() < 0.2 {
        q.min_speed_px_s = Some(rng.f64() as f32 * 100.0);
    }
    if rng.f64() < 0.2 {
        q.max_speed_px_s = Some(100.0 + rng.f64() as f32 * 200.0);
    }
    if !plates.is_empty() && rng.f64() < 0.25 {
        let text = &plates[rng.below(plates.len() as u64) as usize];
        // A prefix, a ? for an unsure character, sometimes a leading *.
        let mut pat: String = text.chars().take(1 + rng.below(4) as usize).collect();
        if rng.f64() < 0.5 {
            pat.push('?');
        }
        pat.push('*');
        if rng.f64() < 0.3 {
            pat = format!("*{}", &pat[1..]);
        }
        q.plate = PlatePattern::parse(&pat).ok();
    }
    if !plates.is_empty() && rng.f64() < 0.15 {
        let text = &plates[rng.below(plates.len() as u64) as usize];
        let mut chars: Vec<char> = text.chars().collect();
        // Damage it: confusions, plain errors, a character lost or added.
        for _ in 0..rng.below(4) {
            let i = rng.below(chars.len() as u64) as usize;
            match rng.below(5) {
                0 if chars.len() > 1 => {
                    chars.remove(i);
                }
                1 => chars.insert(i, ['8', 'X'][rng.below(2) as usize]),
                _ => chars[i] = ['8', 'B', '0', 'D', 'X', '1', 'I'][rng.below(7) as usize],
            }
        }
        q.plate_fuzzy = Some(chars.into_iter().collect());
    }
    q
}

fn synthetic(n: u64, per: u64) -> (tempfile::TempDir, Index, SynthConfig) {
    let (d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let cfg = SynthConfig {
        tracks: n,
        tracks_per_source: per,
        cameras: 4,
        ..SynthConfig::default()
    };
    synth::generate(&mut ix, &cfg, |_| {}).unwrap();
    (d, ix, cfg)
}

#[test]
fn search_agrees_with_brute_force_on_synthetic_tracks() {
    let (_d, mut ix, cfg) = synthetic(6_000, 500);
    // Plus a source whose start time is unknown: its tracks have no wall clock.
    let no_clock: Vec<TrackSummary> = ix
        .tracks_of_source("src00000")
        .unwrap()
        .into_iter()
        .take(300)
        .map(|mut t| {
            t.source_id = "noclock".into();
            t.first_wall_ms = None;
            t.last_wall_ms = None;
            t
        })
        .collect();
    ix.write_source(&record("noclock"), &no_clock).unwrap();
    let all = ix
        .search(&Query {
            limit: 100_000,
            ..Query::default()
        })
        .unwrap();
    assert_eq!(all.hits.len(), 6_300);
    assert!(all.hits[..300]
        .iter()
        .all(|h| h.track.first_wall_ms.is_none()));
    let span = synth::span_ms(&cfg);
    let plates: Vec<String> = all
        .hits
        .iter()
        .filter_map(|h| h.track.plate.as_ref().map(|p| p.text.clone()))
        .collect();
    assert!(plates.len() > 300, "{} plates", plates.len());
    let mut rng = Rng::new(42);
    let (mut non_empty, mut plate_hits, mut fuzzy_hits) = (0, 0, 0);
    for i in 0..500 {
        let kinds = synth::QueryKind::ALL;
        let q = if i % 4 == 0 {
            let kind = kinds[(i / 4) % kinds.len()];
            let mut q = synth::random_query_with(&mut rng, kind, span, &plates);
            q.limit = 100_000;
            q
        } else {
            random_filter_query(&mut rng, span, &plates)
        };
        let got = ix.search(&q).unwrap();
        let ranked = reference(&q, &all.hits);
        let want: Vec<(String, u64)> = ranked
            .iter()
            .map(|h| (h.track.source_id.clone(), h.track.track_id))
            .collect();
        let mut got_ids = ids(&got);
        if q.plate_fuzzy.is_none() {
            assert!(
                got.hits
                    .windows(2)
                    .all(|w| w[0].track.first_wall_ms <= w[1].track.first_wall_ms),
                "results are in time order"
            );
            assert!(got.hits.iter().all(|h| h.plate_likelihood.is_none()));
        } else {
            assert_eq!(got_ids, want, "fuzzy ranking, query {i}: {q:?}");
            assert!(got.hits.iter().all(|h| h
                .plate_likelihood
                .is_some_and(|l| l >= plate::FUZZY_MIN_LIKELIHOOD)));
            fuzzy_hits += got.hits.len();
        }
        if q.plate.is_some() {
            plate_hits += got.hits.len();
        }
        got_ids.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got_ids, want, "query {i}: {q:?}");
        non_empty += usize::from(!want.is_empty());
        // With a small limit: exactly the first matches in (time, insertion) order, and
        // `truncated` exactly when more matched.
        let limit = 1 + rng.below(60) as usize;
        let small = ix
            .search(&Query {
                limit: limit as u32,
                ..q.clone()
            })
            .unwrap();
        let first: Vec<(String, u64)> = ranked
            .iter()
            .take(limit)
            .map(|h| (h.track.source_id.clone(), h.track.track_id))
            .collect();
        assert_eq!(ids(&small), first, "query {i} limit {limit}: {q:?}");
        assert_eq!(small.truncated, want.len() > limit, "query {i}");
    }
    assert!(
        non_empty > 100,
        "the random queries were too selective ({non_empty})"
    );
    assert!(
        plate_hits > 20 && fuzzy_hits > 5,
        "the plate queries found too little ({plate_hits} wildcard, {fuzzy_hits} fuzzy hits)"
    );
}

#[test]
fn combined_query_uses_indexes() {
    let (_d, ix, cfg) = synthetic(20_000, 1_000);
    let span = synth::span_ms(&cfg);
    let mut rng = Rng::new(5);
    let q = synth::random_query(&mut rng, synth::QueryKind::ClassColourHourZone, span);
    let plan = ix.explain(&q).unwrap();
    let text = plan.join("\n");
    for step in &plan {
        assert!(
            step.contains("USING") || !step.starts_with("SCAN"),
            "a full scan in the plan:\n{text}"
        );
    }
    assert!(text.contains("INDEX"), "{text}");
    // The class rules (`person`: persons or ridden vehicles; `vehicle`: five labels) are
    // label lists the same indexes serve.
    for class in ["person", "vehicle"] {
        let q = Query {
            class: Some(class.into()),
            colours: vec![ColourFilter {
                part: ColourPart::Upper,
                colour: Colour::Red,
            }],
            from_wall_ms: Some(synth::BASE_WALL_MS + 3_600_000),
            to_wall_ms: Some(synth::BASE_WALL_MS + 7_200_000),
            ..Query::default()
        };
        let plan = ix.explain(&q).unwrap();
        let text = plan.join("\n");
        for step in &plan {
            assert!(
                step.contains("USING") || !step.starts_with("SCAN"),
                "{class}: a full scan in the plan:\n{text}"
            );
        }
    }
}

#[test]
fn plate_prefix_query_uses_the_plate_index() {
    let (_d, ix, _cfg) = synthetic(20_000, 1_000);
    let q = Query {
        plate: Some(PlatePattern::parse("AB-1*").unwrap()),
        ..Query::default()
    };
    let text = ix.explain(&q).unwrap().join("\n");
    assert!(text.contains("track_plate_search"), "{text}");
    assert!(!text.contains("SCAN p"), "{text}");
    // The fuzzy prefilter reads the confusion-fold indexes, not every plate.
    let q = Query {
        plate_fuzzy: Some("AB123CD".into()),
        ..Query::default()
    };
    let text = ix.explain(&q).unwrap().join("\n");
    assert!(
        text.contains("track_plate_conf") && !text.contains("SCAN"),
        "{text}"
    );
    // With a class and a time window too, still no full scan.
    let q = Query {
        class: Some("car".into()),
        from_wall_ms: Some(synth::BASE_WALL_MS),
        to_wall_ms: Some(synth::BASE_WALL_MS + 3_600_000),
        ..q
    };
    for step in ix.explain(&q).unwrap() {
        assert!(
            step.contains("USING") || !step.starts_with("SCAN"),
            "{step}"
        );
    }
}

#[test]
fn a_version_1_index_is_migrated_with_its_rows() {
    let (_d, p) = tmp();
    let t = base("old", 1);
    {
        // What vigie 1 wrote: the V1 schema, version 1, one source with one track.
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch(crate::schema::V1).unwrap();
        c.pragma_update(None, "application_id", crate::schema::APPLICATION_ID)
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute(
            "INSERT INTO source VALUES ('old', ?1, 'cam1', NULL, 0, '{}', 1, 5000)",
            ["ab".repeat(32)],
        )
        .unwrap();
        c.execute(
            "INSERT INTO track (id, source_id, track_id, camera, label, confidence,
                first_pts_ms, last_pts_ms, first_wall_ms, last_wall_ms, width_px, height_px,
                size_frac, speed_px_s, heading_deg, direction)
             VALUES (1, 'old', 1, 'cam1', 'car', 0.9, 0, 5000, ?1, ?2, 100, 50, 0.01, 120,
                     0, 'n')",
            [T0, T0 + 5_000],
        )
        .unwrap();
        let mut json = serde_json::to_value(&t).unwrap();
        json.as_object_mut().unwrap().remove("plate");
        c.execute(
            "INSERT INTO track_detail VALUES (1, ?1)",
            [json.to_string()],
        )
        .unwrap();
        c.execute_batch(
            "INSERT INTO vocab VALUES ('class', 'car', 'old'), ('camera', 'cam1', 'old');",
        )
        .unwrap();
        let has: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'track_plate'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has, 0);
    }
    let mut ix = Index::open_existing(&p).unwrap();
    let v: i64 = ix
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, crate::SCHEMA_VERSION);
    assert_eq!(v, 5);
    ix.check().unwrap();
    // Version 5: analysed before runs were named, so no run id.
    assert_eq!(ix.run_id("old").unwrap(), None);
    assert_eq!(ix.source("old").unwrap().unwrap().record.run_id, None);
    // Version 3: the start the rows were timed with, from the tracks.
    let clock = ix.source_clock("old").unwrap().unwrap();
    assert_eq!(
        clock.start_wall_ms,
        t.first_wall_ms.map(|w| w - t.first_pts_ms)
    );
    assert_eq!(clock.clock, None);
    // The old rows are intact and searchable; they have no plate.
    let r = ix.search(&q(|q| q.class = Some("car".into()))).unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].track, t);
    assert_eq!(count(&ix, "track_plate"), 0);
    let r = ix
        .search(&q(|q| q.plate = Some(PlatePattern::parse("AB*").unwrap())))
        .unwrap();
    assert!(r.hits.is_empty());
    assert!(
        r.hints[0].contains("no licence plate has been read"),
        "{:?}",
        r.hints
    );
    // New sources get their plates.
    ix.write_source(&record("new"), &rich("new", 2)).unwrap();
    let r = ix
        .search(&q(|q| {
            q.plate = Some(PlatePattern::parse("AB001CD").unwrap())
        }))
        .unwrap();
    assert_eq!(ids(&r), [("new".to_string(), 1)]);
    drop(ix);
    // Reopening is a no-op; a newer version is still refused.
    let ix = Index::open(&p).unwrap();
    assert_eq!(ix.search(&Query::default()).unwrap().hits.len(), 3);
    // Version 4: tracks written before riders were attached are not ridden.
    let ridden: i64 = ix
        .conn
        .query_row(
            "SELECT ridden FROM track WHERE source_id = 'old'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ridden, 0);
    ix.conn.pragma_update(None, "user_version", 6).unwrap();
    drop(ix);
    assert!(matches!(
        Index::open(&p),
        Err(IndexError::SchemaTooNew {
            found: 6,
            supported: 5,
            ..
        })
    ));
}

#[test]
fn plate_search_wildcards_fuzzy_and_hints() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let with = |id: u64, label: &str, text: Option<&str>, conf: f32, offset_s: i64| {
        let mut t = base("s", id);
        t.label = label.into();
        t.first_wall_ms = Some(T0 + offset_s * 1000);
        t.last_wall_ms = Some(T0 + offset_s * 1000 + 5_000);
        t.plate = text.map(|x| plate_read(x, conf));
        t
    };
    let mut cam2 = with(6, "truck", Some("A8I23CO"), 0.95, 50);
    cam2.camera = "cam2".into();
    let ts = vec![
        with(1, "car", Some("AB123CD"), 0.9, 0),
        with(2, "car", Some("AB193CD"), 0.8, 10),
        with(3, "car", Some("RKO26AJ"), 0.7, 20),
        with(4, "car", None, 0.0, 30),
        with(5, "person", None, 0.0, 40),
        cam2,
        with(7, "car", Some("XY999ZZ"), 0.99, 60),
    ];
    ix.write_source(&record("s"), &ts).unwrap();
    assert_eq!(count(&ix, "track_plate"), 5);
    let pat = |s: &str| Some(PlatePattern::parse(s).unwrap());
    let track_ids =
        |r: &crate::SearchResult| -> Vec<u64> { r.hits.iter().map(|h| h.track.track_id).collect() };
    let search = |f: &dyn Fn(&mut Query)| ix.search(&q(f)).unwrap();

    // Wildcards, in time order; the stored plate travels with the hit.
    let r = search(&|q| q.plate = pat("AB-1?3-*"));
    assert_eq!(track_ids(&r), [1, 2]);
    assert_eq!(r.hits[0].track.plate.as_ref().unwrap().display, "AB-123-CD");
    assert_eq!(r.hits[0].plate_likelihood, None);
    // O and 0 are equal, on either side.
    assert_eq!(track_ids(&search(&|q| q.plate = pat("rk026aj"))), [3]);
    assert_eq!(track_ids(&search(&|q| q.plate = pat("*O26*"))), [3]);
    assert_eq!(track_ids(&search(&|q| q.plate = pat("*C0"))), [6]);
    // Combined with other filters.
    let r = search(&|q| {
        q.plate = pat("*CD");
        q.class = Some("car".into());
        q.from_wall_ms = Some(T0 + 8_000);
    });
    assert_eq!(track_ids(&r), [2]);

    // No match: say why, and what to try.
    let r = search(&|q| {
        q.plate = pat("AB*");
        q.camera = Some("cam2".into());
    });
    assert!(r.hits.is_empty());
    assert!(
        r.hints.iter().any(|h| h.contains("other filters")),
        "{:?}",
        r.hints
    );
    let r = search(&|q| q.plate = pat("ZZ*"));
    let hint = r.hints.join("\n");
    assert!(
        hint.contains("no plate matched --plate ZZ*") && hint.contains("--plate-fuzzy"),
        "{hint}"
    );
    let r = search(&|q| q.plate = pat("ZZ-123-CD"));
    assert!(
        r.hints.join("\n").contains("try --plate-fuzzy ZZ123CD"),
        "{:?}",
        r.hints
    );

    // Fuzzy: ranked by likelihood x read confidence. AB123CD exact (1 x 0.9), A8I23CO
    // three confusions (0.55 x 0.95), AB193CD one plain error (0.37 x 0.8).
    let r = search(&|q| q.plate_fuzzy = Some("AB123CD".into()));
    assert_eq!(track_ids(&r), [1, 6, 2]);
    let l: Vec<f32> = r.hits.iter().map(|h| h.plate_likelihood.unwrap()).collect();
    assert_eq!(l[0], 1.0);
    assert!((l[1] - (-0.6f32).exp()).abs() < 1e-5, "{l:?}");
    assert!((l[2] - (-1.0f32).exp()).abs() < 1e-5, "{l:?}");
    // One whole error anywhere (the prefilter must not lose it), plus confusions.
    for query in [
        "B123CD", "AB123C", "XAB123CD", "AB123CDX", "XB123CD", "AB123CX", "AB1X3CD", "A8123CD",
        "B1Z3CD", "AB12CO",
    ] {
        let r = search(&|q| q.plate_fuzzy = Some(query.into()));
        assert!(track_ids(&r).contains(&1), "{query}: {:?}", track_ids(&r));
        assert!(r.hits.iter().all(|h| h.plate_likelihood.unwrap() >= 0.246));
    }
    // Read confidence counts: the same plate, read less surely, ranks lower.
    let r = search(&|q| q.plate_fuzzy = Some("A8I23CD".into()));
    assert_eq!(track_ids(&r)[..2], [6, 1], "{:?}", r.hits);
    // With other filters, with a pattern, and with a limit.
    let r = search(&|q| {
        q.plate_fuzzy = Some("AB123CD".into());
        q.class = Some("car".into());
    });
    assert_eq!(track_ids(&r), [1, 2]);
    let r = search(&|q| {
        q.plate_fuzzy = Some("AB123CD".into());
        q.plate = pat("AB*");
    });
    assert_eq!(track_ids(&r), [1, 2]);
    let r = search(&|q| {
        q.plate_fuzzy = Some("AB123CD".into());
        q.limit = 1;
    });
    assert_eq!(track_ids(&r), [1]);
    assert!(r.truncated);
    let r = search(&|q| q.plate_fuzzy = Some("QQ777QQ".into()));
    assert!(r.hits.is_empty());
    assert!(
        r.hints.join("\n").contains("no plate is close enough"),
        "{:?}",
        r.hints
    );
    let r = search(&|q| {
        q.plate_fuzzy = Some("XY999ZZ".into());
        q.class = Some("truck".into());
    });
    assert!(
        r.hints.join("\n").contains("other filters"),
        "{:?}",
        r.hints
    );
    // The table and CSV show the plate; JSON has it in the hit.
    let r = search(&|q| q.plate_fuzzy = Some("AB123CD".into()));
    let table = crate::render::table(&r);
    assert!(table.lines().next().unwrap().contains("plate"), "{table}");
    assert!(table.contains("AB-123-CD 90% (match 1.00)"), "{table}");
    assert!(table.contains("most likely plate first"), "{table}");
    let csv = crate::render::csv(&r);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("plate_likelihood,ridden"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .ends_with("AB-123-CD,AB123CD,fr_siv,0.900,1.000,false"),
        "{csv}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["hits"][0]["plate"]["display"], "AB-123-CD");
    assert_eq!(json["hits"][0]["plate_likelihood"], 1.0);
    assert_eq!(json["query"]["plate_fuzzy"], "AB123CD");
    // Without plates in the hits, no plate column.
    let r = search(&|q| q.class = Some("person".into()));
    assert!(!crate::render::table(&r).contains("plate"));
}

#[test]
fn fuzzy_prefilter_loses_no_match() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let mut rng = Rng::new(99);
    let ts: Vec<TrackSummary> = (1..=1_500)
        .map(|i| {
            let mut t = base("s", i);
            let text = if i % 3 == 0 {
                // Short and odd texts too (unknown formats).
                (0..1 + rng.below(9))
                    .map(|_| b"AB0O18I5SZ2DQX"[rng.below(14) as usize] as char)
                    .collect()
            } else {
                synth::random_plate_text(&mut rng)
            };
            t.plate = Some(plate_read(&text, 0.5 + 0.5 * rng.f64() as f32));
            t
        })
        .collect();
    ix.write_source(&record("s"), &ts).unwrap();
    let all = ix
        .search(&Query {
            limit: 100_000,
            ..Query::default()
        })
        .unwrap();
    let mut found = 0;
    for _ in 0..400 {
        let src = ts[rng.below(ts.len() as u64) as usize]
            .plate
            .as_ref()
            .unwrap();
        let mut chars: Vec<char> = src.text.chars().collect();
        for _ in 0..rng.below(4) {
            let i = rng.below(chars.len() as u64 + 1) as usize;
            let c = b"AB0O18I5SZ2DQX7T"[rng.below(16) as usize] as char;
            match rng.below(3) {
                0 if chars.len() > 1 && i < chars.len() => {
                    chars.remove(i);
                }
                1 => chars.insert(i, c),
                _ if i < chars.len() => chars[i] = c,
                _ => {}
            }
        }
        let query: String = chars.into_iter().collect();
        let q = Query {
            plate_fuzzy: Some(query.clone()),
            limit: 100_000,
            ..Query::default()
        };
        let want: Vec<u64> = reference(&q, &all.hits)
            .iter()
            .map(|h| h.track.track_id)
            .collect();
        let got: Vec<u64> = ix
            .search(&q)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.track.track_id)
            .collect();
        assert_eq!(got, want, "{query} (from {})", src.text);
        found += got.len();
    }
    assert!(found > 300, "{found}");
}

#[test]
fn query_parameters_are_bound_not_pasted() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let mut t = base("s", 1);
    t.zones = vec![ZoneVisit {
        zone: "x' OR '1'='1".into(),
        entered_ms: 0,
        time_inside_ms: 1,
        dwell_ms: 0,
    }];
    ix.write_source(&record("s"), &[t, base("s", 2)]).unwrap();
    let q = Query::parse(&QueryArgs {
        zone: Some("x' OR '1'='1".into()),
        ..QueryArgs::default()
    })
    .unwrap();
    assert_eq!(ids(&ix.search(&q).unwrap()), [("s".to_string(), 1)]);
}

/// A cyclist in a red top: one ridden bicycle, the rider's colours as upper/lower.
fn cyclist(source: &str, id: u64) -> TrackSummary {
    let mut t = base(source, id);
    t.label = "bicycle".into();
    t.ridden = true;
    t.colours = vec![ColourShare {
        colour: Colour::Black,
        share: 0.6,
    }];
    t.upper_colours = vec![ColourShare {
        colour: Colour::Red,
        share: 0.7,
    }];
    t.lower_colours = vec![ColourShare {
        colour: Colour::Blue,
        share: 0.8,
    }];
    t
}

#[test]
fn a_rider_is_found_as_a_person_and_as_its_vehicle() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let mut walker = base("s", 2);
    walker.label = "person".into();
    walker.upper_colours = vec![ColourShare {
        colour: Colour::Red,
        share: 0.5,
    }];
    let mut parked = cyclist("s", 3);
    parked.ridden = false;
    parked.upper_colours.clear();
    parked.lower_colours.clear();
    let mut van_car = base("s", 4);
    van_car.colours[0].colour = Colour::White;
    let mut van_truck = base("s", 5);
    van_truck.label = "truck".into();
    van_truck.colours[0].colour = Colour::White;
    let mut scooter = cyclist("s", 6);
    scooter.label = "motorcycle".into();
    scooter.upper_colours[0].colour = Colour::Green;
    let mut blue_walker = base("s", 7);
    blue_walker.label = "person".into();
    ix.write_source(
        &record("s"),
        &[
            cyclist("s", 1),
            walker,
            parked,
            van_car,
            van_truck,
            scooter,
            blue_walker,
        ],
    )
    .unwrap();
    let found = |f: &dyn Fn(&mut Query)| -> Vec<u64> {
        let r = ix.search(&q(f)).unwrap();
        r.hits.iter().map(|h| h.track.track_id).collect()
    };
    // --class person: persons and ridden vehicles, the parked bicycle not.
    assert_eq!(found(&|q| q.class = Some("person".into())), [1, 2, 6, 7]);
    let red_top = ColourFilter {
        part: ColourPart::Upper,
        colour: Colour::Red,
    };
    // --class person --upper red: the walker and the cyclist in red.
    assert_eq!(
        found(&|q| {
            q.class = Some("person".into());
            q.colours = vec![red_top];
        }),
        [1, 2]
    );
    assert_eq!(
        found(&|q| {
            q.class = Some("person".into());
            q.colours = vec![
                red_top,
                ColourFilter {
                    part: ColourPart::Lower,
                    colour: Colour::Blue,
                },
            ];
        }),
        [1]
    );
    // --class bicycle: ridden or not; with --upper red, the cyclist.
    assert_eq!(found(&|q| q.class = Some("bicycle".into())), [1, 3]);
    assert_eq!(
        found(&|q| {
            q.class = Some("bicycle".into());
            q.colours = vec![red_top];
        }),
        [1]
    );
    // The machine's own colour stays the whole object's.
    assert_eq!(
        found(&|q| {
            q.class = Some("person".into());
            q.colours = vec![ColourFilter {
                part: ColourPart::Whole,
                colour: Colour::Black,
            }];
        }),
        [1, 6]
    );
    // Vans: one is a car, the other a truck; --class vehicle finds both.
    let white = ColourFilter {
        part: ColourPart::Whole,
        colour: Colour::White,
    };
    let with_white = |class: &'static str| {
        move |q: &mut Query| {
            q.class = Some(class.into());
            q.colours = vec![white];
        }
    };
    assert_eq!(found(&with_white("car")), [4]);
    assert_eq!(found(&with_white("truck")), [5]);
    assert_eq!(found(&with_white("vehicle")), [4, 5]);
    assert_eq!(
        found(&|q| q.class = Some("vehicle".into())),
        [1, 3, 4, 5, 6]
    );
    // Renderers say which are ridden.
    let r = ix.search(&q(|q| q.class = Some("bicycle".into()))).unwrap();
    let table = crate::render::table(&r);
    assert!(table.contains("bicycle (ridden)"), "{table}");
    let csv = crate::render::csv(&r);
    assert!(csv.lines().next().unwrap().ends_with(",ridden"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",true"), "{csv}");
    assert!(csv.lines().nth(2).unwrap().ends_with(",false"), "{csv}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["hits"][0]["ridden"], true);
    assert!(json["hits"][1].get("ridden").is_none());
    // A ridden car is refused.
    let mut bad = base("s", 9);
    bad.ridden = true;
    let e = ix.write_source(&record("s"), &[bad]).unwrap_err();
    assert!(e.to_string().contains("cannot be ridden"), "{e}");
    // No vehicle at all: the hint names the group.
    let (_d2, p2) = tmp();
    let mut ix2 = Index::open(&p2).unwrap();
    let mut only = base("t", 1);
    only.label = "person".into();
    ix2.write_source(&record("t"), &[only]).unwrap();
    let r = ix2
        .search(&q(|q| q.class = Some("vehicle".into())))
        .unwrap();
    assert!(
        r.hints[0].contains("no class called \"vehicle\""),
        "{:?}",
        r.hints
    );
}

#[test]
fn renderers() {
    let (d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    let mut t = base("s", 1);
    t.zones = vec![ZoneVisit {
        zone: "<script>alert(1)</script>".into(),
        entered_ms: 0,
        time_inside_ms: 1,
        dwell_ms: 2_500,
    }];
    t.first_pts_ms = 12_345;
    t.last_pts_ms = 20_000;
    let mut rec = record("s");
    rec.path = Some("/evidence/cam 1.mp4".into());
    ix.write_source(&rec, &[t, base("s", 2)]).unwrap();
    let r = ix.search(&Query::default()).unwrap();
    let table = crate::render::table(&r);
    assert!(table.starts_with("source"), "{table}");
    assert!(table.contains("red 70%"), "{table}");
    assert!(table.contains("2 tracks"), "{table}");
    let csv = crate::render::csv(&r);
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains("2024-06-01T12:00:00.000Z"), "{csv}");
    let html = crate::render::sheet(
        &r,
        &crate::render::SheetOptions {
            sheet_dir: d.path().join("out"),
            derived_dir: d.path().join("derived"),
            title: "case <A&B>".into(),
        },
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("case &lt;A&amp;B&gt;"));
    assert!(html.contains("src=\"../derived/thumbs/s/1.jpg\""), "{html}");
    assert!(
        html.contains("href=\"file:///evidence/cam%201.mp4#t=12.345\""),
        "{html}"
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["hits"][0]["track_id"], 1);
    assert_eq!(json["hits"][0]["source_path"], "/evidence/cam 1.mp4");
}

mod plate_props {
    use proptest::prelude::*;
    use vigie_core::plate::{self, PlatePattern};

    /// The obvious recursive glob, over folded text.
    fn glob(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|k| glob(rest, &t[k..])),
            Some((b'?', rest)) => !t.is_empty() && glob(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn patterns_agree_with_a_reference_and_with_sqlite(
            pat in "[AB0O1?*-]{1,8}",
            text in "[AB0O1]{0,8}",
        ) {
            let Ok(p) = PlatePattern::parse(&pat) else {
                // Refused: only separators and stars.
                prop_assert!(pat.chars().all(|c| c == '*' || c == '-'));
                return Ok(());
            };
            let want = glob(p.to_glob().as_bytes(), plate::fold(&text).as_bytes());
            prop_assert_eq!(p.matches(&text), want);
            let c = rusqlite::Connection::open_in_memory().unwrap();
            let sqlite: bool = c
                .query_row("SELECT ?1 GLOB ?2", [plate::fold(&text), p.to_glob()], |r| r.get(0))
                .unwrap();
            prop_assert_eq!(sqlite, want);
            prop_assert_eq!(PlatePattern::parse(p.as_str()).unwrap(), p);
        }

        #[test]
        fn a_plate_matches_its_own_blurred_patterns(
            text in "[A-Z0-9]{1,10}",
            mask in proptest::collection::vec(any::<bool>(), 10),
            cut in 0usize..4,
        ) {
            let mut pat: String = text
                .chars()
                .zip(&mask)
                .map(|(c, m)| if *m { '?' } else { c })
                .collect();
            if cut > 0 && cut < text.len() {
                pat.truncate(pat.len() - cut);
                pat.push('*');
            }
            if let Ok(p) = PlatePattern::parse(&pat) {
                prop_assert!(p.matches(&text), "{} vs {}", p, text);
            }
        }

        #[test]
        fn fuzzy_is_a_likelihood(a in "[A-Z0-9]{0,9}", b in "[A-Z0-9]{0,9}") {
            let l = plate::fuzzy_likelihood(&a, &b);
            prop_assert!(l > 0.0 && l <= 1.0);
            prop_assert_eq!(l, plate::fuzzy_likelihood(&b, &a));
            prop_assert_eq!(l == 1.0, plate::fold(&a) == plate::fold(&b));
            let diff = a.len().abs_diff(b.len());
            prop_assert!(plate::fuzzy_cost(&a, &b) >= diff as f32);
        }
    }
}

#[test]
fn a_source_is_retimed_and_moved_to_another_camera_in_place() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    ix.write_source(&record("s"), &rich("s", 3)).unwrap();
    ix.write_source(&record("other"), &rich("other", 2))
        .unwrap();
    let before = ix.source_clock("s").unwrap().unwrap();
    assert_eq!(before.start_wall_ms, Some(T0));
    let moved = crate::SourceClock {
        camera: "gate-east".into(),
        start_wall_ms: Some(T0 + 90_000),
        clock: Some("#7 offset +1m30s".into()),
    };
    assert!(ix.retime_source("s", &moved).unwrap());
    assert!(!ix.retime_source("absent", &moved).unwrap());
    ix.check().unwrap();
    assert_eq!(ix.source_clock("s").unwrap().unwrap(), moved);
    // Found under the new camera, at the new times, by every side table.
    let r = ix
        .search(&q(|q| {
            q.camera = Some("gate-east".into());
            q.from_wall_ms = Some(T0 + 90_000);
            q.zone = Some("doorway".into());
        }))
        .unwrap();
    assert_eq!(r.hits.len(), 3);
    for h in &r.hits {
        assert_eq!(h.track.camera, "gate-east");
        assert_eq!(
            h.track.first_wall_ms,
            Some(T0 + 90_000 + h.track.first_pts_ms)
        );
        assert_eq!(
            h.track.last_wall_ms,
            Some(T0 + 90_000 + h.track.last_pts_ms)
        );
    }
    let r = ix
        .search(&q(|q| {
            q.to_wall_ms = Some(T0 + 60_000);
            q.colours = vec![ColourFilter {
                colour: Colour::Red,
                part: ColourPart::Whole,
            }];
        }))
        .unwrap();
    assert!(
        r.hits.iter().all(|h| h.track.source_id == "other"),
        "{:?}",
        r.hits.len()
    );
    assert_eq!(r.hits.len(), 2);
    let r = ix
        .search(&q(|q| q.plate = Some(PlatePattern::parse("AB*").unwrap())))
        .unwrap();
    assert!(r
        .hits
        .iter()
        .filter(|h| h.track.source_id == "s")
        .all(|h| h.track.first_wall_ms == Some(T0 + 90_000)));
    // The old camera name is gone from the vocabulary for that source only.
    assert_eq!(
        ix.vocabulary("camera").unwrap(),
        vec!["cam1".to_string(), "gate-east".to_string()]
    );
    // An unknown start clears the wall-clock times instead of keeping wrong ones.
    let unknown = crate::SourceClock {
        start_wall_ms: None,
        ..moved
    };
    ix.retime_source("s", &unknown).unwrap();
    let r = ix
        .search(&q(|q| q.camera = Some("gate-east".into())))
        .unwrap();
    assert!(r.hits.iter().all(|h| h.track.first_wall_ms.is_none()));
}

#[test]
fn a_track_without_any_colour_says_so() {
    // Monochrome (infrared) footage: the describer names no colour at all.
    let mut t = base("S1", 1);
    t.colours.clear();
    t.upper_colours.clear();
    t.lower_colours.clear();
    let hit = |track| crate::Hit {
        track,
        first_wall: None,
        last_wall: None,
        source_path: None,
        plate_likelihood: None,
        recorded_first_wall: None,
    };
    assert_eq!(
        crate::render::colour_summary(&hit(t)),
        crate::render::NO_COLOUR
    );
    let coloured = base("S1", 2);
    assert!(!coloured.colours.is_empty());
    assert_ne!(
        crate::render::colour_summary(&hit(coloured)),
        crate::render::NO_COLOUR
    );
}

#[test]
fn the_run_id_is_kept_with_the_rows_and_replaced_with_them() {
    let (_d, p) = tmp();
    let mut ix = Index::open(&p).unwrap();
    assert_eq!(ix.run_id("a").unwrap(), None, "not analysed");
    let mut rec = record("a");
    rec.run_id = Some("run-1".into());
    ix.write_source(&rec, &[base("a", 1)]).unwrap();
    assert_eq!(ix.run_id("a").unwrap().as_deref(), Some("run-1"));
    assert_eq!(ix.source("a").unwrap().unwrap().record, rec);
    // Re-timing keeps it (same rows, same run).
    let clock = crate::SourceClock {
        camera: "cam2".into(),
        start_wall_ms: Some(T0),
        clock: None,
    };
    assert!(ix.retime_source("a", &clock).unwrap());
    assert_eq!(ix.run_id("a").unwrap().as_deref(), Some("run-1"));
    // A new run's rows carry the new run's id.
    rec.run_id = Some("run-2".into());
    ix.write_source(&rec, &[base("a", 7)]).unwrap();
    assert_eq!(ix.run_id("a").unwrap().as_deref(), Some("run-2"));
    // A failed write leaves the previous run in force.
    rec.run_id = Some("run-3".into());
    ix.fault = Some((0, Fault::Error));
    assert!(ix.write_source(&rec, &[base("a", 9)]).is_err());
    assert_eq!(ix.run_id("a").unwrap().as_deref(), Some("run-2"));
}
