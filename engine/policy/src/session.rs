//! Sessions for allowlisted models only, and the run-time refusal of everything else.
//!
//! The only constructor of [`ModelSession`] is [`ModelSession::open`], which takes an
//! [`AllowedModelId`]: the file name comes from the compiled spec, never from the caller.
//! The bytes are read once, hashed, compared with the compiled SHA-256 and then given to
//! ONNX Runtime from memory (`commit_from_memory`), so there is no window in which the
//! file could be swapped between the check and the load.
//!
//! One session per worker: a `ModelSession` is `Send` but `run` takes `&mut self`; to use
//! several threads, open one session per thread (each with its own intra-op threads).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vigie_core::{Alert, AlertKind, AlertSink};

use crate::allowlist::{models, AllowedModelId, ModelSpec};
use crate::runtime::{environment, Device};
use crate::PolicyError;

/// How long an idle intra-op worker thread of ONNX Runtime spins for work before it sleeps,
/// in microseconds (`session.intra_op.spin_duration_us`).
///
/// Why: by default the workers spin for milliseconds after each parallel section, so
/// between two detector runs (while the analysis thread scales, gates and tracks) a worker
/// keeps a core busy doing nothing, the core the decoder thread needs. Profiled on a
/// shared 2-core machine (vtest.avi, int8 NanoDet), a third of all CPU samples were that
/// spin loop. 100 us still bridges the gaps between the operators of one inference
/// (waking a sleeping worker costs more than that wait), and then lets the core go:
/// `vigie bench analyze` about 1.15x faster on vtest.avi and 1.1x on the 1080p clip on a
/// nearly idle machine (2-3x on a loaded one), with the same detections (spinning changes
/// when a worker runs, never what it computes). Not spinning at all (`allow_spinning =
/// 0`) was no faster than the default on a nearly idle machine (every operator wakes a
/// worker); 1000 us kept most of the waste.
pub const INTRA_OP_SPIN_US: u32 = 100;

/// How to run a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    pub device: Device,
    /// Threads ONNX Runtime uses inside one operator (per session).
    pub intra_op_threads: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            device: Device::Cpu,
            intra_op_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

/// One output of a run, copied out of ONNX Runtime (row-major f32).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// One output of a run, borrowed from ONNX Runtime ([`ModelSession::run_with`]).
#[derive(Debug)]
pub struct OutputView<'a> {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub data: &'a [f32],
}

/// A session of an allowlisted, hash-checked model. Fields are private; it can only be
/// obtained from [`ModelSession::open`].
pub struct ModelSession {
    id: AllowedModelId,
    session: ort::session::Session,
}

impl std::fmt::Debug for ModelSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSession")
            .field("id", &self.id.spec().id)
            .finish()
    }
}

/// Where an allowlisted model's file is expected (`$VIGIE_CACHE/models/<file>`).
pub fn model_path(id: AllowedModelId) -> PathBuf {
    vigie_core::paths::cache_dir()
        .join("models")
        .join(id.spec().file)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Record `alert` and return `refusal`; if the alert cannot be recorded, say so.
fn refuse(alerts: &dyn AlertSink, alert: Alert, refusal: PolicyError) -> PolicyError {
    match alerts.raise(&alert) {
        Ok(()) => refusal,
        Err(source) => PolicyError::AlertNotRecorded {
            refusal: Box::new(refusal),
            source,
        },
    }
}

fn mismatch_alert(spec: &ModelSpec, actual: &str, path: &Path) -> Alert {
    let mut details = std::collections::BTreeMap::new();
    details.insert("model_id".into(), spec.id.to_string());
    details.insert("expected_sha256".into(), spec.sha256_hex());
    details.insert("actual_sha256".into(), actual.to_string());
    details.insert("path".into(), path.display().to_string());
    Alert {
        kind: AlertKind::ModelRefused,
        message: format!(
            "refused to load model '{}': the file's bytes do not match the allowlisted SHA-256 (modified or replaced file)",
            spec.id
        ),
        details,
    }
}

/// Refuse (with an alert) the bytes of a known biometric model, whatever the allowlist says.
fn refuse_known_biometric(
    actual: &[u8; 32],
    path: &Path,
    listed_as: Option<&str>,
    alerts: &dyn AlertSink,
) -> Result<(), PolicyError> {
    let actual = hex::encode(actual);
    let Some(what) = crate::denylist::known_biometric(&actual) else {
        return Ok(());
    };
    let mut details = std::collections::BTreeMap::new();
    if let Some(id) = listed_as {
        details.insert("model_id".into(), id.to_string());
    }
    details.insert("actual_sha256".into(), actual.clone());
    details.insert("known_biometric".into(), what.to_string());
    details.insert("path".into(), path.display().to_string());
    let alert = Alert {
        kind: AlertKind::ModelRefused,
        message: format!("refused a known biometric model file ({what})"),
        details,
    };
    Err(refuse(
        alerts,
        alert,
        PolicyError::KnownBiometric {
            sha256: actual,
            what,
            path: path.display().to_string(),
        },
    ))
}

/// Check bytes read for `spec`: never a known biometric model (even if the allowlist lists
/// its hash), and exactly the compiled SHA-256.
fn check_bytes(
    spec: &ModelSpec,
    bytes: &[u8],
    path: &Path,
    alerts: &dyn AlertSink,
) -> Result<(), PolicyError> {
    let actual = sha256(bytes);
    refuse_known_biometric(&actual, path, Some(spec.id), alerts)?;
    if actual != spec.sha256 {
        let actual = hex::encode(actual);
        let alert = mismatch_alert(spec, &actual, path);
        return Err(refuse(
            alerts,
            alert,
            PolicyError::HashMismatch {
                id: spec.id.to_string(),
                expected: spec.sha256_hex(),
                actual,
                path: path.display().to_string(),
            },
        ));
    }
    Ok(())
}

/// Read and hash an allowlisted model's file; refuse (with an alert) if it does not match.
fn read_checked(id: AllowedModelId, alerts: &dyn AlertSink) -> Result<Vec<u8>, PolicyError> {
    let spec = id.spec();
    let path = model_path(id);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PolicyError::ModelMissing {
                id: spec.id.to_string(),
                path: path.display().to_string(),
            })
        }
        Err(source) => {
            return Err(PolicyError::Io {
                what: "the model file",
                path: path.display().to_string(),
                source,
            })
        }
    };
    check_bytes(spec, &bytes, &path, alerts)?;
    Ok(bytes)
}

/// Hash an arbitrary file and say which allowlisted model it is. Anything else is refused
/// and an alert is raised. This never returns a session: a caller that wants to run the
/// model must still go through [`ModelSession::open`], which reads the cache copy.
pub fn check_candidate_file(
    path: &Path,
    alerts: &dyn AlertSink,
) -> Result<AllowedModelId, PolicyError> {
    let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
        what: "the candidate model file",
        path: path.display().to_string(),
        source,
    })?;
    let actual = sha256(&bytes);
    refuse_known_biometric(&actual, path, None, alerts)?;
    if let Some(i) = models().iter().position(|m| m.sha256 == actual) {
        return Ok(crate::allowlist::id_at(i));
    }
    let actual = hex::encode(actual);
    let mut details = std::collections::BTreeMap::new();
    details.insert("actual_sha256".into(), actual.clone());
    details.insert("size_bytes".into(), bytes.len().to_string());
    details.insert("path".into(), path.display().to_string());
    let alert = Alert {
        kind: AlertKind::ModelRefused,
        message: "refused a model file that is not on the compiled allowlist".to_string(),
        details,
    };
    Err(refuse(
        alerts,
        alert,
        PolicyError::NotAllowlisted {
            sha256: actual,
            path: path.display().to_string(),
        },
    ))
}

/// State of one allowlisted model in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    Present,
    Missing,
    /// Present, but its bytes do not match (an alert was raised).
    Modified {
        actual_sha256: String,
    },
}

/// Check every allowlisted model in the cache (hashing each file). Modified files raise an
/// alert, exactly as opening them would.
pub fn check_cache(
    alerts: &dyn AlertSink,
) -> Vec<(AllowedModelId, Result<CacheStatus, PolicyError>)> {
    (0..models().len())
        .map(crate::allowlist::id_at)
        .map(|id| {
            let status = match read_checked(id, alerts) {
                Ok(_) => Ok(CacheStatus::Present),
                Err(PolicyError::ModelMissing { .. }) => Ok(CacheStatus::Missing),
                Err(PolicyError::HashMismatch { actual, .. }) => Ok(CacheStatus::Modified {
                    actual_sha256: actual,
                }),
                Err(e) => Err(e),
            };
            (id, status)
        })
        .collect()
}

/// Whether a model declares an input dimension other than the batch that varies from run
/// to run (`-1`): the plate models' picture sizes, not NanoDet's batch.
fn has_dynamic_input(spec: &ModelSpec) -> bool {
    spec.inputs
        .iter()
        .any(|t| t.shape.iter().skip(1).any(|d| *d < 0))
}

fn ort_err(id: AllowedModelId, during: &'static str) -> impl Fn(ort::Error) -> PolicyError {
    move |e| PolicyError::Ort {
        id: id.spec().id.to_string(),
        during,
        message: e.to_string(),
    }
}

impl ModelSession {
    /// Open a session for an allowlisted model: read `$VIGIE_CACHE/models/<file>`, check its
    /// SHA-256 against the compiled one (refusing with an alert on mismatch), commit those
    /// bytes from memory, and check the model's inputs and outputs against the manifest.
    pub fn open(
        id: AllowedModelId,
        config: &SessionConfig,
        alerts: &dyn AlertSink,
    ) -> Result<Self, PolicyError> {
        let bytes = read_checked(id, alerts)?;
        let env = environment(alerts)?;
        let err = ort_err(id, "creating the session");
        let mut builder = ort::session::Session::builder(env).map_err(&err)?;
        builder = builder
            .with_intra_threads(config.intra_op_threads.max(1))
            .map_err(|e| err(e.into()))?;
        builder = builder
            .with_config_entry(
                "session.intra_op.spin_duration_us",
                INTRA_OP_SPIN_US.to_string(),
            )
            .map_err(|e| err(e.into()))?;
        if has_dynamic_input(id.spec()) && config.device == Device::Cpu {
            // Inputs whose size follows each picture (the plate localiser, the
            // recogniser's strip width and batch): ONNX Runtime's CPU arena keeps every
            // chunk it ever grew to (doubling), and its memory patterns are planned per
            // input shape, so with a new shape every few crops the session's memory grew
            // with the length of the footage (plate pass of a 10-min street clip: RSS 422
            // -> 503 MB). Without them each run's tensors are freed when it returns:
            // memory follows the largest input, not the number seen. NanoDet (a fixed
            // picture, only its batch varies) keeps both.
            builder = builder
                .with_memory_pattern(false)
                .map_err(|e| err(e.into()))?;
            builder = builder
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| err(e.into()))?;
        }
        builder = register_device(builder, id, config.device)?;
        let session = builder.commit_from_memory(&bytes).map_err(&err)?;
        let s = ModelSession { id, session };
        s.check_io()?;
        Ok(s)
    }

    pub fn id(&self) -> AllowedModelId {
        self.id
    }

    pub fn spec(&self) -> &'static ModelSpec {
        self.id.spec()
    }

    /// A string from the model's metadata (e.g. the OCR dictionary, key `character`).
    pub fn metadata(&self, key: &str) -> Result<Option<String>, PolicyError> {
        let meta = self
            .session
            .metadata()
            .map_err(ort_err(self.id, "reading metadata"))?;
        Ok(meta.custom(key))
    }

    fn check_io(&self) -> Result<(), PolicyError> {
        let spec = self.spec();
        let mismatch = |problem: String| PolicyError::IoMismatch {
            id: spec.id.to_string(),
            problem,
        };
        let names = |outlets: &[ort::value::Outlet]| {
            outlets
                .iter()
                .map(|o| o.name().to_string())
                .collect::<Vec<_>>()
        };
        let inputs = names(self.session.inputs());
        let outputs = names(self.session.outputs());
        for t in spec.inputs {
            if !inputs.iter().any(|n| n == t.name) {
                return Err(mismatch(format!(
                    "input '{}' not found (model has {inputs:?})",
                    t.name
                )));
            }
        }
        for t in spec.outputs {
            if !outputs.iter().any(|n| n == t.name) {
                return Err(mismatch(format!(
                    "output '{}' not found (model has {outputs:?})",
                    t.name
                )));
            }
        }
        if inputs.len() != spec.inputs.len() {
            return Err(mismatch(format!(
                "model has {} inputs, manifest declares {}",
                inputs.len(),
                spec.inputs.len()
            )));
        }
        Ok(())
    }

    /// Run the model on f32 inputs given in manifest order, as `(shape, data)`.
    /// Returns every declared output, in manifest order, with its shape checked against
    /// the manifest (`-1` matches any size).
    pub fn run(&mut self, inputs: &[(&[usize], &[f32])]) -> Result<Vec<OutputTensor>, PolicyError> {
        self.run_with(inputs, |views| {
            views
                .iter()
                .map(|v| OutputTensor {
                    name: v.name,
                    shape: v.shape.clone(),
                    data: v.data.to_vec(),
                })
                .collect()
        })
    }

    /// [`Self::run`], giving `read` the outputs where ONNX Runtime left them (manifest
    /// order, shapes checked) instead of copies: a detector decodes its megabytes of scores
    /// in place.
    pub fn run_with<R>(
        &mut self,
        inputs: &[(&[usize], &[f32])],
        read: impl FnOnce(&[OutputView<'_>]) -> R,
    ) -> Result<R, PolicyError> {
        let spec = self.id.spec();
        let bad = |problem: String| PolicyError::BadInput {
            id: spec.id.to_string(),
            problem,
        };
        if inputs.len() != spec.inputs.len() {
            return Err(bad(format!(
                "{} inputs given, the model takes {}",
                inputs.len(),
                spec.inputs.len()
            )));
        }
        // Borrowed views of the caller's buffers: no copy of the (megabytes of) input.
        let mut values: Vec<(&'static str, ort::session::SessionInputValue<'_>)> =
            Vec::with_capacity(inputs.len());
        for ((shape, data), t) in inputs.iter().zip(spec.inputs) {
            if !shape_matches(shape, t.shape) {
                return Err(bad(format!(
                    "input '{}' has shape {shape:?}, expected {:?}",
                    t.name, t.shape
                )));
            }
            if shape.iter().product::<usize>() != data.len() {
                return Err(bad(format!(
                    "input '{}': {} values for shape {shape:?}",
                    t.name,
                    data.len()
                )));
            }
            let tensor = ort::value::TensorRef::from_array_view((shape.to_vec(), *data))
                .map_err(ort_err(self.id, "creating an input tensor"))?;
            values.push((t.name, tensor.into()));
        }
        let outputs = self
            .session
            .run(values)
            .map_err(ort_err(self.id, "running"))?;
        let mut result = Vec::with_capacity(spec.outputs.len());
        for t in spec.outputs {
            let value = outputs.get(t.name).ok_or_else(|| PolicyError::IoMismatch {
                id: spec.id.to_string(),
                problem: format!("output '{}' missing from the run's results", t.name),
            })?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(ort_err(self.id, "reading an output"))?;
            let shape: Vec<usize> = shape.iter().map(|d| *d as usize).collect();
            if !shape_matches(&shape, t.shape) {
                return Err(PolicyError::IoMismatch {
                    id: spec.id.to_string(),
                    problem: format!(
                        "output '{}' has shape {shape:?}, manifest says {:?}",
                        t.name, t.shape
                    ),
                });
            }
            result.push(OutputView {
                name: t.name,
                shape,
                data,
            });
        }
        Ok(read(&result))
    }
}

fn shape_matches(actual: &[usize], declared: &[i64]) -> bool {
    actual.len() == declared.len()
        && actual
            .iter()
            .zip(declared)
            .all(|(a, d)| *d < 0 || *a as i64 == *d)
}

#[cfg(feature = "cuda")]
fn register_device(
    builder: ort::session::builder::SessionBuilder,
    id: AllowedModelId,
    device: Device,
) -> Result<ort::session::builder::SessionBuilder, PolicyError> {
    match device {
        Device::Cpu => Ok(builder),
        Device::Cuda(n) => {
            let ep = ort::ep::CUDA::default()
                .with_device_id(n as i32)
                .build()
                .error_on_failure();
            builder.with_execution_providers([ep]).map_err(|e| PolicyError::DeviceUnavailable {
                device: device.to_string(),
                reason: format!(
                    "the CUDA execution provider did not start for model '{}' ({e}); run tools/fetch-onnxruntime --gpu, set ORT_DYLIB_PATH to its libonnxruntime.so and put its cuda/ folder on LD_LIBRARY_PATH",
                    id.spec().id
                ),
            })
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn register_device(
    builder: ort::session::builder::SessionBuilder,
    _id: AllowedModelId,
    device: Device,
) -> Result<ort::session::builder::SessionBuilder, PolicyError> {
    match device {
        Device::Cpu => Ok(builder),
        Device::Cuda(_) => Err(PolicyError::DeviceUnavailable {
            device: device.to_string(),
            reason: "this vigie was built without CUDA support; rebuild with `--features cuda` (cargo build --release -p vigie-cli --features cuda) and fetch the GPU runtime with tools/fetch-onnxruntime --gpu".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::MemoryAlertSink;

    const TINY_FACE: &[u8] = include_bytes!("../tests/fixtures/tiny_face_embedding.onnx");

    /// The plate models (picture-sized inputs) go without the arena; NanoDet (a fixed
    /// picture, only its batch varies) keeps it.
    #[test]
    fn only_models_with_picture_sized_inputs_go_without_the_arena() {
        let dynamic: Vec<&str> = models()
            .iter()
            .filter(|m| has_dynamic_input(m))
            .map(|m| m.id)
            .collect();
        for id in ["ppocrv6-det-small", "ppocrv6-rec-small", "clp-det"] {
            assert!(dynamic.contains(&id), "{id}: {dynamic:?}");
        }
        assert!(
            !dynamic.iter().any(|id| id.starts_with("nanodet")),
            "{dynamic:?}"
        );
    }

    /// Even an allowlist entry carrying a known biometric model's hash (a manifest that
    /// escaped the build check) does not open it: the run-time check refuses those bytes.
    #[test]
    fn a_known_biometric_hash_is_refused_even_if_listed() {
        let listed = ModelSpec {
            id: "plain-object-detector",
            sha256: sha256(TINY_FACE),
            ..models()[0]
        };
        let sink = MemoryAlertSink::default();
        let path = Path::new("/cache/models/plain.onnx");
        let err = check_bytes(&listed, TINY_FACE, path, &sink).unwrap_err();
        assert!(matches!(err, PolicyError::KnownBiometric { .. }), "{err}");
        assert!(err.is_refusal());
        assert!(err.to_string().contains("known biometric model"), "{err}");
        let alerts = sink.alerts.lock().unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::ModelRefused);
        assert_eq!(alerts[0].details["model_id"], "plain-object-detector");
        // Bytes matching a normal entry still pass.
        drop(alerts);
        let other = b"not a model";
        let ok = ModelSpec {
            sha256: sha256(other),
            ..models()[0]
        };
        check_bytes(&ok, other, path, &sink).expect("matching, not biometric");
    }
}
