//! Prometheus metrics: request counts and latencies by route,
//! provisioning runs by outcome, which leader leases this replica holds,
//! and the portfolio's governance metrics (by tier).
//! Recorded in process with `prometheus-client` and rendered in the text
//! exposition format at `GET /metrics` (access rules in `http::metrics`).
//!
//! Labels are bounded on purpose: the route is the matched route *template*
//! (`/api/projects/{id}`), never the raw path, so a caller probing random
//! URLs cannot grow the series set.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::governance::metrics::{GovernanceMetrics, KEYS};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoopLabels {
    r#loop: &'static str,
}

/// A governance metric's only label: a tier, or `all` (five values).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabels {
    tier: &'static str,
}

type GovernanceGauge = Family<TierLabels, Gauge<f64, AtomicU64>>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s: an API call sits at the low end, a Terraform-backed
    // request never waits here (it answers at once), `/readyz` may wait 2 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: LatencyFamily,
    runs: Family<RunLabels, Counter>,
    leader: Family<LoopLabels, Gauge>,
    /// One gauge family per governance metric key, in `KEYS` order.
    governance: Vec<(&'static str, GovernanceGauge)>,
}

/// A route template as a `&'static str`, so counting a request allocates
/// nothing. Templates are a fixed set (the router's, plus `(unmatched)`), so
/// the few leaked strings are bounded.
fn intern(route: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{OnceLock, RwLock};
    static SEEN: OnceLock<RwLock<HashSet<&'static str>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(s) = seen.read().unwrap_or_else(|e| e.into_inner()).get(route) {
        return s;
    }
    let mut w = seen.write().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = w.get(route) {
        return s;
    }
    let s: &'static str = Box::leak(route.to_owned().into_boxed_str());
    w.insert(s);
    s
}

/// A method as a static label: the few HTTP defines, anything else `OTHER`.
pub fn method_label(m: &http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("asgard");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let runs = Family::<RunLabels, Counter>::default();
        let leader = Family::<LoopLabels, Gauge>::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            http_latency.clone(),
        );
        registry.register(
            "provisioning_runs",
            "Terraform runs finished on this replica, by request kind and outcome",
            runs.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease of a background loop",
            leader.clone(),
        );
        registry.register("build_info", "The running version (always 1)", build);
        let governance: Vec<(&'static str, GovernanceGauge)> = KEYS
            .iter()
            .map(|k| (*k, GovernanceGauge::default()))
            .collect();
        for (key, family) in &governance {
            registry.register(
                format!("governance_{key}"),
                format!("Governance metric {key} by tier (docs/governance.md, Metrics); absent when not measurable"),
                family.clone(),
            );
        }
        Metrics {
            registry,
            http_requests,
            http_latency,
            runs,
            leader,
            governance,
        }
    }

    pub fn observe_http(&self, method: &'static str, route: &str, status: u16, secs: f64) {
        let route = intern(route);
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels { method, route })
            .observe(secs);
    }

    /// A Terraform run recorded: `kind` is the request kind (create,
    /// update, destroy, suspend, resume), `ok` whether it succeeded.
    pub fn run_finished(&self, kind: &str, ok: bool) {
        self.runs
            .get_or_create(&RunLabels {
                kind: kind.to_string(),
                outcome: if ok { "fulfilled" } else { "failed" },
            })
            .inc();
    }

    pub fn set_leader(&self, loop_name: &'static str, held: bool) {
        self.leader
            .get_or_create(&LoopLabels { r#loop: loop_name })
            .set(i64::from(held));
    }

    /// Publish the portfolio metrics: each key's value overall (`tier="all"`)
    /// and per tier; a metric that is not measurable has no sample.
    pub fn set_governance(&self, m: &GovernanceMetrics) {
        let lists = std::iter::once(("all", &m.metrics))
            .chain(m.tiers.iter().map(|t| (t.tier.as_str(), &t.metrics)));
        for (tier, list) in lists {
            for (key, family) in &self.governance {
                let labels = TierLabels { tier };
                match list.iter().find(|x| x.key == *key).and_then(|x| x.value) {
                    Some(v) => {
                        family.get_or_create(&labels).set(v);
                    }
                    None => {
                        family.remove(&labels);
                    }
                }
            }
        }
    }

    /// The OpenMetrics text exposition of everything above.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_labels_and_counts() {
        let m = Metrics::new();
        m.observe_http("GET", "/api/projects/{id}", 200, 0.002);
        m.observe_http("GET", "/api/projects/{id}", 200, 0.004);
        m.run_finished("create", true);
        m.set_leader("reconcile-runs", true);
        let text = m.render();
        assert!(
            text.contains(
                r#"asgard_http_requests_total{method="GET",route="/api/projects/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"asgard_http_request_duration_seconds_count{method="GET",route="/api/projects/{id}"} 2"#), "{text}");
        assert!(
            text.contains(r#"asgard_provisioning_runs_total{kind="create",outcome="fulfilled"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"asgard_leader{loop="reconcile-runs"} 1"#),
            "{text}"
        );
        assert!(text.contains("asgard_build_info{version="), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
