//! Product routes: one product, operator changes, and faceted search.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use futures_util::future::join_all;
use mercato_actors::catalog::{IndexedProduct, ProductFields, ProductPatch, ProductStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::validate;
use crate::AppState;

/// Longest product name.
const MAX_NAME_LEN: usize = 200;
/// Longest description.
const MAX_DESCRIPTION_LEN: usize = 20_000;
/// Highest price, in minor units.
const MAX_PRICE: u64 = 1_000_000_000_000;

/// `active` or `archived`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusBody {
    /// Listed and searchable.
    Active,
    /// Kept for history; not searchable.
    Archived,
}

impl From<StatusBody> for ProductStatus {
    fn from(status: StatusBody) -> Self {
        match status {
            StatusBody::Active => ProductStatus::Active,
            StatusBody::Archived => ProductStatus::Archived,
        }
    }
}

impl From<ProductStatus> for StatusBody {
    fn from(status: ProductStatus) -> Self {
        match status {
            ProductStatus::Active => StatusBody::Active,
            ProductStatus::Archived => StatusBody::Archived,
        }
    }
}

/// A product, with its stock read from its SKU actor.
#[derive(Serialize, ToSchema)]
pub struct ProductBody {
    pub id: u64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: u64,
    /// Minor units of `currency`.
    pub price: u64,
    pub currency: String,
    pub attributes: BTreeMap<String, String>,
    pub seller_id: Option<String>,
    pub images: Vec<String>,
    pub status: StatusBody,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// Units that can be reserved now (`null` if the SKU actor could not answer).
    pub available: Option<u64>,
    /// `available > 0` and the product is active.
    pub is_available: bool,
}

/// A product as the API shows it, with its stock as the SKU actor last
/// published it (no message when the actor is live: a page of 20 products
/// asked each SKU actor before; the figure can be ahead of durable state by one
/// group commit, never behind, and is for display only).
pub async fn body_of(state: &AppState, view: IndexedProduct) -> ProductBody {
    let product = view.product;
    let fields = product.fields;
    let available = state
        .inventory
        .displayed_level(&fields.sku)
        .await
        .ok()
        .map(|level| level.available);
    ProductBody {
        id: product.id,
        is_available: fields.status == ProductStatus::Active && available.is_some_and(|units| units > 0),
        available,
        sku: fields.sku,
        name: fields.name,
        description: fields.description,
        category_id: fields.category_id,
        price: fields.price,
        currency: fields.currency,
        attributes: fields.attributes,
        seller_id: fields.seller_id,
        images: fields.images,
        status: fields.status.into(),
        created_at: rfc3339(product.created_at),
        updated_at: rfc3339(product.updated_at),
    }
}

/// `POST /v1/products`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// `[A-Za-z0-9._-]{1,64}`, unique; names the stock counter.
    pub sku: String,
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 20,000 characters.
    #[serde(default)]
    pub description: String,
    pub category_id: u64,
    /// Minor units, 0..=10^12.
    pub price: u64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// Up to 50; keys `[a-z0-9_]{1,40}`, values 1 to 200 characters.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub seller_id: Option<String>,
    /// Up to 20 http(s) URLs.
    #[serde(default)]
    pub images: Vec<String>,
    /// Default `active`.
    pub status: Option<StatusBody>,
}

/// `PATCH /v1/products/{id}`: absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<u64>,
    pub price: Option<u64>,
    pub currency: Option<String>,
    /// Replaces all attributes.
    pub attributes: Option<BTreeMap<String, String>>,
    /// null removes the seller.
    #[serde(default, deserialize_with = "crate::patch::present")]
    #[schema(value_type = Option<String>)]
    pub seller_id: Option<Option<String>>,
    /// Replaces all images.
    pub images: Option<Vec<String>>,
    pub status: Option<StatusBody>,
}

/// Checks every field a patch sets.
fn check(patch: &ProductPatch) -> Result<(), ApiError> {
    if let Some(sku) = &patch.sku {
        validate::sku(sku)?;
    }
    if let Some(name) = &patch.name {
        validate::text("name", name, MAX_NAME_LEN)?;
    }
    if let Some(description) = &patch.description {
        validate::optional_text("description", description, MAX_DESCRIPTION_LEN)?;
    }
    if let Some(price) = patch.price {
        validate::in_range("price", price, 0, MAX_PRICE)?;
    }
    if let Some(currency) = &patch.currency {
        validate::currency(currency)?;
    }
    if let Some(attributes) = &patch.attributes {
        validate::attributes(attributes.iter())?;
    }
    if let Some(Some(seller)) = &patch.seller_id {
        validate::seller_id(seller)?;
    }
    if let Some(images) = &patch.images {
        validate::images(images)?;
    }
    Ok(())
}

impl ProductChange {
    /// Checked and normalized, as the route takes it.
    pub fn validated(self) -> Result<ProductPatch, ApiError> {
        let patch = ProductPatch {
            sku: self.sku,
            name: self.name.map(|name| name.trim().to_string()),
            description: self.description,
            category_id: self.category_id,
            price: self.price,
            currency: self.currency,
            attributes: self.attributes,
            seller_id: self.seller_id,
            images: self.images,
            status: self.status.map(ProductStatus::from),
        };
        check(&patch)?;
        Ok(patch)
    }
}

impl NewProduct {
    /// Checked and normalized, as the route takes it.
    pub fn validated(self) -> Result<ProductFields, ApiError> {
        let fields = ProductFields {
            sku: self.sku,
            name: self.name.trim().to_string(),
            description: self.description,
            category_id: self.category_id,
            price: self.price,
            currency: self.currency,
            attributes: self.attributes,
            seller_id: self.seller_id,
            images: self.images,
            status: self.status.unwrap_or(StatusBody::Active).into(),
        };
        check(&ProductPatch::from(fields.clone()))?;
        Ok(fields)
    }
}

/// One product with its current stock, by id or by SKU.
#[utoipa::path(get, path = "/v1/products/{id}", operation_id = "get_product", tag = "catalog",
    params(("id" = String, Path, description = "the product id, or its SKU")),
    responses((status = 200, body = ProductBody), (status = 404, description = "`product_not_found`")))]
#[get("/{id}")]
pub async fn get_one(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = match id.parse::<u64>() {
        Ok(id) => id,
        Err(_) => state
            .catalog
            .prices()
            .get(&id)
            .map(|entry| entry.product_id)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "product_not_found",
                    format!("no product has the id or SKU '{id}'"),
                )
            })?,
    };
    let product = state.catalog.product(id).await?;
    Ok(HttpResponse::Ok().json(body_of(&state, product).await))
}

/// Creates a product; it is searchable within a second.
#[utoipa::path(post, path = "/v1/products", operation_id = "create_product", tag = "catalog", security(("operator_token" = [])), request_body = NewProduct,
    responses((status = 201, body = ProductBody), (status = 401), (status = 404, description = "`category_not_found`"),
        (status = 409, description = "`sku_taken`"), (status = 422, description = "`invalid_field`, `invalid_body`")))]
#[post("")]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: web::Json<NewProduct>,
) -> Result<HttpResponse, ApiError> {
    let fields = body.into_inner().validated()?;
    let product = state.catalog.create_product(fields).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(body_of(&state, product).await))
}

/// Changes a product.
#[utoipa::path(patch, path = "/v1/products/{id}", operation_id = "update_product", tag = "catalog", security(("operator_token" = [])),
    params(("id" = u64, Path)), request_body = ProductChange,
    responses((status = 200, body = ProductBody), (status = 401), (status = 404, description = "`product_not_found`, `category_not_found`"),
        (status = 409, description = "`sku_taken`"), (status = 422)))]
#[patch("/{id}")]
pub async fn update(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Json<ProductChange>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.into_inner().validated()?;
    let product = state.catalog.update_product(id.into_inner(), patch).await?;
    Ok(HttpResponse::Ok().json(body_of(&state, product).await))
}

/// Archives a product: kept for orders and history, no longer found by search.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "catalog", security(("operator_token" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = ProductBody), (status = 401), (status = 404, description = "`product_not_found`")))]
#[delete("/{id}")]
pub async fn archive(_: Operator, state: web::Data<AppState>, id: web::Path<u64>) -> Result<HttpResponse, ApiError> {
    let patch = ProductPatch {
        status: Some(ProductStatus::Archived),
        ..ProductPatch::default()
    };
    let product = state.catalog.update_product(id.into_inner(), patch).await?;
    Ok(HttpResponse::Ok().json(body_of(&state, product).await))
}

/// Items of a search page, with stock, in the page's order.
pub async fn bodies(state: &AppState, products: Vec<IndexedProduct>) -> Vec<ProductBody> {
    join_all(products.into_iter().map(|product| body_of(state, product))).await
}
