//! Streamed SHA-256 over a read-only handle.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes per read: large enough to keep the disk busy, small enough to stay out of memory.
pub const HASH_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot read evidence file (check that it exists and is readable): {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("read error while hashing (the medium may be failing; copy the file again): {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the evidence path is (or just became) a symbolic link; vigie opens evidence only by its real name, so a link swapped in cannot redirect it (name the file itself, or restore the original file at this path): {path}")]
    Symlink { path: PathBuf },
    #[error("the evidence path is not a regular file (name the footage file itself): {path}")]
    NotAFile { path: PathBuf },
    #[error("evidence changed during processing (was {before}, now {after}): the results must not be trusted; restore the original file, check it with `vigie verify`, and run the work again (or ingest the new file as a separate source): {path}")]
    ChangedDuringProcessing {
        path: PathBuf,
        before: Box<crate::FileIdentity>,
        after: Box<crate::FileIdentity>,
    },
}

/// Hash everything `reader` yields, calling `on_bytes` after each chunk with its length.
pub fn hash_reader<R: Read>(
    mut reader: R,
    mut on_bytes: impl FnMut(u64),
) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK_BYTES];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
        on_bytes(n as u64);
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// SHA-256 (lower-case hex) and size of a file, opened read-only.
///
/// Only for a hash that nothing reads after: to hash then decode, use
/// [`crate::OpenedEvidence`], which keeps the hashed file open for the decoder.
pub fn hash_file(path: &Path, on_bytes: impl FnMut(u64)) -> Result<(String, u64), HashError> {
    // `File::open` is read-only: evidence is never opened for writing.
    let file = File::open(path).map_err(|source| HashError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    hash_reader(file, on_bytes).map_err(|source| HashError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let (h, n) = hash_reader(&b""[..], |_| {}).unwrap();
        assert_eq!(
            h,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(n, 0);
        let (h, _) = hash_reader(&b"abc"[..], |_| {}).unwrap();
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streams_large_input_in_chunks_and_reports_progress() {
        let data = vec![7u8; HASH_CHUNK_BYTES * 2 + 5];
        let mut seen = 0u64;
        let mut calls = 0;
        let (h, n) = hash_reader(&data[..], |b| {
            seen += b;
            calls += 1;
        })
        .unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(seen, n);
        assert!(calls >= 3);
        assert_eq!(h, hex::encode(Sha256::digest(&data)));
    }

    #[test]
    fn missing_file_names_the_problem() {
        let e = hash_file(Path::new("/nonexistent/x.mp4"), |_| {}).unwrap_err();
        assert!(e.to_string().contains("cannot read evidence file"));
    }
}
