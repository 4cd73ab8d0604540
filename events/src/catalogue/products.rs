//! `product.*`, `price.changed` and `category.*`.

use std::collections::BTreeMap;

use mercato_actors::catalog::state::{CatalogEvent, Category, Product, ProductStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::{rfc3339, schema_of, EventType, Mapped};

const PRODUCT_CREATED: &str = "product.created";
const PRODUCT_UPDATED: &str = "product.updated";
const PRODUCT_ARCHIVED: &str = "product.archived";
const PRICE_CHANGED: &str = "price.changed";
const CATEGORY_CREATED: &str = "category.created";
const CATEGORY_UPDATED: &str = "category.updated";
const CATEGORY_DELETED: &str = "category.deleted";

pub const TYPES: &[EventType] = &[
    EventType {
        name: PRODUCT_CREATED,
        summary: "A product was added to the catalog.",
        data: schema_of::<ProductData>,
    },
    EventType {
        name: PRODUCT_UPDATED,
        summary: "A product changed: the whole product as it is now.",
        data: schema_of::<ProductData>,
    },
    EventType {
        name: PRODUCT_ARCHIVED,
        summary: "A product was archived: no longer listed or sold (after its product.updated).",
        data: schema_of::<ProductRef>,
    },
    EventType {
        name: PRICE_CHANGED,
        summary: "A product's price moved (after its product.updated).",
        data: schema_of::<PriceChanged>,
    },
    EventType {
        name: CATEGORY_CREATED,
        summary: "A category was created.",
        data: schema_of::<CategoryData>,
    },
    EventType {
        name: CATEGORY_UPDATED,
        summary: "A category was renamed or moved.",
        data: schema_of::<CategoryData>,
    },
    EventType {
        name: CATEGORY_DELETED,
        summary: "A category was deleted.",
        data: schema_of::<CategoryRef>,
    },
];

/// Whether a product is listed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    Active,
    Archived,
}

/// `product.created`, `product.updated`.
#[derive(Serialize, ToSchema)]
pub struct ProductData {
    pub product_id: u64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: u64,
    /// Minor units.
    pub price: u64,
    /// ISO 4217.
    pub currency: String,
    pub attributes: BTreeMap<String, String>,
    pub seller_id: Option<String>,
    pub images: Vec<String>,
    pub status: ListingStatus,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// `product.archived`.
#[derive(Serialize, ToSchema)]
pub struct ProductRef {
    pub product_id: u64,
}

/// `price.changed`.
#[derive(Serialize, ToSchema)]
pub struct PriceChanged {
    pub product_id: u64,
    /// Minor units.
    pub from: u64,
    /// Minor units.
    pub to: u64,
    /// ISO 4217.
    pub currency: String,
}

/// `category.created`, `category.updated`.
#[derive(Serialize, ToSchema)]
pub struct CategoryData {
    pub category_id: u64,
    pub name: String,
    pub slug: String,
    /// `null` for a root.
    pub parent_id: Option<u64>,
}

/// `category.deleted`.
#[derive(Serialize, ToSchema)]
pub struct CategoryRef {
    pub category_id: u64,
}

fn product_data(product: Product) -> ProductData {
    let f = product.fields;
    ProductData {
        product_id: product.id,
        sku: f.sku,
        name: f.name,
        description: f.description,
        category_id: f.category_id,
        price: f.price,
        currency: f.currency,
        attributes: f.attributes,
        seller_id: f.seller_id,
        images: f.images,
        status: match f.status {
            ProductStatus::Active => ListingStatus::Active,
            ProductStatus::Archived => ListingStatus::Archived,
        },
        created_at: rfc3339(product.created_at),
        updated_at: rfc3339(product.updated_at),
    }
}

fn category_data(category: Category) -> (String, CategoryData) {
    (
        format!("categories/{}", category.id),
        CategoryData {
            category_id: category.id,
            name: category.name,
            slug: category.slug,
            parent_id: category.parent_id,
        },
    )
}

/// Maps an event of the catalog (one entity holds every product and category).
pub fn catalog(_id: &str, event: CatalogEvent) -> Option<Mapped> {
    Some(match event {
        CatalogEvent::ProductCreated(product) => Mapped::new(
            PRODUCT_CREATED,
            format!("products/{}", product.id),
            product_data(product),
        ),
        CatalogEvent::ProductUpdated(product) => Mapped::new(
            PRODUCT_UPDATED,
            format!("products/{}", product.id),
            product_data(product),
        ),
        CatalogEvent::ProductArchived { id } => Mapped::new(
            PRODUCT_ARCHIVED,
            format!("products/{id}"),
            ProductRef { product_id: id },
        ),
        CatalogEvent::PriceChanged { id, from, to, currency } => Mapped::new(
            PRICE_CHANGED,
            format!("products/{id}"),
            PriceChanged {
                product_id: id,
                from,
                to,
                currency,
            },
        ),
        CatalogEvent::CategoryCreated(category) => {
            let (subject, data) = category_data(category);
            Mapped::new(CATEGORY_CREATED, subject, data)
        }
        CatalogEvent::CategoryUpdated(category) => {
            let (subject, data) = category_data(category);
            Mapped::new(CATEGORY_UPDATED, subject, data)
        }
        CatalogEvent::CategoryDeleted { id } => Mapped::new(
            CATEGORY_DELETED,
            format!("categories/{id}"),
            CategoryRef { category_id: id },
        ),
    })
}
