//! Product views and recently viewed products, for front ends other than the
//! storefront (which records its own product pages).
//!
//! A viewer is a signed-in customer or a guest session: an id of 22 to 64
//! letters, digits, `-` or `_` that the front end makes at random (at least
//! 128 bits, as 22 base64url characters hold) and keeps (like a cart id,
//! whoever holds it reads its list). At sign-in, the
//! session's list moves into the account (`view_session` on login and
//! register).

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use mercato_actors::catalog::state::{CatalogError, ProductStatus};
use mercato_actors::catalog::CatalogCallError;
use mercato_actors::views::recent::{Seen, ViewerKey};
use mercato_actors::views::Recorded;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{CurrentUser, MaybeUser};
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::rate_limit::Route;
use crate::routes::products::{body_of, ProductBody};
use crate::AppState;

/// Words in a user agent that mark a crawler, lowercase.
const BOT_MARKS: [&str; 6] = ["bot", "crawl", "spider", "slurp", "facebookexternalhit", "preview"];

/// Whether `req` comes from a crawler, by its user agent.
pub fn is_bot(req: &HttpRequest) -> bool {
    let agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    BOT_MARKS.iter().any(|mark| agent.contains(mark))
}

/// Checks a guest session id's shape.
pub fn session_key(id: &str) -> Result<ViewerKey, ApiError> {
    let shaped = (22..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !shaped {
        return Err(ApiError::invalid_field(
            "session_id",
            "session_id must be 22 to 64 letters, digits, '-' or '_' (at least 128 random bits)",
        ));
    }
    Ok(ViewerKey::session(id))
}

/// `POST /v1/products/{id}/views`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    /// The guest session; required without an access token, ignored with one.
    session_id: Option<String>,
}

/// What became of a view.
#[derive(Serialize, ToSchema)]
pub struct ViewBody {
    /// Whether it counts.
    recorded: bool,
    /// Why not: `bot` (a crawler's user agent) or `busy` (too many views
    /// waiting to be written).
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<&'static str>,
}

/// Records a view of product `id` by the signed-in customer or the guest
/// session. Crawlers' views are ignored; views are rate-limited per client
/// and per viewer.
#[utoipa::path(post, path = "/v1/products/{id}/views", tag = "catalog", request_body = ViewRequest,
    params(("id" = u64, Path)),
    responses((status = 202, body = ViewBody), (status = 404, description = "`product_not_found`"),
        (status = 422, description = "`invalid_field` (session_id)"), (status = 429, description = "`rate_limited`")))]
#[post("/{id}/views")]
pub async fn record(
    req: HttpRequest,
    user: MaybeUser,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Json<ViewRequest>,
) -> Result<HttpResponse, ApiError> {
    let (viewer, account) = match (user.id(), &body.session_id) {
        (Some(user), _) => (ViewerKey::customer(user), format!("customer:{user}")),
        (None, Some(session)) => (session_key(session)?, format!("session:{session}")),
        (None, None) => return Err(ApiError::invalid_field("session_id", "a guest's view needs session_id")),
    };
    if state.catalog.prices().sku_of(*id).is_none() {
        return Err(CatalogCallError::from(CatalogError::ProductNotFound(*id)).into());
    }
    let metrics = state.views.metrics();
    if is_bot(&req) {
        metrics.bots.inc();
        return Ok(accepted(Some("bot")));
    }
    if let Err(limited) = state.limiter.check(Route::View, &req, &account).await {
        metrics.limited.inc();
        return Err(limited);
    }
    Ok(match state.views.record(viewer, *id) {
        Recorded::Yes => accepted(None),
        Recorded::Dropped => accepted(Some("busy")),
    })
}

fn accepted(ignored: Option<&'static str>) -> HttpResponse {
    HttpResponse::build(StatusCode::ACCEPTED).json(ViewBody {
        recorded: ignored.is_none(),
        ignored,
    })
}

/// One recently viewed product.
#[derive(Serialize, ToSchema)]
pub struct SeenBody {
    pub product: ProductBody,
    /// RFC 3339, UTC, with milliseconds.
    pub viewed_at: String,
}

/// `{items}`, most recent first.
#[derive(Serialize, ToSchema)]
pub struct RecentlyViewedBody {
    pub items: Vec<SeenBody>,
}

/// The products of `seen` that are still listed, most recent first.
async fn listed(state: &AppState, seen: Vec<Seen>) -> Result<RecentlyViewedBody, ApiError> {
    let ids: Vec<u64> = seen.iter().map(|(id, _)| *id).collect();
    let products = state.catalog.products(ids).await?;
    let shown = seen.into_iter().filter_map(|(id, at_ms)| {
        let product = products.iter().find(|product| product.product.id == id)?;
        (product.product.fields.status == ProductStatus::Active).then(|| (product.clone(), at_ms))
    });
    let items = futures_util::future::join_all(shown.map(|(product, at_ms)| async move {
        SeenBody {
            product: body_of(state, product).await,
            viewed_at: rfc3339(at_ms),
        }
    }))
    .await;
    Ok(RecentlyViewedBody { items })
}

/// The products the signed-in customer viewed last (up to 20; archived ones
/// left out), with those viewed as a guest before signing in.
#[utoipa::path(get, path = "/v1/me/recently-viewed", tag = "accounts", security(("access_token" = [])),
    responses((status = 200, body = RecentlyViewedBody), (status = 401), (status = 403, description = "the service token has no account")))]
#[get("/recently-viewed")]
pub async fn mine(user: CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let seen = state.views.recently_viewed(&ViewerKey::customer(&user.id));
    Ok(HttpResponse::Ok().json(listed(&state, seen).await?))
}

/// The products a guest session viewed last (up to 20; archived ones left out).
#[utoipa::path(get, path = "/v1/sessions/{session_id}/recently-viewed", tag = "catalog",
    params(("session_id" = String, Path)),
    responses((status = 200, body = RecentlyViewedBody), (status = 422, description = "`invalid_field` (session_id)")))]
#[get("/{session_id}/recently-viewed")]
pub async fn of_session(state: web::Data<AppState>, session: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let seen = state.views.recently_viewed(&session_key(&session)?);
    Ok(HttpResponse::Ok().json(listed(&state, seen).await?))
}
