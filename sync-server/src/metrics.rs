//! Prometheus counters served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub sync_bytes_in: Counter,
    pub sync_bytes_out: Counter,
    pub docs_accepted: Counter,
    pub docs_sent: Counter,
    /// Messages handed to gateways, by outcome (the notification scheduler counts here).
    pub dispatch: Family<OutcomeLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kartka");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let sync_bytes_in = Counter::default();
        registry.register(
            "sync_bytes_in",
            "Sync request body bytes",
            sync_bytes_in.clone(),
        );
        let sync_bytes_out = Counter::default();
        registry.register(
            "sync_bytes_out",
            "Sync response body bytes",
            sync_bytes_out.clone(),
        );
        let docs_accepted = Counter::default();
        registry.register(
            "docs_accepted",
            "Pushed document chunks that brought new changes",
            docs_accepted.clone(),
        );
        let docs_sent = Counter::default();
        registry.register(
            "docs_sent",
            "Document chunks sent to devices",
            docs_sent.clone(),
        );
        let dispatch = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "dispatch",
            "Messages dispatched, by outcome",
            dispatch.clone(),
        );
        Metrics {
            registry,
            requests,
            sync_bytes_in,
            sync_bytes_out,
            docs_accepted,
            docs_sent,
            dispatch,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("encode");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
