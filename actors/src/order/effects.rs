//! The world the saga acts on, for [`Orders`]: the order's record and
//! listing, and the side effects of each step — calls to the SKUs, the coupon
//! claims, the cart, the customer's account and the gateway. Each is
//! idempotent, keyed by the order (and line), and the calls of one step run at
//! once; `saga` records the events they come to.

use futures_util::future::{join, join_all, try_join_all};

use super::saga::SagaWorld;
use super::state::{CouponRefusal, OrderEvent, OrderState, Placement, Shortage};
use super::step::StepContext;
use super::{Orders, OrdersError};
use crate::cart::{CartError, CartsError};
use crate::payment::{PaymentStart, PaymentStatus};
use crate::promotion::state::RulesError;
use crate::promotion::{PromotionsError, RulesCommand};
use crate::runtime::now_millis;
use crate::sku::{InventoryError, StockError};

/// The reservation id of line `line` of order `id`.
pub(super) fn reservation_id(id: &str, line: usize) -> String {
    format!("{id}.{line}")
}

/// The return id of line `line` of order `id`.
fn return_id(id: &str, line: usize) -> String {
    format!("{id}.{line}.return")
}

impl Orders {
    fn stock_error(id: &str, sku: &str, source: InventoryError) -> OrdersError {
        OrdersError::Stock {
            order: id.to_string(),
            sku: sku.to_string(),
            source,
        }
    }

    /// Claims the coupon's use for the order: `Some` says why it was refused.
    async fn claim_coupon(&self, id: &str, placement: &Placement) -> Result<Option<CouponRefusal>, OrdersError> {
        let Some(code) = &placement.coupon else {
            return Ok(None);
        };
        let claim = RulesCommand::ClaimUse {
            order_id: id.to_string(),
            code: code.clone(),
            customer: placement.owner.clone(),
        };
        match self.inner.promotions.call(claim).await {
            Ok(_) => Ok(None),
            Err(PromotionsError::Rules(RulesError::Claim(refusal))) => Ok(Some(CouponRefusal {
                code: refusal.code().to_string(),
                message: format!("coupon {code}: {refusal}"),
            })),
            Err(source) => Err(OrdersError::Coupon {
                order: id.to_string(),
                source,
            }),
        }
    }

    async fn link_to_customer(&self, id: &str, placement: &Placement) -> Result<(), OrdersError> {
        let Some(owner) = &placement.owner else {
            return Ok(());
        };
        let account_error = |source| OrdersError::Account {
            order: id.to_string(),
            source,
        };
        self.inner.accounts.link_order(owner, id).await.map_err(account_error)?;
        Ok(())
    }

    /// Ends the order's hold on its cart: closed for good once sold, open again
    /// otherwise; for a customer, a sold cart stops being the current one.
    async fn end_cart_checkout(&self, id: &str, placement: &Placement, sold: bool) -> Result<(), OrdersError> {
        let ended = self.inner.carts.end_checkout(&placement.cart_id, id, sold);
        let account = async {
            match (&placement.owner, sold) {
                (Some(owner), true) => self
                    .inner
                    .accounts
                    .cart_checked_out(owner, &placement.cart_id)
                    .await
                    .map_err(|source| OrdersError::Account {
                        order: id.to_string(),
                        source,
                    }),
                _ => Ok(()),
            }
        };
        let (ended, account) = join(ended, account).await;
        account?;
        match ended {
            Ok(()) | Err(CartsError::Cart(CartError::NotFound)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

impl SagaWorld for Orders {
    fn step_context(&self, retry_refund_now: bool) -> StepContext {
        StepContext {
            now: now_millis(),
            reconcile_after_ms: self.inner.config.reconcile_after.as_millis() as u64,
            gateway_answers_at_once: self.inner.gateway.answers_at_once(),
            retry_refund_now,
        }
    }

    fn refund_retry_min_ms(&self) -> u64 {
        self.inner.config.refund_retry_min.as_millis() as u64
    }

    fn payment_moves_money(&self) -> bool {
        self.inner.gateway.moves_money()
    }

    fn gateway_name(&self) -> &'static str {
        self.inner.gateway.name()
    }

    async fn get(&self, id: &str) -> Result<OrderState, OrdersError> {
        Orders::get(self, id).await
    }

    async fn record(&self, id: &str, events: Vec<OrderEvent>) -> Result<OrderState, OrdersError> {
        Orders::record(self, id, events).await
    }

    async fn relist(&self, id: &str) -> Result<u64, OrdersError> {
        Orders::relist(self, id).await
    }

    fn finish(&self, id: &str, events: Vec<OrderEvent>, listing: Option<u64>, close_cart: Option<Placement>) {
        let orders = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            if let Some(placement) = close_cart {
                if let Err(err) = orders.end_cart_checkout(&id, &placement, true).await {
                    tracing::warn!(order = %id, error = %err, "sold order's cart not closed; the sweeper will");
                    return;
                }
            }
            if !events.is_empty() {
                if let Err(err) = orders.record(&id, events).await {
                    tracing::warn!(order = %id, error = %err, "settled order not recorded; the sweeper will");
                    return;
                }
            }
            if let Some(generation) = listing {
                orders.close_listing(&id, generation);
            }
        });
    }

    fn take_nudge(&self, id: &str) -> bool {
        Orders::take_nudge(self, id)
    }

    fn count_late_payment(&self) {
        let gateway = self.inner.gateway.name();
        self.inner.metrics.payments.with_label_values(&[gateway, "late"]).inc();
    }

    /// The event a payment status comes to (counted by outcome).
    fn payment_outcome(&self, status: PaymentStatus) -> Option<OrderEvent> {
        let gateway = self.inner.gateway.name();
        let (result, event) = match status {
            PaymentStatus::Pending => return None,
            PaymentStatus::Succeeded => ("succeeded", OrderEvent::Paid),
            PaymentStatus::Failed(reason) => ("failed", OrderEvent::PaymentFailed { reason }),
        };
        self.inner.metrics.payments.with_label_values(&[gateway, result]).inc();
        Some(event)
    }

    /// Holds every line, claims the coupon's use and links the order to its
    /// customer, all at once: `Reserved`, or `Rejected` naming what was short.
    async fn reserve(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError> {
        let ttl = (self.inner.config.payment_window + self.inner.config.reservation_grace).as_millis() as u64;
        // A payment taken at once that moves no money (the manual gateway) cannot
        // fail: each line is sold right away (reservation and commit in one SKU
        // write); a line sold for an order that then does not sell comes back
        // by its return when the order releases what it holds.
        let sell_now = self.inner.gateway.answers_at_once() && !self.inner.gateway.moves_money();
        let lines = placement.lines.iter().enumerate().map(|(index, line)| async move {
            let (inventory, qty, reservation) = (&self.inner.inventory, u64::from(line.qty), reservation_id(id, index));
            let held = match sell_now {
                true => inventory.sell(&line.sku, reservation, qty, ttl).await.map(|_| ()),
                false => inventory.reserve(&line.sku, reservation, qty, ttl).await.map(|_| ()),
            };
            match held {
                Ok(_) | Err(InventoryError::Stock(StockError::AlreadyCommitted { .. })) => Ok(None),
                Err(InventoryError::Stock(StockError::OutOfStock { requested, available })) => Ok(Some(Shortage {
                    sku: line.sku.clone(),
                    requested,
                    available,
                })),
                Err(err) => Err(Self::stock_error(id, &line.sku, err)),
            }
        });
        let (lines, (coupon, linked)) = join(
            join_all(lines),
            join(self.claim_coupon(id, placement), self.link_to_customer(id, placement)),
        )
        .await;
        linked?;
        let coupon = coupon?;
        let mut shortages = Vec::new();
        for line in lines {
            shortages.extend(line?);
        }
        Ok(match shortages.is_empty() && coupon.is_none() {
            true => OrderEvent::Reserved,
            false => OrderEvent::Rejected { shortages, coupon },
        })
    }

    /// Starts the payment (idempotent on the order id): `PaymentStarted`, and
    /// `Paid` or `PaymentFailed` when the gateway knows at once.
    async fn start_payment(&self, id: &str, placement: &Placement) -> Result<Vec<OrderEvent>, OrdersError> {
        let gateway = &self.inner.gateway;
        let PaymentStart {
            payment_id,
            client_secret,
            status,
        } = gateway
            .start(id, placement.total, &placement.currency)
            .await
            .map_err(|source| OrdersError::Gateway {
                order: id.to_string(),
                source,
            })?;
        let mut events = vec![OrderEvent::PaymentStarted {
            gateway: gateway.name().to_string(),
            payment_id,
            client_secret,
        }];
        events.extend(self.payment_outcome(status));
        Ok(events)
    }

    /// Asks the gateway how the payment stands: `Paid`, `PaymentFailed`, or
    /// nothing while it is pending.
    async fn check_payment(&self, id: &str, order: &OrderState) -> Result<Option<OrderEvent>, OrdersError> {
        let (_, payment_id) = order
            .payment()
            .ok_or_else(|| OrdersError::MissingPayment(id.to_string()))?;
        let status = self
            .inner
            .gateway
            .status(payment_id)
            .await
            .map_err(|source| OrdersError::Gateway {
                order: id.to_string(),
                source,
            })?;
        Ok(self.payment_outcome(status))
    }

    /// Commits every line, at once: `Confirmed`, or, when a reservation ran
    /// out before the payment came, a refund of what was sold.
    async fn commit(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError> {
        let lines = placement.lines.iter().enumerate().map(|(index, line)| async move {
            match self.inner.inventory.commit(&line.sku, reservation_id(id, index)).await {
                Ok(_) => Ok(Some(index)),
                Err(InventoryError::Stock(StockError::ReservationNotFound { .. })) => Ok(None),
                Err(err) => Err(Self::stock_error(id, &line.sku, err)),
            }
        });
        let mut committed = Vec::new();
        for line in join_all(lines).await {
            committed.extend(line?);
        }
        if committed.len() == placement.lines.len() {
            return Ok(OrderEvent::Confirmed);
        }
        Ok(OrderEvent::RefundRequested {
            reason: "the stock ran out of its reservation before the payment arrived".into(),
            restock: committed,
        })
    }

    async fn close_cart(&self, id: &str, placement: &Placement) -> Result<(), OrdersError> {
        self.end_cart_checkout(id, placement, true).await
    }

    /// Brings the sold units of `lines` back to stock (once per line).
    async fn restock(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError> {
        let returns = lines.iter().filter_map(|&index| {
            let line = placement.lines.get(index)?;
            Some(async move {
                self.inner
                    .inventory
                    .return_sold(&line.sku, return_id(id, index), u64::from(line.qty))
                    .await
                    .map_err(|err| Self::stock_error(id, &line.sku, err))
            })
        });
        try_join_all(returns).await?;
        Ok(())
    }

    /// Refunds the payment in full, keyed by the order so it is paid out once.
    async fn refund_payment(&self, id: &str, order: &OrderState) -> Result<(), OrdersError> {
        let (_, payment_id) = order
            .payment()
            .ok_or_else(|| OrdersError::MissingPayment(id.to_string()))?;
        let gateway = &self.inner.gateway;
        gateway
            .refund(payment_id, &format!("refund-{id}"))
            .await
            .map_err(|source| OrdersError::Gateway {
                order: id.to_string(),
                source,
            })?;
        self.inner
            .metrics
            .payments
            .with_label_values(&[gateway.name(), "refunded"])
            .inc();
        Ok(())
    }

    /// Gives back what an unsold order holds, at once: the open reservations
    /// of `lines` (and the units of any that a cut saga committed before the
    /// order gave up), its coupon use, its cart.
    async fn release(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError> {
        let held = lines
            .iter()
            .filter_map(|&index| Some((index, placement.lines.get(index)?)));
        let reservations = held.map(|(index, line)| async move {
            let inventory = &self.inner.inventory;
            match inventory.release(&line.sku, reservation_id(id, index)).await {
                Ok(_) | Err(InventoryError::Stock(StockError::ReservationNotFound { .. })) => Ok(()),
                Err(InventoryError::Stock(StockError::AlreadyCommitted { .. })) => inventory
                    .return_sold(&line.sku, return_id(id, index), u64::from(line.qty))
                    .await
                    .map(|_| ())
                    .map_err(|err| Self::stock_error(id, &line.sku, err)),
                Err(err) => Err(Self::stock_error(id, &line.sku, err)),
            }
        });
        let coupon = async {
            if placement.coupon.is_none() {
                return Ok(());
            }
            let release = RulesCommand::ReleaseUse {
                order_id: id.to_string(),
            };
            self.inner
                .promotions
                .call(release)
                .await
                .map(|_| ())
                .map_err(|source| OrdersError::Coupon {
                    order: id.to_string(),
                    source,
                })
        };
        let (reservations, (coupon, cart)) = join(
            try_join_all(reservations),
            join(coupon, self.end_cart_checkout(id, placement, false)),
        )
        .await;
        reservations?;
        coupon?;
        cart
    }
}
