//! Sign-in and sign-out.
//!
//! Passwords are checked, rate-limited and failures logged as alerts by
//! `vigie_app::accounts`; here a success creates a fresh session (a new random id, never
//! one the browser offered) with its own CSRF token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::{blocking, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc};
use crate::i18n::Lang;
use crate::security::{self, session_cookie_name, set_cookie, Authed};
use crate::state::{Session, WebState};

/// How long the sign-in form stays valid.
const LOGIN_FORM_S: u64 = 600;

pub async fn form(State(st): State<Arc<WebState>>, headers: HeaderMap, q: Fields) -> Response {
    let lang = Lang::from_headers(&headers);
    let token = security::random_token();
    let mut body = String::new();
    if q.get("expired").is_some() {
        body.push_str(&html::notice(
            "warn",
            "login-expired",
            lang.t("login.expired"),
        ));
    }
    if q.get("failed").is_some() {
        body.push_str(&html::notice(
            "error",
            "login-error",
            lang.t("login.failed"),
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/login\" id=\"login-form\" class=\"card narrow\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         {id}{pw}<button type=\"submit\" id=\"login-submit\">{submit}</button></form>\
         <p class=\"muted\">{notice}</p>",
        id = html::text_input(
            "login-id",
            "id",
            lang.t("login.id"),
            "",
            "autocomplete=\"username\" required autofocus"
        ),
        pw = html::text_input(
            "login-password",
            "password",
            lang.t("login.password"),
            "",
            "type=\"password\" autocomplete=\"current-password\" required"
        ),
        submit = lang.t("login.submit"),
        notice = esc(lang.t("login.notice")),
    ));
    let mut res = html::page(lang, None, None, lang.t("login.title"), &body).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(security::LOGIN_COOKIE, &token, LOGIN_FORM_S, st.tls()),
    );
    res
}

pub async fn submit(
    State(st): State<Arc<WebState>>,
    ConnectInfo(peer): ConnectInfo<crate::Peer>,
    Form(f): Form,
) -> Result<Response, PageError> {
    // The CSRF guard has checked the form's token against the sign-in cookie.
    let (id, password) = (f.str("id"), f.get("password").unwrap_or_default());
    let accounts = st.accounts.clone();
    let account = blocking(move || {
        Ok(accounts
            .login_with_credential(&id, &password, &peer.to_string())
            .ok())
    })
    .await?;
    let Some((account, credential)) = account.filter(|(a, _)| !a.disabled) else {
        return Ok(crate::see_other("/login?failed=1"));
    };
    let sid = security::random_token();
    let now = Instant::now();
    st.sessions.lock().expect("sessions lock").insert(
        sid.clone(),
        Session {
            account: account.id.clone(),
            credential,
            peer: peer.to_string(),
            csrf: security::random_token(),
            created: now,
            last_seen: now,
            purposes: HashMap::new(),
            grants: HashMap::new(),
        },
    );
    let mut res = crate::see_other("/cases");
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            session_cookie_name(st.tls()),
            &sid,
            st.cfg.session_max.as_secs(),
            st.tls(),
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(security::LOGIN_COOKIE, "", 0, st.tls()),
    );
    Ok(res)
}

pub async fn logout(
    State(st): State<Arc<WebState>>,
    ConnectInfo(peer): ConnectInfo<crate::Peer>,
    who: Authed,
) -> Response {
    st.end_session(&who.sid);
    let accounts = st.accounts.clone();
    let id = who.account.id.clone();
    // Recorded best effort: the session ends whatever happens to the entry.
    let _ = tokio::task::spawn_blocking(move || accounts.logout(&id, &peer.to_string(), "logout"))
        .await;
    let mut res = crate::see_other("/login");
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(session_cookie_name(st.tls()), "", 0, st.tls()),
    );
    res
}
