//! Synopsis: build one from the search page's filters (`results::synopsis`, a combination
//! and a disclosure recorded by the layer), play it through the same server-side renderer
//! as the player, and click an object (in the list, or on the picture) to open the
//! original footage at its time.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Response};
use vigie_app::results::{self, SynopsisRequest};
use vigie_app::view::Player;

use super::{blocking, case_right, enter, reason, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url, Place};
use crate::pages::search::{query_args, FILTERS};
use crate::security::Authed;
use crate::state::WebState;

pub async fn build(
    State(st): State<Arc<WebState>>,
    who: Authed,
    Path(case_id): Path<String>,
    Form(f): Form,
) -> Result<Response, PageError> {
    let case_id = case_right(&st, &who, &case_id).await?;
    let source = f
        .get("source")
        .ok_or_else(|| PageError::bad("choose a source"))?;
    let filters = FILTERS
        .iter()
        .any(|n| f.get(n).is_some())
        .then(|| query_args(&f));
    let name = format!(
        "synopsis-{}-{}.mp4",
        source
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(40)
            .collect::<String>(),
        chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ")
    );
    let why = reason(&st, &who, &case_id, f.get("reason").as_deref());
    let (st2, who2, id2, name2) = (st.clone(), who.clone(), case_id.clone(), name.clone());
    blocking(move || {
        let case = enter(&st2, &who2, &id2, "synopsis", why.as_deref())?;
        results::synopsis(
            &case,
            &SynopsisRequest {
                source,
                output: PathBuf::from(name2),
                length_s: None,
                max_collisions: 0.05,
                keep_order: false,
                filters,
            },
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
    State(st): State<Arc<WebState>>,
    who: Authed,
    Path((case_id, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let case_id = case_right(&st, &who, &case_id).await?;
    vigie_app::view::check_file_name(&name)?;
    if !name.starts_with("synopsis-") {
        return Err(PageError::not_found());
    }
    let lang = who.lang;
    let why = reason(&st, &who, &case_id, None);
    let (st2, who2, id2, name2) = (st.clone(), who.clone(), case_id.clone(), name.clone());
    let (player, view) = blocking(move || {
        let case = enter(&st2, &who2, &id2, "synopsis player", why.as_deref())?;
        Ok(Player::open_synopsis(
            case,
            &name2,
            st2.cfg.player_idle,
            "web: synopsis",
        )?)
    })
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
    let place = Place {
        case_id: &case_id,
        tab: "search",
    };
    Ok(html::page(lang, Some(&who), Some(place), lang.t("synopsis.title"), &b).into_response())
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
