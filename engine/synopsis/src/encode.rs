//! H.264 MP4 output through FFmpeg's encoder (libx264 when present), yuv420p.
//!
//! The file is written under a temporary name and renamed when complete, so an
//! interrupted synopsis never leaves a file that looks whole. Odd frame sizes are scaled
//! to the nearest even size (yuv420p needs it).

use std::path::{Path, PathBuf};

use ffmpeg_next::{codec, encoder, format, frame, software, Dictionary, Packet, Rational};

use crate::SynopsisError;

/// An MP4 being written: [`Mp4Writer::create`], [`Mp4Writer::push`] per frame,
/// [`Mp4Writer::finish`].
pub struct Mp4Writer {
    octx: format::context::Output,
    encoder: encoder::Video,
    scaler: software::scaling::Context,
    rgb: frame::Video,
    yuv: frame::Video,
    enc_tb: Rational,
    width: u32,
    height: u32,
    frames: i64,
    tmp: PathBuf,
    output: PathBuf,
    finished: bool,
}

impl Drop for Mp4Writer {
    /// A synopsis that failed half-way leaves no partial file behind.
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

fn ff<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl Fn(ffmpeg_next::Error) -> SynopsisError + 'a {
    move |source| SynopsisError::Encode {
        action,
        source,
        path: path.to_path_buf(),
    }
}

impl Mp4Writer {
    /// Open the encoder for `width` x `height` RGB frames at `fps`.
    pub fn create(output: &Path, width: u32, height: u32, fps: f64) -> Result<Self, SynopsisError> {
        vigie_decode::init();
        if output.exists() {
            return Err(SynopsisError::OutputExists(output.to_path_buf()));
        }
        let tmp = output.with_file_name(format!(
            ".{}.partial",
            output
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "synopsis".into())
        ));
        let codec = encoder::find_by_name("libx264")
            .or_else(|| encoder::find(codec::Id::H264))
            .ok_or(SynopsisError::NoEncoder)?;
        let mut octx = format::output_as(&tmp, "mp4").map_err(ff(output, "create the file"))?;
        let global_header = octx.format().flags().contains(format::Flags::GLOBAL_HEADER);
        let (ew, eh) = ((width.max(2)) & !1, (height.max(2)) & !1);
        let fps_q = Rational::from(fps.clamp(1.0, 240.0));
        let enc_tb = fps_q.invert();
        let mut enc = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(ff(output, "set up the encoder"))?;
        enc.set_width(ew);
        enc.set_height(eh);
        enc.set_format(format::Pixel::YUV420P);
        enc.set_time_base(enc_tb);
        enc.set_frame_rate(Some(fps_q));
        // No B-frames: no reordering delay, so every frame pushed is a frame decoded
        // (MP4 edit lists for B-frame delay make some players drop the last one).
        enc.set_max_b_frames(0);
        if global_header {
            enc.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut opts = Dictionary::new();
        opts.set("preset", "ultrafast");
        opts.set("crf", "23");
        // The API default is one thread (the ffmpeg CLI passes "auto").
        opts.set("threads", "auto");
        let encoder = enc
            .open_with(opts)
            .map_err(ff(output, "open the H.264 encoder"))?;
        {
            let mut ost = octx
                .add_stream(codec)
                .map_err(ff(output, "add the video stream"))?;
            ost.set_parameters(&encoder);
            ost.set_time_base(enc_tb);
        }
        octx.write_header()
            .map_err(ff(output, "write the header"))?;
        let scaler = software::scaling::Context::get(
            format::Pixel::RGB24,
            width,
            height,
            format::Pixel::YUV420P,
            ew,
            eh,
            software::scaling::Flags::BILINEAR,
        )
        .map_err(ff(output, "set up the colour conversion"))?;
        Ok(Self {
            octx,
            encoder,
            scaler,
            rgb: frame::Video::new(format::Pixel::RGB24, width, height),
            yuv: frame::Video::new(format::Pixel::YUV420P, ew, eh),
            enc_tb,
            width,
            height,
            frames: 0,
            tmp,
            output: output.to_path_buf(),
            finished: false,
        })
    }

    /// Encode one packed RGB24 frame.
    pub fn push(&mut self, rgb: &[u8]) -> Result<(), SynopsisError> {
        let row = self.width as usize * 3;
        assert_eq!(rgb.len(), row * self.height as usize, "frame size");
        let stride = self.rgb.stride(0);
        let dst = self.rgb.data_mut(0);
        for (y, src) in rgb.chunks_exact(row).enumerate() {
            dst[y * stride..y * stride + row].copy_from_slice(src);
        }
        self.scaler
            .run(&self.rgb, &mut self.yuv)
            .map_err(ff(&self.output, "convert a frame"))?;
        self.yuv.set_pts(Some(self.frames));
        self.frames += 1;
        self.encoder
            .send_frame(&self.yuv)
            .map_err(ff(&self.output, "encode a frame"))?;
        self.drain()
    }

    fn drain(&mut self) -> Result<(), SynopsisError> {
        let ost_tb = self
            .octx
            .stream(0)
            .map(|s| s.time_base())
            .unwrap_or(self.enc_tb);
        let mut pkt = Packet::empty();
        while self.encoder.receive_packet(&mut pkt).is_ok() {
            pkt.set_stream(0);
            // One frame long: without it the MP4 edit list ends at the last frame's start
            // and players drop that frame.
            pkt.set_duration(1);
            pkt.rescale_ts(self.enc_tb, ost_tb);
            pkt.write_interleaved(&mut self.octx)
                .map_err(ff(&self.output, "write a packet"))?;
        }
        Ok(())
    }

    /// Flush the encoder, close the file and move it to its final name; returns the frame
    /// count.
    pub fn finish(mut self) -> Result<u64, SynopsisError> {
        self.encoder
            .send_eof()
            .map_err(ff(&self.output, "flush the encoder"))?;
        self.drain()?;
        self.octx
            .write_trailer()
            .map_err(ff(&self.output, "write the trailer"))?;
        std::fs::rename(&self.tmp, &self.output).map_err(SynopsisError::Io)?;
        self.finished = true;
        Ok(self.frames as u64)
    }
}

/// An [`Mp4Writer`] on its own thread behind a bounded channel, so composing the next
/// frame overlaps with encoding this one (the encoder is most of the rendering time).
pub struct WriterThread {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<Result<u64, SynopsisError>>>,
}

impl WriterThread {
    /// Start the writer (FFmpeg's scaler cannot move between threads, so the whole writer
    /// is created on the thread); a creation error comes back at the first push or at
    /// [`WriterThread::finish`].
    pub fn spawn(output: &Path, width: u32, height: u32, fps: f64) -> Result<Self, SynopsisError> {
        if output.exists() {
            return Err(SynopsisError::OutputExists(output.to_path_buf()));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let output = output.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("vigie-synopsis-encode".into())
            .spawn(move || {
                let mut w = Mp4Writer::create(&output, width, height, fps)?;
                for frame in rx {
                    w.push(&frame)?;
                }
                w.finish()
            })
            .map_err(SynopsisError::Io)?;
        Ok(Self {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn join(&mut self) -> Result<u64, SynopsisError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(SynopsisError::EncoderPanicked),
            None => Err(SynopsisError::EncoderPanicked),
        }
    }

    /// Queue one packed RGB24 frame (waits while 4 are already queued).
    pub fn push(&mut self, frame: Vec<u8>) -> Result<(), SynopsisError> {
        let sent = self.tx.as_ref().map(|tx| tx.send(frame).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The thread stopped: its error says why.
        match self.join() {
            Ok(_) => Err(SynopsisError::EncoderPanicked),
            Err(e) => Err(e),
        }
    }

    /// Flush and close the file; the number of frames written.
    pub fn finish(mut self) -> Result<u64, SynopsisError> {
        self.join()
    }
}
