//! ONNX Runtime is pinned like a model: `ORT_DYLIB_PATH` naming a library whose SHA-256 is
//! not compiled into vigie-policy is refused (a refusal, exit 3 at the application layer)
//! with a runtime-refused alert, and nothing is loaded; a modified cache copy is refused
//! too; the pinned library still loads, from `ORT_DYLIB_PATH` or the cache.
//!
//! Its own test binary, with a single test: it sets `ORT_DYLIB_PATH` and `VIGIE_CACHE`, and
//! ONNX Runtime is loaded once per process.

use std::path::PathBuf;

use vigie_core::{AlertKind, MemoryAlertSink};
use vigie_policy::{load_runtime, PolicyError, ORT_VERSION};

fn another_library(dir: &std::path::Path) -> PathBuf {
    let shim = dir.join(format!("libonnxruntime.so.{ORT_VERSION}"));
    let libc = PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6");
    if libc.is_file() {
        std::fs::copy(&libc, &shim).unwrap();
    } else {
        // Any other bytes make the point: only the hash decides.
        std::fs::write(
            &shim,
            b"\x7fELF a shim that would ignore the verified model",
        )
        .unwrap();
    }
    shim
}

fn pinned_cache_library() -> Option<PathBuf> {
    let p = vigie_core::paths::cache_dir()
        .join("onnxruntime")
        .join(ORT_VERSION)
        .join(format!("libonnxruntime.so.{ORT_VERSION}"));
    if p.is_file() {
        Some(p)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "{} absent: CI must run tools/fetch-onnxruntime first",
            p.display()
        );
    } else {
        eprintln!(
            "SKIPPED (part): {} absent, the pinned library's loading is not tested (run tools/fetch-onnxruntime)",
            p.display()
        );
        None
    }
}

#[test]
fn only_a_pinned_runtime_library_is_loaded() {
    let pinned = pinned_cache_library();
    let dir = tempfile::tempdir().unwrap();

    // 1. ORT_DYLIB_PATH naming another library: refused, with a runtime-refused alert.
    let shim = another_library(dir.path());
    std::env::set_var("ORT_DYLIB_PATH", &shim);
    let sink = MemoryAlertSink::default();
    let err = load_runtime(&sink).unwrap_err();
    assert!(matches!(err, PolicyError::RuntimeRefused { .. }), "{err}");
    assert!(err.is_refusal(), "must map to exit 3: {err}");
    let msg = err.to_string();
    assert!(msg.contains("ORT_DYLIB_PATH"), "{msg}");
    assert!(
        msg.ends_with(&shim.display().to_string()),
        "path last: {msg}"
    );
    {
        let alerts = sink.alerts.lock().unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::RuntimeRefused);
        assert_eq!(alerts[0].details["source"], "ORT_DYLIB_PATH");
        assert_eq!(alerts[0].details["path"], shim.display().to_string());
        let json = serde_json::to_string(&alerts[0].kind).unwrap();
        assert_eq!(json, "\"runtime_refused\"");
    }
    // A refusal is not cached: each attempt is refused and alerted again.
    assert!(load_runtime(&sink).unwrap_err().is_refusal());
    assert_eq!(sink.alerts.lock().unwrap().len(), 2);

    // 2. A modified copy in the cache: refused (integrity error), with the same alert.
    std::env::remove_var("ORT_DYLIB_PATH");
    let real_cache = std::env::var_os("VIGIE_CACHE");
    let fake_cache = dir.path().join("cache");
    let lib_dir = fake_cache.join("onnxruntime").join(ORT_VERSION);
    std::fs::create_dir_all(&lib_dir).unwrap();
    std::fs::write(
        lib_dir.join(format!("libonnxruntime.so.{ORT_VERSION}")),
        b"modified runtime",
    )
    .unwrap();
    std::env::set_var("VIGIE_CACHE", &fake_cache);
    let sink = MemoryAlertSink::default();
    let err = load_runtime(&sink).unwrap_err();
    assert!(matches!(err, PolicyError::RuntimeModified { .. }), "{err}");
    assert_eq!(
        sink.alerts.lock().unwrap()[0].kind,
        AlertKind::RuntimeRefused
    );
    assert_eq!(sink.alerts.lock().unwrap()[0].details["source"], "cache");
    match real_cache {
        Some(v) => std::env::set_var("VIGIE_CACHE", v),
        None => std::env::remove_var("VIGIE_CACHE"),
    }

    // 3. The pinned library still loads, here through ORT_DYLIB_PATH (a copy of it: the
    //    hash decides, not the path).
    let Some(pinned) = pinned else { return };
    let copy = dir.path().join("elsewhere.so");
    std::fs::copy(&pinned, &copy).unwrap();
    std::env::set_var("ORT_DYLIB_PATH", &copy);
    let sink = MemoryAlertSink::default();
    load_runtime(&sink).expect("the pinned library loads");
    assert!(sink.alerts.lock().unwrap().is_empty());
    // Loaded once per process: swapping the file afterwards changes nothing.
    std::fs::write(&copy, b"swapped").unwrap();
    load_runtime(&sink).expect("still loaded");
}
