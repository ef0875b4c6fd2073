//! The guards every request passes, as layers on the whole router (so no route can skip
//! them), and the session extractor every page but sign-in takes.
//!
//! Why each one (a local web server is reachable by every page the operator's browser
//! opens, and the case data it shows are personal data under a judicial procedure):
//! - **Host check** ([`host_guard`]): a page of another site whose name an attacker
//!   re-points to 127.0.0.1 (DNS rebinding) sends its own name in `Host`; only the
//!   server's address and the names given with `--host` are answered.
//! - **CSRF** ([`csrf_guard`]): every request but GET/HEAD carries the session's
//!   synchroniser token (form field `csrf` or header `X-CSRF-Token`), compared in
//!   constant time; sign-in carries a token bound to a short-lived pre-session cookie
//!   (login CSRF). A cross-site `Origin` or `Sec-Fetch-Site` is refused outright.
//!   Session cookies are also `SameSite=Strict`: two independent defences.
//! - **Headers** ([`security_headers`]): a strict Content-Security-Policy (scripts and
//!   styles from this server's embedded files only, no inline script, `frame-ancestors
//!   'none'`), `nosniff`, no referrer to other sites, and `Cache-Control: no-store` on everything but the
//!   embedded assets, so the browser keeps nothing of a case after closure.
//! - **Sessions** ([`Authed`]): an opaque random id in an `HttpOnly; SameSite=Strict`
//!   cookie (`Secure` and `__Host-` under TLS), kept in memory with an idle timeout and a
//!   maximum age; the account is read again at every request, so a disabled account's
//!   session ends at its next request.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use vigie_app::accounts::Account;

use crate::error::PageError;
use crate::i18n::Lang;
use crate::state::WebState;

pub const LANG_COOKIE: &str = "vigie_lang";
/// The pre-session cookie of the sign-in form (login CSRF).
pub const LOGIN_COOKIE: &str = "vigie_login";
/// Largest form body read (forms carry filters and file selections, never footage).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// The CSP of the pages: this server's own script and style files, images from this
/// server (and `blob:` for the player's frames), nothing else, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";
/// The CSP of the reports and dossier vigie wrote (their own inline styles, no script,
/// sandboxed).
pub const CSP_DOCUMENT: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/// The session cookie's name: `__Host-` under TLS (the browser then requires Secure,
/// Path=/ and no Domain).
pub fn session_cookie_name(tls: bool) -> &'static str {
    if tls {
        "__Host-vigie_session"
    } else {
        "vigie_session"
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random source");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Equal in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, with Max-Age (0 deletes).
pub fn set_cookie(name: &str, value: &str, max_age_s: u64, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .expect("cookie values are hex or short ASCII")
}

fn plain(status: StatusCode, msg: &str) -> Response {
    (status, crate::html::error_page(status, msg)).into_response()
}

/// Answer only the server's own host names.
pub async fn host_guard(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase());
    match host {
        Some(h) if st.allowed_hosts.contains(&h) => next.run(req).await,
        _ => plain(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown Host: this server answers only its own address (open it by the address \
             `vigie serve` printed)",
        ),
    }
}

/// Security headers on every response; `no-store` on all but the embedded assets.
pub async fn security_headers(
    State(st): State<Arc<WebState>>,
    req: Request,
    next: Next,
) -> Response {
    let is_asset = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: under it browsers send `Origin: null` with same-origin form
        // posts, which the CSRF guard must refuse. Nothing is sent to other sites.
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if st.tls() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if is_asset {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        );
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    res
}

fn origin_allowed(st: &WebState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let scheme = if st.tls() { "https://" } else { "http://" };
            origin
                .strip_prefix(scheme)
                .is_some_and(|host| st.allowed_hosts.iter().any(|a| a == host))
        }
    }
}

/// Every request that can change state carries the right token.
pub async fn csrf_guard(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let refused = |why: &str| {
        plain(
            StatusCode::FORBIDDEN,
            &format!(
                "refused: {why}. Reload the page and try again (forms expire with the session)."
            ),
        )
    };
    if !origin_allowed(&st, req.headers()) {
        return refused("the request comes from another site");
    }
    let expected = if req.uri().path() == "/login" {
        cookie(req.headers(), LOGIN_COOKIE)
    } else {
        cookie(req.headers(), session_cookie_name(st.tls())).and_then(|sid| {
            st.sessions
                .lock()
                .expect("sessions lock")
                .get(&sid)
                .map(|s| s.csrf.clone())
        })
    };
    let Some(expected) = expected else {
        return refused("no session (the CSRF token cannot be checked)");
    };
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the form is too large (at most 256 KiB)",
            )
        }
    };
    let form_token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v));
    let given = header_token.or(form_token).unwrap_or_default();
    if !same_token(&given, &expected) {
        return refused("missing or wrong CSRF token");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A signed-in request: the session, its account as read now, and the page language.
#[derive(Debug, Clone)]
pub struct Authed {
    pub sid: String,
    pub account: Account,
    pub csrf: String,
    pub lang: Lang,
}

impl Authed {
    pub fn operator(&self) -> Result<vigie_app::Operator, PageError> {
        Ok(vigie_app::Operator::new(&self.account.id)?)
    }
}

/// Why a request has no usable session.
#[derive(Debug)]
pub struct NoSession {
    page: bool,
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        if self.page {
            Redirect::to("/login?expired=1").into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": "not signed in, or the session ended" })),
            )
                .into_response()
        }
    }
}

impl FromRequestParts<Arc<WebState>> for Authed {
    type Rejection = NoSession;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &Arc<WebState>,
    ) -> Result<Self, Self::Rejection> {
        let page = parts.method == Method::GET
            && parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
        let reject = NoSession { page };
        let sid =
            cookie(&parts.headers, session_cookie_name(st.tls())).ok_or(NoSession { page })?;
        // Background polls do not count as activity for the idle timeout.
        let poll = parts.headers.contains_key("x-vigie-poll");
        let found = {
            let mut sessions = st.sessions.lock().expect("sessions lock");
            let now = Instant::now();
            match sessions.get_mut(&sid) {
                None => None,
                Some(s) if st.expired(s, now) => Some(Err((s.account.clone(), s.peer.clone()))),
                Some(s) => {
                    if !poll {
                        s.last_seen = now;
                    }
                    Some(Ok((
                        s.account.clone(),
                        s.csrf.clone(),
                        s.peer.clone(),
                        s.credential.clone(),
                    )))
                }
            }
        };
        let (account_id, csrf, peer, credential) = match found {
            None => return Err(reject),
            Some(Ok(live)) => live,
            Some(Err((account, peer))) => {
                st.end_session(&sid);
                let st = st.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    st.record_end(&account, &peer, "idle or expired")
                })
                .await;
                return Err(reject);
            }
        };
        // The account as it is now: disabled (or removed) since sign-in, or its password
        // changed, ends the session.
        let accounts = st.accounts.clone();
        let id = account_id.clone();
        let account = tokio::task::spawn_blocking(move || accounts.get_with_credential(&id))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let why = match account {
            Some((a, now)) if !a.disabled && now == credential => {
                return Ok(Authed {
                    sid,
                    account: a,
                    csrf,
                    lang: Lang::from_headers(&parts.headers),
                })
            }
            Some((a, _)) if !a.disabled => "password changed",
            _ => "account disabled",
        };
        st.end_session(&sid);
        let st = st.clone();
        let _ = tokio::task::spawn_blocking(move || st.record_end(&account_id, &peer, why)).await;
        Err(reject)
    }
}

/// A case id as vigie makes them (refused before any file is touched).
pub fn check_case_id(id: &str) -> Result<&str, PageError> {
    let ok = !id.is_empty()
        && id.len() <= 96
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(id)
    } else {
        Err(PageError::bad(format!("invalid case id {id:?}")))
    }
}

/// The signed-in account may enter `case_id` (its rights, read now).
pub async fn may_enter(st: &Arc<WebState>, who: &Authed, case_id: &str) -> Result<(), PageError> {
    check_case_id(case_id)?;
    let accounts = st.accounts.clone();
    let (id, case) = (who.account.id.clone(), case_id.to_owned());
    let ok = tokio::task::spawn_blocking(move || accounts.can_enter(&id, &case)).await??;
    if ok {
        Ok(())
    } else {
        Err(PageError::forbidden(format!(
            "refused: your account has no right to case {case_id} (an administrator grants it)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert!(same_token(&t, &t.clone()));
        assert!(!same_token(&t, &t[..63]));
        assert!(!same_token("", ""));
        assert_ne!(random_token(), t);
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; vigie_session=abc; xvigie_session=no".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "vigie_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn set_cookie_flags() {
        let v = set_cookie("s", "x", 60, true);
        let v = v.to_str().unwrap();
        for flag in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
            "Secure",
        ] {
            assert!(v.contains(flag), "{v}");
        }
    }

    #[test]
    fn case_ids_are_checked() {
        assert!(check_case_id("2026-00042").is_ok());
        for bad in ["", "..", "../x", "a/b", "a b", ".x"] {
            assert!(check_case_id(bad).is_err(), "{bad}");
        }
    }
}
