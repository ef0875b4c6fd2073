//! The measurement door: benchmarks and evaluations on files outside any case.
//!
//! Speed and accuracy are measured on public test footage and labelled datasets, not on
//! seized footage, so these commands cannot need a case. They are still processing of
//! video, so they go through this one documented door: [`Measurement::open`] hashes every
//! input file and writes a machine-log entry (`measurement`) naming each file's SHA-256,
//! the command and what will be computed, *before* anything is computed. The detectors,
//! trackers and plate readers of a measurement are built from it ([`Measurement::detector`],
//! [`Measurement::plate_reader`]) and refuse a file it did not declare. No other path in
//! vigie produces detections, tracks or plate reads outside an entered case.
//!
//! A declared file is opened once and hashed through that handle; the handle of a video
//! stays open and [`Measurement::check`] gives the path to decode it from
//! (`/proc/self/fd/N`, the inode that was hashed), so a file renamed over the declared one
//! after the entry is written is not what gets measured. Other declared files (stills,
//! labels; a dataset can hold more of them than a process may keep open) are checked
//! against the identity they had when hashed (device, inode, size, modification time).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vigie_audit::event::{Event, FileHash};
use vigie_audit::AuditAlertSink;
use vigie_evidence::{FileIdentity, HashError, OpenedEvidence, RegistryError};

use crate::analyze::DetectorChoice;
use crate::app::App;
use crate::error::AppError;
use crate::operator::Operator;

/// What a measurement computes (recorded in its entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    DecodeTiming,
    Detections,
    Tracks,
    PlateReads,
    /// Colour names of labelled objects (`vigie eval colour`).
    ColourNames,
}

impl Computed {
    fn as_str(self) -> &'static str {
        match self {
            Computed::DecodeTiming => "decode timing",
            Computed::Detections => "detections",
            Computed::Tracks => "tracks",
            Computed::PlateReads => "plate reads",
            Computed::ColourNames => "colour names",
        }
    }
}

/// An open measurement: its files are declared and logged. Each declared file is known by
/// its identity as hashed (device, inode, size, times), not kept open: a measurement may
/// declare thousands of files (`bench web`'s stubs) and the readers open them by name;
/// [`Measurement::check`] compares the identity again.
pub struct Measurement {
    app: App,
    operator: Option<Operator>,
    command: String,
    files: Vec<FileHash>,
    declared: BTreeMap<PathBuf, FileIdentity>,
    sink: AuditAlertSink,
}

impl std::fmt::Debug for Measurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Measurement")
            .field("command", &self.command)
            .field("files", &self.files.len())
            .finish()
    }
}

fn key(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_owned())
}

impl Measurement {
    /// Declare `files` for `command`, hash each and log the measurement in the machine log.
    /// A file that cannot be read is an error naming it (nothing is computed).
    pub fn open(
        app: &App,
        operator: Option<&Operator>,
        command: &str,
        computed: &[Computed],
        files: &[PathBuf],
        purpose: Option<&str>,
    ) -> Result<Self, AppError> {
        let mut hashed = Vec::with_capacity(files.len());
        let mut declared = BTreeMap::new();
        for f in files {
            // Opened by its real name (links resolved), once: what is hashed is what the
            // measurement reads.
            let real = f.canonicalize().map_err(|source| HashError::Open {
                path: f.clone(),
                source,
            })?;
            let opened = OpenedEvidence::open(&real, |_| {})?;
            hashed.push(FileHash {
                path: f.display().to_string(),
                sha256: opened.sha256().to_owned(),
                size_bytes: opened.size_bytes(),
                inside_case: false,
            });
            declared.insert(real, opened.identity());
        }
        let purpose = purpose
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or("measurement of speed or accuracy on test data (outside any case)")
            .to_owned();
        app.record_machine(
            operator,
            None,
            &purpose,
            &Event::Measurement {
                command: command.to_owned(),
                computed: computed.iter().map(|c| c.as_str().to_owned()).collect(),
                files: hashed.clone(),
                purpose: purpose.clone(),
            },
        )?;
        Ok(Self {
            app: app.clone(),
            sink: app.machine_alert_sink(operator)?,
            operator: operator.cloned(),
            command: command.to_owned(),
            files: hashed,
            declared,
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }
    pub fn operator(&self) -> Option<&Operator> {
        self.operator.as_ref()
    }
    /// The declared files with their hashes.
    pub fn files(&self) -> &[FileHash] {
        &self.files
    }
    /// Where refusals (a tampered model) are recorded: the machine log.
    pub fn alert_sink(&self) -> &AuditAlertSink {
        &self.sink
    }

    /// Refuse a file this measurement did not declare, or that changed since it was
    /// hashed (its identity: device, inode, size, modification and change times); give
    /// its real name to read it by.
    pub fn check(&self, file: &Path) -> Result<PathBuf, AppError> {
        let real = key(file);
        let Some(before) = self.declared.get(&real) else {
            return Err(AppError::BadInput(format!(
                "{} was not declared to the measurement door (internal error: every measured file must be hashed and logged first)",
                file.display()
            )));
        };
        let now = std::fs::metadata(&real).map_err(|source| HashError::Open {
            path: real.clone(),
            source,
        })?;
        let now = FileIdentity::of(&now);
        if before.may_differ(&now) {
            return Err(RegistryError::from(HashError::ChangedDuringProcessing {
                path: real,
                before: Box::new(*before),
                after: Box::new(now),
            })
            .into());
        }
        Ok(real)
    }

    /// An object detector for declared files (`model`: chosen by
    /// [`crate::analyze::detector_model_for_source`]).
    pub fn detector(
        &self,
        choice: DetectorChoice,
        model: vigie_detect::DetectorModel,
        device: &str,
        pairs: bool,
    ) -> Result<Box<dyn vigie_pipeline::ObjectDetector + Send>, AppError> {
        crate::analyze::make_detector(
            choice,
            model,
            device,
            crate::plates::cores(),
            pairs,
            &self.sink,
        )
    }

    /// The NanoDet detector itself (evaluation of the detector alone).
    pub fn nanodet(
        &self,
        cfg: vigie_detect::DetectorConfig,
    ) -> Result<vigie_detect::Detector, AppError> {
        Ok(vigie_detect::Detector::new(cfg, &self.sink)?)
    }

    /// A plate reader for declared files.
    pub fn plate_reader(
        &self,
        cfg: vigie_plate::PlateReaderConfig,
    ) -> Result<vigie_plate::PlateReader, AppError> {
        Ok(vigie_plate::PlateReader::open(cfg, &self.sink)?)
    }
}
