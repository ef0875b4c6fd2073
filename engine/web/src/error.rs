//! Errors: [`WebError`] for starting the server, [`PageError`] for one request.
//!
//! Why two: starting can fail in ways the operator must fix (an address without TLS, a
//! root that does not exist, a certificate that does not parse), said once on the
//! terminal. A request that fails is answered with a page (or JSON) that says what was
//! wrong and what to do, with the status that fits: never a stack trace, never a path
//! outside what the page was about.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vigie_app::{AppError, ErrorClass};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(
        "refusing to listen on {addr} without TLS: a non-loopback address needs --tls-cert and \
         --tls-key (or listen on 127.0.0.1)"
    )]
    NeedsTls { addr: std::net::SocketAddr },
    #[error("--tls-cert and --tls-key go together: give both or neither")]
    HalfTls,
    #[error("invalid ingest root ({why}): {}", path.display())]
    BadRoot {
        why: String,
        path: std::path::PathBuf,
    },
    #[error("invalid TLS material ({why}): {}", path.display())]
    BadTls {
        why: String,
        path: std::path::PathBuf,
    },
    #[error("invalid setting: {0}")]
    BadConfig(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the web server stopped: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    App(#[from] AppError),
}

/// A request that failed: the status and a message for people.
#[derive(Debug, Clone)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    /// Answer in JSON (the page's scripts asked), not HTML.
    pub json: bool,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            json: false,
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }
    /// An internal failure: the detail stays on the server's stderr.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("vigie serve: internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error: the server could not answer this request (see the server's log)",
        )
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status = match e.class() {
            ErrorClass::Usage => StatusCode::BAD_REQUEST,
            ErrorClass::Refused { .. } => StatusCode::FORBIDDEN,
            ErrorClass::Integrity { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorClass::Stopped => StatusCode::CONFLICT,
        };
        let message = match &e {
            // Said without the server-side path.
            AppError::Io { source, .. } => {
                format!("cannot read or write a file of the case ({source})")
            }
            other => vigie_app::evidence::error_chain(other),
        };
        Self::new(status, message)
    }
}

impl From<tokio::task::JoinError> for PageError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.json {
            return (
                self.status,
                axum::Json(serde_json::json!({ "error": self.message })),
            )
                .into_response();
        }
        // The language is not known here: the page is bilingual.
        let body = crate::html::error_page(self.status, &self.message);
        (self.status, body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_errors_keep_their_class() {
        let e: PageError = AppError::BadInput("invalid --at".into()).into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e: PageError = AppError::Io {
            path: "/secret/place".into(),
            source: std::io::Error::other("boom"),
        }
        .into();
        assert!(!e.message.contains("/secret"), "{}", e.message);
    }
}
