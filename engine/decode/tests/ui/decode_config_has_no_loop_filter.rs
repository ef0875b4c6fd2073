// The decoder every disclosure path uses always deblocks: its configuration has no way
// to skip the loop filter.
fn main() {
    let _ = vigie_decode::DecodeConfig {
        loop_filter: vigie_decode::LoopFilter::SkipAll,
        ..Default::default()
    };
}
