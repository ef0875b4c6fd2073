//! Loading ONNX Runtime once per process: only a library whose SHA-256 is pinned here, and
//! only the bytes that were hashed.
//!
//! `ort` is built with `load-dynamic`, so the runtime is code vigie `dlopen`s at run time; a
//! shim library could ignore the verified model bytes and run anything. So the runtime is
//! pinned like a model:
//! - the SHA-256 of every accepted library is compiled in ([`ACCEPTED_LIBRARIES`]: the CPU
//!   build accepts the `onnxruntime==1.31.1` library; the `cuda` build also accepts the
//!   `onnxruntime-gpu==1.31.1` one and pins the provider libraries ONNX Runtime loads from its
//!   own directory, [`ACCEPTED_PROVIDERS`]); the same values are pinned in
//!   tools/fetch-onnxruntime;
//! - the library comes from `$VIGIE_CACHE/onnxruntime/1.31.1/` (the `cuda` build prefers
//!   `$VIGIE_CACHE/onnxruntime-gpu/1.31.1/` when present) or from `ORT_DYLIB_PATH`, which is
//!   honoured only when that file's hash is pinned: anything else is refused
//!   ([`PolicyError::RuntimeRefused`], exit 3) with an [`AlertKind::RuntimeRefused`] alert;
//! - the bytes verified are the bytes loaded ([`VerifiedRuntime`]): the file is read once into
//!   memory, hashed, and those bytes are written to a sealed in-memory file (`memfd`, sealed
//!   against writes, growth and shrinking) that `dlopen` opens as `/proc/self/fd/N`. The
//!   original path is never opened again. When pinned CUDA provider libraries sit next to the
//!   library (`cuda` build), the verified bytes of all of them are instead written to a fresh
//!   private directory (0700, files 0500) that ONNX Runtime loads from, removed once the
//!   providers are loaded.
//!
//! Same rules in every build profile: no variable or flag relaxes them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::PolicyError;

/// The ONNX Runtime version vigie is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

/// A library pinned by its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pinned {
    /// What it is (for messages and alerts).
    pub what: &'static str,
    /// File name ONNX Runtime looks for (providers) or the cache file name (runtime).
    pub file: &'static str,
    /// Lowercase hex SHA-256.
    pub sha256: &'static str,
}

/// `libonnxruntime.so.1.31.1` from the `onnxruntime==1.31.1` cp311 manylinux_2_28 x86_64
/// wheel (SHA-256 5752bd50...ad7f), pinned in tools/fetch-onnxruntime too.
const CPU_LIB: Pinned = Pinned {
    what: "ONNX Runtime 1.31.1 (CPU, PyPI onnxruntime)",
    file: "libonnxruntime.so.1.31.1",
    sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
};

/// `libonnxruntime.so.1.31.1` from the `onnxruntime-gpu==1.31.1` cp311 manylinux_2_28 x86_64
/// wheel (SHA-256 e26c475f...91a6), pinned in tools/fetch-onnxruntime too.
#[cfg(feature = "cuda")]
const GPU_LIB: Pinned = Pinned {
    what: "ONNX Runtime 1.31.1 (GPU, PyPI onnxruntime-gpu)",
    file: "libonnxruntime.so.1.31.1",
    sha256: "5104254339ecadae808da771bd0b63b240f0dbd466514234905e54372435c303",
};

/// The runtime libraries this build loads (any other is refused).
#[cfg(not(feature = "cuda"))]
pub(crate) const ACCEPTED_LIBRARIES: &[Pinned] = &[CPU_LIB];
/// The runtime libraries this build loads (any other is refused).
#[cfg(feature = "cuda")]
pub(crate) const ACCEPTED_LIBRARIES: &[Pinned] = &[CPU_LIB, GPU_LIB];

/// Provider libraries ONNX Runtime `dlopen`s from its own directory, from the same
/// `onnxruntime-gpu==1.31.1` wheel. The CPU build loads none (its library is loaded from an
/// in-memory file, whose "directory" holds no provider); the TensorRT provider is not pinned
/// and never staged, so it cannot be loaded.
#[cfg(not(feature = "cuda"))]
pub(crate) const ACCEPTED_PROVIDERS: &[Pinned] = &[];
/// Provider libraries ONNX Runtime `dlopen`s from its own directory, from the same
/// `onnxruntime-gpu==1.31.1` wheel (loaded in this order: shared first).
#[cfg(feature = "cuda")]
pub(crate) const ACCEPTED_PROVIDERS: &[Pinned] = &[
    Pinned {
        what: "ONNX Runtime 1.31.1 provider bridge",
        file: "libonnxruntime_providers_shared.so",
        sha256: "086ec1d5388f64153d9c63470d126693db9a182c8ce236d3a1119068471b8a0d",
    },
    Pinned {
        what: "ONNX Runtime 1.31.1 CUDA execution provider",
        file: "libonnxruntime_providers_cuda.so",
        sha256: "d5290158115fa5569a3fe8f1f4037ee9b0e86658a96e52f852bbb7039aa88137",
    },
];

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

/// The library that will be loaded, and whether it is the cache copy (`false`: it comes
/// from `ORT_DYLIB_PATH`). Either way it is loaded only if its SHA-256 is pinned in this build.
pub fn runtime_library_path() -> (PathBuf, bool) {
    match std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        Some(p) => (PathBuf::from(p), false),
        None => (default_library_path(), true),
    }
}

fn cache_library(dir: &str) -> PathBuf {
    vigie_core::paths::cache_dir()
        .join(dir)
        .join(ORT_VERSION)
        .join(format!("libonnxruntime.so.{ORT_VERSION}"))
}

#[cfg(not(feature = "cuda"))]
fn default_library_path() -> PathBuf {
    cache_library("onnxruntime")
}

#[cfg(feature = "cuda")]
fn default_library_path() -> PathBuf {
    let gpu = cache_library("onnxruntime-gpu");
    if gpu.is_file() {
        gpu
    } else {
        cache_library("onnxruntime")
    }
}

/// Why a library could not be verified.
#[derive(Debug)]
pub(crate) enum VerifyError {
    Missing,
    Io(std::io::Error),
    /// The library (`what` = None) or one of its provider libraries is not pinned.
    NotPinned {
        what: Option<&'static str>,
        path: PathBuf,
        actual: String,
    },
}

/// Where the verified bytes were staged for `dlopen`.
#[derive(Debug)]
enum Staged {
    /// A sealed memfd (no writes, no resize, seals locked), opened as `/proc/self/fd/N`.
    Memfd(std::os::fd::OwnedFd),
    /// A fresh private directory (0700) holding the library and its pinned providers (0500).
    #[cfg(feature = "cuda")]
    Dir(tempfile::TempDir),
}

/// A runtime library whose bytes were hashed, found pinned, and copied (from the memory
/// they were hashed in) to a place only this process controls. [`VerifiedRuntime::load_path`]
/// is what `dlopen` gets; the original path is never opened again.
#[derive(Debug)]
pub(crate) struct VerifiedRuntime {
    pinned: Pinned,
    staged: Staged,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read(path: &Path) -> Result<Vec<u8>, VerifyError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => VerifyError::Missing,
        _ => VerifyError::Io(e),
    })
}

impl VerifiedRuntime {
    /// Read `path` once, check its SHA-256 against `accepted`, and stage those bytes. Provider
    /// libraries named in `providers` that sit next to it are read, checked and staged with it
    /// (a present but unpinned provider refuses the whole runtime).
    pub(crate) fn from_path(
        path: &Path,
        accepted: &[Pinned],
        providers: &[Pinned],
    ) -> Result<Self, VerifyError> {
        let bytes = read(path)?;
        let actual = sha256_hex(&bytes);
        let Some(pinned) = accepted.iter().find(|p| p.sha256 == actual).copied() else {
            return Err(VerifyError::NotPinned {
                what: None,
                path: path.to_path_buf(),
                actual,
            });
        };
        let mut found = Vec::new();
        if let Some(dir) = path.parent() {
            for p in providers {
                let ppath = dir.join(p.file);
                if !ppath.is_file() {
                    continue;
                }
                let pbytes = read(&ppath)?;
                let actual = sha256_hex(&pbytes);
                if actual != p.sha256 {
                    return Err(VerifyError::NotPinned {
                        what: Some(p.what),
                        path: ppath,
                        actual,
                    });
                }
                found.push((p.file, pbytes));
            }
        }
        let staged = if found.is_empty() {
            Staged::Memfd(memfd_with(&bytes).map_err(VerifyError::Io)?)
        } else {
            stage_dir(pinned.file, &bytes, &found)?
        };
        Ok(VerifiedRuntime { pinned, staged })
    }

    /// The path `dlopen` is given.
    pub(crate) fn load_path(&self) -> PathBuf {
        match &self.staged {
            Staged::Memfd(fd) => {
                use std::os::fd::AsRawFd;
                PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            }
            #[cfg(feature = "cuda")]
            Staged::Dir(dir) => dir.path().join(self.pinned.file),
        }
    }

    /// What to keep once ONNX Runtime is loaded: the memfd (harmless, mapped anyway), not
    /// the private directory (its files are mapped; the directory itself is removed).
    fn retained_after_load(self) -> Option<Self> {
        match self.staged {
            Staged::Memfd(_) => Some(self),
            #[cfg(feature = "cuda")]
            Staged::Dir(_) => None,
        }
    }
}

/// A sealed, close-on-exec in-memory file holding `bytes`.
fn memfd_with(bytes: &[u8]) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};
    use std::io::Write;
    let fd = memfd_create(
        "vigie-onnxruntime",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    let fd = std::os::fd::OwnedFd::from(file);
    fcntl_add_seals(
        &fd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )?;
    Ok(fd)
}

#[cfg(not(feature = "cuda"))]
fn stage_dir(
    _file: &str,
    _bytes: &[u8],
    _providers: &[(&str, Vec<u8>)],
) -> Result<Staged, VerifyError> {
    // No provider is accepted without the `cuda` feature, so `found` is always empty.
    unreachable!("provider libraries are only staged in the cuda build")
}

/// A fresh private directory (0700) with the verified library and providers (0500 each).
#[cfg(feature = "cuda")]
fn stage_dir(
    file: &str,
    bytes: &[u8],
    providers: &[(&str, Vec<u8>)],
) -> Result<Staged, VerifyError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = VerifyError::Io;
    let dir = tempfile::Builder::new()
        .prefix("vigie-onnxruntime-")
        .tempdir()
        .map_err(io)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    let mut files: Vec<(&str, &[u8])> = vec![(file, bytes)];
    files.extend(providers.iter().map(|(f, b)| (*f, b.as_slice())));
    for (name, content) in files {
        let path = dir.path().join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        f.write_all(content).map_err(io)?;
        f.sync_all().map_err(io)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o500))
            .map_err(io)?;
    }
    Ok(Staged::Dir(dir))
}

/// The process-wide runtime: the environment, and the staged library it was loaded from.
struct Loaded {
    env: ort::environment::Environment,
    /// The sealed memfd is kept open; a private directory is removed once loaded.
    _runtime: Option<VerifiedRuntime>,
}

static ENV: OnceLock<Loaded> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

fn refused_alert(what: &str, path: &Path, actual: &str, from_env: bool) -> Alert {
    let mut details = std::collections::BTreeMap::new();
    details.insert("library".into(), what.to_string());
    details.insert("actual_sha256".into(), actual.to_string());
    details.insert(
        "accepted_sha256".into(),
        ACCEPTED_LIBRARIES
            .iter()
            .chain(ACCEPTED_PROVIDERS)
            .map(|p| p.sha256)
            .collect::<Vec<_>>()
            .join(","),
    );
    details.insert(
        "source".into(),
        if from_env { "ORT_DYLIB_PATH" } else { "cache" }.into(),
    );
    details.insert("path".into(), path.display().to_string());
    Alert {
        kind: AlertKind::RuntimeRefused,
        message: format!(
            "refused to load {what}: its SHA-256 is not pinned in this build (another or modified library); nothing was loaded"
        ),
        details,
    }
}

fn with_alert(alerts: &dyn AlertSink, alert: Alert, refusal: PolicyError) -> PolicyError {
    match alerts.raise(&alert) {
        Ok(()) => refusal,
        Err(source) => PolicyError::AlertNotRecorded {
            refusal: Box::new(refusal),
            source,
        },
    }
}

/// Verify and stage the library, refusing (with an alert) anything unpinned.
fn verify(alerts: &dyn AlertSink) -> Result<VerifiedRuntime, PolicyError> {
    let (path, cache_copy) = runtime_library_path();
    let shown = path.display().to_string();
    match VerifiedRuntime::from_path(&path, ACCEPTED_LIBRARIES, ACCEPTED_PROVIDERS) {
        Ok(v) => Ok(v),
        Err(VerifyError::Missing) => Err(PolicyError::RuntimeMissing {
            version: ORT_VERSION,
            path: shown,
        }),
        Err(VerifyError::Io(source)) => Err(PolicyError::Io {
            what: "the ONNX Runtime library",
            path: shown,
            source,
        }),
        Err(VerifyError::NotPinned {
            what,
            path: bad,
            actual,
        }) => {
            let label = what.unwrap_or("an ONNX Runtime library");
            let alert = refused_alert(label, &bad, &actual, !cache_copy);
            let err = if cache_copy && what.is_none() {
                PolicyError::RuntimeModified {
                    expected: default_expected(),
                    actual,
                    path: bad.display().to_string(),
                }
            } else {
                PolicyError::RuntimeRefused {
                    version: ORT_VERSION,
                    sha256: actual,
                    path: bad.display().to_string(),
                }
            };
            Err(with_alert(alerts, alert, err))
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn default_expected() -> &'static str {
    CPU_LIB.sha256
}

#[cfg(feature = "cuda")]
fn default_expected() -> &'static str {
    if default_library_path().starts_with(vigie_core::paths::cache_dir().join("onnxruntime-gpu")) {
        GPU_LIB.sha256
    } else {
        CPU_LIB.sha256
    }
}

fn load(alerts: &dyn AlertSink) -> Result<Loaded, PolicyError> {
    let runtime = verify(alerts)?;
    let path = runtime.load_path();
    let load_err = |message: String| PolicyError::RuntimeLoad {
        version: ORT_VERSION,
        message,
        path: format!(
            "{} (verified copy of {}, {})",
            path.display(),
            runtime_library_path().0.display(),
            runtime.pinned.what
        ),
    };
    let builder = ort::init_from(&path).map_err(|e| load_err(e.to_string()))?;
    let env = builder
        .with_name("vigie")
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    #[cfg(feature = "cuda")]
    if let Staged::Dir(_) = runtime.staged {
        preload_cuda_provider(&env);
    }
    Ok(Loaded {
        env,
        _runtime: runtime.retained_after_load(),
    })
}

/// Make ONNX Runtime load its CUDA provider now, from the private directory, so that the
/// directory can be removed (it would otherwise be loaded at the first CUDA session). A
/// failure here (no GPU, no CUDA libraries) is reported when a CUDA session is requested.
#[cfg(feature = "cuda")]
fn preload_cuda_provider(env: &ort::environment::Environment) {
    if let Ok(builder) = ort::session::Session::builder(env) {
        let _ = builder.with_execution_providers([ort::ep::CUDA::default().build()]);
    }
}

/// The process-wide ONNX Runtime environment (verified and loaded on first use; a refusal
/// is not cached, so each attempt is checked, and alerted, again).
pub(crate) fn environment(
    alerts: &dyn AlertSink,
) -> Result<&'static ort::environment::Environment, PolicyError> {
    if let Some(l) = ENV.get() {
        return Ok(&l.env);
    }
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = ENV.get() {
        return Ok(&l.env);
    }
    let loaded = load(alerts)?;
    Ok(&ENV.get_or_init(|| loaded).env)
}

/// Verify and load ONNX Runtime now (it is otherwise loaded by the first
/// [`crate::ModelSession::open`]): `Ok` once the pinned library is loaded;
/// [`PolicyError::RuntimeRefused`] (a refusal, with an [`AlertKind::RuntimeRefused`] alert)
/// when `ORT_DYLIB_PATH` names a library whose SHA-256 is not pinned in this build.
pub fn load_runtime(alerts: &dyn AlertSink) -> Result<(), PolicyError> {
    environment(alerts).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(bytes: &[u8]) -> Pinned {
        Pinned {
            what: "test library",
            file: "libtest.so",
            sha256: Box::leak(sha256_hex(bytes).into_boxed_str()),
        }
    }

    #[test]
    fn an_unpinned_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("libother.so");
        std::fs::write(&p, b"not a runtime").unwrap();
        match VerifiedRuntime::from_path(&p, &[pin(b"pinned")], &[]) {
            Err(VerifyError::NotPinned {
                what: None, actual, ..
            }) => {
                assert_eq!(actual, sha256_hex(b"not a runtime"))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(matches!(
            VerifiedRuntime::from_path(&dir.path().join("absent.so"), &[pin(b"x")], &[]),
            Err(VerifyError::Missing)
        ));
    }

    /// The bytes verified are the bytes loaded: swapping the file after the check changes
    /// nothing in what `dlopen` would open, and the staged copy cannot be written.
    #[test]
    fn a_library_swapped_after_the_check_is_not_what_gets_loaded() {
        let good = b"\x7fELF pinned runtime bytes".repeat(1000);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::write(&p, &good).unwrap();
        let v = VerifiedRuntime::from_path(&p, &[pin(&good)], &[]).expect("pinned");
        // Swap the original, in place and by rename.
        std::fs::write(&p, b"shim library").unwrap();
        let evil = dir.path().join("evil");
        std::fs::write(&evil, b"another shim").unwrap();
        std::fs::rename(&evil, &p).unwrap();
        let loaded = std::fs::read(v.load_path()).expect("read staged copy");
        assert_eq!(sha256_hex(&loaded), sha256_hex(&good));
        assert!(v.load_path().starts_with("/proc/self/fd/"));
        // Sealed: not even this process can change the staged bytes.
        let w = std::fs::OpenOptions::new()
            .write(true)
            .open(v.load_path())
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"patch"));
        assert!(
            w.is_err(),
            "the staged runtime must be sealed against writes"
        );
        assert_eq!(
            sha256_hex(&std::fs::read(v.load_path()).unwrap()),
            sha256_hex(&good)
        );
    }

    /// The same with the real pinned library, when it is in the cache.
    #[test]
    fn the_cached_runtime_is_pinned_and_staged_verbatim() {
        let cached = cache_library("onnxruntime");
        if !cached.is_file() {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{} absent in CI (run tools/fetch-onnxruntime)",
                    cached.display()
                );
            }
            vigie_core::test_support::skip(&format!(
                "{} absent (run tools/fetch-onnxruntime)",
                cached.display()
            ));
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::copy(&cached, &copy).unwrap();
        let v = VerifiedRuntime::from_path(&copy, ACCEPTED_LIBRARIES, &[]).expect("pinned");
        assert_eq!(v.pinned, CPU_LIB);
        std::fs::write(&copy, b"swapped").unwrap();
        assert_eq!(
            sha256_hex(&std::fs::read(v.load_path()).unwrap()),
            CPU_LIB.sha256
        );
    }

    #[test]
    fn the_fetch_tool_pins_the_same_hashes() {
        let tool = include_str!("../../../tools/fetch-onnxruntime");
        for p in ACCEPTED_LIBRARIES.iter().chain(ACCEPTED_PROVIDERS) {
            assert!(
                tool.contains(p.sha256),
                "{} ({}) not pinned in tools/fetch-onnxruntime",
                p.what,
                p.sha256
            );
        }
    }
}
