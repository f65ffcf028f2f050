//! What the source produced against what the sink holds, bar by bar and value by value.
//!
//! The expected bars come from the same source plan the pipeline runs (the synthetic source
//! on its default settings, or a CSV file), so a test proves "nothing lost, nothing wrong"
//! by comparing every row with its bar, not by counting rows of an upserted table.

use std::collections::BTreeMap;
use std::path::Path;

use core_contracts::Bar;
use mdp::cli::{OnBadRow, PipelineFlags};
use mdp::source::SourcePlan;
use pipeline::PipelineSettings;

/// A bar's key rendered for messages and ordering: provider, symbol, resolution, ts.
pub(crate) type Key = (String, String, String, String);

/// Bars by key; the last bar of a key wins (a later revision replaces an earlier one).
pub(crate) type Bars = BTreeMap<Key, Bar>;

fn key(bar: &Bar) -> Key {
    (
        bar.provider.clone(),
        bar.symbol.clone(),
        bar.resolution.clone(),
        bar.ts.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    )
}

/// Indexes `bars` by key, the last of each key winning.
pub(crate) fn by_key(bars: impl IntoIterator<Item = Bar>) -> Bars {
    bars.into_iter().map(|bar| (key(&bar), bar)).collect()
}

/// The first `n` bars of the pipeline's default synthetic source (or of `csv`).
pub(crate) fn source(n: Option<u64>, csv: Option<&Path>) -> Bars {
    source_with(n, csv, &[])
}

/// The first `n` bars of the synthetic source (or of `csv`) under the pipeline settings
/// `env` (e.g. `MDP_SOURCE_SYMBOLS`).
pub(crate) fn source_with(n: Option<u64>, csv: Option<&Path>, env: &[(&str, &str)]) -> Bars {
    let lookup = |var: &str| {
        env.iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| (*v).to_owned())
    };
    let settings = PipelineSettings::from_lookup(&lookup).expect("pipeline settings");
    let flags = PipelineFlags {
        bars: n,
        duration: None,
        csv: csv.map(Path::to_path_buf),
        on_bad_row: OnBadRow::Fail,
        bad_rows_file: "unused-bad-rows.ndjson".into(),
        rate: None,
    };
    let plan = SourcePlan::new(&flags, &settings.source, &settings.feedback.provider_name);
    by_key(
        plan.open(0)
            .expect("the source opens")
            .map(|bar| bar.expect("a valid bar")),
    )
}

/// A bar from the text of a sink row.
pub(crate) fn from_row(cols: [&str; 9], delayed: bool) -> Bar {
    let [
        provider,
        symbol,
        resolution,
        ts,
        open,
        high,
        low,
        close,
        volume,
    ] = cols;
    serde_json::from_value(serde_json::json!({
        "provider": provider, "symbol": symbol, "resolution": resolution, "ts": ts,
        "open": open, "high": high, "low": low, "close": close, "volume": volume,
        "delayed": delayed,
    }))
    .unwrap_or_else(|e| panic!("row is not a valid bar ({e}): {cols:?}"))
}

/// Every bar in the SQLite file at `path`.
pub(crate) fn sqlite(path: &Path) -> Bars {
    if !path.exists() {
        return Bars::new();
    }
    let conn = rusqlite::Connection::open(path).expect("sqlite opens");
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let mut stmt = match conn.prepare(
        "SELECT provider, symbol, resolution, ts, open, high, low, close, volume, delayed \
         FROM bars",
    ) {
        Ok(stmt) => stmt,
        Err(_) => return Bars::new(),
    };
    let rows = stmt
        .query_map([], |row| {
            let text = |i| row.get::<_, String>(i);
            Ok(from_row(
                [
                    &text(0)?,
                    &text(1)?,
                    &text(2)?,
                    &text(3)?,
                    &text(4)?,
                    &text(5)?,
                    &text(6)?,
                    &text(7)?,
                    &text(8)?,
                ],
                row.get::<_, bool>(9)?,
            ))
        })
        .expect("bars query");
    by_key(rows.map(|r| r.expect("a bar row")))
}

/// Panics with the first differences unless `got` holds exactly the bars of `want`, with
/// the same values.
pub(crate) fn assert_same(want: &Bars, got: &Bars) {
    let missing: Vec<&Key> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&Key> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let wrong: Vec<(&Bar, &Bar)> = want
        .iter()
        .filter_map(|(k, w)| got.get(k).filter(|g| *g != w).map(|g| (w, g)))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && wrong.is_empty(),
        "the sink differs from the source: {} of {} bars missing (first: {:?}), {} unexpected \
         (first: {:?}), {} with other values (first: want {:?}, got {:?})",
        missing.len(),
        want.len(),
        missing.first(),
        extra.len(),
        extra.first(),
        wrong.len(),
        wrong.first().map(|w| w.0),
        wrong.first().map(|w| w.1),
    );
}
