//! `/p/{id}`: one product with its attributes, price, live stock and an
//! add-to-cart form, plus its schema.org Product/Offer data.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::{decimal_amount, format_money};
use mercato_http::routes::products::body_of;
use mercato_http::AppState;

use crate::assets::ASSETS;
use crate::error::PageError;
use crate::page::{self, Layout};
use crate::pages::suggestions::{record_view, suggestions, Suggestions};
use crate::view::{stock_note, FEW_LEFT};
use crate::visitor::Visitor;

/// A step of the breadcrumb trail.
struct Crumb {
    name: String,
    href: String,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    csrf: String,
    crumbs: Vec<Crumb>,
    name: String,
    sku: String,
    description: String,
    price: String,
    attributes: Vec<(String, String)>,
    stock: String,
    stock_class: &'static str,
    /// Whether the add-to-cart form is enabled.
    buyable: bool,
    few_left: u64,
    image: Option<String>,
    /// The name's first letter, drawn where there is no image.
    initial: String,
    /// schema.org JSON-LD, already safe inside `<script>`.
    json_ld: String,
    suggestions: Suggestions,
}

/// `GET /p/{id}`.
#[get("/p/{id}")]
pub async fn product(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let missing = || PageError::NotFound("This product does not exist or is no longer sold.".into());
    let id: u64 = id.parse().map_err(|_| missing())?;
    let indexed = state.catalog.product(id).await.map_err(|_| missing())?;
    record_view(&state, &req, &visitor, id).await;
    let suggestions = suggestions(&state, &visitor, Some(&indexed), &[]).await;
    let path = indexed.category_path.clone();
    let body = body_of(&state, indexed).await;
    let table = state.catalog.category_table();
    let categories = &table.categories;
    let crumbs = path
        .iter()
        .filter_map(|id| categories.iter().find(|c| c.id == *id))
        .map(|c| Crumb {
            name: c.name.clone(),
            href: format!("/c/{}", c.slug),
        })
        .collect();
    let canonical = page::absolute(&req, &format!("/p/{}", body.id));
    let (stock, stock_class) = stock_note(body.available, body.is_available);
    let availability = match body.is_available {
        true => "https://schema.org/InStock",
        false => "https://schema.org/OutOfStock",
    };
    let json_ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": body.name,
        "sku": body.sku,
        "description": body.description,
        "offers": {
            "@type": "Offer",
            "price": decimal_amount(body.price, &body.currency),
            "priceCurrency": body.currency,
            "availability": availability,
            "url": canonical,
        },
    })
    .to_string()
    // Inside <script>, "</script>" or "<!--" in a value must not end the block.
    .replace('<', "\\u003c");
    let description: String = body.description.chars().take(155).collect();
    let layout = Layout::of(&state, &visitor, body.name.clone())
        .await
        .described(description)
        .canonical(&req, &format!("/p/{}", body.id))
        .script(ASSETS.live_stock.url())
        .script(ASSETS.quantity_input.url());
    let template = ProductPage {
        layout,
        csrf: visitor.csrf.clone(),
        crumbs,
        price: format_money(body.price, &body.currency),
        attributes: body
            .attributes
            .clone()
            .into_iter()
            .map(|(k, v)| (k.replace('_', " "), v))
            .collect(),
        stock,
        stock_class,
        buyable: body.is_available,
        few_left: FEW_LEFT,
        image: body.images.first().cloned(),
        initial: body.name.chars().next().map(String::from).unwrap_or_default(),
        name: body.name,
        sku: body.sku,
        description: body.description,
        json_ld,
        suggestions,
    };
    Ok(page::ok(&visitor, &template))
}
