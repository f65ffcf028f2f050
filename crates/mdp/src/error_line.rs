//! One line for an error and its causes, each cause said once: a context that already
//! quotes its cause (`cannot open the sink: connection refused`) is not followed by that
//! cause again.

/// `error` and its chain of causes, joined by `: `, leaving out each cause whose text the
/// line already holds.
pub fn error_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        let quoted = anyhow::Error::new(io)
            .context("postgres: error connecting to server: Connection refused (os error 111)")
            .context("cannot open the sink postgres://u@h/db");
        assert_eq!(
            error_line(&quoted),
            "cannot open the sink postgres://u@h/db: postgres: error connecting to server: \
             Connection refused (os error 111)"
        );
        let plain = anyhow::anyhow!("disk full").context("cannot write the file");
        assert_eq!(error_line(&plain), "cannot write the file: disk full");
    }
}
