//! Synthetic tracks and the search benchmark (`vigie bench search`).
//!
//! The generator is deterministic (SplitMix64 from a seed) and aims at the shapes that
//! decide query cost on real footage: a few dominant classes, skewed colour frequencies
//! (many black/white/grey cars, few green ones), activity concentrated in daytime over a
//! week, a handful of zones and lines per camera, most tracks short and a few dwelling.
//! [`PLATE_SHARE`] of the cars carry a read plate (mostly SIV, some FNI and Belgian),
//! drawn from a second generator so the rest of the index is the same with or without
//! plates.
//! It is a benchmark input, not ground truth: nothing here is ever presented as footage.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use vigie_core::plate::{self, PlateRead};
use vigie_core::{
    Colour, ColourShare, Compass, CrossingDirection, Edge, LineCrossing, TrackSummary, ZoneVisit,
};

use crate::error::IndexError;
use crate::query::{ColourFilter, ColourPart, LineFilter, Query};
use crate::store::{Index, SourceRecord};

/// SplitMix64: tiny, fast, and the same sequence everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

const CLASSES: [(&str, f64); 7] = [
    ("person", 0.45),
    ("car", 0.30),
    ("bicycle", 0.06),
    ("truck", 0.05),
    ("motorcycle", 0.04),
    ("bus", 0.02),
    ("moving_object", 0.08),
];

/// Colour weights in `Colour::ALL` order (black, white, grey, red, orange, yellow, green,
/// blue, purple, pink, brown).
const VEHICLE_COLOURS: [f64; 11] = [20.0, 25.0, 20.0, 8.0, 2.0, 2.0, 2.0, 10.0, 1.0, 0.5, 3.0];
const CLOTHES_COLOURS: [f64; 11] = [30.0, 10.0, 15.0, 6.0, 2.0, 3.0, 5.0, 15.0, 3.0, 3.0, 8.0];

/// Zone names, per camera a subset of these.
pub const ZONES: [&str; 6] = [
    "entrance", "doorway", "parking", "road", "platform", "counter",
];
pub const LINES: [&str; 3] = ["gate", "barrier", "kerb"];

/// 2024-06-03T00:00:00Z, a Monday.
pub const BASE_WALL_MS: i64 = 1_717_372_800_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Shape of a synthetic index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthConfig {
    pub tracks: u64,
    pub tracks_per_source: u64,
    pub cameras: u64,
    /// Each source covers this many hours of one camera.
    pub source_hours: i64,
    pub seed: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            tracks: 1_000_000,
            tracks_per_source: 1_000,
            cameras: 24,
            source_hours: 4,
            seed: 0x5649_4749,
        }
    }
}

fn shares(rng: &mut Rng, weights: &[f64; 11]) -> Vec<ColourShare> {
    let n = 1 + rng.weighted(&[0.3, 0.5, 0.2]);
    let mut left = 1.0f32;
    let mut out: Vec<ColourShare> = Vec::new();
    for i in 0..n {
        let colour = Colour::ALL[rng.weighted(weights)];
        if out.iter().any(|c| c.colour == colour) {
            continue;
        }
        let share = if i + 1 == n {
            left * (0.6 + 0.4 * rng.f64() as f32)
        } else {
            left * (0.45 + 0.45 * rng.f64() as f32)
        };
        left -= share;
        out.push(ColourShare { colour, share });
    }
    out.sort_by(|a, b| b.share.total_cmp(&a.share));
    out
}

/// Share of the synthetic cars whose plate was read (the others were too small, too far
/// or seen from the side).
pub const PLATE_SHARE: f64 = 0.3;

/// SIV letters (no I, O, U).
const SIV_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZ";

fn pick(rng: &mut Rng, set: &[u8]) -> char {
    set[rng.below(set.len() as u64) as usize] as char
}

/// A random plate text: 85% France SIV, 10% France FNI, 5% Belgium.
pub fn random_plate_text(rng: &mut Rng) -> String {
    let mut s = String::new();
    let digits = b"0123456789";
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match rng.weighted(&[0.85, 0.10, 0.05]) {
        0 => {
            s.extend((0..2).map(|_| pick(rng, SIV_LETTERS)));
            s.push_str(&format!("{:03}", 1 + rng.below(999)));
            s.extend((0..2).map(|_| pick(rng, SIV_LETTERS)));
        }
        1 => {
            s.push_str(&(1 + rng.below(9999)).to_string());
            s.extend((0..2).map(|_| pick(rng, letters)));
            s.push_str(&format!("{:02}", 1 + rng.below(95)));
        }
        _ => {
            s.push(pick(rng, b"12"));
            s.extend((0..3).map(|_| pick(rng, letters)));
            s.extend((0..3).map(|_| pick(rng, digits)));
        }
    }
    s
}

fn plate_read(rng: &mut Rng, source_id: &str, track_id: u64, best_pts_ms: i64) -> PlateRead {
    let text = random_plate_text(rng);
    let (display, format) = plate::display_of(&text);
    let char_confidences: Vec<f32> = text
        .chars()
        .map(|_| 0.85 + 0.15 * rng.f64() as f32)
        .collect();
    PlateRead {
        confidence: char_confidences.iter().product(),
        char_confidences,
        display,
        format: format.to_string(),
        text,
        reads: 1 + rng.below(20) as u32,
        best_pts_ms,
        crop: Some(format!("plates/{source_id}/{track_id}.jpg")),
    }
}

/// One synthetic track of `source_id`, starting at a random time in the source. Plates are
/// drawn from `plate_rng` only, so they do not shift the rest of the sequence.
fn track(
    rng: &mut Rng,
    plate_rng: &mut Rng,
    source_id: &str,
    camera: u64,
    track_id: u64,
    source_start_ms: i64,
    source_len_ms: i64,
) -> TrackSummary {
    let class_w: Vec<f64> = CLASSES.iter().map(|c| c.1).collect();
    let label = CLASSES[rng.weighted(&class_w)].0;
    let person = label == "person";
    let vehicle = matches!(label, "car" | "truck" | "bus" | "motorcycle");
    // Daytime-heavy activity: rejection-sample the start against a diurnal weight.
    let start_off = loop {
        let off = rng.below(source_len_ms as u64) as i64;
        let hour = ((source_start_ms + off).rem_euclid(DAY_MS)) / HOUR_MS;
        let w = if (7..20).contains(&hour) { 1.0 } else { 0.2 };
        if rng.f64() < w {
            break off;
        }
    };
    let dwell_long = rng.f64() < 0.05;
    let duration_ms = if dwell_long {
        30_000 + rng.below(570_000) as i64
    } else {
        (-(1.0 - rng.f64()).ln() * 8_000.0).min(120_000.0) as i64 + 200
    };
    let speed_px_s = if person {
        (60.0 + 25.0 * (rng.f64() as f32 - 0.5) * 2.0).max(0.0)
    } else if vehicle {
        (200.0 + 120.0 * (rng.f64() as f32 - 0.5) * 2.0).max(0.0)
    } else {
        rng.f64() as f32 * 150.0
    } * if dwell_long { 0.1 } else { 1.0 };
    let heading = rng.f64() as f32 * 360.0;
    let moving = speed_px_s >= 5.0;
    let (w, h) = if person {
        (
            20.0 + rng.f64() as f32 * 60.0,
            50.0 + rng.f64() as f32 * 150.0,
        )
    } else if vehicle {
        (
            60.0 + rng.f64() as f32 * 200.0,
            40.0 + rng.f64() as f32 * 120.0,
        )
    } else {
        (
            10.0 + rng.f64() as f32 * 80.0,
            10.0 + rng.f64() as f32 * 80.0,
        )
    };
    let palette = if person {
        &CLOTHES_COLOURS
    } else {
        &VEHICLE_COLOURS
    };
    let colours = shares(rng, palette);
    // Every other bicycle or motorcycle has its rider attached; the rider's colours are
    // derived without drawing from `rng`, so the rest of the sequence is unchanged.
    let ridden = matches!(label, "bicycle" | "motorcycle") && track_id.is_multiple_of(2);
    let (upper_colours, lower_colours) = if person {
        (shares(rng, &CLOTHES_COLOURS), shares(rng, &CLOTHES_COLOURS))
    } else if ridden {
        (colours.clone(), Vec::new())
    } else {
        (Vec::new(), Vec::new())
    };
    // Each camera sees three of the zones and one line.
    let mut zones = Vec::new();
    let nz = rng.weighted(&[0.5, 0.35, 0.15]);
    for k in 0..nz {
        let zone = ZONES[((camera + k as u64 * 2 + rng.below(2)) % ZONES.len() as u64) as usize];
        if zones.iter().any(|z: &ZoneVisit| z.zone == zone) {
            continue;
        }
        let inside = (duration_ms as f64 * (0.2 + 0.8 * rng.f64())) as i64;
        zones.push(ZoneVisit {
            zone: zone.to_string(),
            entered_ms: start_off,
            time_inside_ms: inside,
            dwell_ms: if dwell_long { inside } else { 0 },
        });
    }
    let mut crossings = Vec::new();
    if rng.f64() < 0.2 {
        crossings.push(LineCrossing {
            line: LINES[(camera % LINES.len() as u64) as usize].to_string(),
            direction: if rng.f64() < 0.5 {
                CrossingDirection::In
            } else {
                CrossingDirection::Out
            },
            at_ms: start_off + duration_ms / 2,
        });
    }
    let edges = [
        Edge::Top,
        Edge::Bottom,
        Edge::Left,
        Edge::Right,
        Edge::Inside,
    ];
    let (x0, y0) = (rng.f64() as f32, rng.f64() as f32);
    let path_norm = (0..4)
        .map(|i| {
            let f = i as f32 / 3.0 * 0.3;
            (
                (x0 + f * heading.to_radians().sin()).clamp(0.0, 1.0),
                (y0 - f * heading.to_radians().cos()).clamp(0.0, 1.0),
            )
        })
        .collect();
    let first_wall = source_start_ms + start_off;
    let plate = (label == "car" && plate_rng.f64() < PLATE_SHARE)
        .then(|| plate_read(plate_rng, source_id, track_id, start_off + duration_ms / 2));
    TrackSummary {
        source_id: source_id.to_string(),
        camera: format!("cam{:02}", camera + 1),
        track_id,
        label: label.to_string(),
        confidence: 0.3 + 0.7 * rng.f64() as f32,
        first_pts_ms: start_off,
        last_pts_ms: start_off + duration_ms,
        first_wall_ms: Some(first_wall),
        last_wall_ms: Some(first_wall + duration_ms),
        colours,
        upper_colours,
        lower_colours,
        ridden,
        width_px: w,
        height_px: h,
        size_frac: w * h / (1280.0 * 720.0),
        speed_px_s,
        heading_deg: moving.then_some(heading),
        direction: moving.then(|| Compass::from_heading_deg(heading)),
        path_norm,
        entry_edge: edges[rng.below(5) as usize],
        exit_edge: edges[rng.below(5) as usize],
        zones,
        crossings,
        thumbnail: Some(format!("thumbs/{source_id}/{track_id}.jpg")),
        thumbnail_at: None,
        plate,
    }
}

/// Figures of a generation run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenStats {
    pub tracks: u64,
    pub sources: u64,
    pub seconds: f64,
    pub analyse_seconds: f64,
}

/// Where and when synthetic source `s` (0-based) was recorded: its camera's name and the
/// wall-clock time of its first frame (ms since the epoch). A benchmark that registers
/// real files for the synthetic sources gives them these.
pub fn source_layout(cfg: &SynthConfig, s: u64) -> (String, i64) {
    let camera = s % cfg.cameras.max(1);
    let slot = (s / cfg.cameras.max(1)) as i64;
    (
        format!("cam{:02}", camera + 1),
        BASE_WALL_MS + slot * cfg.source_hours.max(1) * HOUR_MS,
    )
}

/// How many sources an index generated with `cfg` has.
pub fn source_count(cfg: &SynthConfig) -> u64 {
    cfg.tracks.div_ceil(cfg.tracks_per_source.max(1))
}

/// The identity of synthetic source `s` in the index: its id, SHA-256 and path.
#[derive(Debug, Clone)]
pub struct SourceIdentity {
    pub source_id: String,
    pub sha256: String,
    pub path: Option<String>,
}

/// Fill `index` with `cfg.tracks` synthetic tracks, one `write_source` per source, then
/// refresh the planner statistics. `progress` is called after each source with the number
/// of tracks written so far.
pub fn generate(
    index: &mut Index,
    cfg: &SynthConfig,
    progress: impl FnMut(u64),
) -> Result<GenStats, IndexError> {
    generate_as(
        index,
        cfg,
        |s| {
            let (camera, _) = source_layout(cfg, s);
            let source_id = format!("src{s:05}");
            SourceIdentity {
                sha256: format!("{:064x}", s as u128 * 0x9E37_79B9_7F4A_7C15),
                path: Some(format!("/synthetic/{camera}/{source_id}.mp4")),
                source_id,
            }
        },
        progress,
    )
}

/// [`generate`], with each source named by `identity` (e.g. files registered in a case
/// for the benchmark, laid out by [`source_layout`]); the tracks are the same.
pub fn generate_as(
    index: &mut Index,
    cfg: &SynthConfig,
    identity: impl Fn(u64) -> SourceIdentity,
    mut progress: impl FnMut(u64),
) -> Result<GenStats, IndexError> {
    let t0 = Instant::now();
    let mut rng = Rng::new(cfg.seed);
    let mut plate_rng = Rng::new(cfg.seed ^ 0x504C_4154_4553);
    let per = cfg.tracks_per_source.max(1);
    let n_sources = cfg.tracks.div_ceil(per);
    let cameras = cfg.cameras.max(1);
    let len_ms = cfg.source_hours.max(1) * HOUR_MS;
    let mut written = 0u64;
    for s in 0..n_sources {
        let camera = s % cameras;
        let slot = (s / cameras) as i64;
        let start_ms = BASE_WALL_MS + slot * len_ms;
        let id = identity(s);
        let source_id = id.source_id.clone();
        let n = per.min(cfg.tracks - written);
        let tracks: Vec<TrackSummary> = (0..n)
            .map(|i| {
                track(
                    &mut rng,
                    &mut plate_rng,
                    &source_id,
                    camera,
                    i + 1,
                    start_ms,
                    len_ms,
                )
            })
            .collect();
        let record = SourceRecord {
            source_id: source_id.clone(),
            sha256: id.sha256,
            camera: format!("cam{:02}", camera + 1),
            path: id.path,
            analysed_at_ms: BASE_WALL_MS + 30 * DAY_MS,
            params: serde_json::json!({ "synthetic": true, "seed": cfg.seed }),
            run_id: None,
        };
        index.write_source(&record, &tracks)?;
        written += n;
        progress(written);
    }
    let gen_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    index.optimize()?;
    Ok(GenStats {
        tracks: written,
        sources: n_sources,
        seconds: gen_s,
        analyse_seconds: t1.elapsed().as_secs_f64(),
    })
}

/// The query families of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// class + colour + 1 h window + zone: the target query.
    ClassColourHourZone,
    /// person + upper + lower colour + 2 h window.
    PersonUpperLower2h,
    /// class + colour + 1 day window + zone.
    ClassColourDayZone,
    /// class + line crossing with direction + 1 h window.
    ClassCrossingHour,
    /// zone + dwell >= 30 s + 1 day window.
    ZoneDwellDay,
    /// class + colour + zone over the whole week (many matches; first 100 by time).
    ClassColourZoneWeek,
    /// `--plate 'AB-1*'`: the first three characters of a plate, whole index.
    PlatePrefix,
    /// `--plate-fuzzy` of a plate with two OCR confusions, whole index.
    PlateFuzzy,
}

impl QueryKind {
    pub const ALL: [QueryKind; 8] = [
        QueryKind::ClassColourHourZone,
        QueryKind::PersonUpperLower2h,
        QueryKind::ClassColourDayZone,
        QueryKind::ClassCrossingHour,
        QueryKind::ZoneDwellDay,
        QueryKind::ClassColourZoneWeek,
        QueryKind::PlatePrefix,
        QueryKind::PlateFuzzy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QueryKind::ClassColourHourZone => "class+colour+1h+zone",
            QueryKind::PersonUpperLower2h => "person+upper+lower+2h",
            QueryKind::ClassColourDayZone => "class+colour+1d+zone",
            QueryKind::ClassCrossingHour => "class+crosses:dir+1h",
            QueryKind::ZoneDwellDay => "zone+dwell>=30s+1d",
            QueryKind::ClassColourZoneWeek => "class+colour+zone+week",
            QueryKind::PlatePrefix => "plate:AB1*",
            QueryKind::PlateFuzzy => "plate-fuzzy(2 confusions)",
        }
    }
}

/// A random query of `kind` over the span of the synthetic index (plate queries use a
/// random plate, which the index most likely does not hold: see [`random_query_with`]).
pub fn random_query(rng: &mut Rng, kind: QueryKind, span_ms: i64) -> Query {
    random_query_with(rng, kind, span_ms, &[])
}

/// Swap up to `n` characters of `text` for one of their OCR confusions (B -> 8, ...).
fn confuse(rng: &mut Rng, text: &str, n: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..n {
        let i = rng.below(chars.len() as u64) as usize;
        if let Some(g) = plate::CONFUSION_GROUPS
            .iter()
            .find(|g| g.contains(chars[i]))
        {
            let others: Vec<char> = g.chars().filter(|c| *c != chars[i]).collect();
            chars[i] = others[rng.below(others.len() as u64) as usize];
        }
    }
    chars.into_iter().collect()
}

/// [`random_query`], with plate queries built from `plates` (texts held by the index)
/// when it is not empty.
pub fn random_query_with(rng: &mut Rng, kind: QueryKind, span_ms: i64, plates: &[String]) -> Query {
    let window = |rng: &mut Rng, len: i64| {
        let from = BASE_WALL_MS + rng.below((span_ms - len).max(1) as u64) as i64;
        (Some(from), Some(from + len))
    };
    let colour = |rng: &mut Rng, w: &[f64; 11]| Colour::ALL[rng.weighted(w)];
    let vehicle_or_person = |rng: &mut Rng| if rng.f64() < 0.5 { "car" } else { "person" };
    let mut q = Query::default();
    match kind {
        QueryKind::ClassColourHourZone
        | QueryKind::ClassColourDayZone
        | QueryKind::ClassColourZoneWeek => {
            let class = vehicle_or_person(rng);
            let w = if class == "car" {
                &VEHICLE_COLOURS
            } else {
                &CLOTHES_COLOURS
            };
            q.class = Some(class.into());
            q.colours = vec![ColourFilter {
                part: ColourPart::Whole,
                colour: colour(rng, w),
            }];
            q.zone = Some(ZONES[rng.below(ZONES.len() as u64) as usize].into());
            (q.from_wall_ms, q.to_wall_ms) = match kind {
                QueryKind::ClassColourHourZone => window(rng, HOUR_MS),
                QueryKind::ClassColourDayZone => window(rng, DAY_MS),
                _ => (None, None),
            };
        }
        QueryKind::PersonUpperLower2h => {
            q.class = Some("person".into());
            q.colours = vec![
                ColourFilter {
                    part: ColourPart::Upper,
                    colour: colour(rng, &CLOTHES_COLOURS),
                },
                ColourFilter {
                    part: ColourPart::Lower,
                    colour: colour(rng, &CLOTHES_COLOURS),
                },
            ];
            (q.from_wall_ms, q.to_wall_ms) = window(rng, 2 * HOUR_MS);
        }
        QueryKind::ClassCrossingHour => {
            q.class = Some(vehicle_or_person(rng).into());
            q.crosses = Some(LineFilter {
                line: LINES[rng.below(LINES.len() as u64) as usize].into(),
                direction: Some(if rng.f64() < 0.5 {
                    CrossingDirection::In
                } else {
                    CrossingDirection::Out
                }),
            });
            (q.from_wall_ms, q.to_wall_ms) = window(rng, HOUR_MS);
        }
        QueryKind::ZoneDwellDay => {
            q.zone = Some(ZONES[rng.below(ZONES.len() as u64) as usize].into());
            q.dwell_min_ms = Some(30_000);
            (q.from_wall_ms, q.to_wall_ms) = window(rng, DAY_MS);
        }
        QueryKind::PlatePrefix | QueryKind::PlateFuzzy => {
            let text = if plates.is_empty() {
                random_plate_text(rng)
            } else {
                plates[rng.below(plates.len() as u64) as usize].clone()
            };
            if kind == QueryKind::PlatePrefix {
                let prefix: String = text.chars().take(3).collect();
                q.plate = plate::PlatePattern::parse(&format!("{prefix}*")).ok();
            } else {
                q.plate_fuzzy = Some(confuse(rng, &text, 2));
            }
        }
    }
    q
}

/// Latency figures of one query family.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryFigures {
    pub kind: QueryKind,
    pub name: String,
    pub runs: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_hits: f64,
    pub truncated_runs: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The plate texts the index holds, in track order (plate queries of the benchmark are
/// built from them, so they match something).
pub fn plate_texts(index: &Index) -> Result<Vec<String>, IndexError> {
    let mut st = index
        .conn
        .prepare("SELECT text FROM track_plate ORDER BY track")?;
    let rows = st.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Run `runs` random queries of each family (deterministic from `seed`) and time each
/// whole `Index::search` call, rows decoded included.
pub fn bench_queries(
    index: &Index,
    runs: usize,
    seed: u64,
    span_ms: i64,
) -> Result<Vec<QueryFigures>, IndexError> {
    let mut rng = Rng::new(seed);
    let plates = plate_texts(index)?;
    let random_query =
        |rng: &mut Rng, kind, span_ms| random_query_with(rng, kind, span_ms, &plates);
    let mut out = Vec::new();
    for kind in QueryKind::ALL {
        // Warm-up: statement cache and page cache.
        for _ in 0..3 {
            index.search(&random_query(&mut rng, kind, span_ms))?;
        }
        let mut times = Vec::with_capacity(runs);
        let (mut hits, mut truncated) = (0usize, 0usize);
        for _ in 0..runs {
            let q = random_query(&mut rng, kind, span_ms);
            let t = Instant::now();
            let r = index.search(&q)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            hits += r.hits.len();
            truncated += usize::from(r.truncated);
        }
        times.sort_by(f64::total_cmp);
        out.push(QueryFigures {
            kind,
            name: kind.name().to_string(),
            runs,
            p50_ms: percentile(&times, 0.50),
            p95_ms: percentile(&times, 0.95),
            p99_ms: percentile(&times, 0.99),
            max_ms: times.last().copied().unwrap_or(0.0),
            mean_hits: hits as f64 / runs.max(1) as f64,
            truncated_runs: truncated,
        });
    }
    Ok(out)
}

/// Wall-clock span covered by an index generated with `cfg`.
pub fn span_ms(cfg: &SynthConfig) -> i64 {
    let per = cfg.tracks_per_source.max(1);
    let sources = cfg.tracks.div_ceil(per);
    let slots = sources.div_ceil(cfg.cameras.max(1)) as i64;
    slots * cfg.source_hours.max(1) * HOUR_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        let mut counts = [0usize; 3];
        for _ in 0..10_000 {
            counts[r.weighted(&[0.5, 0.3, 0.2])] += 1;
        }
        assert!((4_500..5_500).contains(&counts[0]), "{counts:?}");
        assert!((1_500..2_500).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn synthetic_tracks_are_valid() {
        let mut rng = Rng::new(3);
        let mut plate_rng = Rng::new(4);
        let (mut cars, mut plates) = (0, 0);
        for i in 0..2_000 {
            let t = track(
                &mut rng,
                &mut plate_rng,
                "s",
                i % 24,
                i + 1,
                BASE_WALL_MS,
                4 * HOUR_MS,
            );
            assert!(t.first_pts_ms <= t.last_pts_ms);
            let total: f32 = t.colours.iter().map(|c| c.share).sum();
            assert!(total <= 1.0 + 1e-4, "{total}");
            assert!(!t.colours.is_empty());
            assert_eq!(t.upper_colours.is_empty(), t.label != "person" && !t.ridden);
            assert!(!t.ridden || matches!(t.label.as_str(), "bicycle" | "motorcycle"));
            cars += usize::from(t.label == "car");
            if let Some(p) = &t.plate {
                plates += 1;
                assert_eq!(t.label, "car");
                assert_ne!(p.format, plate::UNKNOWN_FORMAT, "{}", p.text);
                assert_eq!(plate::display_of(&p.text).0, p.display);
                assert_eq!(p.char_confidences.len(), p.text.len());
            }
        }
        let share = plates as f64 / cars as f64;
        assert!((0.2..0.4).contains(&share), "{plates} plates, {cars} cars");
    }
}
