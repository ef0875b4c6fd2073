//! The browser side of the browser tests: Debian's `chromium`, headless, driven through
//! `chromedriver` (WebDriver) with `fantoccini`, plus the few helpers a flow needs
//! (find, click, fill, wait for an attribute) — each waits by polling the page with a
//! deadline, never by sleeping a fixed time.
//!
//! Where the programs live: `VIGIE_CHROMIUM` / `VIGIE_CHROMEDRIVER`, else
//! `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`, which `tools/fetch-system-deps --browser` installs).

use std::future::Future;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long an element or a page may take to appear after an action.
pub const WAIT: Duration = Duration::from_secs(30);
/// The page area's size (width, height in CSS pixels), and so the screenshots'.
pub const VIEWPORT: (u32, u32) = (1280, 900);
/// Screenshots larger than this are quantised with `pngquant` when it is installed.
const SCREENSHOT_MAX_BYTES: usize = 300 * 1024;

/// The programs the browser tests run, when both are installed.
pub struct Programs {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Programs {
    /// `None` (and a visible skip, a failure under CI) when one is missing.
    pub fn find() -> Option<Self> {
        let pick = |var: &str, default: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        let programs = Self {
            chromium: pick("VIGIE_CHROMIUM", "/usr/bin/chromium"),
            chromedriver: pick("VIGIE_CHROMEDRIVER", "/usr/bin/chromedriver"),
        };
        for p in [&programs.chromium, &programs.chromedriver] {
            if !p.is_file() {
                vigie_core::test_support::skip(&format!(
                    "{} absent: the browser tests need Debian's chromium and chromium-driver \
                     (tools/fetch-system-deps --browser)",
                    p.display()
                ));
                return None;
            }
        }
        Some(programs)
    }
}

/// A `chromedriver` this test started, on a free loopback port; killed when dropped.
pub struct ChromeDriver {
    child: Child,
    pub port: u16,
}

impl ChromeDriver {
    pub fn start(programs: &Programs) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&programs.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", programs.chromedriver.display()));
        let driver = Self { child, port };
        let t0 = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                t0.elapsed() < WAIT,
                "chromedriver did not listen on port {port} within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `f` until it gives a value, at most `timeout`; panic naming `what` otherwise.
pub async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            t0.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Run `flow` in a fresh session on the server at `base`, on a runtime of its own; its
/// result. The flow runs as a task so that a failure still closes the browser (and says
/// where it was) before the panic goes on.
pub fn run_flow<T, F, Fut>(
    programs: &Programs,
    driver: &ChromeDriver,
    base: &str,
    downloads: &Path,
    flow: F,
) -> T
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let b = Browser::open(programs, driver, base, downloads).await;
        let result = tokio::spawn(flow(b.clone())).await;
        if result.is_err() {
            b.report_failure().await;
        }
        let _ = b.client.clone().close().await;
        match result {
            Ok(v) => v,
            Err(e) => match e.try_into_panic() {
                Ok(p) => std::panic::resume_unwind(p),
                Err(e) => panic!("the browser flow did not finish: {e}"),
            },
        }
    })
}

/// One headless Chromium session on the server at `base` (`http://127.0.0.1:PORT`).
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// Where to save screenshots (`VIGIE_SCREENSHOTS=1`), else `None`.
    pub shots: Option<PathBuf>,
    /// Where the browser saves downloads.
    pub downloads: PathBuf,
}

impl Browser {
    /// A session whose downloads land in `downloads`, without asking.
    pub async fn open(
        programs: &Programs,
        driver: &ChromeDriver,
        base: &str,
        downloads: &Path,
    ) -> Self {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": programs.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    "--lang=en-US",
                    "--no-first-run",
                    "--no-default-browser-check",
                ],
                "prefs": {
                    "intl.accept_languages": "en-US,en",
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .expect("a Chromium session through chromedriver");
        let shots = std::env::var("VIGIE_SCREENSHOTS")
            .is_ok_and(|v| v == "1")
            .then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../doc/images"));
        let b = Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            shots,
            downloads: downloads.to_owned(),
        };
        b.fit_viewport().await;
        b
    }

    /// Make the page area itself 1280×900 (the window's size counts the browser's own
    /// frame, even headless), so pages lay out, and screenshots come out, at that size.
    async fn fit_viewport(&self) {
        let frame = self
            .js(
                "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
                vec![],
            )
            .await;
        let extra = |i: usize| frame[i].as_u64().unwrap_or(0) as u32;
        self.client
            .set_window_size(VIEWPORT.0 + extra(0), VIEWPORT.1 + extra(1))
            .await
            .expect("the window's size");
    }

    /// Open a page of the server by its path.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current address's path and query.
    pub async fn path(&self) -> String {
        let u = self
            .client
            .current_url()
            .await
            .expect("the current address");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }
    }

    /// Wait until the address's path starts with `prefix`; the path and query back.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let what = format!("an address starting with {prefix}");
        poll(&what, WAIT, || async {
            let p = self.path().await;
            p.starts_with(prefix).then_some(p)
        })
        .await
    }

    /// The element matching `css`, once it is there.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found within {WAIT:?}: {e}"))
    }

    /// Wait for the page that shows `css`; fail at once, with the server's message, on
    /// an error page (instead of waiting for an element that will never come).
    pub async fn expect(&self, css: &str) {
        self.expect_for(css, WAIT).await
    }

    pub async fn expect_for(&self, css: &str, timeout: Duration) {
        let what = format!("a page with {css}");
        let error = poll(&what, timeout, || async {
            if self.count(css).await > 0 {
                return Some(None);
            }
            if self.count("#error-message").await > 0 {
                return Some(Some(self.text("main").await));
            }
            None
        })
        .await;
        if let Some(e) = error {
            panic!(
                "expected {css}, got an error page at {}: {e}",
                self.path().await
            );
        }
    }

    /// Click the element matching `css` (found again if the page redrew it meanwhile).
    pub async fn click(&self, css: &str) {
        let what = format!("a click on {css}");
        poll(&what, WAIT, || async {
            self.find(css).await.click().await.ok()
        })
        .await;
    }

    /// Click the element matching `css` at (`fx`, `fy`), fractions of its width and height
    /// from its top-left corner, as a mouse does (a drawing on a canvas).
    pub async fn click_at(&self, css: &str, fx: f64, fy: f64) {
        self.find(css).await;
        // In the middle of the window, then clicked at window coordinates (WebDriver's
        // offsets from an element count from the centre of its visible part).
        let rect = self
            .js(
                "const e = document.querySelector(arguments[0]); \
                 e.scrollIntoView({block: 'center', inline: 'center'}); \
                 const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height];",
                vec![json!(css)],
            )
            .await;
        let r = |i: usize| rect[i].as_f64().unwrap_or(0.0);
        let (x, y) = ((r(0) + fx * r(2)).round(), (r(1) + fy * r(3)).round());
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x,
                y,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client
            .perform_actions(mouse)
            .await
            .unwrap_or_else(|e| panic!("click {css} at ({fx}, {fy}): {e}"));
    }

    /// Type `text` into the field matching `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Choose the option of value `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Set a field's value as its own picker would (date inputs, whose typed form depends
    /// on the browser's locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.js(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); \
             e.dispatchEvent(new Event('change', {bubbles: true})); return null;",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// Run a script in the page; its result.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// An attribute of the first element matching `css` (`None`: no such element or
    /// attribute), read in one step (no stale element).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); \
             return e ? e.getAttribute(arguments[1]) : null;",
            vec![json!(css), json!(name)],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// Wait until the first element matching `css` has attribute `name` satisfying `ok`;
    /// its value back.
    pub async fn wait_attr(&self, css: &str, name: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_attr_for(css, name, WAIT, ok).await
    }

    pub async fn wait_attr_for(
        &self,
        css: &str,
        name: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let what = format!("{css}[{name}] as expected");
        poll(&what, timeout, || async {
            self.attr(css, name).await.filter(|v| ok(v))
        })
        .await
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.js(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await
        .as_u64()
        .unwrap_or(0) as usize
    }

    /// The text of the first element matching `css` (empty when none).
    pub async fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            vec![json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Whether an `<img>` matching `css` has decoded a picture.
    pub async fn image_loaded(&self, css: &str) -> bool {
        self.js(
            "const e = document.querySelector(arguments[0]); \
             return !!(e && e.complete && e.naturalWidth > 0);",
            vec![json!(css)],
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    /// Bring the element matching `css` to the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        self.js(
            "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView(); return null;",
            vec![json!(css)],
        )
        .await;
    }

    /// Click the link matching `css` and wait for the browser to have saved `name` in its
    /// downloads folder; the file's bytes.
    pub async fn download(&self, css: &str, name: &str) -> Vec<u8> {
        self.click(css).await;
        let path = self.downloads.join(name);
        let partial = self.downloads.join(format!("{name}.crdownload"));
        let what = format!("the download of {name}");
        poll(&what, WAIT, || async {
            (path.is_file() && !partial.exists())
                .then(|| std::fs::read(&path).ok())
                .flatten()
        })
        .await
    }

    /// Save the window as `doc/images/<name>.png` when `VIGIE_SCREENSHOTS=1`. A picture
    /// over [`SCREENSHOT_MAX_BYTES`] (a frame of footage fills much of the player's page)
    /// is quantised to 256 colours with Debian's `pngquant` when it is installed.
    pub async fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::create_dir_all(dir).expect("doc/images");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        if png.len() > SCREENSHOT_MAX_BYTES {
            let quantised = Command::new("pngquant")
                .args([
                    "--force",
                    "--skip-if-larger",
                    "--strip",
                    "--ext",
                    ".png",
                    "256",
                ])
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
            if !quantised {
                eprintln!(
                    "{} is {} kB: install pngquant to make it smaller",
                    path.display(),
                    png.len() / 1024
                );
            }
        }
        eprintln!("screenshot: {}", path.display());
    }

    /// After a failure: the address, the page's main text and a screenshot in the
    /// temporary folder, printed for whoever reads the test's output.
    pub async fn report_failure(&self) {
        let path = self.path().await;
        let main = self.text("main").await;
        let shot = std::env::temp_dir().join("vigie-browser-failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        eprintln!(
            "browser was at {path}; screenshot {}\n--- page text ---\n{}",
            shot.display(),
            main.chars().take(3000).collect::<String>()
        );
    }
}
