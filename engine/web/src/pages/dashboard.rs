//! The case dashboard: its sources (hash, duration, camera, analysis), coverage per
//! camera, alerts, and whether its audit log verifies. One page view is one consultation
//! (`sources_listed`); coverage is computed from the same reading, without a second entry.

use axum::response::Response;
use vigie_app::coverage::{compute_from, format_duration_ms, timeline_svg, CoverageRequest};
use vigie_app::oversight::{verify, Scope};

use super::{blocking, in_case, CaseVisit, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};

pub async fn show(CaseVisit { st, who, case_id }: CaseVisit) -> Result<Response, PageError> {
    let lang = who.lang;
    let (who2, id2) = (who.clone(), case_id.clone());
    let view = in_case(&st, &who, &case_id, "dashboard", None, move |case, st2| {
        let sources = vigie_app::evidence::list_sources(&case)?;
        let index_sources = if case.layout().index_path().exists() {
            case.index()?.sources().map_err(vigie_app::AppError::from)?
        } else {
            Vec::new()
        };
        let timed: Vec<_> = sources
            .iter()
            .map(|r| (r.clone(), case.timing(r)))
            .collect();
        let cov = compute_from(&timed, &index_sources, &CoverageRequest::default());
        let analysed: std::collections::HashMap<String, u64> = index_sources
            .iter()
            .map(|i| (i.record.source_id.clone(), i.track_count))
            .collect();
        let meta = case.meta().clone();
        let purpose = case.reason().map(str::to_owned);
        drop(case);
        let alerts = vigie_app::view::alerts(&st2.app, Some(&id2))?;
        let op = who2.operator()?;
        let audit = verify(&st2.app, Some(&op), &Scope::Case(id2.clone()), None)?;
        let accounts = if who2.account.admin {
            st2.accounts.list()?
        } else {
            Vec::new()
        };
        Ok((timed, cov, analysed, meta, purpose, alerts, audit, accounts))
    })
    .await?;
    let (timed, cov, analysed, meta, purpose, alerts, audit, accounts) = view;
    let c = url(&case_id);
    let mut b = String::new();
    b.push_str(&format!(
        "<p class=\"meta\" id=\"case-meta\">{} <b>{}</b> · {} {} · {} {}</p>",
        lang.t("cases.procedure"),
        esc(&meta.procedure),
        lang.t("open.magistrate"),
        esc(&meta.magistrate),
        lang.t("cases.valid_until"),
        meta.retention_end()
    ));
    // The purpose of this session.
    b.push_str(&format!(
        "<form method=\"post\" action=\"/c/{c}/purpose\" id=\"purpose-form\" class=\"inline-form\">{}{}<button type=\"submit\" id=\"purpose-submit\">{}</button></form>",
        html::csrf_field(&who),
        html::text_input("purpose", "purpose", lang.t("dash.purpose"), purpose.as_deref().unwrap_or(&meta.purpose), "required"),
        lang.t("dash.purpose_save")
    ));
    // Audit verification.
    b.push_str(&format!("<h2>{}</h2>", lang.t("dash.audit")));
    b.push_str(&super::audit::status_html(lang, &audit));
    // Sources.
    b.push_str(&format!("<h2>{}</h2>", lang.t("dash.sources")));
    if timed.is_empty() {
        b.push_str(&html::notice(
            "warn",
            "no-sources",
            lang.t("dash.no_sources"),
        ));
    } else {
        b.push_str(&format!(
            "<table id=\"sources\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
            lang.t("dash.source"),
            lang.t("dash.camera"),
            lang.t("dash.duration"),
            lang.t("dash.sha256"),
            lang.t("dash.analysis")
        ));
        for (n, (rec, t)) in timed.iter().enumerate() {
            let analysis = match analysed.get(&rec.source_id) {
                Some(n) => format!(
                    "{} ({n} {})",
                    lang.t("dash.analysed"),
                    lang.t("dash.tracks")
                ),
                None => lang.t("dash.not_analysed").to_owned(),
            };
            b.push_str(&format!(
                "<tr data-test=\"source-row\" data-source=\"{id}\"><td><b>{id}</b><br><span class=\"muted\">{codec} {w}×{h}</span></td>\
                 <td>{cam} <span class=\"muted\">({origin})</span></td><td>{dur}</td>\
                 <td><code title=\"{sha}\">{sha_short}…</code></td><td>{analysis}</td>\
                 <td><a href=\"/c/{c}/play?src={idu}\" data-test=\"watch-source\">{watch}</a> \
                 <a href=\"/c/{c}/camera/{camu}?src={idu}\" id=\"camera-view-{n}\" data-test=\"camera-view\" \
                 data-camera=\"{cam}\" data-source=\"{id}\">{zones}</a></td></tr>",
                id = esc(&rec.source_id),
                idu = url(&rec.source_id),
                codec = esc(&rec.meta.codec),
                w = rec.meta.width,
                h = rec.meta.height,
                cam = esc(&t.camera),
                camu = url(&t.camera),
                zones = lang.t("camera.open"),
                origin = esc(t.camera_origin),
                dur = rec
                    .meta
                    .duration_ms
                    .map(|d| format_duration_ms(d as i64))
                    .unwrap_or_else(|| "?".into()),
                sha = esc(&rec.sha256),
                sha_short = esc(rec.sha256.get(..16).unwrap_or(&rec.sha256)),
                watch = lang.t("search.open_player"),
            ));
        }
        b.push_str("</tbody></table>");
    }
    // Coverage.
    b.push_str(&format!("<h2>{}</h2>", lang.t("dash.coverage")));
    if !cov.cameras.is_empty() {
        b.push_str("<table id=\"coverage\"><tbody>");
        for cam in &cov.cameras {
            let t = &cam.totals;
            b.push_str(&format!(
                "<tr data-test=\"coverage-row\"><td>{}</td><td>{} {}</td><td>{} {} %</td></tr>",
                esc(&cam.camera),
                lang.t("dash.duration"),
                format_duration_ms(t.span_ms),
                lang.t("dash.analysed"),
                t.analysed_percent_of_span()
                    .map(|p| format!("{p:.0}"))
                    .unwrap_or_else(|| "—".into()),
            ));
        }
        b.push_str("</tbody></table>");
        // The SVG is vigie's own drawing; its inline style attribute is dropped (CSP).
        let svg = timeline_svg(&cov).replace(" style=\"max-width:100%;height:auto\"", "");
        b.push_str(&format!(
            "<div class=\"timeline\" id=\"coverage-timeline\">{svg}</div>"
        ));
    }
    for u in &cov.unplaced {
        b.push_str(&html::notice(
            "warn",
            "unplaced",
            &format!("{}: {}", u.source_id, u.fix),
        ));
    }
    // Alerts.
    b.push_str(&format!("<h2>{}</h2>", lang.t("dash.alerts")));
    if alerts.is_empty() {
        b.push_str(&format!(
            "<p id=\"alerts-none\">{}</p>",
            lang.t("dash.no_alerts")
        ));
    } else {
        b.push_str("<ul id=\"alerts\">");
        for a in &alerts {
            b.push_str(&format!(
                "<li data-test=\"alert\">{} <b>{}</b> {}</li>",
                a.time.format("%Y-%m-%d %H:%M:%S UTC"),
                esc(a
                    .params
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or("alert")),
                esc(a
                    .params
                    .get("message")
                    .and_then(|k| k.as_str())
                    .unwrap_or(""))
            ));
        }
        b.push_str("</ul>");
    }
    // Grants (administrators).
    if who.account.admin {
        let options: String = accounts
            .iter()
            .filter(|a| !a.disabled && !a.admin && !a.cases.contains(&case_id))
            .map(|a| format!("<option value=\"{0}\">{0}</option>", esc(&a.id)))
            .collect();
        if !options.is_empty() {
            b.push_str(&format!(
                "<h2>{}</h2><form method=\"post\" action=\"/c/{c}/grant\" id=\"grant-form\" class=\"inline-form\">{}\
                 <select name=\"account\" id=\"grant-account\">{options}</select>\
                 <button type=\"submit\" id=\"grant-submit\">{}</button></form>",
                lang.t("dash.grant"),
                html::csrf_field(&who),
                lang.t("dash.grant_submit")
            ));
        }
    }
    Ok(html::case_page(
        &who,
        &case_id,
        "dashboard",
        &format!("{} {}", lang.t("cases.case"), case_id),
        &b,
    ))
}

/// The purpose stated for this case in this session (kept in the session only; recorded
/// as the justification of every later entry).
pub async fn purpose(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let purpose = f
        .get("purpose")
        .ok_or_else(|| PageError::bad("the purpose is empty"))?;
    vigie_app::operator::check_reason(&purpose)?;
    if let Some(s) = st.sessions.lock().expect("sessions lock").get_mut(&who.sid) {
        s.purposes.insert(case_id.clone(), purpose);
    }
    Ok(crate::see_other(&format!("/c/{}", url(&case_id))))
}

/// An administrator lets an account enter this case (recorded by the accounts).
pub async fn grant(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let account = f
        .get("account")
        .ok_or_else(|| PageError::bad("choose an account"))?;
    let (st2, who2, id2) = (st.clone(), who.clone(), case_id.clone());
    blocking(move || {
        st2.accounts.grant(&who2.operator()?, &account, &id2)?;
        Ok(())
    })
    .await?;
    Ok(crate::see_other(&format!("/c/{}", url(&case_id))))
}
