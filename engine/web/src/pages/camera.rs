//! The camera view: a frame of one of the camera's sources, on which the operator draws
//! the camera's named zones (polygons) and directional lines, sees those in force, deletes
//! some, and saves.
//!
//! Why here and this way: zones and lines are what "stood in the doorway" or "went
//! through the gate inwards" mean for a search, and they are drawn best on the picture
//! itself. Saving is an alteration of the case ([`vigie_app::clock::set_camera_scene_text`]:
//! logged with the scene file's hash and text, then re-applied at once to the camera's
//! tracks already analysed, from their stored per-frame boxes, without re-running
//! detection); so it is a form post with the session's CSRF token like every change.
//!
//! The frame is a rendering by the same server-side player as the player page
//! ([`vigie_app::view::Player`]), so opening the view is one consultation entry, the
//! source is re-hashed while it shows, and the frame can be moved in time. The drawing is
//! held by the page's script as JSON (the same shape as
//! [`vigie_app::clock::DrawnScene`]); the server turns it into the scene file (frame
//! fractions) and refuses a bad drawing (a zone of two points, one crossing itself, a
//! name used twice...) with the reason, the page shown again with the drawing kept.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use vigie_app::clock::{self, CameraScene, DrawnScene, SceneSet};
use vigie_app::view::{Player, PlayerRequest};
use vigie_app::EnteredCase;

use super::player::{keep, session_player, verification_html};
use super::{in_case, CaseVisit, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::security::Authed;
use crate::state::WebState;

/// One source of the camera, for the source picker.
struct CameraSource {
    id: String,
    duration_ms: Option<u64>,
    width_px: u32,
    height_px: u32,
}

/// What the page shows besides the frame.
struct View {
    sources: Vec<CameraSource>,
    scene: Option<CameraScene>,
}

/// The camera's sources (refused when it has none: there is nothing to draw on).
fn camera_view(case: &EnteredCase, camera: &str) -> Result<View, PageError> {
    let sources: Vec<CameraSource> = case
        .sources()?
        .into_iter()
        .filter(|r| case.timing(r).camera == camera)
        .map(|r| CameraSource {
            id: r.source_id.clone(),
            duration_ms: r.meta.duration_ms,
            width_px: r.meta.width,
            height_px: r.meta.height,
        })
        .collect();
    if sources.is_empty() {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            format!("no source of this case belongs to camera {camera:?} (see the dashboard)"),
        ));
    }
    Ok(View {
        sources,
        scene: clock::camera_scene(case, camera)?,
    })
}

/// The source to show: the one asked for when it is the camera's, else the first.
fn chosen(view: &View, asked: Option<&str>) -> String {
    asked
        .and_then(|a| view.sources.iter().find(|s| s.id == a))
        .unwrap_or(&view.sources[0])
        .id
        .clone()
}

fn open_player(st: &WebState, case: EnteredCase, source: String) -> Result<Player, PageError> {
    Ok(Player::open(
        case,
        &PlayerRequest {
            source,
            track_id: None,
            idle: st.cfg.player_idle,
            via: "web: camera view".into(),
        },
    )?)
}

/// `GET /c/{case}/camera/{camera}[?src=S&at_ms=N]`.
pub async fn page(
    CaseVisit { st, who, case_id }: CaseVisit,
    Path((_, camera)): Path<(String, String)>,
    q: Fields,
) -> Result<Response, PageError> {
    let camera = clock_name(&camera)?;
    let at_ms: i64 = q.num("at_ms")?.unwrap_or(0).max(0);
    let asked = q.get("src");
    let cam2 = camera.clone();
    let (view, source, player) =
        in_case(&st, &who, &case_id, "camera view", None, move |case, st| {
            let view = camera_view(&case, &cam2)?;
            let source = chosen(&view, asked.as_deref());
            let player = open_player(st, case, source.clone())?;
            Ok((view, source, player))
        })
        .await?;
    let (pid, _) = keep(&st, &who, &case_id, player);
    let scene = view
        .scene
        .as_ref()
        .map(|s| s.scene.clone())
        .unwrap_or_default();
    let body = render(
        &who, &case_id, &camera, &view, &source, &pid, at_ms, &scene, None,
    );
    Ok(page_of(&who, &case_id, &camera, &body))
}

/// `POST /c/{case}/camera/{camera}`: save the drawing (`scene`, JSON), apply it, and show
/// the view again with what it changed (or why it was refused).
pub async fn save(
    CaseVisit { st, who, case_id }: CaseVisit,
    Path((_, camera)): Path<(String, String)>,
    Form(f): Form,
) -> Result<Response, PageError> {
    let camera = clock_name(&camera)?;
    let at_ms: i64 = f.num("at_ms")?.unwrap_or(0).max(0);
    let json = f.get("scene").unwrap_or_else(|| "{}".into());
    // Checked before the case is entered: a bad drawing changes nothing.
    let checked = DrawnScene::from_json(&json)
        .and_then(|d| d.to_toml().map(|t| (d, t)))
        .map_err(|e| e.to_string());
    let (drawn, toml, refusal) = match checked {
        Ok((d, t)) => (Some(d), Some(t), None),
        Err(why) => (None, None, Some(why)),
    };
    let asked = f.get("src");
    // The player this page already has, when it still runs: no second opening.
    let kept = f
        .get("pid")
        .and_then(|pid| session_player(&st, &who, &case_id, &pid).map(|p| (pid, p)))
        .filter(|(_, p)| p.is_alive() && Some(&p.info().source_id) == asked.as_ref());
    let cam2 = camera.clone();
    let kept_source = kept.as_ref().map(|(_, p)| p.info().source_id.clone());
    let label = if toml.is_some() {
        "camera scene"
    } else {
        "camera view"
    };
    let why = f.get("reason");
    let (outcome, view, source, player) =
        in_case(&st, &who, &case_id, label, why, move |case, st| {
            let outcome = match &toml {
                Some(t) => Some(clock::set_camera_scene_text(&case, &cam2, t)?),
                None => None,
            };
            let view = camera_view(&case, &cam2)?;
            let source = chosen(&view, asked.as_deref());
            let player = if kept_source.as_deref() == Some(source.as_str()) {
                None
            } else {
                Some(open_player(st, case, source.clone())?)
            };
            Ok((outcome, view, source, player))
        })
        .await?;
    let pid = match (kept, player) {
        (_, Some(p)) => keep(&st, &who, &case_id, p).0,
        (Some((pid, _)), None) => pid,
        (None, None) => return Err(PageError::internal("no player for the camera view")),
    };
    let (scene, notice, status) = match (outcome, refusal) {
        (Some(set), _) => {
            let scene = view
                .scene
                .as_ref()
                .map(|s| s.scene.clone())
                .unwrap_or_default();
            (
                scene,
                Some(saved_html(&who, &case_id, &set, &drawn)),
                StatusCode::OK,
            )
        }
        (None, why) => {
            let why = why.unwrap_or_else(|| "the drawing was refused".into());
            // The drawing comes back as it was sent (when it can be read), to be mended.
            let scene = DrawnScene::from_json(&json).unwrap_or_default();
            (
                scene,
                Some(html::notice(
                    "error",
                    "zone-error",
                    &format!("{}: {why}", who.lang.t("camera.refused")),
                )),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let body = render(
        &who,
        &case_id,
        &camera,
        &view,
        &source,
        &pid,
        at_ms,
        &scene,
        notice.as_deref(),
    );
    let mut res = page_of(&who, &case_id, &camera, &body);
    *res.status_mut() = status;
    Ok(res)
}

/// A camera name from the address, checked as the layer checks it.
fn clock_name(camera: &str) -> Result<String, PageError> {
    Ok(vigie_app::evidence::check_camera_name(camera)?)
}

fn page_of(who: &Authed, case_id: &str, camera: &str, body: &str) -> Response {
    let title = format!("{} {}", who.lang.t("camera.title"), camera);
    html::case_page(who, case_id, "dashboard", &title, body)
}

/// A search of this case by one zone or line of the camera.
fn search_href(case_id: &str, camera: &str, flag: &str, value: &str) -> String {
    format!(
        "/c/{}/search?run=1&amp;{flag}={}&amp;camera={}",
        url(case_id),
        url(value),
        url(camera)
    )
}

/// What a save changed, with a search for each shape saved.
fn saved_html(who: &Authed, case_id: &str, set: &SceneSet, drawn: &Option<DrawnScene>) -> String {
    let lang = who.lang;
    let text = lang
        .t("camera.saved")
        .replace("{tracks}", &set.tracks.to_string())
        .replace("{sources}", &set.sources.len().to_string())
        .replace("{in}", &set.tracks_in_zones_or_lines.to_string());
    let mut links = String::new();
    if let Some(d) = drawn {
        for z in &d.zones {
            links.push_str(&format!(
                " <a data-test=\"search-shape\" data-zone=\"{n}\" href=\"{}\">{} {n}</a>",
                search_href(case_id, &set.camera, "zone", &z.name),
                lang.t("camera.search_zone"),
                n = esc(&z.name)
            ));
        }
        for l in &d.lines {
            links.push_str(&format!(
                " <a data-test=\"search-shape\" data-line=\"{n}\" href=\"{}\">{} {n}</a>",
                search_href(case_id, &set.camera, "crosses", &l.name),
                lang.t("camera.search_line"),
                n = esc(&l.name)
            ));
        }
    }
    format!(
        "<div class=\"notice ok\" id=\"zone-saved\" data-tracks=\"{}\" data-sources=\"{}\" \
         data-in-zones=\"{}\" data-scene-sha256=\"{}\"><p>{}</p><p class=\"muted\">SHA-256 <code>{}</code></p><p>{links}</p></div>",
        set.tracks,
        set.sources.len(),
        set.tracks_in_zones_or_lines,
        esc(&set.scene_sha256),
        esc(&text),
        esc(&set.scene_sha256),
    )
}

/// The list of zones and lines in force (the script keeps it in step with the drawing).
fn shapes_html(who: &Authed, case_id: &str, camera: &str, scene: &DrawnScene) -> String {
    let lang = who.lang;
    let mut s = String::new();
    for z in &scene.zones {
        s.push_str(&format!(
            "<li data-test=\"scene-item\" data-kind=\"zone\" data-name=\"{n}\"><b>{n}</b> · {} · {} {} \
             <a href=\"{}\">{}</a> <button type=\"button\" data-test=\"scene-delete\" data-kind=\"zone\" data-name=\"{n}\">{}</button></li>",
            lang.t("camera.zone"),
            z.polygon.len(),
            lang.t("camera.points"),
            search_href(case_id, camera, "zone", &z.name),
            lang.t("camera.search_zone"),
            lang.t("camera.delete"),
            n = esc(&z.name),
        ));
    }
    for l in &scene.lines {
        s.push_str(&format!(
            "<li data-test=\"scene-item\" data-kind=\"line\" data-name=\"{n}\"><b>{n}</b> · {} \
             <a href=\"{}\">{}</a> <button type=\"button\" data-test=\"scene-delete\" data-kind=\"line\" data-name=\"{n}\">{}</button></li>",
            lang.t("camera.line"),
            search_href(case_id, camera, "crosses", &l.name),
            lang.t("camera.search_line"),
            lang.t("camera.delete"),
            n = esc(&l.name),
        ));
    }
    s
}

#[allow(clippy::too_many_arguments)]
fn render(
    who: &Authed,
    case_id: &str,
    camera: &str,
    view: &View,
    source: &str,
    pid: &str,
    at_ms: i64,
    scene: &DrawnScene,
    notice: Option<&str>,
) -> String {
    let lang = who.lang;
    let c = url(case_id);
    let cam = url(camera);
    let shown = view
        .sources
        .iter()
        .find(|s| s.id == source)
        .unwrap_or(&view.sources[0]);
    let scene_json = serde_json::to_string(scene).unwrap_or_else(|_| "{}".into());
    let mut b = String::new();
    if let Some(n) = notice {
        b.push_str(n);
    }
    b.push_str(&format!(
        "<p class=\"muted\">{}</p>",
        lang.t("camera.intro")
    ));
    // Which source's frame: a plain GET form.
    b.push_str(&format!(
        "<form method=\"get\" action=\"/c/{c}/camera/{cam}\" id=\"camera-source-form\" class=\"inline-form\">\
         <label for=\"camera-source\">{}</label><select id=\"camera-source\" name=\"src\">{}</select>\
         <button type=\"submit\" id=\"camera-source-show\">{}</button></form>",
        lang.t("camera.source"),
        view.sources
            .iter()
            .map(|s| format!(
                "<option value=\"{0}\"{1}>{0} ({2}×{3})</option>",
                esc(&s.id),
                if s.id == shown.id { " selected" } else { "" },
                s.width_px,
                s.height_px
            ))
            .collect::<String>(),
        lang.t("camera.show"),
    ));
    b.push_str(&verification_html(lang, case_id, pid, true));
    b.push_str(&format!(
        "<div class=\"camera-view\" id=\"camera-view\" data-frame-url=\"/c/{c}/play/{pid}/frame\" data-at-ms=\"{at_ms}\" \
         data-t-zone=\"{tz}\" data-t-line=\"{tl}\" data-t-points=\"{tp}\" data-t-delete=\"{td}\" \
         data-t-need-name=\"{tnn}\" data-t-need-points=\"{tnp}\" data-t-name-taken=\"{tnt}\" data-t-unsaved=\"{tu}\" \
         data-t-line-hint=\"{tlh}\" data-t-zone-hint=\"{tzh}\">\
         <img id=\"camera-frame\" alt=\"\" width=\"{w}\"><canvas id=\"zone-canvas\" data-test=\"zone-canvas\"></canvas></div>\
         <div class=\"inline-form\"><label for=\"camera-seek\">{time}</label>\
         <input type=\"range\" id=\"camera-seek\" min=\"0\" max=\"{dur}\" step=\"500\" value=\"{at_ms}\">\
         <span id=\"camera-time\"></span></div>",
        tz = esc(lang.t("camera.zone")),
        tl = esc(lang.t("camera.line")),
        tp = esc(lang.t("camera.points")),
        td = esc(lang.t("camera.delete")),
        tnn = esc(lang.t("camera.need_name")),
        tnp = esc(lang.t("camera.need_points")),
        tnt = esc(lang.t("camera.name_taken")),
        tu = esc(lang.t("camera.unsaved")),
        tlh = esc(lang.t("camera.line_hint")),
        tzh = esc(lang.t("camera.zone_hint")),
        w = shown.width_px.min(vigie_app::view::PLAYER_MAX_WIDTH_PX),
        dur = shown.duration_ms.unwrap_or(0),
        time = lang.t("player.time"),
    ));
    // The drawing tools.
    b.push_str(&format!(
        "<fieldset class=\"draw-tools\" id=\"draw-tools\"><legend>{}</legend>\
         <label><input type=\"radio\" name=\"mode\" id=\"mode-zone\" value=\"zone\" checked> {}</label>\
         <label><input type=\"radio\" name=\"mode\" id=\"mode-line\" value=\"line\"> {}</label>\
         <div class=\"inline-form\" id=\"zone-tools\">{}<button type=\"button\" id=\"zone-close\">{}</button></div>\
         <div class=\"inline-form\" id=\"line-tools\">{}</div>\
         <button type=\"button\" id=\"draw-cancel\">{}</button>\
         <p class=\"muted\" id=\"draw-hint\" aria-live=\"polite\">{}</p><p class=\"notice error\" id=\"draw-error\" hidden></p>\
         <p class=\"muted\">{}</p></fieldset>",
        lang.t("camera.draw"),
        lang.t("camera.mode_zone"),
        lang.t("camera.mode_line"),
        html::text_input("zone-name", "", lang.t("camera.zone_name"), "", "maxlength=\"64\" autocomplete=\"off\""),
        lang.t("camera.close"),
        html::text_input("line-name", "", lang.t("camera.line_name"), "", "maxlength=\"64\" autocomplete=\"off\""),
        lang.t("camera.cancel"),
        lang.t("camera.zone_hint"),
        lang.t("camera.direction"),
    ));
    b.push_str(&format!(
        "<h2>{}</h2><p id=\"scene-none\"{}>{}</p><ul id=\"scene-list\">{}</ul>",
        lang.t("camera.shapes"),
        if scene.zones.is_empty() && scene.lines.is_empty() {
            ""
        } else {
            " hidden"
        },
        lang.t("camera.none"),
        shapes_html(who, case_id, camera, scene),
    ));
    b.push_str(&format!(
        "<form method=\"post\" action=\"/c/{c}/camera/{cam}\" id=\"zone-form\" class=\"inline-form\">{}\
         <input type=\"hidden\" name=\"scene\" id=\"scene-json\" value=\"{}\">\
         <input type=\"hidden\" name=\"pid\" value=\"{}\"><input type=\"hidden\" name=\"src\" value=\"{}\">\
         <input type=\"hidden\" name=\"at_ms\" id=\"zone-at-ms\" value=\"{at_ms}\">{}\
         <button type=\"submit\" id=\"zone-save\">{}</button><span class=\"muted\" id=\"zone-dirty\" hidden>{}</span></form>",
        html::csrf_field(who),
        esc(&scene_json),
        esc(pid),
        esc(&shown.id),
        html::text_input("zone-reason", "reason", lang.t("common.reason"), "", ""),
        lang.t("camera.save"),
        lang.t("camera.unsaved"),
    ));
    b
}
