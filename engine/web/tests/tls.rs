//! TLS: the server speaks only TLS on its port when given a certificate (rustls, `ring`),
//! its session cookie is `Secure` and `__Host-` prefixed, HSTS is sent; and an address
//! other than loopback is refused without TLS.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tokio_rustls::rustls;

fn tls_get(server: &Server, cert_der: &[u8], path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(cert_der.to_vec()))
        .unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost:{}\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
        server.addr.port()
    );
    tls.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn tls_serves_with_secure_cookies_and_refuses_plain_http() {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, key.cert.pem()).unwrap();
    std::fs::write(&key_path, key.key_pair.serialize_pem()).unwrap();
    let server = Server::start_with(|cfg| {
        cfg.tls = Some(vigie_web::TlsFiles {
            cert: cert_path.clone(),
            key: key_path.clone(),
        });
    });
    let res = tls_get(&server, key.cert.der(), "/login");
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(
        res.to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "{res}"
    );
    let login_cookie = res
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: vigie_login=")
        })
        .unwrap_or_default();
    assert!(login_cookie.contains("; Secure"), "{login_cookie}");
    // Plain HTTP on the TLS port gets no page.
    let mut plain = server.client();
    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    tcp.write_all(format!("GET /login HTTP/1.1\r\nHost: {}\r\n\r\n", plain.host).as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    assert!(!String::from_utf8_lossy(&out).contains("login-form"));
    plain.cookies.clear();
}

#[test]
fn a_public_address_without_tls_is_refused_at_start() {
    let app = vigie_app::App::new(
        vigie_case::DataRoot::new(tempfile::tempdir().unwrap().path().to_owned()),
        Arc::new(vigie_audit::SystemClock),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(vigie_web::bind(
            app,
            vigie_web::ServeConfig {
                listen: "0.0.0.0:0".parse().unwrap(),
                ..Default::default()
            },
        ))
        .unwrap_err();
    assert!(matches!(err, vigie_web::WebError::NeedsTls { .. }), "{err}");
    assert!(err.to_string().contains("--tls-cert"));
}
