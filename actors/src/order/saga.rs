//! Executing the saga: ask the order's state for its next [`Step`], run it,
//! record what it came to, repeat until the order waits or is done.
//!
//! Recording is batched: the saga's own progress that a resume re-derives by
//! repeating idempotent steps ([`OrderEvent::deferrable`]: lines reserved,
//! payment started, paid at once) is recorded with the next event that must be
//! durable, so a manual-gateway checkout records once after its commit. Intents
//! (a refund owed) are recorded before their side effects.

use std::mem;

use super::state::{OrderError, OrderEvent, OrderState, OrderStatus};
use super::step::{Step, StepContext};
use super::{Orders, OrdersError};
use crate::runtime::now_millis;

impl Orders {
    fn step_context(&self, retry_refund_now: bool) -> StepContext {
        StepContext {
            now: now_millis(),
            reconcile_after_ms: self.inner.config.reconcile_after.as_millis() as u64,
            gateway_answers_at_once: self.inner.gateway.answers_at_once(),
            retry_refund_now,
        }
    }

    /// Moves an order's saga on from its recorded state until it waits or is
    /// done. `retry_refund_now` tries an owed refund once before its back-off.
    pub(super) async fn drive(&self, id: &str, mut retry_refund_now: bool) -> Result<OrderState, OrdersError> {
        let mut order = self.get(id).await?;
        let mut unrecorded: Vec<OrderEvent> = Vec::new();
        loop {
            let step = order.next_step(&self.step_context(retry_refund_now));
            let placement = order.placement().ok_or(OrderError::NotFound)?.clone();
            let events = match step {
                Step::Wait(_) | Step::Done => {
                    if !unrecorded.is_empty() {
                        order = self.flush(id, &mut unrecorded).await?;
                        continue;
                    }
                    if step == Step::Done {
                        self.close_listing(id);
                    }
                    return Ok(order);
                }
                Step::Reserve => vec![self.reserve(id, &placement).await?],
                Step::StartPayment => self.start_payment(id, &placement).await?,
                Step::CheckPayment => match self.check_payment(id, &order).await? {
                    Some(event) => vec![event],
                    None if unrecorded.is_empty() => return Ok(order),
                    None => {
                        order = self.flush(id, &mut unrecorded).await?;
                        return Ok(order);
                    }
                },
                Step::Commit => vec![self.commit(id, &placement).await?],
                Step::Expire => vec![OrderEvent::Expired],
                Step::Restock(lines) => {
                    self.restock(id, &placement, &lines).await?;
                    vec![OrderEvent::Restocked]
                }
                Step::Refund => {
                    retry_refund_now = false;
                    match self.refund_payment(id, &order).await {
                        Ok(()) => vec![OrderEvent::Refunded],
                        Err(err @ OrdersError::Gateway { .. }) => {
                            let failures = order.refund().map_or(0, |refund| refund.failures);
                            let first_wait = self.inner.config.refund_retry_min.as_millis() as u64;
                            let retry_at = super::state::refund_retry_at(now_millis(), failures, first_wait);
                            tracing::warn!(order = id, error = %err, retry_at, "refund failed; retrying later");
                            vec![OrderEvent::RefundFailed {
                                error: error_chain(&err),
                                retry_at,
                            }]
                        }
                        Err(err) => return Err(err),
                    }
                }
                Step::Release => {
                    self.release(id, &placement).await?;
                    vec![OrderEvent::Released]
                }
            };
            for event in events {
                order.transition(&event)?;
                order.apply(&event);
                let deferrable = event.deferrable();
                unrecorded.push(event);
                if !deferrable {
                    order = self.flush(id, &mut unrecorded).await?;
                }
            }
        }
    }

    /// Records what the saga did. When the order moved meanwhile (it expired,
    /// or was cancelled) and the batch holds a payment taken at once, the money
    /// and the units sold are owed back instead.
    async fn flush(&self, id: &str, unrecorded: &mut Vec<OrderEvent>) -> Result<OrderState, OrdersError> {
        let events = mem::take(unrecorded);
        match self.record(id, events.clone()).await {
            Err(OrdersError::Order(OrderError::InvalidTransition { .. })) if events.contains(&OrderEvent::Paid) => {
                let order = self.get(id).await?;
                let lines = order.placement().map_or(0, |placement| placement.lines.len());
                let restock = match events.last() {
                    Some(OrderEvent::Confirmed) => (0..lines).collect(),
                    Some(OrderEvent::RefundRequested { restock, .. }) => restock.clone(),
                    _ => Vec::new(),
                };
                let payment = events.iter().find_map(|event| match event {
                    OrderEvent::PaymentStarted {
                        gateway, payment_id, ..
                    } => Some((gateway.clone(), payment_id.clone())),
                    _ => None,
                });
                self.owe_late_payment(id, &order, payment, restock).await
            }
            result => result,
        }
    }

    /// Records that a payment landed on an order that had given up: the money
    /// (and the units of `restock`, if they were sold) is owed back.
    pub(super) async fn owe_late_payment(
        &self,
        id: &str,
        order: &OrderState,
        payment: Option<(String, String)>,
        restock: Vec<usize>,
    ) -> Result<OrderState, OrdersError> {
        if !matches!(
            order.status(),
            Some(OrderStatus::Expired | OrderStatus::Cancelled | OrderStatus::PaymentFailed)
        ) {
            return Ok(order.clone());
        }
        let gateway = self.inner.gateway.name();
        self.inner.metrics.payments.with_label_values(&[gateway, "late"]).inc();
        tracing::warn!(order = id, status = ?order.status(), "paid after the order gave up; refunding");
        let mut events = Vec::new();
        if let (None, Some((gateway, payment_id))) = (order.payment(), payment) {
            events.push(OrderEvent::PaymentRecorded { gateway, payment_id });
        }
        events.push(OrderEvent::RefundRequested {
            reason: "paid after the order had expired or was cancelled; refunded".into(),
            restock,
        });
        self.relist(id).await?;
        self.record(id, events).await
    }
}

/// An error and its sources, for the record.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
