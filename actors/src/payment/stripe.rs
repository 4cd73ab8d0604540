//! The Stripe gateway (`async-stripe`): a PaymentIntent per order, created with
//! `order-<order id>` as Stripe idempotency key, its `client_secret` handed to the
//! front end; its status read back for reconciliation; full refunds, with the
//! idempotency key the order gives (`refund-<order id>`; a payment Stripe says
//! is refunded already counts as refunded). The API
//! base URL is configurable (tests point it at a local fake).

use std::str::FromStr as _;

use ::stripe::{
    Client, CreatePaymentIntent, CreateRefund, Currency, ErrorCode, PaymentIntent, PaymentIntentId,
    PaymentIntentStatus, Refund, RequestError, RequestStrategy, StripeError,
};
use futures_util::future::BoxFuture;

use super::{PaymentError, PaymentGateway, PaymentStart, PaymentStatus};

/// Payments through Stripe.
pub struct StripeGateway {
    client: Client,
}

impl StripeGateway {
    /// A gateway calling `api_base` (normally `https://api.stripe.com`) with `secret_key`.
    pub fn new(api_base: &str, secret_key: &str) -> Self {
        StripeGateway {
            client: Client::from_url(api_base, secret_key),
        }
    }
}

fn failed(err: impl std::fmt::Display) -> PaymentError {
    PaymentError(err.to_string())
}

/// How a PaymentIntent status reads for the saga.
pub fn status_of(status: PaymentIntentStatus) -> PaymentStatus {
    match status {
        PaymentIntentStatus::Succeeded => PaymentStatus::Succeeded,
        PaymentIntentStatus::Canceled => PaymentStatus::Failed("the payment was canceled".into()),
        _ => PaymentStatus::Pending,
    }
}

impl PaymentGateway for StripeGateway {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn start<'a>(
        &'a self,
        order_id: &'a str,
        amount: u64,
        currency: &'a str,
    ) -> BoxFuture<'a, Result<PaymentStart, PaymentError>> {
        Box::pin(async move {
            let currency = Currency::from_str(&currency.to_ascii_lowercase()).map_err(failed)?;
            let amount = i64::try_from(amount).map_err(failed)?;
            let mut params = CreatePaymentIntent::new(amount, currency);
            params.metadata = Some([("order_id".to_string(), order_id.to_string())].into());
            let client = self
                .client
                .clone()
                .with_strategy(RequestStrategy::Idempotent(format!("order-{order_id}")));
            let intent = PaymentIntent::create(&client, params).await.map_err(failed)?;
            Ok(PaymentStart {
                payment_id: intent.id.to_string(),
                client_secret: intent.client_secret,
                status: status_of(intent.status),
            })
        })
    }

    fn status<'a>(&'a self, payment_id: &'a str) -> BoxFuture<'a, Result<PaymentStatus, PaymentError>> {
        Box::pin(async move {
            let id = PaymentIntentId::from_str(payment_id).map_err(failed)?;
            let intent = PaymentIntent::retrieve(&self.client, &id, &[]).await.map_err(failed)?;
            Ok(status_of(intent.status))
        })
    }

    fn answers_at_once(&self) -> bool {
        false
    }

    fn refund<'a>(&'a self, payment_id: &'a str, idempotency_key: &'a str) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let mut params = CreateRefund::new();
            params.payment_intent = Some(PaymentIntentId::from_str(payment_id).map_err(failed)?);
            let client = self
                .client
                .clone()
                .with_strategy(RequestStrategy::Idempotent(idempotency_key.to_string()));
            match Refund::create(&client, params).await {
                Ok(_) => Ok(()),
                // Stripe keeps idempotency keys about 24 h: a retry after a
                // refund that went through but was never heard of is told so.
                Err(StripeError::Stripe(RequestError {
                    code: Some(ErrorCode::ChargeAlreadyRefunded),
                    ..
                })) => Ok(()),
                Err(err) => Err(failed(err)),
            }
        })
    }
}
