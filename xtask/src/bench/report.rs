//! Rendering `docs/benchmarks.md`: the ratios that the issues set targets for, then every
//! figure measured in the run.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Measurement;

/// A ratio of two figures of the same run, with the target it is judged against.
struct Ratio {
    label: &'static str,
    numerator: Figure,
    denominator: Figure,
    target: &'static str,
}

/// Where a figure comes from.
enum Figure {
    /// Elements per second of a criterion benchmark.
    Rate(&'static str),
    /// A value of a bench's own summary.
    Summary(&'static str),
}

const RATIOS: &[Ratio] = &[
    Ratio {
        label: "Redis batched publish (x100) / redis-benchmark XADD -P 100, one connection each",
        numerator: Figure::Summary("redis publish batched x100 (events/s)"),
        denominator: Figure::Summary("redis-benchmark XADD -P 100 -c 1 (events/s)"),
        target: ">= 0.50",
    },
    Ratio {
        label: "Redis single publish / redis-benchmark XADD -P 1, one connection each",
        numerator: Figure::Summary("redis publish single (events/s)"),
        denominator: Figure::Summary("redis-benchmark XADD -P 1 -c 1 (events/s)"),
        target: "(reference)",
    },
    Ratio {
        label: "queue put+get, 3 subscribers / 0 subscribers (steady)",
        numerator: Figure::Rate("queue_put_get/steady/3"),
        denominator: Figure::Rate("queue_put_get/steady/0"),
        target: ">= 0.95",
    },
    Ratio {
        label: "queue put+get, 3 subscribers / 0 subscribers (sawtooth, cap 1000)",
        numerator: Figure::Rate("queue_put_get/sawtooth_1000/3"),
        denominator: Figure::Rate("queue_put_get/sawtooth_1000/0"),
        target: ">= 0.95",
    },
    Ratio {
        label: "PostgreSQL sink / psql COPY, 10000-bar batches",
        numerator: Figure::Rate("sink_write/postgres/10000"),
        denominator: Figure::Rate("sink_write/psql_copy/10000"),
        target: "(reference)",
    },
    Ratio {
        label: "end-to-end loop / raw sink write, SQLite",
        numerator: Figure::Summary("sqlite end-to-end loop (bars/s)"),
        denominator: Figure::Summary("sqlite raw sink write (bars/s)"),
        target: ">= 0.90",
    },
    Ratio {
        label: "end-to-end loop / raw sink write by 4 concurrent writers, SQLite",
        numerator: Figure::Summary("sqlite end-to-end loop (bars/s)"),
        denominator: Figure::Summary("sqlite raw sink write, 4 writers (bars/s)"),
        target: ">= 0.90",
    },
    Ratio {
        label: "end-to-end loop / raw sink write, PostgreSQL",
        numerator: Figure::Summary("postgres end-to-end loop (bars/s)"),
        denominator: Figure::Summary("postgres raw sink write (bars/s)"),
        target: ">= 0.90",
    },
    Ratio {
        label: "end-to-end loop / raw sink write by 4 concurrent writers, PostgreSQL",
        numerator: Figure::Summary("postgres end-to-end loop (bars/s)"),
        denominator: Figure::Summary("postgres raw sink write, 4 writers (bars/s)"),
        target: ">= 0.90",
    },
    Ratio {
        label: "mdp run peak RSS, 10M bars / 1M bars",
        numerator: Figure::Summary("mdp run peak RSS, 10M bars (KiB)"),
        denominator: Figure::Summary("mdp run peak RSS, 1M bars (KiB)"),
        target: "~ 1.0 (flat)",
    },
    Ratio {
        label: "mdp run peak RSS, 10M bars with bus retention 1000 / 1M bars",
        numerator: Figure::Summary("mdp run peak RSS, 10M bars, bus retention 1000 (KiB)"),
        denominator: Figure::Summary("mdp run peak RSS, 1M bars (KiB)"),
        target: "~ 1.0 (flat)",
    },
];

fn value(
    figure: &Figure,
    rates: &BTreeMap<&str, f64>,
    summaries: &BTreeMap<String, f64>,
) -> Option<f64> {
    match figure {
        Figure::Rate(id) => rates.get(id).copied(),
        Figure::Summary(name) => summaries.get(*name).copied(),
    }
}

/// The whole `docs/benchmarks.md`.
pub(crate) fn render(
    measurements: &[Measurement],
    summaries: &BTreeMap<String, f64>,
    machine: &str,
) -> String {
    let rates: BTreeMap<&str, f64> = measurements
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.per_second()?)))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench`, which runs every criterion benchmark of the workspace \
         and gathers the latest results ({machine}). Absolute figures on a shared 2-core machine \
         move by 10–20 % between runs; each ratio compares two figures measured side by side by \
         the same benchmark run.\n"
    );
    let _ = writeln!(
        out,
        "## Ratios\n\n| ratio | value | target |\n|---|---:|---|"
    );
    for ratio in RATIOS {
        let (Some(n), Some(d)) = (
            value(&ratio.numerator, &rates, summaries),
            value(&ratio.denominator, &rates, summaries),
        ) else {
            continue;
        };
        let _ = writeln!(out, "| {} | {:.2} | {} |", ratio.label, n / d, ratio.target);
    }
    if !summaries.is_empty() {
        let _ = writeln!(
            out,
            "\n## Bench summaries\n\n| figure | value |\n|---|---:|"
        );
        for (name, v) in summaries {
            let _ = writeln!(out, "| {name} | {} |", group_digits(*v));
        }
    }
    let _ = writeln!(
        out,
        "\n## Criterion results\n\n| benchmark | mean time | elements/s |\n|---|---:|---:|"
    );
    for m in measurements {
        let rate = m.per_second().map_or_else(|| "-".to_owned(), group_digits);
        let _ = writeln!(out, "| {} | {} | {rate} |", m.id, format_time(m.mean_ns));
    }
    out
}

fn format_time(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn group_digits(v: f64) -> String {
    if v.abs() < 100.0 {
        return format!("{v:.1}");
    }
    let digits = format!("{:.0}", v.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && c.is_ascii_digit() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_ratios_and_rates_from_one_run() {
        let m = |id: &str, ns: f64, e: f64| Measurement {
            id: id.into(),
            mean_ns: ns,
            elements: Some(e),
        };
        let measurements = vec![
            m("queue_put_get/steady/0", 1000.0, 10.0),
            m("queue_put_get/steady/3", 1250.0, 10.0),
        ];
        let summaries = BTreeMap::from([
            (
                "redis publish batched x100 (events/s)".to_owned(),
                300_000.0,
            ),
            (
                "redis-benchmark XADD -P 100 -c 1 (events/s)".to_owned(),
                500_000.0,
            ),
            ("sqlite end-to-end loop (bars/s)".to_owned(), 276_000.0),
            ("sqlite raw sink write (bars/s)".to_owned(), 300_000.0),
            ("mdp run peak RSS, 1M bars (KiB)".to_owned(), 20_000.0),
            ("mdp run peak RSS, 10M bars (KiB)".to_owned(), 21_000.0),
        ]);
        let text = render(&measurements, &summaries, "2 cores");
        assert!(
            text.contains(
                "| Redis batched publish (x100) / redis-benchmark XADD -P 100, one connection each | 0.60 | >= 0.50 |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| queue put+get, 3 subscribers / 0 subscribers (steady) | 0.80 | >= 0.95 |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| queue_put_get/steady/0 | 1.00 µs | 10 000 000 |"),
            "{text}"
        );
        assert!(
            text.contains("| end-to-end loop / raw sink write, SQLite | 0.92 | >= 0.90 |"),
            "{text}"
        );
        assert!(
            text.contains("| mdp run peak RSS, 10M bars / 1M bars | 1.05 | ~ 1.0 (flat) |"),
            "{text}"
        );
        assert!(
            !text.contains("PostgreSQL sink") && !text.contains("raw sink write, PostgreSQL"),
            "ratios with a missing side are left out"
        );
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(1_234_567.4), "1 234 567");
        assert_eq!(group_digits(12.25), "12.2");
        assert_eq!(format_time(1_500.0), "1.50 µs");
    }
}
