//! Fetching the topology: `GET <url>/api/topology` from the orchestrator, within
//! [`TIMEOUT`]. A failure says which address and why in one line: the orchestrator's address
//! and the innermost cause when it cannot be reached (`Connection refused (os error 111)`),
//! the address fetched and its status when it refuses, or what could not be read.

use std::time::Duration;

use anyhow::Context;
use core_contracts::ClusterTopology;
use reqwest::Url;

/// How long one fetch may take.
pub(super) const TIMEOUT: Duration = Duration::from_secs(2);

/// The orchestrator's topology endpoint and a client for it.
#[derive(Debug, Clone)]
pub(super) struct Orchestrator {
    client: reqwest::Client,
    /// The address as given, without a trailing `/`.
    base: String,
    endpoint: Url,
}

impl Orchestrator {
    /// The orchestrator at `url` (`http://host:port`, with a path prefix if it sits behind
    /// one); refuses what is not an http(s) URL.
    pub(super) fn new(url: &str) -> anyhow::Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        let endpoint = format!("{base}/api/topology");
        let endpoint = Url::parse(&endpoint).with_context(|| {
            format!("the orchestrator's address {url:?} (--url, MDP_ORCHESTRATOR_URL) is not a URL")
        })?;
        anyhow::ensure!(
            matches!(endpoint.scheme(), "http" | "https"),
            "the orchestrator's address {url:?} (--url, MDP_ORCHESTRATOR_URL) is not an http:// \
             or https:// URL"
        );
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("cannot make an HTTP client")?;
        Ok(Self {
            client,
            base,
            endpoint,
        })
    }

    /// The address fetched.
    #[cfg(test)]
    pub(super) fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The orchestrator's current topology.
    pub(super) async fn fetch(&self) -> anyhow::Result<ClusterTopology> {
        let url = &self.endpoint;
        let response = self.client.get(url.clone()).send().await.map_err(|error| {
            let base = &self.base;
            anyhow::anyhow!("cannot reach the orchestrator at {base}: {}", cause(&error))
        })?;
        let status = response.status();
        anyhow::ensure!(
            status.is_success(),
            "the orchestrator at {url} answered {status}"
        );
        let body = response.bytes().await.map_err(|error| {
            anyhow::anyhow!(
                "cannot read the answer of the orchestrator at {url}: {}",
                cause(&error)
            )
        })?;
        serde_json::from_slice(&body)
            .with_context(|| format!("the orchestrator at {url} sent a topology mdp cannot read"))
    }
}

/// Why a request failed, in words: the timeout, or the innermost cause.
fn cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}
