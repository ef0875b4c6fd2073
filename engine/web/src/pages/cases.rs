//! The cases the account may enter, and opening a case under an authorisation.
//!
//! Opening is an administrator's act (`Administration::open_case`: recorded in the
//! case's log and the machine log); the administrator who opens a case is granted it, so
//! the case appears in their list at once.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use vigie_app::admin::Administration;
use vigie_app::types::{CaseStatus, OpenRequest};

use super::{blocking, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::security::Authed;
use crate::state::WebState;

pub async fn list(State(st): State<Arc<WebState>>, who: Authed) -> Result<Response, PageError> {
    let lang = who.lang;
    let (st2, who2) = (st.clone(), who.clone());
    let rows = blocking(move || {
        let admin = Administration::new(&st2.app, who2.operator()?, None);
        let today = st2.app.clock().now().date_naive();
        let mut rows = Vec::new();
        for c in admin.list_cases()?.into_iter().flatten() {
            if !st2.accounts.can_enter(&who2.account.id, &c.case_id)? {
                continue;
            }
            let status = match c.status {
                CaseStatus::Closed => "cases.closed",
                CaseStatus::Open if c.is_expired(today) => "cases.expired",
                CaseStatus::Open => "cases.open",
            };
            rows.push((c, status));
        }
        Ok(rows)
    })
    .await?;
    let mut body = String::new();
    if who.account.admin {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/cases/new\" id=\"new-case\">{}</a></p>",
            lang.t("cases.new")
        ));
    }
    if rows.is_empty() {
        body.push_str(&html::notice("warn", "no-cases", lang.t("cases.none")));
    } else {
        body.push_str(&format!(
            "<table id=\"cases\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            lang.t("cases.case"),
            lang.t("cases.procedure"),
            lang.t("cases.purpose"),
            lang.t("cases.valid_until"),
            lang.t("cases.status")
        ));
        for (c, status) in rows {
            // A closed or expired case is not entered: its audit page stays readable.
            let href = if status == "cases.open" {
                format!("/c/{}", url(&c.case_id))
            } else {
                format!("/c/{}/audit", url(&c.case_id))
            };
            body.push_str(&format!(
                "<tr data-test=\"case-row\" data-case=\"{id}\"><td><a href=\"{href}\" data-test=\"case-link\" id=\"case-{id}\">{id}</a></td>\
                 <td>{proc}</td><td>{purpose}</td><td>{until}</td><td class=\"status-{status_class}\">{status}</td></tr>",
                id = esc(&c.case_id),
                proc = esc(&c.procedure),
                purpose = esc(&c.purpose),
                until = c.retention_end(),
                status_class = &status[6..],
                status = lang.t(status),
            ));
        }
        body.push_str("</tbody></table>");
    }
    Ok(html::page(lang, Some(&who), None, lang.t("cases.title"), &body).into_response())
}

fn open_form(who: &Authed, error: Option<&str>, f: &super::Fields) -> String {
    let lang = who.lang;
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&html::notice("error", "open-error", e));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/cases/new\" id=\"open-case-form\" class=\"card\">{}",
        html::csrf_field(who)
    ));
    for (name, key, extra) in [
        ("case_id", "open.case_id", ""),
        ("procedure", "open.procedure", "required"),
        ("authorization", "open.authorization", "required"),
        ("magistrate", "open.magistrate", "required"),
        (
            "authorized_on",
            "open.authorized_on",
            "type=\"date\" required",
        ),
        ("valid_until", "open.valid_until", "type=\"date\""),
        ("purpose", "open.purpose", "required"),
    ] {
        body.push_str(&html::text_input(
            &format!("open-{}", name.replace('_', "-")),
            name,
            lang.t(key),
            &f.str(name),
            extra,
        ));
    }
    body.push_str(&format!(
        "<button type=\"submit\" id=\"open-submit\">{}</button></form>",
        lang.t("open.submit")
    ));
    body
}

pub async fn new_form(who: Authed) -> Result<Response, PageError> {
    let lang = who.lang;
    if !who.account.admin {
        return Err(PageError::forbidden(lang.t("open.admin_only")));
    }
    let body = open_form(&who, None, &super::Fields::new(Vec::new()));
    Ok(html::page(lang, Some(&who), None, lang.t("open.title"), &body).into_response())
}

fn date(f: &super::Fields, name: &str) -> Result<Option<chrono::NaiveDate>, String> {
    match f.get(name) {
        None => Ok(None),
        Some(v) => chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("invalid {name} {v:?}: a date such as 2026-11-30")),
    }
}

pub async fn open(
    State(st): State<Arc<WebState>>,
    who: Authed,
    Form(f): Form,
) -> Result<Response, PageError> {
    let lang = who.lang;
    if !who.account.admin {
        return Err(PageError::forbidden(lang.t("open.admin_only")));
    }
    let refuse = |msg: String, f: &super::Fields| -> Result<Response, PageError> {
        let body = open_form(&who, Some(&msg), f);
        let mut res =
            html::page(lang, Some(&who), None, lang.t("open.title"), &body).into_response();
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        Ok(res)
    };
    let authorized_on = match date(&f, "authorized_on") {
        Ok(Some(d)) => d,
        Ok(None) => return refuse("authorized_on is required".into(), &f),
        Err(e) => return refuse(e, &f),
    };
    let valid_until = match date(&f, "valid_until") {
        Ok(d) => d,
        Err(e) => return refuse(e, &f),
    };
    let req = OpenRequest {
        case_id: f.get("case_id"),
        procedure: f.str("procedure"),
        authorization: f.str("authorization"),
        magistrate: f.str("magistrate"),
        authorized_on,
        valid_until,
        operator: who.account.id.clone(),
        purpose: f.str("purpose"),
    };
    let (st2, who2) = (st.clone(), who.clone());
    let opened = blocking(move || {
        let op = who2.operator()?;
        let meta = Administration::new(&st2.app, op.clone(), None).open_case(req)?;
        // Administrators enter every case; a grant makes the opener's access explicit
        // when the accounts say otherwise.
        if !st2.accounts.can_enter(&who2.account.id, &meta.case_id)? {
            st2.accounts.grant(&op, &who2.account.id, &meta.case_id)?;
        }
        Ok(meta)
    })
    .await;
    match opened {
        Ok(meta) => Ok(crate::see_other(&format!("/c/{}", url(&meta.case_id)))),
        Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => refuse(e.message, &f),
        Err(e) => Err(e),
    }
}
