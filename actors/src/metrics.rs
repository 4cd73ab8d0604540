//! Every metric this crate exports, with its help text. Labels are low-cardinality:
//! the entity kind, never an id. Per-kind handles are resolved once per registry so
//! that no label lookup happens on a message's path.

use crate::runtime::{RestartCause, Restarts};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// Storage metrics.
#[derive(Clone)]
pub struct StorageMetrics {
    /// `mercato_storage_flush_seconds`.
    pub flush_seconds: Histogram,
    /// `mercato_storage_batch_records`.
    pub batch_records: Histogram,
    /// `mercato_storage_writable`: 1, or 0 while writes fail and the database is reopened.
    pub writable: IntGauge,
    /// `mercato_storage_write_failures_total`: group commits that failed.
    pub write_failures: IntCounter,
}

/// Entity-runtime metrics, labelled by kind.
#[derive(Clone)]
pub struct RuntimeMetrics {
    actors_active: IntGaugeVec,
    activations: IntCounterVec,
    restarts: IntCounterVec,
    passivations: IntCounterVec,
}

/// The runtime metrics of one entity kind.
#[derive(Clone)]
pub struct KindMetrics {
    /// Live actors of this kind.
    pub active: IntGauge,
    /// Activations (first message, or after passivation).
    pub activations: IntCounter,
    /// Supervised restarts per cause (panics, storage errors, operator requests).
    pub restarts: Restarts,
    /// Actors stopped for being idle.
    pub passivations: IntCounter,
}

/// Order and payment metrics.
#[derive(Clone)]
pub struct OrderMetrics {
    /// `mercato_orders_total{status}`: orders entering each status.
    pub orders: IntCounterVec,
    /// `mercato_checkout_duration_seconds`: a checkout from request to answer.
    pub checkout_seconds: Histogram,
    /// `mercato_payments_total{gateway,result}`.
    pub payments: IntCounterVec,
    /// `mercato_mails_sent_total{kind}`.
    pub mails: IntCounterVec,
    /// `mercato_dead_letters_total{consumer}`: log events set aside for good.
    pub dead_letters: IntCounterVec,
}

/// Product views.
#[derive(Clone)]
pub struct ViewMetrics {
    /// `mercato_views_total{result="recorded"}`.
    pub recorded: IntCounter,
    /// `mercato_views_total{result="dropped"}`: the queue was full.
    pub dropped: IntCounter,
    /// `mercato_views_total{result="bot"}`: a crawler's, ignored.
    pub bots: IntCounter,
    /// `mercato_views_total{result="rate_limited"}`.
    pub limited: IntCounter,
    /// `mercato_views_queued`: recorded, not yet in the view log (its lag).
    pub queued: IntGauge,
    /// `mercato_views_kept`: views in the view log.
    pub kept: IntGauge,
}

/// The metric groups of this crate.
#[derive(Clone)]
pub struct ActorMetrics {
    /// Storage metrics.
    pub storage: StorageMetrics,
    /// Runtime metrics.
    pub runtime: RuntimeMetrics,
    /// Orders and payments.
    pub orders: OrderMetrics,
    /// Product views.
    pub views: ViewMetrics,
    /// `mercato_read_model_lag_events{model}`: log events not yet applied.
    pub read_model_lag: IntGaugeVec,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> prometheus::Result<T> {
    registry.register(Box::new(metric.clone()))?;
    Ok(metric)
}

impl ActorMetrics {
    /// Creates every metric of this crate and registers it with `registry`.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let storage = StorageMetrics {
            flush_seconds: register(
                registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "mercato_storage_flush_seconds",
                        "Time to write and (with sync durability) fsync one group commit.",
                    )
                    .buckets(prometheus::exponential_buckets(0.00005, 2.0, 14)?),
                )?,
            )?,
            batch_records: register(
                registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "mercato_storage_batch_records",
                        "sled records written by one group commit.",
                    )
                    .buckets(prometheus::exponential_buckets(1.0, 4.0, 9)?),
                )?,
            )?,
            writable: register(
                registry,
                IntGauge::new(
                    "mercato_storage_writable",
                    "1 while storage writes; 0 while a failed write keeps it reopening.",
                )?,
            )?,
            write_failures: register(
                registry,
                IntCounter::new(
                    "mercato_storage_write_failures_total",
                    "Group commits that failed (each starts a recovery).",
                )?,
            )?,
        };
        let orders = OrderMetrics {
            orders: register(
                registry,
                IntCounterVec::new(
                    Opts::new("mercato_orders_total", "Orders entering each status."),
                    &["status"],
                )?,
            )?,
            checkout_seconds: register(
                registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "mercato_checkout_duration_seconds",
                        "Time from a checkout request to its answer.",
                    )
                    .buckets(prometheus::exponential_buckets(0.0005, 2.0, 14)?),
                )?,
            )?,
            payments: register(
                registry,
                IntCounterVec::new(
                    Opts::new("mercato_payments_total", "Payment outcomes by gateway."),
                    &["gateway", "result"],
                )?,
            )?,
            mails: register(
                registry,
                IntCounterVec::new(
                    Opts::new("mercato_mails_sent_total", "Mails sent (or written to the outbox)."),
                    &["kind"],
                )?,
            )?,
            dead_letters: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "mercato_dead_letters_total",
                        "Event-log events a consumer set aside because they can never be handled.",
                    ),
                    &["consumer"],
                )?,
            )?,
        };
        let runtime = RuntimeMetrics {
            actors_active: register(
                registry,
                IntGaugeVec::new(
                    Opts::new("mercato_actors_active", "Entity actors alive now."),
                    &["kind"],
                )?,
            )?,
            activations: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "mercato_actor_activations_total",
                        "Entity actors activated from storage.",
                    ),
                    &["kind"],
                )?,
            )?,
            restarts: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "mercato_actor_restarts_total",
                        "Supervised restarts of entity actors, by cause: panic, storage or operator.",
                    ),
                    &["kind", "cause"],
                )?,
            )?,
            passivations: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "mercato_actor_passivations_total",
                        "Entity actors stopped after being idle.",
                    ),
                    &["kind"],
                )?,
            )?,
        };
        let views_total = register(
            registry,
            IntCounterVec::new(
                Opts::new("mercato_views_total", "Product views offered, by what became of them."),
                &["result"],
            )?,
        )?;
        let views = ViewMetrics {
            recorded: views_total.with_label_values(&["recorded"]),
            dropped: views_total.with_label_values(&["dropped"]),
            bots: views_total.with_label_values(&["bot"]),
            limited: views_total.with_label_values(&["rate_limited"]),
            queued: register(
                registry,
                IntGauge::new(
                    "mercato_views_queued",
                    "Views recorded and not yet written to the view log.",
                )?,
            )?,
            kept: register(
                registry,
                IntGauge::new("mercato_views_kept", "Views the view log holds.")?,
            )?,
        };
        let read_model_lag = register(
            registry,
            IntGaugeVec::new(
                Opts::new(
                    "mercato_read_model_lag_events",
                    "Events in the log that a read model has not applied yet.",
                ),
                &["model"],
            )?,
        )?;
        Ok(ActorMetrics {
            storage,
            runtime,
            orders,
            views,
            read_model_lag,
        })
    }
}

impl RuntimeMetrics {
    /// The handles of one kind.
    pub fn for_kind(&self, kind: &str) -> KindMetrics {
        KindMetrics {
            active: self.actors_active.with_label_values(&[kind]),
            activations: self.activations.with_label_values(&[kind]),
            restarts: Restarts::new(
                RestartCause::ALL.map(|cause| self.restarts.with_label_values(&[kind, cause.as_str()])),
            ),
            passivations: self.passivations.with_label_values(&[kind]),
        }
    }
}
