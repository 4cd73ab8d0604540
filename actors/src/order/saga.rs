//! Executing the saga: ask the order's state for its next [`Step`], run it,
//! record what it came to, repeat until the order waits or is done.
//!
//! Recording is batched: the saga's own progress that a resume re-derives by
//! repeating idempotent steps ([`OrderEvent::deferrable`]: lines reserved, and
//! with the manual gateway the payment started and paid at once) is recorded
//! with the next event that must be durable, so a manual-gateway checkout
//! records once after its commit. Money taken and intents (a refund owed) are
//! recorded before the next side effect.
//!
//! The executor is generic over [`SagaWorld`], what it acts on: [`Orders`]
//! with its actors and gateway, or the model world of `model_tests.rs`, which
//! runs this very loop with crashes at every call.

use std::mem;

use futures_util::future::join;

use super::state::{refund_retry_at, OrderError, OrderEvent, OrderState, OrderStatus, Placement};
use super::step::{Step, StepContext};
use super::{Orders, OrdersError};
use crate::payment::PaymentStatus;

/// What the saga acts on: the order's record, its open listing, and the side
/// effects of each step (all idempotent, keyed by the order).
pub(super) trait SagaWorld {
    /// What the step function needs to know of the world now.
    fn step_context(&self, retry_refund_now: bool) -> StepContext;
    /// The first refund back-off, in ms.
    fn refund_retry_min_ms(&self) -> u64;
    /// Whether the gateway's payments move real money (see [`OrderEvent::deferrable`]).
    fn payment_moves_money(&self) -> bool;
    /// The gateway's name, for payments it reports.
    fn gateway_name(&self) -> &'static str;
    /// The order as recorded.
    async fn get(&self, id: &str) -> Result<OrderState, OrdersError>;
    /// Records events at once, all or none.
    async fn record(&self, id: &str, events: Vec<OrderEvent>) -> Result<OrderState, OrdersError>;
    /// Lists the order (again) before it takes on new work; answers the
    /// listing's generation.
    async fn relist(&self, id: &str) -> Result<u64, OrdersError>;
    /// Closes the cart of a sold order (if `close_cart`), records `events`
    /// (bookkeeping of a settled saga), then unlists the order if it is still
    /// listed under `listing`; nobody waits for any of it. If the close or the
    /// record fails, the order stays listed and the sweeper finishes it again.
    fn finish(&self, id: &str, events: Vec<OrderEvent>, listing: Option<u64>, close_cart: Option<Placement>);
    /// Whether something moved the order while this saga ran (and forgets it).
    fn take_nudge(&self, id: &str) -> bool;
    /// Counts a payment that landed after its order gave up.
    fn count_late_payment(&self);
    /// The event a payment status comes to (counted by outcome); `None` while pending.
    fn payment_outcome(&self, status: PaymentStatus) -> Option<OrderEvent>;
    /// [`Step::Reserve`]: `Reserved` or `Rejected`.
    async fn reserve(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError>;
    /// [`Step::StartPayment`]: `PaymentStarted`, maybe `Paid` or `PaymentFailed`.
    async fn start_payment(&self, id: &str, placement: &Placement) -> Result<Vec<OrderEvent>, OrdersError>;
    /// [`Step::CheckPayment`]: `Paid`, `PaymentFailed`, or nothing yet.
    async fn check_payment(&self, id: &str, order: &OrderState) -> Result<Option<OrderEvent>, OrdersError>;
    /// [`Step::Commit`]: `Confirmed`, or a refund owed for stock that ran out.
    async fn commit(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError>;
    /// Ends the cart's checkout as sold: closed for good (a cart that another
    /// order or a refund holds now is left alone).
    async fn close_cart(&self, id: &str, placement: &Placement) -> Result<(), OrdersError>;
    /// [`Step::Restock`].
    async fn restock(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError>;
    /// [`Step::Refund`]: a gateway error means refused or not reached.
    async fn refund_payment(&self, id: &str, order: &OrderState) -> Result<(), OrdersError>;
    /// [`Step::Release`].
    async fn release(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError>;
}

/// Moves an order's saga on from its recorded state until it waits or is
/// done. `retry_refund_now` tries an owed refund once before its back-off;
/// `listing` is the generation the order was listed under when this began (a
/// done order is unlisted only if nothing listed it again since).
pub(super) async fn drive(
    world: &impl SagaWorld,
    id: &str,
    mut retry_refund_now: bool,
    listing: Option<u64>,
) -> Result<OrderState, OrdersError> {
    let mut order = world.get(id).await?;
    let mut unrecorded: Vec<OrderEvent> = Vec::new();
    // Whether this run closed the cart of the order it confirmed; otherwise a
    // sold order's cart is closed (again: idempotent) as it is finished.
    let mut cart_closed = false;
    loop {
        let context = world.step_context(retry_refund_now);
        let step = order.next_step(&context);
        let placement = order.placement().ok_or(OrderError::NotFound)?.clone();
        let events = match step {
            Step::Wait(_) | Step::Done => {
                if world.take_nudge(id) {
                    // Moved while this ran (a webhook, a cancel): look again.
                    if !unrecorded.is_empty() {
                        flush(world, id, &mut unrecorded).await?;
                    }
                    order = world.get(id).await?;
                    continue;
                }
                if step == Step::Done && unrecorded.iter().all(|event| *event == OrderEvent::Released) {
                    // Only bookkeeping is left: nobody waits for it.
                    let sold = order.status().is_some_and(OrderStatus::sold);
                    let close_cart = (sold && !cart_closed).then_some(placement);
                    world.finish(id, mem::take(&mut unrecorded), listing, close_cart);
                    return Ok(order);
                }
                if !unrecorded.is_empty() {
                    order = flush(world, id, &mut unrecorded).await?;
                    continue;
                }
                return Ok(order);
            }
            Step::Reserve => vec![world.reserve(id, &placement).await?],
            Step::StartPayment => world.start_payment(id, &placement).await?,
            Step::CheckPayment => match world.check_payment(id, &order).await? {
                Some(event) => vec![event],
                None if unrecorded.is_empty() => return Ok(order),
                None => return flush(world, id, &mut unrecorded).await,
            },
            Step::Commit => vec![world.commit(id, &placement).await?],
            Step::Expire => vec![OrderEvent::Expired],
            Step::ExpireUnlessPaid => vec![world.check_payment(id, &order).await?.unwrap_or(OrderEvent::Expired)],
            Step::Restock(lines) => {
                world.restock(id, &placement, &lines).await?;
                vec![OrderEvent::Restocked]
            }
            Step::Refund => {
                retry_refund_now = false;
                match world.refund_payment(id, &order).await {
                    Ok(()) => vec![OrderEvent::Refunded],
                    Err(err @ OrdersError::Gateway { .. }) => {
                        let failures = order.refund().map_or(0, |refund| refund.failures);
                        let retry_at = refund_retry_at(context.now, failures, world.refund_retry_min_ms());
                        tracing::warn!(order = id, error = %err, retry_at, "refund failed; retrying later");
                        vec![OrderEvent::RefundFailed {
                            error: super::errors::error_chain(&err),
                            retry_at,
                        }]
                    }
                    Err(err) => return Err(err),
                }
            }
            Step::Release(lines) => {
                world.release(id, &placement, &lines).await?;
                vec![OrderEvent::Released]
            }
        };
        // A step's events are recorded together (with what was deferred), so
        // that a payment and what it moved the order to stand or fall as one.
        let mut must_record = false;
        for event in events {
            order.transition(&event)?;
            order.apply(&event);
            must_record |= !event.deferrable(world.payment_moves_money());
            unrecorded.push(event);
        }
        if must_record && unrecorded.last() == Some(&OrderEvent::Confirmed) {
            // The cart closes in the group commit that confirms the order: one
            // durable wait for both. A crash between them leaves the order
            // listed, and finishing it closes the cart.
            let (recorded, closed) = join(flush(world, id, &mut unrecorded), world.close_cart(id, &placement)).await;
            if let Err(err) = &closed {
                tracing::warn!(order = id, error = %err, "cart not closed at confirmation; closing it as the order finishes");
            }
            cart_closed = closed.is_ok();
            order = recorded?;
        } else if must_record {
            order = flush(world, id, &mut unrecorded).await?;
        }
    }
}

/// Records what the saga did. When the order moved meanwhile (it expired, or
/// was cancelled), the saga goes on from where it is; if the batch held a
/// payment taken at once, the money and the units sold are owed back.
async fn flush(world: &impl SagaWorld, id: &str, unrecorded: &mut Vec<OrderEvent>) -> Result<OrderState, OrdersError> {
    let events = mem::take(unrecorded);
    match world.record(id, events.clone()).await {
        Err(OrdersError::Order(OrderError::InvalidTransition { .. })) if !events.contains(&OrderEvent::Paid) => {
            world.get(id).await
        }
        Err(OrdersError::Order(OrderError::InvalidTransition { .. })) => {
            let order = world.get(id).await?;
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
            Ok(owe_late_payment(world, id, &order, payment, restock).await?.0)
        }
        result => result,
    }
}

/// Records that a payment landed on an order that had given up: the money
/// (and the units of `restock`, if they were sold) is owed back. Answers the
/// order and the generation it is listed under now (`None`: nothing owed).
pub(super) async fn owe_late_payment(
    world: &impl SagaWorld,
    id: &str,
    order: &OrderState,
    payment: Option<(String, String)>,
    restock: Vec<usize>,
) -> Result<(OrderState, Option<u64>), OrdersError> {
    if !matches!(
        order.status(),
        Some(OrderStatus::Expired | OrderStatus::Cancelled | OrderStatus::PaymentFailed)
    ) {
        return Ok((order.clone(), None));
    }
    world.count_late_payment();
    tracing::warn!(order = id, status = ?order.status(), "paid after the order gave up; refunding");
    let mut events = Vec::new();
    if let (None, Some((gateway, payment_id))) = (order.payment(), payment) {
        events.push(OrderEvent::PaymentRecorded { gateway, payment_id });
    }
    events.push(OrderEvent::RefundRequested {
        reason: "paid after the order had expired or was cancelled; the payment is refunded".into(),
        restock,
    });
    let listing = world.relist(id).await?;
    Ok((world.record(id, events).await?, Some(listing)))
}

impl Orders {
    /// Drives order `id` (see [`drive`]).
    pub(super) async fn drive(
        &self,
        id: &str,
        retry_refund_now: bool,
        listing: Option<u64>,
    ) -> Result<OrderState, OrdersError> {
        drive(self, id, retry_refund_now, listing).await
    }
}
