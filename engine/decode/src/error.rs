//! Decoder errors: each names the problem and what the operator can do; the evidence path
//! comes last.
//!
//! Evidence is decoded through `/proc/self/fd/N` (the inode that was hashed, see
//! `vigie_evidence::OpenedEvidence`), a name that means nothing to an investigator. Every
//! public entry of this crate therefore names such a path by the file it has open
//! ([`shown_path`]) in the errors it returns, whoever the caller is.

use std::path::{Path, PathBuf};

/// The name to show in messages for `path`, a path given to a decoder: a file descriptor's
/// path (`/proc/self/fd/N`, `/dev/fd/N`) is shown as the file the descriptor has open, as
/// the kernel names it (with ` (deleted)` when that name no longer leads to it); any other
/// path as it is. Call it while the descriptor is open: every caller of a decoder holds
/// the file open for the call.
pub(crate) fn shown_path(path: &Path) -> PathBuf {
    let is_fd = ["/proc/self/fd", "/dev/fd"]
        .iter()
        .any(|dir| path.parent() == Some(Path::new(dir)))
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.parse::<u32>().is_ok());
    if is_fd {
        // A pipe or a socket reads `pipe:[N]`: no better name than the descriptor's.
        if let Some(name) = std::fs::read_link(path).ok().filter(|n| n.is_absolute()) {
            return name;
        }
    }
    path.to_path_buf()
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{0}")]
    InvalidConfig(String),
    #[error("cannot open the file (check that it exists and is readable): {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the file is empty (0 bytes): the copy or export failed; copy the evidence again: {path}"
    )]
    Empty { path: PathBuf },
    #[error("not a video file FFmpeg recognises ({reason}); check that this is a video export (proprietary DVR formats need the vendor's export tool first): {path}")]
    NotMedia { path: PathBuf, reason: String },
    #[error("the file contains no video stream (found: {found}); pick a video file: {path}")]
    NoVideoStream { path: PathBuf, found: String },
    #[error("stream {index} is not a video stream (video streams: {video:?}); choose one of those with --stream: {path}")]
    NotAVideoStream {
        path: PathBuf,
        index: usize,
        video: Vec<usize>,
    },
    #[error("no decoder for codec `{codec}` in this FFmpeg build; install an FFmpeg that has it (e.g. Debian's libavcodec-extra) or transcode the file: {path}")]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("FFmpeg failed to {action} ({source}): {path}")]
    Ffmpeg {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: ffmpeg_next::Error,
    },
    #[error("the file or folder name is not valid UTF-8, which FFmpeg cannot open by name; rename it to a UTF-8 name (the bytes of the file are unchanged by a rename) and try again: {}", path.display())]
    NonUtf8Path { path: PathBuf },
    #[error("cannot salvage this export: {why}: {path}")]
    Salvage { path: PathBuf, why: String },
    #[error("this MP4/MOV export was cut before its index (moov) was written, so FFmpeg cannot read it as it is; vigie salvages its frames at ingest (add `--reference FILE`, a healthy export of the same recorder, if the stream does not repeat its parameter sets): {path}")]
    NeedsSalvage { path: PathBuf },
    #[error("the frame at {pts_ms} ms was decoded for analysis only (the loop filter was skipped): its pixels are not the recorded picture and cannot be shown or handed over (this is a bug in vigie; please report it)")]
    NotRecordedPixels { pts_ms: i64 },
    #[error("the decoder thread stopped unexpectedly (this is a bug in vigie; please report it)")]
    ThreadPanicked,
}

impl DecodeError {
    /// The file the error is about, if it names one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DecodeError::Open { path, .. }
            | DecodeError::Empty { path }
            | DecodeError::NotMedia { path, .. }
            | DecodeError::NoVideoStream { path, .. }
            | DecodeError::NotAVideoStream { path, .. }
            | DecodeError::UnsupportedCodec { path, .. }
            | DecodeError::Ffmpeg { path, .. }
            | DecodeError::NonUtf8Path { path }
            | DecodeError::Salvage { path, .. }
            | DecodeError::NeedsSalvage { path } => Some(path),
            DecodeError::InvalidConfig(_)
            | DecodeError::NotRecordedPixels { .. }
            | DecodeError::ThreadPanicked => None,
        }
    }

    /// [`Self::naming`] `shown` only when the error is about `opened` (an error about
    /// another file, such as a salvage reference, keeps its name).
    pub fn naming_for(self, opened: &Path, shown: &Path) -> Self {
        if self.path() == Some(opened) {
            self.naming(shown)
        } else {
            self
        }
    }

    /// [`Self::naming_for`] the file behind `opened` ([`shown_path`]): what every public
    /// entry of this crate does to the errors it returns about the file it was given.
    pub(crate) fn naming_opened(self, opened: &Path) -> Self {
        if self.path() == Some(opened) {
            self.naming(&shown_path(opened))
        } else {
            self
        }
    }

    /// The same error naming `shown`: evidence is decoded through `/proc/self/fd/N` (the
    /// hashed inode, see `vigie_evidence::OpenedEvidence`), which means nothing to an
    /// operator; the message names the evidence file instead.
    pub fn naming(mut self, shown: &Path) -> Self {
        match &mut self {
            DecodeError::Open { path, .. }
            | DecodeError::Empty { path }
            | DecodeError::NotMedia { path, .. }
            | DecodeError::NoVideoStream { path, .. }
            | DecodeError::NotAVideoStream { path, .. }
            | DecodeError::UnsupportedCodec { path, .. }
            | DecodeError::Ffmpeg { path, .. }
            | DecodeError::NonUtf8Path { path }
            | DecodeError::Salvage { path, .. }
            | DecodeError::NeedsSalvage { path } => *path = shown.to_path_buf(),
            DecodeError::InvalidConfig(_)
            | DecodeError::NotRecordedPixels { .. }
            | DecodeError::ThreadPanicked => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::io::AsRawFd;

    #[test]
    fn a_descriptors_path_is_shown_as_the_file_it_has_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cam 1.mp4");
        std::fs::write(&path, b"footage").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        assert_eq!(shown_path(&fd), std::fs::canonicalize(&path).unwrap());
        let e = DecodeError::Empty { path: fd.clone() }.naming_opened(&fd);
        assert!(e.to_string().ends_with("cam 1.mp4"), "{e}");
        // Any other path as given; a descriptor that is not open as it is.
        assert_eq!(shown_path(Path::new("a/b.mp4")), Path::new("a/b.mp4"));
        let closed = Path::new("/proc/self/fd/999999");
        assert_eq!(shown_path(closed), closed);
    }
}
