//! `/admin/products/new` and `/admin/products/{id}`: create, edit and
//! archive a product. The forms go through the API's own checks
//! (`NewProduct::validated`, `ProductChange::validated`) and the catalog's
//! front door; a price change says how many open carts it re-prices.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::{decimal_amount, parse_amount};
use mercato_http::errors::ApiError;
use mercato_http::routes::products::{body_of, NewProduct, ProductBody, ProductChange, StatusBody};
use mercato_http::AppState;
use serde::Deserialize;

use super::{Confirm, ConsoleError, ConsoleLayout, Staff};
use crate::form::{is_client_error, refusal, CsrfForm, Errors};
use crate::page;

/// The product form as posted (and as shown).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProductForm {
    csrf: String,
    sku: String,
    name: String,
    description: String,
    category_id: String,
    price: String,
    currency: String,
    /// One `key: value` per line.
    attributes: String,
    /// `active` or `archived`.
    status: String,
}

impl ProductForm {
    fn of(product: &ProductBody) -> Self {
        ProductForm {
            csrf: String::new(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            category_id: product.category_id.to_string(),
            price: decimal_amount(product.price, &product.currency),
            currency: product.currency.clone(),
            attributes: product.attributes.iter().map(|(k, v)| format!("{k}: {v}\n")).collect(),
            status: match product.status {
                StatusBody::Active => "active".into(),
                StatusBody::Archived => "archived".into(),
            },
        }
    }

    /// The typed fields the API takes, or the errors of the ones that are not.
    fn parsed(&self) -> Result<(u64, u64, BTreeMap<String, String>, StatusBody), Errors> {
        let mut errors = Errors::default();
        let category = self
            .category_id
            .parse::<u64>()
            .map_err(|_| errors.add("category_id", "Choose a category."));
        let currency = self.currency.trim().to_uppercase();
        let price = parse_amount(&self.price, &currency).map_err(|message| errors.add("price", message));
        let mut attributes = BTreeMap::new();
        for line in self.attributes.lines().map(str::trim).filter(|line| !line.is_empty()) {
            match line.split_once(':') {
                Some((key, value)) => {
                    attributes.insert(key.trim().to_lowercase(), value.trim().to_string());
                }
                None => {
                    errors.add(
                        "attributes",
                        format!("Write each attribute as 'key: value' (not '{line}')."),
                    );
                    break;
                }
            }
        }
        let status = match self.status.as_str() {
            "archived" => StatusBody::Archived,
            _ => StatusBody::Active,
        };
        match (category, price, errors.is_empty()) {
            (Ok(category), Ok(price), true) => Ok((category, price, attributes, status)),
            _ => Err(errors),
        }
    }
}

#[derive(Template)]
#[template(path = "console/product.html")]
struct ProductPage {
    layout: ConsoleLayout,
    /// `None` for a new product.
    id: Option<u64>,
    form: ProductForm,
    categories: Vec<(u64, String)>,
    errors: Errors,
    done: Option<String>,
}

fn categories(state: &AppState) -> Vec<(u64, String)> {
    let table = state.catalog.category_table();
    let mut named: Vec<(u64, String)> = table
        .categories
        .iter()
        .map(|category| {
            let mut path = vec![category.name.clone()];
            let mut parent = category.parent_id;
            while let Some(id) = parent {
                let Some(up) = table.categories.iter().find(|c| c.id == id) else {
                    break;
                };
                path.push(up.name.clone());
                parent = up.parent_id;
            }
            path.reverse();
            (category.id, path.join(" › "))
        })
        .collect();
    named.sort_by(|a, b| a.1.cmp(&b.1));
    named
}

fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    id: Option<u64>,
    form: ProductForm,
    errors: Errors,
    done: Option<String>,
) -> HttpResponse {
    let title = match id {
        Some(_) => format!("Product {}", form.sku),
        None => "New product".to_string(),
    };
    let view = ProductPage {
        layout: ConsoleLayout::of(staff, "products", title),
        id,
        form,
        categories: categories(state),
        errors,
        done,
    };
    page::html(status, &view, staff.visitor.cookies())
}

/// The API's refusal on the field it names.
fn refused(err: &ApiError) -> Errors {
    let known = [
        ("sku_taken", "sku", "Another product has this SKU."),
        (
            "category_not_found",
            "category_id",
            "That category does not exist (any more).",
        ),
    ];
    refusal(err, "name", &known)
}

/// `GET /admin/products/new`.
#[get("/admin/products/new")]
pub async fn new_form(staff: Staff, state: web::Data<AppState>) -> HttpResponse {
    let form = ProductForm {
        currency: "EUR".into(),
        status: "active".into(),
        ..ProductForm::default()
    };
    render(&staff, &state, StatusCode::OK, None, form, Errors::default(), None)
}

/// `POST /admin/products/new`.
#[post("/admin/products/new")]
pub async fn create(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<ProductForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let (category_id, price, attributes, status) = match form.parsed() {
        Ok(parsed) => parsed,
        Err(errors) => return Ok(render(&staff, &state, unprocessable, None, form, errors, None)),
    };
    let new = NewProduct {
        sku: form.sku.trim().to_string(),
        name: form.name.clone(),
        description: form.description.clone(),
        category_id,
        price,
        currency: form.currency.trim().to_uppercase(),
        attributes,
        seller_id: None,
        images: Vec::new(),
        status: Some(status),
    };
    let created = match new.validated() {
        Ok(fields) => state.catalog.create_product(fields).await.map_err(ApiError::from),
        Err(err) => Err(err),
    };
    match created {
        Ok(product) => {
            tracing::info!(operator = %staff.email, product = product.product.id, "console created a product");
            Ok(page::see_other(
                &format!("/admin/products/{}?done=created", product.product.id),
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => Ok(render(&staff, &state, unprocessable, None, form, refused(&err), None)),
        Err(err) => Err(err.into()),
    }
}

/// What was just done, from the query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
    repriced: Option<usize>,
}

/// `GET /admin/products/{id}`.
#[get("/admin/products/{id}")]
pub async fn edit_form(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let product = body_of(&state, state.catalog.product(*id).await.map_err(ApiError::from)?).await;
    let done = match (query.done.as_str(), query.repriced) {
        ("created", _) => Some("Created. It is searchable within a second.".to_string()),
        ("saved", Some(n)) => Some(format!(
            "Saved. The new price applies to the {n} open {} holding it.",
            if n == 1 { "cart" } else { "carts" }
        )),
        ("saved", None) => Some("Saved.".to_string()),
        ("archived", _) => Some("Archived: kept for orders, no longer in search or for sale.".to_string()),
        _ => None,
    };
    Ok(render(
        &staff,
        &state,
        StatusCode::OK,
        Some(product.id),
        ProductForm::of(&product),
        Errors::default(),
        done,
    ))
}

/// `POST /admin/products/{id}`.
#[post("/admin/products/{id}")]
pub async fn update(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    form: web::Form<ProductForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    staff.check_form(&req, &form.csrf)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let before = state.catalog.product(id).await.map_err(ApiError::from)?;
    let (category_id, price, attributes, status) = match form.parsed() {
        Ok(parsed) => parsed,
        Err(errors) => return Ok(render(&staff, &state, unprocessable, Some(id), form, errors, None)),
    };
    let change = ProductChange {
        sku: Some(form.sku.trim().to_string()),
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        category_id: Some(category_id),
        price: Some(price),
        currency: Some(form.currency.trim().to_uppercase()),
        attributes: Some(attributes),
        status: Some(status),
        ..ProductChange::default()
    };
    let updated = match change.validated() {
        Ok(patch) => state.catalog.update_product(id, patch).await.map_err(ApiError::from),
        Err(err) => Err(err),
    };
    match updated {
        Ok(product) => {
            tracing::info!(operator = %staff.email, product = id, "console changed a product");
            let (now, was) = (&product.product.fields, &before.product.fields);
            let repriced = match now.price != was.price || now.currency != was.currency {
                true => format!("&repriced={}", state.carts.holding(&now.sku)),
                false => String::new(),
            };
            Ok(page::see_other(
                &format!("/admin/products/{id}?done=saved{repriced}"),
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => Ok(render(
            &staff,
            &state,
            unprocessable,
            Some(id),
            form,
            refused(&err),
            None,
        )),
        Err(err) => Err(err.into()),
    }
}

/// `GET /admin/products/{id}/archive`: the confirmation step.
#[get("/admin/products/{id}/archive")]
pub async fn confirm_archive(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ConsoleError> {
    let product = state.catalog.product(*id).await.map_err(ApiError::from)?.product;
    let back = format!("/admin/products/{}", product.id);
    let heading = format!("Archive {} ({})?", product.fields.name, product.fields.sku);
    let consequences = "It stays in orders and history but leaves search and can no longer be bought; \
        carts holding it are told. You can make it active again by editing it.";
    let view = Confirm::new(&staff, "products", heading, consequences).form(format!("{back}/archive"), "Archive", back);
    Ok(view.page(&staff, StatusCode::OK))
}

/// `POST /admin/products/{id}/archive`.
#[post("/admin/products/{id}/archive")]
pub async fn archive(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    let change = ProductChange {
        status: Some(StatusBody::Archived),
        ..ProductChange::default()
    };
    state
        .catalog
        .update_product(*id, change.validated()?)
        .await
        .map_err(ApiError::from)?;
    tracing::info!(operator = %staff.email, product = *id, "console archived a product");
    Ok(page::see_other(
        &format!("/admin/products/{id}?done=archived"),
        staff.visitor.cookies(),
    ))
}
