//! `GET /metrics`: the registry in OpenMetrics text to a client that asks for it (Prometheus
//! does, in its `Accept` header), and in the Prometheus text format 0.0.4 otherwise (`curl`,
//! `promtool check metrics`, older scrapers).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;

/// The OpenMetrics content type.
pub(super) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Prometheus text format's content type.
pub(super) const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) async fn metrics(
    State(registry): State<Option<Arc<Registry>>>,
    headers: HeaderMap,
) -> Response {
    let mut body = String::new();
    let encoded = match &registry {
        Some(registry) => prometheus_client::encoding::text::encode(&mut body, registry),
        None => {
            body.push_str("# EOF\n");
            Ok(())
        }
    };
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    match encoded {
        Ok(()) if openmetrics => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Ok(()) => (
            [(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)],
            text_format(&body),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode metrics: {e}\n"),
        )
            .into_response(),
    }
}

/// OpenMetrics text rewritten in the Prometheus text format 0.0.4: a counter's `HELP` and
/// `TYPE` name its `_total` samples, `UNIT` and `EOF` lines and `_created` samples go, and
/// every other line stays as it is.
pub(crate) fn text_format(openmetrics: &str) -> String {
    let types: HashMap<&str, &str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let counter = |name: &str| types.get(name) == Some(&"counter");
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = line
            .strip_prefix("# HELP ")
            .map(|rest| ("# HELP ", rest))
            .or_else(|| line.strip_prefix("# TYPE ").map(|rest| ("# TYPE ", rest)));
        if let Some((kind, rest)) = meta {
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            if counter(name) && !name.ends_with("_total") {
                out.push_str(&format!("{kind}{name}_total {tail}\n"));
                continue;
            }
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            if name.strip_suffix("_created").is_some_and(counter) {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_by_their_samples_and_openmetrics_lines_go() {
        let om = "# HELP sink_writes Sink writes by status.\n\
                  # TYPE sink_writes counter\n\
                  sink_writes_total{sink=\"memory\",status=\"success\"} 3\n\
                  sink_writes_created{sink=\"memory\",status=\"success\"} 1700000000.0\n\
                  # HELP queue_depth Bars waiting.\n\
                  # TYPE queue_depth gauge\n\
                  # UNIT queue_depth bars\n\
                  queue_depth 7\n\
                  # EOF\n";
        assert_eq!(
            text_format(om),
            "# HELP sink_writes_total Sink writes by status.\n\
             # TYPE sink_writes_total counter\n\
             sink_writes_total{sink=\"memory\",status=\"success\"} 3\n\
             # HELP queue_depth Bars waiting.\n\
             # TYPE queue_depth gauge\n\
             queue_depth 7\n"
        );
    }
}
