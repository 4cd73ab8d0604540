//! Search index benchmark without HTTP: seeds a demo catalog of N products
//! (default 100,000), times a full index rebuild from the catalog (what start-up
//! does when the index is missing or behind), then times searches of two words plus two
//! filters straight against the index and prints p50/p99 and queries per second.
//!
//! `cargo bench --bench search_index -- [--products N] [--queries Q]`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mercato::core::Core;
use mercato::settings::Settings;
use mercato_actors::search::query::{SearchRequest, SortOrder};

const ROOTS: [&str; 5] = ["clothing", "shoes", "home", "outdoor", "electronics"];
const WORDS: [&str; 8] = [
    "classic", "light", "rugged", "soft", "kettle", "jacket", "sneaker", "lamp",
];
const COLOURS: [&str; 4] = ["black", "navy", "red", "olive"];

/// Flags.
#[derive(clap::Parser)]
struct Args {
    /// Products to seed.
    #[arg(long, default_value_t = 100_000)]
    products: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 5_000)]
    queries: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

async fn open(dir: &std::path::Path) -> Core {
    let mut settings = Settings::defaults().expect("default settings");
    settings.storage.data_dir = dir.to_path_buf();
    Core::open(&settings).await.expect("core opens")
}

fn main() {
    let Args { products, queries, .. } = clap::Parser::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    actix_rt::System::new().block_on(async move {
        let core = open(dir.path()).await;
        let started = Instant::now();
        let report = mercato::seed::seed(&core.catalog, &core.inventory, products, 42).await.expect("seeded");
        println!("seeded {} products in {:.1} s (catalog writes, stock, indexing)", report.products, started.elapsed().as_secs_f64());
        let started = Instant::now();
        let indexed = core.catalog.rebuild_search().await.expect("rebuilt");
        println!("rebuilt the index of {indexed} products in {:.1} s (export + index + commit)", started.elapsed().as_secs_f64());

        // Category ids by slug, for the filters.
        let categories: BTreeMap<String, u64> =
            core.catalog.categories().await.expect("categories").into_iter().map(|c| (c.slug, c.id)).collect();
        let mut latencies = Histogram::<u64>::new(3).expect("histogram");
        let mut total_hits = 0u64;
        let mut random = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            (random % n as u64) as usize
        };
        let started = Instant::now();
        for _ in 0..queries {
            let q = format!("{} {}", WORDS[next(WORDS.len())], WORDS[next(WORDS.len())]);
            let request = SearchRequest {
                q: Some(q),
                category: categories.get(ROOTS[next(ROOTS.len())]).copied(),
                min_price: None,
                max_price: None,
                attributes: BTreeMap::from([("colour".to_string(), vec![COLOURS[next(COLOURS.len())].to_string()])]),
                sort: SortOrder::Relevance,
                offset: 0,
                limit: 20,
            };
            let one = Instant::now();
            let result = core.catalog.search().search(&request).expect("search");
            latencies.record(one.elapsed().as_micros().max(1) as u64).expect("recorded");
            total_hits += result.facets.total;
        }
        let elapsed = started.elapsed();
        let ms = |q: f64| Duration::from_micros(latencies.value_at_quantile(q)).as_secs_f64() * 1000.0;
        println!(
            "{queries} searches (two words, category + colour filters, facets) on one thread: {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} hits per query",
            queries as f64 / elapsed.as_secs_f64(),
            ms(0.5),
            ms(0.99),
            latencies.max() as f64 / 1000.0,
            total_hits as f64 / queries as f64
        );
        core.shutdown().await.expect("shut down");
    });
}
