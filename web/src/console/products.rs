//! `/admin/products`: the catalog's products, newest first or searched, a
//! page at a time, through the storefront search's front door.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::routes::search::search_page;
use mercato_http::AppState;
use serde::Deserialize;

use super::paging::{page_number, Pager};
use super::{ConsoleError, ConsoleLayout, Staff};
use crate::page;

const PER_PAGE: usize = 50;
const MAX_PAGES: usize = 1_000;

/// One product as a row.
pub struct ProductRow {
    pub id: u64,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price: String,
    pub available: String,
}

#[derive(Template)]
#[template(path = "console/products.html")]
struct ProductsPage {
    layout: ConsoleLayout,
    q: String,
    rows: Vec<ProductRow>,
    total: u64,
    pager: Pager,
}

/// The list's query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    page: String,
}

fn category_name(state: &AppState, id: u64) -> String {
    let table = state.catalog.category_table();
    table
        .categories
        .iter()
        .find(|category| category.id == id)
        .map_or_else(|| format!("#{id}"), |category| category.name.clone())
}

fn list_link(q: &str, page: usize) -> String {
    let query = serde_urlencoded::to_string([("q", q), ("page", &page.to_string())]).unwrap_or_default();
    format!("/admin/products?{query}")
}

/// `GET /admin/products?q=&page=`.
#[get("/admin/products")]
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    // Past page 1,000 a search is the way (and the index pages no deeper).
    let page = page_number(&query.page).min(MAX_PAGES);
    let mut pairs = vec![
        ("page".to_string(), page.to_string()),
        ("per_page".to_string(), PER_PAGE.to_string()),
    ];
    match query.q.trim() {
        "" => pairs.push(("sort".into(), "newest".into())),
        q => pairs.push(("q".into(), q.to_string())),
    }
    let found = search_page(&state, pairs).await?;
    let pager = Pager::new(page, found.total as usize, PER_PAGE, MAX_PAGES, |n| {
        list_link(&query.q, n)
    });
    let view = ProductsPage {
        layout: ConsoleLayout::of(&staff, "products", "Products"),
        rows: found
            .items
            .iter()
            .map(|product| ProductRow {
                id: product.id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                category: category_name(&state, product.category_id),
                price: format_money(product.price, &product.currency),
                available: product.available.map_or("–".into(), |n| n.to_string()),
            })
            .collect(),
        total: found.total,
        pager,
        q: query.q.clone(),
    };
    Ok(page::html(StatusCode::OK, &view, staff.visitor.cookies()))
}
