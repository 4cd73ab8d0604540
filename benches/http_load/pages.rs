//! The storefront's page scenarios: `GET /` (home), `GET /c/{slug}` (a
//! category of the seeded catalog), `GET /search?...` (the `search`
//! scenario's queries, as a page) and `GET /p/{id}` (a product), and before
//! the run each page type's weight against the 64 KB budget of HTML + CSS +
//! JS (images aside).

use anyhow::{bail, Context};
use hyper::body::Bytes;
use hyper::{Method, StatusCode, Uri};

use crate::client::{next_random, send_each, PreparedRequest, Target};

/// The page budget of HTML, CSS and JS.
const BUDGET_BYTES: usize = 64 * 1024;
/// Category pages sent: the seed's roots and leaves.
const CATEGORIES: &[&str] = &[
    "clothing",
    "shirts",
    "jackets",
    "knitwear",
    "shoes",
    "sneakers",
    "home",
    "kitchen",
    "outdoor",
    "camping",
    "electronics",
    "audio",
];

/// Which page a scenario loads.
#[derive(Clone, Copy)]
pub(crate) enum Page {
    Home,
    Category,
    Search,
    Product,
}

fn get(uri: String) -> anyhow::Result<PreparedRequest> {
    Ok(PreparedRequest {
        method: Method::GET,
        uri: uri.parse::<Uri>().context("a page makes an invalid URI")?,
        body: Bytes::new(),
        success: StatusCode::OK,
    })
}

/// The requests of `page` under `base_path`, for a catalog of `products`.
pub(crate) fn requests(page: Page, base_path: &str, products: usize) -> anyhow::Result<Vec<PreparedRequest>> {
    match page {
        Page::Home => Ok(vec![get(format!("{base_path}/"))?]),
        Page::Category => CATEGORIES
            .iter()
            .map(|slug| get(format!("{base_path}/c/{slug}")))
            .collect(),
        Page::Search => crate::search::query_strings()
            .into_iter()
            .map(|query| get(format!("{base_path}/search?{query}")))
            .collect(),
        Page::Product => {
            let mut random = 0x9E37_79B9_u64;
            (0..1_000)
                .map(|_| {
                    get(format!(
                        "{base_path}/p/{}",
                        1 + next_random(&mut random) % products.max(1) as u64
                    ))
                })
                .collect()
        }
    }
}

/// Loads the first request's page and the stylesheet and scripts it links,
/// prints the weight, and fails past the budget or on an answer other than 200.
pub(crate) async fn weigh(target: &Target) -> anyhow::Result<()> {
    let first = target.requests.first().context("no page to load")?;
    let (status, html) = send_each(target, std::slice::from_ref(first)).await?.remove(0);
    if status != StatusCode::OK {
        bail!("GET {} answered {status} (is the catalog seeded?)", first.uri);
    }
    let text = String::from_utf8_lossy(&html);
    let assets: Vec<PreparedRequest> = text
        .split("/assets/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|name| get(format!("{}/assets/{name}", target.base_path)))
        .collect::<anyhow::Result<_>>()?;
    let answers = send_each(target, &assets).await?;
    let asset_bytes: usize = answers.iter().map(|(_, body)| body.len()).sum();
    let total = html.len() + asset_bytes;
    println!(
        "page weight   {total} bytes: HTML {} + {} CSS/JS files {asset_bytes} (budget {BUDGET_BYTES})",
        html.len(),
        assets.len()
    );
    if total > BUDGET_BYTES {
        bail!(
            "{} weighs {total} bytes, past the {BUDGET_BYTES}-byte budget",
            first.uri
        );
    }
    Ok(())
}
