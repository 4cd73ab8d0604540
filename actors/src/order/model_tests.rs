//! The saga under crashes, as a model test: the real executor (`saga::drive`),
//! the real step function and the real SKU, coupon, cart and order state
//! machines (through their `Entity::handle`), in a world where any call may be
//! cut before or after its effect (a `kill -9`), gateways succeed, fail, answer
//! late or refuse refunds, customers cancel, operators adjust stock, and the
//! sweeper resumes whatever is open. Afterwards units and money add up.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use futures_util::FutureExt as _;
use proptest::prelude::*;

use super::messages::OrderCommand;
use super::payment_events::note_payment;
use super::saga::{drive, SagaWorld};
use super::state::{OrderError, OrderEvent, OrderLine, OrderState, OrderStatus, Placement};
use super::step::{Step, StepContext};
use super::OrdersError;
use crate::cart::state::{CartEvent, CartState, CartStatus};
use crate::payment::{PaymentError, PaymentStatus};
use crate::promotion::state::{Amount, Coupon, Scope, Window};
use crate::promotion::{PromotionBook, RulesCommand};
use crate::runtime::{ActorError, Entity};
use crate::sku::{SkuCommand, SkuStock};

const SKUS: usize = 3;
const PRICE: u64 = 100;
const WINDOW: u64 = 100;
const GRACE: u64 = 20;
const COUPON: &str = "HALF";
const COUPON_USES: u64 = 2;

/// How the gateway treats one order's payment.
#[derive(Debug, Clone, Copy)]
enum Pay {
    /// Paid at once: like the manual gateway, only where no money moves (a
    /// gateway that moves money, like Stripe, starts every payment pending).
    AtOnce,
    /// Refused at once.
    Refused,
    /// Settled `after` ms after it started (by a webhook, or when asked).
    Later { after: u64, succeeds: bool },
    /// Never settled.
    Never,
}

#[derive(Debug, Clone)]
struct Checkout {
    lines: Vec<(usize, u32)>,
    coupon: bool,
    pay: Pay,
    refund_refusals: u32,
    at_round: u64,
    cancel_round: Option<u64>,
}

#[derive(Debug, Default)]
struct Payment {
    amount: u64,
    started_at: u64,
    charged: bool,
    refunded: u64,
    refund_keys: BTreeSet<String>,
}

/// A `finish` call: order, events, listing generation, whether it closes the cart.
type Finish = (String, Vec<OrderEvent>, Option<u64>, bool);

#[derive(Default)]
struct World {
    /// Whether payments move money (else they may be recorded late, and the
    /// money check does not apply).
    moves_money: bool,
    now: Cell<u64>,
    /// Pops one per call: `true` cuts the call (the process dies there).
    cuts: RefCell<VecDeque<bool>>,
    skus: RefCell<Vec<SkuStock>>,
    book: RefCell<PromotionBook>,
    carts: RefCell<HashMap<String, CartState>>,
    orders: RefCell<BTreeMap<String, OrderState>>,
    /// The open-order set: id → listing generation.
    open: RefCell<BTreeMap<String, u64>>,
    /// `finish` calls not run yet (they are spawned tasks in the service).
    finishing: RefCell<Vec<Finish>>,
    scripts: HashMap<String, Checkout>,
    payments: RefCell<HashMap<String, Payment>>,
    refusals_left: RefCell<HashMap<String, u32>>,
}

fn cut() -> OrdersError {
    OrdersError::Actor(ActorError::Restarting)
}

impl World {
    fn cut_here(&self) -> Result<(), OrdersError> {
        self.now.set(self.now.get() + 1);
        match self.cuts.borrow_mut().pop_front() {
            Some(true) => Err(cut()),
            _ => Ok(()),
        }
    }

    fn sku(&self, index: usize, command: SkuCommand) -> crate::sku::SkuReply {
        let mut skus = self.skus.borrow_mut();
        let stock = &mut skus[index];
        let mut events = Vec::new();
        Entity::settle(stock, self.now.get(), &mut events);
        Entity::handle(stock, command, self.now.get(), &mut events)
    }

    fn rules(&self, command: RulesCommand) -> crate::promotion::RulesReply {
        Entity::handle(&mut *self.book.borrow_mut(), command, self.now.get(), &mut Vec::new())
    }

    fn order(&self, id: &str, command: OrderCommand) -> Result<OrderState, OrdersError> {
        let mut orders = self.orders.borrow_mut();
        let order = orders.entry(id.to_string()).or_default();
        let mut events = Vec::new();
        Entity::settle(order, self.now.get(), &mut events);
        let outcome = Entity::handle(order, command, self.now.get(), &mut events);
        if order.status().is_none() {
            orders.remove(id);
        }
        Ok(outcome?.order)
    }

    fn end_cart(&self, id: &str, sold: bool) {
        let mut carts = self.carts.borrow_mut();
        let cart = carts.get_mut(id).expect("every order has its cart");
        if let Some(event) = cart.end_checkout(id, sold) {
            cart.apply(&event);
        }
    }

    fn close_listing(&self, id: &str, generation: u64) {
        let mut open = self.open.borrow_mut();
        if open.get(id) == Some(&generation) {
            open.remove(id);
        }
    }

    /// Runs the `finish` calls made since the last time.
    pub(super) fn run_finishing(&self) {
        let finishing = std::mem::take(&mut *self.finishing.borrow_mut());
        for (id, events, listing, close_cart) in finishing {
            if close_cart {
                if self.cut_here().is_err() {
                    continue;
                }
                self.end_cart(&id, true);
            }
            if !events.is_empty()
                && (self.cut_here().is_err() || self.order(&id, OrderCommand::Record(events)).is_err())
            {
                continue;
            }
            if let Some(generation) = listing {
                self.close_listing(&id, generation);
            }
        }
    }

    /// Each line's SKU index.
    fn line_skus(placement: &Placement) -> impl Iterator<Item = (usize, &OrderLine)> {
        placement.lines.iter().enumerate()
    }
}

fn sku_index(sku: &str) -> usize {
    sku.trim_start_matches('S').parse().expect("model SKU ids are S<n>")
}

impl SagaWorld for World {
    fn step_context(&self, retry_refund_now: bool) -> StepContext {
        StepContext {
            now: self.now.get(),
            reconcile_after_ms: 30,
            gateway_answers_at_once: false,
            retry_refund_now,
        }
    }

    fn refund_retry_min_ms(&self) -> u64 {
        5
    }

    fn payment_moves_money(&self) -> bool {
        self.moves_money
    }

    fn gateway_name(&self) -> &'static str {
        "model"
    }

    async fn get(&self, id: &str) -> Result<OrderState, OrdersError> {
        self.order(id, OrderCommand::Get)
    }

    async fn record(&self, id: &str, events: Vec<OrderEvent>) -> Result<OrderState, OrdersError> {
        self.cut_here()?;
        let order = self.order(id, OrderCommand::Record(events))?;
        self.cut_here()?;
        Ok(order)
    }

    async fn relist(&self, id: &str) -> Result<u64, OrdersError> {
        self.cut_here()?;
        let mut open = self.open.borrow_mut();
        let generation = open.entry(id.to_string()).or_default();
        *generation += 1;
        Ok(*generation)
    }

    fn finish(&self, id: &str, events: Vec<OrderEvent>, listing: Option<u64>, close_cart: Option<Placement>) {
        let close_cart = close_cart.is_some();
        self.finishing
            .borrow_mut()
            .push((id.to_string(), events, listing, close_cart));
    }

    fn take_nudge(&self, _id: &str) -> bool {
        false
    }

    fn count_late_payment(&self) {}

    fn payment_outcome(&self, status: PaymentStatus) -> Option<OrderEvent> {
        match status {
            PaymentStatus::Pending => None,
            PaymentStatus::Succeeded => Some(OrderEvent::Paid),
            PaymentStatus::Failed(reason) => Some(OrderEvent::PaymentFailed { reason }),
        }
    }

    async fn reserve(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError> {
        let mut shortages = Vec::new();
        for (index, line) in Self::line_skus(placement) {
            self.cut_here()?;
            let (reservation_id, qty, ttl_ms) = (format!("{id}.{index}"), u64::from(line.qty), WINDOW + GRACE);
            // As the service does with a gateway that pays at once and moves no money.
            let reserve = match (self.moves_money, self.scripts[id].pay) {
                (false, Pay::AtOnce) => SkuCommand::Sell {
                    reservation_id,
                    qty,
                    ttl_ms,
                },
                _ => SkuCommand::Reserve {
                    reservation_id,
                    qty,
                    ttl_ms,
                },
            };
            match self.sku(sku_index(&line.sku), reserve) {
                Ok(_) | Err(crate::sku::StockError::AlreadyCommitted { .. }) => {}
                Err(crate::sku::StockError::OutOfStock { requested, available }) => {
                    shortages.push(super::state::Shortage {
                        sku: line.sku.clone(),
                        requested,
                        available,
                    })
                }
                Err(err) => panic!("a reservation refused unexpectedly: {err}"),
            }
        }
        self.cut_here()?;
        let coupon = placement.coupon.as_ref().and_then(|code| {
            let claim = RulesCommand::ClaimUse {
                order_id: id.to_string(),
                code: code.clone(),
                customer: None,
            };
            self.rules(claim).err().map(|err| super::state::CouponRefusal {
                code: "refused".into(),
                message: err.to_string(),
            })
        });
        self.cut_here()?;
        Ok(match shortages.is_empty() && coupon.is_none() {
            true => OrderEvent::Reserved,
            false => OrderEvent::Rejected { shortages, coupon },
        })
    }

    async fn start_payment(&self, id: &str, placement: &Placement) -> Result<Vec<OrderEvent>, OrdersError> {
        self.cut_here()?;
        let now = self.now.get();
        let pay = self.scripts[id].pay;
        let mut payments = self.payments.borrow_mut();
        let payment = payments.entry(id.to_string()).or_insert_with(|| Payment {
            amount: placement.total,
            started_at: now,
            ..Payment::default()
        });
        let status = match pay {
            Pay::AtOnce => {
                payment.charged = true;
                PaymentStatus::Succeeded
            }
            Pay::Refused => PaymentStatus::Failed("declined".into()),
            Pay::Later { .. } | Pay::Never => PaymentStatus::Pending,
        };
        drop(payments);
        self.cut_here()?;
        let mut events = vec![OrderEvent::PaymentStarted {
            gateway: "model".into(),
            payment_id: format!("pay_{id}"),
            client_secret: None,
        }];
        events.extend(self.payment_outcome(status));
        Ok(events)
    }

    async fn check_payment(&self, id: &str, _order: &OrderState) -> Result<Option<OrderEvent>, OrdersError> {
        self.cut_here()?;
        Ok(self.payment_outcome(self.payment_status(id)))
    }

    async fn commit(&self, id: &str, placement: &Placement) -> Result<OrderEvent, OrdersError> {
        let mut committed = Vec::new();
        for (index, line) in Self::line_skus(placement) {
            self.cut_here()?;
            let commit = SkuCommand::Commit {
                reservation_id: format!("{id}.{index}"),
            };
            match self.sku(sku_index(&line.sku), commit) {
                Ok(_) => committed.push(index),
                Err(crate::sku::StockError::ReservationNotFound { .. }) => {}
                Err(err) => panic!("a commit refused unexpectedly: {err}"),
            }
        }
        self.cut_here()?;
        Ok(match committed.len() == placement.lines.len() {
            true => OrderEvent::Confirmed,
            false => OrderEvent::RefundRequested {
                reason: "stock ran out".into(),
                restock: committed,
            },
        })
    }

    async fn close_cart(&self, id: &str, _placement: &Placement) -> Result<(), OrdersError> {
        self.cut_here()?;
        self.end_cart(id, true);
        self.cut_here()
    }

    async fn restock(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError> {
        for &index in lines {
            self.cut_here()?;
            let line = &placement.lines[index];
            let back = SkuCommand::Return {
                return_id: format!("{id}.{index}.return"),
                qty: u64::from(line.qty),
            };
            self.sku(sku_index(&line.sku), back).expect("sold units come back");
        }
        self.cut_here()
    }

    async fn refund_payment(&self, id: &str, _order: &OrderState) -> Result<(), OrdersError> {
        self.cut_here()?;
        let mut refusals = self.refusals_left.borrow_mut();
        let left = refusals
            .entry(id.to_string())
            .or_insert(self.scripts[id].refund_refusals);
        if *left > 0 {
            *left -= 1;
            return Err(OrdersError::Gateway {
                order: id.to_string(),
                source: PaymentError("refunds are down".into()),
            });
        }
        let mut payments = self.payments.borrow_mut();
        let payment = payments.get_mut(id).expect("a refund of a started payment");
        if payment.refund_keys.insert(format!("refund-{id}")) {
            payment.refunded += payment.amount;
        }
        drop(payments);
        self.cut_here()
    }

    async fn release(&self, id: &str, placement: &Placement, lines: &[usize]) -> Result<(), OrdersError> {
        for &index in lines {
            let line = &placement.lines[index];
            self.cut_here()?;
            let release = SkuCommand::Release {
                reservation_id: format!("{id}.{index}"),
            };
            if let Err(crate::sku::StockError::AlreadyCommitted { .. }) = self.sku(sku_index(&line.sku), release) {
                self.cut_here()?;
                let back = SkuCommand::Return {
                    return_id: format!("{id}.{index}.return"),
                    qty: u64::from(line.qty),
                };
                self.sku(sku_index(&line.sku), back).expect("committed units come back");
            }
        }
        self.cut_here()?;
        let _ = self.rules(RulesCommand::ReleaseUse {
            order_id: id.to_string(),
        });
        self.cut_here()?;
        self.end_cart(id, false);
        self.cut_here()
    }
}

#[path = "model_tests/run.rs"]
mod run;
