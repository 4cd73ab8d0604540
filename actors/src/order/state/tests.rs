//! The order state machine's transitions.

use super::*;

fn placed() -> OrderState {
    let mut order = OrderState::default();
    order.apply(&OrderEvent::Placed(Box::new(Placement {
        email: "a@b.co".into(),
        payment_deadline: 10,
        ..Placement::example(0, "EUR", &[])
    })));
    order
}

/// The manual gateway's payment `p` started.
fn started() -> OrderEvent {
    OrderEvent::PaymentStarted {
        gateway: "manual".into(),
        payment_id: "p".into(),
        client_secret: None,
    }
}

fn run(order: &mut OrderState, events: &[OrderEvent]) {
    for event in events {
        order.transition(event).expect("allowed");
        order.apply(event);
    }
}

#[test]
fn the_happy_path_runs_to_delivered() {
    let mut order = placed();
    run(
        &mut order,
        &[
            started(),
            OrderEvent::Paid,
            OrderEvent::Confirmed,
            OrderEvent::Shipped { tracking: "T1".into() },
            OrderEvent::Delivered,
        ],
    );
    assert_eq!(order.status(), Some(OrderStatus::Delivered));
    assert_eq!(order.tracking(), Some("T1"));
}

#[test]
fn illegal_transitions_are_refused() {
    let mut order = placed();
    assert_eq!(
        order.transition(&OrderEvent::Shipped { tracking: "T".into() }),
        Err(OrderError::InvalidTransition {
            from: "pending",
            to: "shipped"
        })
    );
    run(
        &mut order,
        &[OrderEvent::Rejected {
            shortages: vec![],
            coupon: None,
        }],
    );
    for event in [
        OrderEvent::Paid,
        OrderEvent::Cancelled { reason: "x".into() },
        OrderEvent::Expired,
    ] {
        assert!(order.transition(&event).is_err(), "{event:?} after rejected");
    }
    assert_eq!(
        OrderState::default().transition(&OrderEvent::Paid),
        Err(OrderError::NotFound)
    );
}

#[test]
fn a_refund_is_requested_restocked_retried_and_made() {
    let mut order = placed();
    run(
        &mut order,
        &[
            OrderEvent::Reserved,
            started(),
            OrderEvent::Paid,
            OrderEvent::Confirmed,
            OrderEvent::RefundRequested {
                reason: "changed my mind".into(),
                restock: vec![0],
            },
        ],
    );
    assert_eq!(order.status(), Some(OrderStatus::RefundPending));
    assert!(!order.refund().expect("requested").restocked);
    run(
        &mut order,
        &[
            OrderEvent::Restocked,
            OrderEvent::RefundFailed {
                error: "gateway down".into(),
                retry_at: 99,
            },
        ],
    );
    let refund = order.refund().expect("requested");
    assert_eq!((refund.restocked, refund.failures, refund.retry_at), (true, 1, 99));
    assert_eq!(order.status(), Some(OrderStatus::RefundPending));
    run(&mut order, &[OrderEvent::Refunded, OrderEvent::Released]);
    assert_eq!(order.status(), Some(OrderStatus::Refunded));
    assert!(order.released());
    assert!(
        order.transition(&OrderEvent::Released).is_ok(),
        "releasing twice is allowed (it changes nothing)"
    );
}

#[test]
fn release_is_only_for_orders_that_did_not_sell() {
    let mut order = placed();
    assert!(order.transition(&OrderEvent::Released).is_err(), "pending");
    run(&mut order, &[OrderEvent::Expired]);
    assert!(order.transition(&OrderEvent::Released).is_ok(), "expired");
    assert!(order.transition(&OrderEvent::Restocked).is_err(), "no refund is owed");
}

#[test]
fn refund_retries_back_off_up_to_an_hour() {
    assert_eq!(refund_retry_at(1_000, 0, 5_000), 6_000);
    assert_eq!(refund_retry_at(1_000, 1, 5_000), 11_000);
    assert_eq!(refund_retry_at(0, 40, 5_000), REFUND_RETRY_MAX_MS);
}

fn context(now: UnixMillis) -> crate::order::step::StepContext {
    crate::order::step::StepContext {
        now,
        reconcile_after_ms: 60_000,
        gateway_answers_at_once: false,
        retry_refund_now: false,
    }
}

fn with_lines(skus: &[&str]) -> OrderState {
    let mut order = placed();
    let mut placement = order.placement().expect("placed").clone();
    placement.lines = (skus.iter())
        .map(|sku| OrderLine {
            sku: sku.to_string(),
            name: "thing".into(),
            qty: 1,
            unit_price: 100,
            line_total: 100,
        })
        .collect();
    placement.payment_deadline = 1_000;
    order.placement = Some(std::sync::Arc::new(placement));
    order
}

#[test]
fn a_resumed_order_whose_gateway_answers_at_once_is_checked_at_once() {
    use crate::order::step::Step;
    let mut order = with_lines(&["A"]);
    run(&mut order, &[OrderEvent::Reserved, started()]);
    assert_eq!(
        order.next_step(&context(10)),
        Step::Wait(1_000),
        "an asynchronous gateway is waited for"
    );
    let at_once = crate::order::step::StepContext {
        gateway_answers_at_once: true,
        ..context(10)
    };
    assert_eq!(
        order.next_step(&at_once),
        Step::CheckPayment,
        "no reconcile_after for an immediate gateway"
    );
    assert_eq!(
        order.next_step(&context(1_000)),
        Step::ExpireUnlessPaid,
        "a last word from the gateway first"
    );
}

#[test]
fn release_skips_short_lines_and_lines_a_refund_restocked() {
    use crate::order::step::Step;
    let mut rejected = with_lines(&["A", "B", "C"]);
    let short = Shortage {
        sku: "B".into(),
        requested: 1,
        available: 0,
    };
    run(
        &mut rejected,
        &[OrderEvent::Rejected {
            shortages: vec![short],
            coupon: None,
        }],
    );
    assert_eq!(rejected.next_step(&context(10)), Step::Release(vec![0, 2]));

    let mut refunded = with_lines(&["A", "B"]);
    run(
        &mut refunded,
        &[
            OrderEvent::Reserved,
            started(),
            OrderEvent::Paid,
            OrderEvent::RefundRequested {
                reason: "stock ran out".into(),
                restock: vec![0],
            },
        ],
    );
    assert_eq!(refunded.next_step(&context(10)), Step::Restock(vec![0]));
    run(&mut refunded, &[OrderEvent::Restocked]);
    assert_eq!(refunded.next_step(&context(10)), Step::Refund);
    run(
        &mut refunded,
        &[OrderEvent::RefundFailed {
            error: "down".into(),
            retry_at: 500,
        }],
    );
    assert_eq!(refunded.next_step(&context(10)), Step::Wait(500), "backs off");
    let asked_again = crate::order::step::StepContext {
        retry_refund_now: true,
        ..context(10)
    };
    assert_eq!(refunded.next_step(&asked_again), Step::Refund, "unless asked again");
    run(&mut refunded, &[OrderEvent::Refunded]);
    assert_eq!(
        refunded.next_step(&context(10)),
        Step::Release(vec![1]),
        "the restocked line is not released"
    );
    run(&mut refunded, &[OrderEvent::Released]);
    assert_eq!(refunded.next_step(&context(10)), Step::Done);
}

/// Whether some time, gateway or retry leaves a step for `order` to take.
fn any_step_left(order: &OrderState) -> bool {
    let times = [0, 5, 10, 61_000, u64::MAX / 2];
    times.iter().any(|&now| {
        [false, true].iter().any(|&at_once| {
            let context = crate::order::step::StepContext {
                gateway_answers_at_once: at_once,
                retry_refund_now: at_once,
                ..context(now)
            };
            order.next_step(&context) != crate::order::step::Step::Done
        })
    })
}

#[test]
fn the_saga_is_over_exactly_when_no_time_or_gateway_leaves_a_step() {
    let sold = [
        started(),
        OrderEvent::Paid,
        OrderEvent::Confirmed,
        OrderEvent::Shipped { tracking: "T".into() },
    ];
    let unsold = [OrderEvent::Expired, OrderEvent::Released];
    for path in [&sold[..], &unsold[..]] {
        let mut order = placed();
        let mut over = vec![order.saga_over()];
        for event in path {
            run(&mut order, std::slice::from_ref(event));
            over.push(order.saga_over());
            assert_eq!(order.saga_over(), !any_step_left(&order), "after {event:?}");
        }
        assert!(!over[0] && over[over.len() - 1], "{over:?}");
    }
    assert!(OrderState::default().saga_over(), "never placed: nothing to do");
}
