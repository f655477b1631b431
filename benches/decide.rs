//! Native benchmark of `Engine::decide` on the bench config and generated-like contexts.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kizuna::{DecideOptions, Engine};

fn contexts() -> Vec<String> {
    let text = include_str!("../examples/skincare/contexts.ndjson");
    text.lines().map(str::to_string).collect()
}

fn bench(c: &mut Criterion) {
    let engine = Engine::compile(include_str!("segments.config.json")).expect("bench config compiles");
    let examples = Engine::compile(include_str!("../examples/skincare/config.json")).expect("example config compiles");
    let ctx = contexts();
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(ctx.len() as u64));
    g.bench_function("24 bench segments × 20 example contexts", |b| {
        b.iter(|| ctx.iter().map(|t| engine.decide_to_string(t, DecideOptions::default()).map(|s| s.len()).unwrap_or(0)).sum::<usize>())
    });
    g.bench_function("skincare config × 20 example contexts", |b| {
        b.iter(|| ctx.iter().map(|t| examples.decide_to_string(t, DecideOptions::default()).map(|s| s.len()).unwrap_or(0)).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
