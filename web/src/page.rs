//! What every page shares: the layout's data (title, description, canonical
//! URL, navigation, the header's mini-cart), rendering with the security
//! headers, and redirects after a form.

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use mercato_http::AppState;

use crate::assets::ASSETS;
use crate::visitor::Visitor;

/// No inline script or style, nothing from another host; JSON-LD data blocks
/// are not scripts and need no exception.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A link in the header's category navigation.
pub struct NavLink {
    pub name: String,
    pub href: String,
}

/// What the layout (`base.html`) shows around a page.
pub struct Layout {
    /// `<title>`, without the shop's name.
    pub title: String,
    /// `<meta name="description">`.
    pub description: String,
    /// Absolute canonical URL, when the page has one.
    pub canonical: Option<String>,
    /// Whether search engines should skip the page (cart, checkout, orders).
    pub noindex: bool,
    /// The stylesheet's URL.
    pub css: String,
    /// Module scripts the page loads.
    pub scripts: Vec<String>,
    /// Root categories.
    pub nav: Vec<NavLink>,
    /// Units in the visitor's cart.
    pub cart_count: u32,
    /// The cart's id, for the live header count (empty without a cart).
    pub cart_id: String,
    /// The search box's text.
    pub query: String,
    /// Whether the header offers the account or sign-in.
    pub signed_in: bool,
}

impl Layout {
    /// A layout with no navigation (error pages).
    pub fn bare(title: &str) -> Self {
        Layout {
            title: title.to_string(),
            description: String::new(),
            canonical: None,
            noindex: true,
            css: ASSETS.css.url(),
            scripts: Vec::new(),
            nav: Vec::new(),
            cart_count: 0,
            cart_id: String::new(),
            query: String::new(),
            signed_in: false,
        }
    }

    /// The layout of a page titled `title`: root categories and the
    /// visitor's cart count come from the catalog and the cart.
    pub async fn of(state: &AppState, visitor: &Visitor, title: impl Into<String>) -> Self {
        let mut layout = Layout::bare(&title.into());
        layout.noindex = false;
        layout.scripts.push(ASSETS.live_cart.url());
        layout.nav = state
            .catalog
            .category_table()
            .categories
            .iter()
            .filter(|category| category.parent_id.is_none())
            .map(|category| NavLink {
                href: format!("/c/{}", category.slug),
                name: category.name.clone(),
            })
            .collect();
        if let Some(cart) = crate::pages::cart::open_cart(state, visitor).await {
            layout.cart_count = cart.items.iter().map(|line| line.qty).sum();
            layout.cart_id = cart.id;
        }
        layout.signed_in = visitor.user.is_some();
        layout
    }

    /// Sets the description.
    pub fn described(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the canonical URL to `path` on the host the request came to.
    pub fn canonical(mut self, req: &HttpRequest, path: &str) -> Self {
        self.canonical = Some(absolute(req, path));
        self
    }

    /// Keeps the page out of search engines.
    pub fn private(mut self) -> Self {
        self.noindex = true;
        self
    }

    /// Adds a module script.
    pub fn script(mut self, url: String) -> Self {
        self.scripts.push(url);
        self
    }
}

/// `path` as an absolute URL on the host the request came to.
pub fn absolute(req: &HttpRequest, path: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}{}", info.scheme(), info.host(), path)
}

/// Renders `template` with `status`, the security headers and `cookies`.
pub fn html(status: StatusCode, template: &impl Template, cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let body = match template.render() {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "template failed");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("this page failed to render");
        }
    };
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.body(body)
}

/// A page for `visitor`: 200 and the visitor's cookies.
pub fn ok(visitor: &Visitor, template: &impl Template) -> HttpResponse {
    html(StatusCode::OK, template, visitor.cookies())
}

/// After a form: 303 to `location`, with `cookies`.
pub fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, location));
    for cookie in cookies {
        response.cookie(cookie);
    }
    response.finish()
}
