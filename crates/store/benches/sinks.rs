//! Sink throughput benchmarks (being written).

fn main() {}
