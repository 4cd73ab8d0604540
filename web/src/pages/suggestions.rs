//! "Customers also bought" and "Recently viewed", the two rows of product
//! cards under a product and under the cart, from the recommendations and
//! views front doors (the same ones `GET /v1/products/{id}/recommendations`
//! and the recently-viewed routes use).

use actix_web::HttpRequest;
use mercato_actors::catalog::messages::IndexedProduct;
use mercato_actors::catalog::state::{ProductId, ProductStatus};
use mercato_http::rate_limit::Route;
use mercato_http::routes::products::body_of;
use mercato_http::routes::views::is_bot;
use mercato_http::AppState;

use crate::view::ProductCard;
use crate::visitor::Visitor;

/// Cards a row shows.
const ROW: usize = 4;
/// Cart lines whose recommendations the cart page asks for.
const CART_LINES_ASKED: usize = 3;

/// The two rows; either may be empty.
#[derive(Default)]
pub struct Suggestions {
    pub also_bought: Vec<ProductCard>,
    pub recently_viewed: Vec<ProductCard>,
}

/// Records that the visitor looks at `product`, unless a crawler does or the
/// visitor is past the views' rate limit (the page shows all the same).
pub async fn record_view(state: &AppState, req: &HttpRequest, visitor: &Visitor, product: ProductId) {
    let viewer = visitor.viewer();
    let counted_as = format!("viewer:{viewer}");
    if is_bot(req) {
        state.views.metrics().bots.inc();
    } else if state.limiter.check(Route::View, req, &counted_as).await.is_err() {
        state.views.metrics().limited.inc();
    } else {
        state.views.record(viewer, product);
    }
}

/// The rows beside product `shown`, or beside a cart holding `in_cart` (SKUs).
pub async fn suggestions(
    state: &AppState,
    visitor: &Visitor,
    shown: Option<&IndexedProduct>,
    in_cart: &[String],
) -> Suggestions {
    let prices = state.catalog.prices();
    let in_cart_ids: Vec<ProductId> = (in_cart.iter())
        .filter_map(|sku| prices.get(sku).map(|entry| entry.product_id))
        .collect();
    // A page shows without them rather than fail.
    let mut rows = Vec::new();
    match shown {
        Some(product) => rows.extend(state.recommendations.beside(product, ROW, in_cart).await.ok()),
        None => {
            for &product in in_cart_ids.iter().take(CART_LINES_ASKED) {
                rows.extend(state.recommendations.for_product(product, ROW, in_cart).await.ok());
            }
        }
    }
    let mut also_bought = Vec::new();
    for item in rows.into_iter().flatten() {
        let id = item.product.product.id;
        if also_bought.len() < ROW && !also_bought.iter().any(|(taken, _)| *taken == id) {
            also_bought.push((id, ProductCard::from(&body_of(state, item.product).await)));
        }
    }
    let shown = shown.map(|product| product.product.id);
    let leave_out = |id: &ProductId| Some(*id) == shown || in_cart_ids.contains(id);
    let recent: Vec<ProductId> = (state.views.recently_viewed(&visitor.viewer()).into_iter())
        .map(|(id, _)| id)
        .filter(|id| !leave_out(id))
        .take(ROW)
        .collect();
    let mut recently_viewed = Vec::new();
    let listed = match recent.is_empty() {
        true => Vec::new(),
        false => state.catalog.products(recent).await.unwrap_or_default(),
    };
    for product in listed {
        if product.product.fields.status == ProductStatus::Active {
            recently_viewed.push(ProductCard::from(&body_of(state, product).await));
        }
    }
    Suggestions {
        also_bought: also_bought.into_iter().map(|(_, card)| card).collect(),
        recently_viewed,
    }
}
