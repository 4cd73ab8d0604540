//! `order.*`, `payment.*` and `cart.checked_out`.

use mercato_actors::cart::state::CartEvent;
use mercato_actors::order::state::OrderEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::{rfc3339, schema_of, EventType, Mapped};

const PLACED: &str = "order.placed";
const REJECTED: &str = "order.rejected";
const CONFIRMED: &str = "order.confirmed";
const EXPIRED: &str = "order.expired";
const CANCELLED: &str = "order.cancelled";
const REFUND_REQUESTED: &str = "order.refund_requested";
const REFUND_FAILED: &str = "order.refund_failed";
const REFUNDED: &str = "order.refunded";
const SHIPPED: &str = "order.shipped";
const DELIVERED: &str = "order.delivered";
const PAYMENT_STARTED: &str = "payment.started";
const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
const PAYMENT_FAILED: &str = "payment.failed";
const CART_CHECKED_OUT: &str = "cart.checked_out";

pub const TYPES: &[EventType] = &[
    EventType {
        name: PLACED,
        summary: "A checkout placed an order (status pending).",
        data: schema_of::<OrderPlaced>,
    },
    EventType {
        name: REJECTED,
        summary: "A line was short or the coupon used up: nothing was kept.",
        data: schema_of::<OrderRejected>,
    },
    EventType {
        name: CONFIRMED,
        summary: "Paid and every line's stock committed: the order is sold.",
        data: schema_of::<OrderRef>,
    },
    EventType {
        name: EXPIRED,
        summary: "The payment window ran out; what the order held went back.",
        data: schema_of::<OrderRef>,
    },
    EventType {
        name: CANCELLED,
        summary: "The order was cancelled.",
        data: schema_of::<OrderReason>,
    },
    EventType {
        name: REFUND_REQUESTED,
        summary: "Money is owed back; the refund is under way.",
        data: schema_of::<OrderReason>,
    },
    EventType {
        name: REFUND_FAILED,
        summary: "The gateway refused or did not answer the refund; it is retried.",
        data: schema_of::<RefundFailed>,
    },
    EventType {
        name: REFUNDED,
        summary: "The refund was made.",
        data: schema_of::<OrderRef>,
    },
    EventType {
        name: SHIPPED,
        summary: "The order left the warehouse.",
        data: schema_of::<OrderShipped>,
    },
    EventType {
        name: DELIVERED,
        summary: "The order arrived.",
        data: schema_of::<OrderRef>,
    },
    EventType {
        name: PAYMENT_STARTED,
        summary: "A payment was started with the gateway.",
        data: schema_of::<PaymentStarted>,
    },
    EventType {
        name: PAYMENT_SUCCEEDED,
        summary: "The order's payment succeeded.",
        data: schema_of::<PaymentSucceeded>,
    },
    EventType {
        name: PAYMENT_FAILED,
        summary: "The order's payment failed.",
        data: schema_of::<OrderReason>,
    },
    EventType {
        name: CART_CHECKED_OUT,
        summary: "A cart was bought: it is closed, naming its order.",
        data: schema_of::<CartCheckedOut>,
    },
];

/// An order line at checkout.
#[derive(Serialize, ToSchema)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    /// Minor units.
    pub unit_price: u64,
    /// `qty × unit_price`, minor units.
    pub line_total: u64,
}

/// A postal address.
#[derive(Serialize, ToSchema)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

/// `order.placed`.
#[derive(Serialize, ToSchema)]
pub struct OrderPlaced {
    pub order_id: String,
    pub cart_id: String,
    /// The customer's account id; `null` for a guest.
    pub customer_id: Option<String>,
    pub email: String,
    pub lines: Vec<OrderLine>,
    /// Minor units.
    pub subtotal: u64,
    /// Minor units.
    pub discount: u64,
    /// What is charged, minor units.
    pub total: u64,
    /// ISO 4217.
    pub currency: String,
    pub coupon: Option<String>,
    pub shipping_address: ShippingAddress,
    /// When an unpaid order expires (RFC 3339).
    pub payment_deadline: String,
}

/// A line that could not be reserved.
#[derive(Serialize, ToSchema)]
pub struct Shortage {
    pub sku: String,
    pub requested: u64,
    pub available: u64,
}

/// `order.rejected`.
#[derive(Serialize, ToSchema)]
pub struct OrderRejected {
    pub order_id: String,
    pub shortages: Vec<Shortage>,
    /// Why the coupon was refused (`coupon_used_up`, ...), if it was.
    pub coupon_refused: Option<String>,
}

/// An event about an order that carries nothing more.
#[derive(Serialize, ToSchema)]
pub struct OrderRef {
    pub order_id: String,
}

/// An order event with a reason in words.
#[derive(Serialize, ToSchema)]
pub struct OrderReason {
    pub order_id: String,
    pub reason: String,
}

/// `order.refund_failed`.
#[derive(Serialize, ToSchema)]
pub struct RefundFailed {
    pub order_id: String,
    pub error: String,
    /// When the refund is tried again (RFC 3339).
    pub retry_at: String,
}

/// `order.shipped`.
#[derive(Serialize, ToSchema)]
pub struct OrderShipped {
    pub order_id: String,
    pub tracking: String,
}

/// `payment.started`.
#[derive(Serialize, ToSchema)]
pub struct PaymentStarted {
    pub order_id: String,
    /// `manual` or `stripe`.
    pub gateway: String,
    /// The gateway's payment id.
    pub payment_id: String,
}

/// `payment.succeeded`.
#[derive(Serialize, ToSchema)]
pub struct PaymentSucceeded {
    pub order_id: String,
    /// Set for a payment that arrived after the order gave up (it is refunded).
    pub late_payment_id: Option<String>,
}

/// `cart.checked_out`.
#[derive(Serialize, ToSchema)]
pub struct CartCheckedOut {
    pub cart_id: String,
    pub order_id: String,
}

/// Maps an event of order `id`.
pub fn order(id: &str, event: OrderEvent) -> Option<Mapped> {
    let subject = format!("orders/{id}");
    let order_id = id.to_string();
    let reason = |reason: String| OrderReason {
        order_id: id.to_string(),
        reason,
    };
    Some(match event {
        OrderEvent::Placed(placement) => {
            let p = *placement;
            let a = p.shipping_address;
            Mapped::new(
                PLACED,
                subject,
                OrderPlaced {
                    order_id,
                    cart_id: p.cart_id,
                    customer_id: p.owner,
                    email: p.email,
                    lines: p
                        .lines
                        .into_iter()
                        .map(|line| OrderLine {
                            sku: line.sku,
                            name: line.name,
                            qty: line.qty,
                            unit_price: line.unit_price,
                            line_total: line.line_total,
                        })
                        .collect(),
                    subtotal: p.subtotal,
                    discount: p.discount,
                    total: p.total,
                    currency: p.currency,
                    coupon: p.coupon,
                    shipping_address: ShippingAddress {
                        name: a.name,
                        line1: a.line1,
                        line2: a.line2,
                        city: a.city,
                        region: a.region,
                        postal_code: a.postal_code,
                        country: a.country,
                        phone: a.phone,
                    },
                    payment_deadline: rfc3339(p.payment_deadline),
                },
            )
        }
        OrderEvent::Rejected { shortages, coupon } => Mapped::new(
            REJECTED,
            subject,
            OrderRejected {
                order_id,
                shortages: shortages
                    .into_iter()
                    .map(|s| Shortage {
                        sku: s.sku,
                        requested: s.requested,
                        available: s.available,
                    })
                    .collect(),
                coupon_refused: coupon.map(|refusal| refusal.code),
            },
        ),
        OrderEvent::PaymentStarted {
            gateway, payment_id, ..
        } => Mapped::new(
            PAYMENT_STARTED,
            subject,
            PaymentStarted {
                order_id,
                gateway,
                payment_id,
            },
        ),
        OrderEvent::Paid => Mapped::new(
            PAYMENT_SUCCEEDED,
            subject,
            PaymentSucceeded {
                order_id,
                late_payment_id: None,
            },
        ),
        OrderEvent::PaymentRecorded { payment_id, .. } => Mapped::new(
            PAYMENT_SUCCEEDED,
            subject,
            PaymentSucceeded {
                order_id,
                late_payment_id: Some(payment_id),
            },
        ),
        OrderEvent::Confirmed => Mapped::new(CONFIRMED, subject, OrderRef { order_id }),
        OrderEvent::PaymentFailed { reason: why } => Mapped::new(PAYMENT_FAILED, subject, reason(why)),
        OrderEvent::Expired => Mapped::new(EXPIRED, subject, OrderRef { order_id }),
        OrderEvent::Cancelled { reason: why } => Mapped::new(CANCELLED, subject, reason(why)),
        OrderEvent::RefundRequested { reason: why, .. } => Mapped::new(REFUND_REQUESTED, subject, reason(why)),
        OrderEvent::RefundFailed { error, retry_at } => Mapped::new(
            REFUND_FAILED,
            subject,
            RefundFailed {
                order_id,
                error,
                retry_at: rfc3339(retry_at),
            },
        ),
        OrderEvent::Refunded => Mapped::new(REFUNDED, subject, OrderRef { order_id }),
        OrderEvent::Shipped { tracking } => Mapped::new(SHIPPED, subject, OrderShipped { order_id, tracking }),
        OrderEvent::Delivered => Mapped::new(DELIVERED, subject, OrderRef { order_id }),
        // The saga's own bookkeeping and staff notes stay inside.
        OrderEvent::Reserved | OrderEvent::Restocked | OrderEvent::Released | OrderEvent::Noted { .. } => return None,
    })
}

/// Maps an event of cart `id`: only its sale is published.
pub fn cart(id: &str, event: CartEvent) -> Option<Mapped> {
    match event {
        CartEvent::CheckoutEnded { order_id, sold: true } => Some(Mapped::new(
            CART_CHECKED_OUT,
            format!("carts/{id}"),
            CartCheckedOut {
                cart_id: id.to_string(),
                order_id,
            },
        )),
        _ => None,
    }
}
