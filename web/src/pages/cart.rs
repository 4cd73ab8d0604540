//! `/cart`: the visitor's cart, its lines with quantity forms, the coupon
//! form and the totals; the forms that change it post here and come back
//! (post/redirect/get), or show the cart again with the API's reason in words.
//! `/cart/fragment` is the cart section alone, which `live-cart.js` fetches
//! when the cart's socket says it changed in another tab.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError as _};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::errors::ApiError;
use mercato_http::routes::carts::CartBody;
use mercato_http::AppState;
use serde::Deserialize;

use crate::assets::ASSETS;
use crate::error::PageError;
use crate::page::{self, Layout};
use crate::pages::suggestions::{suggestions, Suggestions};
use crate::view::sentence;
use crate::visitor::Visitor;

/// A line as the cart page shows it.
struct LineView {
    sku: String,
    name: String,
    qty: u32,
    unit_price: String,
    line_total: String,
}

/// What the cart section shows (the page and the live fragment).
struct CartSection {
    csrf: String,
    lines: Vec<LineView>,
    subtotal: String,
    discounts: Vec<(String, String)>,
    total: String,
    coupon: Option<String>,
    warnings: Vec<String>,
    /// The reason the last change was refused, in words.
    error: Option<String>,
    /// The coupon form's own error, shown next to its field.
    coupon_error: Option<String>,
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    layout: Layout,
    cart_id: String,
    section: CartSection,
    suggestions: Suggestions,
}

#[derive(Template)]
#[template(path = "cart_section.html")]
struct CartFragment {
    section: CartSection,
}

impl CartSection {
    fn new(csrf: &str, body: Option<&CartBody>) -> Self {
        let money = |minor: u64| {
            body.and_then(|b| b.currency.as_deref())
                .map_or(String::new(), |c| format_money(minor, c))
        };
        CartSection {
            csrf: csrf.to_string(),
            lines: body.map_or_else(Vec::new, |b| {
                b.items
                    .iter()
                    .map(|item| LineView {
                        sku: item.sku.clone(),
                        name: item.name.clone(),
                        qty: item.qty,
                        unit_price: money(item.unit_price),
                        line_total: money(item.line_total),
                    })
                    .collect()
            }),
            subtotal: money(body.map_or(0, |b| b.subtotal)),
            discounts: body.map_or_else(Vec::new, |b| {
                b.discounts.iter().map(|d| (d.label.clone(), money(d.amount))).collect()
            }),
            total: money(body.map_or(0, |b| b.total)),
            coupon: body.and_then(|b| b.coupon.clone()),
            warnings: body.map_or_else(Vec::new, |b| b.warnings.iter().map(|w| w.message.clone()).collect()),
            error: None,
            coupon_error: None,
        }
    }
}

/// The visitor's open cart, if it has one.
pub async fn open_cart(state: &AppState, visitor: &Visitor) -> Option<CartBody> {
    let id = visitor.cart_id(state).await?;
    let view = state.carts.get(&id, visitor.user_id()).await.ok()?;
    (view.status.name() == "open").then(|| CartBody::new(&id, &view))
}

/// The visitor's cart to change, or a page saying the cart is empty.
async fn cart_to_change(state: &AppState, visitor: &Visitor) -> Result<String, PageError> {
    visitor
        .cart_id(state)
        .await
        .ok_or_else(|| PageError::NotFound("Your cart is empty.".into()))
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    edit: impl FnOnce(&mut CartSection),
) -> HttpResponse {
    let body = open_cart(state, visitor).await;
    let mut section = CartSection::new(&visitor.csrf, body.as_ref());
    edit(&mut section);
    let layout = Layout::of(state, visitor, "Your cart")
        .await
        .private()
        .script(ASSETS.quantity_input.url());
    let in_cart: Vec<String> = body
        .iter()
        .flat_map(|b| &b.items)
        .map(|item| item.sku.clone())
        .collect();
    let page = CartPage {
        layout,
        cart_id: body.map(|b| b.id).unwrap_or_default(),
        section,
        suggestions: suggestions(state, visitor, None, &in_cart).await,
    };
    page::html(status, &page, visitor.cookies())
}

/// `GET /cart`.
#[get("/cart")]
pub async fn show(state: web::Data<AppState>, visitor: Visitor) -> HttpResponse {
    render(&state, &visitor, StatusCode::OK, |_| {}).await
}

/// `GET /cart/fragment`: the cart section alone, for the live cart.
#[get("/cart/fragment")]
pub async fn fragment(state: web::Data<AppState>, visitor: Visitor) -> HttpResponse {
    let body = open_cart(&state, &visitor).await;
    let fragment = CartFragment {
        section: CartSection::new(&visitor.csrf, body.as_ref()),
    };
    page::html(StatusCode::OK, &fragment, visitor.cookies())
}

/// The add-to-cart form of a product page.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    sku: String,
    qty: u32,
}

/// `POST /cart/items`: adds to the visitor's cart, making one if needed.
#[post("/cart/items")]
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let mut cookies = visitor.cookies();
    let cart = match (visitor.user_id(), open_cart(&state, &visitor).await) {
        (_, Some(cart)) => cart.id,
        (Some(user), None) => {
            let id = state.accounts.current_cart(user).await.map_err(ApiError::from)?;
            state.carts.ensure(&id, Some(user)).await.map_err(ApiError::from)?;
            id
        }
        (None, None) => {
            let (id, _) = state.carts.create(None).await.map_err(ApiError::from)?;
            cookies.push(visitor.cart_cookie(&id));
            id
        }
    };
    let user = visitor.user_id();
    match state.carts.add_item(&cart, user, None, &form.sku, form.qty).await {
        Ok(_) => {
            state.views.carted(visitor.viewer(), &cart);
            Ok(page::see_other("/cart", cookies))
        }
        Err(err) => Ok(refused(&state, &visitor, cookies, ApiError::from(err), false).await),
    }
}

/// After a change: back to the cart, or the cart saying why it was refused
/// (next to the coupon field when `coupon`).
async fn after_change<T>(
    state: &AppState,
    visitor: &Visitor,
    changed: Result<T, mercato_actors::cart::CartsError>,
    coupon: bool,
) -> HttpResponse {
    match changed {
        Ok(_) => page::see_other("/cart", visitor.cookies()),
        Err(err) => refused(state, visitor, Vec::new(), ApiError::from(err), coupon).await,
    }
}

/// A cart page saying why a change was refused.
async fn refused(
    state: &AppState,
    visitor: &Visitor,
    cookies: Vec<Cookie<'static>>,
    err: ApiError,
    coupon: bool,
) -> HttpResponse {
    let status = match err.status_code() {
        StatusCode::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::NOT_FOUND | StatusCode::CONFLICT => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let message = sentence(err.message());
    let mut response = render(state, visitor, status, |section| match coupon {
        true => section.coupon_error = Some(message),
        false => section.error = Some(message),
    })
    .await;
    for cookie in cookies {
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// A line's quantity form; 0 removes the line.
#[derive(Deserialize)]
pub struct QtyForm {
    csrf: String,
    qty: u32,
}

/// `POST /cart/items/{sku}`: sets a line's quantity, or removes it at 0.
#[post("/cart/items/{sku}")]
pub async fn set_qty(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    sku: web::Path<String>,
    form: web::Form<QtyForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let cart = cart_to_change(&state, &visitor).await?;
    let changed = match form.qty {
        0 => state.carts.remove_item(&cart, visitor.user_id(), None, &sku).await,
        qty => state.carts.set_qty(&cart, visitor.user_id(), None, &sku, qty).await,
    };
    Ok(after_change(&state, &visitor, changed, false).await)
}

/// The coupon form.
#[derive(Deserialize)]
pub struct CouponForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /cart/coupon`: applies a code; `POST /cart/coupon/remove` drops it.
#[post("/cart/coupon")]
pub async fn apply_coupon(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<CouponForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let cart = cart_to_change(&state, &visitor).await?;
    if form.code.trim().is_empty() {
        let err = ApiError::invalid_field("code", "enter a coupon code");
        return Ok(refused(&state, &visitor, Vec::new(), err, true).await);
    }
    let changed = state
        .carts
        .apply_coupon(&cart, visitor.user_id(), None, form.code.trim())
        .await;
    Ok(after_change(&state, &visitor, changed, true).await)
}

/// `POST /cart/coupon/remove`.
#[post("/cart/coupon/remove")]
pub async fn remove_coupon(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<CouponForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let cart = cart_to_change(&state, &visitor).await?;
    let changed = state.carts.remove_coupon(&cart, visitor.user_id(), None).await;
    Ok(after_change(&state, &visitor, changed, true).await)
}
