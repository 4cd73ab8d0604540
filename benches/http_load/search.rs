//! The `search` scenario: pre-generated `GET /v1/products` queries over the demo
//! catalog of `src/seed.rs`, and a check, before the run, that they find products.
//!
//! Each query is two words plus two filters: `q=<adjective>+<noun>` and two of
//! `category=<root slug>`, `attr.colour=<colour>`, `min_price=..&max_price=..`.
//! The noun belongs to the root category, so a seeded catalog of 100,000
//! products gives tens of matches per query. The vocabulary is a copy of part of
//! `src/seed.rs` (its constants are private): keep the two in step.

use anyhow::{bail, Context};
use hyper::body::Bytes;
use hyper::{Method, StatusCode, Uri};

use crate::client::{next_random, send_each, PreparedRequest, Target};

/// Queries generated; each connection picks one at random per request.
pub(crate) const QUERIES: usize = 1_000;
/// Generator seed of the queries: every run sends the same ones.
const QUERY_SEED: u64 = 0x5EA2_C4ED;
/// Queries sent once before the run to check that the catalog answers them.
const PROBE_QUERIES: usize = 50;
/// Adjectives of product names (`ADJECTIVES` in `src/seed.rs`).
const ADJECTIVES: &[&str] = &[
    "classic", "light", "rugged", "soft", "compact", "everyday", "premium", "vintage", "slim", "warm",
];
/// Values of the `colour` attribute (`COLOURS` in `src/seed.rs`).
const COLOURS: &[&str] = &["black", "white", "navy", "red", "green", "grey", "sand", "olive"];
/// Root category slugs and one-word nouns of products below them (`TREE` in
/// `src/seed.rs`; "light" is left out, being an adjective too).
const ROOTS: &[(&str, &[&str])] = &[
    (
        "clothing",
        &[
            "shirt", "polo", "chinos", "jeans", "trousers", "jacket", "parka", "sweater", "cardigan", "hoodie",
        ],
    ),
    ("shoes", &["sneaker", "trainer", "boot", "sandal", "slide"]),
    (
        "home",
        &[
            "kettle", "mug", "knife", "pan", "lamp", "lantern", "blanket", "cushion", "towel",
        ],
    ),
    (
        "outdoor",
        &["tent", "bag", "stove", "helmet", "vest", "bottle", "armband"],
    ),
    (
        "electronics",
        &["headphones", "speaker", "earbuds", "camera", "charger", "cable"],
    ),
];
/// Lowest seeded price and the step between prices, in minor units.
const PRICE_FLOOR: u64 = 500;
const PRICE_STEP: u64 = 250;
/// Width of a price filter: about a quarter of the seeded range.
const PRICE_WINDOW: u64 = 25_000;

/// Picks one of `items`.
fn pick<'a, T>(random: &mut u64, items: &'a [T]) -> &'a T {
    &items[(next_random(random) % items.len() as u64) as usize]
}

/// One query string (without `?`): two words and two filters.
fn query(random: &mut u64) -> String {
    let (root, nouns) = pick(random, ROOTS);
    let words = format!("q={}+{}", pick(random, ADJECTIVES), pick(random, nouns));
    let category = format!("category={root}");
    let colour = format!("attr.colour={}", pick(random, COLOURS));
    let min_price = PRICE_FLOOR + (next_random(random) % 300) * PRICE_STEP;
    let price = format!("min_price={min_price}&max_price={}", min_price + PRICE_WINDOW);
    let [first, second] = match next_random(random) % 3 {
        0 => [category, colour],
        1 => [category, price],
        _ => [colour, price],
    };
    format!("{words}&{first}&{second}")
}

/// The scenario's [`QUERIES`] searches, under `base_path`.
pub(crate) fn requests(base_path: &str) -> anyhow::Result<Vec<PreparedRequest>> {
    let mut random = QUERY_SEED;
    (0..QUERIES)
        .map(|_| {
            let uri: Uri = format!("{base_path}/v1/products?{}", query(&mut random))
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
