//! Search results for people and for other programs: a text table, CSV, JSON, and an HTML
//! contact sheet.
//!
//! The contact sheet is one self-contained file (inline CSS, no script, no remote
//! resource): thumbnails are *relative* links into the case's derived data, so the sheet
//! keeps working when the case directory is copied as a whole, and each card links to the
//! second of the source where the track starts (`file:///...#t=SECONDS`, the W3C media
//! fragment that browsers' players honour). Every text taken from the index is
//! HTML-escaped: zone and camera names are operator-typed and must not become markup.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use vigie_core::ColourShare;

use crate::search::{Hit, SearchResult};

fn colours(list: &[ColourShare]) -> String {
    list.iter()
        .map(|c| format!("{} {:.0}%", c.colour, c.share * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The class as shown to people: `bicycle (ridden)` for a bicycle or motorcycle with its
/// rider attached (its upper/lower colours are the rider's).
pub fn class_summary(h: &Hit) -> String {
    if h.track.ridden {
        format!("{} (ridden)", h.track.label)
    } else {
        h.track.label.clone()
    }
}

/// Whole-object colours, then upper/lower body ones (a person's, or a ridden vehicle's
/// rider's) when present.
pub fn colour_summary(h: &Hit) -> String {
    let t = &h.track;
    let mut parts = Vec::new();
    if !t.colours.is_empty() {
        parts.push(colours(&t.colours));
    }
    if !t.upper_colours.is_empty() {
        parts.push(format!("upper {}", colours(&t.upper_colours)));
    }
    if !t.lower_colours.is_empty() {
        parts.push(format!("lower {}", colours(&t.lower_colours)));
    }
    if parts.is_empty() {
        // Monochrome (infrared) footage, or nothing measured: said, not left blank, so an
        // investigator does not read an empty cell as a missing value (doc/colour.md).
        return NO_COLOUR.to_owned();
    }
    parts.join("; ")
}

/// What a track with no colour at all shows (its colour lists are empty; no colour flag
/// matches it).
pub const NO_COLOUR: &str = "no colour";

fn zones(h: &Hit) -> String {
    let mut out: Vec<String> = h
        .track
        .zones
        .iter()
        .map(|z| {
            if z.dwell_ms > 0 {
                format!("{} (dwell {:.1}s)", z.zone, z.dwell_ms as f64 / 1000.0)
            } else {
                z.zone.clone()
            }
        })
        .collect();
    for c in &h.track.crossings {
        let d = match c.direction {
            vigie_core::CrossingDirection::In => "in",
            vigie_core::CrossingDirection::Out => "out",
        };
        out.push(format!("{}:{d}", c.line));
    }
    out.join(", ")
}

/// The plate as read (`AB-123-CD 92%`), with the fuzzy likelihood when ranked by it.
pub fn plate_summary(h: &Hit) -> String {
    let Some(p) = &h.track.plate else {
        return String::new();
    };
    let mut s = format!("{} {:.0}%", p.display, p.confidence * 100.0);
    if let Some(l) = h.plate_likelihood {
        let _ = write!(s, " (match {l:.2})");
    }
    s
}

fn when(h: &Hit) -> String {
    let shown = match &h.first_wall {
        Some(w) => w.clone(),
        None => format!("+{:.1}s", h.track.first_pts_ms as f64 / 1000.0),
    };
    match &h.recorded_first_wall {
        Some(r) => format!("{shown} (recorder {r})"),
        None => shown,
    }
}

fn duration_s(h: &Hit) -> f64 {
    (h.track.last_pts_ms - h.track.first_pts_ms) as f64 / 1000.0
}

fn direction(h: &Hit) -> &'static str {
    h.track.direction.map(|d| d.name()).unwrap_or("-")
}

/// A plain-text table, one line per hit, with a summary line. The `plate` column is
/// there only when a hit has a plate.
pub fn table(r: &SearchResult) -> String {
    let with_plate = r.hits.iter().any(|h| h.track.plate.is_some());
    let mut header = vec![
        "source",
        "camera",
        "track",
        "class",
        "start",
        "dur_s",
        "dir",
        "speed_px_s",
        "colours",
        "zones",
        "thumbnail",
    ];
    if with_plate {
        header.insert(4, "plate");
    }
    let rows: Vec<Vec<String>> = r
        .hits
        .iter()
        .map(|h| {
            let mut row = vec![
                h.track.source_id.clone(),
                h.track.camera.clone(),
                h.track.track_id.to_string(),
                class_summary(h),
                when(h),
                format!("{:.1}", duration_s(h)),
                direction(h).to_string(),
                format!("{:.0}", h.track.speed_px_s),
                colour_summary(h),
                zones(h),
                h.track.thumbnail.clone().unwrap_or_default(),
            ];
            if with_plate {
                row.insert(4, plate_summary(h));
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|s| s.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[&str], out: &mut String| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    if !rows.is_empty() {
        line(&header, &mut out);
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(&cells, &mut out);
        }
    }
    let _ = writeln!(
        out,
        "{} track{}{}{}",
        r.hits.len(),
        if r.hits.len() == 1 { "" } else { "s" },
        if r.query.plate_fuzzy.is_some() && !r.hits.is_empty() {
            ", most likely plate first (likelihood x read confidence)"
        } else {
            ""
        },
        if r.truncated {
            format!(" (more matched: raise --limit above {})", r.query.limit)
        } else {
            String::new()
        }
    );
    for h in &r.hints {
        let _ = writeln!(out, "note: {h}");
    }
    out
}

/// One CSV cell: quoted when needed (RFC 4180); text that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
fn csv_cell(s: &str, text: bool) -> String {
    let s = if text && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV with a header row. The plate columns come after the first ones (empty for tracks
/// without a plate), then `ridden` (`true` for a bicycle or motorcycle with its rider),
/// each added at the end so programs that read the earlier columns by position keep
/// working.
pub fn csv(r: &SearchResult) -> String {
    let mut out = String::from(
        "source_id,camera,track_id,class,confidence,first_wall,last_wall,first_pts_ms,\
         last_pts_ms,direction,heading_deg,speed_px_s,size_frac,colours,zones,thumbnail,\
         source_path,plate,plate_text,plate_format,plate_confidence,plate_likelihood,ridden\n",
    );
    for h in &r.hits {
        let t = &h.track;
        let cells = [
            csv_cell(&t.source_id, true),
            csv_cell(&t.camera, true),
            t.track_id.to_string(),
            csv_cell(&t.label, true),
            format!("{:.3}", t.confidence),
            h.first_wall.clone().unwrap_or_default(),
            h.last_wall.clone().unwrap_or_default(),
            t.first_pts_ms.to_string(),
            t.last_pts_ms.to_string(),
            t.direction
                .map(|d| d.name().to_string())
                .unwrap_or_default(),
            t.heading_deg.map(|d| format!("{d:.1}")).unwrap_or_default(),
            format!("{:.1}", t.speed_px_s),
            format!("{:.5}", t.size_frac),
            csv_cell(&colour_summary(h), true),
            csv_cell(&zones(h), true),
            csv_cell(t.thumbnail.as_deref().unwrap_or_default(), true),
            csv_cell(h.source_path.as_deref().unwrap_or_default(), true),
            csv_cell(
                t.plate
                    .as_ref()
                    .map(|p| p.display.as_str())
                    .unwrap_or_default(),
                true,
            ),
            csv_cell(
                t.plate
                    .as_ref()
                    .map(|p| p.text.as_str())
                    .unwrap_or_default(),
                true,
            ),
            csv_cell(
                t.plate
                    .as_ref()
                    .map(|p| p.format.as_str())
                    .unwrap_or_default(),
                true,
            ),
            t.plate
                .as_ref()
                .map(|p| format!("{:.3}", p.confidence))
                .unwrap_or_default(),
            h.plate_likelihood
                .map(|l| format!("{l:.3}"))
                .unwrap_or_default(),
            t.ridden.to_string(),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
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

/// Percent-encode one URL path segment (RFC 3986 unreserved characters pass).
fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn encode_path(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| encode_segment(s))
        .collect::<Vec<_>>()
        .join("/")
}

/// `to` relative to directory `from`, both absolute and normalised; `None` otherwise.
fn relative(from: &Path, to: &Path) -> Option<Vec<String>> {
    let norm = |p: &Path| -> Option<Vec<String>> {
        if !p.is_absolute() {
            return None;
        }
        let mut v = Vec::new();
        for c in p.components() {
            match c {
                Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
                Component::Normal(s) => v.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => return None,
            }
        }
        Some(v)
    };
    let (f, t) = (norm(from)?, norm(to)?);
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out: Vec<String> = std::iter::repeat_n("..".to_string(), f.len() - common).collect();
    out.extend(t[common..].iter().cloned());
    Some(out)
}

/// A thumbnail path from the index is only used if it stays inside the derived directory.
fn safe_relative(p: &str) -> Option<PathBuf> {
    let path = Path::new(p);
    if path.as_os_str().is_empty()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    Some(path.to_path_buf())
}

/// Where the contact sheet is written and where the thumbnails are, both absolute.
#[derive(Debug, Clone)]
pub struct SheetOptions {
    /// Directory the sheet file will be written in.
    pub sheet_dir: PathBuf,
    /// The case's derived directory (thumbnail paths in the index are relative to it).
    pub derived_dir: PathBuf,
    /// Heading shown at the top (e.g. the case id); escaped.
    pub title: String,
}

const SHEET_CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.3em}pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}\
.grid{display:flex;flex-wrap:wrap;gap:12px}\
.card{border:1px solid #ccc;border-radius:6px;padding:8px;width:220px;font-size:.85em}\
.card img{max-width:204px;max-height:160px;display:block;margin-bottom:6px}\
.noimg{width:204px;height:80px;background:#eee;display:flex;align-items:center;\
justify-content:center;color:#888;margin-bottom:6px}.k{color:#666}";

/// The HTML contact sheet.
pub fn sheet(r: &SearchResult, o: &SheetOptions) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src file: 'self'; style-src 'unsafe-inline'\">\
         <title>{t}</title><style>{SHEET_CSS}</style></head><body>\n<h1>{t}</h1>\n",
        t = html_escape(&o.title)
    );
    let query = serde_json::to_string_pretty(&r.query).unwrap_or_default();
    let _ = writeln!(
        h,
        "<p>{} track{}{}</p>\n<pre>{}</pre>",
        r.hits.len(),
        if r.hits.len() == 1 { "" } else { "s" },
        if r.truncated {
            " (more matched; raise --limit)"
        } else {
            ""
        },
        html_escape(&query)
    );
    for hint in &r.hints {
        let _ = writeln!(h, "<p class=\"k\">{}</p>", html_escape(hint));
    }
    h.push_str("<div class=\"grid\">\n");
    for hit in &r.hits {
        let t = &hit.track;
        h.push_str("<div class=\"card\">");
        let img = t
            .thumbnail
            .as_deref()
            .and_then(safe_relative)
            .and_then(|rel| relative(&o.sheet_dir, &o.derived_dir.join(rel)));
        match img {
            Some(segs) => {
                let _ = write!(
                    h,
                    "<img src=\"{}\" alt=\"track {}\">",
                    html_escape(&encode_path(&segs)),
                    t.track_id
                );
            }
            None => h.push_str("<div class=\"noimg\">no thumbnail</div>"),
        }
        let seconds = t.first_pts_ms.max(0) as f64 / 1000.0;
        let _ = write!(
            h,
            "<div><b>{}</b> #{} <span class=\"k\">{}</span></div>",
            html_escape(&class_summary(hit)),
            t.track_id,
            html_escape(direction(hit))
        );
        let _ = write!(
            h,
            "<div>{} <span class=\"k\">({:.1}s)</span></div>",
            html_escape(&when(hit)),
            duration_s(hit)
        );
        if t.plate.is_some() {
            let _ = write!(
                h,
                "<div>plate <b>{}</b></div>",
                html_escape(&plate_summary(hit))
            );
        }
        let _ = write!(h, "<div>{}</div>", html_escape(&colour_summary(hit)));
        let z = zones(hit);
        if !z.is_empty() {
            let _ = write!(h, "<div class=\"k\">{}</div>", html_escape(&z));
        }
        let label = format!("{} / {} at {seconds:.1}s", t.camera, t.source_id);
        match hit
            .source_path
            .as_deref()
            .map(Path::new)
            .and_then(|p| relative(Path::new("/"), p))
        {
            Some(segs) => {
                let _ = write!(
                    h,
                    "<div><a href=\"file:///{}#t={seconds:.3}\">{}</a></div>",
                    html_escape(&encode_path(&segs)),
                    html_escape(&label)
                );
            }
            None => {
                let _ = write!(h, "<div>{}</div>", html_escape(&label));
            }
        }
        h.push_str("</div>\n");
    }
    h.push_str("</div>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = relative(Path::new("/case/out"), Path::new("/case/derived/t/1.jpg")).unwrap();
        assert_eq!(r, ["..", "derived", "t", "1.jpg"]);
        let r = relative(Path::new("/case/derived"), Path::new("/case/derived/1.jpg")).unwrap();
        assert_eq!(r, ["1.jpg"]);
        assert!(relative(Path::new("rel"), Path::new("/x")).is_none());
        assert!(safe_relative("../../etc/passwd").is_none());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("thumbs/1.jpg").is_some());
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell("a,b", true), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\"", true), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)", true), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("plain", true), "plain");
    }

    #[test]
    fn escaping_and_encoding() {
        assert_eq!(
            html_escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(encode_segment("cam 1#a?.mp4"), "cam%201%23a%3F.mp4");
    }
}
