//! `/account`: the signed-in customer's profile, address book and order
//! history, through the same account facade as `/v1/me`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::account::address::Address;
use mercato_actors::account::user::Profile;
use mercato_actors::money::format_money;
use mercato_http::errors::ApiError;
use mercato_http::routes::order_body::order_body;
use mercato_http::AppState;
use serde::Deserialize;

use crate::error::PageError;
use crate::form::{field_error, AddressForm, CsrfForm, Errors, FieldError};
use crate::page::{self, Layout};
use crate::pages::order::status_words;
use crate::visitor::Visitor;

/// An order in the history.
struct OrderRow {
    href: String,
    short_id: String,
    placed: String,
    status: &'static str,
    total: String,
}

/// A saved address.
struct AddressRow {
    id: u32,
    lines: String,
    is_default: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    csrf: String,
    email: String,
    /// The profile's name.
    display_name: String,
    addresses: Vec<AddressRow>,
    orders: Vec<OrderRow>,
    /// The add-address form, kept after an error.
    address: AddressForm,
    errors: Errors,
}

fn one_line(address: &Address) -> String {
    [
        Some(address.name.as_str()),
        Some(address.line1.as_str()),
        address.line2.as_deref(),
        Some(address.postal_code.as_str()),
        Some(address.city.as_str()),
        Some(address.country.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

async fn orders_of(state: &AppState, profile: &Profile) -> Vec<OrderRow> {
    let mut rows = Vec::new();
    for id in profile.orders.iter().rev() {
        let Ok(order) = state.orders.get(id).await else {
            continue;
        };
        let Ok(body) = order_body(state, id, &order) else {
            continue;
        };
        rows.push(OrderRow {
            href: format!("/orders/{id}"),
            short_id: id.chars().take(8).collect(),
            placed: body.placed_at.chars().take(10).collect(),
            status: status_words(body.status),
            total: format_money(body.total, &body.currency),
        });
    }
    rows
}

/// Where a visitor who is not signed in goes.
fn sign_in_first(visitor: &Visitor) -> HttpResponse {
    page::see_other("/login?next=/account", visitor.cookies())
}

async fn render(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    address: AddressForm,
    errors: Errors,
) -> Result<HttpResponse, PageError> {
    let Some(user) = visitor.user_id() else {
        return Ok(sign_in_first(visitor));
    };
    let profile = state.accounts.profile(user).await.map_err(ApiError::from)?;
    let page = AccountPage {
        layout: Layout::of(state, visitor, "Your account").await.private(),
        csrf: visitor.csrf.clone(),
        orders: orders_of(state, &profile).await,
        addresses: profile
            .addresses
            .iter()
            .map(|saved| AddressRow {
                id: saved.id,
                lines: one_line(&saved.address),
                is_default: saved.is_default,
            })
            .collect(),
        email: profile.email,
        display_name: profile.name.unwrap_or_default(),
        address,
        errors,
    };
    Ok(page::html(status, &page, visitor.cookies()))
}

/// `GET /account`.
#[get("/account")]
pub async fn show(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    render(
        &state,
        &visitor,
        StatusCode::OK,
        AddressForm::default(),
        Errors::default(),
    )
    .await
}

/// The profile form.
#[derive(Deserialize)]
pub struct ProfileForm {
    csrf: String,
    /// Named apart from the address form's `name` on the same page.
    #[serde(default, rename = "profile-name")]
    name: String,
}

/// `POST /account/profile`: changes the name.
#[post("/account/profile")]
pub async fn update_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let Some(user) = visitor.user_id().map(str::to_string) else {
        return Ok(sign_in_first(&visitor));
    };
    let name = (!form.name.trim().is_empty()).then(|| form.name.trim().to_string());
    match state.accounts.update_profile(&user, Some(name), None).await {
        Ok(_) => Ok(page::see_other("/account", visitor.cookies())),
        Err(err) => {
            let message = field_error(&ApiError::from(err), "name").message;
            let errors = Errors(vec![FieldError {
                field: "profile-name",
                message,
            }]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &visitor, status, AddressForm::default(), errors).await
        }
    }
}

/// The add-address form.
#[derive(Deserialize)]
pub struct NewAddressForm {
    csrf: String,
    #[serde(flatten)]
    address: AddressForm,
}

/// `POST /account/addresses`: saves an address (the first becomes the default).
#[post("/account/addresses")]
pub async fn add_address(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<NewAddressForm>,
) -> Result<HttpResponse, PageError> {
    let NewAddressForm { csrf, address } = form.into_inner();
    visitor.check_form(&req, &csrf)?;
    let Some(user) = visitor.user_id().map(str::to_string) else {
        return Ok(sign_in_first(&visitor));
    };
    let mut errors = Errors::default();
    address.check_required(&mut errors);
    if errors.is_empty() {
        let saved = match Address::from(address.fields()).validated() {
            Ok(valid) => state
                .accounts
                .add_address(&user, valid, false)
                .await
                .map_err(ApiError::from),
            Err(err) => Err(ApiError::invalid_field(err.field, err.message)),
        };
        match saved {
            Ok(_) => return Ok(page::see_other("/account", visitor.cookies())),
            Err(err) => errors.0.push(field_error(&err, "line1")),
        }
    }
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(&state, &visitor, status, address, errors).await
}

/// `POST /account/addresses/{id}/remove`.
#[post("/account/addresses/{id}/remove")]
pub async fn remove_address(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<u32>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&req, &form.csrf)?;
    let Some(user) = visitor.user_id().map(str::to_string) else {
        return Ok(sign_in_first(&visitor));
    };
    state
        .accounts
        .remove_address(&user, id.into_inner())
        .await
        .map_err(ApiError::from)?;
    Ok(page::see_other("/account", visitor.cookies()))
}
