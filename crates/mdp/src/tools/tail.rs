//! `mdp pulse tail`: the last entries of a stream, then new ones as they arrive, one JSON
//! line each (`{"id", "data"}`). Reads Redis directly (no consumer group is created).

use anyhow::Context;
use redis::streams::{StreamRangeReply, StreamReadOptions, StreamReadReply};

/// Prints the last `last` entries of Redis stream `key`, then follows it until `count`
/// entries were printed (or forever).
pub(super) fn tail(url: &str, key: &str, last: usize, count: Option<usize>) -> anyhow::Result<()> {
    let client = redis::Client::open(url).context("invalid REDIS_URL")?;
    let mut conn = client
        .get_connection()
        .with_context(|| format!("cannot connect to {}", pulse::redact_url(url)))?;
    let mut printed = 0usize;
    let done = |printed: usize| count.is_some_and(|c| printed >= c);
    let recent: StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(last)
        .query(&mut conn)
        .with_context(|| format!("cannot read {key}"))?;
    let mut cursor = "$".to_owned();
    for entry in recent.ids.iter().rev() {
        if done(printed) {
            return Ok(());
        }
        print_entry(&entry.id, entry.get::<String>("data"));
        printed += 1;
        cursor.clone_from(&entry.id);
    }
    let options = StreamReadOptions::default().block(1000).count(100);
    while !done(printed) {
        let reply: Option<StreamReadReply> =
            redis::Commands::xread_options(&mut conn, &[key], &[cursor.as_str()], &options)
                .with_context(|| format!("cannot read {key}"))?;
        for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
            if done(printed) {
                break;
            }
            print_entry(&entry.id, entry.get::<String>("data"));
            printed += 1;
            cursor = entry.id.clone();
        }
    }
    Ok(())
}

fn print_entry(id: &str, data: Option<String>) {
    let data = data
        .as_deref()
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .unwrap_or_else(|| serde_json::Value::String(data.unwrap_or_default()));
    println!("{}", serde_json::json!({ "id": id, "data": data }));
}
