//! Criterion benches of the search over a generated 100k-track index (built once, ~10 s).
//! The 1M-track figures come from `vigie bench search` (or the `bench_search` example).

use criterion::{criterion_group, criterion_main, Criterion};
use vigie_index::synth::{self, QueryKind, Rng, SynthConfig};
use vigie_index::Index;

fn search(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut index = Index::open(&dir.path().join("index.sqlite")).expect("open index");
    let cfg = SynthConfig {
        tracks: 100_000,
        ..SynthConfig::default()
    };
    synth::generate(&mut index, &cfg, |_| {}).expect("generate");
    let span = synth::span_ms(&cfg);
    let mut group = c.benchmark_group("search_100k");
    for kind in [
        QueryKind::ClassColourHourZone,
        QueryKind::ClassColourDayZone,
        QueryKind::PersonUpperLower2h,
        QueryKind::ClassCrossingHour,
        QueryKind::PlatePrefix,
        QueryKind::PlateFuzzy,
    ] {
        // A fixed cycle of 64 random queries of this family, so runs compare.
        let mut rng = Rng::new(11);
        let queries: Vec<_> = (0..64)
            .map(|_| synth::random_query(&mut rng, kind, span))
            .collect();
        let mut i = 0;
        group.bench_function(kind.name(), |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                index.search(&queries[i]).expect("search").hits.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
