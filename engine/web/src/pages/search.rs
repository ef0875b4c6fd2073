//! Search: every filter of `vigie search`, results as a grid of thumbnails with times.
//!
//! The form's fields are `QueryArgs`' flags by name (the same strings the CLI takes), so
//! `results::parse_query` validates them and names the bad one; the query is parsed
//! before the case is entered (a typo is said as such). Running it is one `search`
//! consultation entry; the page's thumbnails are then read through the
//! [`vigie_app::view::DerivedReader`] that page view handed to the session, without a
//! further entry.

use std::time::Instant;

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use vigie_app::results::{self, SearchRequest};
use vigie_app::types::QueryArgs;

use super::{blocking, in_case, CaseVisit, Fields};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::i18n::Lang;
use crate::security::Authed;

/// The filters, by flag name (`dwell_min` is `--dwell-min`).
pub const FILTERS: [&str; 16] = [
    "class",
    "colour",
    "upper",
    "lower",
    "direction",
    "zone",
    "dwell_min",
    "crosses",
    "from",
    "to",
    "min_size",
    "camera",
    "min_speed",
    "max_speed",
    "plate",
    "plate_fuzzy",
];

const COLOURS: [&str; 11] = [
    "black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
];
const CLASSES: [&str; 8] = [
    "person",
    "car",
    "bicycle",
    "motorcycle",
    "bus",
    "truck",
    "moving_object",
    "vehicle",
];
/// The compass, row by row (the centre is "any").
const COMPASS: [&str; 9] = ["nw", "n", "ne", "w", "", "e", "sw", "s", "se"];

/// The query's flags from a form or an address.
pub fn query_args(f: &Fields) -> QueryArgs {
    QueryArgs {
        class: f.get("class"),
        colour: f.get("colour"),
        upper: f.get("upper"),
        lower: f.get("lower"),
        direction: f.get("direction"),
        zone: f.get("zone"),
        dwell_min: f.get("dwell_min"),
        crosses: f.get("crosses"),
        from: f.get("from"),
        to: f.get("to"),
        min_size: f.get("min_size"),
        camera: f.get("camera"),
        min_speed: f.get("min_speed"),
        max_speed: f.get("max_speed"),
        plate: f.get("plate"),
        plate_fuzzy: f.get("plate_fuzzy"),
        limit: f.get("limit"),
    }
}

fn select(
    id: &str,
    name: &str,
    label: &str,
    options: &[&str],
    value: &str,
    lang: Lang,
    swatches: bool,
) -> String {
    let mut s = format!(
        "<div class=\"field\"><label for=\"{id}\">{}</label><select id=\"{id}\" name=\"{name}\"><option value=\"\">{}</option>",
        esc(label),
        lang.t("search.any")
    );
    for o in options {
        s.push_str(&format!(
            "<option value=\"{o}\"{}{}>{o}</option>",
            if *o == value { " selected" } else { "" },
            if swatches {
                format!(" class=\"sw sw-{o}\"")
            } else {
                String::new()
            }
        ));
    }
    s.push_str("</select>");
    if swatches {
        s.push_str(&format!(
            "<span class=\"swatch sw-{}\" data-swatch-for=\"{id}\"></span>",
            esc(value)
        ));
    }
    s.push_str("</div>");
    s
}

fn form(who: &Authed, case_id: &str, f: &Fields) -> String {
    let lang = who.lang;
    let c = url(case_id);
    let mut s = format!(
        "<form method=\"get\" action=\"/c/{c}/search\" id=\"search-form\" class=\"filters\">\
         <input type=\"hidden\" name=\"run\" value=\"1\">"
    );
    s.push_str(&format!(
        "<div class=\"field\"><label for=\"f-class\">{}</label><input id=\"f-class\" name=\"class\" list=\"classes\" value=\"{}\"><datalist id=\"classes\">{}</datalist></div>",
        lang.t("search.class"),
        esc(&f.str("class")),
        CLASSES.iter().map(|c| format!("<option value=\"{c}\">")).collect::<String>()
    ));
    for (name, key) in [
        ("colour", "search.colour"),
        ("upper", "search.upper"),
        ("lower", "search.lower"),
    ] {
        s.push_str(&select(
            &format!("f-{name}"),
            name,
            lang.t(key),
            &COLOURS,
            &f.str(name),
            lang,
            true,
        ));
    }
    // The compass: nine radio buttons, the centre meaning any direction.
    s.push_str(&format!(
        "<fieldset class=\"compass\" id=\"f-direction\"><legend>{}</legend>",
        lang.t("search.direction")
    ));
    let dir = f.str("direction");
    for d in COMPASS {
        let label = if d.is_empty() {
            "·".to_owned()
        } else {
            d.to_uppercase()
        };
        s.push_str(&format!(
            "<label class=\"dir\"><input type=\"radio\" name=\"direction\" value=\"{d}\" id=\"f-direction-{}\"{}><span>{label}</span></label>",
            if d.is_empty() { "any" } else { d },
            if dir == d { " checked" } else { "" }
        ));
    }
    s.push_str("</fieldset>");
    // Every filter from `zone` on is a text field.
    for name in FILTERS.into_iter().skip_while(|n| *n != "zone") {
        let placeholder = match name {
            "from" | "to" => "placeholder=\"2026-11-30T14:00:00+01:00\"",
            "dwell_min" => "placeholder=\"30s\"",
            "crosses" => "placeholder=\"gate:in\"",
            "min_size" => "placeholder=\"5%\"",
            _ => "",
        };
        s.push_str(&format!(
            "<div class=\"field\">{}</div>",
            html::text_input(
                &format!("f-{}", name.replace('_', "-")),
                name,
                lang.t(&format!("search.{name}")),
                &f.str(name),
                placeholder
            )
        ));
    }
    s.push_str(&format!(
        "<div class=\"field\">{}</div>",
        html::text_input(
            "f-limit",
            "limit",
            lang.t("search.limit"),
            &f.get("limit").unwrap_or_else(|| "100".into()),
            "type=\"number\" min=\"1\""
        )
    ));
    let sort = f.str("sort");
    s.push_str(&format!(
        "<div class=\"field\"><label for=\"f-sort\">{}</label><select id=\"f-sort\" name=\"sort\">",
        lang.t("search.sort")
    ));
    for (v, key) in [
        ("time", "search.sort_time"),
        ("duration", "search.sort_duration"),
        ("camera", "search.sort_camera"),
        ("confidence", "search.sort_confidence"),
    ] {
        s.push_str(&format!(
            "<option value=\"{v}\"{}>{}</option>",
            if sort == v { " selected" } else { "" },
            lang.t(key)
        ));
    }
    s.push_str("</select></div>");
    s.push_str(&format!(
        "<div class=\"field wide\">{}</div>",
        html::text_input(
            "f-reason",
            "reason",
            lang.t("search.reason"),
            &f.str("reason"),
            ""
        )
    ));
    s.push_str(&format!(
        "<button type=\"submit\" id=\"search-submit\">{}</button></form>",
        lang.t("search.submit")
    ));
    s
}

pub async fn page(
    CaseVisit { st, who, case_id }: CaseVisit,
    f: Fields,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let page = |b: &str| html::case_page(&who, &case_id, "search", lang.t("search.title"), b);
    let mut b = form(&who, &case_id, &f);
    b.push_str(&format!(
        "<p><a href=\"/c/{}/camera-synopsis\" id=\"camera-synopsis-link\">{}</a></p>",
        url(&case_id),
        lang.t("csyn.link")
    ));
    if f.get("run").is_none() {
        return Ok(page(&b));
    }
    let args = query_args(&f);
    // Validated before the case is entered: a typo is an error, never an empty result.
    let query = match results::parse_query(&args) {
        Ok(q) => q,
        Err(e) => {
            b.insert_str(
                0,
                &html::notice("error", "search-error", &PageError::from(e).message),
            );
            let mut res = page(&b);
            *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            return Ok(res);
        }
    };
    let why = f.get("reason");
    let (out, reader) = in_case(&st, &who, &case_id, "search", why, move |case, _| {
        let out = results::search(
            &case,
            &SearchRequest {
                query,
                sheet: None,
                output: "web".into(),
                sheet_unredacted: None,
            },
        )?;
        Ok((out, vigie_app::view::DerivedReader::new(&case)))
    })
    .await?;
    if let Some(s) = st.sessions.lock().expect("sessions lock").get_mut(&who.sid) {
        s.grants.insert(case_id.clone(), (reader, Instant::now()));
    }
    let mut hits = out.result.hits;
    match f.str("sort").as_str() {
        "duration" => {
            hits.sort_by_key(|h| std::cmp::Reverse(h.track.last_pts_ms - h.track.first_pts_ms))
        }
        "camera" => hits.sort_by(|a, b| a.track.camera.cmp(&b.track.camera)),
        "confidence" => hits.sort_by(|a, b| b.track.confidence.total_cmp(&a.track.confidence)),
        "time" => hits.sort_by_key(|h| (h.track.first_wall_ms, h.track.first_pts_ms)),
        _ => {}
    }
    let c = url(&case_id);
    b.push_str(&format!(
        "<h2 id=\"result-count\" data-count=\"{n}\">{n} {}</h2>",
        lang.t("search.results"),
        n = hits.len()
    ));
    if out.result.truncated {
        b.push_str(&html::notice(
            "warn",
            "search-truncated",
            lang.t("search.truncated"),
        ));
    }
    for hint in &out.result.hints {
        b.push_str(&html::notice("warn", "search-hint", hint));
    }
    if let Some(cov) = out.coverage.as_ref().filter(|c| !c.is_complete()) {
        for (a, z) in &cov.uncovered {
            b.push_str(&html::notice(
                "warn",
                "search-uncovered",
                &lang
                    .t("search.uncovered")
                    .replace("{from}", &html::utc(*a))
                    .replace("{to}", &html::utc(*z)),
            ));
        }
    }
    for note in &out.clocks {
        b.push_str(&format!(
            "<p class=\"muted\" data-test=\"clock-note\">{}: {}{}</p>",
            esc(&note.source_id),
            esc(note.correction.as_deref().unwrap_or("recorder's clock")),
            note.time_zone
                .as_deref()
                .map(|z| format!(", {}", esc(z)))
                .unwrap_or_default()
        ));
    }
    if hits.is_empty() {
        b.push_str(&html::notice(
            "warn",
            "no-results",
            lang.t("search.no_results"),
        ));
    }
    b.push_str("<div class=\"grid\" id=\"results\">");
    for h in &hits {
        let t = &h.track;
        let thumb = t
            .thumbnail
            .as_deref()
            .and_then(|p| p.strip_prefix("thumbnails/"))
            .map(|name| {
                format!(
                    "<img src=\"/c/{c}/thumb/{}\" loading=\"lazy\" alt=\"\" width=\"160\">",
                    url(name)
                )
            })
            .unwrap_or_else(|| "<div class=\"nothumb\"></div>".into());
        let colours: Vec<String> = t
            .colours
            .iter()
            .filter_map(|cs| serde_json::to_value(cs.colour).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let when = h
            .first_wall
            .clone()
            .unwrap_or_else(|| html::media_time(t.first_pts_ms));
        b.push_str(&format!(
            "<a class=\"hit\" data-test=\"hit\" data-source=\"{src}\" data-track=\"{tid}\" id=\"hit-{src}-{tid}\" \
             href=\"/c/{c}/play?src={srcu}&amp;track={tid}&amp;at_ms={at}\">{thumb}\
             <span class=\"label\">{label} #{tid}</span><span class=\"time\">{when}</span>\
             <span class=\"muted\">{cam} · {dur:.1} s{cols}</span></a>",
            src = esc(&t.source_id),
            srcu = url(&t.source_id),
            tid = t.track_id,
            at = t.first_pts_ms,
            // A bicycle or motorcycle with its rider (vigie_index::render::class_summary).
            label = esc(&if t.ridden {
                format!("{} (ridden)", t.label)
            } else {
                t.label.clone()
            }),
            when = esc(&when),
            cam = esc(&t.camera),
            dur = (t.last_pts_ms - t.first_pts_ms) as f64 / 1000.0,
            cols = if colours.is_empty() {
                String::new()
            } else {
                format!(" · {}", esc(&colours.join(", ")))
            },
        ));
    }
    b.push_str("</div>");
    // A synopsis of these results, one source at a time.
    let mut sources: Vec<&str> = hits.iter().map(|h| h.track.source_id.as_str()).collect();
    sources.sort();
    sources.dedup();
    if !sources.is_empty() {
        b.push_str(&format!(
            "<form method=\"post\" action=\"/c/{c}/synopsis\" id=\"synopsis-form\" class=\"inline-form\">{}",
            html::csrf_field(&who)
        ));
        for name in FILTERS {
            if let Some(v) = f.get(name) {
                b.push_str(&format!(
                    "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                    esc(&v)
                ));
            }
        }
        b.push_str(&format!(
            "<label for=\"synopsis-source\">{}</label><select name=\"source\" id=\"synopsis-source\">{}</select>\
             {}<button type=\"submit\" id=\"synopsis-submit\">{}</button></form>",
            lang.t("search.synopsis"),
            sources
                .iter()
                .map(|s| format!("<option value=\"{0}\">{0}</option>", esc(s)))
                .collect::<String>(),
            super::synopsis::settings_html(lang, &Fields::default(), "synopsis"),
            lang.t("search.synopsis_submit")
        ));
    }
    Ok(page(&b))
}

/// A thumbnail of the last search page of this case in this session.
pub async fn thumb(
    CaseVisit { st, who, case_id }: CaseVisit,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    vigie_app::view::check_file_name(&name)?;
    let reader = st
        .sessions
        .lock()
        .expect("sessions lock")
        .get(&who.sid)
        .and_then(|s| s.grants.get(&case_id))
        .filter(|(_, at)| at.elapsed() < crate::state::GRANT_TTL)
        .map(|(r, _)| r.clone())
        .ok_or_else(|| PageError::forbidden("refused: run a search of this case first"))?;
    let bytes = blocking(move || Ok(reader.thumbnail(&name)?))
        .await
        .map_err(|_| PageError::not_found())?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}
