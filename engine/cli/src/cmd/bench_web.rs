//! `vigie bench web`: the investigator's desk timed from outside, over HTTP.
//!
//! What it answers (issue 17): is a search page answered in at most 200 ms (p95) on a case
//! of a million tracks, and does a player show its first frame in at most a second on a
//! 1080p H.264 source and on `vtest.avi`? So it measures what a browser waits for: the
//! whole request, from the connection to the last byte of the page (thumbnails are
//! lazy-loaded by the browser afterwards and are not part of the page), against the real
//! server (`vigie_web`, started in this process on a loopback port), signed in, in a real
//! case (`vigie_app::bench_web`: account checks, case entry, consultation entries, coverage
//! over registered sources all run as they do for an investigator).
//!
//! Nothing touches the operator's data root: the case lives in a scratch installation in a
//! temporary folder (removed at the end unless `--keep`). The footage and the generated
//! clips are declared to the measurement door first (hashed, in the machine log of the
//! operator's installation) like every benchmark.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use vigie_app::bench_web::{self, WebBenchRequest};
use vigie_app::measure::Computed;
use vigie_app::types::QueryArgs;
use vigie_index::synth::{self, QueryKind, Rng, SynthConfig};

use crate::output::{outln, print_json, Outcome};
use crate::Global;

/// The targets.
const SEARCH_P95_TARGET_MS: f64 = 200.0;
const FIRST_FRAME_TARGET_MS: f64 = 1000.0;

#[derive(Debug, clap::Args)]
pub struct WebArgs {
    /// Synthetic tracks in the case's index.
    #[arg(long, default_value_t = 1_000_000)]
    pub tracks: u64,
    /// Tracks per registered source (the case holds tracks / this many sources).
    #[arg(long, default_value_t = 10_000)]
    pub tracks_per_source: u64,
    /// Timed search pages per query family (8 families).
    #[arg(long, default_value_t = 40)]
    pub runs: usize,
    /// Player openings timed per source.
    #[arg(long, default_value_t = 5)]
    pub player_runs: usize,
    /// The 1080p H.264 clip to play (default: one generated with the ffmpeg CLI).
    #[arg(long, value_name = "FILE")]
    pub clip: Option<PathBuf>,
    /// Length of the generated 1080p clip, seconds.
    #[arg(long, default_value_t = 60)]
    pub clip_seconds: u32,
    /// Seed of the generator and of the queries.
    #[arg(long, default_value_t = 0x5649_4749)]
    pub seed: u64,
    /// Consultation entries written in the case's log before timing (a case in use for
    /// months has thousands; every page view reads the log when it enters the case).
    #[arg(long, default_value_t = 0)]
    pub prior_entries: u64,
    /// Keep the scratch installation in this (new) folder instead of a removed temp dir.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

pub fn run(a: WebArgs, global: &Global) -> anyhow::Result<Outcome> {
    if a.runs == 0 || a.tracks == 0 || a.tracks_per_source == 0 || a.player_runs == 0 {
        bail!("invalid --runs/--tracks/--tracks-per-source/--player-runs 0 (expected >= 1)");
    }
    let vtest = vigie_core::paths::default_footage();
    if !vtest.exists() {
        bail!(
            "no {} (run tools/setup to fetch the default footage)",
            vtest.display()
        );
    }
    let (dir, remove) = match &a.keep {
        Some(d) => {
            if d.exists() && std::fs::read_dir(d)?.next().is_some() {
                bail!("--keep {} is not empty: give a new folder", d.display());
            }
            (d.clone(), false)
        }
        None => (
            std::env::temp_dir().join(format!("vigie-bench-web-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = bench_in(&a, global, &dir, &vtest);
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn note(global: &Global, what: &str) {
    if global.progress() {
        eprintln!("bench web: {what}");
    }
}

fn bench_in(a: &WebArgs, global: &Global, dir: &Path, vtest: &Path) -> anyhow::Result<Outcome> {
    let clip = match &a.clip {
        Some(c) => c.clone(),
        None => {
            let c = dir.join("clips/h264-1080p.mp4");
            std::fs::create_dir_all(c.parent().expect("a parent"))?;
            note(global, "generating the 1080p H.264 clip (ffmpeg, libx264)");
            bench_web::generate_1080p_clip(&c, a.clip_seconds)?;
            c
        }
    };
    let cfg = SynthConfig {
        tracks: a.tracks,
        tracks_per_source: a.tracks_per_source,
        seed: a.seed,
        ..SynthConfig::default()
    };
    let stubs = bench_web::generate_source_stubs(&dir.join("sources"), synth::source_count(&cfg))?;
    let mut files = vec![vtest.to_owned(), clip.clone()];
    files.extend(stubs.iter().cloned());
    let app = vigie_app::App::from_env()?;
    let m = vigie_app::Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "bench web",
        &[Computed::DecodeTiming],
        &files,
        global.reason.as_deref(),
    )?;
    note(
        global,
        &format!(
            "building the scratch case: {} sources, {} synthetic tracks",
            stubs.len(),
            a.tracks
        ),
    );
    let case = bench_web::web_bench_case(
        &m,
        &WebBenchRequest {
            root: dir.join("root"),
            synth: cfg.clone(),
            stubs,
            footage: vec![vtest.to_owned(), clip.clone()],
            prior_entries: a.prior_entries,
        },
    )?;
    let (addr, _state) = vigie_web::spawn(
        case.app.clone(),
        vigie_web::ServeConfig {
            listen: "127.0.0.1:0".parse().expect("an address"),
            ..Default::default()
        },
    )?;
    let mut c = Client::new(addr);
    c.login(&case.operator, &case.password)?;
    let cid = case.case_id.clone();

    // Search pages, family by family.
    note(global, "timing search pages");
    let mut rng = Rng::new(a.seed ^ 0x5745_4221);
    let mut families = Vec::new();
    let mut all = Vec::new();
    for kind in QueryKind::ALL {
        let url = |rng: &mut Rng| {
            let q = synth::random_query_with(rng, kind, case.span_ms, &case.plates);
            format!("/c/{cid}/search?run=1&{}", query_string(&q.to_args()))
        };
        for _ in 0..2 {
            c.page(&url(&mut rng))?;
        }
        let (mut times, mut hits, mut bytes) = (Vec::new(), 0u64, 0u64);
        for _ in 0..a.runs {
            let u = url(&mut rng);
            let t = Instant::now();
            let r = c.page(&u)?;
            times.push(ms(t));
            hits += r.count().unwrap_or(0);
            bytes += r.body.len() as u64;
        }
        all.extend(times.iter().copied());
        let f = Figures::of(times);
        families.push(json!({
            "family": kind.name(),
            "runs": a.runs,
            "p50_ms": f.p50, "p95_ms": f.p95, "p99_ms": f.p99, "max_ms": f.max,
            "mean_hits": hits as f64 / a.runs as f64,
            "mean_page_bytes": bytes / a.runs as u64,
        }));
    }
    let overall = Figures::of(all);

    // What every request pays before its page's own work: the session, the account and
    // its right to the case (a thumbnail that does not exist, after a search).
    let mut auth = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let r = c.get(&format!("/c/{cid}/thumb/none.jpg"), "image/*")?;
        auth.push(ms(t));
        if r.status != 404 {
            bail!("unexpected answer {} to a missing thumbnail", r.status);
        }
    }
    let auth = Figures::of(auth);

    // Players: the page, then its first frame.
    note(global, "timing players");
    let mut players = Vec::new();
    for (file, source) in &case.footage_sources {
        let probe = vigie_decode::probe(file, None, None)?;
        let (mut first, mut page, mut frame) = (Vec::new(), Vec::new(), Vec::new());
        let mut verified_ms = None;
        for run in 0..a.player_runs {
            let t = Instant::now();
            let p = c.page(&format!("/c/{cid}/play?src={source}"))?;
            let t_page = ms(t);
            let text = String::from_utf8_lossy(&p.body).into_owned();
            let frame_url = attribute(&text, "data-frame-url")
                .context("no frame address in the player page")?;
            let t1 = Instant::now();
            let f = c.get(&format!("{frame_url}?at_ms=0"), "image/*")?;
            if f.status != 200 || f.body.len() < 100 {
                bail!("the first frame was refused ({})", f.status);
            }
            frame.push(ms(t1));
            page.push(t_page);
            first.push(ms(t));
            if run == 0 {
                // How long the background re-hash takes on this file.
                let status_url = attribute(&text, "data-status-url")
                    .context("no verification address in the player page")?;
                loop {
                    let s = c.get(&status_url, "application/json")?;
                    let v: serde_json::Value = serde_json::from_slice(&s.body)?;
                    match v["verification"]["state"].as_str() {
                        Some("in_progress") => std::thread::sleep(Duration::from_millis(10)),
                        Some("verified") => {
                            verified_ms = Some(ms(t));
                            break;
                        }
                        other => bail!("the source did not verify: {other:?} {v}"),
                    }
                    if t.elapsed() > Duration::from_secs(600) {
                        bail!("verification took more than 10 minutes");
                    }
                }
            }
        }
        let first_frame_cold_ms = first[0];
        let (first, page, frame) = (Figures::of(first), Figures::of(page), Figures::of(frame));
        players.push(json!({
            "file": file,
            "codec": probe.codec,
            "resolution_px": [probe.width, probe.height],
            "duration_ms": probe.duration_ms,
            "size_bytes": std::fs::metadata(file)?.len(),
            "runs": a.player_runs,
            "first_frame_p50_ms": first.p50,
            "first_frame_max_ms": first.max,
            "first_frame_first_run_ms": first_frame_cold_ms,
            "page_p50_ms": page.p50,
            "frame_p50_ms": frame.p50,
            "verified_after_ms": verified_ms,
            "target_met": first.max <= FIRST_FRAME_TARGET_MS,
        }));
    }

    let log_entries_at_end = vigie_app::view::audit_entries(&case.app, Some(&cid))?
        .0
        .len();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let out = json!({
        "machine": {
            "cores": cores,
            "cpu": cpu_model(),
            "note": "figures from this machine; the server and the client share its cores",
        },
        "case": {
            "tracks": a.tracks,
            "registered_sources": case.generation.sources + case.footage_sources.len() as u64,
            "index_bytes": case.index_bytes,
            "generation_s": case.generation.seconds,
            "analyse_s": case.generation.analyse_seconds,
            "ingest_s": case.ingest_seconds,
            "log_entries_at_start": case.log_entries,
            "log_entries_at_end": log_entries_at_end,
        },
        "search_pages": {
            "runs": overall.n,
            "p50_ms": overall.p50, "p95_ms": overall.p95, "p99_ms": overall.p99,
            "max_ms": overall.max,
            "target_p95_ms": SEARCH_P95_TARGET_MS,
            "target_met": overall.p95 <= SEARCH_P95_TARGET_MS,
            "families": families,
        },
        "request_overhead": {
            "what": "a missing thumbnail: session, account, right to the case, 404",
            "runs": auth.n, "p50_ms": auth.p50, "p95_ms": auth.p95,
        },
        "players": players,
        "target_first_frame_ms": FIRST_FRAME_TARGET_MS,
    });
    if global.json {
        print_json(&out)?;
    } else {
        outln!(
            "case: {} tracks over {} registered sources ({:.0} MiB index), {} log entries at start; {cores} cores ({})",
            a.tracks,
            case.generation.sources,
            case.index_bytes as f64 / 1_048_576.0,
            case.log_entries,
            cpu_model()
        );
        outln!(
            "search page   p50 {:7.1} ms  p95 {:7.1} ms  p99 {:7.1} ms  ({} pages; target p95 <= {SEARCH_P95_TARGET_MS} ms: {})",
            overall.p50,
            overall.p95,
            overall.p99,
            overall.n,
            if overall.p95 <= SEARCH_P95_TARGET_MS { "met" } else { "NOT met" }
        );
        for f in &families {
            outln!(
                "  {:28} p50 {:7.1}  p95 {:7.1}  p99 {:7.1} ms  {:5.1} hits",
                f["family"].as_str().unwrap_or(""),
                f["p50_ms"].as_f64().unwrap_or(0.0),
                f["p95_ms"].as_f64().unwrap_or(0.0),
                f["p99_ms"].as_f64().unwrap_or(0.0),
                f["mean_hits"].as_f64().unwrap_or(0.0),
            );
        }
        outln!(
            "request overhead (session + account + case right) p50 {:.2} ms, p95 {:.2} ms",
            auth.p50,
            auth.p95
        );
        for p in &players {
            outln!(
                "player {} ({} {}x{}): first frame p50 {:.0} ms, max {:.0} ms (page {:.0} + frame {:.0}); verified after {:.0} ms",
                p["file"].as_str().unwrap_or(""),
                p["codec"].as_str().unwrap_or(""),
                p["resolution_px"][0],
                p["resolution_px"][1],
                p["first_frame_p50_ms"].as_f64().unwrap_or(0.0),
                p["first_frame_max_ms"].as_f64().unwrap_or(0.0),
                p["page_p50_ms"].as_f64().unwrap_or(0.0),
                p["frame_p50_ms"].as_f64().unwrap_or(0.0),
                p["verified_after_ms"].as_f64().unwrap_or(f64::NAN),
            );
        }
    }
    Ok(Outcome::Success)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

struct Figures {
    n: usize,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl Figures {
    fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        let at = |p: f64| {
            if v.is_empty() {
                return 0.0;
            }
            v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
        };
        Self {
            n: v.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The search form's fields for a query (the same names as the CLI's flags).
fn query_string(a: &QueryArgs) -> String {
    let pairs: Vec<(&str, &Option<String>)> = vec![
        ("class", &a.class),
        ("colour", &a.colour),
        ("upper", &a.upper),
        ("lower", &a.lower),
        ("direction", &a.direction),
        ("zone", &a.zone),
        ("dwell_min", &a.dwell_min),
        ("crosses", &a.crosses),
        ("from", &a.from),
        ("to", &a.to),
        ("min_size", &a.min_size),
        ("camera", &a.camera),
        ("min_speed", &a.min_speed),
        ("max_speed", &a.max_speed),
        ("plate", &a.plate),
        ("plate_fuzzy", &a.plate_fuzzy),
        ("limit", &a.limit),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The first `name="..."` attribute value of a page.
fn attribute(page: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let at = page.find(&key)? + key.len();
    Some(page[at..at + page[at..].find('"')?].replace("&amp;", "&"))
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The result count of a search page.
    fn count(&self) -> Option<u64> {
        attribute(&String::from_utf8_lossy(&self.body), "data-count")?
            .parse()
            .ok()
    }
}

/// A signed-in browser, reduced to what the benchmark needs: HTTP/1.1 over loopback, one
/// connection per request (as the timings should include connecting), a cookie jar.
struct Client {
    addr: SocketAddr,
    cookies: Vec<(String, String)>,
}

impl Client {
    fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            cookies: Vec::new(),
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        accept: &str,
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let mut s = TcpStream::connect(self.addr)?;
        s.set_read_timeout(Some(Duration::from_secs(600)))?;
        s.set_nodelay(true)?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nAccept: {accept}\r\n",
            self.addr.port()
        );
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if method != "GET" {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())?;
        s.write_all(body)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .context("an incomplete HTTP answer")?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .context("no HTTP status")?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        for (k, v) in &headers {
            if k == "set-cookie" {
                if let Some((name, value)) = v.split(';').next().and_then(|c| c.split_once('=')) {
                    self.cookies.retain(|(n, _)| n != name.trim());
                    if !value.is_empty() && !v.contains("Max-Age=0") {
                        self.cookies
                            .push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn get(&mut self, path: &str, accept: &str) -> anyhow::Result<Response> {
        self.request("GET", path, accept, b"")
    }

    /// A page that must be answered (200).
    fn page(&mut self, path: &str) -> anyhow::Result<Response> {
        let r = self.get(path, "text/html")?;
        if r.status != 200 {
            let text = String::from_utf8_lossy(&r.body);
            bail!(
                "{path} answered {}: {}",
                r.status,
                text.chars().take(600).collect::<String>()
            );
        }
        Ok(r)
    }

    fn login(&mut self, id: &str, password: &str) -> anyhow::Result<()> {
        let form = self.get("/login", "text/html")?;
        let text = String::from_utf8_lossy(&form.body).into_owned();
        let token = text
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .context("no sign-in form")?
            .to_owned();
        let body = format!(
            "csrf={}&id={}&password={}",
            enc(&token),
            enc(id),
            enc(password)
        );
        let r = self.request("POST", "/login", "text/html", body.as_bytes())?;
        let to = r
            .headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.as_str());
        if r.status != 303 || to != Some("/cases") {
            bail!("the benchmark account could not sign in ({})", r.status);
        }
        Ok(())
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}
