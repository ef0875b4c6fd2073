//! The decode loop: demux -> decode (threaded) -> sample -> scale to RGB.

// The only unsafe code in vigie: `ffmpeg-next`'s safe API cannot request frame *and* slice
// threading at once, so the decoder context's `thread_type` is set directly before the
// codec is opened. Nothing else touches raw FFmpeg structures.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver};
use ffmpeg_next::codec::{self, threading};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::util::frame::video::Video as VideoFrame;
use ffmpeg_next::{Packet, Rational};
use vigie_core::{RgbFrame, SamplingMode, SourceMeta};

use crate::config::{DecodeConfig, LoopFilter};
use crate::probe::{open_input, ts_to_ms};
use crate::sampler::FpsSampler;
use crate::DecodeError;

/// How many distinct warnings a report keeps (counts are always exact).
const MAX_WARNINGS: usize = 20;

/// What happened while decoding one source.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DecodeReport {
    /// Packets read from the selected stream.
    pub packets: u64,
    /// Frames the decoder produced.
    pub frames_decoded: u64,
    /// Frames kept by sampling (and converted, if RGB output is on).
    pub frames_emitted: u64,
    /// Packets the decoder rejected as invalid (decoding went on with the next one).
    pub corrupt_packets: u64,
    /// Frames the decoder produced but flagged as damaged (concealed errors).
    pub corrupt_frames: u64,
    /// The demuxer stopped on an error before the end of the file.
    pub read_error: bool,
    /// The decoded content ends well before the duration the container states.
    pub truncated: bool,
    /// Frames the container's index counts (exactly) that never came out of the decoder
    /// although every frame was asked for: data lost *inside* the file (a zeroed or
    /// overwritten stretch), which neither the last timestamp nor the gaps show. 0 when
    /// the count is not exact, sampling skipped frames in the decoder, or decoding did
    /// not run from the start to the end.
    pub missing_frames: u64,
    /// Presentation time of the last decoded frame, in ms.
    pub last_pts_ms: Option<i64>,
    /// Frames timed from the frame rate because the stream gave no usable timestamp
    /// (every frame of a raw elementary stream).
    pub timestamps_synthesised: u64,
    /// Timestamps that repeated or went back (reset, wrap): timed from the frame rate.
    pub timestamp_discontinuities: u64,
    /// Holes in the recording (a forward jump of the timestamps), in media time.
    pub gaps: Vec<crate::timeline::TimeGap>,
    /// Human-readable warnings (first ones only).
    pub warnings: Vec<String>,
}

impl DecodeReport {
    fn warn(&mut self, msg: String) {
        if self.warnings.len() < MAX_WARNINGS && !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }

    /// Whether anything was wrong with the source.
    pub fn is_damaged(&self) -> bool {
        self.corrupt_packets > 0
            || self.corrupt_frames > 0
            || self.read_error
            || self.truncated
            || self.missing_frames > 0
    }
}

/// A decoder for one source. See the crate docs for the lifecycle.
pub struct Decoder {
    /// What errors name ([`crate::error::shown_path`] of the path opened).
    path: PathBuf,
    input: ffmpeg_next::format::context::Input,
    decoder: codec::decoder::Video,
    stream_index: usize,
    time_base: Rational,
    start_ts: i64,
    meta: SourceMeta,
    cfg: DecodeConfig,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    sampler: Option<FpsSampler>,
    frame: VideoFrame,
    rgb: VideoFrame,
    packet: Packet,
    report: DecodeReport,
    timeline: crate::timeline::Timeline,
    sent_eof: bool,
    done: bool,
    /// A seek moved the decoder: its frame count is no longer the file's.
    seeked: bool,
    /// Packets of the stream timed before its start (negative timestamps): what an MP4 edit
    /// list or a cut without re-encoding keeps in the file but drops from the picture. The
    /// container's frame count includes them; they are not missing frames.
    preroll_packets: u64,
    /// The loop filter actually asked of the codec ([`loop_filter_for`]).
    loop_filter: LoopFilter,
}

/// Codecs whose standard has no in-loop filter (MPEG-1/2, MPEG-4 Part 2 and its Microsoft
/// variants, Motion JPEG): asking them to skip it changes no pixel (checked frame by frame
/// with `ffmpeg -skip_loop_filter all -f framemd5` on vtest.avi and on clips of each).
/// Their analysis frames are the recorded pictures, so no thumbnail needs cutting again.
pub(crate) fn has_no_loop_filter(id: codec::Id) -> bool {
    use codec::Id;
    matches!(
        id,
        Id::MPEG1VIDEO
            | Id::MPEG2VIDEO
            | Id::MPEG4
            | Id::MSMPEG4V1
            | Id::MSMPEG4V2
            | Id::MSMPEG4V3
            | Id::MJPEG
    )
}

/// The loop-filter setting that `wanted` means for codec `id`: a skip is meaningless (and
/// the frames stay the recorded pictures) where the codec has no loop filter.
pub(crate) fn loop_filter_for(id: codec::Id, wanted: LoopFilter) -> LoopFilter {
    if has_no_loop_filter(id) {
        LoopFilter::Apply
    } else {
        wanted
    }
}

impl Decoder {
    /// Open `path` for decoding. Every problem that can be found before decoding (empty
    /// file, not media, no video stream, unsupported codec, bad configuration) is an error
    /// here.
    pub fn open(path: &Path, cfg: &DecodeConfig) -> Result<Self, DecodeError> {
        Self::open_with(path, cfg, LoopFilter::Apply)
    }

    /// [`Decoder::open`], with the in-loop deblocking filter applied or skipped: only
    /// [`crate::AnalysisDecoder`] asks for a skip, and its frames are typed as such.
    pub(crate) fn open_with(
        path: &Path,
        cfg: &DecodeConfig,
        loop_filter: LoopFilter,
    ) -> Result<Self, DecodeError> {
        let mut decoder =
            Self::open_inner(path, cfg, loop_filter).map_err(|e| e.naming_opened(path))?;
        // Errors met while decoding name the file too.
        decoder.path = crate::error::shown_path(path);
        Ok(decoder)
    }

    fn open_inner(
        path: &Path,
        cfg: &DecodeConfig,
        loop_filter: LoopFilter,
    ) -> Result<Self, DecodeError> {
        cfg.validate()?;
        let (input, meta) = open_input(path, cfg.stream_index, cfg.operator_start)?;
        let stream = input
            .stream(meta.stream_index)
            .expect("probe returned a valid stream index");
        let time_base = stream.time_base();
        let start_ts = if stream.start_time() == ffmpeg_next::ffi::AV_NOPTS_VALUE {
            0
        } else {
            stream.start_time()
        };
        let mut ctx =
            codec::context::Context::from_parameters(stream.parameters()).map_err(|source| {
                DecodeError::Ffmpeg {
                    path: path.to_path_buf(),
                    action: "read the stream parameters",
                    source,
                }
            })?;
        if codec::decoder::find(ctx.id()).is_none() {
            return Err(DecodeError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!("{:?}", ctx.id()).to_ascii_lowercase(),
            });
        }
        ctx.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: cfg.threads,
            ..Default::default()
        });
        // SAFETY: `ctx` owns a valid, not yet opened AVCodecContext; `thread_type` is a
        // plain int field read by avcodec_open2. FF_THREAD_FRAME | FF_THREAD_SLICE lets
        // FFmpeg use whichever the codec supports, like the ffmpeg CLI does.
        unsafe {
            let raw = ctx.as_mut_ptr();
            (*raw).thread_type =
                ffmpeg_next::ffi::FF_THREAD_FRAME | ffmpeg_next::ffi::FF_THREAD_SLICE;
        }
        let loop_filter = loop_filter_for(ctx.id(), loop_filter);
        let mut dec = ctx.decoder();
        dec.set_packet_time_base(time_base);
        match cfg.sampling {
            SamplingMode::SkipNonRef => dec.skip_frame(codec::discard::Discard::NonReference),
            SamplingMode::KeyframesOnly => dec.skip_frame(codec::discard::Discard::NonKey),
            _ => {}
        }
        match loop_filter {
            LoopFilter::Apply => {}
            LoopFilter::SkipNonRef => dec.skip_loop_filter(codec::discard::Discard::NonReference),
            LoopFilter::SkipAll => dec.skip_loop_filter(codec::discard::Discard::All),
        }
        let decoder = dec.video().map_err(|source| DecodeError::Ffmpeg {
            path: path.to_path_buf(),
            action: "open the video decoder",
            source,
        })?;
        let sampler = match cfg.sampling {
            SamplingMode::TargetFps { fps } => Some(FpsSampler::new(fps)),
            _ => None,
        };
        let meta_fps = match meta.timestamps {
            vigie_core::TimestampSource::FrameRate => cfg.assumed_fps.or(meta.fps),
            vigie_core::TimestampSource::Container => meta.fps,
        };
        Ok(Self {
            path: path.to_path_buf(),
            input,
            decoder,
            stream_index: meta.stream_index,
            time_base,
            start_ts,
            meta,
            cfg: cfg.clone(),
            scaler: None,
            sampler,
            frame: VideoFrame::empty(),
            rgb: VideoFrame::empty(),
            packet: Packet::empty(),
            report: DecodeReport::default(),
            timeline: crate::timeline::Timeline::new(meta_fps),
            sent_eof: false,
            done: false,
            seeked: false,
            preroll_packets: 0,
            loop_filter,
        })
    }

    /// Whether this decoder's frames are the recorded pictures (the loop filter it asked
    /// of the codec, [`loop_filter_for`]).
    pub(crate) fn fidelity(&self) -> crate::Fidelity {
        if self.loop_filter.keeps_recorded_pixels() {
            crate::Fidelity::Recorded
        } else {
            crate::Fidelity::AnalysisOnly
        }
    }

    /// The source's metadata (as [`crate::probe`] gives it).
    pub fn meta(&self) -> &SourceMeta {
        &self.meta
    }

    /// The report so far.
    pub fn report(&self) -> &DecodeReport {
        &self.report
    }

    /// The next kept frame, or `None` at the end of the stream. Damage never ends
    /// decoding early: it is counted in the report.
    pub fn next_frame(&mut self) -> Result<Option<RgbFrame>, DecodeError> {
        loop {
            let Some(pts_ms) = self.next_decoded()? else {
                return Ok(None);
            };
            if let Some(s) = self.sampler.as_mut() {
                if !s.keep(pts_ms) {
                    continue;
                }
            }
            self.report.frames_emitted += 1;
            if !self.cfg.convert_rgb {
                // Decode-only mode still yields frame metadata, without pixels.
                return Ok(Some(self.make_frame(pts_ms, Vec::new(), 0, 0)));
            }
            let (w, h, data) = self.convert()?;
            return Ok(Some(self.make_frame(pts_ms, data, w, h)));
        }
    }

    /// The first frame at or after `at_ms` (presentation time from the start), seeking to
    /// the keyframe before it and decoding forward; `None` if the stream ends before.
    /// Sampling is ignored: the exact frame is wanted.
    pub fn frame_at(&mut self, at_ms: i64) -> Result<Option<RgbFrame>, DecodeError> {
        // Seek in AV_TIME_BASE (microseconds) on the container; raw streams that cannot
        // seek simply decode from the start.
        // A stream timed from its frame rate is decoded from the start: after a seek its
        // frames could not be timed.
        let target_us = at_ms.max(0) * 1000;
        if at_ms > 0
            && self.meta.timestamps == vigie_core::TimestampSource::Container
            && self.input.seek(target_us, ..target_us).is_ok()
        {
            self.decoder.flush();
            self.sent_eof = false;
            self.done = false;
            self.seeked = true;
            self.timeline = crate::timeline::Timeline::new(self.meta.fps);
            // (Only container-timed streams seek: their rate is the container's.)
        }
        self.frame_at_forward(at_ms)
    }

    /// The first frame at or after `at_ms`, decoding forward from where the decoder is,
    /// without seeking: cheaper than [`Self::frame_at`] when `at_ms` is a little ahead of
    /// the last frame decoded (no return to the keyframe). `None` if the stream ends
    /// before. Sampling is ignored.
    pub fn frame_at_forward(&mut self, at_ms: i64) -> Result<Option<RgbFrame>, DecodeError> {
        self.sampler = None;
        loop {
            let Some(pts_ms) = self.next_decoded()? else {
                return Ok(None);
            };
            if pts_ms + 1 < at_ms {
                continue;
            }
            self.report.frames_emitted += 1;
            let (w, h, data) = self.convert()?;
            return Ok(Some(self.make_frame(pts_ms, data, w, h)));
        }
    }

    /// Decode to the end, discarding frames (damage scans and benchmarks).
    pub fn run_to_end(&mut self) -> Result<(), DecodeError> {
        while self.next_frame()?.is_some() {}
        Ok(())
    }

    /// End of decoding: the final report.
    pub fn finish(mut self) -> DecodeReport {
        self.finalise_report();
        self.report
    }

    fn make_frame(&self, pts_ms: i64, data: Vec<u8>, width: u32, height: u32) -> RgbFrame {
        RgbFrame {
            index: self.report.frames_decoded - 1,
            pts_ms,
            wall_ms: self.meta.start_time.map(|s| s.epoch_ms() + pts_ms),
            is_keyframe: self.frame.is_key(),
            width,
            height,
            data,
        }
    }

    /// Drive demuxer and decoder until one frame comes out; returns its pts in ms.
    fn next_decoded(&mut self) -> Result<Option<i64>, DecodeError> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {
                    self.report.frames_decoded += 1;
                    if self.frame.is_corrupt() || self.frame.has_decode_errors() {
                        self.report.corrupt_frames += 1;
                        let n = self.report.frames_decoded - 1;
                        self.report.warn(format!(
                            "damaged frame(s) concealed by the decoder, first at frame {n}"
                        ));
                    }
                    let container_ms = self
                        .frame
                        .timestamp()
                        .or(self.frame.pts())
                        .map(|ts| ts_to_ms(ts - self.start_ts, self.time_base));
                    let (pts_ms, timing) = self.timeline.next(container_ms);
                    self.note_timing(pts_ms, timing);
                    self.report.last_pts_ms = Some(pts_ms);
                    return Ok(Some(pts_ms));
                }
                Err(ffmpeg_next::Error::Eof) => {
                    self.done = true;
                    self.finalise_report();
                    return Ok(None);
                }
                Err(ffmpeg_next::Error::Other { errno }) if errno == libc_eagain() => {}
                Err(e) => {
                    // A decoding error surfaced at receive time: count it, go on.
                    self.report.corrupt_packets += 1;
                    self.report.warn(format!("decoder error: {e}"));
                    if self.sent_eof {
                        self.done = true;
                        self.finalise_report();
                        return Ok(None);
                    }
                }
            }
            if self.sent_eof {
                continue;
            }
            self.feed_one_packet();
        }
    }

    /// Count and report what the timeline did with a frame's timestamp.
    fn note_timing(&mut self, pts_ms: i64, timing: crate::timeline::Timing) {
        use crate::timeline::Timing;
        match timing {
            Timing::Container => {}
            Timing::Synthesised => {
                self.report.timestamps_synthesised += 1;
                let fps = 1000.0 / self.timeline.frame_ms();
                self.report.warn(format!(
                    "the stream carries no usable timestamps: frames are timed from the frame rate ({fps:.2} fps; give the right rate with `vigie ingest --fps` if the recorder used another)"
                ));
            }
            Timing::Discontinuity { from_ms, to_ms } => {
                self.report.timestamps_synthesised += 1;
                self.report.timestamp_discontinuities += 1;
                self.report.warn(format!(
                    "timestamps went back from {:.3} s to {:.3} s (a reset or a damaged stream): later frames are timed from the frame rate, never folded onto earlier times",
                    from_ms as f64 / 1000.0,
                    to_ms as f64 / 1000.0
                ));
            }
            Timing::Gap(gap) => {
                self.report.gaps.push(gap);
                self.report.warn(format!(
                    "gap in the recording: no frame for {:.1} s after {:.3} s (the next frame is at {:.3} s)",
                    gap.missing_ms as f64 / 1000.0,
                    gap.after_ms as f64 / 1000.0,
                    pts_ms as f64 / 1000.0
                ));
            }
        }
    }

    /// Read packets until one of our stream has been sent (or the input ended).
    fn feed_one_packet(&mut self) {
        loop {
            // A fresh packet for each read: `av_read_frame` does not release what the
            // packet already held, so reading into the same one kept every packet of the
            // file (the whole compressed source, ~500 MB for an hour of 1080p) until the
            // decoder was dropped. `send_packet` took its own reference already.
            self.packet = Packet::empty();
            match self.packet.read(&mut self.input) {
                Ok(()) => {}
                Err(ffmpeg_next::Error::Eof) => {
                    self.send_eof();
                    return;
                }
                Err(ffmpeg_next::Error::InvalidData) => {
                    // The demuxer can resync after invalid data.
                    self.report.corrupt_packets += 1;
                    self.report
                        .warn("the container holds invalid data; skipped it".to_string());
                    continue;
                }
                Err(e) => {
                    self.report.read_error = true;
                    self.report.warn(format!(
                        "reading stopped on an error ({e}); frames before the damage were decoded"
                    ));
                    self.send_eof();
                    return;
                }
            }
            if self.packet.stream() != self.stream_index {
                continue;
            }
            self.report.packets += 1;
            if self
                .packet
                .pts()
                .or(self.packet.dts())
                .is_some_and(|t| t < 0)
            {
                self.preroll_packets += 1;
            }
            if self.packet.is_corrupt() {
                self.report.corrupt_packets += 1;
                self.report
                    .warn("the container flagged packet(s) as corrupt".to_string());
            }
            match self.decoder.send_packet(&self.packet) {
                Ok(()) => return,
                Err(ffmpeg_next::Error::Other { errno }) if errno == libc_eagain() => {
                    // Cannot happen with receive-before-send, but never lose a packet.
                    return;
                }
                Err(e) => {
                    self.report.corrupt_packets += 1;
                    let at = self
                        .packet
                        .pts()
                        .map(|p| ts_to_ms(p - self.start_ts, self.time_base));
                    self.report.warn(match at {
                        Some(ms) => format!("corrupt packet(s) skipped, first at {ms} ms ({e})"),
                        None => format!("corrupt packet(s) skipped ({e})"),
                    });
                }
            }
        }
    }

    fn send_eof(&mut self) {
        self.sent_eof = true;
        let _ = self.decoder.send_eof();
    }

    fn finalise_report(&mut self) {
        self.count_missing_frames();
        if self.report.truncated {
            return;
        }
        // Truncation: decoded content ends well before the stated duration.
        if let (Some(dur), Some(last)) = (self.meta.duration_ms, self.report.last_pts_ms) {
            let frame_ms = self.meta.fps.map(|f| 1000.0 / f).unwrap_or(40.0);
            let covered = last as f64 + frame_ms;
            // A stated frame count or a read error makes a 10% shortfall conclusive; an
            // estimated duration alone needs a larger one.
            let conclusive = self.meta.frame_count_exact || self.report.read_error;
            let shortfall = covered / dur as f64;
            if dur > 1000 && (shortfall < 0.75 || conclusive && shortfall < 0.9) {
                self.report.truncated = true;
                self.report.warn(format!(
                    "the file looks truncated: decoded content ends at {:.1} s but the container states {:.1} s; frames before the damage were decoded",
                    covered / 1000.0,
                    dur as f64 / 1000.0
                ));
            }
        }
        if self.report.frames_decoded == 0 && self.report.packets > 0 {
            self.report
                .warn("no frame could be decoded from this file (every packet was damaged)".into());
        }
    }

    /// Compare the container's exact frame count with the frames decoded, once the whole
    /// stream was decoded from its start with nothing skipped in the decoder. Packets timed
    /// before the stream's start are not counted (an MP4 cut without re-encoding keeps the
    /// GOP before the cut, listed but dropped by its edit list: a whole GOP, 225 frames in
    /// the test). A shortfall of a frame or two, or under 0.5 %, is left out too: a damage
    /// report must not claim damage that is not there.
    fn count_missing_frames(&mut self) {
        let decodes_every_frame = !matches!(
            self.cfg.sampling,
            SamplingMode::SkipNonRef | SamplingMode::KeyframesOnly
        );
        if !self.done
            || self.seeked
            || !decodes_every_frame
            || !self.meta.frame_count_exact
            || self.report.missing_frames > 0
        {
            return;
        }
        let Some(expected) = self.meta.frame_count else {
            return;
        };
        let missing = expected
            .saturating_sub(self.preroll_packets)
            .saturating_sub(self.report.frames_decoded);
        if missing > 2 && missing * 200 > expected {
            self.report.missing_frames = missing;
            self.report.warn(format!(
                "{missing} of the {expected} frames the container lists could not be decoded (data damaged or overwritten inside the file; {} decoded): the recording has holes that its timestamps do not show",
                self.report.frames_decoded
            ));
        }
    }

    fn convert(&mut self) -> Result<(u32, u32, Vec<u8>), DecodeError> {
        let src = (self.frame.format(), self.frame.width(), self.frame.height());
        let (dst_w, dst_h) = self.cfg.output_size.resolve(src.1, src.2);
        let rebuild = !matches!(&self.scaler, Some((_, key)) if *key == src);
        if rebuild {
            let ctx = scaling::Context::get(
                src.0,
                src.1,
                src.2,
                Pixel::RGB24,
                dst_w,
                dst_h,
                scaling::Flags::FAST_BILINEAR,
            )
            .map_err(|source| DecodeError::Ffmpeg {
                path: self.path.clone(),
                action: "set up RGB conversion",
                source,
            })?;
            self.scaler = Some((ctx, src));
        }
        let (scaler, _) = self.scaler.as_mut().expect("scaler was just built");
        scaler
            .run(&self.frame, &mut self.rgb)
            .map_err(|source| DecodeError::Ffmpeg {
                path: self.path.clone(),
                action: "convert a frame to RGB",
                source,
            })?;
        let (w, h) = (self.rgb.width(), self.rgb.height());
        let stride = self.rgb.stride(0);
        let row = w as usize * 3;
        let plane = self.rgb.data(0);
        let mut data = Vec::with_capacity(row * h as usize);
        if stride == row {
            data.extend_from_slice(&plane[..row * h as usize]);
        } else {
            for y in 0..h as usize {
                data.extend_from_slice(&plane[y * stride..y * stride + row]);
            }
        }
        Ok((w, h, data))
    }
}

fn libc_eagain() -> i32 {
    // EAGAIN is 11 on Linux; FFmpeg reports AVERROR(EAGAIN) as Error::Other { errno }.
    ffmpeg_next::util::error::EAGAIN
}

/// A decoder running on its own thread, pushing frames into a bounded channel.
pub struct DecoderHandle {
    pub frames: Receiver<RgbFrame>,
    pub meta: SourceMeta,
    thread: JoinHandle<Result<DecodeReport, DecodeError>>,
}

impl DecoderHandle {
    /// Wait for the decoder to finish (drain or drop `frames` first).
    pub fn join(self) -> Result<DecodeReport, DecodeError> {
        drop(self.frames);
        self.thread
            .join()
            .map_err(|_| DecodeError::ThreadPanicked)?
    }
}

/// Open `path` and decode it on a thread into a channel of `capacity` frames: the decoder
/// blocks when the consumer falls behind (backpressure), and stops early if the receiver
/// is dropped.
pub fn spawn_decoder(
    path: &Path,
    cfg: &DecodeConfig,
    capacity: usize,
) -> Result<DecoderHandle, DecodeError> {
    let (frames, meta, _, thread) = spawn_with(path, cfg, LoopFilter::Apply, capacity, |f, _| f)?;
    Ok(DecoderHandle {
        frames,
        meta,
        thread,
    })
}

/// The decoder thread behind [`spawn_decoder`] and [`crate::spawn_analysis_decoder`]:
/// `wrap` gives each frame its type (a plain [`RgbFrame`], or an analysis-only frame).
pub(crate) type Spawned<T> = (
    Receiver<T>,
    SourceMeta,
    crate::Fidelity,
    JoinHandle<Result<DecodeReport, DecodeError>>,
);

pub(crate) fn spawn_with<T: Send + 'static>(
    path: &Path,
    cfg: &DecodeConfig,
    loop_filter: LoopFilter,
    capacity: usize,
    wrap: impl Fn(RgbFrame, crate::Fidelity) -> T + Send + 'static,
) -> Result<Spawned<T>, DecodeError> {
    // FFmpeg contexts are not `Send`: the decoder is opened on its own thread, which hands
    // back the metadata (or the open error) before decoding starts.
    let (tx, rx) = bounded(capacity.max(1));
    let (meta_tx, meta_rx) = bounded(1);
    let (path_buf, cfg) = (path.to_path_buf(), cfg.clone());
    let thread = std::thread::Builder::new()
        .name("vigie-decode".into())
        .spawn(move || {
            let mut decoder = match Decoder::open_with(&path_buf, &cfg, loop_filter) {
                Ok(d) => d,
                Err(e) => {
                    let _ = meta_tx.send(Err(e));
                    return Ok(DecodeReport::default());
                }
            };
            let fidelity = decoder.fidelity();
            let _ = meta_tx.send(Ok((decoder.meta().clone(), fidelity)));
            while let Some(frame) = decoder.next_frame()? {
                if tx.send(wrap(frame, fidelity)).is_err() {
                    break; // consumer gone
                }
            }
            Ok(decoder.finish())
        })
        .map_err(|source| DecodeError::Open {
            path: crate::error::shown_path(path),
            source,
        })?;
    let (meta, fidelity) = match meta_rx.recv() {
        Ok(Ok(opened)) => opened,
        Ok(Err(e)) => {
            let _ = thread.join();
            return Err(e);
        }
        Err(_) => return Err(DecodeError::ThreadPanicked),
    };
    Ok((rx, meta, fidelity, thread))
}
