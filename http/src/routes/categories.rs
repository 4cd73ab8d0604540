//! Category routes: the tree, one node with its path, and operator changes.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use mercato_actors::catalog::{Category, CategoryPatch, CategoryWithPath};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::errors::ApiError;
use crate::validate;
use crate::AppState;

/// Longest category name.
const MAX_NAME_LEN: usize = 100;

/// A node of the category tree.
#[derive(Serialize, ToSchema)]
pub struct CategoryNode {
    id: u64,
    name: String,
    slug: String,
    parent_id: Option<u64>,
    /// Sub-categories, by name.
    #[schema(no_recursion)]
    children: Vec<CategoryNode>,
}

/// A category on the way from the root.
#[derive(Serialize, ToSchema)]
pub struct CategoryRef {
    id: u64,
    name: String,
    slug: String,
}

/// One category with its path from the root (itself last).
#[derive(Serialize, ToSchema)]
pub struct CategoryBody {
    id: u64,
    name: String,
    slug: String,
    parent_id: Option<u64>,
    path: Vec<CategoryRef>,
}

impl From<CategoryWithPath> for CategoryBody {
    fn from((category, path): CategoryWithPath) -> Self {
        let path = path
            .into_iter()
            .map(|c| CategoryRef {
                id: c.id,
                name: c.name,
                slug: c.slug,
            })
            .collect();
        CategoryBody {
            id: category.id,
            name: category.name,
            slug: category.slug,
            parent_id: category.parent_id,
            path,
        }
    }
}

/// `POST /v1/categories`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// 1 to 100 characters; unique ignoring case.
    name: String,
    /// Lower-case words joined by '-'; unique.
    slug: String,
    /// Parent category; absent or null for a root.
    parent_id: Option<u64>,
}

/// `PATCH /v1/categories/{id}`: absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    name: Option<String>,
    slug: Option<String>,
    /// New parent; null makes it a root.
    #[serde(default, deserialize_with = "crate::patch::present")]
    #[schema(value_type = Option<u64>)]
    parent_id: Option<Option<u64>>,
}

fn tree(categories: Vec<Category>) -> Vec<CategoryNode> {
    let mut children: BTreeMap<Option<u64>, Vec<Category>> = BTreeMap::new();
    for category in categories {
        children.entry(category.parent_id).or_default().push(category);
    }
    fn build(parent: Option<u64>, children: &mut BTreeMap<Option<u64>, Vec<Category>>) -> Vec<CategoryNode> {
        let mut level = children.remove(&parent).unwrap_or_default();
        level.sort_by_key(|category| category.name.to_lowercase());
        level
            .into_iter()
            .map(|c| CategoryNode {
                children: build(Some(c.id), children),
                id: c.id,
                name: c.name,
                slug: c.slug,
                parent_id: c.parent_id,
            })
            .collect()
    }
    build(None, &mut children)
}

/// The whole category tree, roots first, each level by name.
#[utoipa::path(get, path = "/v1/categories", operation_id = "list_categories", tag = "catalog", responses((status = 200, body = [CategoryNode])))]
#[get("")]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tree(state.catalog.categories().await?)))
}

/// One category, by id or slug, with its path from the root.
#[utoipa::path(get, path = "/v1/categories/{id}", operation_id = "get_category", tag = "catalog",
    params(("id" = String, Path, description = "numeric id or slug")),
    responses((status = 200, body = CategoryBody), (status = 404, description = "`category_not_found`")))]
#[get("/{id_or_slug}")]
pub async fn get_one(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let found = match key.parse::<u64>() {
        Ok(id) => state.catalog.category(id).await?,
        Err(_) => {
            validate::slug(&key)?;
            state.catalog.category_by_slug(key).await?
        }
    };
    Ok(HttpResponse::Ok().json(CategoryBody::from(found)))
}

/// Creates a category.
#[utoipa::path(post, path = "/v1/categories", operation_id = "create_category", tag = "catalog", security(("operator_token" = [])), request_body = NewCategory,
    responses((status = 201, body = CategoryBody), (status = 401), (status = 404, description = "`category_not_found` (parent)"),
        (status = 409, description = "`category_name_taken`, `slug_taken`"), (status = 422, description = "`invalid_field`")))]
#[post("")]
pub async fn create(
    _: Operator,
    state: web::Data<AppState>,
    body: web::Json<NewCategory>,
) -> Result<HttpResponse, ApiError> {
    let NewCategory { name, slug, parent_id } = body.into_inner();
    let created = create_category(&state, &name, slug, parent_id).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(CategoryBody::from(created)))
}

/// Creates a category: the front door of the route and the console.
pub async fn create_category(
    state: &AppState,
    name: &str,
    slug: String,
    parent_id: Option<u64>,
) -> Result<CategoryWithPath, ApiError> {
    validate::text("name", name, MAX_NAME_LEN)?;
    validate::slug(&slug)?;
    Ok(state
        .catalog
        .create_category(name.trim().to_string(), slug, parent_id)
        .await?)
}

/// Renames or moves category `id` (`None` leaves a field as it is): the
/// front door of the route and the console.
pub async fn change_category(
    state: &AppState,
    id: u64,
    name: Option<String>,
    slug: Option<String>,
    parent_id: Option<Option<u64>>,
) -> Result<CategoryWithPath, ApiError> {
    if let Some(name) = &name {
        validate::text("name", name, MAX_NAME_LEN)?;
    }
    if let Some(slug) = &slug {
        validate::slug(slug)?;
    }
    let patch = CategoryPatch {
        name: name.map(|n| n.trim().to_string()),
        slug,
        parent_id,
    };
    Ok(state.catalog.update_category(id, patch).await?)
}

/// Renames or moves a category.
#[utoipa::path(patch, path = "/v1/categories/{id}", operation_id = "update_category", tag = "catalog", security(("operator_token" = [])),
    params(("id" = u64, Path)), request_body = CategoryChange,
    responses((status = 200, body = CategoryBody), (status = 401), (status = 404, description = "`category_not_found`"),
        (status = 409, description = "`category_cycle`, `category_name_taken`, `slug_taken`"), (status = 422)))]
#[patch("/{id}")]
pub async fn update(
    _: Operator,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    body: web::Json<CategoryChange>,
) -> Result<HttpResponse, ApiError> {
    let CategoryChange { name, slug, parent_id } = body.into_inner();
    let updated = change_category(&state, id.into_inner(), name, slug, parent_id).await?;
    Ok(HttpResponse::Ok().json(CategoryBody::from(updated)))
}

/// Deletes a category that has no children and no products.
#[utoipa::path(delete, path = "/v1/categories/{id}", operation_id = "delete_category", tag = "catalog", security(("operator_token" = [])),
    params(("id" = u64, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "`category_not_found`"),
        (status = 409, description = "`category_not_empty`")))]
#[delete("/{id}")]
pub async fn remove(_: Operator, state: web::Data<AppState>, id: web::Path<u64>) -> Result<HttpResponse, ApiError> {
    delete_category(&state, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes category `id` if it holds no sub-category and no product: the
/// front door of the route and the console.
pub async fn delete_category(state: &AppState, id: u64) -> Result<(), ApiError> {
    Ok(state.catalog.delete_category(id).await?)
}
