//! Compose long footage of a camera with sparse activity from real material, for the
//! synopsis benchmark (`tools/bench-synopsis-hour`).
//!
//! Why: the synopsis's promise is about hours where little happens (">= 60x at <= 5%
//! collisions on one hour of a camera with sparse activity"), and no such hour of real,
//! redistributable footage is at hand. This makes one from real pixels only: the
//! background is the temporal median of a stretch of a real fixed-camera clip where the
//! scene is empty (`--empty-s`, with a little sensor noise added), and every object is a real passage of that clip (a person
//! walking through), cut out frame by frame with a background-subtraction mask and pasted
//! at its own place at a stated time. Objects arrive at random times (seeded, so the same
//! arguments give the same footage) at a stated rate; a stated dwell longer than the
//! passage is reached by a pause in its middle (the person stands), so both moving and
//! stationary stretches are exercised. A ground-truth JSON (each object's start, dwell,
//! passage and pause) is written beside the video.
//!
//! ```text
//! cargo run --release -p vigie-synopsis --example gen_sparse_hour -- \
//!     --clip ../shared/datasets/intel-sample-videos/one-by-one-person-detection.mp4 \
//!     --out /tmp/sparse-hour.mp4 [--duration-s 3600] [--objects-per-hour 40] \
//!     [--dwell-s 5:60] [--seed 7] [--empty-s 0:4]
//! ```
//!
//! The video is 640x360 at the clip's 10 fps, H.264 (libx264, the `ffmpeg` CLI). Never
//! write it into the repository: footage stays outside it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_synopsis::{SourceInput, SynopsisConfig};

const W: usize = 640;
const H: usize = 360;
/// Sum of the absolute RGB differences to the median above which a pixel is the object's.
const FG_THRESHOLD: u16 = 60;
/// Fewer object pixels than this in a frame: nobody there.
const MIN_OBJECT_PX: usize = 400;
/// Shortest passage kept, frames (3 s at 10 fps).
const MIN_PASSAGE_FRAMES: usize = 30;

struct Args {
    clip: PathBuf,
    out: PathBuf,
    duration_s: u32,
    objects_per_hour: f64,
    dwell_s: (f64, f64),
    seed: u64,
    /// A stretch of the clip known to show the empty scene, ms.
    empty_ms: (i64, i64),
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        clip: PathBuf::from(
            "../shared/datasets/intel-sample-videos/one-by-one-person-detection.mp4",
        ),
        out: PathBuf::from("/tmp/sparse-hour.mp4"),
        duration_s: 3600,
        objects_per_hour: 40.0,
        dwell_s: (5.0, 60.0),
        seed: 7,
        empty_ms: (0, 4_000),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        let num = |v: &str| v.parse::<f64>().map_err(|e| format!("{k} {v}: {e}"));
        match k.as_str() {
            "--clip" => a.clip = v.into(),
            "--out" => a.out = v.into(),
            "--duration-s" => a.duration_s = num(&v)? as u32,
            "--objects-per-hour" => a.objects_per_hour = num(&v)?,
            "--seed" => a.seed = num(&v)? as u64,
            "--empty-s" => {
                let (lo, hi) = v.split_once(':').ok_or("--empty-s FROM:TO")?;
                a.empty_ms = ((num(lo)? * 1000.0) as i64, (num(hi)? * 1000.0) as i64);
            }
            "--dwell-s" => {
                let (lo, hi) = v.split_once(':').ok_or("--dwell-s MIN:MAX")?;
                a.dwell_s = (num(lo)?, num(hi)?);
            }
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    if a.out.starts_with(env!("CARGO_MANIFEST_DIR")) {
        return Err("write the footage outside the repository (e.g. /tmp)".into());
    }
    Ok(a)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One frame of a passage: the object's pixels in its bounding rectangle (RGBA, alpha 0
/// or 255).
struct Cut {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    rgba: Vec<u8>,
}

/// The frame with its exposure brought to the background's: per channel, the median
/// difference (the object covers well under half the frame) taken off every pixel. The
/// clip's camera adjusts its exposure when someone dark comes close; uncorrected, the
/// whole frame would differ from the median.
fn exposure_matched(frame: &[u8], bg: &[u8]) -> Vec<u8> {
    let mut off = [0i16; 3];
    for (c, o) in off.iter_mut().enumerate() {
        let mut hist = [0u32; 511];
        let mut n = 0u32;
        for i in (0..W * H).step_by(5) {
            hist[(i16::from(frame[i * 3 + c]) - i16::from(bg[i * 3 + c]) + 255) as usize] += 1;
            n += 1;
        }
        let mut acc = 0;
        for (v, k) in hist.iter().enumerate() {
            acc += k;
            if acc * 2 >= n {
                *o = v as i16 - 255;
                break;
            }
        }
    }
    frame
        .iter()
        .enumerate()
        .map(|(i, &v)| (i16::from(v) - off[i % 3]).clamp(0, 255) as u8)
        .collect()
}

fn cut_of(frame: &[u8], bg: &[u8]) -> Option<(Cut, usize)> {
    let frame = &exposure_matched(frame, bg);
    let m: Vec<bool> = (0..W * H)
        .map(|i| {
            let d: u16 = (0..3)
                .map(|c| u16::from(frame[i * 3 + c].abs_diff(bg[i * 3 + c])))
                .sum();
            d > FG_THRESHOLD
        })
        .collect();
    let m = vigie_synopsis::mask::open_close(&m, W, H);
    let n = m.iter().filter(|&&v| v).count();
    if n < MIN_OBJECT_PX {
        return None;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (W, H, 0, 0);
    for (i, _) in m.iter().enumerate().filter(|(_, &v)| v) {
        let (x, y) = (i % W, i / W);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * W + x;
            rgba.extend_from_slice(&frame[i * 3..i * 3 + 3]);
            rgba.push(if m[i] { 255 } else { 0 });
        }
    }
    Some((
        Cut {
            x: x0,
            y: y0,
            w,
            h,
            rgba,
        },
        n,
    ))
}

fn paste(img: &mut [u8], c: &Cut) {
    for y in 0..c.h {
        for x in 0..c.w {
            let q = (y * c.w + x) * 4;
            if c.rgba[q + 3] != 0 {
                let i = ((c.y + y) * W + c.x + x) * 3;
                img[i..i + 3].copy_from_slice(&c.rgba[q..q + 3]);
            }
        }
    }
}

/// One placed object: passage, start frame, frame of the pause and its length.
struct Placed {
    passage: usize,
    start: usize,
    pause_at: usize,
    pause_frames: usize,
}

impl Placed {
    fn frames(&self, passages: &[Vec<Option<Cut>>]) -> usize {
        passages[self.passage].len() + self.pause_frames
    }
    /// The passage frame shown `k` frames after the start.
    fn frame_at(&self, k: usize) -> usize {
        if k < self.pause_at {
            k
        } else if k < self.pause_at + self.pause_frames {
            self.pause_at
        } else {
            k - self.pause_frames
        }
    }
}

fn main() -> Result<(), String> {
    let a = parse_args()?;
    vigie_decode::init();
    let fps = 10.0;
    let clip_ms = {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(&a.clip)
            .output()
            .map_err(|e| format!("ffprobe: {e}"))?;
        let s = String::from_utf8_lossy(&out.stdout);
        (s.trim()
            .parse::<f64>()
            .map_err(|e| format!("duration {s}: {e}"))?
            * 1000.0) as i64
    };
    // The empty scene: the temporal median of a stretch of the clip known to be empty
    // (the median of the whole clip can hold someone who stands most of the time).
    let src = SourceInput {
        source_id: "clip".into(),
        path: a.clip.clone(),
        stream_index: None,
        frame_size: (W as u32, H as u32),
        duration_ms: clip_ms,
        fps,
        start: None,
        time_zone: None,
    };
    let cfg = SynopsisConfig {
        background_segment_ms: (a.empty_ms.1 - a.empty_ms.0).max(1_000),
        background_samples: 9,
        ..SynopsisConfig::default()
    };
    let bgs = vigie_synopsis::build_backgrounds_within(&src, a.empty_ms.0, a.empty_ms.1, &cfg)
        .map_err(|e| e.to_string())?;
    let bg = bgs.at(0).to_vec();
    // Every frame of the clip cut against it; passages are runs of frames with someone.
    let dcfg = DecodeConfig {
        output_size: OutputSize::Exact {
            width: W as u32,
            height: H as u32,
        },
        ..DecodeConfig::default()
    };
    let mut dec = Decoder::open(&a.clip, &dcfg).map_err(|e| e.to_string())?;
    let mut cuts: Vec<Option<Cut>> = Vec::new();
    while let Some(f) = dec.next_frame().map_err(|e| e.to_string())? {
        cuts.push(cut_of(&f.data, &bg).map(|(c, _)| c));
    }
    let mut passages: Vec<Vec<Option<Cut>>> = Vec::new();
    let mut run: Vec<Option<Cut>> = Vec::new();
    let mut empty = 0usize;
    for c in cuts
        .into_iter()
        .chain(std::iter::repeat_with(|| None).take(11))
    {
        if c.is_some() {
            empty = 0;
            run.push(c);
        } else if !run.is_empty() {
            empty += 1;
            run.push(None);
            if empty > 10 {
                run.truncate(run.len() - empty);
                if run.len() >= MIN_PASSAGE_FRAMES {
                    passages.push(std::mem::take(&mut run));
                }
                run.clear();
                empty = 0;
            }
        }
    }
    if passages.is_empty() {
        return Err("no passage found in the clip".into());
    }
    // Arrivals: uniform over the footage (sorted), each a passage and a dwell.
    let total = (a.duration_s as f64 * fps) as usize;
    let n = (a.objects_per_hour * a.duration_s as f64 / 3600.0).round() as usize;
    let mut rng = Rng(a.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut placed: Vec<Placed> = (0..n)
        .map(|_| {
            let passage = (rng.next() % passages.len() as u64) as usize;
            let len = passages[passage].len();
            let dwell = a.dwell_s.0 + rng.unit() * (a.dwell_s.1 - a.dwell_s.0);
            let want = (dwell * fps) as usize;
            let pause_frames = want.saturating_sub(len);
            let latest = total.saturating_sub(len + pause_frames + 1);
            Placed {
                passage,
                start: (rng.unit() * latest as f64) as usize,
                pause_at: len / 2,
                pause_frames,
            }
        })
        .collect();
    placed.sort_by_key(|p| p.start);
    let truth: Vec<String> = placed
        .iter()
        .map(|p| {
            format!(
                "{{\"start_s\": {:.1}, \"dwell_s\": {:.1}, \"passage\": {}, \"pause_s\": {:.1}}}",
                p.start as f64 / fps,
                p.frames(&passages) as f64 / fps,
                p.passage,
                p.pause_frames as f64 / fps
            )
        })
        .collect();
    let truth_path = a.out.with_extension("truth.json");
    std::fs::write(
        &truth_path,
        format!(
            "{{\"clip\": {:?}, \"duration_s\": {}, \"fps\": {fps}, \"size\": [{W}, {H}], \
             \"objects_per_hour\": {}, \"dwell_s\": [{}, {}], \"seed\": {}, \
             \"passages_s\": {:?},\n \"objects\": [\n  {}\n]}}\n",
            a.clip.display().to_string(),
            a.duration_s,
            a.objects_per_hour,
            a.dwell_s.0,
            a.dwell_s.1,
            a.seed,
            passages
                .iter()
                .map(|p| p.len() as f64 / fps)
                .collect::<Vec<_>>(),
            truth.join(",\n  ")
        ),
    )
    .map_err(|e| format!("{}: {e}", truth_path.display()))?;
    // Sensor noise: a few noisy copies of the median, cycled.
    let noisy: Vec<Vec<u8>> = (0..8)
        .map(|_| {
            bg.iter()
                .map(|&v| (i16::from(v) + (rng.next() % 5) as i16 - 2).clamp(0, 255) as u8)
                .collect()
        })
        .collect();
    let mut ff = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-y"])
        .args([
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            &format!("{W}x{H}"),
        ])
        .args(["-r", "10", "-i", "-"])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"])
        .args(["-g", "50", "-pix_fmt", "yuv420p"])
        .arg(&a.out)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    let mut pipe = std::io::BufWriter::with_capacity(1 << 22, ff.stdin.take().ok_or("stdin")?);
    let mut img = vec![0u8; W * H * 3];
    let mut next = 0usize;
    let mut active: Vec<usize> = Vec::new();
    for f in 0..total {
        while next < placed.len() && placed[next].start <= f {
            active.push(next);
            next += 1;
        }
        active.retain(|&i| f < placed[i].start + placed[i].frames(&passages));
        img.copy_from_slice(&noisy[f % noisy.len()]);
        for &i in &active {
            let p = &placed[i];
            if let Some(c) = &passages[p.passage][p.frame_at(f - p.start)] {
                paste(&mut img, c);
            }
        }
        pipe.write_all(&img)
            .map_err(|e| format!("ffmpeg input: {e}"))?;
    }
    drop(pipe);
    let ok = ff.wait().map_err(|e| e.to_string())?.success();
    if !ok {
        return Err("ffmpeg failed".into());
    }
    let busy: usize = placed.iter().map(|p| p.frames(&passages)).sum();
    println!(
        "{}: {} s, {} objects ({} passages of {:.1}-{:.1} s from the clip), {:.0} object-seconds; truth {}",
        a.out.display(),
        a.duration_s,
        placed.len(),
        passages.len(),
        passages.iter().map(|p| p.len()).min().unwrap_or(0) as f64 / fps,
        passages.iter().map(|p| p.len()).max().unwrap_or(0) as f64 / fps,
        busy as f64 / fps,
        truth_path.display()
    );
    Ok(())
}
