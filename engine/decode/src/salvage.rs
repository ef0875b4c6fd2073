//! Salvage of MP4/MOV exports cut before their index.
//!
//! Why: a DVR export interrupted (full USB stick, power cut, copy stopped) leaves an MP4 or
//! MOV whose `moov` box — the index, written last — is missing. FFmpeg refuses such a file
//! ("moov atom not found") and every frame in it is lost, although the media data (`mdat`)
//! is there. This module recovers it the way `untrunc` does:
//!
//! 1. the top-level boxes are walked: `ftyp`, then `mdat`, and no `moov`;
//! 2. the `mdat` payload is read as H.264 or H.265 samples, which MP4 stores as NAL units
//!    with a 4-byte big-endian length; a length that does not lead to a plausible NAL unit
//!    (damage, an audio sample interleaved) is skipped by scanning forward to the next
//!    position where two consecutive units are plausible;
//! 3. the parameter sets (SPS/PPS, and VPS for H.265) usually live in the missing index:
//!    they are taken from the stream when the recorder repeats them in-band, otherwise
//!    from a healthy reference file of the same recorder given by the operator
//!    (`vigie ingest --reference`); with neither, salvage is refused with a message saying
//!    exactly that;
//! 4. the units are written as an Annex B elementary stream (start codes), which the
//!    decoder reads like any raw stream (timed from its frame rate).
//!
//! The original file is never written to: its hash stays the hash of what was seized.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DecodeError;

/// The codec of a salvaged stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SalvageCodec {
    H264,
    Hevc,
}

/// Where the parameter sets of a salvaged stream came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum ParameterSets {
    /// Repeated in-band by the recorder.
    Stream,
    /// From a healthy file of the same recorder.
    Reference { path: String },
}

/// What salvage recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct Salvaged {
    pub codec: SalvageCodec,
    /// The recovered units as an Annex B elementary stream.
    pub annex_b: Vec<u8>,
    pub nal_units: u64,
    /// Bytes of `mdat` that could not be read as units (damage, other tracks).
    pub bytes_skipped: u64,
    pub parameter_sets: ParameterSets,
}

/// Where the media data of a moov-less MP4/MOV lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MdatSpan {
    pub start: u64,
    pub end: u64,
}

fn be32(b: &[u8]) -> u64 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64
}

/// If `bytes` is an MP4/MOV with media data and no index, where its media data lies.
pub fn mdat_without_moov(bytes: &[u8]) -> Option<MdatSpan> {
    mdat_without_moov_in(&mut std::io::Cursor::new(bytes))
        .ok()
        .flatten()
}

/// [`mdat_without_moov`] on a file, reading box headers only (never the whole file).
pub fn mdat_without_moov_at(path: &Path) -> std::io::Result<Option<MdatSpan>> {
    mdat_without_moov_in(&mut std::fs::File::open(path)?)
}

fn mdat_without_moov_in<R: std::io::Read + std::io::Seek>(
    r: &mut R,
) -> std::io::Result<Option<MdatSpan>> {
    use std::io::SeekFrom;
    let len = r.seek(SeekFrom::End(0))?;
    let mut pos = 0u64;
    let mut seen_ftyp = false;
    let mut mdat = None;
    while pos + 8 <= len {
        r.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 16];
        let n = if pos + 16 <= len { 16 } else { 8 };
        r.read_exact(&mut h[..n])?;
        let mut size = be32(&h[..4]);
        let kind = [h[4], h[5], h[6], h[7]];
        let mut header = 8;
        if size == 1 && n == 16 {
            size = u64::from_be_bytes(h[8..16].try_into().expect("8 bytes"));
            header = 16;
        } else if size == 0 {
            size = len - pos; // to the end of the file
        }
        if size < header {
            return Ok(None);
        }
        match &kind {
            b"ftyp" => seen_ftyp = true,
            b"moov" => return Ok(None),
            b"mdat" => {
                mdat = Some(MdatSpan {
                    start: pos + header,
                    end: (pos + size).min(len),
                })
            }
            b"free" | b"skip" | b"wide" | b"uuid" | b"pdin" | b"moof" | b"mfra" => {}
            _ if !seen_ftyp => return Ok(None),
            _ => {}
        }
        pos += size;
    }
    Ok(if seen_ftyp { mdat } else { None })
}

fn h264_type(b: u8) -> Option<u8> {
    // forbidden_zero_bit must be 0; types 1..=23 are coded data and parameter sets.
    (b & 0x80 == 0 && (1..=23).contains(&(b & 0x1f))).then_some(b & 0x1f)
}

fn hevc_type(b0: u8, b1: u8) -> Option<u8> {
    let t = (b0 >> 1) & 0x3f;
    // forbidden bit 0, nuh_temporal_id_plus1 != 0, types 0..=40 (VCL, parameter sets,
    // SEI, AUD...).
    (b0 & 0x80 == 0 && b1 & 0x07 != 0 && t <= 40).then_some(t)
}

fn nal_type(codec: SalvageCodec, unit: &[u8]) -> Option<u8> {
    match codec {
        SalvageCodec::H264 => unit.first().and_then(|b| h264_type(*b)),
        SalvageCodec::Hevc => match unit {
            [a, b, ..] => hevc_type(*a, *b),
            _ => None,
        },
    }
}

fn is_parameter_set(codec: SalvageCodec, t: u8) -> bool {
    match codec {
        SalvageCodec::H264 => t == 7 || t == 8,
        SalvageCodec::Hevc => (32..=34).contains(&t),
    }
}

/// A plausible length-prefixed unit at `pos` (its length and type), not checking what
/// follows.
fn unit_at(codec: SalvageCodec, data: &[u8], pos: usize) -> Option<(usize, u8)> {
    let rest = data.get(pos..)?;
    if rest.len() < 6 {
        return None;
    }
    let n = be32(&rest[..4]) as usize;
    if n < 2 || n > rest.len() - 4 || n > 32 << 20 {
        return None;
    }
    let t = nal_type(codec, &rest[4..4 + n])?;
    Some((n, t))
}

/// Units at `pos` and right after it are both plausible (or the first ends the data).
fn resync_ok(codec: SalvageCodec, data: &[u8], pos: usize) -> bool {
    match unit_at(codec, data, pos) {
        Some((n, _)) => {
            let next = pos + 4 + n;
            next >= data.len() || unit_at(codec, data, next).is_some()
        }
        None => false,
    }
}

/// Walk the length-prefixed units of `data`; returns (units, bytes skipped).
fn walk_units(codec: SalvageCodec, data: &[u8]) -> (Vec<(usize, usize, u8)>, u64) {
    let mut units = Vec::new();
    let mut skipped = 0u64;
    let mut pos = 0usize;
    while pos + 4 < data.len() {
        match unit_at(codec, data, pos) {
            // In step with the previous unit, a plausible unit is taken; only resyncing
            // after damage asks for two in a row.
            Some((n, t)) => {
                units.push((pos + 4, n, t));
                pos += 4 + n;
            }
            _ => {
                // Damage or another track's sample: find the next plausible pair.
                let start = pos;
                pos += 1;
                while pos + 4 < data.len() && !resync_ok(codec, data, pos) {
                    pos += 1;
                }
                skipped += (pos - start) as u64;
            }
        }
    }
    skipped += data.len().saturating_sub(pos) as u64;
    (units, skipped)
}

/// The parameter sets of a healthy file of the same recorder, from its index (`avcC` or
/// `hvcC` in the stream's extradata), as NAL units.
fn reference_parameter_sets(reference: &Path) -> Result<(SalvageCodec, Vec<Vec<u8>>), DecodeError> {
    crate::init();
    let input =
        ffmpeg_next::format::input(&crate::probe::ffmpeg_path(reference)?).map_err(|e| {
            DecodeError::NotMedia {
                path: reference.to_path_buf(),
                reason: format!("the reference file cannot be read ({e})"),
            }
        })?;
    let stream = input
        .streams()
        .best(ffmpeg_next::media::Type::Video)
        .ok_or_else(|| DecodeError::NoVideoStream {
            path: reference.to_path_buf(),
            found: "no video".into(),
        })?;
    let params = stream.parameters();
    let codec = match params.id() {
        ffmpeg_next::codec::Id::H264 => SalvageCodec::H264,
        ffmpeg_next::codec::Id::HEVC => SalvageCodec::Hevc,
        other => {
            return Err(DecodeError::Salvage {
                path: reference.to_path_buf(),
                why: format!(
                    "the reference file's video is {other:?}; only H.264 and H.265 exports can be salvaged"
                ),
            })
        }
    };
    // SAFETY: `params` wraps a valid AVCodecParameters owned by the open input; extradata
    // and extradata_size are read-only here and outlive this borrow.
    let extradata: Vec<u8> = unsafe {
        let p = params.as_ptr();
        if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        }
    };
    let sets = match codec {
        SalvageCodec::H264 => avcc_parameter_sets(&extradata),
        SalvageCodec::Hevc => hvcc_parameter_sets(&extradata),
    };
    if sets.is_empty() {
        return Err(DecodeError::Salvage {
            path: reference.to_path_buf(),
            why: "the reference file carries no parameter sets in its index".into(),
        });
    }
    Ok((codec, sets))
}

fn be16_at(b: &[u8], pos: usize) -> Option<usize> {
    b.get(pos..pos + 2)
        .map(|x| u16::from_be_bytes([x[0], x[1]]) as usize)
}

/// `count` units each prefixed by a 16-bit length, from `pos`: appended to `out`; returns
/// the position after them, or `None` if the record ends early.
fn take_units(b: &[u8], mut pos: usize, count: usize, out: &mut Vec<Vec<u8>>) -> Option<usize> {
    for _ in 0..count {
        let len = be16_at(b, pos)?;
        pos += 2;
        out.push(b.get(pos..pos + len)?.to_vec());
        pos += len;
    }
    Some(pos)
}

/// SPS and PPS from an `avcC` record.
pub fn avcc_parameter_sets(avcc: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if avcc.len() < 7 || avcc[0] != 1 {
        return out;
    }
    let n_sps = (avcc[5] & 0x1f) as usize;
    let Some(pos) = take_units(avcc, 6, n_sps, &mut out) else {
        return out;
    };
    if let Some(&n_pps) = avcc.get(pos) {
        take_units(avcc, pos + 1, n_pps as usize, &mut out);
    }
    out
}

/// VPS, SPS and PPS from an `hvcC` record.
pub fn hvcc_parameter_sets(hvcc: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if hvcc.len() < 23 {
        return out;
    }
    let n_arrays = hvcc[22] as usize;
    let mut pos = 23;
    for _ in 0..n_arrays {
        // One byte of array header (NAL type), then the unit count.
        let Some(n) = be16_at(hvcc, pos + 1) else {
            return out;
        };
        match take_units(hvcc, pos + 3, n, &mut out) {
            Some(next) => pos = next,
            None => return out,
        }
    }
    out
}

/// Salvage the video of a moov-less MP4/MOV at `path` (see the module docs).
pub fn salvage(path: &Path, reference: Option<&Path>) -> Result<Salvaged, DecodeError> {
    salvage_inner(path, reference).map_err(|e| e.naming_opened(path))
}

fn salvage_inner(path: &Path, reference: Option<&Path>) -> Result<Salvaged, DecodeError> {
    let open_err = |source| DecodeError::Open {
        path: path.to_path_buf(),
        source,
    };
    let span = mdat_without_moov_at(path)
        .map_err(open_err)?
        .ok_or_else(|| DecodeError::Salvage {
            path: path.to_path_buf(),
            why: "it is not an MP4/MOV with media data and no index".into(),
        })?;
    let data = {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(path).map_err(open_err)?;
        f.seek(SeekFrom::Start(span.start)).map_err(open_err)?;
        let mut buf = Vec::with_capacity((span.end - span.start) as usize);
        f.take(span.end - span.start)
            .read_to_end(&mut buf)
            .map_err(open_err)?;
        buf
    };
    let data = &data[..];
    let from_reference = reference.map(reference_parameter_sets).transpose()?;
    // The codec: the reference's, else the one whose units cover more of the data.
    let codec = match &from_reference {
        Some((c, _)) => *c,
        None => {
            let cover = |c| walk_units(c, data).0.iter().map(|u| u.1).sum::<usize>();
            if cover(SalvageCodec::Hevc) > cover(SalvageCodec::H264) {
                SalvageCodec::Hevc
            } else {
                SalvageCodec::H264
            }
        }
    };
    let (units, skipped) = walk_units(codec, data);
    if units.is_empty() {
        return Err(DecodeError::Salvage {
            path: path.to_path_buf(),
            why: "no H.264 or H.265 data was found in its media data".into(),
        });
    }
    let in_band = units.iter().any(|u| is_parameter_set(codec, u.2));
    let mut annex_b = Vec::with_capacity(data.len());
    let parameter_sets = match (in_band, from_reference) {
        (true, _) => ParameterSets::Stream,
        (false, Some((_, sets))) => {
            for s in &sets {
                annex_b.extend_from_slice(&[0, 0, 0, 1]);
                annex_b.extend_from_slice(s);
            }
            let r = reference.expect("a reference gave the sets");
            ParameterSets::Reference {
                path: r.display().to_string(),
            }
        }
        (false, None) => {
            return Err(DecodeError::Salvage {
                path: path.to_path_buf(),
                why: "its index is missing and the recorder did not repeat the parameter sets (SPS/PPS) in the stream; give a healthy file exported by the same recorder with `vigie ingest --reference FILE`".into(),
            })
        }
    };
    for (start, n, _) in &units {
        annex_b.extend_from_slice(&[0, 0, 0, 1]);
        annex_b.extend_from_slice(&data[*start..start + n]);
    }
    Ok(Salvaged {
        codec,
        annex_b,
        nal_units: units.len() as u64,
        bytes_skipped: skipped,
        parameter_sets,
    })
}

/// The file name a salvaged stream is written under.
pub fn stream_file_name(source_id: &str, codec: SalvageCodec) -> PathBuf {
    PathBuf::from(format!(
        "{source_id}.{}",
        match codec {
            SalvageCodec::H264 => "h264",
            SalvageCodec::Hevc => "h265",
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    fn unit(bytes: &[u8]) -> Vec<u8> {
        let mut b = (bytes.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(bytes);
        b
    }

    #[test]
    fn finds_media_data_without_an_index() {
        let mut f = boxed(b"ftyp", b"isom\0\0\0\0");
        f.extend(boxed(b"free", b""));
        let mdat_at = f.len() as u64 + 8;
        f.extend(boxed(b"mdat", &[1, 2, 3, 4]));
        assert_eq!(
            mdat_without_moov(&f),
            Some(MdatSpan {
                start: mdat_at,
                end: mdat_at + 4
            })
        );
        let mut with_index = f.clone();
        with_index.extend(boxed(b"moov", b""));
        assert_eq!(mdat_without_moov(&with_index), None);
        assert_eq!(mdat_without_moov(b"not an mp4 at all"), None);
    }

    #[test]
    fn units_are_walked_and_damage_is_skipped() {
        let sps = [0x67, 1, 2, 3];
        let idr = [0x65, 9, 9, 9, 9];
        let mut data = unit(&sps);
        data.extend(unit(&idr));
        data.extend([0xff, 0xff, 0xff]); // damage
        data.extend(unit(&[0x41, 7, 7, 7]));
        data.extend(unit(&[0x41, 8, 8, 8]));
        let (units, skipped) = walk_units(SalvageCodec::H264, &data);
        let types: Vec<u8> = units.iter().map(|u| u.2).collect();
        assert_eq!(types, vec![7, 5, 1, 1]);
        assert_eq!(skipped, 3);
    }

    #[test]
    fn avcc_records_give_their_parameter_sets() {
        let avcc = [
            1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 3, 0x67, 1, 2, 1, 0, 2, 0x68, 5,
        ];
        assert_eq!(
            avcc_parameter_sets(&avcc),
            vec![vec![0x67, 1, 2], vec![0x68, 5]]
        );
        assert!(avcc_parameter_sets(&[0, 1]).is_empty());
    }
}
