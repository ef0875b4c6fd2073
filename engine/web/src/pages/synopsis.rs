//! Synopsis: build one from the search page's filters (`results::synopsis`, a combination
//! and a disclosure recorded by the layer), play it through the same server-side renderer
//! as the player, and click an object (in the list, or on the picture) to open the
//! original footage at its time.
//!
//! A camera's synopsis (every analysed file of one camera, ordered by its corrected clock,
//! cut to an optional range) is the same call as `vigie synopsis --camera`
//! (`results::camera_synopsis_with`): the case is entered as the signed-in account, so the
//! case wall, the authorisation and the audit entries (one combination per file used, one
//! disclosure naming every file with its hash) are the layer's, as for the CLI. Its page
//! shows the figures the CLI prints, the files on the timeline and those left out; a
//! refusal (unknown camera, empty range, a file never analysed) is shown on the form,
//! which keeps what was typed.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use vigie_app::clock::{self, CameraRow};
use vigie_app::results::{
    self, CameraSynopsisOutcome, CameraSynopsisRequest, SynopsisOptions, SynopsisRequest,
};
use vigie_app::types::Figures;
use vigie_app::types::QueryArgs;
use vigie_app::view::Player;
use vigie_app::AppError;

use super::{case_right, in_case, CaseVisit, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::i18n::Lang;
use crate::pages::search::{query_args, FILTERS};
use crate::security::Authed;
use crate::state::WebState;

pub async fn build(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let source = f
        .get("source")
        .ok_or_else(|| PageError::bad("choose a source"))?;
    let filters = FILTERS
        .iter()
        .any(|n| f.get(n).is_some())
        .then(|| query_args(&f));
    let (max_collisions, opts) = settings_of(&f)?;
    let name = output_name("synopsis", &source);
    let name2 = name.clone();
    let why = f.get("reason");
    in_case(&st, &who, &case_id, "synopsis", why, move |case, _| {
        results::synopsis_with(
            &case,
            &SynopsisRequest {
                source,
                output: PathBuf::from(name2),
                length_s: None,
                max_collisions,
                keep_order: false,
                filters,
            },
            &opts,
        )?;
        Ok(())
    })
    .await?;
    Ok(crate::see_other(&format!(
        "/c/{}/synopsis/{}",
        url(&case_id),
        url(&name)
    )))
}

pub async fn show(
    CaseVisit { st, who, case_id }: CaseVisit,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    vigie_app::view::check_file_name(&name)?;
    if !name.starts_with("synopsis-") {
        return Err(PageError::not_found());
    }
    let lang = who.lang;
    let name2 = name.clone();
    let (player, view) = in_case(
        &st,
        &who,
        &case_id,
        "synopsis player",
        None,
        move |case, st| {
            Ok(Player::open_synopsis(
                case,
                &name2,
                st.cfg.player_idle,
                "web: synopsis",
            )?)
        },
    )
    .await?;
    let view = Arc::new(view);
    let (pid, player) = super::player::keep(&st, &who, &case_id, player);
    if let Some(slot) = st.players.lock().expect("players lock").get_mut(&pid) {
        slot.synopsis = Some(view.clone());
    }
    let c = url(&case_id);
    let mut b = String::new();
    b.push_str(&format!(
        "<p class=\"meta\">{} <b>{}</b> · <a href=\"/c/{c}/exports/{}\" id=\"download-synopsis\" download>{}</a></p>",
        lang.t("dash.source"),
        esc(&view.source_id),
        url(&name),
        lang.t("export.download")
    ));
    let player_html = super::player::player_html(lang, &case_id, &pid, player.info(), 0).replacen(
        "<div class=\"player\" id=\"player\"",
        &format!(
            "<div class=\"player\" id=\"player\" data-pick-url=\"/c/{c}/synopsis/{}/pick?pid={pid}\"",
            url(&name)
        ),
        1,
    );
    b.push_str(&player_html);
    if let Some(f) = &view.figures {
        b.push_str(&figures_html(lang, f));
    }
    b.push_str(&format!(
        "<h2>{}</h2><ul id=\"synopsis-objects\">",
        lang.t("synopsis.objects")
    ));
    for o in &view.objects {
        b.push_str(&format!(
            "<li><a href=\"/c/{c}/play?src={src}&amp;track={tid}&amp;at_ms={at}\" data-test=\"synopsis-object\" \
             data-track=\"{tid}\" data-start-ms=\"{s}\" data-end-ms=\"{e}\" id=\"synopsis-object-{tid}\">{label} #{tid}</a> \
             <span class=\"muted\">{when} · {sf}–{se}</span></li>",
            src = url(&o.source_id),
            tid = o.track_id,
            at = o.first_pts_ms,
            s = o.synopsis_start_ms,
            e = o.synopsis_end_ms,
            label = esc(&o.label),
            when = esc(
                &o.first_wall
                    .clone()
                    .unwrap_or_else(|| html::media_time(o.first_pts_ms))
            ),
            sf = html::media_time(o.synopsis_start_ms),
            se = html::media_time(o.synopsis_end_ms),
        ));
    }
    b.push_str("</ul>");
    Ok(html::case_page(
        &who,
        &case_id,
        "search",
        lang.t("synopsis.title"),
        &b,
    ))
}

/// The object under a click on the synopsis (`t` synopsis ms, `x`/`y` frame fractions):
/// where to open the player on the original.
pub async fn pick(
    State(st): State<Arc<WebState>>,
    who: Authed,
    Path((case_id, _name)): Path<(String, String)>,
    q: Fields,
) -> Result<Response, PageError> {
    let case_id = case_right(&st, &who, &case_id)
        .await
        .map_err(PageError::json)?;
    let pid = q.str("pid");
    let t: i64 = q.num("t").map_err(PageError::json)?.unwrap_or(0);
    let x: f64 = q.num("x").map_err(PageError::json)?.unwrap_or(0.5);
    let y: f64 = q.num("y").map_err(PageError::json)?.unwrap_or(0.5);
    let view = st
        .players
        .lock()
        .expect("players lock")
        .get(&pid)
        .filter(|p| p.session == who.sid && p.case_id == case_id)
        .and_then(|p| p.synopsis.clone())
        .ok_or_else(|| {
            PageError::new(axum::http::StatusCode::GONE, "this synopsis player ended").json()
        })?;
    Ok(match view.pick(t, x, y) {
        Some((o, at)) => Json(serde_json::json!({
            "track_id": o.track_id,
            "source_id": o.source_id,
            "at_ms": at,
            "url": format!("/c/{}/play?src={}&track={}&at_ms={at}", url(&case_id), url(&o.source_id), o.track_id),
        }))
        .into_response(),
        None => Json(serde_json::json!({ "track_id": null })).into_response(),
    })
}

/// The operator's settings of a synopsis form (`settings_html`): the collision budget
/// (a share, from a percentage; default [`MAX_COLLISIONS`]), the longest length, the
/// density, how long objects must be together to be shown together (0: never) and how
/// many times faster than they moved objects are shown (1: their own pace). Empty fields keep the defaults; the layer validates the values (its refusal
/// names the setting and the range).
fn settings_of(f: &Fields) -> Result<(f64, SynopsisOptions), PageError> {
    let pct: Option<f64> = f.num("max_collisions_pct")?;
    let max_collisions = match pct {
        None => MAX_COLLISIONS,
        Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => p / 100.0,
        Some(p) => {
            return Err(PageError::bad(format!(
                "invalid collision budget {p} %: give a percentage from 0 to 100 (default 5)"
            )))
        }
    };
    let max_objects: Option<usize> = f.num("max_objects")?;
    // A speed is a whole number of times; the layer checks the range.
    let object_speed = match f.num::<f64>("object_speed")? {
        None => None,
        Some(v)
            if v.is_finite() && v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) =>
        {
            Some(v as u32)
        }
        Some(v) => {
            return Err(PageError::bad(format!(
            "invalid object speed {v}: give a whole number of times, from 1 (their own pace) to {}",
            vigie_app::types::MAX_OBJECT_SPEED
        )))
        }
    };
    Ok((
        max_collisions,
        SynopsisOptions {
            max_length_s: f.num("max_length_s")?,
            max_objects,
            together_s: f.num("together_s")?,
            object_speed,
            ..SynopsisOptions::default()
        },
    ))
}

/// The settings of a synopsis form, folded (`prefix`: the form's id prefix); `f` keeps
/// what was typed when a refusal shows the form again.
pub(crate) fn settings_html(lang: Lang, f: &Fields, prefix: &str) -> String {
    let mut b = format!(
        "<details class=\"synopsis-settings\" id=\"{prefix}-settings\"><summary>{}</summary>",
        lang.t("syn.settings")
    );
    for (name, key, extra) in [
        ("max_length_s", "syn.max_length_s", "inputmode=\"decimal\""),
        ("max_objects", "syn.max_objects", "inputmode=\"numeric\""),
        (
            "max_collisions_pct",
            "syn.max_collisions_pct",
            "inputmode=\"decimal\" placeholder=\"5\"",
        ),
        (
            "together_s",
            "syn.together_s",
            "inputmode=\"decimal\" placeholder=\"1.5\"",
        ),
        (
            "object_speed",
            "syn.object_speed",
            "inputmode=\"numeric\" placeholder=\"1\"",
        ),
    ] {
        b.push_str(&format!(
            "<div class=\"field\">{}</div>",
            html::text_input(
                &format!("{prefix}-{}", name.replace('_', "-")),
                name,
                lang.t(key),
                &f.str(name),
                extra
            )
        ));
    }
    b.push_str("</details>");
    b
}

/// `PREFIX-PART-STAMP.mp4`: the synopsis file a build writes, `PART` (a source id or a
/// camera name) cut to 40 letters and digits.
fn output_name(prefix: &str, part: &str) -> String {
    let part: String = part
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    format!("{prefix}-{part}-{}.mp4", super::stamp())
}

/// The page a camera synopsis is recorded under (`web: camera synopsis`).
const CAMERA_PAGE: &str = "camera synopsis";

/// The collision budget of synopses made from the desk (the CLI's default).
const MAX_COLLISIONS: f64 = 0.05;

/// The camera synopsis form: the case's cameras (each with its number of files), an
/// optional range on the corrected clock, the reason.
fn camera_form_html(
    lang: Lang,
    who: &Authed,
    case_id: &str,
    cameras: &[CameraRow],
    f: &Fields,
) -> String {
    let c = url(case_id);
    let mut b = format!(
        "<p class=\"muted\">{}</p><form method=\"post\" action=\"/c/{c}/camera-synopsis\" id=\"camera-synopsis-form\" class=\"card\">{}",
        lang.t("csyn.intro"),
        html::csrf_field(who)
    );
    if cameras.is_empty() {
        b.push_str(&html::notice(
            "warn",
            "camera-synopsis-no-camera",
            lang.t("csyn.none"),
        ));
    }
    let chosen = f.str("camera");
    b.push_str(&format!(
        "<div class=\"field\"><label for=\"cs-camera\">{}</label><select id=\"cs-camera\" name=\"camera\">",
        lang.t("csyn.camera")
    ));
    for row in cameras {
        b.push_str(&format!(
            "<option value=\"{v}\" data-sources=\"{n}\"{sel}>{v} ({n} {files})</option>",
            v = esc(&row.camera),
            n = row.sources.len(),
            sel = if row.camera == chosen {
                " selected"
            } else {
                ""
            },
            files = lang.t("csyn.files"),
        ));
    }
    b.push_str("</select></div>");
    for (name, key) in [("from", "csyn.from"), ("to", "csyn.to")] {
        b.push_str(&format!(
            "<div class=\"field\">{}</div>",
            html::text_input(
                &format!("cs-{name}"),
                name,
                lang.t(key),
                &f.str(name),
                "placeholder=\"2026-11-30T14:00:00+01:00\""
            )
        ));
    }
    b.push_str(&settings_html(lang, f, "cs"));
    b.push_str(&format!(
        "<div class=\"field wide\">{}</div><button type=\"submit\" id=\"cs-submit\">{}</button></form>",
        html::text_input("cs-reason", "reason", lang.t("common.reason"), &f.str("reason"), ""),
        lang.t("csyn.submit")
    ));
    b
}

/// What a camera synopsis gave: the links, the files on its timeline and those left out,
/// and the figures the CLI prints for every synopsis.
fn camera_result_html(
    lang: Lang,
    case_id: &str,
    name: &str,
    out: &CameraSynopsisOutcome,
) -> String {
    let c = url(case_id);
    let f = &out.figures;
    let mut b = format!(
        "<section class=\"card\" id=\"camera-synopsis-result\" data-camera=\"{cam}\" data-sources=\"{n}\">\
         <h2>{done}</h2><p class=\"meta\">{camera} <b>{cam}</b> · <a href=\"/c/{c}/synopsis/{u}\" id=\"view-synopsis\">{view}</a> · \
         <a href=\"/c/{c}/exports/{u}\" id=\"download-synopsis\" download>{download}</a> · <span class=\"muted\">sha256 <code id=\"synopsis-sha256\">{sha}</code></span></p>",
        done = lang.t("csyn.done"),
        camera = lang.t("csyn.camera"),
        cam = esc(&out.camera),
        n = out.sources.len(),
        u = url(name),
        view = lang.t("csyn.view"),
        download = lang.t("export.download"),
        sha = esc(out.files.first().map(|h| h.sha256.as_str()).unwrap_or_default()),
    );
    b.push_str("<ul id=\"synopsis-sources\">");
    for s in &out.sources {
        b.push_str(&format!(
            "<li data-test=\"synopsis-source\" data-source=\"{id}\">{id} · {from} – {to} ({a:.1}–{z:.1} s, {k} {objects}){corr}</li>",
            id = esc(&s.source_id),
            from = esc(s.from_wall.as_deref().unwrap_or("?")),
            to = esc(s.to_wall.as_deref().unwrap_or("?")),
            a = s.from_ms as f64 / 1000.0,
            z = s.to_ms as f64 / 1000.0,
            k = s.tracks.len(),
            objects = lang.t("csyn.objects"),
            corr = s
                .correction
                .as_deref()
                .map(|c| format!(" · {}", esc(c)))
                .unwrap_or_default(),
        ));
    }
    b.push_str("</ul>");
    for l in &out.left_out {
        b.push_str(&format!(
            "<p class=\"notice warn\" data-test=\"synopsis-left-out\" data-source=\"{id}\">{} {id}: {}</p>",
            lang.t("csyn.left_out"),
            esc(&l.why),
            id = esc(&l.source_id),
        ));
    }
    b.push_str(&figures_html(lang, f));
    b.push_str("</section>");
    b
}

/// The figures `vigie synopsis` prints, each with its raw value for scripts and tests.
fn figures_html(lang: Lang, f: &Figures) -> String {
    let row = |key: &str, test: &str, raw: String, shown: String| {
        format!(
            "<dt>{}</dt><dd data-figure=\"{test}\" data-value=\"{}\">{}</dd>",
            lang.t(key),
            esc(&raw),
            esc(&shown)
        )
    };
    let mut b = String::from("<dl id=\"synopsis-figures\" class=\"figures\">");
    b.push_str(&row(
        "fig.footage",
        "footage",
        format!("{}", f.source_duration_ms),
        format!(
            "{} × {:.1} s → {:.1} s",
            f.sources,
            f.source_duration_ms as f64 / 1000.0,
            f.synopsis_duration_ms as f64 / 1000.0
        ),
    ));
    b.push_str(&row(
        "fig.condensation",
        "condensation",
        format!("{}", f.condensation),
        format!("{:.1}×", f.condensation),
    ));
    b.push_str(&row(
        "fig.object_speed",
        "object-speed",
        format!("{}", f.object_speed),
        format!("×{}", f.object_speed),
    ));
    b.push_str(&row(
        "fig.collisions",
        "collisions",
        format!("{}", f.collision_rate),
        format!(
            "{:.1} % ({} {:.1} %; {} {:.1} %)",
            f.collision_rate * 100.0,
            lang.t(if f.collision_within_budget {
                "fig.within"
            } else {
                "fig.over"
            }),
            f.max_collision * 100.0,
            lang.t("fig.planned"),
            f.box_collision * 100.0
        ),
    ));
    b.push_str(&row(
        "fig.footage_overlap",
        "footage-overlap",
        format!("{}", f.footage_overlap_rate),
        format!(
            "{:.1} % ({} {})",
            f.footage_overlap_rate * 100.0,
            f.groups,
            lang.t("fig.groups")
        ),
    ));
    b.push_str(&row(
        "fig.objects",
        "objects",
        format!("{}/{}", f.objects_shown, f.objects_selected),
        format!("{} / {}", f.objects_shown, f.objects_selected),
    ));
    b.push_str(&row(
        "fig.at_once",
        "at_once",
        format!("{}", f.max_objects_at_once),
        match f.max_objects {
            Some(m) => format!("{} ({} {m})", f.max_objects_at_once, lang.t("fig.at_most")),
            None => format!("{}", f.max_objects_at_once),
        },
    ));
    b.push_str(&row(
        "fig.segments",
        "segments",
        format!("{}", f.segments_cut),
        format!(
            "{} ({} → {})",
            f.segments_shown, f.objects_cut, f.segments_cut
        ),
    ));
    b.push_str(&row(
        "fig.stationary",
        "stationary",
        format!("{}", f.stationary_stretches),
        format!("{} ({})", f.stationary_stretches, f.objects_stationary_only),
    ));
    b.push_str(&row(
        "fig.redacted",
        "redacted",
        format!("{}", f.objects_redacted),
        format!("{}", f.objects_redacted),
    ));
    b.push_str("</dl>");
    b
}

/// The case's cameras, for the form (a consultation of the sources' list, recorded).
fn cameras_of(case: &vigie_app::EnteredCase) -> Result<Vec<CameraRow>, PageError> {
    Ok(clock::cameras(case)?
        .into_iter()
        .filter(|r| !r.sources.is_empty())
        .collect())
}

pub async fn camera_form(
    CaseVisit { st, who, case_id }: CaseVisit,
    f: Fields,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let cameras = in_case(&st, &who, &case_id, CAMERA_PAGE, None, |case, _| {
        cameras_of(&case)
    })
    .await?;
    let b = camera_form_html(lang, &who, &case_id, &cameras, &f);
    Ok(html::case_page(
        &who,
        &case_id,
        "search",
        lang.t("csyn.title"),
        &b,
    ))
}

pub async fn camera_build(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let camera = f.get("camera");
    let name = output_name("synopsis-camera", camera.as_deref().unwrap_or_default());
    let filters = QueryArgs {
        camera: camera.clone(),
        from: f.get("from"),
        to: f.get("to"),
        ..QueryArgs::default()
    };
    let name2 = name.clone();
    let why = f.get("reason");
    let settings = settings_of(&f);
    let (outcome, cameras) = in_case(&st, &who, &case_id, CAMERA_PAGE, why, move |case, _| {
        let outcome = match (camera, settings) {
            (None, _) => Err(AppError::BadInput("choose a camera".into())),
            (_, Err(e)) => Err(AppError::BadInput(e.message)),
            (Some(_), Ok((max_collisions, opts))) => results::camera_synopsis_with(
                &case,
                &CameraSynopsisRequest {
                    filters,
                    output: PathBuf::from(name2),
                    length_s: None,
                    max_collisions,
                    keep_order: false,
                },
                &opts,
            ),
        };
        // The form again, with the cameras, when the synopsis was refused.
        let cameras = match &outcome {
            Ok(_) => Vec::new(),
            Err(_) => cameras_of(&case)?,
        };
        Ok((outcome, cameras))
    })
    .await?;
    let page = |b: &str| html::case_page(&who, &case_id, "search", lang.t("csyn.title"), b);
    match outcome {
        Ok(out) => {
            let b = camera_result_html(lang, &case_id, &name, &out);
            Ok(page(&b))
        }
        Err(e) => {
            let e = PageError::from(e);
            // Refusals a person can act on stay on the form; the others are the usual
            // error page.
            if e.status != StatusCode::BAD_REQUEST {
                return Err(e);
            }
            let mut b = html::notice(
                "error",
                "camera-synopsis-error",
                &format!("{}: {}", lang.t("csyn.refused"), e.message),
            );
            b.push_str(&camera_form_html(lang, &who, &case_id, &cameras, &f));
            let mut res = page(&b);
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}
