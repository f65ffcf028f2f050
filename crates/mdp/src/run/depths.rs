//! `DepthHistogram`: the distribution of sampled queue depths, in a thousand bins of the
//! capacity, so that a run of any length keeps a fixed few kilobytes.

/// Bins of the histogram.
const BINS: usize = 1000;

/// Queue depths sampled over a run.
///
/// ```
/// use mdp::run::DepthHistogram;
/// let mut h = DepthHistogram::new(10_000);
/// for depth in 0..100 {
///     h.record(depth * 100);
/// }
/// assert_eq!(h.quantile(0.99), 9_810);
/// assert_eq!(h.quantile(0.5), 4_910);
/// ```
#[derive(Debug, Clone)]
pub struct DepthHistogram {
    capacity: usize,
    bins: Vec<u64>,
    samples: u64,
    max: usize,
}

impl DepthHistogram {
    /// A histogram of depths from 0 to `capacity`.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            bins: vec![0; BINS + 1],
            samples: 0,
            max: 0,
        }
    }

    /// Records one sample.
    pub fn record(&mut self, depth: usize) {
        let bin = (depth.min(self.capacity) * BINS) / self.capacity;
        self.bins[bin] += 1;
        self.samples += 1;
        self.max = self.max.max(depth);
    }

    /// The deepest sample (0 before any).
    pub fn max(&self) -> usize {
        self.max
    }

    /// The depth at or below which a fraction `q` of the samples lie, to a thousandth of
    /// the capacity (the upper edge of its bin, but never above the deepest sample); 0
    /// before any sample.
    pub fn quantile(&self, q: f64) -> usize {
        if self.samples == 0 {
            return 0;
        }
        let rank = ((self.samples as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bin, count) in self.bins.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return ((bin + 1) * self.capacity / BINS)
                    .min(self.capacity)
                    .min(self.max);
            }
        }
        self.max.min(self.capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_read_to_a_thousandth_of_the_capacity() {
        let mut h = DepthHistogram::new(1000);
        assert_eq!(h.quantile(0.99), 0);
        for _ in 0..98 {
            h.record(10);
        }
        h.record(500);
        h.record(2_000);
        assert_eq!(h.quantile(0.5), 11);
        assert_eq!(h.quantile(0.98), 11);
        assert_eq!(h.quantile(0.99), 501);
        assert_eq!(h.quantile(1.0), 1000);
        assert_eq!(h.max(), 2_000);
        let mut idle = DepthHistogram::new(10_000);
        idle.record(0);
        assert_eq!(
            (idle.quantile(0.99), idle.max()),
            (0, 0),
            "never above the peak"
        );
    }
}
