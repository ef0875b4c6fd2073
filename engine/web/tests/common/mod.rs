//! The web tests' harness: a temporary data root with accounts and an open case, the
//! server on an ephemeral loopback port (its own runtime on a thread), and a small
//! HTTP/1.1 client over a raw socket. A raw client, because these tests send what
//! browsers and HTTP libraries would tidy up: foreign `Host` headers, `..` in paths,
//! forged tokens.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vigie_app::accounts::Accounts;
use vigie_app::admin::Administration;
use vigie_app::types::OpenRequest;
use vigie_app::{App, Operator};
use vigie_web::{ServeConfig, WebState};

pub const ADMIN: &str = "admin";
pub const OPERATOR: &str = "op-granted";
pub const OUTSIDER: &str = "op-outsider";
pub const PASSWORD: &str = "correct horse battery staple";
pub const CASE: &str = "case-web-1";
pub const OTHER_CASE: &str = "case-web-2";

/// A running server over a temporary installation.
pub struct Server {
    pub home: tempfile::TempDir,
    pub root: tempfile::TempDir,
    pub app: App,
    pub addr: SocketAddr,
    pub state: Arc<WebState>,
}

impl Server {
    /// Accounts (an administrator, an operator granted [`CASE`], one granted nothing), two
    /// open cases, and the server with one ingest root.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    pub fn start_with(tune: impl FnOnce(&mut ServeConfig)) -> Self {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let app = App::new(
            vigie_case::DataRoot::new(home.path().to_owned()),
            Arc::new(vigie_audit::SystemClock),
        );
        let accounts = Accounts::open(&app).unwrap();
        accounts.add(None, ADMIN, true, PASSWORD).unwrap();
        let admin = Operator::new(ADMIN).unwrap();
        accounts
            .add(Some(&admin), OPERATOR, false, PASSWORD)
            .unwrap();
        accounts
            .add(Some(&admin), OUTSIDER, false, PASSWORD)
            .unwrap();
        let today = chrono::Utc::now().date_naive();
        for id in [CASE, OTHER_CASE] {
            Administration::new(&app, admin.clone(), None)
                .open_case(OpenRequest {
                    case_id: Some(id.into()),
                    procedure: "2026/00042".into(),
                    authorization: "OJ-2026-117".into(),
                    magistrate: "Mme Juge".into(),
                    authorized_on: today,
                    valid_until: None,
                    operator: ADMIN.into(),
                    purpose: "vigie web tests".into(),
                })
                .unwrap();
        }
        accounts.grant(&admin, OPERATOR, CASE).unwrap();
        let mut cfg = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            roots: vec![root.path().to_owned()],
            ..ServeConfig::default()
        };
        tune(&mut cfg);
        let (addr, state) = serve(app.clone(), cfg, |b| (b.local_addr(), b.state()));
        Self {
            home,
            root,
            app,
            addr,
            state,
        }
    }

    pub fn client(&self) -> Client {
        Client {
            addr: self.addr,
            host: format!("127.0.0.1:{}", self.addr.port()),
            cookies: BTreeMap::new(),
        }
    }

    /// A client signed in as `id`.
    pub fn signed_in(&self, id: &str) -> Client {
        let mut c = self.client();
        c.login(id, PASSWORD);
        c
    }

    pub fn accounts(&self) -> Accounts {
        Accounts::open(&self.app).unwrap()
    }

    /// The events (`params.event`) of a case's log, in order.
    pub fn case_events(&self, case_id: &str) -> Vec<(String, String, String)> {
        let (entries, _) = vigie_app::view::audit_entries(&self.app, Some(case_id)).unwrap();
        entries
            .into_iter()
            .map(|e| {
                (
                    e.params["event"].as_str().unwrap_or_default().to_owned(),
                    e.operator.clone(),
                    e.action.as_str().to_owned(),
                )
            })
            .collect()
    }

    pub fn count_events(&self, case_id: &str, kind: &str) -> usize {
        self.case_events(case_id)
            .iter()
            .filter(|(k, _, _)| k == kind)
            .count()
    }

    /// Consultation entries of a case's log.
    pub fn consultations(&self, case_id: &str) -> usize {
        self.case_events(case_id)
            .iter()
            .filter(|(_, _, a)| a == "consultation")
            .count()
    }

    pub fn case_dir(&self, case_id: &str) -> PathBuf {
        self.home.path().join("cases").join(case_id)
    }
}

/// One HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The value of the first `name="csrf" value="..."` in the page.
    pub fn csrf(&self) -> String {
        let t = self.text();
        let i = t
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &t[i + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
    /// How many times `needle` occurs in the body.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }
}

/// A client with a cookie jar, over raw HTTP/1.1 (one connection per request).
pub struct Client {
    pub addr: SocketAddr,
    pub host: String,
    pub cookies: BTreeMap<String, String>,
}

impl Client {
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str(&format!("Host: {}\r\n", self.host));
        }
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            req.push_str("Accept: text/html\r\n");
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method != "GET" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let res = parse(&raw);
        for c in res.headers_named("set-cookie") {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if c.contains("Max-Age=0") || v.is_empty() {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies
                        .insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        res
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn get_json(&mut self, path: &str) -> Response {
        self.request("GET", path, &[("Accept", "application/json")], b"")
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_with(path, form, &[])
    }

    pub fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let body = form_body(form);
        let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.request("POST", path, &h, body.as_bytes())
    }

    /// Sign in through the form (asserting success).
    pub fn login(&mut self, id: &str, password: &str) {
        let res = self.try_login(id, password);
        assert_eq!(res.status, 303, "{}", res.text());
        assert_eq!(
            res.header("location"),
            Some("/cases"),
            "login of {id} failed"
        );
    }

    pub fn try_login(&mut self, id: &str, password: &str) -> Response {
        let form = self.get("/login");
        let token = form.csrf();
        self.post(
            "/login",
            &[("csrf", &token), ("id", id), ("password", password)],
        )
    }

    /// The CSRF token of the session (from a page with forms).
    pub fn csrf(&mut self) -> String {
        self.get("/cases").csrf()
    }
}

pub fn form_body(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn enc(s: &str) -> String {
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

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// Serve `app` with `cfg` on a thread of its own (a two-worker runtime) and return what
/// `started` reads from the bound server (its address, its state) before it runs.
pub fn serve<T: Send + 'static>(
    app: App,
    cfg: ServeConfig,
    started: fn(&vigie_web::Bound) -> T,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let bound = vigie_web::bind(app, cfg).await.unwrap();
            tx.send(started(&bound)).unwrap();
            bound.run().await.unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(60)).unwrap()
}

/// `tools/gen-synthetic` into `dir`: a 12 s clip with 3 coloured objects (640x360,
/// 10 fps, H.264). `None` when the ffmpeg CLI is missing (the test then says so).
pub fn synthetic(dir: &Path) -> Option<PathBuf> {
    let clip = dir.join("cam-synthetic.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/gen-synthetic");
    let ok = std::process::Command::new("bash")
        .arg(script)
        .arg(&clip)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipped: the ffmpeg CLI is needed to generate footage (tools/setup)");
        return None;
    }
    // The truth file is not footage: keep the root to recordings.
    let _ = std::fs::remove_file(dir.join("cam-synthetic.truth.json"));
    Some(clip)
}

/// A 6 s clip of one camera for camera synopses (640x360, 10 fps, H.264): a `colour` box
/// 60x40 crossing at height `y` from 1 s to 5 s, over noise (so each file's bytes differ
/// with the colour). `None` when the ffmpeg CLI is missing (the test then says so).
pub fn camera_clip(dir: &Path, name: &str, colour: &str, y: u32) -> Option<PathBuf> {
    let out = dir.join(name);
    let ok = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "color=c=0x7a7a7a:size=640x360:rate=10:duration=6",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("color=c={colour}:size=60x40:rate=10:duration=6"),
        ])
        .args([
            "-filter_complex",
            &format!(
                "[0:v]noise=alls=6:allf=t[bg];[bg][1:v]overlay=x='100+60*(t-1)':y={y}:\
                 eval=frame:enable='between(t,1,5)'[o]"
            ),
        ])
        .args(["-map", "[o]", "-c:v", "libx264", "-preset", "veryfast"])
        .args(["-pix_fmt", "yuv420p", "-g", "10"])
        .arg(&out)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipped: the ffmpeg CLI is needed to generate footage (tools/setup)");
        return None;
    }
    Some(out)
}

/// Ingest `file` (under the server's root 0) through the ingest page as camera `camera`
/// recorded from `start`, and analyse it with the model-free motion detector; the source
/// id.
pub fn ingest_through_the_page(c: &mut Client, file: &str, camera: &str, start: &str) -> String {
    let page = c.get(&format!("/c/{CASE}/ingest?root=0"));
    assert_eq!(page.status, 200, "{}", page.text());
    let token = page.csrf();
    let r = c.post(
        &format!("/c/{CASE}/ingest"),
        &[
            ("csrf", &token),
            ("path", &format!("0:{file}")),
            ("start", start),
            ("camera", camera),
            ("detector", "motion"),
            ("sampling", "all"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = wait_for_job(c);
    assert_eq!(job["phase"], "done", "{job}");
    job["analysed"][0].as_str().unwrap().to_owned()
}

/// Poll the case's ingest/analysis job until it leaves those phases (at most 300 s); its
/// last state.
pub fn wait_for_job(c: &mut Client) -> serde_json::Value {
    let t0 = std::time::Instant::now();
    loop {
        let r = c.request(
            "GET",
            &format!("/c/{CASE}/job"),
            &[("Accept", "application/json"), ("X-Vigie-Poll", "1")],
            b"",
        );
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        if !matches!(v["phase"].as_str(), Some("ingest" | "analyse")) {
            return v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "analysis too slow: {v}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
