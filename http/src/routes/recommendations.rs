//! Recommendation routes: "customers also bought" for a product, and the
//! operators' pins and blocks.

use actix_web::http::StatusCode;
use actix_web::{get, put, web, HttpResponse};
use mercato_actors::recommend::rules::{Rules, RulesError};
use mercato_actors::recommend::{RecommendError, Recommended, MAX_LIMIT};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{MaybeUser, Operator};
use crate::errors::ApiError;
use crate::routes::carts::cart_id;
use crate::routes::products::{body_of, ProductBody};
use crate::AppState;

/// Items a page shows when it does not say.
const DEFAULT_LIMIT: usize = 8;

impl From<RecommendError> for ApiError {
    fn from(err: RecommendError) -> Self {
        match err {
            RecommendError::Catalog(err) => err.into(),
            RecommendError::Actor(err) => err.into(),
            RecommendError::Rules(err) => {
                let field = match err {
                    RulesError::TooManyBlocked => "blocked",
                    RulesError::TooManyPinned | RulesError::Repeated(_) | RulesError::Itself => "pinned",
                };
                ApiError::invalid_field(field, err.to_string())
            }
        }
    }
}

/// `GET /v1/products/{id}/recommendations` query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecommendationQuery {
    /// 1 to 20; default 8.
    pub limit: Option<usize>,
    /// Leave out what this cart holds (the cart's rules of access apply).
    pub cart_id: Option<String>,
}

/// One recommended product.
#[derive(Serialize, ToSchema)]
pub struct RecommendationBody {
    pub product: ProductBody,
    /// In [0, 1]: cosine similarity of the two products' orders for
    /// `also_bought`; orders relative to the category's best seller for
    /// `best_seller`; 1 for `pinned`.
    pub score: f64,
    /// `pinned`, `also_bought` or `best_seller`.
    pub source: &'static str,
}

/// `{items}`, best first.
#[derive(Serialize, ToSchema)]
pub struct RecommendationsBody {
    pub items: Vec<RecommendationBody>,
}

async fn body(state: &AppState, recommended: Recommended) -> RecommendationBody {
    RecommendationBody {
        product: body_of(state, recommended.product).await,
        score: recommended.score,
        source: recommended.source.name(),
    }
}

/// Products to show beside product `id`: what customers who bought it also
/// bought (confirmed orders, cosine similarity), after any the operators
/// pinned, and, when the orders say too little, the best sellers of its
/// category. Never archived or out-of-stock products, the product itself, or
/// what the cart holds.
#[utoipa::path(get, path = "/v1/products/{id}/recommendations", tag = "catalog",
    params(("id" = u64, Path), RecommendationQuery),
    responses((status = 200, body = RecommendationsBody), (status = 403, description = "`cart_forbidden`"),
        (status = 404, description = "`product_not_found`, `cart_not_found`"), (status = 422, description = "`invalid_field`")))]
#[get("/{id}/recommendations")]
pub async fn for_product(
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    query: web::Query<RecommendationQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let in_cart: Vec<String> = match &query.cart_id {
        Some(cart) => {
            let cart = state.carts.get(cart_id(cart)?, user.id()).await?;
            cart.lines.iter().map(|line| line.sku.clone()).collect()
        }
        None => Vec::new(),
    };
    let recommended = state.recommendations.for_product(*id, limit, &in_cart).await?;
    let items = futures_util::future::join_all(recommended.into_iter().map(|item| body(&state, item))).await;
    Ok(HttpResponse::Ok().json(RecommendationsBody { items }))
}

/// `PUT /v1/admin/products/{id}/recommendations`: replaces the rules.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    /// Shown first, in this order, when listed and in stock; up to 20.
    #[serde(default)]
    pub pinned: Vec<u64>,
    /// Never shown; up to 200.
    #[serde(default)]
    pub blocked: Vec<u64>,
}

/// Sets which products product `id` always shows first and which it never shows.
#[utoipa::path(put, path = "/v1/admin/products/{id}/recommendations", tag = "catalog", security(("operator_token" = [])),
    params(("id" = u64, Path)), request_body = RulesBody,
    responses((status = 200, body = RulesBody), (status = 401), (status = 404, description = "`product_not_found` (the product or one it names)"),
        (status = 422, description = "`invalid_field`")))]
#[put("/products/{id}/recommendations")]
pub async fn set_rules(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Json<RulesBody>,
) -> Result<HttpResponse, ApiError> {
    let RulesBody { pinned, blocked } = body.into_inner();
    let set = state.recommendations.set_rules(*id, Rules { pinned, blocked }).await?;
    Ok(HttpResponse::build(StatusCode::OK).json(RulesBody {
        pinned: set.pinned,
        blocked: set.blocked,
    }))
}
