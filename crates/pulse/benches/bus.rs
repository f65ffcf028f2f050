//! Pulse benchmarks (filled in below).

fn main() {}
