//! Payments behind one trait: the order saga starts a payment, asks how it
//! stands, and refunds it, without knowing which gateway does it.
//!
//! [`ManualGateway`] is built in: it pays at once, or, with capture by an
//! operator, waits until an operator marks the order paid. [`stripe`] takes
//! card payments through Stripe; [`webhook`] checks and records its events.

pub mod stripe;
pub mod webhook;

use futures_util::future::BoxFuture;
use serde::Deserialize;

/// How a payment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Money is captured.
    Succeeded,
    /// Waiting for the customer or an operator.
    Pending,
    /// It failed, and why.
    Failed(String),
}

/// A payment just started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStart {
    /// The gateway's id of the payment.
    pub payment_id: String,
    /// What a front end needs to complete it (a card form), if anything.
    pub client_secret: Option<String>,
    /// How it stands.
    pub status: PaymentStatus,
}

/// Why a gateway call failed (the saga retries later).
#[derive(Debug, Clone, thiserror::Error)]
#[error("payment gateway error: {0}")]
pub struct PaymentError(pub String);

/// A payment gateway.
pub trait PaymentGateway: Send + Sync {
    /// Short name for metrics and records.
    fn name(&self) -> &'static str;
    /// Starts the payment of `amount` minor units of `currency` for order
    /// `order_id`; idempotent on the order id.
    fn start<'a>(
        &'a self,
        order_id: &'a str,
        amount: u64,
        currency: &'a str,
    ) -> BoxFuture<'a, Result<PaymentStart, PaymentError>>;
    /// How payment `payment_id` stands.
    fn status<'a>(&'a self, payment_id: &'a str) -> BoxFuture<'a, Result<PaymentStatus, PaymentError>>;
    /// Whether [`status`](Self::status) knows the outcome at once (no customer
    /// or operator to wait for), so a resumed order is driven on without delay.
    fn answers_at_once(&self) -> bool;
    /// Whether its payments move real money (all but the manual gateway). A
    /// gateway that moves money must start payments pending (the customer
    /// pays afterwards, as with Stripe): the saga records a payment before any
    /// money can move only in that order.
    fn moves_money(&self) -> bool {
        true
    }
    /// Refunds payment `payment_id` in full; idempotent on `idempotency_key`
    /// (derived from the order), so a retried refund never pays out twice.
    fn refund<'a>(&'a self, payment_id: &'a str, idempotency_key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>>;
}

/// When the manual gateway takes the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capture {
    /// At checkout.
    Immediate,
    /// When an operator marks the order paid.
    Operator,
}

/// The built-in gateway: no money moves; payments succeed at once or when an
/// operator says so.
pub struct ManualGateway {
    /// When it captures.
    pub capture: Capture,
}

impl PaymentGateway for ManualGateway {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn start<'a>(
        &'a self,
        order_id: &'a str,
        _amount: u64,
        _currency: &'a str,
    ) -> BoxFuture<'a, Result<PaymentStart, PaymentError>> {
        Box::pin(async move {
            Ok(PaymentStart {
                payment_id: format!("manual_{order_id}"),
                client_secret: None,
                status: self.manual_status(),
            })
        })
    }

    fn status<'a>(&'a self, _payment_id: &'a str) -> BoxFuture<'a, Result<PaymentStatus, PaymentError>> {
        Box::pin(async move { Ok(self.manual_status()) })
    }

    fn answers_at_once(&self) -> bool {
        self.capture == Capture::Immediate
    }

    fn moves_money(&self) -> bool {
        false
    }

    fn refund<'a>(&'a self, _payment_id: &'a str, _key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async { Ok(()) })
    }
}

impl ManualGateway {
    fn manual_status(&self) -> PaymentStatus {
        match self.capture {
            Capture::Immediate => PaymentStatus::Succeeded,
            Capture::Operator => PaymentStatus::Pending,
        }
    }
}
