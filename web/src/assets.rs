//! The stylesheet and scripts, embedded at compile time and served under names
//! that carry a hash of their content (`shop.3f2a9c01de.css`), so a page can
//! let browsers keep them for a year: a changed file gets a new name.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use sha2::{Digest as _, Sha256};

/// One embedded file.
pub struct Asset {
    /// `stem.hash.ext`, the name pages link to.
    pub name: String,
    body: &'static [u8],
    content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, body: &'static [u8], content_type: &'static str) -> Self {
        let hash: String = Sha256::digest(body)[..5].iter().map(|b| format!("{b:02x}")).collect();
        Asset {
            name: format!("{stem}.{hash}.{ext}"),
            body,
            content_type,
        }
    }

    /// The path a page links to.
    pub fn url(&self) -> String {
        format!("/assets/{}", self.name)
    }
}

/// Every embedded asset.
pub struct Assets {
    /// The stylesheet of every page.
    pub css: Asset,
    /// What the console adds to it.
    pub console_css: Asset,
    /// `<live-region>`: a console region that follows server-sent events.
    pub live_region: Asset,
    /// `<live-cart>`: the cart over its WebSocket, and the header count.
    pub live_cart: Asset,
    /// `<live-stock>`: a product's stock over server-sent events.
    pub live_stock: Asset,
    /// `<quantity-input>`: − and + buttons around a quantity field.
    pub quantity_input: Asset,
}

/// The assets, hashed once on first use.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: Asset::new(
        "shop",
        "css",
        include_bytes!("../assets/shop.css"),
        "text/css; charset=utf-8",
    ),
    console_css: Asset::new(
        "console",
        "css",
        include_bytes!("../assets/console.css"),
        "text/css; charset=utf-8",
    ),
    live_region: Asset::new("live-region", "js", include_bytes!("../assets/live-region.js"), JS),
    live_cart: Asset::new("live-cart", "js", include_bytes!("../assets/live-cart.js"), JS),
    live_stock: Asset::new("live-stock", "js", include_bytes!("../assets/live-stock.js"), JS),
    quantity_input: Asset::new(
        "quantity-input",
        "js",
        include_bytes!("../assets/quantity-input.js"),
        JS,
    ),
});

const JS: &str = "text/javascript; charset=utf-8";

impl Assets {
    fn all(&self) -> [&Asset; 6] {
        [
            &self.css,
            &self.console_css,
            &self.live_region,
            &self.live_cart,
            &self.live_stock,
            &self.quantity_input,
        ]
    }
}

/// `GET /assets/{name}`: an embedded file, cached for a year.
#[get("/assets/{name}")]
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match ASSETS.all().into_iter().find(|asset| asset.name == *name) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header(("x-content-type-options", "nosniff"))
            .body(asset.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}
