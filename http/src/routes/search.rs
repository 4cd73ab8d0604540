//! `GET /v1/products`: full-text search with filters, sorting, pagination and
//! facet counts over the whole filtered result.

use std::collections::{BTreeMap, HashMap};

use actix_web::{get, web, HttpResponse};
use mercato_actors::catalog::CatalogError;
use mercato_actors::search::facets::PRICE_BUCKETS;
use mercato_actors::search::query::{SearchRequest, SortOrder};
use serde::Serialize;
use utoipa::ToSchema;

use super::products::{bodies, ProductBody};
use crate::errors::ApiError;
use crate::validate;
use crate::AppState;

/// Longest query text.
const MAX_QUERY_LEN: usize = 200;
/// Default and largest page size.
const DEFAULT_PER_PAGE: usize = 20;
const MAX_PER_PAGE: usize = 100;
/// Deepest result reachable by paging.
const MAX_OFFSET: usize = 10_000;

/// A price bucket: `[min, max)` in minor units (`max` null for the last).
#[derive(Serialize, ToSchema)]
pub struct PriceBucket {
    pub min: u64,
    pub max: Option<u64>,
    pub count: u64,
}

/// Counts over the whole filtered result.
#[derive(Serialize, ToSchema)]
pub struct Facets {
    /// Category slug → matching products in it or below it.
    pub categories: BTreeMap<String, u64>,
    /// Attribute key → value → matching products.
    pub attributes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Non-empty price buckets, cheapest first.
    pub price: Vec<PriceBucket>,
}

/// One page of results.
#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<ProductBody>,
    /// Matching products in all pages.
    pub total: u64,
    pub page: usize,
    pub per_page: usize,
    pub facets: Facets,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_query",
        message,
    )
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| invalid(format!("{name} must be a non-negative integer, got '{value}'")))
}

/// The parsed query string, with the category still a slug.
struct Params {
    request: SearchRequest,
    category_slug: Option<String>,
    page: usize,
}

fn parse(pairs: Vec<(String, String)>) -> Result<Params, ApiError> {
    let mut scalars: HashMap<String, String> = HashMap::new();
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        if let Some(key) = name.strip_prefix("attr.") {
            validate::attribute_key(key)?;
            validate::text("attributes", &value, 200)?;
            attributes.entry(key.to_string()).or_default().push(value);
            continue;
        }
        if !matches!(
            name.as_str(),
            "q" | "category" | "min_price" | "max_price" | "sort" | "page" | "per_page"
        ) {
            return Err(invalid(format!("unknown parameter '{name}'")));
        }
        if scalars.insert(name.clone(), value).is_some() {
            return Err(invalid(format!("parameter '{name}' is given twice")));
        }
    }
    let q = scalars.remove("q");
    if let Some(q) = &q {
        validate::optional_text("q", q, MAX_QUERY_LEN)?;
    }
    let min_price = scalars
        .remove("min_price")
        .map(|v| number("min_price", &v))
        .transpose()?;
    let max_price = scalars
        .remove("max_price")
        .map(|v| number("max_price", &v))
        .transpose()?;
    if let (Some(min), Some(max)) = (min_price, max_price) {
        if min > max {
            return Err(invalid(format!("min_price {min} is above max_price {max}")));
        }
    }
    let sort = match scalars.remove("sort").as_deref() {
        None | Some("relevance") => SortOrder::Relevance,
        Some("price_asc") => SortOrder::PriceAsc,
        Some("price_desc") => SortOrder::PriceDesc,
        Some("newest") => SortOrder::Newest,
        Some(other) => {
            return Err(invalid(format!(
                "sort must be relevance, price_asc, price_desc or newest, not '{other}'"
            )))
        }
    };
    let page: usize = scalars
        .remove("page")
        .map(|v| number("page", &v))
        .transpose()?
        .unwrap_or(1);
    let per_page: usize = scalars
        .remove("per_page")
        .map(|v| number("per_page", &v))
        .transpose()?
        .unwrap_or(DEFAULT_PER_PAGE);
    validate::in_range("page", page, 1, MAX_OFFSET)?;
    validate::in_range("per_page", per_page, 1, MAX_PER_PAGE)?;
    let offset = (page - 1) * per_page;
    if offset > MAX_OFFSET {
        return Err(invalid(format!(
            "pages beyond result {MAX_OFFSET} cannot be reached; narrow the search"
        )));
    }
    let category_slug = scalars.remove("category");
    if let Some(slug) = &category_slug {
        validate::slug(slug)?;
    }
    let request = SearchRequest {
        q,
        category: None,
        min_price,
        max_price,
        attributes,
        sort,
        offset,
        limit: per_page,
        facets: true,
    };
    Ok(Params {
        request,
        category_slug,
        page,
    })
}

/// Searches active products.
#[utoipa::path(get, path = "/v1/products", tag = "catalog",
    params(
        ("q" = Option<String>, Query, description = "words over name (boosted), description and attribute values; all must match"),
        ("category" = Option<String>, Query, description = "category slug; includes its descendants"),
        ("min_price" = Option<u64>, Query), ("max_price" = Option<u64>, Query),
        ("attr.KEY" = Option<String>, Query, description = "attribute filter, e.g. attr.colour=red; repeat a key for any of several values"),
        ("sort" = Option<String>, Query, description = "relevance (default), price_asc, price_desc, newest"),
        ("page" = Option<usize>, Query, description = "from 1"), ("per_page" = Option<usize>, Query, description = "1..=100, default 20"),
    ),
    responses((status = 200, body = SearchPage), (status = 404, description = "`category_not_found`"),
        (status = 422, description = "`invalid_query`, `invalid_field`")))]
#[get("")]
pub async fn search(
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(search_page(&state, query.into_inner()).await?))
}

/// One page of results for the query string `pairs`: the front door for the
/// JSON route and the storefront's category and search pages.
pub async fn search_page(state: &AppState, pairs: Vec<(String, String)>) -> Result<SearchPage, ApiError> {
    let Params {
        mut request,
        category_slug,
        page,
    } = parse(pairs)?;
    let table = state.catalog.category_table();
    if let Some(slug) = category_slug {
        let id = table
            .ids
            .get(&slug)
            .ok_or_else(|| ApiError::from(CatalogError::CategoryNotFound(slug)))?;
        request.category = Some(*id);
    }
    let result = state.catalog.search().search(&request)?;
    let products = state.catalog.products(result.ids).await?;
    let slugs = &table.slugs;
    let counts = result.facets;
    let categories = counts
        .categories
        .iter()
        .filter_map(|(id, count)| slugs.get(id).map(|slug| (slug.clone(), *count)))
        .collect();
    let price = counts
        .price
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(i, count)| PriceBucket {
            min: PRICE_BUCKETS[i],
            max: PRICE_BUCKETS.get(i + 1).copied(),
            count: *count,
        })
        .collect();
    Ok(SearchPage {
        items: bodies(state, products).await,
        total: counts.total,
        page,
        per_page: request.limit,
        facets: Facets {
            categories,
            attributes: counts.attributes,
            price,
        },
    })
}
