//! Search index benchmark without HTTP: seeds a demo catalog of N products
//! (default 100,000), times a full index rebuild from the catalog (what start-up
//! does when the index is missing or behind), then reopens the data dir and times
//! Q searches straight against the index twice: a cold first pass (a new
//! process's index reader; the OS page cache stays warm) and a warm second pass
//! of the same queries. Each query is `mercato::seed::sample_search`: two words
//! and two filters drawn from the seed's whole vocabulary (some 400 word pairs,
//! 8 colours, 400 price windows), with facets.
//!
//! `cargo bench --bench search_index -- [--products N] [--queries Q]`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mercato::core::Core;
use mercato::seed::sample_search;
use mercato::settings::Settings;
use mercato_actors::search::query::{SearchRequest, SortOrder};

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

/// Opens the core on `dir`, waiting (up to 10 s) for a previous one's storage
/// threads to let go of the database lock.
async fn open(dir: &std::path::Path) -> Core {
    let mut settings = Settings::defaults().expect("default settings");
    settings.storage.data_dir = dir.to_path_buf();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Core::open(&settings).await {
            Ok(core) => return core,
            Err(err) if Instant::now() < deadline => {
                tracing::debug!(error = %err, "the previous core still holds the database");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("core opens: {err:#}"),
        }
    }
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

        core.shutdown().await.expect("shut down");
        drop(core);
        let core = open(dir.path()).await;

        // Category ids by slug, for the filters.
        let categories: BTreeMap<String, u64> =
            core.catalog.categories().await.expect("categories").into_iter().map(|c| (c.slug, c.id)).collect();
        let mut random = 0x9E37_79B9_7F4A_7C15u64;
        let requests: Vec<SearchRequest> = (0..queries)
            .map(|_| {
                let sample = sample_search(&mut |bound| {
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    random % bound
                });
                SearchRequest {
                    q: Some(sample.words),
                    category: sample.category.map(|slug| categories[slug]),
                    min_price: sample.price.map(|(min, _)| min),
                    max_price: sample.price.map(|(_, max)| max),
                    attributes: sample
                        .colour
                        .map(|colour| BTreeMap::from([("colour".to_string(), vec![colour.to_string()])]))
                        .unwrap_or_default(),
                    sort: SortOrder::Relevance,
                    offset: 0,
                    limit: 20,
                    facets: true,
                }
            })
            .collect();
        for pass in ["cold first pass", "warm second pass"] {
            let mut latencies = Histogram::<u64>::new(3).expect("histogram");
            let (mut total_hits, mut empty) = (0u64, 0usize);
            let started = Instant::now();
            for request in &requests {
                let one = Instant::now();
                let result = core.catalog.search().search(request).expect("search");
                latencies.record(one.elapsed().as_micros().max(1) as u64).expect("recorded");
                total_hits += result.facets.total;
                empty += usize::from(result.facets.total == 0);
            }
            let elapsed = started.elapsed();
            let ms = |q: f64| Duration::from_micros(latencies.value_at_quantile(q)).as_secs_f64() * 1000.0;
            println!(
                "{pass}: {queries} searches (two words, two filters, facets) on one thread: {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} hits per query, {empty} with none",
                queries as f64 / elapsed.as_secs_f64(),
                ms(0.5),
                ms(0.99),
                latencies.max() as f64 / 1000.0,
                total_hits as f64 / queries as f64
            );
        }
        core.shutdown().await.expect("shut down");
    });
}
