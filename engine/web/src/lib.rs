//! `vigie serve`: the investigator's desk, a web interface on the local machine.
//!
//! Why: investigators are not terminal users. Everything `vigie` does in a case
//! (open it, ingest, analyse, search, watch the original footage at a hit, export a clip,
//! build and play a synopsis of a source or of a whole camera over a range, read the audit
//! log and the report) is reachable from a browser, in French or English.
//!
//! How it stays inside vigie's promise:
//! - every action is a call into the application layer (`vigie_app`): the page enters the
//!   case ([`vigie_app::EnteredCase::enter`], as the signed-in account, with the session's
//!   stated purpose as the reason) and calls the use case, which writes its audit entry
//!   before anything is shown. No use case is re-implemented here, and this crate does not
//!   depend on the crates that produce detections (a test over `cargo metadata` checks it);
//! - one page view or query is one consultation entry: thumbnails ride on the search page
//!   that entered the case, and the player's frames on the player that recorded its
//!   opening ([`vigie_app::view`]);
//! - what the player shows is a *rendering*: frames decoded server-side from the original
//!   file (any codec FFmpeg reads), never the evidence bytes, which leave only through a
//!   logged export;
//! - the guards of a local web server (host check, CSRF, CSP and no-store, session
//!   cookies with idle timeout) are layers on the whole router ([`security`]).
//!
//! The pages are server-rendered HTML with one small embedded stylesheet and one plain
//! JavaScript file (no framework, nothing fetched at run time: both are compiled into
//! the binary with `include_str!`).
//!
//! Entry points: [`serve`] (blocking, for the CLI), and [`bind`] + [`Bound::run`] or
//! [`router`] for tests on an ephemeral port.

#![forbid(unsafe_code)]

pub mod error;
pub mod html;
pub mod i18n;
pub mod jobs;
mod pages;
pub mod security;
pub mod state;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use vigie_app::App;

pub use error::{PageError, WebError};
pub use state::{ServeConfig, TlsFiles, WebState};

/// The embedded assets: (name, content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "vigie.css",
        "text/css; charset=utf-8",
        include_str!("../assets/vigie.css"),
    ),
    (
        "vigie.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/vigie.js"),
    ),
];

/// Every route, behind the guards (outermost first: security headers, Host check,
/// language switch, CSRF).
pub fn router(st: Arc<WebState>) -> Router {
    use pages::*;
    Router::new()
        .route("/", get(|| async { Redirect::to("/cases") }))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/static/{file}", get(asset))
        .route("/dossier", get(audit::dossier))
        .route("/cases", get(cases::list))
        .route("/cases/new", get(cases::new_form).post(cases::open))
        .route("/c/{case}", get(dashboard::show))
        .route("/c/{case}/purpose", post(dashboard::purpose))
        .route("/c/{case}/grant", post(dashboard::grant))
        .route("/c/{case}/ingest", get(ingest::page).post(ingest::start))
        .route("/c/{case}/job", get(ingest::status))
        .route("/c/{case}/job/cancel", post(ingest::cancel))
        .route("/c/{case}/search", get(search::page))
        .route("/c/{case}/thumb/{name}", get(search::thumb))
        .route("/c/{case}/play", get(player::open))
        .route("/c/{case}/play/{pid}/frame", get(player::frame))
        .route("/c/{case}/play/{pid}/status", get(player::status))
        .route(
            "/c/{case}/camera/{camera}",
            get(camera::page).post(camera::save),
        )
        .route("/c/{case}/clip", post(player::clip))
        .route("/c/{case}/report-frame", post(player::add_to_report))
        .route("/c/{case}/exports/{name}", get(player::download))
        .route("/c/{case}/synopsis", post(synopsis::build))
        .route(
            "/c/{case}/camera-synopsis",
            get(synopsis::camera_form).post(synopsis::camera_build),
        )
        .route("/c/{case}/synopsis/{name}", get(synopsis::show))
        .route("/c/{case}/synopsis/{name}/pick", get(synopsis::pick))
        .route("/c/{case}/audit", get(audit::page))
        .route("/c/{case}/report", post(audit::write_report))
        .route("/c/{case}/reports/{name}", get(audit::report_file))
        .fallback(|| async { PageError::not_found() })
        .layer(from_fn_with_state(st.clone(), security::csrf_guard))
        .layer(from_fn_with_state(st.clone(), lang_switch))
        .layer(from_fn_with_state(st.clone(), security::host_guard))
        .layer(from_fn_with_state(st.clone(), security::security_headers))
        .with_state(st)
}

/// An embedded asset, by its exact name (nothing else is ever read for `/static/`).
async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ctype, body)) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(ctype))],
            *body,
        )
            .into_response(),
        None => PageError::not_found().into_response(),
    }
}

/// `?lang=fr` on any page: remember the choice in a cookie and show the page again.
async fn lang_switch(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    let query = req.uri().query().unwrap_or("");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let Some(lang) = pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| i18n::Lang::parse(v))
    else {
        return next.run(req).await;
    };
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "lang").collect();
    // One leading slash: `//host/` or `/\host` would send the browser to another site.
    let mut to = format!("/{}", req.uri().path().trim_start_matches(['/', '\\']));
    if !rest.is_empty() {
        to.push('?');
        to.push_str(&serde_urlencoded::to_string(&rest).unwrap_or_default());
    }
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        security::set_cookie(
            security::LANG_COOKIE,
            lang.code(),
            365 * 24 * 3600,
            st.tls(),
        ),
    );
    res
}

enum Socket {
    Plain(TcpListener),
    Tls(tls::TlsListener),
}

/// A server bound to its address, not yet serving.
pub struct Bound {
    socket: Socket,
    addr: SocketAddr,
    state: Arc<WebState>,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("addr", &self.addr).finish()
    }
}

/// Validate the configuration, load the TLS material and bind the address (port 0 picks
/// a free one: see [`Bound::local_addr`]).
pub async fn bind(app: App, cfg: ServeConfig) -> Result<Bound, WebError> {
    let cfg = cfg.validate()?;
    let tls = cfg.tls.as_ref().map(tls::server_config).transpose()?;
    let tcp = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| WebError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let addr = tcp.local_addr()?;
    // Opened once: it keeps the sign-in rate limiter (rebuilt from the machine log, which
    // it verifies first).
    let accounts = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || vigie_app::accounts::Accounts::open(&app))
            .await
            .map_err(|e| WebError::BadConfig(e.to_string()))??
    };
    let socket = match tls {
        Some(t) => Socket::Tls(tls::TlsListener::new(tcp, t)?),
        None => Socket::Plain(tcp),
    };
    Ok(Bound {
        socket,
        addr,
        state: WebState::new(app, accounts, cfg, addr),
    })
}

impl Bound {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> Arc<WebState> {
        self.state.clone()
    }

    /// The address to open in a browser.
    pub fn url(&self) -> String {
        let scheme = if self.state.tls() { "https" } else { "http" };
        match self.addr {
            a if a.ip().is_loopback() && a.is_ipv4() => {
                format!("{scheme}://127.0.0.1:{}/", a.port())
            }
            a => format!("{scheme}://{a}/"),
        }
    }

    /// Serve until the process ends.
    pub async fn run(self) -> Result<(), WebError> {
        let st = self.state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let st = st.clone();
                let _ = tokio::task::spawn_blocking(move || st.sweep()).await;
            }
        });
        let app = router(self.state).into_make_service_with_connect_info::<Peer>();
        match self.socket {
            Socket::Plain(l) => axum::serve(l, app).await?,
            Socket::Tls(l) => axum::serve(l, app).await?,
        }
        Ok(())
    }
}

/// Run the web interface until the process ends (blocking: builds its own runtime). The
/// start is recorded in the machine log (address, roots, TLS, the OS account) before the
/// first connection is accepted; a server whose start cannot be recorded does not serve.
pub fn serve(app: App, cfg: ServeConfig) -> Result<(), WebError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigie-web")
        .build()?;
    rt.block_on(async move {
        let bound = bind(app.clone(), cfg).await?;
        let st = bound.state();
        let start = vigie_app::view::ServerStart {
            listen: bound.local_addr().to_string(),
            roots: st.cfg.roots.clone(),
            tls: st.tls(),
            allowed_hosts: st.allowed_hosts.clone(),
        };
        tokio::task::spawn_blocking(move || vigie_app::view::record_server_start(&app, &start))
            .await
            .map_err(|e| WebError::BadConfig(e.to_string()))??;
        eprintln!(
            "vigie serve: listening on {} (TLS {}); stop with Ctrl-C",
            bound.url(),
            if st.tls() { "on" } else { "off" }
        );
        bound.run().await
    })
}

/// Start a server on a thread of its own (its own runtime), for a front end that goes on
/// working meanwhile (`vigie bench web` times requests against it): bound, its start
/// recorded in the machine log as [`serve`] does, then serving until the process ends.
/// Returns its address and state once it accepts connections.
pub fn spawn(app: App, cfg: ServeConfig) -> Result<(SocketAddr, Arc<WebState>), WebError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("vigie-web".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("vigie-web")
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(WebError::Io(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let bound = match bind(app.clone(), cfg).await {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let st = bound.state();
                let start = vigie_app::view::ServerStart {
                    listen: bound.local_addr().to_string(),
                    roots: st.cfg.roots.clone(),
                    tls: st.tls(),
                    allowed_hosts: st.allowed_hosts.clone(),
                };
                let recorded = tokio::task::spawn_blocking(move || {
                    vigie_app::view::record_server_start(&app, &start)
                })
                .await;
                match recorded {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(WebError::BadConfig(e.to_string())));
                        return;
                    }
                }
                let _ = tx.send(Ok((bound.local_addr(), st)));
                if let Err(e) = bound.run().await {
                    eprintln!("vigie serve: {e}");
                }
            });
        })?;
    rx.recv()
        .map_err(|_| WebError::BadConfig("the server thread ended before serving".into()))?
}

/// The client's address, as handlers see it (`ConnectInfo<Peer>`), over plain TCP or TLS.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(s: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Peer(*s.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tls::TlsListener>>
    for Peer
{
    fn connect_info(s: axum::serve::IncomingStream<'_, tls::TlsListener>) -> Self {
        Peer(*s.remote_addr())
    }
}

/// A response's status, for handlers that only redirect.
pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}
