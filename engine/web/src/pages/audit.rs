//! Audit: the case's log with filters, its verification, the exploitation report
//! (`Administration::write_report`, a disclosure recorded by the layer) and the technical
//! dossier. Printable (the stylesheet hides the controls on paper).
//!
//! These are oversight, not uses of footage: they work on closed and expired cases too,
//! for accounts with a right to the case.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use vigie_app::admin::Administration;
use vigie_app::oversight::{verify, Scope, VerifyReport};
use vigie_app::types::Action;

use super::{blocking, reason, CaseVisit, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::i18n::Lang;
use crate::security::{Authed, CSP_DOCUMENT};
use crate::state::WebState;

/// What the dossier lists as this interface's functions.
const FEATURES: &[(&str, &str)] = &[
    ("serve: cases", "list the cases an account may enter; open a case under an authorisation (administrators)"),
    ("serve: dashboard", "sources with hash, duration, camera, coverage and analysis state; alerts; audit verification"),
    ("serve: ingest & analyse", "ingest files under the roots set at server start, analyse them in the background"),
    ("serve: search", "every filter of `vigie search`; results as thumbnails; one consultation entry per query"),
    ("serve: player", "frames of the original footage rendered server-side, with the track's box; one consultation entry per opening"),
    ("serve: exports", "clip (stream copy), frame for the report, synopsis: each a recorded disclosure, downloads too"),
    ("serve: audit", "the case's log with filters, verification, exploitation report, this dossier"),
];

pub async fn page(
    CaseVisit { st, who, case_id }: CaseVisit,
    q: Fields,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let (st2, who2, id2) = (st.clone(), who.clone(), case_id.clone());
    let (entries, bad, audit, reports) = blocking(move || {
        let (entries, bad) = vigie_app::view::audit_entries(&st2.app, Some(&id2))?;
        let audit = verify(
            &st2.app,
            Some(&who2.operator()?),
            &Scope::Case(id2.clone()),
            None,
        )?;
        let reports = vigie_app::view::reports(&st2.app, &id2)?;
        Ok((entries, bad, audit, reports))
    })
    .await?;
    let action = q.get("action");
    let by = q.get("by");
    let text = q.get("q").map(|t| t.to_lowercase());
    let c = url(&case_id);
    let mut b = String::new();
    b.push_str(&format!(
        "<p class=\"noprint\"><button type=\"button\" id=\"print\" data-action=\"print\">{}</button> \
         <a href=\"/dossier\" id=\"open-dossier\">{}</a></p>",
        lang.t("audit.print"),
        lang.t("nav.dossier")
    ));
    b.push_str(&status_html(lang, &audit));
    if !bad.is_empty() {
        b.push_str(&html::notice(
            "error",
            "audit-bad-lines",
            &format!("{} {}", bad.len(), lang.t("audit.bad_lines")),
        ));
    }
    // Reports.
    b.push_str(&format!(
        "<form method=\"post\" action=\"/c/{c}/report\" id=\"report-form\" class=\"inline-form noprint\">{}\
         <button type=\"submit\" id=\"write-report\">{}</button></form>",
        html::csrf_field(&who),
        lang.t("audit.report")
    ));
    if !reports.is_empty() {
        b.push_str(&format!(
            "<h2>{}</h2><ul id=\"reports\">",
            lang.t("audit.reports")
        ));
        for r in &reports {
            b.push_str(&format!(
                "<li><a href=\"/c/{c}/reports/{}\" data-test=\"report-link\">{}</a></li>",
                url(r),
                esc(r)
            ));
        }
        b.push_str("</ul>");
    }
    // Filters.
    b.push_str(&format!(
        "<form method=\"get\" action=\"/c/{c}/audit\" id=\"audit-filter\" class=\"inline-form noprint\">\
         <label for=\"audit-action\">{}</label><select name=\"action\" id=\"audit-action\"><option value=\"\">{}</option>",
        lang.t("audit.action"),
        lang.t("search.any")
    ));
    for a in Action::ALL {
        b.push_str(&format!(
            "<option value=\"{0}\"{1}>{0}</option>",
            a.as_str(),
            if action.as_deref() == Some(a.as_str()) {
                " selected"
            } else {
                ""
            }
        ));
    }
    b.push_str(&format!(
        "</select>{}{}<button type=\"submit\" id=\"audit-filter-submit\">{}</button></form>",
        html::text_input(
            "audit-by",
            "by",
            lang.t("audit.by"),
            by.as_deref().unwrap_or(""),
            ""
        ),
        html::text_input(
            "audit-q",
            "q",
            lang.t("audit.text"),
            q.get("q").as_deref().unwrap_or(""),
            ""
        ),
        lang.t("audit.filter")
    ));
    b.push_str(&format!(
        "<table id=\"audit-entries\" class=\"log\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.t("audit.seq"),
        lang.t("audit.time"),
        lang.t("audit.action"),
        lang.t("audit.by"),
        lang.t("audit.event"),
        lang.t("audit.justification")
    ));
    for e in entries.iter().rev() {
        if action.as_deref().is_some_and(|a| a != e.action.as_str())
            || by.as_deref().is_some_and(|o| o != e.operator)
        {
            continue;
        }
        let params = serde_json::to_string(&e.params).unwrap_or_default();
        if let Some(t) = &text {
            if !params.to_lowercase().contains(t) && !e.justification.to_lowercase().contains(t) {
                continue;
            }
        }
        let kind = e
            .params
            .get("event")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        b.push_str(&format!(
            "<tr data-test=\"audit-entry\" data-action=\"{action}\" data-event=\"{kind}\" data-operator=\"{op}\">\
             <td>{seq}</td><td>{time}</td><td>{action}</td><td>{op}</td>\
             <td><b>{kind}</b><details><summary>…</summary><code>{params}</code></details></td><td>{just}</td></tr>",
            action = e.action.as_str(),
            kind = esc(&kind),
            op = esc(&e.operator),
            seq = e.seq,
            time = e.time.format("%Y-%m-%d %H:%M:%S"),
            params = esc(&params),
            just = esc(&e.justification),
        ));
    }
    b.push_str("</tbody></table>");
    Ok(html::case_page(
        &who,
        &case_id,
        "audit",
        lang.t("audit.title"),
        &b,
    ))
}

/// Whether the case's audit log verifies: the notice `#audit-status` (shared with the
/// dashboard).
pub fn status_html(lang: Lang, audit: &VerifyReport) -> String {
    if audit.is_trustworthy() {
        html::notice("ok", "audit-status", lang.t("dash.audit_ok"))
    } else {
        html::notice(
            "error",
            "audit-status",
            &format!(
                "{}: {}",
                lang.t("dash.audit_bad"),
                audit.failures().join("; ")
            ),
        )
    }
}

pub async fn write_report(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let why = reason(&st, &who, &case_id, f.get("reason").as_deref());
    let (st2, who2, id2) = (st.clone(), who.clone(), case_id.clone());
    let name = blocking(move || {
        let admin = Administration::with_reason(&st2.app, who2.operator()?, why.as_deref())?;
        let written = admin.write_report(&id2, None)?;
        Ok(written
            .files
            .html
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default())
    })
    .await?;
    Ok(crate::see_other(&format!(
        "/c/{}/reports/{}",
        url(&case_id),
        url(&name)
    )))
}

/// A written report, as vigie wrote it (its own styles; no script; sandboxed).
pub async fn report_file(
    CaseVisit {
        st,
        who: _,
        case_id,
    }: CaseVisit,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    vigie_app::view::check_file_name(&name)?;
    let ctype = if name.ends_with(".html") {
        "text/html; charset=utf-8"
    } else if name.ends_with(".json") {
        "application/json"
    } else {
        return Err(PageError::not_found());
    };
    let st2 = st.clone();
    let bytes = blocking(move || {
        let path = vigie_app::view::report_path(&st2.app, &case_id, &name)
            .map_err(|_| PageError::not_found())?;
        std::fs::read(&path).map_err(PageError::internal)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP_DOCUMENT),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The technical dossier of this build.
pub async fn dossier(State(st): State<Arc<WebState>>, _who: Authed) -> Response {
    let html = vigie_app::view::dossier_html(&st.app, FEATURES);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP_DOCUMENT),
            ),
        ],
        html,
    )
        .into_response()
}
