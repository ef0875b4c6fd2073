//! What a screen shows of a case without writing an export: frames of the original
//! footage rendered for a player, thumbnails, the audit log, alerts, the dossier.
//!
//! Why here: browsers cannot play most recorder codecs (MPEG-4 part 2 in AVI, H.265 on
//! Linux), so a web front end shows a *rendering*: frames decoded here from the original
//! evidence file, scaled and encoded as JPEG, with the track's box drawn over them. The
//! evidence bytes are never altered nor handed out (a copy leaves vigie only as an export,
//! a logged disclosure: [`crate::results`]).
//!
//! The consultation is recorded once, when a [`Player`] opens (one entry per player, not
//! one per frame). A player owns its entered case on its own thread (FFmpeg contexts are
//! not `Send`): the case lock is held shared while it lives, and every frame passes the
//! case's [`EnteredCase::checkpoint`], so closure (`case close --wait`) or expiry stops it
//! at the next frame; it ends by itself after an idle delay, releasing the lock.
//!
//! **Evidence is re-hashed before use, without waiting for the hash to show a frame.**
//! Re-hashing a multi-gigabyte export takes tens of seconds, and an investigator opening
//! a hit must see it at once; but vigie's rule is "re-check before every use". A player
//! keeps both: at opening, the registry record is checked against the chain and the file's
//! size against its ingest size (cheap; a different size is a change, refused at once with
//! the alert), then the full SHA-256 runs on its own thread while the first frames are
//! rendered. Until it ends, every frame says so ([`Verification::InProgress`]; the web
//! page labels the picture "verification in progress"); nothing can leave vigie from an
//! unverified player (a clip or a frame export re-hashes the source itself before
//! writing). If the hash differs, the player stops at once (no further frame, the case
//! released), the `evidence_changed` alert is raised in the machine and case logs, and
//! the page replaces the picture with the alert. The frames already shown were a
//! rendering of the file as it was then, never altered evidence handed out.
//!
//! Thumbnails are read through a [`DerivedReader`], handed out by a page view that
//! entered the case and recorded its consultation: the grid's images ride on that entry
//! instead of each entering the case again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use vigie_audit::event::{Event, ExportKind, FileHash};
use vigie_audit::{Action, Entry, EntryRef};
use vigie_core::BBox;
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_evidence::SourceRecord;

use crate::app::App;
use crate::entered::EnteredCase;
use crate::error::AppError;

/// Widest frame a player renders (pixels): enough to read a scene, small enough to stream.
pub const PLAYER_MAX_WIDTH_PX: u32 = 1280;
/// JPEG quality of rendered frames.
const JPEG_QUALITY: u8 = 82;
/// A forward request within this distance of the last decoded frame decodes on instead
/// of seeking (playback at a few frames per second).
const DECODE_ON_MS: i64 = 3_000;
/// The box of a track is drawn on a frame when one of its boxes is this close in time.
const BOX_TOLERANCE_MS: i64 = 250;

// ---- player -----------------------------------------------------------------------------

/// What to play: a registered source, optionally with one of its tracks.
#[derive(Debug, Clone)]
pub struct PlayerRequest {
    /// Source id or registered path.
    pub source: String,
    /// The track whose box is drawn (its per-frame boxes from the tube file).
    pub track_id: Option<u64>,
    /// The player ends (and releases the case) after this long without a request.
    pub idle: Duration,
    /// Who watches, for the consultation entry (`web: player`).
    pub via: String,
}

/// A track shown in a player.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerTrack {
    pub track_id: u64,
    pub label: String,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
}

/// What a player plays.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerInfo {
    pub case_id: String,
    pub source_id: String,
    pub sha256: String,
    pub camera: String,
    pub duration_ms: Option<u64>,
    /// Corrected wall-clock start (ms since the epoch), when known.
    pub start_wall_ms: Option<i64>,
    pub time_zone: Option<String>,
    pub correction: Option<String>,
    pub codec: String,
    pub width_px: u32,
    pub height_px: u32,
    pub fps: Option<f64>,
    pub track: Option<PlayerTrack>,
    /// Plays a synopsis video of the case's exports instead of the source itself.
    pub synopsis: Option<String>,
    /// Where the consultation was recorded.
    pub consultation: EntryRef,
}

/// One rendered frame.
#[derive(Debug, Clone)]
pub struct JpegFrame {
    pub jpeg: Vec<u8>,
    /// Media time of the frame decoded (the first at or after the time asked).
    pub pts_ms: i64,
    /// Corrected wall-clock time of that frame, when the source's start is known.
    pub wall_ms: Option<i64>,
    pub width_px: u32,
    pub height_px: u32,
    /// The track's box was drawn on it.
    pub boxed: bool,
    /// Where the source's re-hash stood when the frame was rendered.
    pub verification: Verification,
}

struct FrameAsk {
    at_ms: i64,
    reply: mpsc::Sender<Result<JpegFrame, AppError>>,
}

/// A player of one source (or synopsis) of an entered case, on its own thread.
pub struct Player {
    tx: mpsc::Sender<FrameAsk>,
    info: PlayerInfo,
    alive: Arc<AtomicBool>,
    verification: Arc<Mutex<Verification>>,
}

/// Where the re-hash of a player's source stands (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verification {
    /// The source is being re-hashed while its first frames are shown.
    InProgress { hashed_bytes: u64, total_bytes: u64 },
    /// The source has its ingest hash.
    Verified,
    /// The source's bytes are not those of ingest: the player stopped and the
    /// `evidence_changed` alert was raised.
    Changed { message: String },
    /// The source could not be read to the end: nothing can be vouched for, the player
    /// stopped.
    Unreadable { message: String },
    /// Not evidence (a synopsis rendered into the case's exports).
    NotApplicable,
}

impl Verification {
    /// Frames may be shown (the check is running or passed).
    pub fn allows_frames(&self) -> bool {
        !matches!(
            self,
            Verification::Changed { .. } | Verification::Unreadable { .. }
        )
    }

    /// The error a stopped player answers with.
    fn refusal(&self) -> Option<AppError> {
        match self {
            Verification::Changed { message } | Verification::Unreadable { message } => {
                Some(AppError::Stopped(format!("the player stopped: {message}")))
            }
            _ => None,
        }
    }
}

fn lock_state(m: &Mutex<Verification>) -> std::sync::MutexGuard<'_, Verification> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("source", &self.info.source_id)
            .field("alive", &self.is_alive())
            .finish()
    }
}

struct Overlay {
    boxes: Vec<(i64, BBox)>,
    /// The size the boxes are in (the analysis' working resolution).
    frame_size: (u32, u32),
}

struct Target {
    path: PathBuf,
    /// The source's files opened once (a source player): `path` is their inode, and the
    /// background hash reads them too. Held as long as the player.
    pinned: Option<crate::entered::PinnedSource>,
    cfg: DecodeConfig,
    overlay: Option<Overlay>,
    timing: Option<crate::timing::SourceTiming>,
}

impl Player {
    /// Open a player on a source of `case`: its record checked against the chain and its
    /// size against the ingest size (a change is refused with an alert), the track's boxes
    /// read, the decoder opened, and the consultation recorded, before any frame is
    /// rendered; the full re-hash runs meanwhile ([`Self::verification`], see the module's
    /// documentation). `case` moves to the player's thread and lives until the player
    /// ends.
    pub fn open(case: EnteredCase, req: &PlayerRequest) -> Result<Self, AppError> {
        let record = case.find_source(&req.source)?;
        // Opened once: what is played is what the background hash reads.
        let pinned = case.pin_source(&record)?;
        // The cheap half of the re-check now; the hash on the player's own thread.
        if pinned.original_size() != record.size_bytes {
            // Certainly changed: said (and alerted) the usual way.
            case.verify_source(&record)?;
        }
        let timing = case.timing(&record);
        let (track, overlay) = match req.track_id {
            None => (None, None),
            Some(id) => {
                let index = case.index()?;
                let Some(t) = index
                    .tracks_by_id(Some(&record.source_id), id)?
                    .into_iter()
                    .next()
                else {
                    return Err(AppError::BadInput(format!(
                        "no track {id} in source {} (search again: the index may have been rebuilt)",
                        record.source_id
                    )));
                };
                let tubes = case.layout().read_tubes(&record.source_id)?;
                let boxes = tubes
                    .tubes
                    .into_iter()
                    .find(|tube| tube.track_id == id)
                    .map(|tube| tube.boxes)
                    .unwrap_or_default();
                (
                    Some(PlayerTrack {
                        track_id: id,
                        label: t.label.clone(),
                        first_pts_ms: t.first_pts_ms,
                        last_pts_ms: t.last_pts_ms,
                    }),
                    Some(Overlay {
                        boxes,
                        frame_size: tubes.frame_size,
                    }),
                )
            }
        };
        let cfg = DecodeConfig {
            stream_index: Some(record.meta.stream_index),
            output_size: OutputSize::MaxWidth(PLAYER_MAX_WIDTH_PX),
            threads: 2,
            ..DecodeConfig::default()
        }
        .for_source(&record.meta);
        let consultation = case.record(&Event::SourceDecoded {
            source_id: record.source_id.clone(),
            sha256: record.sha256.clone(),
            sampling: format!(
                "{}: frames rendered on request{}; the source is re-hashed while the first frames are shown, and the player stops if it changed",
                req.via,
                track
                    .as_ref()
                    .map(|t| format!(", track {} boxed", t.track_id))
                    .unwrap_or_default()
            ),
            frames_decoded: 0,
            corrupt_packets: 0,
            truncated: false,
        })?;
        let info = PlayerInfo {
            case_id: case.case_id().to_owned(),
            source_id: record.source_id.clone(),
            sha256: record.sha256.clone(),
            camera: timing.camera.clone(),
            duration_ms: record.meta.duration_ms,
            start_wall_ms: timing.start_wall_ms,
            time_zone: timing.time_zone.clone(),
            correction: timing.correction.clone(),
            codec: record.meta.codec.clone(),
            width_px: record.meta.width,
            height_px: record.meta.height,
            fps: record.meta.fps,
            track,
            synopsis: None,
            consultation,
        };
        let target = Target {
            path: pinned.decode_path(),
            pinned: Some(pinned),
            cfg,
            overlay,
            timing: Some(timing),
        };
        Self::spawn(case, target, info, req.idle, Some(record))
    }

    /// Open a player on a synopsis video written in the case's exports (`name`: the bare
    /// file name, as [`crate::results::synopsis`] wrote it). Records the consultation.
    pub fn open_synopsis(
        case: EnteredCase,
        name: &str,
        idle: Duration,
        via: &str,
    ) -> Result<(Self, SynopsisView), AppError> {
        let view = SynopsisView::read(&case, name)?;
        let record = case.find_source(&view.source_id)?;
        let consultation = case.record(&Event::SourceDecoded {
            source_id: record.source_id.clone(),
            sha256: record.sha256.clone(),
            sampling: format!("{via}: synopsis {name} rendered on request"),
            frames_decoded: 0,
            corrupt_packets: 0,
            truncated: false,
        })?;
        let timing = case.timing(&record);
        let info = PlayerInfo {
            case_id: case.case_id().to_owned(),
            source_id: record.source_id.clone(),
            sha256: record.sha256.clone(),
            camera: timing.camera.clone(),
            duration_ms: Some(view.duration_ms.max(0) as u64),
            start_wall_ms: None,
            time_zone: timing.time_zone.clone(),
            correction: timing.correction.clone(),
            codec: "h264".into(),
            width_px: view.frame_size.0,
            height_px: view.frame_size.1,
            fps: Some(view.fps),
            track: None,
            synopsis: Some(name.to_owned()),
            consultation,
        };
        let target = Target {
            path: view.video.clone(),
            pinned: None,
            cfg: DecodeConfig {
                output_size: OutputSize::MaxWidth(PLAYER_MAX_WIDTH_PX),
                threads: 2,
                ..DecodeConfig::default()
            },
            overlay: None,
            timing: None,
        };
        Ok((Self::spawn(case, target, info, idle, None)?, view))
    }

    /// Start the player's thread: it re-hashes `verify` (the source played, `None` for a
    /// synopsis) on a thread of its own while it opens the decoder and serves frames.
    fn spawn(
        case: EnteredCase,
        target: Target,
        info: PlayerInfo,
        idle: Duration,
        verify: Option<SourceRecord>,
    ) -> Result<Self, AppError> {
        let (tx, rx) = mpsc::channel::<FrameAsk>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), AppError>>();
        let alive = Arc::new(AtomicBool::new(true));
        let alive_thread = alive.clone();
        let verification = Arc::new(Mutex::new(match &verify {
            Some(rec) => Verification::InProgress {
                hashed_bytes: 0,
                total_bytes: rec.size_bytes
                    + rec
                        .salvage
                        .as_ref()
                        .and_then(|s| std::fs::metadata(&s.stream).ok())
                        .map_or(0, |m| m.len()),
            },
            None => Verification::NotApplicable,
        }));
        let state = verification.clone();
        let path = target.path.clone();
        std::thread::Builder::new()
            .name("vigie-player".into())
            .spawn(move || {
                let stop = AtomicBool::new(false);
                std::thread::scope(|s| {
                    let (case_ref, state_ref, stop_ref) = (&case, &state, &stop);
                    // A source player has both (`open` pins what it verifies).
                    debug_assert_eq!(verify.is_some(), target.pinned.is_some());
                    let checker = match verify.as_ref().zip(target.pinned.as_ref()) {
                        None => None,
                        Some((rec, pinned)) => match std::thread::Builder::new()
                            .name("vigie-player-verify".into())
                            .spawn_scoped(s, move || {
                                verify_in_background(case_ref, rec, pinned, state_ref, stop_ref)
                            }) {
                            Ok(h) => Some(h),
                            Err(_) => {
                                // No thread for it: check here, before any frame.
                                verify_in_background(case_ref, rec, pinned, state_ref, stop_ref);
                                None
                            }
                        },
                    };
                    let decoder = match Decoder::open(&target.path, &target.cfg) {
                        Ok(d) => d,
                        Err(e) => {
                            // A file that does not open may be a changed one: say so
                            // rather than the decoder's complaint.
                            if let Some(h) = checker {
                                let _ = h.join();
                            }
                            let e = lock_state(&state).refusal().unwrap_or_else(|| e.into());
                            alive_thread.store(false, Ordering::SeqCst);
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    serve_frames(&case, &target, decoder, &rx, idle, &state);
                    alive_thread.store(false, Ordering::SeqCst);
                    // Ended (idle, closure, changed evidence): a check still running stops.
                    stop.store(true, Ordering::SeqCst);
                });
                drop(case);
            })
            .map_err(AppError::io(&path))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                tx,
                info,
                alive,
                verification,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AppError::Stopped("the player thread ended".into())),
        }
    }

    /// Where the re-hash of the source stands.
    pub fn verification(&self) -> Verification {
        lock_state(&self.verification).clone()
    }

    pub fn info(&self) -> &PlayerInfo {
        &self.info
    }

    /// Whether the player still runs (it ends after its idle delay, or when the case is
    /// closing, expired or cancelled).
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// The frame at or after `at_ms` (media time from the start), as a JPEG with the
    /// track's box drawn when it is on screen.
    pub fn frame(&self, at_ms: i64) -> Result<JpegFrame, AppError> {
        if let Some(e) = lock_state(&self.verification).refusal() {
            return Err(e);
        }
        let (reply, rx) = mpsc::channel();
        let ended = || AppError::Stopped("the player ended (idle, or the case closed)".into());
        self.tx
            .send(FrameAsk {
                at_ms: at_ms.max(0),
                reply,
            })
            .map_err(|_| ended())?;
        rx.recv().map_err(|_| ended())?
    }
}

/// Re-hash the played source (see the module's documentation), telling `state`.
fn verify_in_background(
    case: &EnteredCase,
    rec: &SourceRecord,
    pinned: &crate::entered::PinnedSource,
    state: &Mutex<Verification>,
    stop: &AtomicBool,
) {
    let mut hashed = 0u64;
    let outcome = case.verify_source_until(rec, pinned, stop, |n| {
        hashed += n;
        if let Verification::InProgress { hashed_bytes, .. } = &mut *lock_state(state) {
            *hashed_bytes = hashed;
        }
    });
    let now = match outcome {
        Ok(true) => Verification::Verified,
        // The player ended first: nothing concluded, nothing more to show.
        Ok(false) => return,
        // Changed bytes, a link or another file at its name: changed, not unreadable.
        Err(e) => match &e {
            AppError::Registry(r) if r.is_evidence_changed() => Verification::Changed {
                message: crate::evidence::error_chain(&e),
            },
            _ => Verification::Unreadable {
                message: crate::evidence::error_chain(&e),
            },
        },
    };
    *lock_state(state) = now;
}

/// How often a waiting player looks at its verification (a change stops it within this).
const VERIFICATION_POLL: Duration = Duration::from_millis(200);

fn serve_frames(
    case: &EnteredCase,
    target: &Target,
    mut decoder: Decoder,
    rx: &mpsc::Receiver<FrameAsk>,
    idle: Duration,
    state: &Mutex<Verification>,
) {
    let mut last_pts: Option<i64> = None;
    let mut last_ask = std::time::Instant::now();
    loop {
        if !lock_state(state).allows_frames() {
            break;
        }
        let ask = match rx.recv_timeout(VERIFICATION_POLL.min(idle)) {
            Ok(ask) => ask,
            Err(mpsc::RecvTimeoutError::Timeout) if last_ask.elapsed() < idle => continue,
            Err(_) => break,
        };
        last_ask = std::time::Instant::now();
        let result = (|| {
            case.checkpoint()?;
            if let Some(e) = lock_state(state).refusal() {
                return Err(e);
            }
            let frame = match last_pts {
                Some(last) if ask.at_ms > last && ask.at_ms - last <= DECODE_ON_MS => {
                    let mut found = None;
                    while let Some(f) = decoder.next_frame()? {
                        if f.pts_ms + 1 >= ask.at_ms {
                            found = Some(f);
                            break;
                        }
                    }
                    found
                }
                _ => decoder.frame_at(ask.at_ms)?,
            };
            let Some(mut frame) = frame else {
                return Err(AppError::BadInput(format!(
                    "no frame at {:.3} s: the video ends before",
                    ask.at_ms as f64 / 1000.0
                )));
            };
            last_pts = Some(frame.pts_ms);
            let boxed = match &target.overlay {
                Some(o) => match box_at(&o.boxes, frame.pts_ms) {
                    Some(b) => {
                        let sx = frame.width as f32 / o.frame_size.0.max(1) as f32;
                        let sy = frame.height as f32 / o.frame_size.1.max(1) as f32;
                        draw_box(
                            &mut frame.data,
                            frame.width,
                            frame.height,
                            &BBox {
                                x: b.x * sx,
                                y: b.y * sy,
                                w: b.w * sx,
                                h: b.h * sy,
                            },
                        );
                        true
                    }
                    None => false,
                },
                None => false,
            };
            let jpeg = encode_jpeg(&frame.data, frame.width, frame.height)?;
            Ok(JpegFrame {
                jpeg,
                pts_ms: frame.pts_ms,
                wall_ms: target.timing.as_ref().and_then(|t| t.wall_ms(frame.pts_ms)),
                width_px: frame.width,
                height_px: frame.height,
                boxed,
                verification: lock_state(state).clone(),
            })
        })();
        let stop = matches!(&result, Err(AppError::Stopped(_)) | Err(AppError::Case(_)));
        let _ = ask.reply.send(result);
        if stop {
            break;
        }
    }
}

/// The track's box nearest in time to `pts_ms`, within [`BOX_TOLERANCE_MS`].
fn box_at(boxes: &[(i64, BBox)], pts_ms: i64) -> Option<BBox> {
    let i = boxes.partition_point(|(t, _)| *t < pts_ms);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| boxes.get(j))
        .min_by_key(|(t, _)| (t - pts_ms).abs())
        .filter(|(t, _)| (t - pts_ms).abs() <= BOX_TOLERANCE_MS)
        .map(|(_, b)| *b)
}

/// Draw a box outline (yellow over a dark edge, so it shows on any background).
fn draw_box(data: &mut [u8], width: u32, height: u32, b: &BBox) {
    let (w, h) = (width as i64, height as i64);
    let mut put = |x: i64, y: i64, rgb: [u8; 3]| {
        if x >= 0 && y >= 0 && x < w && y < h {
            let i = ((y * w + x) * 3) as usize;
            if let Some(px) = data.get_mut(i..i + 3) {
                px.copy_from_slice(&rgb);
            }
        }
    };
    let (x0, y0) = (b.x.round() as i64, b.y.round() as i64);
    let (x1, y1) = ((b.x + b.w).round() as i64, (b.y + b.h).round() as i64);
    for (inset, rgb) in [(-1i64, [0, 0, 0]), (0, [255, 221, 0]), (1, [255, 221, 0])] {
        let (ax, ay, bx, by) = (x0 + inset, y0 + inset, x1 - inset, y1 - inset);
        for x in ax..=bx {
            put(x, ay, rgb);
            put(x, by, rgb);
        }
        for y in ay..=by {
            put(ax, y, rgb);
            put(bx, y, rgb);
        }
    }
}

fn encode_jpeg(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| AppError::BadInput(format!("cannot encode the rendered frame ({e})")))?;
    Ok(out)
}

// ---- synopsis -----------------------------------------------------------------------------

/// One object of a synopsis, as its index file records it.
#[derive(Debug, Clone, Serialize)]
pub struct SynopsisObject {
    /// The source it comes from (a camera synopsis has several; track ids are per source).
    pub source_id: String,
    pub track_id: u64,
    pub label: String,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall: Option<String>,
    pub synopsis_start_ms: i64,
    pub synopsis_end_ms: i64,
    /// Source ms per synopsis ms on screen (`--object-speed`; 1: its own pace).
    pub speed: i64,
}

/// A synopsis written in the case's exports, read back from its index file.
#[derive(Debug, Clone)]
pub struct SynopsisView {
    pub name: String,
    pub video: PathBuf,
    /// The source of a one-source synopsis; a camera synopsis's first source (each object
    /// names its own).
    pub source_id: String,
    pub frame_size: (u32, u32),
    pub fps: f64,
    pub duration_ms: i64,
    /// One per track shown (from its first segment to its last).
    pub objects: Vec<SynopsisObject>,
    /// One per segment shown (its own source and synopsis intervals): what a click picks.
    pub segments: Vec<SynopsisObject>,
    /// The figures printed when it was made, from its index (`None` for an index written
    /// before a figure was added: the page then shows none rather than wrong ones).
    pub figures: Option<vigie_synopsis::Figures>,
    /// Per-frame boxes of the objects shown, per (source, track) (source time, working
    /// pixels).
    boxes: HashMap<(String, u64), Vec<(i64, BBox)>>,
}

impl SynopsisView {
    /// Read the synopsis `name` (a bare `.mp4` name in the case's exports) and its index.
    pub fn read(case: &EnteredCase, name: &str) -> Result<Self, AppError> {
        let video = export_path(case, name)?;
        if video.extension().and_then(|e| e.to_str()) != Some("mp4") {
            return Err(AppError::BadInput(format!(
                "{name:?} is not a synopsis video"
            )));
        }
        let index_path = video.with_extension("json");
        let bytes = std::fs::read(&index_path).map_err(AppError::io(&index_path))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| AppError::DamagedDerived {
            what: "synopsis index".into(),
            why: e.to_string(),
            path: index_path.clone(),
        })?;
        // A camera synopsis lists its sources; each entry names its own.
        let source_id = doc["source_id"]
            .as_str()
            .or(doc["sources"][0]["source_id"].as_str())
            .unwrap_or_default()
            .to_owned();
        let size = |i: usize| doc["frame_size"][i].as_u64().unwrap_or(0) as u32;
        // One entry per segment (a long object is cut, one that stood still is in the
        // background): its own source interval (`from_*`, `to_*`) where the index has it
        // (indexes written before segments: the track's).
        let segments: Vec<SynopsisObject> = doc["tubes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| SynopsisObject {
                source_id: t["source_id"].as_str().unwrap_or(&source_id).to_owned(),
                track_id: t["track_id"].as_u64().unwrap_or(0),
                label: t["label"].as_str().unwrap_or_default().to_owned(),
                first_pts_ms: t["from_pts_ms"]
                    .as_i64()
                    .or(t["first_pts_ms"].as_i64())
                    .unwrap_or(0),
                last_pts_ms: t["to_pts_ms"]
                    .as_i64()
                    .or(t["last_pts_ms"].as_i64())
                    .unwrap_or(0),
                first_wall: t["from_wall"]
                    .as_str()
                    .or(t["first_wall"].as_str())
                    .map(str::to_owned),
                synopsis_start_ms: t["synopsis_start_ms"].as_i64().unwrap_or(0),
                synopsis_end_ms: t["synopsis_end_ms"].as_i64().unwrap_or(0),
                // Indexes written before speeds: their own pace.
                speed: t["speed"].as_i64().unwrap_or(1).max(1),
            })
            .collect();
        // One object per track: from its first segment to its last.
        let mut objects: Vec<SynopsisObject> = Vec::new();
        for s in &segments {
            match objects
                .iter_mut()
                .find(|o| o.track_id == s.track_id && o.source_id == s.source_id)
            {
                Some(o) => {
                    o.last_pts_ms = o.last_pts_ms.max(s.last_pts_ms);
                    o.synopsis_start_ms = o.synopsis_start_ms.min(s.synopsis_start_ms);
                    o.synopsis_end_ms = o.synopsis_end_ms.max(s.synopsis_end_ms);
                }
                None => objects.push(s.clone()),
            }
        }
        let duration_ms = doc["figures"]["synopsis_duration_ms"]
            .as_i64()
            .unwrap_or_else(|| objects.iter().map(|o| o.synopsis_end_ms).max().unwrap_or(0));
        let shown: std::collections::BTreeSet<(String, u64)> = objects
            .iter()
            .map(|o| (o.source_id.clone(), o.track_id))
            .collect();
        let sources: std::collections::BTreeSet<&String> = shown.iter().map(|k| &k.0).collect();
        let mut boxes = HashMap::new();
        for sid in sources {
            if let Ok(f) = case.layout().read_tubes(sid) {
                for t in f.tubes {
                    let key = (sid.clone(), t.track_id);
                    if shown.contains(&key) {
                        boxes.insert(key, t.boxes);
                    }
                }
            }
        }
        Ok(Self {
            name: name.to_owned(),
            video,
            source_id,
            frame_size: (size(0), size(1)),
            fps: doc["fps"].as_f64().unwrap_or(25.0),
            duration_ms,
            objects,
            segments,
            figures: serde_json::from_value(doc["figures"].clone()).ok(),
            boxes,
        })
    }

    /// The object shown at synopsis time `t_ms` under the point (`x`, `y` as fractions of
    /// the frame), else the nearest object on screen then; with the source time to open
    /// the player at.
    pub fn pick(&self, t_ms: i64, x: f64, y: f64) -> Option<(&SynopsisObject, i64)> {
        let (fw, fh) = (self.frame_size.0 as f64, self.frame_size.1 as f64);
        let (px, py) = (x * fw, y * fh);
        let mut best: Option<(&SynopsisObject, i64, f64)> = None;
        for o in self
            .segments
            .iter()
            .filter(|o| (o.synopsis_start_ms..=o.synopsis_end_ms).contains(&t_ms))
        {
            let source_ms = o.first_pts_ms + (t_ms - o.synopsis_start_ms) * o.speed;
            let dist = match self
                .boxes
                .get(&(o.source_id.clone(), o.track_id))
                .and_then(|b| box_at(b, source_ms))
            {
                Some(b) => {
                    let inside = px >= b.x as f64
                        && px <= (b.x + b.w) as f64
                        && py >= b.y as f64
                        && py <= (b.y + b.h) as f64;
                    if inside {
                        0.0
                    } else {
                        let (cx, cy) = ((b.x + b.w / 2.0) as f64, (b.y + b.h / 2.0) as f64);
                        ((cx - px).powi(2) + (cy - py).powi(2)).sqrt()
                    }
                }
                None => f64::MAX / 2.0,
            };
            if best.is_none_or(|(_, _, d)| dist < d) {
                best = Some((o, source_ms.clamp(o.first_pts_ms, o.last_pts_ms), dist));
            }
        }
        best.map(|(o, ms, _)| (o, ms))
    }
}

// ---- files of the case ------------------------------------------------------------------

/// A bare file name (no directory, no `..`, printable ASCII): what a browser may name.
pub fn check_file_name(name: &str) -> Result<&str, AppError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(name)
    } else {
        Err(AppError::BadInput(format!(
            "invalid file name {name:?}: a bare name of letters, digits, '-', '_' and '.'"
        )))
    }
}

/// `dir/name` when it exists as a regular file inside `dir` (after resolving links).
fn file_inside(dir: &Path, name: &str) -> Result<PathBuf, AppError> {
    let name = check_file_name(name)?;
    let not_found = || AppError::BadInput(format!("no file {name:?} here"));
    let dir = dir.canonicalize().map_err(|_| not_found())?;
    let path = dir.join(name).canonicalize().map_err(|_| not_found())?;
    if !path.starts_with(&dir) || !path.is_file() {
        return Err(not_found());
    }
    Ok(path)
}

/// An existing file of the case's exports, by its bare name.
pub fn export_path(case: &EnteredCase, name: &str) -> Result<PathBuf, AppError> {
    file_inside(&case.layout().exports(), name)
}

/// Hand an export of the case (written by a logged export) to a browser: a further copy
/// leaving vigie, recorded as a disclosure with the file's hash and who received it.
///
/// Only a file that a recorded export of this case wrote, with the same bytes, is handed
/// out, under that export's kind (`kind` is what the front end expects from the name:
/// another kind is refused). An unredacted export (a clip or frame the CLI wrote with
/// `--unredacted` and its justification) is never handed out here: its disclosure was
/// justified for its own recipient, and a browser download would give it again under
/// another name without a justification.
pub fn deliver_export(
    case: &EnteredCase,
    name: &str,
    kind: ExportKind,
    to: &str,
) -> Result<(PathBuf, FileHash), AppError> {
    let path = export_path(case, name)?;
    let (sha256, _) = vigie_evidence::hash_file(&path, |_| {})?;
    let written = written_as(case, name, &sha256)?;
    match written {
        None => {
            return Err(AppError::BadInput(format!(
                "{name} is not a file written by a recorded export of this case (or it changed since): \
                 it is not handed out; export it again"
            )))
        }
        Some(
            k @ (ExportKind::UnredactedClip
            | ExportKind::UnredactedFrame
            | ExportKind::UnredactedSheet),
        ) => {
            return Err(AppError::BadInput(format!(
                "{name} is an unredacted export ({}): it is not handed out through the web; \
                 the operator who made it gives it, with its recorded justification, or a \
                 redacted export is made for this recipient",
                kind_name(k)
            )))
        }
        Some(k) if k != kind => {
            return Err(AppError::BadInput(format!(
                "{name} was recorded as a {} export, not a {}: it is not handed out",
                kind_name(k),
                kind_name(kind)
            )))
        }
        Some(_) => {}
    }
    let target = case.export_target(Path::new(check_file_name(name)?))?;
    let files = case.record_export(
        kind,
        None,
        json!({ "delivered": "web download", "to": to, "file": name }),
        &[&target],
    )?;
    let hash = files.into_iter().next().expect("one file recorded");
    Ok((path, hash))
}

/// An export kind as the log writes it (`unredacted_clip`).
fn kind_name(k: ExportKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{k:?}"))
}

/// The kind of the recorded export of this case that wrote `name` with these bytes (the
/// last one; downloads, which record the file again, are not writers); a clip or frame
/// recorded without redaction counts as the unredacted kind.
fn written_as(
    case: &EnteredCase,
    name: &str,
    sha256: &str,
) -> Result<Option<ExportKind>, AppError> {
    let mut found = None;
    for e in case
        .context()
        .audit_log()
        .entries_but_consultations()?
        .iter()
    {
        let Some(Event::Exported {
            kind,
            detail,
            files,
            ..
        }) = Event::from_entry(e)
        else {
            continue;
        };
        if detail.get("delivered").is_some() {
            continue;
        }
        let wrote = files.iter().any(|f| {
            f.sha256 == sha256
                && f.inside_case
                && Path::new(&f.path).file_name().and_then(|n| n.to_str()) == Some(name)
        });
        if wrote {
            // A clip or frame is served only if it was redacted: before redaction existed
            // they were stream copies of the original pixels (`ExportKind::Clip`), which
            // are unredacted exports in all but name.
            let redacted = detail["redaction"]["redacted"].as_bool() == Some(true);
            found = Some(match kind {
                ExportKind::Clip if !redacted => ExportKind::UnredactedClip,
                ExportKind::Frame if !redacted => ExportKind::UnredactedFrame,
                k => k,
            });
        }
    }
    Ok(found)
}

/// Reads a case's thumbnails for the page view that entered the case (see the module
/// docs). It holds no lock: a closed case's thumbnails are erased, and reads then fail.
#[derive(Debug, Clone)]
pub struct DerivedReader {
    case_id: String,
    thumbnails: PathBuf,
}

impl DerivedReader {
    /// For the case just entered (its consultation recorded by the page view).
    pub fn new(case: &EnteredCase) -> Self {
        Self {
            case_id: case.case_id().to_owned(),
            thumbnails: case.layout().thumbnails(),
        }
    }

    pub fn case_id(&self) -> &str {
        &self.case_id
    }

    /// A thumbnail by its bare name (`thumbnails/<name>` in the index): JPEG bytes.
    pub fn thumbnail(&self, name: &str) -> Result<Vec<u8>, AppError> {
        let path = file_inside(&self.thumbnails, name)?;
        std::fs::read(&path).map_err(AppError::io(&path))
    }
}

/// A written report of a case (`<case>/reports/<name>`), to show what
/// [`crate::admin::Administration::write_report`] wrote and recorded.
pub fn report_path(app: &App, case_id: &str, name: &str) -> Result<PathBuf, AppError> {
    vigie_case::load_case(app.root(), case_id)?;
    file_inside(&app.root().case_dir(case_id).join("reports"), name)
}

/// The reports written for a case (file names in `<case>/reports/`, newest first).
pub fn reports(app: &App, case_id: &str) -> Result<Vec<String>, AppError> {
    vigie_case::load_case(app.root(), case_id)?;
    let dir = app.root().case_dir(case_id).join("reports");
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| check_file_name(n).is_ok())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(AppError::io(&dir)(e)),
    };
    names.sort_by(|a, b| b.cmp(a));
    Ok(names)
}

// ---- logs ---------------------------------------------------------------------------------

/// The entries of a case's log (`Some(case)`) or of the machine log, and the line numbers
/// that are not entries (say them: `vigie audit verify` explains).
pub fn audit_entries(app: &App, case_id: Option<&str>) -> Result<(Vec<Entry>, Vec<u64>), AppError> {
    let log = match case_id {
        Some(id) => {
            vigie_case::load_case(app.root(), id)?; // an unknown case is said, no log made
            app.root().case_log(id, app.clock())?
        }
        None => app.machine_log()?,
    };
    Ok(log.entries_lenient()?)
}

/// The alerts of the machine log (of one case when given), oldest first.
pub fn alerts(app: &App, case_id: Option<&str>) -> Result<Vec<Entry>, AppError> {
    Ok(app
        .machine_log()?
        .entries()?
        .into_iter()
        .filter(|e| e.action == Action::Alert)
        .filter(|e| case_id.is_none_or(|c| e.case.as_deref() == Some(c)))
        .collect())
}

/// The technical dossier (HTML) for this build, listing `features` (a front end's
/// functions: name and summary) and the compiled model allowlist.
pub fn dossier_html(app: &App, features: &[(&str, &str)]) -> String {
    use vigie_case::dossier::{render_html, DossierInput, Feature, ModelInfo};
    let input = DossierInput {
        software_version: vigie_case::DataRoot::software_version(),
        generated_at: app.clock().now(),
        features: features
            .iter()
            .map(|(c, s)| Feature {
                command: (*c).to_owned(),
                summary: (*s).to_owned(),
            })
            .collect(),
        models: vigie_policy::models()
            .iter()
            .map(|m| ModelInfo {
                id: m.id.to_owned(),
                task: m.task.as_str().to_owned(),
                sha256: m.sha256_hex(),
                licence: m.licence.to_owned(),
                source: format!(
                    "{} {} {} ({})",
                    m.source.registry, m.source.package, m.source.version, m.source.path
                ),
            })
            .collect(),
        data_root: app.root().path().to_owned(),
        cache_dir: vigie_core::paths::cache_dir(),
        measured: crate::admin::measured_catalogue(),
    };
    render_html(&input)
}

/// What a web server's start is recorded with.
#[derive(Debug, Clone, Serialize)]
pub struct ServerStart {
    pub listen: String,
    pub roots: Vec<PathBuf>,
    pub tls: bool,
    pub allowed_hosts: Vec<String>,
}

/// Record a web server's start in the machine log: a `service_started` entry (with the
/// operating-system account and the process id) whose justification says the address,
/// TLS, the ingest roots and the host names answered.
pub fn record_server_start(app: &App, start: &ServerStart) -> Result<EntryRef, AppError> {
    let os = crate::operator::OsAccount::current()
        .map(|o| o.to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let roots = start
        .roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>();
    let justification = format!(
        "web interface listening on {} (TLS {}); ingest roots: {}; host names answered: {}",
        start.listen,
        if start.tls { "on" } else { "off" },
        if roots.is_empty() {
            "none".to_owned()
        } else {
            roots.join(", ")
        },
        start.allowed_hosts.join(", ")
    );
    app.record_machine(
        None,
        None,
        &justification,
        &Event::ServiceStarted {
            service: "web".into(),
            os_account: os,
            pid: std::process::id(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32) -> BBox {
        BBox {
            x,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        }
    }

    #[test]
    fn the_nearest_box_in_time_is_drawn() {
        let boxes = vec![(0, b(0.0)), (100, b(1.0)), (200, b(2.0))];
        assert_eq!(box_at(&boxes, 90).unwrap().x, 1.0);
        assert_eq!(box_at(&boxes, 160).unwrap().x, 2.0);
        assert!(box_at(&boxes, 200 + BOX_TOLERANCE_MS + 1).is_none());
        assert!(box_at(&[], 0).is_none());
    }

    #[test]
    fn a_click_on_an_object_shown_faster_opens_the_moment_it_shows() {
        // A walker from x 0 (source 10 s) to x 190 (source 29 s), 10 px a second, shown
        // twice as fast from synopsis 1 s to 10.5 s.
        let boxes: Vec<(i64, BBox)> = (0..=19)
            .map(|k| (10_000 + k * 1_000, b(10.0 * k as f32)))
            .collect();
        let seg = SynopsisObject {
            source_id: "S1".into(),
            track_id: 7,
            label: "person".into(),
            first_pts_ms: 10_000,
            last_pts_ms: 29_000,
            first_wall: None,
            synopsis_start_ms: 1_000,
            synopsis_end_ms: 10_500,
            speed: 2,
        };
        let view = SynopsisView {
            name: "syn.mp4".into(),
            video: "syn.mp4".into(),
            source_id: "S1".into(),
            frame_size: (200, 10),
            fps: 10.0,
            duration_ms: 11_000,
            objects: vec![seg.clone()],
            segments: vec![seg],
            figures: None,
            boxes: HashMap::from([(("S1".to_owned(), 7), boxes)]),
        };
        // At synopsis 6 s the walker shows source 20 s, at x 100: a click there opens 20 s
        // (at its own pace it would have been source 15 s, x 50).
        let (o, at) = view.pick(6_000, 105.0 / 200.0, 0.5).unwrap();
        assert_eq!((o.track_id, at), (7, 20_000));
    }

    #[test]
    fn boxes_are_clipped_to_the_frame() {
        let mut data = vec![0u8; 20 * 10 * 3];
        draw_box(
            &mut data,
            20,
            10,
            &BBox {
                x: -5.0,
                y: 2.0,
                w: 40.0,
                h: 4.0,
            },
        );
        // The top edge (y = 2) is yellow where it lies in the frame.
        let i = (2 * 20 + 5) * 3;
        assert_eq!(&data[i..i + 3], &[255, 221, 0]);
    }

    #[test]
    fn only_bare_names_are_taken() {
        for bad in ["", "../x", "a/b", ".hidden", "a\\b", "x%2e", "é.jpg"] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_file_name("S12ab-t3_0.jpg").is_ok());
    }
}
