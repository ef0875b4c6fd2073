//! Ingest and analyse: pick files or folders under the roots the administrator opened
//! when starting the server (`vigie serve --root DIR`), then run `evidence::ingest` and
//! `analyze::analyze_sources` in the background ([`crate::jobs`]), with live progress.
//!
//! Paths come from the browser only as (root number, path relative to it); each is
//! resolved (links followed) and refused unless it lies inside that root. The browser
//! never names a path of its own.

use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Response};
use vigie_app::analyze::DetectorChoice;
use vigie_app::bench::InputChoice;
use vigie_app::types::SamplingMode;

use super::{case_right, in_case, CaseVisit, Fields, Form};
use crate::error::PageError;
use crate::html::{self, esc, url};
use crate::jobs::{self, JobRequest};
use crate::security::Authed;
use crate::state::WebState;

/// `root` number and path relative to it → the real path, inside that root.
pub fn resolve(roots: &[PathBuf], root: usize, rel: &str) -> Result<PathBuf, PageError> {
    let base = roots
        .get(root)
        .ok_or_else(|| PageError::bad(format!("no ingest root number {root}")))?;
    let rel = FsPath::new(rel);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(PageError::forbidden(
            "refused: the path leaves the ingest roots (only paths inside them are taken)",
        ));
    }
    let real = base
        .join(rel)
        .canonicalize()
        .map_err(|_| PageError::bad("no such file or folder under the ingest root"))?;
    if !real.starts_with(base) {
        return Err(PageError::forbidden(
            "refused: the path leaves the ingest roots (a link points outside them)",
        ));
    }
    Ok(real)
}

fn parse_pick(roots: &[PathBuf], value: &str) -> Result<PathBuf, PageError> {
    let (i, rel) = value
        .split_once(':')
        .ok_or_else(|| PageError::bad(format!("invalid selection {value:?}")))?;
    let i: usize = i
        .parse()
        .map_err(|_| PageError::bad(format!("invalid selection {value:?}")))?;
    resolve(roots, i, rel)
}

pub async fn page(
    CaseVisit { st, who, case_id }: CaseVisit,
    q: Fields,
) -> Result<Response, PageError> {
    let lang = who.lang;
    let c = url(&case_id);
    let roots = &st.cfg.roots;
    let mut b = String::new();
    b.push_str(&format!("<h2>{}</h2>", lang.t("ingest.progress")));
    b.push_str(&format!(
        "<div id=\"job\" data-url=\"/c/{c}/job\" data-none=\"{}\"></div>\
         <form method=\"post\" action=\"/c/{c}/job/cancel\" id=\"job-cancel-form\">{}<button type=\"submit\" id=\"job-cancel\">{}</button></form>",
        esc(lang.t("ingest.none_running")),
        html::csrf_field(&who),
        lang.t("ingest.cancel")
    ));
    b.push_str(&format!("<h2>{}</h2>", lang.t("ingest.roots")));
    if roots.is_empty() {
        b.push_str(&html::notice("warn", "no-roots", lang.t("ingest.no_roots")));
    }
    b.push_str("<ul id=\"roots\">");
    for (i, r) in roots.iter().enumerate() {
        b.push_str(&format!(
            "<li><a href=\"/c/{c}/ingest?root={i}\" id=\"root-{i}\" data-test=\"root\">{}</a></li>",
            esc(&r.display().to_string())
        ));
    }
    b.push_str("</ul>");
    let root: Option<usize> = q.num("root")?;
    if let Some(ri) = root {
        let rel = q.str("dir");
        let dir = resolve(roots, ri, &rel)?;
        let base = &roots[ri];
        let mut entries: Vec<(bool, String, String)> = Vec::new();
        let rd = std::fs::read_dir(&dir).map_err(|_| PageError::bad("cannot read this folder"))?;
        for e in rd.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let Ok(real) = e.path().canonicalize() else {
                continue;
            };
            if !real.starts_with(base) {
                continue; // a link out of the root is not shown
            }
            let Ok(relp) = real.strip_prefix(base) else {
                continue;
            };
            let Some(relp) = relp.to_str() else { continue };
            entries.push((real.is_dir(), name, relp.to_owned()));
        }
        entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        b.push_str(&format!(
            "<form method=\"post\" action=\"/c/{c}/ingest\" id=\"ingest-form\" class=\"card\">{}",
            html::csrf_field(&who)
        ));
        b.push_str(&format!(
            "<p class=\"path\" id=\"browse-path\">{}/{}</p>",
            esc(&base.display().to_string()),
            esc(&rel)
        ));
        if !rel.is_empty() {
            let parent = FsPath::new(&rel)
                .parent()
                .and_then(|p| p.to_str())
                .unwrap_or("");
            b.push_str(&format!(
                "<p><a href=\"/c/{c}/ingest?root={ri}&amp;dir={}\" id=\"browse-up\">{}</a></p>",
                url(parent),
                lang.t("ingest.up")
            ));
        }
        b.push_str("<ul class=\"files\" id=\"files\">");
        for (is_dir, name, relp) in &entries {
            let value = format!("{ri}:{relp}");
            let label = if *is_dir {
                format!(
                    "<a href=\"/c/{c}/ingest?root={ri}&amp;dir={}\" data-test=\"browse-dir\">{}/</a>",
                    url(relp),
                    esc(name)
                )
            } else {
                esc(name)
            };
            b.push_str(&format!(
                "<li><input type=\"checkbox\" name=\"path\" value=\"{v}\" id=\"pick-{id}\" data-test=\"pick\" data-name=\"{n}\"> {label}</li>",
                v = esc(&value),
                id = esc(&relp.replace(['/', '.', ' '], "-")),
                n = esc(name),
            ));
        }
        b.push_str("</ul>");
        b.push_str(&html::text_input(
            "ingest-camera",
            "camera",
            lang.t("ingest.camera"),
            "",
            "",
        ));
        b.push_str(&html::text_input(
            "ingest-start",
            "start",
            lang.t("ingest.start"),
            "",
            "placeholder=\"2026-11-30T14:00:00+01:00\"",
        ));
        b.push_str(&analysis_fields(lang));
        b.push_str(&format!(
            "<button type=\"submit\" id=\"ingest-submit\">{}</button></form>",
            lang.t("ingest.submit")
        ));
    }
    b.push_str(&format!(
        "<form method=\"post\" action=\"/c/{c}/ingest\" id=\"analyse-all-form\" class=\"card\">{}<input type=\"hidden\" name=\"analyse_all\" value=\"1\">{}<button type=\"submit\" id=\"analyse-all\">{}</button></form>",
        html::csrf_field(&who),
        analysis_fields(lang),
        lang.t("ingest.analyse_all")
    ));
    Ok(html::case_page(
        &who,
        &case_id,
        "ingest",
        lang.t("ingest.title"),
        &b,
    ))
}

fn analysis_fields(lang: crate::i18n::Lang) -> String {
    format!(
        "<label>{}</label><select name=\"detector\" data-test=\"detector\">\
         <option value=\"nanodet\">NanoDet (objects: persons, vehicles…)</option>\
         <option value=\"motion\">motion (moving objects, no model)</option></select>\
         <label>{}</label><input name=\"sampling\" value=\"10fps\" data-test=\"sampling\">\
         <label>{}</label><select name=\"detector_input\" data-test=\"detector-input\">\
         <option value=\"auto\">{}</option><option value=\"768x448\">{}</option></select>",
        lang.t("ingest.detector"),
        lang.t("ingest.sampling"),
        lang.t("ingest.detail"),
        lang.t("ingest.detail.auto"),
        lang.t("ingest.detail.fine"),
    )
}

pub async fn start(
    CaseVisit { st, who, case_id }: CaseVisit,
    Form(f): Form,
) -> Result<Response, PageError> {
    let paths = f
        .all("path")
        .iter()
        .map(|v| parse_pick(&st.cfg.roots, v))
        .collect::<Result<Vec<_>, _>>()?;
    let analyse_all = f.get("analyse_all").is_some();
    if paths.is_empty() && !analyse_all {
        return Err(PageError::bad("select at least one file or folder"));
    }
    let detector = match f.get("detector").as_deref() {
        None | Some("nanodet") => DetectorChoice::Nanodet,
        Some("motion") => DetectorChoice::Motion,
        Some(other) => {
            return Err(PageError::bad(format!(
                "invalid detector {other:?} (expected nanodet or motion)"
            )))
        }
    };
    // The two sizes an investigator chooses between (doc/models.md "768 x 448 on
    // request"); the other forced sizes are for measurement, on the command line.
    let detector_input = match f.get("detector_input").as_deref() {
        None | Some("auto") => InputChoice::Auto,
        Some("768x448") => InputChoice::Wide768x448,
        Some(other) => {
            return Err(PageError::bad(format!(
                "invalid detector input {other:?} (expected auto or 768x448)"
            )))
        }
    };
    let sampling: SamplingMode = f
        .get("sampling")
        .unwrap_or_else(|| "10fps".into())
        .parse()
        .map_err(|e| PageError::bad(format!("{e}")))?;
    {
        let jobs = st.jobs.lock().expect("jobs lock");
        if jobs
            .get(&case_id)
            .is_some_and(|j| j.lock().expect("job lock").running())
        {
            return Err(PageError::new(
                axum::http::StatusCode::CONFLICT,
                "work is already running for this case: wait for it or stop it",
            ));
        }
    }
    let req = JobRequest {
        paths,
        roots: st.cfg.roots.clone(),
        camera: f.get("camera"),
        start: f.get("start"),
        detector,
        detector_input,
        sampling,
        analyse_all,
    };
    let command = if req.paths.is_empty() {
        "analyse"
    } else {
        "ingest and analyse"
    };
    let op = who.operator()?;
    let why = f.get("reason");
    let job = in_case(&st, &who, &case_id, command, why, move |case, st| {
        Ok(jobs::start(st.app.clone(), case, &op, req))
    })
    .await?;
    st.jobs
        .lock()
        .expect("jobs lock")
        .insert(case_id.clone(), job);
    Ok(crate::see_other(&format!("/c/{}/ingest", url(&case_id))))
}

pub async fn status(
    State(st): State<Arc<WebState>>,
    who: Authed,
    Path(case_id): Path<String>,
) -> Result<Response, PageError> {
    let case_id = case_right(&st, &who, &case_id)
        .await
        .map_err(PageError::json)?;
    let job = st.jobs.lock().expect("jobs lock").get(&case_id).cloned();
    Ok(match job {
        Some(j) => Json(j.lock().expect("job lock").snapshot()).into_response(),
        None => Json(serde_json::json!({ "phase": "none" })).into_response(),
    })
}

pub async fn cancel(
    CaseVisit {
        st,
        who: _,
        case_id,
    }: CaseVisit,
) -> Result<Response, PageError> {
    if let Some(j) = st.jobs.lock().expect("jobs lock").get(&case_id) {
        j.lock().expect("job lock").cancel.cancel();
    }
    Ok(crate::see_other(&format!("/c/{}/ingest", url(&case_id))))
}
