//! `/`: the shop's front page: category entry points, the newest products and
//! picks that are in stock now.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::search::query::{SearchRequest, SortOrder};
use mercato_http::errors::ApiError;
use mercato_http::routes::products::{bodies, ProductBody};
use mercato_http::AppState;

use crate::error::PageError;
use crate::page::{self, Layout, NavLink};
use crate::view::ProductCard;
use crate::visitor::Visitor;

/// Products in each row of the front page.
const ROW: usize = 8;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    categories: Vec<NavLink>,
    newest: Vec<ProductCard>,
    picks: Vec<ProductCard>,
}

/// The first `limit` active products in `sort` order, without facet counts
/// (over a whole catalog they cost more than the rest of the page).
async fn products(state: &AppState, sort: SortOrder, limit: usize) -> Result<Vec<ProductBody>, ApiError> {
    let request = SearchRequest {
        q: None,
        category: None,
        min_price: None,
        max_price: None,
        attributes: BTreeMap::new(),
        sort,
        offset: 0,
        limit,
        facets: false,
    };
    let result = state.catalog.search().search(&request)?;
    let products = state.catalog.products(result.ids).await?;
    Ok(bodies(state, products).await)
}

/// `GET /`.
#[get("/")]
pub async fn home(req: HttpRequest, state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let newest = products(&state, SortOrder::Newest, ROW).await?;
    let candidates = products(&state, SortOrder::PriceDesc, 2 * ROW).await?;
    let picks = candidates
        .iter()
        .filter(|p| p.is_available && !newest.iter().any(|n| n.id == p.id))
        .take(ROW)
        .map(ProductCard::from)
        .collect();
    let layout = Layout::of(&state, &visitor, "Shop")
        .await
        .described(
            "Mercato demo shop: clothing, shoes, home and more, with a cart that stays in step across your tabs.",
        )
        .canonical(&req, "/");
    let categories = layout
        .nav
        .iter()
        .map(|link| NavLink {
            name: link.name.clone(),
            href: link.href.clone(),
        })
        .collect();
    let page = HomePage {
        layout,
        categories,
        newest: newest.iter().map(ProductCard::from).collect(),
        picks,
    };
    Ok(page::ok(&visitor, &page))
}
