//! The server's notices (`NOTICE: schema ... already exists, skipping` when a second sink
//! opens the same table) reach the log at DEBUG, with their code, and never at INFO. The
//! only test of its binary: it installs the process's log subscriber.

#[path = "support/postgres.rs"]
mod pg;

use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use store::config::PostgresOptions;
use store::sink::PostgresSink;

/// Log output gathered in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[tokio::test]
async fn server_notices_are_logged_at_debug_and_not_at_info() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let logs = Logs::default();
    let writer = logs.clone();
    // `init` also routes the `log` records of the driver, which logs notices at INFO itself
    // when its connection is merely awaited.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let options = PostgresOptions {
        schema: schema.name.clone(),
        ..PostgresOptions::default()
    };
    for _ in 0..2 {
        let config = tokio_postgres::Config::from_str(&schema.url).expect("valid url");
        let sink = PostgresSink::connect(config, options.clone())
            .await
            .expect("connects");
        drop(sink);
    }
    let text = logs.text();
    let notices: Vec<&str> = text.lines().filter(|l| l.contains("skipping")).collect();
    assert!(
        notices
            .iter()
            .any(|l| l.contains("DEBUG") && l.contains("postgres notice") && l.contains("42P06")),
        "the second sink's CREATE SCHEMA IF NOT EXISTS notice at DEBUG:\n{text}"
    );
    assert!(
        notices.iter().all(|l| !l.contains("INFO")),
        "no notice at INFO:\n{text}"
    );
}
