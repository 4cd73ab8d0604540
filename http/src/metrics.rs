//! Every metric of the HTTP layer, with its help text; labels are low-cardinality
//! (the route pattern, never the path with its ids).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// HTTP metrics.
#[derive(Clone)]
pub struct HttpMetrics {
    /// `mercato_http_requests_total{route,method,status}`.
    pub requests: IntCounterVec,
    /// `mercato_http_request_duration_seconds{route}`.
    pub duration: HistogramVec,
    /// `mercato_reservations_total{result}`: granted, replayed, refused, failed.
    pub reservations: IntCounterVec,
}

impl HttpMetrics {
    /// Creates the HTTP metrics and registers them with `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let requests = IntCounterVec::new(
            Opts::new("mercato_http_requests_total", "HTTP requests answered."),
            &["route", "method", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "mercato_http_request_duration_seconds",
                "Time to answer an HTTP request.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 16)?),
            &["route"],
        )?;
        let reservations = IntCounterVec::new(
            Opts::new("mercato_reservations_total", "Stock reservation requests by result."),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(reservations.clone()))?;
        Ok(HttpMetrics {
            requests,
            duration,
            reservations,
        })
    }
}
