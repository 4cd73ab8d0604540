//! `/search` and `/c/{slug}`: results of `GET /v1/products` with its facets as
//! checkbox filters, price buckets and sort in one GET form, and pages as
//! links, so every view of the list is a URL that can be shared.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_http::routes::search::{search_page, SearchPage};
use mercato_http::AppState;

use crate::error::PageError;
use crate::page::{self, Layout};
use crate::view::ProductCard;
use crate::visitor::Visitor;

/// A checkbox of an attribute facet.
struct FacetValue {
    /// `attr.KEY`.
    param: String,
    value: String,
    count: u64,
    checked: bool,
    /// Unique within the page, for the label.
    id: String,
}

/// The checkboxes of one attribute.
struct FacetGroup {
    title: String,
    values: Vec<FacetValue>,
}

/// A link that narrows or widens the list.
struct FilterLink {
    label: String,
    href: String,
    count: u64,
    current: bool,
}

/// A sort choice.
struct SortOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    layout: Layout,
    heading: String,
    /// Where the filter form goes: this page's path.
    action: String,
    q: String,
    total: u64,
    cards: Vec<ProductCard>,
    categories: Vec<FilterLink>,
    groups: Vec<FacetGroup>,
    prices: Vec<FilterLink>,
    sorts: Vec<SortOption>,
    /// Filters chosen, as links that drop each.
    chosen: Vec<FilterLink>,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

const SORTS: [(&str, &str); 4] = [
    ("relevance", "Best match"),
    ("price_asc", "Price, low to high"),
    ("price_desc", "Price, high to low"),
    ("newest", "Newest"),
];

/// `GET /search`: the whole catalog, or what matches `q`.
#[get("/search")]
pub async fn search(req: HttpRequest, state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let pairs = query_pairs(&req)?;
    let q = value(&pairs, "q").unwrap_or_default().to_string();
    let heading = match q.is_empty() {
        true => "All products".to_string(),
        false => format!("Results for “{q}”"),
    };
    listing(&req, &state, &visitor, pairs, heading, "/search".into(), None).await
}

/// `GET /c/{slug}`: a category and everything below it.
#[get("/c/{slug}")]
pub async fn category(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let table = state.catalog.category_table();
    let category = table
        .categories
        .iter()
        .find(|category| category.slug == *slug)
        .ok_or_else(|| PageError::NotFound(format!("There is no category “{slug}”.")))?;
    let mut pairs = query_pairs(&req)?;
    pairs.retain(|(name, _)| name != "category");
    let action = format!("/c/{}", category.slug);
    let mut with_category = pairs.clone();
    with_category.push(("category".into(), category.slug.clone()));
    let name = category.name.clone();
    listing(&req, &state, &visitor, with_category, name, action, Some(pairs)).await
}

async fn listing(
    req: &HttpRequest,
    state: &AppState,
    visitor: &Visitor,
    pairs: Vec<(String, String)>,
    heading: String,
    action: String,
    shown_pairs: Option<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let result: SearchPage = search_page(state, pairs.clone()).await?;
    // The parameters the page's own links carry (a category page's slug is in its path).
    let own = shown_pairs.unwrap_or(pairs);
    let q = value(&own, "q").unwrap_or_default().to_string();
    let currency = result
        .items
        .first()
        .map(|item| item.currency.clone())
        .unwrap_or_else(|| "EUR".into());
    let table = state.catalog.category_table();
    let names = &table.categories;
    let categories = result
        .facets
        .categories
        .iter()
        .filter_map(|(slug, count)| {
            let named = names.iter().find(|c| &c.slug == slug)?;
            Some(FilterLink {
                label: named.name.clone(),
                href: link(&format!("/c/{slug}"), &without(&own, &["category", "page"])),
                count: *count,
                current: format!("/c/{slug}") == action,
            })
        })
        .collect();
    let groups = result
        .facets
        .attributes
        .iter()
        .map(|(key, values)| {
            let param = format!("attr.{key}");
            FacetGroup {
                title: key.replace('_', " "),
                values: values
                    .iter()
                    .enumerate()
                    .map(|(i, (value, count))| FacetValue {
                        checked: own.iter().any(|(n, v)| n == &param && v == value),
                        id: format!("f-{key}-{i}"),
                        param: param.clone(),
                        value: value.clone(),
                        count: *count,
                    })
                    .collect(),
            }
        })
        .collect();
    let min_chosen = value(&own, "min_price").map(str::to_string);
    let prices = result
        .facets
        .price
        .iter()
        .map(|bucket| {
            let mut narrowed = without(&own, &["min_price", "max_price", "page"]);
            narrowed.push(("min_price".into(), bucket.min.to_string()));
            let label = match bucket.max {
                Some(max) => {
                    narrowed.push(("max_price".into(), max.saturating_sub(1).to_string()));
                    format!(
                        "{} – {}",
                        format_money(bucket.min, &currency),
                        format_money(max, &currency)
                    )
                }
                None => format!("{} and up", format_money(bucket.min, &currency)),
            };
            FilterLink {
                label,
                href: link(&action, &narrowed),
                count: bucket.count,
                current: min_chosen.as_deref() == Some(bucket.min.to_string().as_str()),
            }
        })
        .collect();
    let sort = value(&own, "sort").unwrap_or("relevance");
    let sorts = SORTS
        .iter()
        .map(|(value, label)| SortOption {
            value,
            label,
            selected: *value == sort,
        })
        .collect();
    let chosen = own
        .iter()
        .filter(|(name, _)| name.starts_with("attr.") || name == "min_price")
        .map(|(name, value)| {
            let dropped: Vec<_> = own
                .iter()
                .filter(|(n, v)| {
                    let this_filter = n == name && v == value;
                    let its_price_cap = name == "min_price" && n == "max_price";
                    !this_filter && !its_price_cap && n != "page"
                })
                .cloned()
                .collect();
            let label = match name.strip_prefix("attr.") {
                Some(key) => format!("{}: {value}", key.replace('_', " ")),
                None => "Price range".into(),
            };
            FilterLink {
                label,
                href: link(&action, &dropped),
                count: 0,
                current: true,
            }
        })
        .collect();
    let pages = (result.total as usize).div_ceil(result.per_page).max(1);
    let page_link = |page: usize| {
        let mut paged = without(&own, &["page"]);
        if page > 1 {
            paged.push(("page".into(), page.to_string()));
        }
        link(&action, &paged)
    };
    let mut layout = Layout::of(state, visitor, heading.clone())
        .await
        .described(format!("{} products · {heading}", result.total))
        .canonical(req, &page_link(result.page));
    layout.query = q.clone();
    let template = ListingPage {
        layout,
        heading,
        action: action.clone(),
        q,
        total: result.total,
        cards: result.items.iter().map(ProductCard::from).collect(),
        categories,
        groups,
        prices,
        sorts,
        chosen,
        page: result.page,
        pages,
        prev: (result.page > 1).then(|| page_link(result.page - 1)),
        next: (result.page < pages).then(|| page_link(result.page + 1)),
    };
    Ok(page::ok(visitor, &template))
}

/// The query string as name–value pairs, in order.
fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, PageError> {
    serde_urlencoded::from_str(req.query_string())
        .map_err(|_| PageError::BadRequest("The address of this page is not well formed.".into()))
        .map(|pairs: Vec<(String, String)>| pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect())
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn without(pairs: &[(String, String)], names: &[&str]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(n, _)| !names.contains(&n.as_str()))
        .cloned()
        .collect()
}

/// `path` with `pairs` as its query string.
fn link(path: &str, pairs: &[(String, String)]) -> String {
    match pairs.is_empty() {
        true => path.to_string(),
        false => format!(
            "{path}?{}",
            serde_urlencoded::to_string(pairs).expect("string pairs always encode")
        ),
    }
}
