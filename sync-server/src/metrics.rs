//! Prometheus counters served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
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
    /// Messages the dispatcher finished, by outcome.
    pub dispatch: Family<OutcomeLabels, Counter>,
    /// Seconds between a message's due time and its claim.
    pub lateness: Histogram,
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
        let lateness = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]);
        registry.register(
            "dispatch_lateness_seconds",
            "Seconds between a message's due time and its dispatch",
            lateness.clone(),
        );
        Metrics {
            registry,
            lateness,
            requests,
            sync_bytes_in,
            sync_bytes_out,
            docs_accepted,
            docs_sent,
            dispatch,
        }
    }

    pub fn outcome(&self, state: &'static str) {
        self.dispatch
            .get_or_create(&OutcomeLabels { outcome: state })
            .inc();
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
