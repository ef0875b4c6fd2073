// A disclosure path takes recorded frames (`RgbFrame`); an analysis frame is another type,
// and becomes one only through `into_recorded`, which refuses skipped-filter frames.
fn disclose(_frame: vigie_core::RgbFrame) {}

fn main() {
    let cfg = vigie_decode::AnalysisDecodeConfig {
        decode: vigie_decode::DecodeConfig::default(),
        loop_filter: vigie_decode::LoopFilter::SkipAll,
    };
    let mut d = vigie_decode::AnalysisDecoder::open(std::path::Path::new("x.mp4"), &cfg).unwrap();
    let frame = d.next_frame().unwrap().unwrap();
    disclose(frame);
}
