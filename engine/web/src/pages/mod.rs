//! The pages: one module per screen, each a thin view over the application layer.
//!
//! Pattern of every handler: the [`Authed`] extractor (session, account read now), the
//! case right ([`security::may_enter`]), then the blocking application call on a worker
//! thread ([`blocking`]), then HTML. A case page takes a [`CaseVisit`] (the first two in
//! one extractor), runs case work through [`in_case`] (the case entered as the account,
//! so the layer records the page view as one entry under the account's id) and answers
//! with [`html::case_page`](crate::html::case_page).

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

/// Run `work` off the async threads inside `case_id`, entered as the signed-in account for
/// `page` (the reason: `given`, the form's, else the session's purpose, see [`reason`]).
///
/// Why one function: every page that reads case data goes through the layer's case entry
/// the same way, so the audit entry (account, reason, `web: page`) cannot differ between
/// pages. `work` gets the entered case and the server state.
pub async fn in_case<T, F>(
    st: &Arc<WebState>,
    who: &Authed,
    case_id: &str,
    page: &str,
    given: Option<String>,
    work: F,
) -> Result<T, PageError>
where
    F: FnOnce(EnteredCase, &WebState) -> Result<T, PageError> + Send + 'static,
    T: Send + 'static,
{
    let why = reason(st, who, case_id, given.as_deref());
    let (st, who, case_id, page) = (st.clone(), who.clone(), case_id.to_owned(), page.to_owned());
    blocking(move || {
        let case = enter(&st, &who, &case_id, &page, why.as_deref())?;
        work(case, &st)
    })
    .await
}

/// The UTC time stamp (to the millisecond) that makes an export's file name unique.
pub fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ").to_string()
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

/// A request to a page of one case (`/c/{case}/...`): the server state, the signed-in
/// account and the case id, already checked against the account's right to it
/// ([`case_right`]).
///
/// Why an extractor: every case page starts with the same three steps (session, address,
/// right), and a handler that takes a `CaseVisit` cannot forget the right. Handlers that
/// answer in JSON check the right themselves (their refusals are JSON too).
pub struct CaseVisit {
    pub st: Arc<WebState>,
    pub who: Authed,
    pub case_id: String,
}

impl axum::extract::FromRequestParts<Arc<WebState>> for CaseVisit {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &Arc<WebState>,
    ) -> Result<Self, Self::Rejection> {
        use axum::extract::Path;
        use axum::response::IntoResponse;
        let who = Authed::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(params) =
            Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, st)
                .await
                .map_err(IntoResponse::into_response)?;
        let case = params.get("case").ok_or_else(|| {
            PageError::internal("a case page's route names no {case}").into_response()
        })?;
        let case_id = case_right(st, &who, case)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            st: st.clone(),
            who,
            case_id,
        })
    }
}

/// A form or query as name → value (the last value of repeated names), and every value of
/// repeated names in order.
#[derive(Debug, Default)]
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
