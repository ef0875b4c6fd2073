//! Cameras and recorder clocks of a case: assign sources to cameras, give a camera its
//! zones and lines, correct a clock, and show what is in force.
//!
//! Why here: each of these changes what an investigator concludes (which footage "camera
//! 2" means, when something happened), so each is an alteration entry of the case's log
//! with the operator and the reason, and the log is the only place they live
//! (`vigie_case::timebook`). The index follows at once ([`EnteredCase::index`] re-times
//! rows in place): no re-analysis, and a search right after sees the corrected times.

use serde::Serialize;
use vigie_audit::event::{ClockEffect, Event};
use vigie_core::clock::{self, ClockCorrection, ClockError, ClockFix, ClockScope};
use vigie_evidence::SourceRecord;

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::evidence::check_camera_name;
use crate::timing::SourceTiming;

impl From<ClockError> for AppError {
    fn from(e: ClockError) -> Self {
        AppError::BadInput(e.to_string())
    }
}

/// Sources moved to a camera.
#[derive(Debug, Clone, Serialize)]
pub struct CameraSet {
    pub camera: String,
    /// Each source with the camera it had before.
    pub sources: Vec<(String, String)>,
}

/// Assign sources to `camera` (or confirm a proposed camera). Logged, then the index's
/// rows of those sources move to it.
pub fn set_camera(
    case: &EnteredCase,
    camera: &str,
    sources: &[String],
) -> Result<CameraSet, AppError> {
    let camera = check_camera_name(camera)?;
    if sources.is_empty() {
        return Err(AppError::BadInput(
            "no source given: name the sources to assign (ids from `vigie sources`)".into(),
        ));
    }
    let mut moved = Vec::new();
    for key in sources {
        let rec = case.find_source(key)?;
        let before = case.timing(&rec);
        moved.push((rec.source_id.clone(), before.camera, before.camera_origin));
    }
    case.record(&Event::CameraAssigned {
        camera: camera.clone(),
        sources: moved
            .iter()
            .map(|(id, c, origin)| (id.clone(), (*origin != "file_name").then(|| c.clone())))
            .collect(),
    })?;
    Ok(CameraSet {
        camera,
        sources: moved.into_iter().map(|(id, c, _)| (id, c)).collect(),
    })
}

/// A camera's zones and lines set, and applied to what was already analysed.
#[derive(Debug, Clone, Serialize)]
pub struct SceneSet {
    pub camera: String,
    pub scene_sha256: String,
    /// Analysed sources of the camera whose tracks got the new zones and lines.
    pub sources: Vec<String>,
    pub tracks: u64,
    /// Tracks with at least one zone visit or line crossing under the new scene.
    pub tracks_in_zones_or_lines: u64,
}

/// Give a camera its zones and lines (a scene file, TOML): later analyses of its sources
/// use them unless `--scene` is given, and the tracks already analysed get them at once,
/// recomputed from their stored per-frame boxes (no re-detection): zones drawn after the
/// analysis are searchable straight away.
pub fn set_camera_scene(
    case: &EnteredCase,
    camera: &str,
    scene_path: &std::path::Path,
) -> Result<SceneSet, AppError> {
    check_camera_name(camera)?;
    let text = std::fs::read_to_string(scene_path).map_err(|e| {
        AppError::BadInput(format!(
            "cannot read scene file ({e}): {}",
            scene_path.display()
        ))
    })?;
    set_camera_scene_text(case, camera, &text)
}

/// [`set_camera_scene`] with the scene file's text (what a front end that draws zones on
/// a frame builds, see [`DrawnScene::to_toml`]): checked, logged with its hash, then
/// applied to the camera's analysed tracks.
pub fn set_camera_scene_text(
    case: &EnteredCase,
    camera: &str,
    text: &str,
) -> Result<SceneSet, AppError> {
    let camera = check_camera_name(camera)?;
    let text = text.to_owned();
    // Refused here, not at the next analysis.
    let scene = vigie_describe::Scene::parse(&text)?;
    let (sha, _) = vigie_evidence::hash_reader(text.as_bytes(), |_| {})
        .map_err(|e| AppError::BadInput(format!("cannot hash the scene file: {e}")))?;
    case.record(&Event::CameraSceneSet {
        camera: camera.clone(),
        scene_sha256: sha.clone(),
        scene: text,
    })?;
    let mut out = SceneSet {
        camera: camera.clone(),
        scene_sha256: sha.clone(),
        sources: Vec::new(),
        tracks: 0,
        tracks_in_zones_or_lines: 0,
    };
    if !case.layout().index_path().exists() {
        return Ok(out);
    }
    let mut index = case.index()?;
    let describe = vigie_describe::DescribeConfig::default();
    for info in index.sources()? {
        let id = info.record.source_id.clone();
        let Ok(rec) = case.find_source(&id) else {
            continue;
        };
        if case.timing(&rec).camera != camera {
            continue;
        }
        case.checkpoint()?;
        let tubes = case.layout().read_tubes(&id)?;
        let boxes: std::collections::HashMap<u64, &Vec<(i64, vigie_core::BBox)>> =
            tubes.tubes.iter().map(|t| (t.track_id, &t.boxes)).collect();
        let mut tracks = index.tracks_of_source(&id)?;
        for t in &mut tracks {
            let Some(history) = boxes.get(&t.track_id) else {
                return Err(AppError::DamagedDerived {
                    what: "tube file".into(),
                    why: format!("track {} has no per-frame boxes", t.track_id),
                    path: case.layout().tube_file(&id),
                });
            };
            let (zones, crossings) =
                vigie_describe::scene_events(history, tubes.frame_size, &scene, &describe);
            t.zones = zones;
            t.crossings = crossings;
            out.tracks += 1;
            out.tracks_in_zones_or_lines +=
                u64::from(!t.zones.is_empty() || !t.crossings.is_empty());
        }
        let mut record = info.record.clone();
        if let Some(o) = record.params.as_object_mut() {
            o.insert("camera_scene_sha256".into(), serde_json::json!(sha));
        }
        // One transaction per source: a search sees the old zones or the new.
        index.write_source(&record, &tracks)?;
        out.sources.push(id);
    }
    if !out.sources.is_empty() {
        case.record(&Event::DerivedDataChanged {
            what: "zones and lines re-applied to analysed tracks".into(),
            detail: serde_json::json!({
                "camera": camera, "scene_sha256": sha, "sources": out.sources,
                "tracks": out.tracks, "tracks_in_zones_or_lines": out.tracks_in_zones_or_lines,
            }),
        })?;
    }
    Ok(out)
}

// ---- zones and lines drawn on a camera view ----------------------------------------------

/// Most zones (and most lines) one camera may have: a camera view, not a map.
pub const MAX_DRAWN_SHAPES: usize = 32;
/// Most points of a drawn zone.
pub const MAX_ZONE_POINTS: usize = 64;
/// Smallest zone area, as a fraction of the frame (0.01 %: a few pixels is a slip of the
/// mouse, not a zone).
pub const MIN_ZONE_AREA: f64 = 1e-4;
/// Shortest line, in frame fractions (half a percent of the frame's width).
pub const MIN_LINE_LENGTH: f64 = 0.005;

/// A zone as drawn on a frame: a polygon in frame fractions (0..1, origin top-left).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawnZone {
    pub name: String,
    pub polygon: Vec<[f64; 2]>,
}

/// A directional line as drawn on a frame: crossing from its left-hand side to its
/// right-hand side, walking from `from` to `to`, is `in` (see `vigie_describe::scene`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawnLine {
    pub name: String,
    pub from: [f64; 2],
    pub to: [f64; 2],
}

/// A camera's zones and lines as a drawing front end holds them (JSON in the web page),
/// turned into the scene file the log records ([`Self::to_toml`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawnScene {
    #[serde(default)]
    pub zones: Vec<DrawnZone>,
    #[serde(default)]
    pub lines: Vec<DrawnLine>,
}

/// Why a drawing is refused. Said to the person who drew it: each names the shape.
#[derive(Debug, thiserror::Error)]
pub enum SceneDrawError {
    #[error("{what} name {name:?} refused: {why}")]
    BadName {
        what: &'static str,
        name: String,
        why: &'static str,
    },
    #[error("too many {what}s ({count}): at most {MAX_DRAWN_SHAPES} per camera")]
    TooMany { what: &'static str, count: usize },
    #[error("zone {name:?} has {points} points; a zone needs 3 to {MAX_ZONE_POINTS} (click at least three corners, then close it)")]
    ZonePoints { name: String, points: usize },
    #[error("{what} {name:?} has a point outside the frame ({x}, {y}): coordinates are fractions of the frame, 0 to 1")]
    OutsideFrame {
        what: &'static str,
        name: String,
        x: f64,
        y: f64,
    },
    #[error("zone {name:?} crosses itself (edges {first} and {second} intersect): draw its corners in order around the zone")]
    SelfIntersecting {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("zone {name:?} has almost no area (its corners are nearly in a line): draw it larger")]
    NoArea { name: String },
    #[error("line {name:?} is too short: click two points further apart")]
    ShortLine { name: String },
    #[error(transparent)]
    Scene(#[from] vigie_describe::SceneError),
    #[error("the drawing is malformed ({0}): reload the camera view")]
    Malformed(String),
}

fn check_shape_name(what: &'static str, name: &str) -> Result<(), SceneDrawError> {
    let bad = |why| SceneDrawError::BadName {
        what,
        name: name.chars().take(80).collect(),
        why,
    };
    let n = name.trim();
    if n.is_empty() {
        return Err(bad("give it a name"));
    }
    if n != name {
        return Err(bad("no spaces at its start or end"));
    }
    if n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(bad("1 to 64 printable characters"));
    }
    if what == "line" && n.contains(':') {
        return Err(bad(
            "no ':' in a line name (searches write name:in or name:out)",
        ));
    }
    Ok(())
}

fn check_point(what: &'static str, name: &str, p: [f64; 2]) -> Result<(), SceneDrawError> {
    if p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)) {
        Ok(())
    } else {
        Err(SceneDrawError::OutsideFrame {
            what,
            name: name.to_owned(),
            x: p[0],
            y: p[1],
        })
    }
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether segments `a`-`b` and `c`-`d` meet (touching and overlapping included).
fn segments_meet(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    const EPS: f64 = 1e-12;
    let on = |p: [f64; 2], q: [f64; 2], r: [f64; 2]| {
        r[0] >= p[0].min(q[0]) - EPS
            && r[0] <= p[0].max(q[0]) + EPS
            && r[1] >= p[1].min(q[1]) - EPS
            && r[1] <= p[1].max(q[1]) + EPS
    };
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > EPS && d2 < -EPS) || (d1 < -EPS && d2 > EPS))
        && ((d3 > EPS && d4 < -EPS) || (d3 < -EPS && d4 > EPS))
    {
        return true;
    }
    (d1.abs() <= EPS && on(c, d, a))
        || (d2.abs() <= EPS && on(c, d, b))
        || (d3.abs() <= EPS && on(a, b, c))
        || (d4.abs() <= EPS && on(a, b, d))
}

impl DrawnZone {
    fn check(&self) -> Result<(), SceneDrawError> {
        check_shape_name("zone", &self.name)?;
        let n = self.polygon.len();
        if !(3..=MAX_ZONE_POINTS).contains(&n) {
            return Err(SceneDrawError::ZonePoints {
                name: self.name.clone(),
                points: n,
            });
        }
        for p in &self.polygon {
            check_point("zone", &self.name, *p)?;
        }
        let edge = |i: usize| (self.polygon[i], self.polygon[(i + 1) % n]);
        for i in 0..n {
            for j in i + 1..n {
                // Neighbouring edges share a corner; any other meeting is a crossing.
                if j == i + 1 || (i == 0 && j == n - 1) {
                    continue;
                }
                let ((a, b), (c, d)) = (edge(i), edge(j));
                if segments_meet(a, b, c, d) {
                    return Err(SceneDrawError::SelfIntersecting {
                        name: self.name.clone(),
                        first: i + 1,
                        second: j + 1,
                    });
                }
            }
        }
        let twice_area: f64 = (0..n)
            .map(|i| {
                let (a, b) = edge(i);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        if twice_area.abs() / 2.0 < MIN_ZONE_AREA {
            return Err(SceneDrawError::NoArea {
                name: self.name.clone(),
            });
        }
        Ok(())
    }
}

impl DrawnLine {
    fn check(&self) -> Result<(), SceneDrawError> {
        check_shape_name("line", &self.name)?;
        check_point("line", &self.name, self.from)?;
        check_point("line", &self.name, self.to)?;
        let len =
            ((self.to[0] - self.from[0]).powi(2) + (self.to[1] - self.from[1]).powi(2)).sqrt();
        if len < MIN_LINE_LENGTH {
            return Err(SceneDrawError::ShortLine {
                name: self.name.clone(),
            });
        }
        Ok(())
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A frame fraction as written in a scene file (1e-4 of the frame: a fifth of a pixel
/// at 1920 pixels wide).
fn fraction(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_owned()
    }
}

fn toml_point(p: [f64; 2]) -> String {
    format!("[{}, {}]", fraction(p[0]), fraction(p[1]))
}

impl DrawnScene {
    /// A drawing sent by a front end as JSON (`{"zones": [...], "lines": [...]}`).
    pub fn from_json(text: &str) -> Result<Self, SceneDrawError> {
        serde_json::from_str(text).map_err(|e| SceneDrawError::Malformed(e.to_string()))
    }

    /// The zones and lines of a scene file's text.
    pub fn from_toml(text: &str) -> Result<Self, SceneDrawError> {
        let s = vigie_describe::Scene::parse(text)?;
        // The file's precision (1e-4) rather than f32's binary digits: a drawing read and
        // saved again is the same file.
        let round = |v: f32| (f64::from(v) * 1e4).round() / 1e4;
        let pt = |p: [f32; 2]| [round(p[0]), round(p[1])];
        Ok(Self {
            zones: s
                .zones
                .into_iter()
                .map(|z| DrawnZone {
                    name: z.name,
                    polygon: z.polygon.into_iter().map(pt).collect(),
                })
                .collect(),
            lines: s
                .lines
                .into_iter()
                .map(|l| DrawnLine {
                    name: l.name,
                    from: pt(l.from),
                    to: pt(l.to),
                })
                .collect(),
        })
    }

    /// Refuse what would make a zone or a line mean something else than what was drawn:
    /// unnamed or twice-named shapes, points off the frame, zones that cross themselves
    /// (the even-odd rule would leave holes) or have no area, lines of a few pixels.
    pub fn check(&self) -> Result<(), SceneDrawError> {
        for (what, count) in [("zone", self.zones.len()), ("line", self.lines.len())] {
            if count > MAX_DRAWN_SHAPES {
                return Err(SceneDrawError::TooMany { what, count });
            }
        }
        self.zones.iter().try_for_each(DrawnZone::check)?;
        self.lines.iter().try_for_each(DrawnLine::check)
    }

    /// The scene file (TOML, frame fractions to 1e-4), checked ([`Self::check`]) and read
    /// back as the analysis will read it.
    pub fn to_toml(&self) -> Result<String, SceneDrawError> {
        self.check()?;
        let mut t = String::new();
        for z in &self.zones {
            let pts: Vec<String> = z.polygon.iter().map(|p| toml_point(*p)).collect();
            t.push_str(&format!(
                "[[zone]]\nname = {}\npolygon = [{}]\n\n",
                toml_string(&z.name),
                pts.join(", ")
            ));
        }
        for l in &self.lines {
            t.push_str(&format!(
                "[[line]]\nname = {}\nfrom = {}\nto = {}\n\n",
                toml_string(&l.name),
                toml_point(l.from),
                toml_point(l.to)
            ));
        }
        // Duplicates and what rounding could break are the scene parser's to say.
        vigie_describe::Scene::parse(&t)?;
        Ok(t)
    }
}

/// A camera's zones and lines as the case's log records them now.
#[derive(Debug, Clone, Serialize)]
pub struct CameraScene {
    pub camera: String,
    /// The scene file's text, as recorded.
    pub text: String,
    pub sha256: String,
    pub scene: DrawnScene,
}

/// The zones and lines in force for `camera` (`None`: none set). Read from the case's
/// log as the entered case replayed it; it records nothing: the view that shows it
/// records its own consultation (the camera view opens a player on one of its sources).
pub fn camera_scene(case: &EnteredCase, camera: &str) -> Result<Option<CameraScene>, AppError> {
    let camera = check_camera_name(camera)?;
    let book = case.time_book();
    let Some((text, sha)) = book.scene_of(&camera) else {
        return Ok(None);
    };
    Ok(Some(CameraScene {
        scene: DrawnScene::from_toml(text)?,
        text: text.to_owned(),
        sha256: sha.to_owned(),
        camera,
    }))
}

/// One camera, its sources and its clock.
#[derive(Debug, Clone, Serialize)]
pub struct CameraRow {
    pub camera: String,
    /// Source id and how its camera was chosen (`operator`, `proposed`, `file_name`).
    pub sources: Vec<(String, String)>,
    /// The camera-wide clock correction in force.
    pub correction: Option<String>,
    /// The hash of the camera's scene file, when it has zones and lines.
    pub scene_sha256: Option<String>,
}

/// Every camera of the case with its sources.
pub fn cameras(case: &EnteredCase) -> Result<Vec<CameraRow>, AppError> {
    let sources = case.sources()?;
    case.record(&Event::SourcesListed {
        count: sources.len() as u64,
    })?;
    let book = case.time_book();
    let mut rows: std::collections::BTreeMap<String, CameraRow> = Default::default();
    let row = |camera: &str| -> CameraRow {
        CameraRow {
            camera: camera.to_owned(),
            sources: Vec::new(),
            correction: book
                .in_force("", camera)
                .map(vigie_case::timebook::CorrectionRecord::describe),
            scene_sha256: book.scene_of(camera).map(|(_, h)| h.to_owned()),
        }
    };
    for c in book.cameras() {
        rows.insert(c.clone(), row(&c));
    }
    for rec in &sources {
        let t = case.timing(rec);
        rows.entry(t.camera.clone())
            .or_insert_with(|| row(&t.camera))
            .sources
            .push((rec.source_id.clone(), t.camera_origin.to_owned()));
    }
    Ok(rows.into_values().collect())
}

/// What to establish about a clock.
#[derive(Debug, Clone, Default)]
pub struct ClockRequest {
    /// One source (id or path) ...
    pub source: Option<String>,
    /// ... or every source of a camera (its default).
    pub camera: Option<String>,
    /// `+90s`, `-1h30m`, `+00:01:30`: true time = recorder's time + offset.
    pub offset: Option<String>,
    /// With `true_time`: the media time of a frame (`12.5`, `12.5s`, `00:00:12.5`).
    pub at: Option<String>,
    /// What that frame's time really was: RFC 3339 with offset, or a local date and time
    /// (or a time alone, dated from the recording) in `time_zone`.
    pub true_time: Option<String>,
    /// Withdraw the scope's correction.
    pub revert: bool,
    /// IANA zone of the place.
    pub time_zone: Option<String>,
    /// The recorder wrote local time where UTC was expected.
    pub recorder_local: bool,
}

/// A correction made: what was recorded and what it moved.
#[derive(Debug, Clone, Serialize)]
pub struct ClockOutcome {
    pub correction: ClockCorrection,
    pub previous: Option<String>,
    pub sources: Vec<ClockEffect>,
    /// Daylight-saving changes inside the moved sources, and what applying had to decide.
    pub notes: Vec<String>,
}

/// Media time from `12.5`, `12.5s` or `[HH:]MM:SS(.mmm)`.
fn parse_pts_ms(s: &str) -> Result<i64, AppError> {
    let t = s.trim().trim_end_matches('s');
    let bad = || {
        AppError::BadInput(format!(
            "cannot read --at {s:?}: give the media time of the frame in seconds (12.5) or as HH:MM:SS.mmm from the start of the source"
        ))
    };
    let secs = if t.contains(':') {
        let mut total = 0.0;
        for part in t.split(':') {
            total = total * 60.0 + part.parse::<f64>().map_err(|_| bad())?;
        }
        total
    } else {
        t.parse::<f64>().map_err(|_| bad())?
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok((secs * 1000.0).round() as i64)
}

/// Record a clock correction (its reason is the entry's justification: the operator's
/// `--reason`), then re-time the index.
pub fn correct_clock(case: &EnteredCase, req: &ClockRequest) -> Result<ClockOutcome, AppError> {
    if case.reason().is_none() {
        return Err(AppError::BadInput(
            "a clock correction changes every time shown for that footage: say why with --reason (e.g. --reason \"burned-in clock read at 12.5 s\")".into(),
        ));
    }
    let zone = req
        .time_zone
        .as_deref()
        .map(clock::parse_zone)
        .transpose()?;
    let (scope, records): (ClockScope, Vec<SourceRecord>) = match (&req.source, &req.camera) {
        (Some(s), None) => {
            let rec = case.find_source(s)?;
            (
                ClockScope::Source {
                    source_id: rec.source_id.clone(),
                },
                vec![rec],
            )
        }
        (None, Some(c)) => {
            let c = check_camera_name(c)?;
            let recs: Vec<SourceRecord> = case
                .sources()?
                .into_iter()
                .filter(|r| case.timing(r).camera == c)
                .collect();
            if recs.is_empty() {
                return Err(AppError::BadInput(format!(
                    "no source of this case belongs to camera {c:?} (see `vigie camera list`)"
                )));
            }
            (ClockScope::Camera { camera: c }, recs)
        }
        _ => return Err(AppError::BadInput(
            "say which clock: one source (SOURCE) or a camera's default (--camera NAME), not both"
                .into(),
        )),
    };
    let fix = match (&req.offset, &req.at, &req.true_time, req.revert) {
        (Some(o), None, None, false) => ClockFix::Offset {
            offset_ms: clock::parse_offset_ms(o)?,
        },
        (None, Some(at), Some(true_time), false) => {
            let ClockScope::Source { .. } = scope else {
                return Err(AppError::BadInput(
                    "--at/--true name a frame of one source: give the source, or give the camera an --offset".into(),
                ));
            };
            let pts_ms = parse_pts_ms(at)?;
            let rec = &records[0];
            if let Some(d) = rec.meta.duration_ms {
                if pts_ms > d as i64 + 1000 {
                    return Err(AppError::BadInput(format!(
                        "--at {at} is after the end of {} ({:.3} s long)",
                        rec.source_id,
                        d as f64 / 1000.0
                    )));
                }
            }
            // A time alone is dated from what the recording shows at that moment.
            let shown = case.timing(rec).wall_ms(pts_ms);
            let true_wall_ms = clock::parse_true_time(true_time, zone.as_ref(), shown)?;
            ClockFix::Anchor {
                pts_ms,
                true_wall_ms,
                as_given: true_time.trim().to_owned(),
            }
        }
        (None, None, None, true) => ClockFix::Revert,
        (None, Some(_), None, false) | (None, None, Some(_), false) => {
            return Err(AppError::BadInput(
                "--at and --true go together: the frame at --at (media time) was really at --true"
                    .into(),
            ))
        }
        _ => {
            return Err(AppError::BadInput(
                "say what to establish: --offset, or --at with --true, or --revert (one of them)"
                    .into(),
            ))
        }
    };
    if req.recorder_local && zone.is_none() {
        return Err(AppError::BadInput(
            "--recorder-local needs the recorder's --tz (e.g. --tz Europe/Paris)".into(),
        ));
    }
    let correction = ClockCorrection {
        scope: scope.clone(),
        fix,
        time_zone: zone.map(|z| z.name().to_owned()),
        recorder_local: req.recorder_local,
    };
    let mut effects = Vec::new();
    let mut notes = Vec::new();
    let book = case.time_book();
    for rec in &records {
        let before: SourceTiming = case.timing(rec);
        // A camera default does not move a source that has its own correction.
        let own = book
            .in_force(&rec.source_id, &before.camera)
            .filter(|r| matches!(r.correction.scope, ClockScope::Source { .. }));
        if matches!(scope, ClockScope::Camera { .. }) && own.is_some() {
            notes.push(format!(
                "{} keeps its own correction ({})",
                rec.source_id,
                own.map(|r| r.describe()).unwrap_or_default()
            ));
            continue;
        }
        let after = if correction.fix == ClockFix::Revert {
            // Back to the camera's default (for a source) or the recorder's clock.
            let fallback = match &scope {
                ClockScope::Source { .. } => book
                    .in_force("", &before.camera)
                    .map(|r| r.correction.apply(before.recorded_start_wall_ms))
                    .transpose()?,
                ClockScope::Camera { .. } => None,
            };
            fallback.map_or(before.recorded_start_wall_ms, |a| a.start_wall_ms)
        } else {
            let applied = correction.apply(before.recorded_start_wall_ms)?;
            notes.extend(
                applied
                    .notes
                    .iter()
                    .map(|n| format!("{}: {n}", rec.source_id)),
            );
            applied.start_wall_ms
        };
        if after.is_none() {
            notes.push(format!(
                "{}: its start is unknown, so an offset cannot place it: anchor one of its frames (--at with --true)",
                rec.source_id
            ));
        }
        if let (Some(z), Some(start)) = (&zone, after) {
            let d = rec.meta.duration_ms.unwrap_or(0) as i64;
            for c in clock::offset_changes(z, start, start + d) {
                notes.push(format!("{}: {}", rec.source_id, c.describe(z)));
            }
        }
        effects.push(ClockEffect {
            source_id: rec.source_id.clone(),
            recorded_start_wall_ms: before.recorded_start_wall_ms,
            corrected_start_wall_ms: after,
        });
    }
    let previous = match &scope {
        ClockScope::Source { source_id } => records
            .first()
            .and_then(|r| book.in_force(source_id, &case.timing(r).camera))
            .map(|r| r.describe()),
        ClockScope::Camera { camera } => book.in_force("", camera).map(|r| r.describe()),
    };
    case.record(&Event::ClockCorrected {
        correction: correction.clone(),
        previous: previous.clone(),
        sources: effects.clone(),
    })?;
    Ok(ClockOutcome {
        correction,
        previous,
        sources: effects,
        notes,
    })
}

/// A source's clock: recorded, corrected, the correction in force and its history.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub source_id: String,
    pub camera: String,
    pub camera_origin: String,
    pub recorded_start_wall_ms: Option<i64>,
    pub start_wall_ms: Option<i64>,
    /// Both in the place's zone (or UTC).
    pub recorded_start: Option<String>,
    pub start: Option<String>,
    pub duration_ms: Option<u64>,
    pub time_zone: Option<String>,
    pub in_force: Option<String>,
    pub history: Vec<String>,
    /// Daylight-saving changes inside the recording, and what applying had to decide.
    pub notes: Vec<String>,
}

/// The clocks of the case's sources (or of one): a consultation.
pub fn clocks(case: &EnteredCase, source: Option<&str>) -> Result<Vec<ClockView>, AppError> {
    let records = match source {
        Some(s) => vec![case.find_source(s)?],
        None => case.sources()?,
    };
    case.record(&Event::SourcesListed {
        count: records.len() as u64,
    })?;
    let book = case.time_book();
    Ok(records
        .iter()
        .map(|rec| {
            let t = case.timing(rec);
            let d = rec.meta.duration_ms.unwrap_or(0) as i64;
            let mut notes = t.notes.clone();
            notes.extend(t.offset_changes(d));
            ClockView {
                source_id: rec.source_id.clone(),
                camera: t.camera.clone(),
                camera_origin: t.camera_origin.to_owned(),
                recorded_start_wall_ms: t.recorded_start_wall_ms,
                start_wall_ms: t.start_wall_ms,
                recorded_start: t.recorded_start_wall_ms.map(|ms| t.show(ms)),
                start: t.start_wall_ms.map(|ms| t.show(ms)),
                duration_ms: rec.meta.duration_ms,
                time_zone: t.time_zone.clone(),
                in_force: t.correction.clone(),
                history: book
                    .history(&rec.source_id, &t.camera)
                    .iter()
                    .map(|r| r.describe())
                    .collect(),
                notes,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_times_parse() {
        assert_eq!(parse_pts_ms("12.5").unwrap(), 12_500);
        assert_eq!(parse_pts_ms("12.5s").unwrap(), 12_500);
        assert_eq!(parse_pts_ms("00:01:02.5").unwrap(), 62_500);
        assert_eq!(parse_pts_ms("1:02").unwrap(), 62_000);
        assert!(parse_pts_ms("-1").is_err());
        assert!(parse_pts_ms("abc").is_err());
    }

    fn zone(name: &str, polygon: &[[f64; 2]]) -> DrawnScene {
        DrawnScene {
            zones: vec![DrawnZone {
                name: name.into(),
                polygon: polygon.to_vec(),
            }],
            lines: Vec::new(),
        }
    }

    #[test]
    fn a_drawing_becomes_the_scene_file_the_analysis_reads() {
        let d = DrawnScene {
            zones: vec![DrawnZone {
                name: "porte \"A\"".into(),
                polygon: vec![[0.1, 0.2], [0.3, 0.2], [0.3, 0.5], [0.1, 0.5]],
            }],
            lines: vec![DrawnLine {
                name: "gate".into(),
                from: [0.5, 0.0],
                to: [0.5, 1.0],
            }],
        };
        let toml = d.to_toml().unwrap();
        let scene = vigie_describe::Scene::parse(&toml).unwrap();
        assert_eq!(scene.zones[0].name, "porte \"A\"");
        assert_eq!(scene.zones[0].polygon[2], [0.3, 0.5]);
        assert_eq!(scene.lines[0].to, [0.5, 1.0]);
        assert_eq!(DrawnScene::from_toml(&toml).unwrap(), d);
        assert_eq!(DrawnScene::default().to_toml().unwrap(), "");
        // The JSON a page sends.
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(DrawnScene::from_json(&j).unwrap(), d);
        assert!(DrawnScene::from_json("{\"zone\": []}").is_err());
    }

    #[test]
    fn bad_drawings_are_refused_naming_the_shape() {
        let square = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]];
        assert!(zone("door", &square).to_toml().is_ok());
        let msg = |d: DrawnScene| d.to_toml().unwrap_err().to_string();
        let m = msg(zone("door", &square[..2]));
        assert!(m.contains("\"door\" has 2 points"), "{m}");
        let m = msg(zone(
            "bow",
            &[[0.1, 0.1], [0.4, 0.4], [0.4, 0.1], [0.1, 0.4]],
        ));
        assert!(m.contains("crosses itself"), "{m}");
        let m = msg(zone("flat", &[[0.1, 0.1], [0.2, 0.1], [0.3, 0.1]]));
        assert!(m.contains("no area") || m.contains("crosses itself"), "{m}");
        let m = msg(zone("off", &[[0.1, 0.1], [1.2, 0.1], [0.3, 0.5]]));
        assert!(m.contains("outside the frame"), "{m}");
        let m = msg(zone("  ", &square));
        assert!(m.contains("give it a name"), "{m}");
        let mut two = zone("door", &square);
        two.zones.push(two.zones[0].clone());
        assert!(msg(two).contains("used twice"));
        let line = |name: &str, to: [f64; 2]| DrawnScene {
            zones: Vec::new(),
            lines: vec![DrawnLine {
                name: name.into(),
                from: [0.5, 0.5],
                to,
            }],
        };
        assert!(msg(line("gate", [0.501, 0.5])).contains("too short"));
        assert!(msg(line("a:b", [0.9, 0.5])).contains("no ':'"));
        assert!(line("gate", [0.9, 0.5]).to_toml().is_ok());
    }
}
