//! The technical dossier: what a service attaches to its compliance commitment and impact
//! assessment (the exact functions of the software, its architecture and its security
//! measures).
//!
//! Generated, not written by hand, so it cannot drift from the code: the feature list
//! comes from the CLI's own command definitions, the model table from the compiled
//! allowlist, the audit fields and categories from the audit crate's types, the storage
//! layout from this crate's constants. One document model renders to Markdown and HTML.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigie_audit::{Action, Entry};

use crate::report::{esc, measured_with, reading_of_recall, MeasuredQuality};

/// One allowlisted model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    /// What it does (e.g. `object-detection`): never a biometric task.
    pub task: String,
    pub sha256: String,
    pub licence: String,
    /// Where the file comes from (package registry and package).
    pub source: String,
}

/// One user-facing function (a CLI command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    pub command: String,
    pub summary: String,
}

/// What the dossier is generated from.
#[derive(Debug, Clone)]
pub struct DossierInput {
    pub software_version: String,
    pub generated_at: DateTime<Utc>,
    pub features: Vec<Feature>,
    pub models: Vec<ModelInfo>,
    /// The data root this installation uses.
    pub data_root: PathBuf,
    /// The cache of fetched artefacts.
    pub cache_dir: PathBuf,
    /// The models' measured quality compiled into this build (`models/measured.toml`).
    pub measured: Vec<MeasuredQuality>,
}

enum Block {
    H(u8, String),
    P(String),
    List(Vec<String>),
    Table(Vec<String>, Vec<Vec<String>>),
    Code(String),
}

fn document(d: &DossierInput) -> Vec<Block> {
    use Block::*;
    let mut b = Vec::new();
    b.push(H(
        1,
        format!("vigie — technical dossier ({})", d.software_version),
    ));
    b.push(P(format!(
        "Generated on {} from the installed software itself. This document describes the exact functions, architecture, data flows, storage and security measures of vigie, for the compliance commitment and the data protection impact assessment (CPP art. 230-20 to 230-27, R.40-39 to R.40-41; directive 2016/680).",
        d.generated_at.format("%Y-%m-%d %H:%M UTC")
    )));

    b.push(H(2, "1. Purpose and legal frame".into()));
    b.push(P("vigie is a judicial cross-referencing tool (logiciel de rapprochement judiciaire) for recorded CCTV footage: it lets investigators search footage by what objects look like and how they move (class, colour, direction, time, place in the image). It never processes biometric data: it does not detect, recognise, compare or track faces, and identifies no person. It works only inside one judicial procedure, authorised by the magistrate for that procedure; every action is logged, and data are erased at closure and within 3 years at most.".into()));

    b.push(H(2, "2. Functions".into()));
    if d.features.is_empty() {
        b.push(P("No function is exposed by this build.".into()));
    } else {
        b.push(Table(
            vec!["Command".into(), "Function".into()],
            d.features
                .iter()
                .map(|f| vec![format!("`vigie {}`", f.command), f.summary.clone()])
                .collect(),
        ));
    }

    b.push(H(2, "3. Models (compiled allowlist)".into()));
    if d.models.is_empty() {
        b.push(P(
            "No model is allowlisted in this build: no analysis model can be loaded.".into(),
        ));
    } else {
        b.push(Table(
            vec![
                "Model".into(),
                "Task".into(),
                "SHA-256".into(),
                "Licence".into(),
                "Source".into(),
            ],
            d.models
                .iter()
                .map(|m| {
                    vec![
                        m.id.clone(),
                        m.task.clone(),
                        m.sha256.clone(),
                        m.licence.clone(),
                        m.source.clone(),
                    ]
                })
                .collect(),
        ));
    }
    b.push(P(
        "Not offered: the CenterNet (MobileNetV3) object detector shipped in the same npm package as NanoDet measured better on street frames, but the repository of its weights states no licence, so it is not on the allowlist; it can be added only once a licence for the weights is established.".into(),
    ));

    limits(&mut b, d);

    b.push(H(
        2,
        "5. The non-biometric guarantee and how it is enforced".into(),
    ));
    b.push(List(vec![
        "Compiled allowlist: the only models vigie can load are listed, with their SHA-256, in the binary itself (table above); no option, file or variable adds a model at run time.".into(),
        "Deny-list at build time: the build fails if anything an allowlisted model declares (id, task, description, labels, file or source path) names a biometric function, in English or French (face, visage, portrait, head pose, person re-identification, gait, iris, fingerprint, voice, age, gender, emotion, ethnicity, biometric...). Names are normalised first (Unicode NFKC, accents and invisible characters removed, Cyrillic and Greek look-alike letters read as Latin ones), so a look-alike spelling does not pass.".into(),
        "Known biometric models: the SHA-256 of known face models is compiled in; the build fails if the manifest lists one, and vigie refuses those bytes at run time, whatever they are called. This guards against configuration mistakes, not against a modified copy of the source code that re-converts a model (a modified source code is out of scope: only the allowlist, the review of the manifest and the audit trail apply).".into(),
        "Hash check at load: a model file's bytes are hashed and compared with the allowlist before they are handed to the inference runtime, from memory, so the bytes checked are the bytes run.".into(),
        "Pinned inference runtime: the inference runtime (ONNX Runtime 1.31.1) is itself pinned by SHA-256 in the binary (the CPU library; in the GPU build, the GPU library and the two provider libraries it loads). The variable ORT_DYLIB_PATH may only name one of those exact files: any other library is refused, nothing is loaded, the command ends with exit status 3 and an alert is recorded. The library is read once, hashed, and those same bytes are loaded from a sealed in-memory copy, so a file swapped after the check is never run. Not pinned: the machine's CUDA libraries (GPU build) and system libraries, under the administrator's control.".into(),
        "Alert on refusal: any refused model or runtime (not allowlisted, wrong hash, known biometric model, unpinned runtime library) raises an alert recorded in the machine-wide audit log and, when a case is open, in the case's log; the exploitation report lists it.".into(),
        "Only one crate of the source code (engine/policy) may link the inference runtime, so no other code path can run a model.".into(),
    ]));

    b.push(H(2, "6. Architecture and data flows".into()));
    b.push(List(vec![
        "Collection: `vigie ingest` hashes each footage file (SHA-256, read-only) and records it in the case's evidence registry; the footage itself is never modified or copied.".into(),
        "Analysis: footage is decoded and analysed by the allowlisted models; what they produce (index, thumbnails, crops, synopses) is derived data, kept in the case's `derived/` directory. Before any use, a source's hash is checked again and changed evidence is refused.".into(),
        "Consultation: searches run on the case's derived data only; each is logged with its parameters and result count.".into(),
        "Disclosure: exports (extracts, frames, synopses, contact sheets, reports) named by a bare file name are written to the case's `exports/` and `reports/` directories (erased at closure); an explicit destination elsewhere is honoured and logged with its path and SHA-256 as a copy outside the case, which the erasure entry lists as one its holder must erase.".into(),
        "Measurement: benchmarks and evaluations on public test data run outside any case through one door that records each input file's SHA-256 and what is computed in the machine-wide log before computing; no other path produces detections, tracks or plate reads outside a case.".into(),
        "Isolation: a command works in exactly one case (`--case`), entered by a named operator (`--operator`); it reads no other case's data. No network access is made at run time.".into(),
    ]));

    b.push(H(2, "7. Storage".into()));
    b.push(P(format!(
        "Data root (cases, audit logs, installation key): `{}` (set by VIGIE_HOME). Cache of fetched artefacts (runtime, models, sample footage; no case data): `{}` (set by VIGIE_CACHE).",
        d.data_root.display(),
        d.cache_dir.display()
    )));
    b.push(Code(
        "<root>/keys/installation.ed25519      signing key of the installation (0600)\n\
<root>/machine/audit.jsonl            machine-wide log: case lifecycle, alerts\n\
<root>/cases/<case>/case.json         procedure, authorisation, status\n\
<root>/cases/<case>/audit/            the case's audit log and signed head\n\
<root>/cases/<case>/evidence/         registry of ingested sources and their hashes\n\
<root>/cases/<case>/derived/          index, thumbnails, crops, synopses (erased at closure)\n\
<root>/cases/<case>/exports/          extracts handed over (erased at closure)\n\
<root>/cases/<case>/reports/          exploitation reports (kept)"
            .into(),
    ));

    b.push(H(2, "8. Audit log".into()));
    let fields = sample_entry_fields();
    b.push(P(format!(
        "Every action is an entry of an append-only JSON Lines log, written and synced before the command reports success. Fields: {}. Categories: {}.",
        fields.join(", "),
        Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
    )));
    b.push(List(vec![
        "Hash chain: each entry holds the previous entry's hash and its own SHA-256 over canonical JSON (sorted keys, no whitespace); the first entry links to a hash of the log's identity.".into(),
        "Signed head: after each entry, the last sequence number and hash are signed with the installation's Ed25519 key; the public key and the signed head appear in every exploitation report.".into(),
        "`vigie audit verify` detects any modified, deleted, inserted, reordered or truncated entry and names the first bad one; an interrupted write (crash) is reported as such.".into(),
        "Two processes never interleave entries (exclusive file lock).".into(),
        "Typed events: each entry's parameters are one typed event (case opened, renewed, closed; evidence ingested; search; export with every file's hash and destination; model loaded; alert...), written and read back by the same types, so the exploitation report cannot miss a field.".into(),
        "Entry times never go backwards within a log: an append with a clock earlier than the last entry is refused, and `vigie audit verify` fails on such an entry (a warning for entries written before vigie 0.2).".into(),
        "The authorisation is in the chain: a case log's first entry holds the procedure, authorisation, magistrate, dates and purpose; renewals and closure are entries. `case.json` and the evidence registry are caches checked against the chain on every use: a mismatch is an integrity failure with an alert (`vigie case repair` rebuilds `case.json` from the chain, logged).".into(),
        "Across logs: the machine log records each case log's head at every lifecycle event, report and disclosure, so a case log that disappears, is reset, truncated or replaced is detected by `vigie audit verify`; entering a case is refused when the machine log recorded its closure or a head its log no longer holds.".into(),
        "Anchors outside the machine: every exploitation report prints the current signed heads; each head is sent to the system journal (`/dev/log`, tag `vigie-audit`) as it is written; `vigie audit anchor` exports them to a file for the procedure record; `vigie audit verify --against FILE` checks the logs against such an anchor.".into(),
    ]));

    b.push(H(2, "9. Security measures".into()));
    b.push(List(vec![
        "Access: every directory vigie creates is mode 0700 and every file 0600 (owner only); the installation key is refused if other users can read it.".into(),
        "Authorisation: a case is opened only with a procedure number, an authorisation reference, the magistrate, the authorisation date and a purpose; work is refused in a closed or expired case, and without an operator id.".into(),
        "Evidence integrity: footage is opened read-only, hashed at ingest and re-checked before use through the same open file that is then decoded (a file renamed over it in between is not what gets processed), and its identity is checked again before any result is recorded.".into(),
        "Durability: registries and metadata are replaced atomically (temporary file, sync, rename); audit entries are synced before success is reported.".into(),
        "No network at run time: models and libraries come from package registries at installation time only.".into(),
    ]));

    b.push(H(2, "10. Retention and erasure".into()));
    b.push(List(vec![
        "`vigie case close` writes the final exploitation report, erases the case's derived data and exports, and logs an erasure entry listing what was erased (paths and sizes, not content). The audit log, the evidence registry and the reports are kept.".into(),
        "`vigie case purge-expired` does the same for every case whose authorisation has ended or which is 3 years past its authorisation date; run it daily (cron or systemd timer).".into(),
        "Erasure removes the files; on storage that keeps old blocks (SSD, snapshots, backups), use an encrypted volume for the data root so that removed data cannot be recovered.".into(),
    ]));

    b.push(H(2, "11. Threat model: a hostile operator".into()));
    b.push(P("What each kind of operator can attempt, and which mechanism catches it: a local check (refused on the spot, with an alert), the signed head (detected by `vigie audit verify`), or an external anchor (detected only against a copy kept outside the machine: a report in the procedure file, an anchor file, the system journal).".into()));
    b.push(Table(
        vec![
            "Operator".into(),
            "Attempt".into(),
            "What catches it".into(),
        ],
        vec![
            vec!["Without the account (another user)".into(), "Read or change case data, logs, keys".into(), "Local check: everything is 0700/0600; the key is refused if others can read it".into()],
            vec!["Without the account".into(), "Run vigie in someone else's case".into(), "Local check: the case is the account's; every action records the operator".into()],
            vec!["With the account".into(), "Work outside an authorised case; analyse footage with `detect`/`eval`/`bench`".into(), "Local check: every use of footage takes an entered case (refused otherwise, exit 3); measurement outside a case logs each file's SHA-256 in the machine log first".into()],
            vec!["With the account".into(), "Extend an authorisation by editing `case.json`, or reset it by deleting the file".into(), "Local check: case.json is checked against the chain on every use (exit 4, `record_mismatch` alert); only `vigie case renew` extends, and it is logged".into()],
            vec!["With the account".into(), "Swap a footage file and edit its hash in `sources.json`".into(), "Local check: the registry is checked against the collection entry (exit 4, alert)".into()],
            vec!["With the account".into(), "Edit, insert or delete an entry; cut the end of a log".into(), "Signed head: `vigie audit verify` names the first bad entry".into()],
            vec!["With the account".into(), "Put back an older copy of a case's folder (its `case.json`, log and signed head together): reopen a closed case, or undo work".into(), "Local check: entering the case is refused when the machine log recorded its closure or a later head of its log (at every lifecycle event, report and disclosure; exit 3 or 4, `record_mismatch` alert). Undoing consultations done since the last recorded head: external anchor only".into()],
            vec!["With the account".into(), "Link a case's `derived/` to another case's, or copy another case's index in".into(), "Local check: a case's folders must be its own, and every source in its index one it collected (exit 4, `record_mismatch` alert)".into()],
            vec!["With the account".into(), "Delete, reset or replace a whole case log (log and head)".into(), "Signed head of the machine log: it recorded the case and its heads; `vigie audit verify` reports the case log gone, reset or cut".into()],
            vec!["With the account".into(), "Set the clock back to backdate work, or set `VIGIE_FAKE_NOW`".into(), "Local check: a release build ignores the variable (the test clock exists only in debug test builds); an entry earlier than its predecessor is refused and fails verification; the journal's own timestamps are independent".into()],
            vec!["With the account".into(), "Load a shim ONNX Runtime (`ORT_DYLIB_PATH`) or an unlisted model".into(), "Local check: runtime and models pinned by SHA-256, bytes verified are bytes loaded; refused with an alert".into()],
            vec!["With the account (key readable by the account)".into(), "Rewrite or shorten a log and re-sign it with the installation key; delete the whole data root".into(), "External anchor only: the heads in a report kept in the procedure file, an anchor file, the system journal; `vigie audit verify --against` detects it".into()],
            vec!["With root".into(), "Change the system clock, the journal, the binary itself; preload a library; read memory".into(), "Nothing local can stop root: only records already outside the machine (reports and anchors in the procedure file, a remote journal) and the organisation's own controls (separate administration, remote logging) apply".into()],
        ],
    ));

    b.push(H(2, "12. Known limits".into()));
    b.push(List(vec![
        "The installation key is stored on the same machine: someone with the full rights of the account running vigie could re-sign a rewritten log. The signed heads printed in each report, exported by `vigie audit anchor` and sent to the system journal are the external reference: forward the journal to another machine for it to count.".into(),
        "Times are the system clock's, in UTC; the machine's clock must be kept correct (NTP).".into(),
        "File locks are trusted on the local file system only, not across machines.".into(),
    ]));
    b
}

/// "Limits of the search": what each allowlisted model was measured to find, and how to
/// read a search with no result (each exploitation report repeats it for the models its
/// case loaded).
fn limits(b: &mut Vec<Block>, d: &DossierInput) {
    use Block::*;
    b.push(H(
        2,
        "4. Limits of the search / Limites de la recherche".into(),
    ));
    b.push(P("A search finds only what the detector detected: a search with no result means that no matching object was found, not that none passed. The figures below are per frame (the share of labelled objects found on a frame, the share of detections that were labelled objects; IoU and score threshold as stated), not per track: an object in view over several analysed frames has several chances to be detected, and whether it then forms a track, or matches a colour or a direction, is not measured here. Each exploitation report states them for the models its case loaded.".into()));
    b.push(P("Une recherche ne trouve que ce que le détecteur a détecté : une recherche sans résultat signifie qu'aucun objet correspondant n'a été trouvé, non qu'aucun n'est passé. Les chiffres ci-dessous portent sur les images (part des objets annotés trouvés sur une image, part des détections justes ; seuils d'IoU et de score indiqués), non sur les pistes. Chaque rapport d'exploitation les reprend pour les modèles chargés dans l'affaire.".into()));
    let mut rows = Vec::new();
    for m in &d.models {
        let of_model: Vec<&MeasuredQuality> = d
            .measured
            .iter()
            .filter(|q| q.model_id == m.id && q.sha256 == m.sha256)
            .collect();
        if of_model.is_empty() {
            rows.push(vec![
                m.id.clone(),
                "not measured / non mesuré".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "No figure recorded in this build. / Aucun chiffre enregistré dans cette version."
                    .into(),
            ]);
        }
        for q in of_model {
            let data = format!(
                "{} ({}{}; IoU ≥ {}, score ≥ {}; {} {}: `{}`)",
                q.dataset,
                if q.kind == "held_out" {
                    "held-out data, not available to vigie's tests: figures as reported"
                } else {
                    "public test data of vigie's tests, re-checked by them"
                },
                q.images
                    .map(|n| format!(", {n} frames"))
                    .unwrap_or_default(),
                q.iou,
                q.score_threshold,
                q.date,
                measured_with(&q.vigie_version),
                q.command
            );
            for c in &q.classes {
                let fig =
                    |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
                rows.push(vec![
                    m.id.clone(),
                    data.clone(),
                    c.class.clone(),
                    c.objects
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "—".into()),
                    fig(c.recall),
                    fig(c.precision),
                    c.recall
                        .map(|r| {
                            let (en, fr) = reading_of_recall(&c.class, r, c.objects);
                            format!("{en} / {fr}")
                        })
                        .unwrap_or_else(|| "—".into()),
                ]);
            }
        }
    }
    if rows.is_empty() {
        b.push(P(
            "No model is allowlisted in this build: nothing is detected, no figure applies.".into(),
        ));
    } else {
        b.push(Table(
            vec![
                "Model".into(),
                "Data set".into(),
                "Class".into(),
                "Objects".into(),
                "Recall".into(),
                "Precision".into(),
                "Reading a search with no result / Lecture d'une recherche sans résultat".into(),
            ],
            rows,
        ));
    }
    let notes: Vec<String> = d
        .measured
        .iter()
        .filter_map(|q| {
            q.note
                .as_ref()
                .map(|n| format!("{} on {}: {n}", q.model_id, q.dataset))
        })
        .collect();
    if !notes.is_empty() {
        b.push(List(notes));
    }
}

/// The field names of an audit entry, from the type itself.
fn sample_entry_fields() -> Vec<String> {
    let sample = Entry {
        seq: 1,
        time: DateTime::<Utc>::UNIX_EPOCH,
        operator: String::new(),
        case: None,
        procedure: None,
        action: Action::Collection,
        params: serde_json::Value::Null,
        justification: String::new(),
        result: serde_json::Value::Null,
        software_version: String::new(),
        prev_hash: String::new(),
        hash: String::new(),
    };
    match serde_json::to_value(sample) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The dossier as Markdown.
pub fn render_markdown(d: &DossierInput) -> String {
    let mut out = String::new();
    for block in document(d) {
        match block {
            Block::H(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(level as usize));
            }
            Block::P(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {i}");
                }
                out.push('\n');
            }
            Block::Table(headers, rows) => {
                let _ = writeln!(
                    out,
                    "| {} |",
                    headers
                        .iter()
                        .map(|h| md_cell(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
                let _ = writeln!(out, "|{}|", vec!["---"; headers.len()].join("|"));
                for r in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let _ = writeln!(out, "```text\n{text}\n```\n");
            }
        }
    }
    out
}

/// Inline `code` spans to <code>.
fn html_inline(s: &str) -> String {
    let escaped = esc(s);
    let mut out = String::new();
    let mut open = false;
    for part in escaped.split('`') {
        out.push_str(part);
        out.push_str(if open { "</code>" } else { "<code>" });
        open = !open;
    }
    // Remove the tag added after the last part.
    let cut = if open {
        "<code>".len()
    } else {
        "</code>".len()
    };
    out.truncate(out.len() - cut);
    if !open {
        out.push_str("</code>"); // unbalanced backticks: close the span
    }
    out
}

/// The dossier as one self-contained HTML page.
pub fn render_html(d: &DossierInput) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>vigie — technical dossier</title>\n<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #bbb;padding:.25em .4em;text-align:left;vertical-align:top}th{background:#eee}code,pre{font-size:.9em;word-break:break-all}</style>\n</head>\n<body>\n",
    );
    for block in document(d) {
        match block {
            Block::H(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", html_inline(&text));
            }
            Block::P(text) => {
                let _ = writeln!(out, "<p>{}</p>", html_inline(&text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", html_inline(&i));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(headers, rows) => {
                out.push_str("<table><tr>");
                for h in headers {
                    let _ = write!(out, "<th>{}</th>", esc(&h));
                }
                out.push_str("</tr>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let _ = write!(out, "<td>{}</td>", html_inline(&c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Code(text) => {
                let _ = writeln!(out, "<pre>{}</pre>", esc(&text));
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(models: Vec<ModelInfo>) -> DossierInput {
        DossierInput {
            software_version: "vigie 0.1.0".into(),
            generated_at: DateTime::<Utc>::UNIX_EPOCH,
            features: vec![Feature {
                command: "ingest".into(),
                summary: "Hash and register footage | as evidence".into(),
            }],
            models,
            data_root: "/var/lib/vigie".into(),
            cache_dir: "/var/cache/vigie".into(),
            measured: Vec::new(),
        }
    }

    #[test]
    fn states_the_measured_recall_of_each_model() {
        let nanodet = ModelInfo {
            id: "nanodet-coco-416".into(),
            task: "object_detection".into(),
            sha256: "63".repeat(32),
            licence: "Apache-2.0".into(),
            source: "npm".into(),
        };
        let plate = ModelInfo {
            id: "clp-det".into(),
            sha256: "1b".repeat(32),
            ..nanodet.clone()
        };
        let mut d = input(vec![nanodet, plate]);
        d.measured = vec![MeasuredQuality {
            model_id: "nanodet-coco-416".into(),
            sha256: "63".repeat(32),
            kind: "held_out".into(),
            dataset: "held-out street frames".into(),
            split: "all".into(),
            images: None,
            iou: 0.5,
            score_threshold: 0.35,
            vigie_version: "0.2.0".into(),
            command: "reported".into(),
            date: "2026-12-06".into(),
            note: Some("recall only".into()),
            classes: vec![crate::report::MeasuredClassRow {
                class: "motorcycle".into(),
                objects: None,
                recall: Some(0.66),
                precision: None,
            }],
        }];
        let md = render_markdown(&d);
        assert!(md.contains("## 4. Limits of the search / Limites de la recherche"));
        assert!(md.contains("| nanodet-coco-416 | held-out street frames (held-out data, not available to vigie's tests: figures as reported; IoU ≥ 0.5, score ≥ 0.35"), "{md}");
        assert!(md.contains("| motorcycle | — | 0.66 | — | On a frame where a motorcycle is in view, the detector misses about 1 in 3"), "{md}");
        assert!(md.contains("| clp-det | not measured / non mesuré |"));
        assert!(md.contains("## 12. Known limits"));
        assert!(render_html(&d).contains("<h2>4. Limits of the search"));
    }

    #[test]
    fn lists_models_features_and_audit_fields() {
        let m = ModelInfo {
            id: "yolox-nano".into(),
            task: "object-detection".into(),
            sha256: "ab".repeat(32),
            licence: "Apache-2.0".into(),
            source: "PyPI".into(),
        };
        let md = render_markdown(&input(vec![m]));
        assert!(md.contains("| yolox-nano | object-detection | ") && md.contains(&"ab".repeat(32)));
        assert!(md.contains("| `vigie ingest` | Hash and register footage \\| as evidence |"));
        for f in ["seq", "prev_hash", "justification", "software_version"] {
            assert!(md.contains(f), "{f}");
        }
        assert!(md.contains("model_load"));
        assert!(md.contains("/var/lib/vigie"));
        // A better-measured detector whose weights carry no licence is named as not offered.
        assert!(md.contains("Not offered: the CenterNet") && md.contains("states no licence"));
        let html = render_html(&input(vec![]));
        assert!(html.contains("No model is allowlisted"));
        assert!(html.contains("<code>vigie ingest</code>"));
        assert!(!html.contains('`'), "backticks turned into <code>");
    }

    #[test]
    fn inline_code() {
        assert_eq!(html_inline("a `b` c"), "a <code>b</code> c");
        assert_eq!(html_inline("no code"), "no code");
        assert_eq!(html_inline("<x>"), "&lt;x&gt;");
    }
}
