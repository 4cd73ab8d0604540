//! `/`: the shop's front page: category entry points, the newest products and
//! picks that are in stock now.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_http::routes::search::search_page;
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

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// `GET /`.
#[get("/")]
pub async fn home(req: HttpRequest, state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let row = ROW.to_string();
    let newest = search_page(&state, pairs(&[("sort", "newest"), ("per_page", &row)])).await?;
    let candidates = search_page(&state, pairs(&[("sort", "price_desc"), ("per_page", "48")])).await?;
    let picks = candidates
        .items
        .iter()
        .filter(|p| p.is_available && !newest.items.iter().any(|n| n.id == p.id))
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
        newest: newest.items.iter().map(ProductCard::from).collect(),
        picks,
    };
    Ok(page::ok(&visitor, &page))
}
