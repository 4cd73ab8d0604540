//! Admin routes over discount rules: coupons (with a code), and the list of
//! every rule with the promotions of [`super::promotions`]. Changes apply to
//! every cart priced afterwards.

use std::collections::BTreeSet;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use mercato_actors::promotion::state::{normalize_code, Amount, Coupon, PricingRules, Scope, Window};
use mercato_actors::promotion::{CouponPatch, PromotionsError, RulesCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::promotions::PromotionBody;
use crate::auth::Admin;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::patch::present;
use crate::AppState;

/// What a discount applies to: all lines, or lines of these categories (and
/// below) or SKUs. Give at most one of the lists.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ScopeBody {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
}

impl ScopeBody {
    fn into_scope(self) -> Result<Scope, ApiError> {
        match (self.categories.is_empty(), self.skus.is_empty()) {
            (true, true) => Ok(Scope::Cart),
            (false, true) => Ok(Scope::Categories(self.categories.into_iter().collect())),
            (true, false) => Ok(Scope::Skus(self.skus.into_iter().collect::<BTreeSet<_>>())),
            (false, false) => Err(ApiError::invalid_field("scope", "give categories or skus, not both")),
        }
    }

    fn of(scope: &Scope) -> Self {
        match scope {
            Scope::Cart => ScopeBody::default(),
            Scope::Categories(ids) => ScopeBody {
                categories: ids.iter().copied().collect(),
                skus: Vec::new(),
            },
            Scope::Skus(skus) => ScopeBody {
                categories: Vec::new(),
                skus: skus.iter().cloned().collect(),
            },
        }
    }
}

fn amount(percent: Option<u8>, amount_off: Option<u64>, currency: Option<String>) -> Result<Amount, ApiError> {
    match (percent, amount_off, currency) {
        (Some(percent), None, None) => Ok(Amount::Percent(percent)),
        (None, Some(amount), Some(currency)) => Ok(Amount::Fixed {
            amount,
            currency: currency.to_ascii_uppercase(),
        }),
        _ => Err(ApiError::invalid_field(
            "percent",
            "give either percent, or amount_off with its currency",
        )),
    }
}

/// `POST /v1/admin/coupons`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCoupon {
    /// 3–32 of A-Z, 0-9, `_`, `-` (upper-cased).
    pub code: String,
    /// Whole percent off, 1..=100 (or give `amount_off` and `currency`).
    pub percent: Option<u8>,
    /// Fixed amount off in minor units.
    pub amount_off: Option<u64>,
    pub currency: Option<String>,
    #[serde(default)]
    pub scope: ScopeBody,
    /// Cart subtotal needed, minor units.
    #[serde(default)]
    pub min_subtotal: u64,
    /// Milliseconds since the epoch.
    pub starts_at: Option<u64>,
    pub ends_at: Option<u64>,
    pub max_uses: Option<u64>,
    pub max_uses_per_customer: Option<u64>,
}

/// `PATCH /v1/admin/coupons/{code}`: absent fields stay, `null` clears.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CouponChange {
    pub percent: Option<u8>,
    pub amount_off: Option<u64>,
    pub currency: Option<String>,
    pub scope: Option<ScopeBody>,
    pub min_subtotal: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub starts_at: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub ends_at: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub max_uses: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub max_uses_per_customer: Option<Option<u64>>,
}

/// A coupon.
#[derive(Serialize, ToSchema)]
pub struct CouponBody {
    pub code: String,
    pub percent: Option<u8>,
    pub amount_off: Option<u64>,
    pub currency: Option<String>,
    pub scope: ScopeBody,
    pub min_subtotal: u64,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub max_uses: Option<u64>,
    pub max_uses_per_customer: Option<u64>,
    /// Uses claimed by orders (an order that does not sell gives its use back).
    pub uses: u64,
}

impl CouponBody {
    /// A coupon as the API shows it.
    pub fn of(coupon: &Coupon) -> Self {
        let (percent, amount_off, currency) = match &coupon.amount {
            Amount::Percent(percent) => (Some(*percent), None, None),
            Amount::Fixed { amount, currency } => (None, Some(*amount), Some(currency.clone())),
        };
        CouponBody {
            code: coupon.code.clone(),
            percent,
            amount_off,
            currency,
            scope: ScopeBody::of(&coupon.scope),
            min_subtotal: coupon.min_subtotal,
            starts_at: coupon.window.starts_at.map(rfc3339),
            ends_at: coupon.window.ends_at.map(rfc3339),
            max_uses: coupon.max_uses,
            max_uses_per_customer: coupon.max_uses_per_customer,
            uses: coupon.uses,
        }
    }
}

/// Every rule.
#[derive(Serialize, ToSchema)]
pub struct RulesBody {
    coupons: Vec<CouponBody>,
    promotions: Vec<PromotionBody>,
}

fn code_of(path: web::Path<String>) -> Result<String, ApiError> {
    normalize_code(&path).map_err(|_| ApiError::not_found(format!("no coupon {path}")))
}

fn coupon_in(rules: &PricingRules, code: &str) -> Result<CouponBody, ApiError> {
    rules
        .coupons
        .get(code)
        .map(CouponBody::of)
        .ok_or_else(|| ApiError::not_found(format!("no coupon {code}")))
}

/// Every coupon and promotion.
#[utoipa::path(get, path = "/v1/admin/coupons", operation_id = "list_coupons", tag = "carts", security(("operator_token" = [])),
    responses((status = 200, body = RulesBody), (status = 401), (status = 403)))]
#[get("/coupons")]
pub async fn list(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rules = state.promotions.call(RulesCommand::Get).await?;
    Ok(HttpResponse::Ok().json(RulesBody {
        coupons: rules.coupons.values().map(CouponBody::of).collect(),
        promotions: rules.promotions.values().map(PromotionBody::of).collect(),
    }))
}

/// Creates a coupon.
#[utoipa::path(post, path = "/v1/admin/coupons", operation_id = "create_coupon", tag = "carts", security(("operator_token" = [])), request_body = NewCoupon,
    responses((status = 201, body = CouponBody), (status = 401), (status = 403), (status = 409, description = "`coupon_code_taken`"),
        (status = 422, description = "`invalid_field`")))]
#[post("/coupons")]
pub async fn create(
    _: Admin,
    state: web::Data<AppState>,
    body: web::Json<NewCoupon>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(create_coupon(&state, body.into_inner()).await?))
}

/// Creates a coupon: the front door of the route and the console.
pub async fn create_coupon(state: &AppState, body: NewCoupon) -> Result<CouponBody, ApiError> {
    let code = normalize_code(&body.code).map_err(PromotionsError::from)?;
    let coupon = Coupon {
        code: code.clone(),
        amount: amount(body.percent, body.amount_off, body.currency)?,
        scope: body.scope.into_scope()?,
        min_subtotal: body.min_subtotal,
        window: Window {
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        },
        max_uses: body.max_uses,
        max_uses_per_customer: body.max_uses_per_customer,
        uses: 0,
        uses_by_customer: Default::default(),
    };
    let rules = state.promotions.call(RulesCommand::CreateCoupon(coupon)).await?;
    coupon_in(&rules, &code)
}

/// Changes a coupon.
#[utoipa::path(patch, path = "/v1/admin/coupons/{code}", operation_id = "update_coupon", tag = "carts", security(("operator_token" = [])),
    params(("code" = String, Path)), request_body = CouponChange,
    responses((status = 200, body = CouponBody), (status = 401), (status = 403), (status = 404), (status = 422)))]
#[patch("/coupons/{code}")]
pub async fn update(
    _: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: web::Json<CouponChange>,
) -> Result<HttpResponse, ApiError> {
    let code = code_of(code)?;
    Ok(HttpResponse::Ok().json(update_coupon(&state, &code, body.into_inner()).await?))
}

/// Changes coupon `code`: the front door of the route and the console.
pub async fn update_coupon(state: &AppState, code: &str, body: CouponChange) -> Result<CouponBody, ApiError> {
    let code = normalize_code(code).map_err(|_| ApiError::not_found(format!("no coupon {code}")))?;
    let amount = match (body.percent, body.amount_off, body.currency) {
        (None, None, None) => None,
        (percent, amount_off, currency) => Some(amount(percent, amount_off, currency)?),
    };
    let patch = CouponPatch {
        amount,
        scope: body.scope.map(ScopeBody::into_scope).transpose()?,
        min_subtotal: body.min_subtotal,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        max_uses: body.max_uses,
        max_uses_per_customer: body.max_uses_per_customer,
    };
    let command = RulesCommand::UpdateCoupon {
        code: code.clone(),
        patch,
    };
    let rules = state.promotions.call(command).await?;
    coupon_in(&rules, &code)
}

/// Deletes a coupon; carts holding its code show `coupon_not_applicable`.
#[utoipa::path(delete, path = "/v1/admin/coupons/{code}", operation_id = "delete_coupon", tag = "carts", security(("operator_token" = [])),
    params(("code" = String, Path)), responses((status = 204), (status = 401), (status = 403), (status = 404)))]
#[delete("/coupons/{code}")]
pub async fn remove(_: Admin, state: web::Data<AppState>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = code_of(code)?;
    state.promotions.call(RulesCommand::DeleteCoupon { code }).await?;
    Ok(HttpResponse::NoContent().finish())
}
