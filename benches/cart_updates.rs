//! Cart updates per second through the cart actors, in process (no HTTP).
//!
//! Every update is `Carts::set_qty` through the front door of a real [`Core`]
//! (what a `PATCH /v1/carts/{id}/items/{sku}` does below HTTP): peek at the cart's
//! lines, read their stock from the SKU actors' published views, send the command
//! to the cart actor, wait for the journal write, re-price if the catalog moved.
//! Two groups, each run with `sync` (the default) and `relaxed` durability:
//!
//! - `cart_updates_hot`: every update goes to one cart, so one actor and its
//!   journal carry the whole load;
//! - `cart_updates_spread_10k`: updates go round-robin over 10,000 carts.
//!
//! Every cart holds [`LINES`] lines (the first demo products of `mercato seed`);
//! an update sets the quantity of one of them, cycling through 1..=9, so every
//! update is a change (a new version, a journal record, a new published view).
//!
//! One iteration is a batch of [`BATCH`] updates issued with [`IN_FLIGHT`] of them
//! outstanding: the cart actors pipeline their writes and one fsync acknowledges
//! many of them (group commit). A core over a fresh temporary directory is opened
//! once per group and durability mode. Defaults keep the whole run under a minute
//! (10 samples, 1 s warm-up, 3 s measurement); the usual criterion flags override
//! them: `cargo bench --bench cart_updates -- --measurement-time 5`, or pick one
//! with a filter: `cargo bench --bench cart_updates -- hot/sync`.

use std::time::{Duration, Instant};

use actix_rt::SystemRunner;
use criterion::{BenchmarkId, Criterion, Throughput};
use futures_util::stream::{self, StreamExt};
use mercato::core::Core;
use mercato::settings::Settings;
use mercato_actors::cart::CartsError;
use mercato_actors::storage::Durability;
use tempfile::TempDir;

/// Updates in one criterion iteration.
const BATCH: u64 = 4096;
/// Updates outstanding at once.
const IN_FLIGHT: usize = 256;
/// Carts of the spread group.
const SPREAD_CARTS: usize = 10_000;
/// Lines in every cart: the first demo products.
const LINES: usize = 3;
/// Generator seed of the demo products (`mercato seed`'s default).
const CATALOG_SEED: u64 = 42;
/// Quantities cycle through `1..=MAX_QTY`.
const MAX_QTY: u64 = 9;

/// The durability modes each group is run with, with their benchmark ids.
const MODES: [(&str, Durability); 2] = [("sync", Durability::Sync), ("relaxed", Durability::Relaxed)];

/// One core over a fresh database with `carts` carts of [`LINES`] lines each.
struct Bench {
    /// Storage, runtime and the cart front door.
    core: Core,
    /// The carts updated.
    carts: Vec<String>,
    /// The SKUs of their lines.
    skus: Vec<String>,
    /// Updates so far; picks the next cart, line and quantity.
    next_update: u64,
    /// Holds the sled database; removed on drop, after the core.
    _data_dir: TempDir,
}

impl Bench {
    /// Opens a core with `durability`, seeds [`LINES`] products, creates `carts`
    /// carts and fills them.
    fn start(system: &SystemRunner, durability: Durability, carts: usize) -> Self {
        let data_dir = tempfile::tempdir().expect("a temporary directory for sled");
        let mut settings = Settings::defaults().expect("default settings");
        settings.storage.data_dir = data_dir.path().into();
        settings.storage.durability = durability;
        system.block_on(async move {
            let core = Core::open(&settings).await.expect("core opens");
            mercato::seed::seed(&core.catalog, &core.inventory, LINES, CATALOG_SEED)
                .await
                .expect("demo products");
            // `mercato::seed` names its products so.
            let skus: Vec<String> = (0..LINES).map(|n| format!("DEMO-{n:07}")).collect();
            let started = Instant::now();
            let carts: Vec<String> = stream::iter(0..carts)
                .map(|_| async {
                    let (id, _) = core.carts.create(None).await.expect("cart created");
                    for (n, sku) in skus.iter().enumerate() {
                        core.carts
                            .add_item(&id, None, None, sku, n as u32 + 1)
                            .await
                            .expect("line added");
                    }
                    id
                })
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            eprintln!(
                "created {} cart(s) of {LINES} lines in {:.2} s ({durability:?})",
                carts.len(),
                started.elapsed().as_secs_f64()
            );
            Bench {
                core,
                carts,
                skus,
                next_update: 0,
                _data_dir: data_dir,
            }
        })
    }

    /// Issues `count` updates round-robin over the carts, [`IN_FLIGHT`] at a time,
    /// and returns how long they took.
    fn update(&mut self, system: &SystemRunner, count: u64) -> Duration {
        let first = self.next_update;
        self.next_update += count;
        let (carts, skus, front) = (&self.carts, &self.skus, &self.core.carts);
        system.block_on(async move {
            let started = Instant::now();
            let (failures, first_error) = stream::iter(first..first + count)
                .map(|n| {
                    let cart = &carts[(n % carts.len() as u64) as usize];
                    let sku = &skus[(n % skus.len() as u64) as usize];
                    let qty = (n % MAX_QTY) as u32 + 1;
                    front.set_qty(cart, None, None, sku, qty)
                })
                .buffer_unordered(IN_FLIGHT)
                .fold((0u64, None::<CartsError>), |(failures, first_error), result| {
                    std::future::ready(match result {
                        Ok(_) => (failures, first_error),
                        Err(err) => (failures + 1, first_error.or(Some(err))),
                    })
                })
                .await;
            let elapsed = started.elapsed();
            if let Some(err) = first_error {
                panic!("{failures} of {count} updates failed; first: {err}");
            }
            elapsed
        })
    }

    /// Stops the actors and flushes storage.
    fn finish(self, system: &SystemRunner) {
        system
            .block_on(self.core.shutdown())
            .expect("the core shuts down cleanly");
    }
}

/// Runs one group: for each durability mode, a fresh core with `carts` carts.
fn update_group(criterion: &mut Criterion, system: &SystemRunner, name: &str, carts: usize) {
    let mut group = criterion.benchmark_group(name);
    group.throughput(Throughput::Elements(BATCH));
    for (mode, durability) in MODES {
        let mut bench = Bench::start(system, durability, carts);
        group.bench_function(BenchmarkId::from_parameter(mode), |bencher| {
            bencher.iter_custom(|iters| bench.update(system, iters * BATCH));
        });
        bench.finish(system);
    }
    group.finish();
}

fn main() {
    // One actix system for the whole run: each core starts its arbiters in it.
    let system = actix_rt::System::new();
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    update_group(&mut criterion, &system, "cart_updates_hot", 1);
    update_group(&mut criterion, &system, "cart_updates_spread_10k", SPREAD_CARTS);
    criterion.final_summary();
}
