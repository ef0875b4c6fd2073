//! Server-rendered HTML: escaping and the page frame.
//!
//! Why no template engine: the pages are few and small, and every value shown goes
//! through [`esc`] (text and attribute values alike) at the one place it is written. No
//! inline script or style anywhere (the CSP forbids them): behaviour is in
//! `assets/vigie.js`, reading `data-*` attributes.
//!
//! Every interactive element has a stable `id` (or `data-test` in lists) for the browser
//! tests.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::Lang;
use crate::security::Authed;

/// HTML-escape text or an attribute value (quotes included).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode a query value.
pub fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The hidden CSRF field of a form.
pub fn csrf_field(who: &Authed) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&who.csrf)
    )
}

/// A labelled text input.
pub fn text_input(id: &str, name: &str, label: &str, value: &str, extra: &str) -> String {
    format!(
        "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{name}\" value=\"{}\" {extra}>",
        esc(label),
        esc(value)
    )
}

/// Where a page sits: the case it is about and its tab.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub case_id: &'a str,
    pub tab: &'a str,
}

/// The full page: header (user, language switch, logout), the case's tabs, the body.
pub fn page(
    lang: Lang,
    who: Option<&Authed>,
    place: Option<Place<'_>>,
    title: &str,
    body: &str,
) -> Html<String> {
    let mut h = String::with_capacity(body.len() + 2048);
    h.push_str(&format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — vigie</title><link rel=\"stylesheet\" href=\"/static/vigie.css\">",
        lang.code(),
        esc(title)
    ));
    if let Some(w) = who {
        h.push_str(&format!(
            "<meta name=\"csrf-token\" content=\"{}\">",
            esc(&w.csrf)
        ));
    }
    h.push_str("<script src=\"/static/vigie.js\" defer></script></head><body>");
    h.push_str(
        "<header class=\"top\"><a class=\"brand\" href=\"/cases\" id=\"nav-home\">vigie</a>",
    );
    let other = match lang {
        Lang::En => ("fr", "Français"),
        Lang::Fr => ("en", "English"),
    };
    if let Some(w) = who {
        h.push_str(&format!(
            "<nav><a href=\"/cases\" id=\"nav-cases\">{}</a> <a href=\"/dossier\" id=\"nav-dossier\">{}</a></nav>",
            lang.t("nav.cases"),
            lang.t("nav.dossier")
        ));
        h.push_str(&format!(
            "<span class=\"who\" id=\"nav-user\" data-test=\"signed-in-as\">{} <b>{}</b>{}</span>",
            lang.t("nav.signed_in_as"),
            esc(&w.account.id),
            if w.account.admin { " (admin)" } else { "" }
        ));
        h.push_str(&format!(
            "<form method=\"post\" action=\"/logout\" class=\"inline\">{}<button id=\"logout\" type=\"submit\">{}</button></form>",
            csrf_field(w),
            lang.t("nav.logout")
        ));
    }
    h.push_str(&format!(
        "<a class=\"lang\" id=\"lang-switch\" href=\"?lang={}\">{}</a></header>",
        other.0, other.1
    ));
    if let Some(p) = place {
        let c = url(p.case_id);
        h.push_str(&format!(
            "<nav class=\"tabs\" data-case=\"{}\"><span class=\"case-id\">{} {}</span>",
            esc(p.case_id),
            lang.t("cases.case"),
            esc(p.case_id)
        ));
        for (tab, href, key) in [
            ("dashboard", format!("/c/{c}"), "menu.dashboard"),
            ("ingest", format!("/c/{c}/ingest"), "menu.ingest"),
            ("search", format!("/c/{c}/search"), "menu.search"),
            ("audit", format!("/c/{c}/audit"), "menu.audit"),
        ] {
            h.push_str(&format!(
                "<a href=\"{href}\" id=\"tab-{tab}\"{}>{}</a>",
                if tab == p.tab {
                    " class=\"active\""
                } else {
                    ""
                },
                lang.t(key)
            ));
        }
        h.push_str("</nav>");
    }
    h.push_str(&format!("<main><h1>{}</h1>", esc(title)));
    h.push_str(body);
    h.push_str("</main></body></html>");
    Html(h)
}

/// A page of one case for the signed-in account, under the case's `tab` (the
/// [`page`] frame in the account's language).
pub fn case_page(who: &Authed, case_id: &str, tab: &str, title: &str, body: &str) -> Response {
    page(
        who.lang,
        Some(who),
        Some(Place { case_id, tab }),
        title,
        body,
    )
    .into_response()
}

/// A bilingual error page (the status, the message, a way back).
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{code} — vigie</title>\
         <link rel=\"stylesheet\" href=\"/static/vigie.css\"></head><body><main>\
         <h1>{en} / {fr} ({code})</h1><p class=\"error\" id=\"error-message\">{msg}</p>\
         <p><a href=\"/cases\" id=\"error-back\">vigie</a></p></main></body></html>",
        code = status.as_u16(),
        en = Lang::En.t("error.title"),
        fr = Lang::Fr.t("error.title"),
        msg = esc(message)
    ))
}

/// A notice box (`kind`: `ok`, `warn`, `error`).
pub fn notice(kind: &str, id: &str, text: &str) -> String {
    format!("<p class=\"notice {kind}\" id=\"{id}\">{}</p>", esc(text))
}

/// Milliseconds as `H:MM:SS.mmm` (media time).
pub fn media_time(ms: i64) -> String {
    let ms = ms.max(0);
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A wall-clock time (ms since the epoch), UTC.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_attributes() {
        assert_eq!(
            esc("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
        assert_eq!(url("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(media_time(3_723_004), "1:02:03.004");
    }
}
