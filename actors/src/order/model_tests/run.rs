//! Scenarios for the model world: generation, the rounds they run in, and the
//! invariants checked afterwards.

use super::*;

fn checkout() -> impl Strategy<Value = Checkout> {
    let pay = prop_oneof![
        3 => Just(Pay::AtOnce),
        1 => Just(Pay::Refused),
        2 => (0u64..150, any::<bool>()).prop_map(|(after, succeeds)| Pay::Later { after, succeeds }),
        1 => Just(Pay::Never),
    ];
    (
        prop::collection::vec((0..SKUS, 1u32..4), 1..4),
        any::<bool>(),
        pay,
        0u32..4,
        0u64..10,
        prop::option::weighted(0.3, 0u64..40),
    )
        .prop_map(|(lines, coupon, pay, refund_refusals, at_round, cancel_round)| {
            let mut seen = BTreeSet::new();
            let lines = lines.into_iter().filter(|(sku, _)| seen.insert(*sku)).collect();
            Checkout {
                lines,
                coupon,
                pay,
                refund_refusals,
                at_round,
                cancel_round,
            }
        })
}

/// One scenario: whether payments move money, stock, checkouts, operator
/// adjustments `(round, sku, delta)`, and where calls are cut.
type Scenario = (bool, Vec<u64>, Vec<Checkout>, Vec<(u64, usize, i64)>, Vec<bool>);

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::bool::weighted(0.7),
        prop::collection::vec(0u64..8, SKUS),
        prop::collection::vec(checkout(), 1..7),
        prop::collection::vec((0u64..40, 0..SKUS, -2i64..5), 0..4),
        prop::collection::vec(prop::bool::weighted(0.12), 0..400),
    )
}

impl World {
    pub(super) fn payment_status(&self, id: &str) -> PaymentStatus {
        let now = self.now.get();
        let mut payments = self.payments.borrow_mut();
        let Some(payment) = payments.get_mut(id) else {
            return PaymentStatus::Pending;
        };
        match self.scripts[id].pay {
            Pay::AtOnce => PaymentStatus::Succeeded,
            Pay::Refused => PaymentStatus::Failed("declined".into()),
            Pay::Later { after, succeeds } if now >= payment.started_at + after => match succeeds {
                true => {
                    payment.charged = true;
                    PaymentStatus::Succeeded
                }
                false => PaymentStatus::Failed("declined".into()),
            },
            Pay::Later { .. } | Pay::Never => PaymentStatus::Pending,
        }
    }

    fn new(moves_money: bool, stock: &[u64], mut checkouts: Vec<Checkout>, cuts: Vec<bool>) -> Self {
        if moves_money {
            for checkout in &mut checkouts {
                if let Pay::AtOnce = checkout.pay {
                    checkout.pay = Pay::Later {
                        after: 0,
                        succeeds: true,
                    };
                }
            }
        }
        let world = World {
            moves_money,
            cuts: RefCell::new(cuts.into()),
            scripts: (0..checkouts.len()).map(|n| format!("o{n}")).zip(checkouts).collect(),
            ..World::default()
        };
        world.now.set(1);
        world
            .skus
            .borrow_mut()
            .extend(stock.iter().map(|_| SkuStock::default()));
        for (index, on_hand) in stock.iter().enumerate() {
            world
                .sku(index, SkuCommand::SetOnHand { on_hand: *on_hand })
                .expect("stock set");
        }
        let coupon = Coupon {
            code: COUPON.into(),
            amount: Amount::Percent(50),
            scope: Scope::Cart,
            min_subtotal: 0,
            window: Window::default(),
            max_uses: Some(COUPON_USES),
            max_uses_per_customer: None,
            uses: 0,
            uses_by_customer: BTreeMap::new(),
        };
        world.rules(RulesCommand::CreateCoupon(coupon)).expect("coupon created");
        world
    }

    /// The checkout front door's part: list, freeze the cart, place; answers
    /// the listing's generation.
    fn place(&self, id: &str) -> Result<u64, OrdersError> {
        let script = &self.scripts[id];
        let mut cart = CartState::default();
        cart.apply(&CartEvent::Created { owner: None });
        self.carts.borrow_mut().entry(id.to_string()).or_insert(cart);
        let listing = self.relist(id).now_or_never().expect("ready")?;
        self.cut_here()?;
        let mut carts = self.carts.borrow_mut();
        let cart = carts.get_mut(id).expect("created");
        if let Some(event) = cart.begin_checkout(None, id).expect("the cart is open") {
            cart.apply(&event);
        }
        drop(carts);
        self.cut_here()?;
        let subtotal: u64 = script.lines.iter().map(|(_, qty)| u64::from(*qty) * PRICE).sum();
        let discount = if script.coupon { subtotal / 2 } else { 0 };
        let now = self.now.get();
        let placement = Placement {
            cart_id: id.to_string(),
            owner: None,
            email: "m@example.com".into(),
            shipping_address: crate::account::address::example_in("Berlin"),
            lines: (script.lines.iter())
                .map(|(sku, qty)| OrderLine {
                    sku: format!("S{sku}"),
                    name: "thing".into(),
                    qty: *qty,
                    unit_price: PRICE,
                    line_total: u64::from(*qty) * PRICE,
                })
                .collect(),
            subtotal,
            discount,
            total: subtotal - discount,
            currency: "EUR".into(),
            coupon: script.coupon.then(|| COUPON.to_string()),
            fingerprint: [0; 32],
            placed_at: now,
            payment_deadline: now + WINDOW,
        };
        self.order(id, OrderCommand::Place(Box::new(placement)))?;
        self.cut_here()?;
        Ok(listing)
    }

    fn drive(&self, id: &str, retry_refund_now: bool, listing: Option<u64>) {
        match drive(self, id, retry_refund_now, listing)
            .now_or_never()
            .expect("the model never waits")
        {
            Ok(_) => {}
            Err(OrdersError::Order(OrderError::NotFound)) => {
                if let Some(generation) = listing {
                    self.close_listing(id, generation)
                }
            }
            Err(OrdersError::Actor(ActorError::Restarting)) => {}
            Err(err) => panic!("order {id}: {err}"),
        }
    }

    /// The webhooks due: each settled later payment is told to its order.
    fn deliver_webhooks(&self) {
        for id in self.scripts.keys() {
            if !matches!(self.scripts[id].pay, Pay::Later { .. }) || !self.payments.borrow().contains_key(id) {
                continue;
            }
            let status = self.payment_status(id);
            if status == PaymentStatus::Pending {
                continue;
            }
            let noted = note_payment(self, id, &format!("pay_{id}"), status)
                .now_or_never()
                .expect("ready");
            if let Ok((super::super::PaymentEventOutcome::Applied, listing)) = noted {
                self.drive(id, false, listing);
            }
        }
    }

    fn run(&self, adjustments: &[(u64, usize, i64)]) -> Vec<i128> {
        let mut received: Vec<i128> = self
            .skus
            .borrow()
            .iter()
            .map(|s| i128::from(s.level().on_hand))
            .collect();
        for round in 0..80 {
            self.now.set(self.now.get() + 7);
            for (_, sku, delta) in adjustments.iter().filter(|(at, ..)| *at == round) {
                let adjust = SkuCommand::Adjust {
                    delta: *delta,
                    reason: "count".into(),
                };
                if self.sku(*sku, adjust).is_ok() {
                    received[*sku] += i128::from(*delta);
                }
            }
            for (id, script) in &self.scripts {
                if script.at_round == round {
                    if let Ok(listing) = self.place(id) {
                        self.drive(id, false, Some(listing));
                    }
                }
                if script.cancel_round == Some(round) {
                    let cancelled = super::super::operator::request_cancel(self, id, "changed my mind", None);
                    if let Ok(listing) = cancelled.now_or_never().expect("ready") {
                        self.drive(id, true, Some(listing));
                    }
                }
            }
            self.deliver_webhooks();
            // The spawned finishes run late: after webhooks and cancels that
            // may have listed their orders again.
            self.run_finishing();
            let open: Vec<(String, u64)> = self.open.borrow().iter().map(|(id, g)| (id.clone(), *g)).collect();
            for (id, generation) in open {
                self.drive(&id, false, Some(generation));
            }
        }
        self.run_finishing();
        received
    }

    fn check(&self, received: &[i128]) {
        let orders = self.orders.borrow();
        let sold_orders = |id: &String| {
            orders
                .get(id)
                .is_some_and(|o| o.status() == Some(OrderStatus::Confirmed))
        };
        let context = self.step_context(false);
        for (id, order) in orders.iter() {
            assert_eq!(
                order.next_step(&context),
                Step::Done,
                "order {id} is settled: {order:?}"
            );
            let payments = self.payments.borrow();
            let (charged, refunded) = payments
                .get(id)
                .map_or((0, 0), |p| (if p.charged { p.amount } else { 0 }, p.refunded));
            let kept = if sold_orders(id) {
                order.placement().expect("placed").total
            } else {
                0
            };
            if self.moves_money {
                assert_eq!(
                    charged,
                    refunded + kept,
                    "order {id}: charged = refunded + kept ({order:?})"
                );
            }
            assert!(refunded <= charged, "order {id}: never refunded more than charged");
            let cart = &self.carts.borrow()[id];
            let closed = matches!(cart.status(), CartStatus::CheckedOut { .. });
            assert_eq!(closed, sold_orders(id), "order {id}: its cart is closed iff it sold");
        }
        for (index, stock) in self.skus.borrow().iter().enumerate() {
            let level = stock.level();
            let sku = format!("S{index}");
            let sold: u64 = (orders.iter())
                .filter(|(id, _)| sold_orders(id))
                .flat_map(|(_, order)| order.placement().expect("placed").lines.iter())
                .filter(|line| line.sku == sku)
                .map(|line| u64::from(line.qty))
                .sum();
            assert_eq!(
                i128::from(level.on_hand + level.sold),
                received[index],
                "{sku}: units conserved"
            );
            assert_eq!(level.sold, sold, "{sku}: sold = units of sold orders");
            assert_eq!(level.reserved, 0, "{sku}: nothing held once everything settled");
        }
        let rules = self.rules(RulesCommand::Get).expect("rules");
        let with_coupon = (orders.iter())
            .filter(|(id, order)| sold_orders(id) && order.placement().is_some_and(|p| p.coupon.is_some()))
            .count() as u64;
        assert_eq!(
            rules.coupons[COUPON].uses, with_coupon,
            "coupon uses = sold orders with it"
        );
        assert!(with_coupon <= COUPON_USES);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn units_and_money_add_up_after_crashes_anywhere((moves_money, stock, checkouts, adjustments, cuts) in scenario()) {
        let world = World::new(moves_money, &stock, checkouts, cuts);
        let received = world.run(&adjustments);
        world.check(&received);
    }
}

#[test]
fn without_crashes_paid_orders_with_stock_confirm() {
    let paid = |lines: Vec<(usize, u32)>, at_round| Checkout {
        lines,
        coupon: true,
        pay: Pay::AtOnce,
        refund_refusals: 0,
        at_round,
        cancel_round: None,
    };
    let checkouts = vec![
        paid(vec![(0, 2), (1, 1)], 0),
        paid(vec![(0, 1)], 1),
        paid(vec![(2, 1)], 2),
    ];
    let world = World::new(true, &[3, 1, 1], checkouts, Vec::new());
    let received = world.run(&[]);
    world.check(&received);
    let statuses: Vec<_> = world.orders.borrow().values().map(OrderState::status).collect();
    assert_eq!(
        statuses,
        vec![
            Some(OrderStatus::Confirmed),
            Some(OrderStatus::Confirmed),
            Some(OrderStatus::Rejected)
        ],
        "the first two fit the stock; the third finds the coupon used up"
    );
}
