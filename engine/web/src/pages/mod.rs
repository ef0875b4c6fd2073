//! The pages: one module per screen, each a thin view over the application layer.
//!
//! Pattern of every handler: the [`Authed`] extractor (session, account read now), the
//! case right ([`security::may_enter`]), then the blocking application call on a worker
//! thread ([`blocking`]), then HTML. A handler that uses case data enters the case with
//! [`enter`], so the layer records the page view as one entry under the account's id.

pub mod audit;
pub mod camera;
pub mod cases;
pub mod dashboard;
pub mod ingest;
pub mod login;
pub mod player;
pub mod search;
pub mod synopsis;

use std::sync::Arc;

use vigie_app::EnteredCase;

use crate::error::PageError;
use crate::security::{self, Authed};
use crate::state::WebState;

/// Run blocking application work off the async threads.
pub async fn blocking<T, F>(f: F) -> Result<T, PageError>
where
    F: FnOnce() -> Result<T, PageError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}

/// The reason recorded with a page's entries: the form's, else the purpose stated for
/// this case in this session (`None`: the case's own purpose).
pub fn reason(st: &WebState, who: &Authed, case_id: &str, given: Option<&str>) -> Option<String> {
    given
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            st.sessions
                .lock()
                .expect("sessions lock")
                .get(&who.sid)
                .and_then(|s| s.purposes.get(case_id).cloned())
        })
}

/// Enter `case_id` as the signed-in account for `page` (call inside [`blocking`]).
pub fn enter(
    st: &WebState,
    who: &Authed,
    case_id: &str,
    page: &str,
    reason: Option<&str>,
) -> Result<EnteredCase, PageError> {
    let op = who.operator()?;
    Ok(EnteredCase::enter(
        &st.app,
        Some(case_id),
        &op,
        reason,
        &format!("web: {page}"),
    )?)
}

/// Check the case id and the account's right to it; the id back.
pub async fn case_right(
    st: &Arc<WebState>,
    who: &Authed,
    case_id: &str,
) -> Result<String, PageError> {
    security::may_enter(st, who, case_id).await?;
    Ok(case_id.to_owned())
}

/// A form or query as name → value (the last value of repeated names), and every value of
/// repeated names in order.
pub struct Fields {
    pub pairs: Vec<(String, String)>,
}

impl Fields {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }
    /// The value of `name`, trimmed, `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
    pub fn str(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// A number, with a clear refusal naming the field.
    pub fn num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, PageError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| PageError::bad(format!("invalid {name} {v:?}: a number is expected"))),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Fields {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(Fields::new)
            .map_err(|_| PageError::bad("the address's query is malformed"))
    }
}

/// A submitted form (urlencoded body).
pub struct Form(pub Fields);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Form {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), security::MAX_FORM_BYTES)
            .await
            .map_err(|_| PageError::bad("the form is too large or was cut"))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(|p| Form(Fields::new(p)))
            .map_err(|_| PageError::bad("the form is malformed"))
    }
}
