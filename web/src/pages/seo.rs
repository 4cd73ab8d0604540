//! `/robots.txt` and `/sitemap.xml`: what search engines may crawl, and the
//! category and product pages to crawl.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_http::routes::search::search_page;
use mercato_http::AppState;

use crate::error::PageError;
use crate::page::absolute;

/// Products listed in the sitemap, newest first (pages of 100).
const SITEMAP_PRODUCTS: usize = 1_000;

/// `GET /robots.txt`.
#[get("/robots.txt")]
pub async fn robots(req: HttpRequest) -> HttpResponse {
    let body = format!(
        "User-agent: *\nDisallow: /cart\nDisallow: /checkout\nDisallow: /orders/\nDisallow: /v1/\nDisallow: /admin\nSitemap: {}\n",
        absolute(&req, "/sitemap.xml")
    );
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body)
}

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct Sitemap {
    urls: Vec<String>,
}

/// `GET /sitemap.xml`: the front page, every category, the newest products.
#[get("/sitemap.xml")]
pub async fn sitemap(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let mut urls = vec![absolute(&req, "/")];
    let table = state.catalog.category_table();
    let categories = &table.categories;
    urls.extend(categories.iter().map(|c| absolute(&req, &format!("/c/{}", c.slug))));
    for page in 1..=SITEMAP_PRODUCTS / 100 {
        let pairs = vec![
            ("sort".to_string(), "newest".to_string()),
            ("per_page".to_string(), "100".to_string()),
            ("page".to_string(), page.to_string()),
        ];
        let result = search_page(&state, pairs).await?;
        urls.extend(result.items.iter().map(|p| absolute(&req, &format!("/p/{}", p.id))));
        if page * 100 >= result.total as usize {
            break;
        }
    }
    let body = Sitemap { urls }.render().map_err(|_| PageError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(body))
}
