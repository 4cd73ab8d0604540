//! `/admin/inventory?sku=`: one SKU's stock (on hand, reserved, available,
//! sold), its open reservations with their expiry, and the forms that set or
//! adjust it with a reason, through the API's front doors.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_http::errors::ApiError;
use mercato_http::routes::inventory::{adjust_stock, set_stock};
use mercato_http::AppState;
use serde::Deserialize;

use super::{ConsoleError, ConsoleLayout, Staff};
use crate::error::PageError;
use crate::form::{is_client_error, refusal, Errors};
use crate::page;
use crate::view::when;

/// Reservations the page lists at most.
const RESERVATIONS: usize = 50;

/// A SKU's figures.
pub struct Level {
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
    pub sold: u64,
}

#[derive(Template)]
#[template(path = "console/inventory.html")]
struct InventoryPage {
    layout: ConsoleLayout,
    sku: String,
    product: Option<u64>,
    level: Option<Level>,
    /// `(id, qty, expires)`.
    reservations: Vec<(String, u64, String)>,
    /// The forms' values as typed.
    on_hand: String,
    delta: String,
    reason: String,
    errors: Errors,
    done: Option<&'static str>,
}

/// The page's query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InventoryQuery {
    sku: String,
    done: String,
}

/// The set and adjust forms as posted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StockForm {
    csrf: String,
    on_hand: String,
    delta: String,
    reason: String,
}

async fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    sku: &str,
    form: StockForm,
    errors: Errors,
    done: Option<&'static str>,
) -> Result<HttpResponse, ConsoleError> {
    let sku = sku.trim().to_string();
    let (level, reservations) = match sku.is_empty() {
        true => (None, Vec::new()),
        false => {
            let level = state.inventory.level(&sku).await.map_err(ApiError::from)?;
            let open = state
                .inventory
                .reservations(&sku, RESERVATIONS)
                .await
                .map_err(ApiError::from)?;
            let rows = open
                .into_iter()
                .map(|(id, hold)| (id, hold.qty, when(hold.expires_at)))
                .collect();
            let level = Level {
                on_hand: level.on_hand,
                reserved: level.reserved,
                available: level.available,
                sold: level.sold,
            };
            (Some(level), rows)
        }
    };
    let view = InventoryPage {
        layout: ConsoleLayout::of(staff, "inventory", format!("Stock {sku}")),
        product: state.catalog.prices().get(&sku).map(|entry| entry.product_id),
        level,
        reservations,
        on_hand: form.on_hand,
        delta: form.delta,
        reason: form.reason,
        errors,
        done,
        sku,
    };
    Ok(page::html(status, &view, staff.visitor.cookies()))
}

/// `GET /admin/inventory?sku=`.
#[get("/admin/inventory")]
pub async fn show(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<InventoryQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let done = match query.done.as_str() {
        "set" => Some("Stock set."),
        "adjusted" => Some("Stock adjusted; the reason is in the SKU's audit trail."),
        _ => None,
    };
    if !query.sku.trim().is_empty() {
        mercato_http::validate::sku(query.sku.trim())
            .map_err(|_| PageError::NotFound("That is not a SKU: letters, digits, dot, dash and underscore.".into()))?;
    }
    render(
        &staff,
        &state,
        StatusCode::OK,
        &query.sku,
        StockForm::default(),
        Errors::default(),
        done,
    )
    .await
}

/// The API's refusal on the field it names.
fn refused(err: &ApiError, fallback: &'static str) -> Errors {
    let known = [
        (
            "below_reserved",
            fallback,
            "That would leave fewer units than are reserved now.",
        ),
        (
            "on_hand_out_of_range",
            fallback,
            "That would take the stock below zero.",
        ),
    ];
    refusal(err, fallback, &known)
}

/// `POST /admin/inventory/{sku}/{action}`: `set` or `adjust`.
#[post("/admin/inventory/{sku}/{action}")]
pub async fn change(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<StockForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (sku, action) = path.into_inner();
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    let (outcome, field, done) = match action.as_str() {
        "set" => match form.on_hand.trim().parse::<u64>() {
            Ok(on_hand) => (set_stock(&state, &sku, on_hand).await, "on_hand", "set"),
            Err(_) => (
                Err(ApiError::invalid_field(
                    "on_hand",
                    "Enter the units on hand, a whole number.",
                )),
                "on_hand",
                "set",
            ),
        },
        "adjust" => match form.delta.trim().trim_start_matches('+').parse::<i64>() {
            Ok(delta) => (
                adjust_stock(&state, &sku, delta, form.reason.trim().to_string()).await,
                "delta",
                "adjusted",
            ),
            Err(_) => (
                Err(ApiError::invalid_field(
                    "delta",
                    "Enter a whole number of units, such as 5 or -2.",
                )),
                "delta",
                "adjusted",
            ),
        },
        _ => return Err(PageError::NotFound("There is no such stock action.".into()).into()),
    };
    match outcome {
        Ok(_) => {
            tracing::info!(operator = %staff.email, sku, action, "console changed stock");
            let query = serde_urlencoded::to_string([("sku", sku.as_str()), ("done", done)]).unwrap_or_default();
            Ok(page::see_other(
                &format!("/admin/inventory?{query}"),
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => {
            let errors = refused(&err, field);
            render(
                &staff,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &sku,
                form,
                errors,
                None,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}
