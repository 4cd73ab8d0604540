//! Admin routes over automatic promotions (discounts without a code: buy X
//! get Y, or a percent off from a subtotal). Created and ended; a change is
//! an end and a new promotion. Changes apply to every cart priced afterwards.

use actix_web::{delete, post, web, HttpResponse};
use mercato_actors::promotion::state::{Promotion, PromotionRule, Tier, Window};
use mercato_actors::promotion::RulesCommand;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::AppState;

/// `POST /v1/admin/promotions`: give `buy_x_get_y` or `tiers`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPromotion {
    /// Shown to customers.
    pub name: String,
    /// Of every `buy + get` units of `sku`, `get` are free.
    pub buy_x_get_y: Option<BuyXGetYBody>,
    /// The highest tier reached takes its percent off.
    pub tiers: Option<Vec<TierBody>>,
    pub starts_at: Option<u64>,
    pub ends_at: Option<u64>,
}

/// Buy X get Y.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyXGetYBody {
    pub sku: String,
    pub buy: u32,
    pub get: u32,
}

/// A tier.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierBody {
    pub min_subtotal: u64,
    pub percent: u8,
}

/// A promotion.
#[derive(Serialize, ToSchema)]
pub struct PromotionBody {
    pub id: u64,
    pub name: String,
    pub buy_x_get_y: Option<BuyXGetYBody>,
    pub tiers: Option<Vec<TierBody>>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

impl PromotionBody {
    /// A promotion as the API shows it.
    pub fn of(promotion: &Promotion) -> Self {
        let (buy_x_get_y, tiers) = match &promotion.rule {
            PromotionRule::BuyXGetY { sku, buy, get } => (
                Some(BuyXGetYBody {
                    sku: sku.clone(),
                    buy: *buy,
                    get: *get,
                }),
                None,
            ),
            PromotionRule::TieredPercent { tiers } => (
                None,
                Some(
                    tiers
                        .iter()
                        .map(|tier| TierBody {
                            min_subtotal: tier.min_subtotal,
                            percent: tier.percent,
                        })
                        .collect(),
                ),
            ),
        };
        PromotionBody {
            id: promotion.id,
            name: promotion.name.clone(),
            buy_x_get_y,
            tiers,
            starts_at: promotion.window.starts_at.map(rfc3339),
            ends_at: promotion.window.ends_at.map(rfc3339),
        }
    }
}

/// Creates an automatic promotion.
#[utoipa::path(post, path = "/v1/admin/promotions", tag = "carts", security(("operator_token" = [])), request_body = NewPromotion,
    responses((status = 201, body = PromotionBody), (status = 401), (status = 403), (status = 422)))]
#[post("/promotions")]
pub async fn create_promotion(
    _: Admin,
    state: web::Data<AppState>,
    body: web::Json<NewPromotion>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(create_promotion_from(&state, body.into_inner()).await?))
}

/// Creates a promotion: the front door of the route and the console.
pub async fn create_promotion_from(state: &AppState, body: NewPromotion) -> Result<PromotionBody, ApiError> {
    let rule = match (body.buy_x_get_y, body.tiers) {
        (Some(offer), None) => PromotionRule::BuyXGetY {
            sku: offer.sku,
            buy: offer.buy,
            get: offer.get,
        },
        (None, Some(tiers)) => PromotionRule::TieredPercent {
            tiers: tiers
                .into_iter()
                .map(|tier| Tier {
                    min_subtotal: tier.min_subtotal,
                    percent: tier.percent,
                })
                .collect(),
        },
        _ => return Err(ApiError::invalid_field("rule", "give either buy_x_get_y or tiers")),
    };
    let promotion = Promotion {
        id: 0,
        name: body.name,
        rule,
        window: Window {
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        },
    };
    let rules = state.promotions.call(RulesCommand::CreatePromotion(promotion)).await?;
    // Ids only grow and the reply is the state right after this creation.
    let created = rules
        .promotions
        .values()
        .next_back()
        .expect("the promotion just created is in the rules");
    Ok(PromotionBody::of(created))
}

/// Deletes a promotion.
#[utoipa::path(delete, path = "/v1/admin/promotions/{id}", tag = "carts", security(("operator_token" = [])),
    params(("id" = u64, Path)), responses((status = 204), (status = 401), (status = 403), (status = 404)))]
#[delete("/promotions/{id}")]
pub async fn remove_promotion(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    end_promotion(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends (deletes) promotion `id`: the front door of the route and the console.
pub async fn end_promotion(state: &AppState, id: u64) -> Result<(), ApiError> {
    state.promotions.call(RulesCommand::DeletePromotion { id }).await?;
    Ok(())
}
