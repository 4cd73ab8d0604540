//! The `search` scenario: pre-generated `GET /v1/products` queries over the demo
//! catalog of `src/seed.rs`, and a check, before the run, that they find products.
//!
//! Each query is `mercato::seed::sample_search`: two words plus two filters,
//! `q=<adjective>+<noun>` and two of `category=<root slug>`,
//! `attr.colour=<colour>`, `min_price=..&max_price=..`, drawn from the seed's
//! whole vocabulary. The noun belongs to the root category, so a seeded catalog
//! of 100,000 products gives matches for most queries.

use anyhow::{bail, Context};
use hyper::body::Bytes;
use hyper::{Method, StatusCode, Uri};

use mercato::seed::sample_search;

use crate::client::{next_random, send_each, PreparedRequest, Target};

/// Queries generated; each connection picks one at random per request.
pub(crate) const QUERIES: usize = 10_000;
/// Generator seed of the queries: every run sends the same ones.
const QUERY_SEED: u64 = 0x5EA2_C4ED;
/// Queries sent once before the run to check that the catalog answers them.
const PROBE_QUERIES: usize = 50;

/// One query string (without `?`): two words and two filters.
fn query(random: &mut u64) -> String {
    let search = sample_search(&mut |bound| next_random(random) % bound);
    let mut query = format!("q={}", search.words.replace(' ', "+"));
    if let Some(category) = search.category {
        query.push_str(&format!("&category={category}"));
    }
    if let Some(colour) = search.colour {
        query.push_str(&format!("&attr.colour={colour}"));
    }
    if let Some((min, max)) = search.price {
        query.push_str(&format!("&min_price={min}&max_price={max}"));
    }
    query
}

/// The scenario's [`QUERIES`] query strings (also sent as search pages).
pub(crate) fn query_strings() -> Vec<String> {
    let mut random = QUERY_SEED;
    (0..QUERIES).map(|_| query(&mut random)).collect()
}

/// The scenario's [`QUERIES`] searches, under `base_path`.
pub(crate) fn requests(base_path: &str) -> anyhow::Result<Vec<PreparedRequest>> {
    query_strings()
        .into_iter()
        .map(|query| {
            let uri: Uri = format!("{base_path}/v1/products?{query}")
                .parse()
                .context("a generated query makes an invalid URI")?;
            Ok(PreparedRequest {
                method: Method::GET,
                uri,
                body: Bytes::new(),
                success: StatusCode::OK,
            })
        })
        .collect()
}

/// Sends the first [`PROBE_QUERIES`] queries once; fails unless each answers
/// 200, and reports on stderr how many match no product and the median match count.
pub(crate) async fn probe(target: &Target) -> anyhow::Result<()> {
    let sample = &target.requests[..PROBE_QUERIES.min(target.requests.len())];
    let answers = send_each(target, sample).await?;
    let mut totals = Vec::with_capacity(answers.len());
    for (prepared, (status, body)) in sample.iter().zip(&answers) {
        if *status != StatusCode::OK {
            bail!(
                "GET {} answered {status}: {} (is the catalog seeded? see the doc of main.rs)",
                prepared.uri,
                String::from_utf8_lossy(body)
            );
        }
        let page: serde_json::Value = serde_json::from_slice(body).context("a search answer is not JSON")?;
        let total = page["total"].as_u64().context("a search answer has no total")?;
        totals.push(total);
    }
    totals.sort_unstable();
    let empty = totals.iter().filter(|total| **total == 0).count();
    let median = totals.get(totals.len() / 2).copied().unwrap_or(0);
    eprintln!(
        "probe: {empty} of {} sample queries match no product; median {median} matches",
        totals.len()
    );
    Ok(())
}
