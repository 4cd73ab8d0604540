//! Reservations per second through the SKU stock actors, in process (no HTTP).
//!
//! Two groups, each run with `sync` and `relaxed` durability:
//!
//! - `reserve_hot_sku`: every reservation goes to one SKU, so one actor (one core)
//!   and its journal carry the whole load;
//! - `reserve_spread_10k`: reservations go round-robin over 10,000 SKUs, so every
//!   group commit gathers submissions from many actors.
//!
//! One iteration is a batch of [`BATCH`] reservations, issued with [`IN_FLIGHT`]
//! of them outstanding at any time: the actors pipeline their writes and one fsync
//! acknowledges many messages (group commit), so a sequential loop would measure
//! the fsync latency rather than the throughput.
//!
//! A runtime (storage in a temporary directory, arbiters, SKU actors) is built once
//! per durability mode and kept for the whole group. Defaults keep the whole run
//! short (10 samples, 1 s warm-up, 3 s measurement); the usual criterion flags
//! override them: `cargo bench --bench sku_reservations -- --measurement-time 5`.

use std::time::{Duration, Instant};

use actix_rt::SystemRunner;
use criterion::{BenchmarkId, Criterion, Throughput};
use futures_util::stream::{self, StreamExt};
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::runtime::{Runtime, RuntimeConfig};
use mercato_actors::sku::{Inventory, InventoryError};
use mercato_actors::storage::{Durability, Storage, StorageConfig};
use tempfile::TempDir;

/// Reservations in one criterion iteration.
const BATCH: u64 = 4096;
/// Reservations outstanding at once: enough for the group commit to batch.
const IN_FLIGHT: usize = 1024;
/// The largest `on_hand`, so reservations never run out of stock.
const ON_HAND: u64 = mercato_actors::sku::state::MAX_ON_HAND;
/// Reservation TTL: far longer than a run, so nothing expires while measuring.
const TTL_MS: u64 = 600_000;
/// The SKU of the hot-SKU group.
const HOT_SKU: &str = "SKU-HOT";
/// SKUs of the spread group.
const SPREAD_SKUS: usize = 10_000;
/// How long the final storage flush of a group may take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// The durability modes each group is run with, with their benchmark ids.
const MODES: [(&str, Durability); 2] = [("sync", Durability::Sync), ("relaxed", Durability::Relaxed)];

/// One runtime over a fresh database; lives for one benchmark.
struct Bench {
    /// Typed access to the SKU actors.
    inventory: Inventory,
    /// Flushed when the benchmark ends.
    storage: Storage,
    /// Owns the arbiters; dropped (stopping them) before the directory goes.
    runtime: Option<Runtime>,
    /// Holds the sled database; removed on drop.
    _data_dir: TempDir,
    /// Next reservation id; ids are unique across the whole benchmark.
    next_reservation: u64,
}

impl Bench {
    /// Opens storage with `durability` and starts the runtime; inside the system.
    fn start(system: &SystemRunner, durability: Durability) -> Self {
        let data_dir = tempfile::tempdir().expect("a temporary directory for sled");
        let config = StorageConfig {
            data_dir: data_dir.path().into(),
            durability,
            cache_capacity_mb: 256,
            flush_every_ms: 500,
        };
        system.block_on(async move {
            let registry = prometheus::Registry::new();
            let metrics = ActorMetrics::register(&registry).expect("fresh registry");
            let storage = Storage::open(&config, metrics.storage).expect("storage opens");
            let runtime = Runtime::start(
                RuntimeConfig {
                    arbiters: 0,
                    idle_timeout: Duration::from_secs(300),
                    settled_idle_timeout: Duration::from_secs(300),
                    mailbox_capacity: 1_000_000,
                    max_batch: 1024,
                    snapshot_min_bytes: 65536,
                    restart_backoff_min: Duration::from_millis(10),
                    restart_backoff_max: Duration::from_secs(5),
                },
                storage.clone(),
                metrics.runtime,
            );
            Bench {
                inventory: Inventory::new(&runtime),
                storage,
                runtime: Some(runtime),
                _data_dir: data_dir,
                next_reservation: 0,
            }
        })
    }

    /// Stocks every SKU of `skus` with [`ON_HAND`] (which also activates them).
    fn stock(&self, system: &SystemRunner, skus: &[String]) {
        system.block_on(async {
            let failures = stream::iter(skus)
                .map(|sku| self.inventory.set_on_hand(sku, ON_HAND))
                .buffer_unordered(IN_FLIGHT)
                .filter(|result| std::future::ready(result.is_err()))
                .count()
                .await;
            assert_eq!(failures, 0, "setting on_hand failed for {failures} SKUs");
        });
    }

    /// Issues `count` reservations round-robin over `skus`, [`IN_FLIGHT`] at a
    /// time, and returns how long they took.
    fn reserve(&mut self, system: &SystemRunner, skus: &[String], count: u64) -> Duration {
        let first = self.next_reservation;
        self.next_reservation += count;
        let inventory = &self.inventory;
        system.block_on(async move {
            let started = Instant::now();
            let (failures, first_error) = stream::iter(first..first + count)
                .map(|n| {
                    let sku = &skus[(n % skus.len() as u64) as usize];
                    inventory.reserve(sku, n.to_string(), 1, TTL_MS)
                })
                .buffer_unordered(IN_FLIGHT)
                .fold((0u64, None::<InventoryError>), |(failures, first_error), result| {
                    std::future::ready(match result {
                        Ok(_) => (failures, first_error),
                        Err(err) => (failures + 1, first_error.or(Some(err))),
                    })
                })
                .await;
            let elapsed = started.elapsed();
            if let Some(err) = first_error {
                panic!("{failures} of {count} reservations failed; first: {err}");
            }
            elapsed
        })
    }

    /// Flushes storage and stops the arbiters.
    fn finish(mut self, system: &SystemRunner) {
        system
            .block_on(self.storage.shutdown(SHUTDOWN_TIMEOUT))
            .expect("storage flushes at the end");
        drop(self.runtime.take());
    }
}

/// Runs one group: for each durability mode, a runtime stocked with `skus`.
fn reserve_group(criterion: &mut Criterion, system: &SystemRunner, name: &str, skus: &[String]) {
    let mut group = criterion.benchmark_group(name);
    group.throughput(Throughput::Elements(BATCH));
    for (mode, durability) in MODES {
        let mut bench = Bench::start(system, durability);
        bench.stock(system, skus);
        group.bench_function(BenchmarkId::from_parameter(mode), |bencher| {
            bencher.iter_custom(|iters| bench.reserve(system, skus, iters * BATCH));
        });
        bench.finish(system);
    }
    group.finish();
}

fn main() {
    // One actix system for the whole run: the runtimes start their arbiters in it.
    let system = actix_rt::System::new();
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    reserve_group(&mut criterion, &system, "reserve_hot_sku", &[HOT_SKU.to_owned()]);
    let spread: Vec<String> = (0..SPREAD_SKUS).map(|i| format!("SKU-{i}")).collect();
    reserve_group(&mut criterion, &system, "reserve_spread_10k", &spread);
    criterion.final_summary();
}
