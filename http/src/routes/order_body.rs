//! The JSON of an order, the checkout's answer for it, and the order token
//! that lets a guest read it.

use mercato_actors::order::state::{OrderState, OrderStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::routes::me::AddressFields;
use crate::AppState;

/// An order.
#[derive(Serialize, ToSchema)]
pub struct OrderBody {
    pub id: String,
    /// `pending`, `awaiting_payment`, `paid`, `confirmed`, `shipped`, `delivered`,
    /// `rejected`, `payment_failed`, `expired`, `cancelled`, `refund_pending`
    /// (the refund is owed and retried), `refunded`.
    pub status: &'static str,
    pub email: String,
    pub shipping_address: AddressFields,
    pub items: Vec<OrderItemBody>,
    pub subtotal: u64,
    pub discount: u64,
    pub total: u64,
    pub currency: String,
    pub coupon: Option<String>,
    pub payment: Option<PaymentBody>,
    /// Why it failed, was cancelled or refunded.
    pub reason: Option<String>,
    /// While `refund_pending`: the refund's failed attempts so far, the last
    /// gateway error, and when it is tried next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundBody>,
    pub tracking: Option<String>,
    pub placed_at: String,
    /// An unpaid order expires then.
    pub payment_deadline: String,
    /// For a guest: the token to read or cancel this order (`X-Order-Token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_token: Option<String>,
}

/// A bought line.
#[derive(Serialize, ToSchema)]
pub struct OrderItemBody {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: u64,
    pub line_total: u64,
}

/// A refund owed.
#[derive(Serialize, ToSchema)]
pub struct RefundBody {
    pub failed_attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
}

/// The payment of an order.
#[derive(Serialize, ToSchema)]
pub struct PaymentBody {
    pub gateway: String,
    pub id: String,
    /// For the front end to complete a card payment.
    pub client_secret: Option<String>,
}

/// The order token of a guest order: an HMAC of its id, so nothing is stored.
pub fn order_token(state: &AppState, order_id: &str) -> String {
    state.order_links.token(order_id)
}

pub fn order_body(state: &AppState, id: &str, order: &OrderState) -> Result<OrderBody, ApiError> {
    let placement = order.placement().ok_or_else(|| ApiError::not_found("no such order"))?;
    Ok(OrderBody {
        id: id.to_string(),
        status: order.status().map_or("pending", OrderStatus::name),
        email: placement.email.clone(),
        shipping_address: placement.shipping_address.clone().into(),
        items: placement
            .lines
            .iter()
            .map(|line| OrderItemBody {
                sku: line.sku.clone(),
                name: line.name.clone(),
                qty: line.qty,
                unit_price: line.unit_price,
                line_total: line.line_total,
            })
            .collect(),
        subtotal: placement.subtotal,
        discount: placement.discount,
        total: placement.total,
        currency: placement.currency.clone(),
        coupon: placement.coupon.clone(),
        payment: order.payment().map(|(gateway, payment_id)| PaymentBody {
            gateway: gateway.clone(),
            id: payment_id.clone(),
            client_secret: order.client_secret().map(str::to_string),
        }),
        reason: order.reason().map(str::to_string),
        refund: order
            .refund()
            .filter(|_| order.status() == Some(OrderStatus::RefundPending))
            .map(|refund| RefundBody {
                failed_attempts: refund.failures,
                last_error: refund.last_error.clone(),
                next_attempt_at: (refund.failures > 0).then(|| rfc3339(refund.retry_at)),
            }),
        tracking: order.tracking().map(str::to_string),
        placed_at: rfc3339(placement.placed_at),
        payment_deadline: rfc3339(placement.payment_deadline),
        order_token: placement.owner.is_none().then(|| order_token(state, id)),
    })
}

/// The checkout's answer for a settled (or payment-waiting) order.
pub(crate) fn checkout_answer(state: &AppState, id: &str, order: &OrderState) -> Result<(u16, String), ApiError> {
    if let Some(refusal) = order.coupon_refusal().filter(|_| order.shortages().is_empty()) {
        let body = serde_json::json!({"error": {
            "code": refusal.code,
            "message": format!("{}; nothing was reserved, the cart is open again", refusal.message),
            "order_id": id,
        }});
        return Ok((409, body.to_string()));
    }
    if order.status() == Some(OrderStatus::PaymentFailed) {
        let body = serde_json::json!({"error": {
            "code": "payment_failed",
            "message": order.reason().unwrap_or("the payment failed"),
            "order_id": id,
        }});
        return Ok((402, body.to_string()));
    }
    if order.status() == Some(OrderStatus::Rejected) {
        let lines: Vec<serde_json::Value> = order
            .shortages()
            .iter()
            .map(|short| serde_json::json!({"sku": short.sku, "requested": short.requested, "available": short.available}))
            .collect();
        let body = serde_json::json!({"error": {
            "code": "out_of_stock",
            "message": "some lines are not available in the quantity asked; nothing was reserved",
            "order_id": id,
            "lines": lines,
        }});
        return Ok((409, body.to_string()));
    }
    let body = serde_json::to_string(&order_body(state, id, order)?).expect("an order body always serializes");
    Ok((201, body))
}
