//! Every metric of the HTTP layer, with its help text; labels are low-cardinality
//! (the route pattern, never the path with its ids).

use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// HTTP metrics.
#[derive(Clone)]
pub struct HttpMetrics {
    /// `mercato_http_requests_total{route,method,status}`.
    pub requests: IntCounterVec,
    /// `mercato_http_request_duration_seconds{route}`.
    pub duration: HistogramVec,
    /// `mercato_reservations_total{result}`: granted, replayed, refused, failed.
    pub reservations: IntCounterVec,
    /// `mercato_ws_connections`: open cart WebSockets.
    pub ws_connections: IntGauge,
    /// `mercato_ws_pushes_total`: cart snapshots sent to sockets.
    pub ws_pushes: IntCounter,
    /// `mercato_ws_push_delay_seconds`: from a cart change being published to its
    /// snapshot being handed to a socket.
    pub ws_push_delay: Histogram,
    /// `mercato_ws_closed_total{reason}`: sockets closed by the server (`slow`, `timeout`).
    pub ws_closed: IntCounterVec,
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
        let ws_connections = IntGauge::new("mercato_ws_connections", "Open cart WebSockets.")?;
        let ws_pushes = IntCounter::new("mercato_ws_pushes_total", "Cart snapshots sent to WebSockets.")?;
        let ws_push_delay = Histogram::with_opts(
            HistogramOpts::new(
                "mercato_ws_push_delay_seconds",
                "Time from a cart change being published to its snapshot being handed to a socket.",
            )
            .buckets(prometheus::exponential_buckets(0.00005, 2.0, 16)?),
        )?;
        let ws_closed = IntCounterVec::new(
            Opts::new("mercato_ws_closed_total", "WebSockets the server closed, by reason."),
            &["reason"],
        )?;
        registry.register(Box::new(ws_connections.clone()))?;
        registry.register(Box::new(ws_pushes.clone()))?;
        registry.register(Box::new(ws_push_delay.clone()))?;
        registry.register(Box::new(ws_closed.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(reservations.clone()))?;
        Ok(HttpMetrics {
            requests,
            duration,
            reservations,
            ws_connections,
            ws_pushes,
            ws_push_delay,
            ws_closed,
        })
    }
}
