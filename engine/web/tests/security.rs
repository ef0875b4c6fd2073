//! The guards of the web interface, over real HTTP on an ephemeral port: each attempt is
//! refused, and nothing of a case leaks in the refusal.

mod common;

use common::*;

/// Every route that changes state, with a form that would otherwise be accepted.
fn posts() -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    vec![
        ("/logout".into(), vec![]),
        (
            "/cases/new".into(),
            vec![
                ("procedure", "2026/9"),
                ("authorization", "OJ"),
                ("magistrate", "M"),
                ("authorized_on", "2026-01-01"),
                ("purpose", "forged"),
                ("case_id", "forged-case"),
            ],
        ),
        (
            format!("/c/{CASE}/purpose"),
            vec![("purpose", "forged purpose")],
        ),
        (format!("/c/{CASE}/grant"), vec![("account", OUTSIDER)]),
        (
            format!("/c/{CASE}/ingest"),
            vec![("analyse_all", "1"), ("detector", "motion")],
        ),
        (format!("/c/{CASE}/job/cancel"), vec![]),
        (
            format!("/c/{CASE}/clip"),
            vec![("src", "S000000000000"), ("track", "1")],
        ),
        (
            format!("/c/{CASE}/report-frame"),
            vec![("src", "S000000000000"), ("at_ms", "0")],
        ),
        (
            format!("/c/{CASE}/synopsis"),
            vec![("source", "S000000000000")],
        ),
        (
            format!("/c/{CASE}/camera-synopsis"),
            vec![("camera", "hall")],
        ),
        (format!("/c/{CASE}/report"), vec![]),
    ]
}

#[test]
fn without_a_session_nothing_is_served() {
    let s = Server::start();
    let mut c = s.client();
    for path in [
        "/cases".to_owned(),
        format!("/c/{CASE}"),
        format!("/c/{CASE}/search?run=1"),
        format!("/c/{CASE}/audit"),
        format!("/c/{CASE}/ingest"),
        "/dossier".to_owned(),
    ] {
        let r = c.get(&path);
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/login?expired=1"), "{path}");
        assert!(!r.text().contains(CASE), "{path} leaked the case");
    }
    for path in [
        format!("/c/{CASE}/job"),
        format!("/c/{CASE}/thumb/x.jpg"),
        format!("/c/{CASE}/play/abc/frame?at_ms=0"),
    ] {
        let r = c.get_json(&path);
        assert_eq!(r.status, 401, "{path}");
        assert!(!r.text().contains(CASE));
    }
    // A POST without a session is refused before anything runs.
    for (path, form) in posts() {
        let r = c.post(&path, &form);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    // Nothing was recorded in the case by all this.
    assert_eq!(s.consultations(CASE), 0);
    assert!(!s.case_dir("forged-case").exists());
}

#[test]
fn a_missing_or_forged_csrf_token_is_refused_on_every_post() {
    let s = Server::start();
    let mut c = s.signed_in(ADMIN);
    let good = c.csrf();
    let before = s.case_events(CASE).len();
    for (path, form) in posts() {
        // Missing.
        let r = c.post(&path, &form);
        assert_eq!(r.status, 403, "{path} without a token: {}", r.text());
        assert!(r.text().contains("CSRF"), "{path}: {}", r.text());
        // Forged (right length, wrong value).
        let mut forged = form.clone();
        let bad = "0".repeat(64);
        forged.push(("csrf", &bad));
        let r = c.post(&path, &forged);
        assert_eq!(r.status, 403, "{path} with a forged token");
        // The right token from another site.
        let mut from_elsewhere = form.clone();
        from_elsewhere.push(("csrf", &good));
        let r = c.post_with(&path, &from_elsewhere, &[("Origin", "http://evil.example")]);
        assert_eq!(r.status, 403, "{path} from another origin");
        let r = c.post_with(&path, &from_elsewhere, &[("Origin", "null")]);
        assert_eq!(r.status, 403, "{path} from an opaque origin");
        let r = c.post_with(&path, &from_elsewhere, &[("Sec-Fetch-Site", "cross-site")]);
        assert_eq!(r.status, 403, "{path} cross-site");
    }
    // Nothing happened: no case opened, no entry, the session still valid.
    assert!(!s.case_dir("forged-case").exists());
    assert_eq!(s.case_events(CASE).len(), before);
    assert_eq!(c.get("/cases").status, 200);
    // The header form of the token is accepted (what scripts send).
    let r = c.post_with(
        &format!("/c/{CASE}/purpose"),
        &[("purpose", "checking the doorway")],
        &[("X-CSRF-Token", &good)],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    // A sign-in form token does not work without its cookie (login CSRF).
    let mut other = s.client();
    let token = other.get("/login").csrf();
    other.cookies.clear();
    let r = other.post(
        "/login",
        &[("csrf", &token), ("id", ADMIN), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 403);
}

#[test]
fn a_foreign_host_header_is_refused() {
    let s = Server::start();
    let mut c = s.signed_in(ADMIN);
    let port = s.addr.port();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost:{}", port + 1),
    ] {
        for path in [
            "/login".to_owned(),
            "/cases".to_owned(),
            format!("/c/{CASE}"),
        ] {
            let r = c.request("GET", &path, &[("Host", &host)], b"");
            assert_eq!(r.status, 421, "{host}{path}");
            assert!(!r.text().contains(CASE) && !r.text().contains("csrf"));
        }
    }
    // Without a Host header at all (HTTP/1.0 style) it is refused too.
    let mut raw = std::net::TcpStream::connect(s.addr).unwrap();
    use std::io::{Read, Write};
    raw.write_all(b"GET /login HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = raw.read_to_string(&mut out);
    assert!(
        !out.starts_with("HTTP/1.1 200") && !out.starts_with("HTTP/1.0 200"),
        "{out}"
    );
    // localhost with the right port is ours.
    let r = c.request(
        "GET",
        "/cases",
        &[("Host", &format!("localhost:{port}"))],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn path_traversal_is_refused_everywhere() {
    let s = Server::start();
    let mut c = s.signed_in(ADMIN);
    std::fs::write(s.root.path().join("ok.txt"), b"inside").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.mp4"), b"secret footage").unwrap();
    std::os::unix::fs::symlink(outside.path(), s.root.path().join("link-out")).unwrap();
    for path in [
        "/static/../Cargo.toml".to_owned(),
        "/static/..%2fCargo.toml".to_owned(),
        "/static/%2e%2e%2f%2e%2e%2fCargo.toml".to_owned(),
        "/static/vigie.css%00.js".to_owned(),
        format!("/c/{CASE}/thumb/..%2f..%2fcase.json"),
        format!("/c/{CASE}/thumb/%2e%2e%2fcase.json"),
        format!("/c/{CASE}/exports/..%2fcase.json"),
        format!("/c/{CASE}/exports/clip-..%2f..%2fcase.json"),
        format!("/c/{CASE}/reports/..%2fcase.json"),
        format!("/c/{CASE}/reports/..%2f..%2f..%2fmachine%2faudit.jsonl"),
        format!("/c/..%2f{CASE}/audit"),
        format!("/c/{CASE}/synopsis/..%2f..%2fcase.json"),
        format!("/c/{CASE}/ingest?root=0&dir=..%2F..%2F"),
        format!("/c/{CASE}/ingest?root=0&dir=%2Fetc"),
        format!("/c/{CASE}/ingest?root=0&dir=link-out"),
        format!("/c/{CASE}/ingest?root=7"),
    ] {
        let r = c.get(&path);
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        let t = r.text();
        assert!(
            !t.contains("case_id") && !t.contains("\"seq\"") && !t.contains("[workspace]"),
            "{path} leaked: {t}"
        );
        assert!(!t.contains("secret footage"));
    }
    // The ingest form takes only (root, path inside it).
    let token = c.csrf();
    for pick in [
        "0:../../etc/passwd",
        "0:/etc/passwd",
        "0:link-out/secret.mp4",
        "1:ok.txt",
        "x:ok.txt",
    ] {
        let r = c.post(
            &format!("/c/{CASE}/ingest"),
            &[("csrf", &token), ("path", pick), ("detector", "motion")],
        );
        assert!(
            matches!(r.status, 400 | 403),
            "{pick}: {} {}",
            r.status,
            r.text()
        );
    }
    assert_eq!(s.count_events(CASE, "evidence_ingested"), 0);
    // The detector input is one of the two the form offers; anything else is refused
    // before any work starts (sizes for measurement stay on the command line).
    let form = c.get(&format!("/c/{CASE}/ingest?root=0"));
    assert!(
        form.text().contains("value=\"768x448\"")
            && form.text().contains("data-test=\"detector-input\""),
        "{}",
        form.text()
    );
    for bad in ["1024x576", "416", "' onmouseover='x"] {
        let r = c.post(
            &format!("/c/{CASE}/ingest"),
            &[
                ("csrf", &token),
                ("analyse_all", "1"),
                ("detector_input", bad),
            ],
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(
            r.text().contains("expected auto or 768x448"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn a_case_the_account_has_no_right_to_is_refused() {
    let s = Server::start();
    let mut c = s.signed_in(OUTSIDER);
    let cases = c.get("/cases");
    assert_eq!(cases.status, 200);
    assert!(
        !cases.text().contains(CASE),
        "the list shows only granted cases"
    );
    let token = c.csrf();
    for path in [
        format!("/c/{CASE}"),
        format!("/c/{CASE}/search?run=1&class=person"),
        format!("/c/{CASE}/audit"),
        format!("/c/{CASE}/ingest"),
        format!("/c/{CASE}/play?src=S000000000000"),
        format!("/c/{CASE}/thumb/x.jpg"),
        format!("/c/{CASE}/reports/report.html"),
        format!("/c/{CASE}/camera-synopsis"),
    ] {
        let r = c.get(&path);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert!(r.text().contains("no right"), "{path}");
        assert!(
            !r.text().contains("vigie web tests"),
            "{path} leaked the case's purpose"
        );
    }
    let r = c.post(
        &format!("/c/{CASE}/purpose"),
        &[("csrf", &token), ("purpose", "x")],
    );
    assert_eq!(r.status, 403);
    let r = c.post(
        &format!("/c/{CASE}/camera-synopsis"),
        &[("csrf", &token), ("camera", "hall")],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // The operator granted the case gets in; not into the other case.
    let mut g = s.signed_in(OPERATOR);
    assert_eq!(g.get(&format!("/c/{CASE}")).status, 200);
    assert_eq!(g.get(&format!("/c/{OTHER_CASE}")).status, 403);
    // Only administrators open cases.
    assert_eq!(g.get("/cases/new").status, 403);
    // Nothing was consulted in the case by the outsider.
    assert!(s.case_events(CASE).iter().all(|(_, op, _)| op != OUTSIDER));
}

/// The session of `c` (signed in as [`OPERATOR`]) ended at its next request, sent back to
/// the sign-in page, and the machine log says why.
fn assert_session_ended(s: &Server, c: &mut Client, why: &str) {
    let r = c.get(&format!("/c/{CASE}"));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?expired=1"));
    let (machine, _) = vigie_app::view::audit_entries(&s.app, None).unwrap();
    assert!(machine
        .iter()
        .any(|e| e.params["event"] == "operator_logged_out"
            && e.params["operator_id"] == OPERATOR
            && e.params["why"] == why));
}

#[test]
fn a_disabled_account_loses_its_session_at_the_next_request() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    assert_eq!(c.get(&format!("/c/{CASE}")).status, 200);
    s.accounts()
        .disable(&vigie_app::Operator::new(ADMIN).unwrap(), OPERATOR)
        .unwrap();
    assert_session_ended(&s, &mut c, "account disabled");
    // The session is gone for good, and signing in again is refused.
    assert_eq!(c.get("/cases").status, 303);
    let r = c.try_login(OPERATOR, PASSWORD);
    assert_eq!(r.header("location"), Some("/login?failed=1"));
}

#[test]
fn security_headers_and_cookie_flags() {
    let s = Server::start();
    let mut c = s.client();
    let login = c.get("/login");
    let cookie = login.headers_named("set-cookie").join("\n");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(flag), "login cookie lacks {flag}: {cookie}");
    }
    let token = login.csrf();
    let r = c.post(
        "/login",
        &[("csrf", &token), ("id", ADMIN), ("password", PASSWORD)],
    );
    let session = r
        .headers_named("set-cookie")
        .into_iter()
        .find(|v| v.starts_with("vigie_session="))
        .expect("a session cookie")
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=36000"] {
        assert!(
            session.contains(flag),
            "session cookie lacks {flag}: {session}"
        );
    }
    for path in [
        "/cases".to_owned(),
        format!("/c/{CASE}"),
        format!("/c/{CASE}/audit"),
        "/nowhere".into(),
    ] {
        let r = c.get(&path);
        let csp = r.header("content-security-policy").unwrap_or_default();
        for d in [
            "frame-ancestors 'none'",
            "script-src 'self'",
            "default-src 'none'",
        ] {
            assert!(csp.contains(d), "{path}: CSP {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("same-origin"));
        // No inline script in any page.
        let t = r.text();
        assert!(!t.contains("<script>") && !t.contains("onclick="), "{path}");
    }
    // Assets are the embedded files, cacheable; and nothing else is under /static.
    let css = c.get("/static/vigie.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(c.get("/static/other.js").status, 404);
    // Bad requests get a clear page, not a trace.
    let r = c.get(&format!(
        "/c/{CASE}/play?src=S000000000000&track=notanumber"
    ));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("invalid track"), "{}", r.text());
    assert!(!r.text().contains("panicked") && !r.text().contains("src/"));
    // Logout ends the session server-side and clears the cookie.
    let token = c.csrf();
    let r = c.post("/logout", &[("csrf", &token)]);
    assert_eq!(r.status, 303);
    assert_eq!(c.get("/cases").status, 303);
    let (machine, _) = vigie_app::view::audit_entries(&s.app, None).unwrap();
    for kind in ["operator_logged_in", "operator_logged_out"] {
        assert!(
            machine
                .iter()
                .any(|e| e.params["event"] == kind && e.params["operator_id"] == ADMIN),
            "{kind}"
        );
    }
}

#[test]
fn an_idle_session_ends() {
    let s = Server::start_with(|cfg| {
        cfg.idle_timeout = std::time::Duration::from_secs(1);
        cfg.session_max = std::time::Duration::from_secs(60);
    });
    let mut c = s.signed_in(ADMIN);
    assert_eq!(c.get("/cases").status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(c.get("/cases").status, 303);
}

#[test]
fn wrong_passwords_are_refused_and_alerted() {
    let s = Server::start();
    let mut c = s.client();
    let r = c.try_login(ADMIN, "not the password at all");
    assert_eq!(r.header("location"), Some("/login?failed=1"));
    assert!(c.get("/login?failed=1").text().contains("login-error"));
    let alerts = vigie_app::view::alerts(&s.app, None).unwrap();
    assert!(alerts
        .iter()
        .any(|a| a.params["kind"].as_str() == Some("login_failed")));
}

#[test]
fn a_password_change_ends_the_sessions_opened_with_the_old_one() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    assert_eq!(c.get(&format!("/c/{CASE}")).status, 200);
    let new_password = "a new and longer passphrase";
    s.accounts()
        .set_password(
            &vigie_app::Operator::new(ADMIN).unwrap(),
            OPERATOR,
            new_password,
        )
        .unwrap();
    assert_session_ended(&s, &mut c, "password changed");
    // Signing in with the new password gives a working session.
    let mut again = s.client();
    again.login(OPERATOR, new_password);
    assert_eq!(again.get(&format!("/c/{CASE}")).status, 200);
}

#[test]
fn the_language_switch_never_redirects_to_another_site() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    for (path, to) in [
        ("//evil.example/?lang=fr", "/evil.example/"),
        ("/\\evil.example?lang=fr", "/evil.example"),
        ("/cases?lang=en", "/cases"),
    ] {
        let r = c.get(path);
        assert_eq!(r.status, 303, "{path}: {}", r.text());
        assert_eq!(r.header("location"), Some(to), "{path}");
    }
}

#[test]
fn a_reason_is_one_line_of_at_most_500_characters() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    let before = s.case_events(CASE).len();
    let long = "x".repeat(501);
    for reason in [long.as_str(), "line%0Abreak"] {
        let r = c.get(&format!("/c/{CASE}/search?run=1&reason={reason}"));
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(
            r.text().contains("500 printable characters"),
            "{}",
            r.text()
        );
    }
    assert_eq!(s.case_events(CASE).len(), before, "nothing recorded");
    // A short one passes that check (this case has no index yet: that is what is said).
    let r = c.get(&format!("/c/{CASE}/search?run=1&reason=a%20short%20reason"));
    assert!(!r.text().contains("printable characters"), "{}", r.text());
    assert!(r.text().contains("no index"), "{}", r.text());
}

/// A link inside an ingest root, to a video outside every root (another case's evidence,
/// any file the server can read), is not followed into the case: the job reports it as
/// refused and nothing is collected; the same video inside the root is taken.
#[test]
fn ingest_never_takes_a_file_a_link_leads_to_outside_the_roots() {
    let s = Server::start();
    let mut c = s.signed_in(OPERATOR);
    let outside = tempfile::tempdir().unwrap();
    let Some(video) = camera_clip(outside.path(), "secret.mp4", "0xd01818", 200) else {
        return;
    };
    let sub = s.root.path().join("seized");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(&video, sub.join("evil.mp4")).unwrap();
    std::os::unix::fs::symlink(outside.path(), sub.join("deeper")).unwrap();
    let page = c.get(&format!("/c/{CASE}/ingest?root=0"));
    let token = page.csrf();
    let r = c.post(
        &format!("/c/{CASE}/ingest"),
        &[
            ("csrf", &token),
            ("path", "0:seized"),
            ("detector", "motion"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = wait_for_job(&mut c);
    let text = job.to_string();
    assert!(text.contains("leads outside the ingest roots"), "{job}");
    assert_eq!(job["ingested"].as_array().unwrap().len(), 0, "{job}");
    assert_eq!(job["analysed"].as_array().unwrap().len(), 0, "{job}");
    // The refusal is recorded with the batch (a collection entry naming no source).
    // A real file inside the root is taken.
    std::fs::copy(&video, sub.join("inside.mp4")).unwrap();
    std::fs::remove_file(sub.join("evil.mp4")).unwrap();
    std::fs::remove_file(sub.join("deeper")).unwrap();
    let r = c.post(
        &format!("/c/{CASE}/ingest"),
        &[
            ("csrf", &token),
            ("path", "0:seized"),
            ("detector", "motion"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let job = wait_for_job(&mut c);
    assert_eq!(job["ingested"].as_array().unwrap().len(), 1, "{job}");
    assert!(!job.to_string().contains("leads outside"), "{job}");
}
