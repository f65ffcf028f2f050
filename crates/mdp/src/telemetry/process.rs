//! `process_*` metrics read from `/proc/self` at each scrape (Linux; nothing elsewhere):
//! CPU seconds, resident and virtual memory, open and maximum file descriptors, threads and
//! the start time, under the names the Prometheus client libraries use.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// CPU time, seconds.
pub(super) const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Resident set size, bytes.
pub(super) const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// Virtual memory size, bytes.
pub(super) const PROCESS_VIRTUAL_MEMORY_BYTES: &str = "process_virtual_memory_bytes";
/// Open file descriptors.
pub(super) const PROCESS_OPEN_FDS: &str = "process_open_fds";
/// The soft limit on open file descriptors.
pub(super) const PROCESS_MAX_FDS: &str = "process_max_fds";
/// OS threads.
pub(super) const PROCESS_THREADS: &str = "process_threads";
/// Start time, Unix epoch seconds.
pub(super) const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux ABI).
const TICKS_PER_SEC: f64 = 100.0;

/// One reading of the process.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessReading {
    /// User plus system CPU time in seconds.
    pub cpu_seconds: f64,
    /// Resident set size in bytes.
    pub resident_bytes: i64,
    /// Virtual memory size in bytes.
    pub virtual_bytes: i64,
    /// Threads.
    pub threads: i64,
    /// Start time, Unix epoch seconds.
    pub start_time_seconds: f64,
    /// Open file descriptors.
    pub open_fds: i64,
    /// The soft limit on open file descriptors.
    pub max_fds: i64,
}

impl ProcessReading {
    /// Reads `/proc/self`; `None` where it cannot be read (not Linux).
    pub fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as i64);
        Self::parse(&stat, &status, &boot, &limits, open_fds)
    }

    /// The reading of the texts of `/proc/self/stat`, `/proc/self/status`, `/proc/stat` and
    /// `/proc/self/limits`.
    pub fn parse(
        stat: &str,
        status: &str,
        boot: &str,
        limits: &str,
        open_fds: i64,
    ) -> Option<Self> {
        // The command name (field 2) may hold spaces and parentheses: fields after the last
        // ')' are space-separated, field 3 (state) first.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
        let ticks = field(14)? + field(15)?;
        let btime = boot
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<i64>().ok())
                .map(|k| k * 1024)
        };
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        Some(Self {
            cpu_seconds: ticks / TICKS_PER_SEC,
            resident_bytes: kib("VmRSS:").unwrap_or(0),
            virtual_bytes: field(23).map_or(0, |v| v as i64),
            threads: field(20).map_or(0, |v| v as i64),
            start_time_seconds: btime + field(22)? / TICKS_PER_SEC,
            open_fds,
            max_fds,
        })
    }
}

/// The collector of [`ProcessReading`]s.
#[derive(Debug, Default)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(r) = ProcessReading::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(r.cpu_seconds);
        cpu.encode(
            encoder.encode_descriptor(
                PROCESS_CPU_SECONDS_TOTAL
                    .strip_suffix("_total")
                    .unwrap_or(PROCESS_CPU_SECONDS_TOTAL),
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?,
        )?;
        let gauges: [(&str, &str, i64); 5] = [
            (
                PROCESS_RESIDENT_MEMORY_BYTES,
                "Resident memory size in bytes",
                r.resident_bytes,
            ),
            (
                PROCESS_VIRTUAL_MEMORY_BYTES,
                "Virtual memory size in bytes",
                r.virtual_bytes,
            ),
            (
                PROCESS_OPEN_FDS,
                "Number of open file descriptors",
                r.open_fds,
            ),
            (
                PROCESS_MAX_FDS,
                "Maximum number of open file descriptors",
                r.max_fds,
            ),
            (
                PROCESS_THREADS,
                "Number of OS threads in the process",
                r.threads,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let start = ConstGauge::new(r.start_time_seconds);
        start.encode(encoder.encode_descriptor(
            PROCESS_START_TIME_SECONDS,
            "Start time of the process since unix epoch in seconds",
            None,
            start.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_parsed_from_the_proc_texts() {
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 \
                    7 0 12345 104857600 2560 18446744073709551615";
        let status = "Name:\tmdp\nVmRSS:\t   10240 kB\nThreads:\t7\n";
        let boot = "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        let r = ProcessReading::parse(stat, status, boot, limits, 12).expect("parsed");
        assert_eq!(r.cpu_seconds, 3.0);
        assert_eq!(r.resident_bytes, 10_485_760);
        assert_eq!(r.virtual_bytes, 104_857_600);
        assert_eq!(r.threads, 7);
        assert!((r.start_time_seconds - 1_700_000_123.45).abs() < 1e-6);
        assert_eq!(r.open_fds, 12);
        assert_eq!(r.max_fds, 1024);
        assert_eq!(
            ProcessReading::parse("garbage", status, boot, limits, 0),
            None
        );
    }

    #[test]
    fn this_process_can_be_read() {
        let r = ProcessReading::read().expect("a Linux /proc");
        assert!(r.resident_bytes > 0 && r.threads >= 1 && r.max_fds > 0);
    }
}
