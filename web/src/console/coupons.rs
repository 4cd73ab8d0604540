//! `/admin/coupons`: coupons (create, end; [`super::coupon`] changes one) and
//! automatic promotions (create, end), for admins only, as in the API (`/v1/admin/coupons` is an admin
//! route). Through the API's front doors, with its refusals in words.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::{decimal_amount, format_money, parse_amount};
use mercato_actors::promotion::RulesCommand;
use mercato_actors::runtime::now_millis;
use mercato_http::errors::ApiError;
use mercato_http::routes::coupons::{create_coupon, update_coupon, CouponBody, CouponChange, NewCoupon};
use mercato_http::routes::promotions::{create_promotion_from, NewPromotion, PromotionBody, TierBody};
use mercato_http::AppState;
use serde::Deserialize;

use super::{ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::{is_client_error, refusal, CsrfForm, Errors};
use crate::page;
use crate::view::utc;

/// A coupon as a row.
pub struct CouponRow {
    pub code: String,
    pub discount: String,
    pub conditions: String,
    pub uses: String,
    pub ends: String,
    pub ended: bool,
}

/// A promotion as a row.
pub struct PromotionRow {
    pub id: u64,
    pub name: String,
    pub rule: String,
}

fn coupon_row(coupon: &CouponBody, now: &str) -> CouponRow {
    let discount = match (coupon.percent, coupon.amount_off, &coupon.currency) {
        (Some(percent), _, _) => format!("{percent} % off"),
        (_, Some(amount), Some(currency)) => format!("{} off", format_money(amount, currency)),
        _ => "–".to_string(),
    };
    let mut conditions = Vec::new();
    if coupon.min_subtotal > 0 {
        conditions.push(format!(
            "from a subtotal of {}",
            decimal_amount(coupon.min_subtotal, "")
        ));
    }
    if !coupon.scope.categories.is_empty() || !coupon.scope.skus.is_empty() {
        conditions.push("on some products only".to_string());
    }
    let ended = coupon.ends_at.as_deref().is_some_and(|ends| ends <= now);
    CouponRow {
        code: coupon.code.clone(),
        discount,
        conditions: if conditions.is_empty() {
            "whole cart".into()
        } else {
            conditions.join(", ")
        },
        uses: match coupon.max_uses {
            Some(max) => format!("{} of {max}", coupon.uses),
            None => coupon.uses.to_string(),
        },
        ends: coupon.ends_at.as_deref().map_or("never".into(), utc),
        ended,
    }
}

fn promotion_row(promotion: &PromotionBody) -> PromotionRow {
    let rule = match (&promotion.buy_x_get_y, &promotion.tiers) {
        (Some(offer), _) => format!("buy {} of {}, get {} free", offer.buy, offer.sku, offer.get),
        (_, Some(tiers)) => tiers
            .iter()
            .map(|tier| {
                format!(
                    "{} % off from a subtotal of {}",
                    tier.percent,
                    decimal_amount(tier.min_subtotal, "")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => "–".into(),
    };
    PromotionRow {
        id: promotion.id,
        name: promotion.name.clone(),
        rule,
    }
}

/// The coupon form as posted (and as shown).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CouponForm {
    csrf: String,
    code: String,
    percent: String,
    max_uses: String,
}

/// The promotion form as posted (and as shown).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PromotionForm {
    csrf: String,
    name: String,
    min_subtotal: String,
    currency: String,
    tier_percent: String,
}

#[derive(Template)]
#[template(path = "console/coupons.html")]
struct CouponsPage {
    layout: ConsoleLayout,
    coupons: Vec<CouponRow>,
    promotions: Vec<PromotionRow>,
    coupon: CouponForm,
    promotion: PromotionForm,
    errors: Errors,
    done: Option<&'static str>,
}

async fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    coupon: CouponForm,
    promotion: PromotionForm,
    errors: Errors,
    done: Option<&'static str>,
) -> Result<HttpResponse, ConsoleError> {
    let rules = state.promotions.call(RulesCommand::Get).await.map_err(ApiError::from)?;
    let now = mercato_http::format::rfc3339(now_millis());
    let view = CouponsPage {
        layout: ConsoleLayout::of(staff, "coupons", "Coupons and promotions"),
        coupons: rules
            .coupons
            .values()
            .map(|c| coupon_row(&CouponBody::of(c), &now))
            .collect(),
        promotions: rules
            .promotions
            .values()
            .map(|p| promotion_row(&PromotionBody::of(p)))
            .collect(),
        coupon,
        promotion,
        errors,
        done,
    };
    Ok(page::html(status, &view, staff.visitor.cookies()))
}

/// `GET /admin/coupons`.
#[get("/admin/coupons")]
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    coupons_admin(&staff)?;
    let done = match query.done.as_str() {
        "coupon" => Some("Coupon created."),
        "changed" => Some("Coupon changed; carts holding it are priced with it from now on."),
        "ended" => Some("Coupon ended: carts holding it no longer get its discount."),
        "promotion" => Some("Promotion created; carts are priced with it from now on."),
        "promotion-ended" => Some("Promotion ended."),
        _ => None,
    };
    render(
        &staff,
        &state,
        StatusCode::OK,
        CouponForm::default(),
        PromotionForm::default(),
        Errors::default(),
        done,
    )
    .await
}

/// Refuses anyone but an admin: coupons and promotions are theirs.
pub(super) fn coupons_admin(staff: &Staff) -> Result<(), PageError> {
    staff.admin_only("Only admins manage coupons and promotions.")
}

/// A whole percent from 1 to 100 typed in `field`, or its error.
pub(super) fn percent(field: &'static str, text: &str, errors: &mut Errors) -> Option<u8> {
    let percent = text.trim().parse::<u8>().ok().filter(|p| (1..=100).contains(p));
    if percent.is_none() {
        errors.add(field, "Enter a whole percent from 1 to 100.");
    }
    percent
}

pub(super) fn whole(field: &'static str, text: &str, errors: &mut Errors, words: &str) -> Option<u64> {
    match text.trim() {
        "" => None,
        text => text.parse().map_err(|_| errors.add(field, words.to_string())).ok(),
    }
}

pub(super) fn refused(err: &ApiError, fallback: &'static str) -> Errors {
    refusal(
        err,
        fallback,
        &[("coupon_code_taken", "code", "A coupon with this code exists.")],
    )
}

/// `POST /admin/coupons`: creates a percent-off coupon.
#[post("/admin/coupons")]
pub async fn create(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<CouponForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    coupons_admin(&staff)?;
    let mut errors = Errors::default();
    let percent = percent("percent", &form.percent, &mut errors);
    let max_uses = whole(
        "max_uses",
        &form.max_uses,
        &mut errors,
        "Enter a whole number of uses, or leave it empty.",
    );
    let (Some(percent), true) = (percent, errors.is_empty()) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(&staff, &state, status, form, PromotionForm::default(), errors, None).await;
    };
    let coupon = NewCoupon {
        code: form.code.clone(),
        percent: Some(percent),
        amount_off: None,
        currency: None,
        scope: Default::default(),
        min_subtotal: 0,
        starts_at: None,
        ends_at: None,
        max_uses,
        max_uses_per_customer: None,
    };
    let outcome = create_coupon(&state, coupon)
        .await
        .map_err(|err| (refused(&err, "code"), err));
    match outcome {
        Ok(coupon) => {
            tracing::info!(admin = %staff.email, code = %coupon.code, "console created a coupon");
            Ok(page::see_other("/admin/coupons?done=coupon", staff.visitor.cookies()))
        }
        Err((errors, err)) if is_client_error(&err) => {
            render(
                &staff,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                PromotionForm::default(),
                errors,
                None,
            )
            .await
        }
        Err((_, err)) => Err(err.into()),
    }
}

/// `POST /admin/coupons/{code}/end`: the coupon stops applying now.
#[post("/admin/coupons/{code}/end")]
pub async fn end(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    coupons_admin(&staff)?;
    let change = CouponChange {
        ends_at: Some(Some(now_millis())),
        ..CouponChange::default()
    };
    update_coupon(&state, &code, change).await?;
    tracing::info!(admin = %staff.email, code = %code, "console ended a coupon");
    Ok(page::see_other("/admin/coupons?done=ended", staff.visitor.cookies()))
}

/// `POST /admin/promotions`: creates a "spend X, save Y %" promotion.
#[post("/admin/promotions")]
pub async fn create_promotion(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<PromotionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    coupons_admin(&staff)?;
    let mut errors = Errors::default();
    let currency = form.currency.trim().to_uppercase();
    let min_subtotal = parse_amount(&form.min_subtotal, &currency)
        .map_err(|words| errors.add("min_subtotal", words))
        .ok();
    let percent = percent("tier_percent", &form.tier_percent, &mut errors);
    if form.name.trim().is_empty() {
        errors.add("name", "Name the promotion; shoppers see the name.");
    }
    let (Some(min_subtotal), Some(percent), true) = (min_subtotal, percent, errors.is_empty()) else {
        return render(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            CouponForm::default(),
            form,
            errors,
            None,
        )
        .await;
    };
    let promotion = NewPromotion {
        name: form.name.trim().to_string(),
        buy_x_get_y: None,
        tiers: Some(vec![TierBody { min_subtotal, percent }]),
        starts_at: None,
        ends_at: None,
    };
    match create_promotion_from(&state, promotion).await {
        Ok(promotion) => {
            tracing::info!(admin = %staff.email, promotion = promotion.id, "console created a promotion");
            Ok(page::see_other(
                "/admin/coupons?done=promotion",
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => {
            let errors = refused(&err, "name");
            render(
                &staff,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                CouponForm::default(),
                form,
                errors,
                None,
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /admin/promotions/{id}/end`.
#[post("/admin/promotions/{id}/end")]
pub async fn end_promotion(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    coupons_admin(&staff)?;
    mercato_http::routes::promotions::end_promotion(&state, *id).await?;
    tracing::info!(admin = %staff.email, promotion = *id, "console ended a promotion");
    Ok(page::see_other(
        "/admin/coupons?done=promotion-ended",
        staff.visitor.cookies(),
    ))
}
