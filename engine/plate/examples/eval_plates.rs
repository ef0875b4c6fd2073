//! Development loop for the plate reader: `cargo run --release -p vigie-plate --example
//! eval_plates -- DIR [clp|text|both] [small|tiny]` (the CLI's `vigie eval plates` is the
//! user-facing command).
use vigie_core::MemoryAlertSink;
use vigie_plate::eval::{evaluate, load_dataset};
use vigie_plate::{PlateReader, PlateReaderConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let mut cfg = PlateReaderConfig::default();
    if let Some(l) = args.get(2) {
        cfg.localiser = l.parse().unwrap();
    }
    if args.get(3).map(|s| s.as_str()) == Some("tiny") {
        cfg.recogniser.model = vigie_policy::ids::PPOCRV6_REC_TINY;
    }
    if let Ok(v) = std::env::var("MX") {
        cfg.margin_x = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("MY") {
        cfg.margin_y = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("CLPMAX") {
        cfg.clp.max_side_px = v.parse().unwrap();
    }
    let alerts = MemoryAlertSink::default();
    let mut reader = PlateReader::open(cfg, &alerts).unwrap();
    let samples = load_dataset(&dir).unwrap();
    let r = evaluate(&mut reader, &samples, |s| {
        eprintln!(
            "{:<14} {:<10} {:<12} {:?} {:.2} {:.0}ms",
            s.image,
            s.truth,
            s.read.clone().unwrap_or_default(),
            s.failure,
            s.confidence.unwrap_or(0.0),
            s.ms
        )
    })
    .unwrap();
    println!(
        "{} images: exact {} ({:.1}%), not_found {}, wrong_region {}, misread {}, {:.1} ms/image",
        r.images,
        r.exact,
        r.read_rate * 100.0,
        r.not_found,
        r.wrong_region,
        r.misread,
        r.ms_per_image
    );
}
