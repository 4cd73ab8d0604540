//! The cart actor: runs [`CartState`] on the entity runtime.
//!
//! Accepts [`CartCommand`]s; persists [`CartEvent`]s; talks to nobody. Each
//! command brings the current discount rules and stock figures, which the cart
//! keeps (not persisted) to price the view it publishes after every change —
//! the view WebSocket clients are pushed.

use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::messages::{CartCommand, CartOp, CartReply, CartView};
use super::pricing::{price, Warning};
use super::state::{CartError, CartEvent, CartState, CartStatus};
use crate::promotion::state::PricingRules;
use crate::runtime::{now_millis, Entity, UnixMillis};

/// A cart entity: its persisted state and what it was last told of the world.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cart {
    /// Persisted.
    state: CartState,
    /// Rules of the latest command.
    #[serde(skip)]
    rules: Arc<PricingRules>,
    /// Latest stock figures by SKU: (available, listed).
    #[serde(skip)]
    stock: FxHashMap<String, (u64, bool)>,
    /// The view last published; kept while nothing visible changes, so that
    /// subscribers can skip a republished view by pointer.
    #[serde(skip)]
    last_view: Option<Arc<CartView>>,
}

impl Cart {
    fn decide(&self, command: &CartCommand) -> Result<Option<CartEvent>, CartError> {
        let caller = command.caller.as_deref();
        let writer = || self.state.check_writer(caller, command.if_match);
        Ok(match &command.op {
            CartOp::Create { owner } => self.state.create(owner.clone())?,
            CartOp::Get => {
                self.state.check_reader(caller)?;
                None
            }
            CartOp::Add(line) => {
                writer()?;
                Some(self.state.add(line.clone())?)
            }
            CartOp::SetQty { sku, qty } => {
                writer()?;
                Some(self.state.set_qty(sku, *qty)?)
            }
            CartOp::Remove { sku } => {
                writer()?;
                Some(self.state.remove(sku)?)
            }
            CartOp::ApplyCoupon { code } => {
                writer()?;
                let coupon = self
                    .rules
                    .coupons
                    .get(code)
                    .ok_or(super::pricing::CouponError::Unknown)?;
                super::pricing::check_coupon(coupon, self.state.lines(), self.state.owner(), now_millis())?;
                Some(CartEvent::CouponApplied { code: code.clone() })
            }
            CartOp::RemoveCoupon => {
                writer()?;
                self.state.coupon().map(|_| CartEvent::CouponRemoved)
            }
            CartOp::Reprice {
                sku,
                name,
                unit_price,
                currency,
            } => {
                if !self.state.created() {
                    return Err(CartError::NotFound);
                }
                self.state.reprice(sku, name, *unit_price, currency)
            }
            CartOp::Merge { from, lines } => {
                writer()?;
                self.state.merge(from, lines)
            }
            CartOp::Close { into } => {
                writer()?;
                Some(CartEvent::Closed { into: into.clone() })
            }
            CartOp::BeginCheckout { order_id } => self.state.begin_checkout(caller, order_id)?,
            CartOp::EndCheckout { order_id, sold } => {
                if !self.state.created() {
                    return Err(CartError::NotFound);
                }
                self.state.end_checkout(order_id, *sold)
            }
        })
    }

    fn priced(&self) -> CartView {
        let lines = self.state.lines();
        let (totals, coupon_error) = price(
            lines,
            self.state.coupon(),
            self.state.owner(),
            &self.rules,
            now_millis(),
        );
        let mut warnings = Vec::new();
        for line in lines {
            match self.stock.get(&line.sku) {
                Some((_, false)) => warnings.push(Warning {
                    code: "unavailable",
                    sku: Some(line.sku.clone()),
                    message: "this product is no longer sold".to_string(),
                }),
                Some((available, true)) if u64::from(line.qty) > *available => warnings.push(Warning {
                    code: "insufficient_stock",
                    sku: Some(line.sku.clone()),
                    message: format!("only {available} available"),
                }),
                _ => {}
            }
        }
        if let Some(err) = coupon_error {
            warnings.push(Warning {
                code: "coupon_not_applicable",
                sku: None,
                message: err.to_string(),
            });
        }
        CartView {
            owner: self.state.owner().map(str::to_string),
            version: self.state.version(),
            lines: lines.to_vec(),
            totals,
            currency: self.state.currency().map(str::to_string),
            coupon: self.state.coupon().map(str::to_string),
            warnings,
            status: self.state.status().clone(),
            priced_at: std::time::Instant::now(),
            json: OnceLock::new(),
        }
    }
}

impl Entity for Cart {
    const KIND: &'static str = "cart";
    type Event = CartEvent;
    type Command = CartCommand;
    type Reply = CartReply;
    /// The priced cart; `None` until created.
    type View = Option<Arc<CartView>>;

    fn new(_id: &str) -> Self {
        Cart::default()
    }

    fn apply(&mut self, event: &CartEvent) {
        self.state.apply(event);
    }

    fn handle(&mut self, command: CartCommand, _now: UnixMillis, events: &mut Vec<CartEvent>) -> CartReply {
        self.rules = Arc::clone(&command.rules);
        for (sku, available, listed) in &command.stock {
            self.stock.insert(sku.clone(), (*available, *listed));
        }
        if let Some(event) = self.decide(&command)? {
            self.state.apply(&event);
            events.push(event);
        }
        self.stock
            .retain(|sku, _| self.state.lines().iter().any(|line| &line.sku == sku));
        let view = self.priced();
        match &self.last_view {
            Some(last) if last.same_as(&view) => {}
            _ => self.last_view = Some(Arc::new(view)),
        }
        Ok(Arc::clone(self.last_view.as_ref().expect("set just above")))
    }

    fn settle(&mut self, _now: UnixMillis, _events: &mut Vec<CartEvent>) {}

    fn next_deadline(&self) -> Option<UnixMillis> {
        None
    }

    const SETTLES: bool = true;

    /// Bought or merged: read-only for good.
    fn settled(&self) -> bool {
        matches!(
            self.state.status(),
            CartStatus::CheckedOut { .. } | CartStatus::Merged { .. }
        )
    }

    fn view(&self) -> Option<Arc<CartView>> {
        if !self.state.created() {
            return None;
        }
        Some(self.last_view.clone().unwrap_or_else(|| Arc::new(self.priced())))
    }

    const EVENTS_SHOWN: bool = true;

    fn describe(event: &CartEvent) -> String {
        format!("{event:?}")
    }
}
