//! Log output: `RUST_LOG` chooses what is logged (a bad directive is an error, not ignored)
//! and `LOG_FORMAT` how: `text` (the default; colours on a terminal) or `json`, one object
//! per line (`timestamp`, `level`, `target`, and the event's `fields` with its `message`),
//! for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format `LOG_FORMAT` names (unset or empty: text).
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("text") => Ok(Self::Text),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(Self::Json),
            Some(other) => Err(format!(
                "invalid LOG_FORMAT {other:?}: expected text or json"
            )),
        }
    }
}

/// The filter of `RUST_LOG` (unset or empty: `default_level`).
pub fn filter(rust_log: Option<&str>, default_level: &str) -> Result<EnvFilter, String> {
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(EnvFilter::new(default_level)),
        Some(directives) => EnvFilter::builder()
            .parse(directives)
            .map_err(|e| format!("invalid RUST_LOG {directives:?}: {e}")),
    }
}

/// Installs the process's logger on stderr from `RUST_LOG` and `LOG_FORMAT`.
pub fn init(default_level: &str) -> Result<(), String> {
    let format = LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref())?;
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref(), default_level)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_text_or_json() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some(" text ")), Ok(LogFormat::Text));
        let error = LogFormat::parse(Some("yaml")).expect_err("refused");
        assert!(
            error.contains("LOG_FORMAT") && error.contains("yaml"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_rust_log_is_an_error_naming_it() {
        assert!(filter(None, "info").is_ok());
        assert!(filter(Some("mdp=debug,warn"), "info").is_ok());
        let error = filter(Some("mdp=loud"), "info").expect_err("refused");
        assert!(
            error.starts_with("invalid RUST_LOG \"mdp=loud\""),
            "{error}"
        );
    }
}
