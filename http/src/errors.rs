//! The one error type of the HTTP layer and how every failure maps onto it.
//!
//! Every error is `{"error": {"code": "snake_case", "message": "...", ...details}}`
//! with the status of DESIGN §4: 400 malformed, 401 auth, 404 unknown, 409
//! conflicts, 413 too large, 415 not JSON, 422 invalid values, 503 restarting.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use mercato_actors::account::password::PasswordError;
use mercato_actors::account::{AccountError, AccountsError, RefreshError, UserError};
use mercato_actors::cart::{CartError, CartsError};
use mercato_actors::catalog::{CatalogCallError, CatalogError};
use mercato_actors::order::state::OrderError;
use mercato_actors::order::OrdersError;
use mercato_actors::promotion::state::RulesError;
use mercato_actors::promotion::PromotionsError;
use mercato_actors::runtime::ActorError;
use mercato_actors::search::SearchError;
use mercato_actors::sku::{InventoryError, StockError};
use serde_json::{json, Map, Value};

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Map<String, Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ApiError {
    /// An error with a status, a stable code and a message for people.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Adds a detail field next to `code` and `message`.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// 422 `invalid_field` naming the field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with("field", field)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 429 `rate_limited`, to retry after `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts; retry in {retry_after_secs} s"),
        )
        .with("retry_after_secs", retry_after_secs)
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The detail fields next to `code` and `message`.
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = Map::new();
        body.insert("code".into(), self.code.into());
        body.insert("message".into(), self.message.clone().into());
        body.extend(self.details.clone());
        let mut response = HttpResponse::build(self.status);
        match self.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let seconds = self
                    .details
                    .get("retry_after_secs")
                    .map_or_else(|| "1".into(), Value::to_string);
                response.insert_header((header::RETRY_AFTER, seconds));
            }
            StatusCode::UNAUTHORIZED => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(json!({ "error": body }))
    }
}

impl From<ActorError> for ApiError {
    fn from(err: ActorError) -> Self {
        let code = match &err {
            ActorError::Restarting => "actor_restarting",
            ActorError::Overloaded => "actor_overloaded",
            ActorError::Storage(_) => "storage_unavailable",
        };
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, err.to_string())
    }
}

impl From<AccountsError> for ApiError {
    fn from(err: AccountsError) -> Self {
        let message = err.to_string();
        match err {
            AccountsError::Invalid(AccountError::InvalidEmail(_)) => ApiError::invalid_field("email", message),
            AccountsError::Invalid(AccountError::WeakPassword) => ApiError::invalid_field("password", message),
            AccountsError::EmailTaken => ApiError::new(StatusCode::CONFLICT, "email_taken", message),
            AccountsError::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
            }
            AccountsError::WrongPassword => ApiError::new(StatusCode::FORBIDDEN, "wrong_password", message),
            AccountsError::User(UserError::Invalid(field)) => ApiError::invalid_field(field.field, field.message),
            AccountsError::User(UserError::NotFound | UserError::AddressNotFound(_)) => ApiError::not_found(message),
            AccountsError::User(UserError::AlreadyRegistered) => {
                ApiError::new(StatusCode::CONFLICT, "already_registered", message)
            }
            AccountsError::User(UserError::TooManyAddresses) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many_addresses", message)
            }
            AccountsError::Refresh(RefreshError::Invalid) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_refresh_token", message)
            }
            AccountsError::Refresh(RefreshError::Reused) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "refresh_token_reused", message)
            }
            AccountsError::Password(PasswordError::Busy) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
            }
            AccountsError::Password(err) => {
                tracing::error!(error = %err, "password hashing failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "password hashing failed")
            }
            AccountsError::Actor(err) => err.into(),
        }
    }
}

impl From<CartsError> for ApiError {
    fn from(err: CartsError) -> Self {
        let message = err.to_string();
        match err {
            CartsError::Cart(err) => err.into(),
            CartsError::UnknownSku(sku) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku", message).with("sku", sku)
            }
            CartsError::Unavailable(sku) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "product_unavailable", message).with("sku", sku)
            }
            CartsError::Actor(err) => err.into(),
        }
    }
}

impl From<CartError> for ApiError {
    fn from(err: CartError) -> Self {
        let message = err.to_string();
        match err {
            CartError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "cart_not_found", message),
            CartError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "cart_forbidden", message),
            CartError::Closed => ApiError::new(StatusCode::CONFLICT, "cart_closed", message),
            CartError::CheckedOut { order_id } => {
                ApiError::new(StatusCode::CONFLICT, "cart_checked_out", message).with("order_id", order_id)
            }
            CartError::VersionMismatch { current } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "version_mismatch", message).with("version", current)
            }
            CartError::QtyOutOfRange => ApiError::invalid_field("qty", message),
            CartError::LineFull { in_cart } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "line_full", message)
                .with("in_cart", in_cart)
                .with("max", mercato_actors::cart::state::MAX_QTY),
            CartError::TooManyLines => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many_lines", message),
            CartError::LineNotFound(sku) => {
                ApiError::new(StatusCode::NOT_FOUND, "line_not_found", message).with("sku", sku)
            }
            CartError::CurrencyMismatch { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "currency_mismatch", message)
            }
            CartError::Coupon(err) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, err.code(), message),
        }
    }
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        let message = err.to_string();
        match err {
            OrdersError::Order(OrderError::NotFound) => {
                ApiError::new(StatusCode::NOT_FOUND, "order_not_found", message)
            }
            OrdersError::Order(OrderError::InvalidTransition { from, to }) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", message)
                    .with("from", from)
                    .with("to", to)
            }
            OrdersError::Cart(err) => err.into(),
            OrdersError::EmptyCart => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "cart_empty", message),
            OrdersError::CouponNotApplicable { code, .. } => {
                ApiError::new(StatusCode::CONFLICT, "coupon_not_applicable", message).with("coupon", code)
            }
            OrdersError::Actor(err) => err.into(),
            err @ (OrdersError::Stock { .. }
            | OrdersError::Gateway { .. }
            | OrdersError::Coupon { .. }
            | OrdersError::Account { .. }
            | OrdersError::MissingPayment(_)) => {
                let detail = mercato_actors::order::errors::error_chain(&err);
                tracing::warn!(error = %detail, "order step failed; the sweeper will retry");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "checkout_unavailable", message)
            }
        }
    }
}

impl From<PromotionsError> for ApiError {
    fn from(err: PromotionsError) -> Self {
        let message = err.to_string();
        match err {
            PromotionsError::Rules(RulesError::CodeTaken(code)) => {
                ApiError::new(StatusCode::CONFLICT, "coupon_code_taken", message).with("coupon", code)
            }
            PromotionsError::Rules(RulesError::CouponNotFound(_) | RulesError::PromotionNotFound(_)) => {
                ApiError::not_found(message)
            }
            PromotionsError::Rules(RulesError::Invalid { field, .. }) => ApiError::invalid_field(field, message),
            PromotionsError::Rules(RulesError::Claim(refusal)) => {
                ApiError::new(StatusCode::CONFLICT, refusal.code(), message)
            }
            PromotionsError::Actor(err) => err.into(),
        }
    }
}

impl From<StockError> for ApiError {
    fn from(err: StockError) -> Self {
        let message = err.to_string();
        match err {
            StockError::OutOfStock { requested, available } => {
                ApiError::new(StatusCode::CONFLICT, "out_of_stock", message)
                    .with("requested", requested)
                    .with("available", available)
            }
            StockError::BelowReserved { reserved, .. } => {
                ApiError::new(StatusCode::CONFLICT, "below_reserved", message).with("reserved", reserved)
            }
            StockError::OnHandOutOfRange { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "on_hand_out_of_range", message)
            }
            StockError::ReservationNotFound { reservation_id } => {
                ApiError::new(StatusCode::NOT_FOUND, "reservation_not_found", message)
                    .with("reservation_id", reservation_id)
            }
            StockError::ReservationConflict {
                reservation_id,
                existing_qty,
            } => ApiError::new(StatusCode::CONFLICT, "reservation_conflict", message)
                .with("reservation_id", reservation_id)
                .with("existing_qty", existing_qty),
            StockError::AlreadyCommitted { reservation_id } => {
                ApiError::new(StatusCode::CONFLICT, "reservation_committed", message)
                    .with("reservation_id", reservation_id)
            }
            StockError::ReturnExceedsSold { sold, .. } => {
                ApiError::new(StatusCode::CONFLICT, "return_exceeds_sold", message).with("sold", sold)
            }
        }
    }
}

impl From<InventoryError> for ApiError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Stock(err) => err.into(),
            InventoryError::Actor(err) => err.into(),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        let message = err.to_string();
        match err {
            CatalogError::CategoryNotFound(id) => {
                ApiError::new(StatusCode::NOT_FOUND, "category_not_found", message).with("category", id)
            }
            CatalogError::ProductNotFound(id) => {
                ApiError::new(StatusCode::NOT_FOUND, "product_not_found", message).with("product_id", id)
            }
            CatalogError::DuplicateName(name) => {
                ApiError::new(StatusCode::CONFLICT, "category_name_taken", message).with("name", name)
            }
            CatalogError::DuplicateSlug(slug) => {
                ApiError::new(StatusCode::CONFLICT, "slug_taken", message).with("slug", slug)
            }
            CatalogError::DuplicateSku { sku, product_id } => ApiError::new(StatusCode::CONFLICT, "sku_taken", message)
                .with("sku", sku)
                .with("product_id", product_id),
            CatalogError::Cycle { .. } => ApiError::new(StatusCode::CONFLICT, "category_cycle", message),
            CatalogError::NotEmpty { children, products, .. } => {
                ApiError::new(StatusCode::CONFLICT, "category_not_empty", message)
                    .with("children", children)
                    .with("products", products)
            }
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(err: SearchError) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "search_unavailable", err.to_string())
    }
}

impl From<CatalogCallError> for ApiError {
    fn from(err: CatalogCallError) -> Self {
        match err {
            CatalogCallError::Catalog(err) => err.into(),
            CatalogCallError::Actor(err) => err.into(),
            CatalogCallError::Search(err) => err.into(),
        }
    }
}

/// Maps a JSON body that could not be read (see `JsonConfig::error_handler`).
pub fn json_body_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { length, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body of {length} bytes is over the {limit}-byte limit"),
        ),
        E::Overflow { limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body is over the {limit}-byte limit"),
        ),
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        E::Deserialize(err) if err.is_data() => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", err.to_string())
        }
        E::Deserialize(err) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", err.to_string()),
        other => ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", other.to_string()),
    }
}

/// Maps a query string that could not be read.
pub fn query_error(err: actix_web::error::QueryPayloadError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", err.to_string())
}
