//! Why an order call failed.

use super::state::OrderError;
use crate::account::AccountsError;
use crate::cart::CartsError;
use crate::payment::PaymentError;
use crate::promotion::PromotionsError;
use crate::runtime::ActorError;
use crate::sku::InventoryError;

/// Why an order call failed. The saga's own steps are all idempotent, so for
/// every failure but a refusal the sweeper resumes the order later.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OrdersError {
    /// The order refused.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// The cart refused (not found, someone else's, checked out).
    #[error(transparent)]
    Cart(#[from] CartsError),
    /// Nothing to check out.
    #[error("the cart is empty")]
    EmptyCart,
    /// The cart's coupon no longer takes anything off; nothing was placed.
    #[error("coupon {code}: {reason}; remove it or apply another, then check out again")]
    CouponNotApplicable { code: String, reason: String },
    /// An entity could not answer.
    #[error(transparent)]
    Actor(#[from] ActorError),
    /// A SKU could not answer or refused a step it should not refuse.
    #[error("order {order}: stock of {sku} not reached")]
    Stock {
        order: String,
        sku: String,
        #[source]
        source: InventoryError,
    },
    /// The gateway could not start or check the payment.
    #[error("order {order}: the payment gateway failed")]
    Gateway {
        order: String,
        #[source]
        source: PaymentError,
    },
    /// The coupon's use could not be claimed or given back.
    #[error("order {order}: the coupon's use not recorded")]
    Coupon {
        order: String,
        #[source]
        source: PromotionsError,
    },
    /// The customer's account could not be updated.
    #[error("order {order}: the customer's account not updated")]
    Account {
        order: String,
        #[source]
        source: AccountsError,
    },
    /// The order owes or made a payment the record does not name.
    #[error("order {0} has no payment id")]
    MissingPayment(String),
}

/// An error and its sources, joined by `": "` (for records and logs).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
