//! Evidence hashing throughput (streamed SHA-256), the cost of `vigie ingest`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_hash(c: &mut Criterion) {
    let data = vec![0x5au8; 64 << 20];
    let mut g = c.benchmark_group("evidence_sha256");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("64MiB_in_memory", |b| {
        b.iter(|| vigie_evidence::hash_reader(&data[..], |_| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_hash);
criterion_main!(benches);
