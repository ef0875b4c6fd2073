//! Evidence integrity for vigie.
//!
//! Seized footage is evidence: vigie must be able to show that it never altered it and that
//! every result was computed from the exact bytes that were handed over. This crate:
//! - hashes sources with SHA-256, streamed in 1 MiB reads, opening files **read-only**
//!   (there is no code path in vigie that opens a source for writing);
//! - keeps a per-case registry of ingested sources (`sources.json`, replaced atomically
//!   under a file lock, so a crash or a second process never leaves it half-written);
//! - re-checks a source's hash before later work and refuses it when the bytes changed,
//!   through a handle kept open for the decoder ([`OpenedEvidence`], [`VerifiedSource`]):
//!   what is hashed is what is decoded, and a change during the work is caught after it.
//!
//! Probing (container, codec, duration...) is the decoder's job; this crate stores what the
//! caller probed, so it stays free of FFmpeg.

#![forbid(unsafe_code)]

mod hash;
mod opened;
mod registry;
mod walk;

pub use hash::{hash_file, hash_reader, HashError, HASH_CHUNK_BYTES};
pub use opened::{FileIdentity, OpenedEvidence, PinnedFile};
pub use registry::{
    check_utf8_path, AddOutcome, Registry, RegistryError, Salvage, SourceRecord, VerifiedSource,
};
pub use walk::{
    collect_sources, is_video_extension, walk_sources, WalkError, Walked, VIDEO_EXTENSIONS,
};
