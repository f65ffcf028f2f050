//! The PostgreSQL sink over TLS, against private servers this file starts (one with TLS and a
//! certificate for `localhost` from a private CA, one without TLS): libpq's `sslmode` from
//! `prefer` to `verify-full`, the CA from `MDS_PG_CA_FILE` or `sslrootcert=`, and errors that
//! say what failed where, never with the password.

#[path = "support/bars.rs"]
mod bars;
#[path = "support/pg_server.rs"]
mod pg_server;

use std::path::PathBuf;
use std::sync::Arc;

use bars::WriteAt;
use core_contracts::Bar;
use pg_server::PgServer;
use store::config::PostgresOptions;
use store::sink::{OpenSinkError, Sink, SinkError, SinkOptions, open_sink};
use tokio_postgres::Client;

fn options(ca_file: Option<PathBuf>) -> SinkOptions {
    SinkOptions {
        postgres: PostgresOptions {
            ca_file,
            ..PostgresOptions::default()
        },
        ..SinkOptions::default()
    }
}

async fn open(url: &str, ca_file: Option<PathBuf>) -> Result<Arc<dyn Sink>, OpenSinkError> {
    open_sink(url, &options(ca_file)).await
}

/// The error of opening a sink that must not open.
async fn refused(url: &str, ca_file: Option<PathBuf>) -> SinkError {
    match open(url, ca_file).await {
        Ok(_) => panic!("{url} opened"),
        Err(OpenSinkError::Open { source, .. }) => source,
        Err(other) => panic!("expected an Open error for {url}, got {other}"),
    }
}

/// Every bar of `public.bars` as the sink stored it.
async fn stored(admin: &Client) -> Vec<Bar> {
    admin
        .query(
            "SELECT provider, symbol, resolution, ts, open, high, low, close, volume, delayed \
             FROM public.bars ORDER BY symbol, ts",
            &[],
        )
        .await
        .expect("bars readable")
        .iter()
        .map(|r| Bar {
            provider: r.get(0),
            symbol: r.get(1),
            resolution: r.get(2),
            ts: r.get(3),
            open: r.get(4),
            high: r.get(5),
            low: r.get(6),
            close: r.get(7),
            volume: r.get(8),
            delayed: r.get(9),
        })
        .collect()
}

/// Whether the table exists at all: a sink that never connected made nothing.
async fn table_exists(admin: &Client) -> bool {
    admin
        .query_one("SELECT to_regclass('public.bars') IS NOT NULL", &[])
        .await
        .expect("query")
        .get(0)
}

/// `ssl` of each session of `application_name`, as the server sees it.
async fn sessions_ssl(admin: &Client, application_name: &str) -> Vec<bool> {
    admin
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = $1",
            &[&application_name],
        )
        .await
        .expect("pg_stat_ssl readable")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn require_encrypts_the_sinks_sessions_and_the_bars_read_back() {
    let Some(server) = PgServer::try_start(true).await else {
        return;
    };
    let url = server.url(
        "127.0.0.1",
        "sslmode=require&application_name=mdp_tls_require",
    );
    let sink = open(&url, None)
        .await
        .expect("require opens without checking the certificate");
    let batch = bars::bars("AAPL", 5);
    sink.write_at(&batch, 1).await.expect("writes over TLS");
    let admin = server.admin().await;
    assert_eq!(stored(&admin).await, batch);
    let ssl = sessions_ssl(&admin, "mdp_tls_require").await;
    assert!(
        !ssl.is_empty() && ssl.iter().all(|on| *on),
        "sink sessions: {ssl:?}"
    );
    assert!(sink.ready().await);
}

#[tokio::test]
async fn verify_full_trusts_the_ca_of_mds_pg_ca_file_or_sslrootcert() {
    let Some(server) = PgServer::try_start(true).await else {
        return;
    };
    let by_setting = open(
        &server.url("localhost", "sslmode=verify-full"),
        Some(server.ca_file()),
    )
    .await
    .expect("the CA of MDS_PG_CA_FILE verifies the server");
    by_setting
        .write_at(&bars::bars("AAPL", 3), 1)
        .await
        .expect("writes");
    let rootcert = format!(
        "sslmode=verify-full&sslrootcert={}&application_name=mdp_tls_full",
        server.ca_file().display()
    );
    let by_url = open(
        &server.url("localhost", &rootcert),
        Some(PathBuf::from("/nonexistent/ignored-ca.pem")),
    )
    .await
    .expect("sslrootcert= verifies the server, and wins over MDS_PG_CA_FILE");
    by_url
        .write_at(&bars::bars("MSFT", 2), 1)
        .await
        .expect("writes");
    let admin = server.admin().await;
    let mut expected = bars::bars("AAPL", 3);
    expected.extend(bars::bars("MSFT", 2));
    assert_eq!(stored(&admin).await, expected);
    let ssl = sessions_ssl(&admin, "mdp_tls_full").await;
    assert!(!ssl.is_empty() && ssl.iter().all(|on| *on), "{ssl:?}");
}

#[tokio::test]
async fn verify_full_without_the_private_ca_refuses_the_certificate_and_writes_nothing() {
    let Some(server) = PgServer::try_start(true).await else {
        return;
    };
    let err = refused(&server.url("localhost", "sslmode=verify-full"), None).await;
    let text = err.to_string();
    assert!(
        !err.is_retryable(),
        "a certificate to fix, not an outage: {text}"
    );
    assert!(
        text.contains("certificate") && text.contains(&format!("localhost:{}", server.port)),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(
        !table_exists(&server.admin().await).await,
        "nothing was written"
    );
}

#[tokio::test]
async fn verify_full_refuses_a_host_name_the_certificate_does_not_hold_and_verify_ca_accepts_it() {
    let Some(server) = PgServer::try_start(true).await else {
        return;
    };
    let err = refused(
        &server.url("127.0.0.1", "sslmode=verify-full"),
        Some(server.ca_file()),
    )
    .await;
    let text = err.to_string();
    assert!(text.contains("not valid for name"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(
        !table_exists(&server.admin().await).await,
        "nothing was written"
    );

    let sink = open(
        &server.url("127.0.0.1", "sslmode=verify-ca"),
        Some(server.ca_file()),
    )
    .await
    .expect("verify-ca checks the chain only");
    sink.write_at(&bars::bars("AAPL", 1), 1)
        .await
        .expect("writes");
    let err = refused(&server.url("127.0.0.1", "sslmode=verify-ca"), None).await;
    assert!(
        err.to_string().contains("UnknownIssuer"),
        "verify-ca still checks the chain: {err}"
    );
}

#[tokio::test]
async fn require_against_a_server_without_tls_says_so_without_the_password() {
    let Some(server) = PgServer::try_start(false).await else {
        return;
    };
    let url = format!(
        "postgres://postgres:hunter2@127.0.0.1:{}/postgres?sslmode=require",
        server.port
    );
    let err = refused(&url, None).await;
    let text = err.to_string();
    assert!(text.contains("server does not support TLS"), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", server.port)),
        "{text}"
    );
    assert!(text.contains("sslmode=require"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!err.is_retryable(), "{text}");
    let open_error = open(&url, None).await.map(|_| ()).expect_err("refused");
    assert!(!open_error.to_string().contains("hunter2"), "{open_error}");
}

#[tokio::test]
async fn prefer_falls_back_to_plain_on_a_server_without_tls() {
    let Some(server) = PgServer::try_start(false).await else {
        return;
    };
    let url = server.url(
        "127.0.0.1",
        "sslmode=prefer&application_name=mdp_tls_prefer",
    );
    let sink = open(&url, None).await.expect("prefer connects in plain");
    let batch = bars::bars("AAPL", 4);
    sink.write_at(&batch, 1).await.expect("writes");
    let admin = server.admin().await;
    assert_eq!(stored(&admin).await, batch);
    assert_eq!(sessions_ssl(&admin, "mdp_tls_prefer").await, [false]);
}

#[tokio::test]
async fn an_unreadable_ca_file_is_named() {
    let err = refused(
        "postgres://u:hunter2@127.0.0.1:1/db?sslmode=verify-full",
        Some(PathBuf::from("/nonexistent/mdp-ca.pem")),
    )
    .await;
    let text = err.to_string();
    assert!(text.contains("/nonexistent/mdp-ca.pem"), "{text}");
    assert!(!err.is_retryable() && !text.contains("hunter2"), "{text}");
}
