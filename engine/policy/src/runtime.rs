//! Loading ONNX Runtime once per process, from the cache (never downloaded at run time).
//!
//! `ort` is built with `load-dynamic`: the library is `dlopen`ed from
//! `$VIGIE_CACHE/onnxruntime/1.31.1/libonnxruntime.so.1.31.1` (fetched by
//! tools/fetch-onnxruntime from the PyPI wheel, pinned) or from `ORT_DYLIB_PATH` (for the
//! GPU build). The cached library's hash is checked before it is loaded: it is code vigie
//! runs, like the models.

use std::path::PathBuf;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::PolicyError;

/// The ONNX Runtime version vigie is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";
/// SHA-256 of `libonnxruntime.so.1.31.1` from the `onnxruntime==1.31.1` cp311
/// manylinux_2_28 x86_64 wheel (pinned in tools/fetch-onnxruntime too).
const CPU_LIB_SHA256: &str = "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3";

/// Where an execution runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// CUDA device index (needs the `cuda` feature and the GPU ONNX Runtime).
    Cuda(u32),
}

impl std::str::FromStr for Device {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError::BadDevice {
            given: s.to_string(),
        };
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            _ => match s.strip_prefix("cuda:") {
                Some(n) => n.parse().map(Device::Cuda).map_err(|_| bad()),
                None => Err(bad()),
            },
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// The library that will be loaded, and whether it is the pinned cache copy.
pub fn runtime_library_path() -> (PathBuf, bool) {
    match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        Some(p) => (PathBuf::from(p), false),
        None => (
            vigie_core::paths::cache_dir()
                .join("onnxruntime")
                .join(ORT_VERSION)
                .join(format!("libonnxruntime.so.{ORT_VERSION}")),
            true,
        ),
    }
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

fn load() -> Result<ort::environment::Environment, PolicyError> {
    let (path, pinned) = runtime_library_path();
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(PolicyError::RuntimeMissing {
            version: ORT_VERSION,
            path: shown,
        });
    }
    if pinned {
        let bytes = std::fs::read(&path).map_err(|source| PolicyError::Io {
            what: "the ONNX Runtime library",
            path: shown.clone(),
            source,
        })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != CPU_LIB_SHA256 {
            return Err(PolicyError::RuntimeModified {
                expected: CPU_LIB_SHA256,
                actual,
                path: shown,
            });
        }
    }
    let builder = ort::init_from(&path).map_err(|e| PolicyError::RuntimeLoad {
        version: ORT_VERSION,
        message: e.to_string(),
        path: shown.clone(),
    })?;
    builder
        .with_name("vigie")
        .build()
        .map_err(|e| PolicyError::RuntimeLoad {
            version: ORT_VERSION,
            message: e.to_string(),
            path: shown,
        })
}

/// The process-wide ONNX Runtime environment (loaded on first use).
pub(crate) fn environment() -> Result<&'static ort::environment::Environment, PolicyError> {
    let slot = ENV.get_or_init(|| load().map_err(|e| e.to_string()));
    match slot {
        Ok(env) => Ok(env),
        Err(_) => {
            // Re-run the load to return a typed error (the first attempt's is cached as text).
            match load() {
                Err(e) => Err(e),
                Ok(_) => Err(PolicyError::RuntimeLoad {
                    version: ORT_VERSION,
                    message: slot.as_ref().err().cloned().unwrap_or_default(),
                    path: runtime_library_path().0.display().to_string(),
                }),
            }
        }
    }
}
