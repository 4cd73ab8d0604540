//! The metrics of events out, labelled by sink (`nats`, `webhook`) and event
//! type; never by an id.

use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};

/// Events-out metrics.
#[derive(Clone)]
pub struct EventsMetrics {
    /// `mercato_events_published_total{sink,type}`: events a sink acknowledged.
    pub published: IntCounterVec,
    /// `mercato_events_lag{sink}`: log positions the sink has not passed yet
    /// (`nats`, or `webhook-<endpoint id>`).
    pub lag_events: IntGaugeVec,
    /// `mercato_events_lag_seconds{sink}`: age of the oldest event not passed yet.
    pub lag_seconds: IntGaugeVec,
    /// `mercato_events_delivery_failures_total{sink}`: passes that failed and are retried.
    pub failures: IntCounterVec,
    /// `mercato_webhook_deliveries_total{result}`: attempts by result
    /// (`delivered`, `failed`, `gone`).
    pub attempts: IntCounterVec,
    /// `mercato_webhook_endpoints_disabled_total`: endpoints Mercato disabled
    /// (410 Gone, or failing for the whole retry schedule).
    pub endpoints_disabled: IntCounter,
    /// `mercato_webhook_endpoints{status}`: endpoints by status.
    pub endpoints: IntGaugeVec,
}

impl EventsMetrics {
    /// Creates and registers them.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = EventsMetrics {
            published: IntCounterVec::new(
                Opts::new(
                    "mercato_events_published_total",
                    "Events a sink acknowledged, by sink and type.",
                ),
                &["sink", "type"],
            )?,
            lag_events: IntGaugeVec::new(
                Opts::new("mercato_events_lag", "Event-log positions a sink has not passed yet."),
                &["sink"],
            )?,
            lag_seconds: IntGaugeVec::new(
                Opts::new(
                    "mercato_events_lag_seconds",
                    "Age in seconds of the oldest event a sink has not passed yet (0: caught up).",
                ),
                &["sink"],
            )?,
            failures: IntCounterVec::new(
                Opts::new(
                    "mercato_events_delivery_failures_total",
                    "Delivery passes that failed and are retried, by sink.",
                ),
                &["sink"],
            )?,
            attempts: IntCounterVec::new(
                Opts::new(
                    "mercato_webhook_deliveries_total",
                    "Webhook delivery attempts by result.",
                ),
                &["result"],
            )?,
            endpoints_disabled: IntCounter::new(
                "mercato_webhook_endpoints_disabled_total",
                "Webhook endpoints disabled by Mercato (410 Gone, or failing for the whole retry schedule).",
            )?,
            endpoints: IntGaugeVec::new(
                Opts::new("mercato_webhook_endpoints", "Webhook endpoints by status."),
                &["status"],
            )?,
        };
        registry.register(Box::new(metrics.attempts.clone()))?;
        registry.register(Box::new(metrics.endpoints_disabled.clone()))?;
        registry.register(Box::new(metrics.endpoints.clone()))?;
        registry.register(Box::new(metrics.published.clone()))?;
        registry.register(Box::new(metrics.lag_events.clone()))?;
        registry.register(Box::new(metrics.lag_seconds.clone()))?;
        registry.register(Box::new(metrics.failures.clone()))?;
        Ok(metrics)
    }
}
