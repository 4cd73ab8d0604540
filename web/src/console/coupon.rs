//! `/admin/coupons/{code}`: change a coupon's percent off and the uses it
//! allows (admins only, as in the API), through `update_coupon`; and the
//! confirmation steps before a coupon or a promotion ends.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_actors::promotion::RulesCommand;
use mercato_http::errors::ApiError;
use mercato_http::routes::coupons::{update_coupon, CouponBody, CouponChange};
use mercato_http::AppState;
use serde::Deserialize;

use super::coupons::{coupons_admin, percent, refused, whole};
use super::{Confirm, ConsoleError, ConsoleLayout, Staff};
use crate::error::PageError;
use crate::form::{is_client_error, Errors};
use crate::page;

#[derive(Template)]
#[template(path = "console/coupon.html")]
struct CouponPage {
    layout: ConsoleLayout,
    code: String,
    /// A fixed amount off, in words (`None`: a percent coupon).
    fixed: Option<String>,
    percent: String,
    max_uses: String,
    uses: u64,
    errors: Errors,
}

/// The form as posted (and as shown).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CouponEdit {
    csrf: String,
    percent: String,
    max_uses: String,
}

async fn coupon_of(state: &AppState, code: &str) -> Result<CouponBody, PageError> {
    let rules = state.promotions.call(RulesCommand::Get).await.map_err(ApiError::from)?;
    rules
        .coupons
        .values()
        .find(|coupon| coupon.code.eq_ignore_ascii_case(code))
        .map(CouponBody::of)
        .ok_or_else(|| PageError::NotFound(format!("There is no coupon {code}.")))
}

fn render(staff: &Staff, status: StatusCode, coupon: &CouponBody, form: CouponEdit, errors: Errors) -> HttpResponse {
    let view = CouponPage {
        layout: ConsoleLayout::of(staff, "coupons", format!("Coupon {}", coupon.code)),
        code: coupon.code.clone(),
        fixed: match (coupon.amount_off, &coupon.currency) {
            (Some(amount), Some(currency)) => Some(format!("{} off", format_money(amount, currency))),
            _ => None,
        },
        percent: form.percent,
        max_uses: form.max_uses,
        uses: coupon.uses,
        errors,
    };
    page::html(status, &view, staff.visitor.cookies())
}

/// `GET /admin/coupons/{code}`.
#[get("/admin/coupons/{code}")]
pub async fn edit(
    staff: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    coupons_admin(&staff)?;
    let coupon = coupon_of(&state, &code).await?;
    let form = CouponEdit {
        csrf: String::new(),
        percent: coupon.percent.map(|p| p.to_string()).unwrap_or_default(),
        max_uses: coupon.max_uses.map(|n| n.to_string()).unwrap_or_default(),
    };
    Ok(render(&staff, StatusCode::OK, &coupon, form, Errors::default()))
}

/// `POST /admin/coupons/{code}`.
#[post("/admin/coupons/{code}")]
pub async fn update(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Form<CouponEdit>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    coupons_admin(&staff)?;
    let coupon = coupon_of(&state, &code).await?;
    let mut errors = Errors::default();
    let percent = match coupon.percent {
        Some(_) => percent("percent", &form.percent, &mut errors),
        None => None,
    };
    let max_uses = whole(
        "max_uses",
        &form.max_uses,
        &mut errors,
        "Enter a whole number of uses, or leave it empty.",
    );
    if !errors.is_empty() {
        return Ok(render(&staff, StatusCode::UNPROCESSABLE_ENTITY, &coupon, form, errors));
    }
    let change = CouponChange {
        percent,
        max_uses: Some(max_uses),
        ..CouponChange::default()
    };
    match update_coupon(&state, &coupon.code, change).await {
        Ok(_) => {
            tracing::info!(admin = %staff.email, code = %coupon.code, "console changed a coupon");
            Ok(page::see_other("/admin/coupons?done=changed", staff.visitor.cookies()))
        }
        Err(err) if is_client_error(&err) => {
            let errors = refused(&err, "percent");
            Ok(render(&staff, StatusCode::UNPROCESSABLE_ENTITY, &coupon, form, errors))
        }
        Err(err) => Err(err.into()),
    }
}

/// `GET /admin/coupons/{code}/end`: the confirmation step.
#[get("/admin/coupons/{code}/end")]
pub async fn confirm_end(
    staff: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    coupons_admin(&staff)?;
    let coupon = coupon_of(&state, &code).await?;
    let consequences = "It stops applying now: carts holding it lose its discount at their next change. \
        Orders already placed keep theirs.";
    let step = Confirm::new(
        &staff,
        "coupons",
        format!("End the coupon {} now?", coupon.code),
        consequences,
    )
    .form(
        format!("/admin/coupons/{}/end", coupon.code),
        "End the coupon",
        "/admin/coupons".into(),
    );
    Ok(step.page(&staff, StatusCode::OK))
}

/// `GET /admin/promotions/{id}/end`: the confirmation step.
#[get("/admin/promotions/{id}/end")]
pub async fn confirm_end_promotion(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ConsoleError> {
    coupons_admin(&staff)?;
    let rules = state.promotions.call(RulesCommand::Get).await.map_err(ApiError::from)?;
    let promotion = rules
        .promotions
        .get(&id)
        .ok_or_else(|| PageError::NotFound("There is no such promotion (any more).".into()))?;
    let consequences = "It is removed: carts are priced without it from now on. Orders already placed keep \
        their discount.";
    let step = Confirm::new(
        &staff,
        "coupons",
        format!("End the promotion {}?", promotion.name),
        consequences,
    )
    .form(
        format!("/admin/promotions/{id}/end"),
        "End the promotion",
        "/admin/coupons".into(),
    );
    Ok(step.page(&staff, StatusCode::OK))
}
