//! The player: the original footage at a hit's moment, rendered server-side
//! ([`vigie_app::view::Player`]) and played by the page's script a few frames a second,
//! with the track's box drawn over it; and the two ways out of it, both disclosures
//! recorded by the application layer: "export the clip" (`results::clip`, the segment
//! redacted: every other object masked, re-encoded) and "add this frame to the report"
//! (`results::frame`, a redacted PNG in the case's exports, listed among the report's
//! disclosures).
//!
//! Opening the player is one consultation entry; its frames are not (they belong to that
//! opening). The player belongs to the session that opened it.
//!
//! The first frames come before the source's re-hash has finished
//! ([`vigie_app::view::Verification`]): the page says "verification in progress" until it
//! has, polling [`status`]; if the evidence changed, the player stops, the picture is
//! replaced by the alert, and frames are refused from then on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use vigie_app::results::{self, ClipRequest, FrameRequest};
use vigie_app::types::ExportKind;
use vigie_app::view::{Player, PlayerInfo, PlayerRequest, Verification};

use super::{blocking, case_right, in_case, stamp, CaseVisit, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::i18n::Lang;
use crate::security::{self, Authed};
use crate::state::{PlayerSlot, WebState};

/// The player's HTML: the frame, its controls and its labels (shared with the synopsis).
pub fn player_html(
    lang: Lang,
    case_id: &str,
    pid: &str,
    info: &PlayerInfo,
    start_ms: i64,
) -> String {
    let c = url(case_id);
    let note = if info.synopsis.is_some() {
        lang.t("synopsis.rendering")
    } else {
        lang.t("player.rendering")
    };
    format!(
        "<p class=\"rendering\" id=\"rendering-note\">{note}</p>{verify}\
         <div class=\"player\" id=\"player\" data-frame-url=\"/c/{c}/play/{pid}/frame\" data-start-ms=\"{start_ms}\" \
         data-duration-ms=\"{dur}\" data-fps=\"{fps}\" data-zone=\"{zone}\">\
         <img id=\"player-frame\" alt=\"\" width=\"{w}\">\
         <div class=\"controls\"><button type=\"button\" id=\"player-back\" title=\"{back}\">◀︎|</button>\
         <button type=\"button\" id=\"player-play\" data-play=\"{play}\" data-pause=\"{pause}\">{play}</button>\
         <button type=\"button\" id=\"player-forward\" title=\"{fwd}\">|▶︎</button>\
         <input type=\"range\" id=\"player-seek\" min=\"0\" max=\"{dur}\" step=\"40\" value=\"{start_ms}\">\
         <span id=\"player-time\" data-test=\"player-time\"></span></div></div>",
        note = esc(note),
        verify = verification_html(lang, case_id, pid, info.synopsis.is_none()),
        dur = info.duration_ms.unwrap_or(0),
        fps = info.fps.unwrap_or(25.0),
        zone = esc(info.time_zone.as_deref().unwrap_or("")),
        w = info.width_px.min(vigie_app::view::PLAYER_MAX_WIDTH_PX),
        back = lang.t("player.back"),
        fwd = lang.t("player.forward"),
        play = lang.t("player.play"),
        pause = lang.t("player.pause"),
    )
}

/// The verification label and the alert that replaces a stopped player (filled by the
/// page's script from [`status`]); nothing for a synopsis (not evidence).
pub fn verification_html(lang: Lang, case_id: &str, pid: &str, evidence: bool) -> String {
    if !evidence {
        return String::new();
    }
    format!(
        "<p class=\"verification\" id=\"verification-status\" data-state=\"in_progress\" \
         data-status-url=\"/c/{c}/play/{pid}/status\" data-t-verified=\"{ok}\" data-t-changed=\"{changed}\" \
         data-t-unreadable=\"{unreadable}\" data-t-ended=\"{ended}\">{progress}</p>\
         <p class=\"notice error\" id=\"player-alert\" role=\"alert\" hidden></p>",
        c = url(case_id),
        progress = esc(lang.t("verify.in_progress")),
        ok = esc(lang.t("verify.ok")),
        changed = esc(lang.t("verify.changed")),
        unreadable = esc(lang.t("verify.unreadable")),
        ended = esc(lang.t("verify.ended")),
    )
}

/// The player `pid` when it belongs to this session and case.
pub fn session_player(
    st: &WebState,
    who: &Authed,
    case_id: &str,
    pid: &str,
) -> Option<Arc<Player>> {
    st.players
        .lock()
        .expect("players lock")
        .get(pid)
        .filter(|p| p.session == who.sid && p.case_id == case_id)
        .map(|p| p.player.clone())
}

fn player_gone() -> PageError {
    PageError::new(
        axum::http::StatusCode::GONE,
        "this player ended (idle, or the case closed): open it again",
    )
}

/// Keep a player for this session; its id for the frame route.
pub fn keep(st: &WebState, who: &Authed, case_id: &str, player: Player) -> (String, Arc<Player>) {
    let pid = security::random_token();
    let player = Arc::new(player);
    st.add_player(
        pid.clone(),
        PlayerSlot {
            session: who.sid.clone(),
            case_id: case_id.to_owned(),
            player: player.clone(),
            opened: Instant::now(),
            synopsis: None,
        },
    );
    (pid, player)
}

pub async fn open(
    CaseVisit { st, who, case_id }: CaseVisit,
    q: Fields,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let source = q
        .get("src")
        .ok_or_else(|| PageError::bad("no source given (src)"))?;
    let track_id: Option<u64> = q.num("track")?;
    let at_ms: i64 = q.num("at_ms")?.unwrap_or(0);
    let why = q.get("reason");
    let player = in_case(&st, &who, &case_id, "player", why, move |case, st| {
        Ok(Player::open(
            case,
            &PlayerRequest {
                source,
                track_id,
                idle: st.cfg.player_idle,
                via: "web: player".into(),
            },
        )?)
    })
    .await?;
    let (pid, player) = keep(&st, &who, &case_id, player);
    let info = player.info();
    let c = url(&case_id);
    let mut b = String::new();
    b.push_str(&format!(
        "<p class=\"meta\" id=\"player-meta\">{} <b>{}</b> · {} {} · {} {}×{} · SHA-256 <code>{}</code>{}</p>",
        lang.t("dash.source"),
        esc(&info.source_id),
        lang.t("dash.camera"),
        esc(&info.camera),
        esc(&info.codec),
        info.width_px,
        info.height_px,
        esc(&info.sha256),
        info.track
            .as_ref()
            .map(|t| format!(
                " · {} #{} ({}, {}–{})",
                lang.t("player.track"),
                t.track_id,
                esc(&t.label),
                html::media_time(t.first_pts_ms),
                html::media_time(t.last_pts_ms)
            ))
            .unwrap_or_default()
    ));
    b.push_str(&player_html(lang, &case_id, &pid, info, at_ms));
    b.push_str(&format!(
        "<p class=\"muted\">{}</p>",
        lang.t("player.disclosure")
    ));
    if let Some(t) = &info.track {
        b.push_str(&format!(
            "<form method=\"post\" action=\"/c/{c}/clip\" id=\"clip-form\" class=\"inline-form\">{}\
             <input type=\"hidden\" name=\"src\" value=\"{}\"><input type=\"hidden\" name=\"track\" value=\"{}\">\
             <label for=\"clip-margin\">{}</label><input id=\"clip-margin\" name=\"margin\" value=\"2\" type=\"number\" min=\"0\" max=\"600\" step=\"0.5\">\
             <button type=\"submit\" id=\"export-clip\">{}</button></form>",
            html::csrf_field(&who),
            esc(&info.source_id),
            t.track_id,
            lang.t("player.margin"),
            lang.t("player.clip")
        ));
    }
    b.push_str(&format!(
        "<form method=\"post\" action=\"/c/{c}/report-frame\" id=\"report-frame-form\" class=\"inline-form\">{}\
         <input type=\"hidden\" name=\"src\" value=\"{}\"><input type=\"hidden\" name=\"at_ms\" id=\"report-at-ms\" value=\"{at_ms}\">\
         <button type=\"submit\" id=\"add-to-report\">{}</button></form>",
        html::csrf_field(&who),
        esc(&info.source_id),
        lang.t("player.add_report")
    ));
    Ok(html::case_page(
        &who,
        &case_id,
        "search",
        lang.t("player.title"),
        &b,
    ))
}

/// One rendered frame of a player of this session: JPEG, with its media time, corrected
/// wall-clock time and whether the box was drawn in headers.
pub async fn frame(
    CaseVisit { st, who, case_id }: CaseVisit,
    Path((_, pid)): Path<(String, String)>,
    q: Fields,
) -> Result<Response, PageError> {
    let at_ms: i64 = q.num("at_ms")?.unwrap_or(0);
    let player = session_player(&st, &who, &case_id, &pid).ok_or_else(player_gone)?;
    let f = blocking(move || Ok(player.frame(at_ms)?)).await?;
    let mut res = ([(header::CONTENT_TYPE, "image/jpeg")], f.jpeg).into_response();
    let h = res.headers_mut();
    h.insert("x-vigie-pts-ms", HeaderValue::from(f.pts_ms));
    if let Some(w) = f.wall_ms {
        h.insert("x-vigie-wall-ms", HeaderValue::from(w));
    }
    h.insert(
        "x-vigie-boxed",
        HeaderValue::from_static(if f.boxed { "1" } else { "0" }),
    );
    h.insert(
        "x-vigie-verification",
        HeaderValue::from_static(verification_state(&f.verification)),
    );
    Ok(res)
}

fn verification_state(v: &Verification) -> &'static str {
    match v {
        Verification::InProgress { .. } => "in_progress",
        Verification::Verified => "verified",
        Verification::Changed { .. } => "changed",
        Verification::Unreadable { .. } => "unreadable",
        Verification::NotApplicable => "not_applicable",
    }
}

/// Where the re-hash of a player's source stands, for the page's script (JSON:
/// `{"alive": bool, "verification": {"state": ..., ...}}`). A background poll: it does not
/// keep the session alive.
pub async fn status(
    State(st): State<Arc<WebState>>,
    who: Authed,
    Path((case_id, pid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let case_id = case_right(&st, &who, &case_id)
        .await
        .map_err(PageError::json)?;
    let player = session_player(&st, &who, &case_id, &pid).ok_or_else(|| player_gone().json())?;
    Ok(axum::Json(serde_json::json!({
        "alive": player.is_alive(),
        "verification": player.verification(),
    }))
    .into_response())
}

/// The page saying what an export wrote.
fn export_done(
    who: &Authed,
    case_id: &str,
    name: &str,
    sha256: &str,
    size_bytes: u64,
    what: &str,
) -> String {
    let lang = who.lang;
    format!(
        "{}<p>{what}</p><p><code id=\"export-name\">{}</code> · SHA-256 <code id=\"export-sha256\">{}</code> · {} bytes</p>\
         <p><a href=\"/c/{}/exports/{}\" id=\"download-export\" download>{}</a></p>",
        html::notice("ok", "export-done", lang.t("export.done")),
        esc(name),
        esc(sha256),
        size_bytes,
        url(case_id),
        url(name),
        lang.t("export.download")
    )
}

/// "Export the clip": the segment of the track, redacted (every other object masked) and
/// hashed.
pub async fn clip(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let src = f
        .get("src")
        .ok_or_else(|| PageError::bad("no source given"))?;
    let track_id: u64 = f
        .num("track")?
        .ok_or_else(|| PageError::bad("no track given"))?;
    let margin_s: f64 = f.num("margin")?.unwrap_or(2.0);
    let stem = format!("clip-{}-t{track_id}-{}", sanitize(&src), stamp());
    let why = f.get("reason");
    let (out, name) = in_case(&st, &who, &case_id, "clip", why, move |case, _| {
        // Redacted (every other object masked), so re-encoded as H.264 MP4 whatever the
        // recorder's codec.
        let name = format!("{stem}.mp4");
        let out = results::clip(
            &case,
            &ClipRequest {
                track_id,
                source: Some(src),
                margin_s,
                output: PathBuf::from(&name),
                keep: Vec::new(),
                unredacted: None,
            },
        )?;
        Ok((out, name))
    })
    .await?;
    let body = export_done(
        &who,
        &case_id,
        &name,
        &out.file.sha256,
        out.file.size_bytes,
        &format!(
            "{} #{} · {}–{}",
            lang.t("player.track"),
            out.track.track_id,
            html::media_time(out.report.start_ms),
            html::media_time(out.report.end_ms)
        ),
    );
    Ok(html::case_page(
        &who,
        &case_id,
        "search",
        lang.t("player.clip"),
        &body,
    ))
}

/// "Add this frame to the report": the frame at the player's position as a PNG in the
/// case's exports (a disclosure the exploitation report lists).
pub async fn add_to_report(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let src = f
        .get("src")
        .ok_or_else(|| PageError::bad("no source given"))?;
    let at_ms: i64 = f.num("at_ms")?.unwrap_or(0).max(0);
    let name = format!("frame-{}-{at_ms}ms-{}.png", sanitize(&src), stamp());
    let name2 = name.clone();
    let why = f.get("reason");
    let out = in_case(&st, &who, &case_id, "add to report", why, move |case, _| {
        Ok(results::frame(
            &case,
            &FrameRequest {
                source: src,
                at: format!("{:.3}", at_ms as f64 / 1000.0),
                output: PathBuf::from(name2),
                // Redacted: every object masked.
                keep: Vec::new(),
                unredacted: None,
            },
        )?)
    })
    .await?;
    let body = export_done(
        &who,
        &case_id,
        &name,
        &out.file.sha256,
        out.file.size_bytes,
        &format!(
            "{} {} · {}",
            lang.t("dash.source"),
            esc(&out.record.source_id),
            out.wall_ms
                .map(html::utc)
                .unwrap_or_else(|| html::media_time(out.pts_ms))
        ),
    );
    Ok(html::case_page(
        &who,
        &case_id,
        "search",
        lang.t("player.add_report"),
        &body,
    ))
}

/// A name part made of safe characters.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect()
}

/// Download an export this interface wrote (clip, frame, synopsis): each download is a
/// disclosure of its own, recorded with the file's hash and who received it. Nothing
/// else of the case is ever served as a file.
pub async fn download(
    CaseVisit { st, who, case_id }: CaseVisit,
    ConnectInfo(peer): ConnectInfo<crate::Peer>,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    vigie_app::view::check_file_name(&name)?;
    let (kind, ctype) = if name.starts_with("clip-") && name.ends_with(".mp4") {
        (ExportKind::Clip, "video/mp4")
    } else if name.starts_with("clip-") && name.ends_with(".mkv") {
        (ExportKind::Clip, "video/x-matroska")
    } else if name.starts_with("frame-") && name.ends_with(".png") {
        (ExportKind::Frame, "image/png")
    } else if name.starts_with("synopsis-") && name.ends_with(".mp4") {
        (ExportKind::Synopsis, "video/mp4")
    } else if name.starts_with("synopsis-") && name.ends_with(".json") {
        (ExportKind::Synopsis, "application/json")
    } else if name.starts_with("synopsis-") && name.ends_with(".vtt") {
        (ExportKind::Synopsis, "text/vtt")
    } else {
        return Err(PageError::not_found());
    };
    let to = format!("web browser of {} at {peer}", who.account.id);
    let name2 = name.clone();
    // Opened inside the case (its lock held), then streamed: a file erased at closure
    // after this point is still read whole through the open handle.
    let (file, len) = in_case(&st, &who, &case_id, "download", None, move |case, _| {
        let (path, hash) = vigie_app::view::deliver_export(&case, &name2, kind, &to)?;
        let file = std::fs::File::open(&path).map_err(PageError::internal)?;
        Ok((file, hash.size_bytes))
    })
    .await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(PageError::internal)?,
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
        ],
        axum::body::Body::from_stream(FileChunks::read(file)),
    )
        .into_response())
}

/// A file sent in chunks of [`FileChunks::CHUNK`] bytes, read on a thread of its own
/// ahead of the client by at most [`FileChunks::AHEAD`] chunks: a download of a
/// multi-gigabyte clip holds a few megabytes of memory, not the file.
struct FileChunks(tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>);

impl FileChunks {
    const CHUNK: usize = 1 << 20;
    const AHEAD: usize = 4;

    fn read(mut file: std::fs::File) -> Self {
        use std::io::Read;
        let (tx, rx) = tokio::sync::mpsc::channel(Self::AHEAD);
        let spawned = std::thread::Builder::new()
            .name("vigie-web-download".into())
            .spawn(move || loop {
                let mut buf = vec![0u8; Self::CHUNK];
                let chunk = match file.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = chunk.is_err();
                // The client went away: stop reading.
                if tx.blocking_send(chunk).is_err() || failed {
                    return;
                }
            });
        if let Err(e) = spawned {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            let _ = tx.try_send(Err(e));
            return Self(rx);
        }
        Self(rx)
    }
}

impl futures_core::Stream for FileChunks {
    type Item = std::io::Result<Vec<u8>>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
