//! Memory and time to activate many SKU actors in process: activates N actors
//! (default 1,000,000) by reading each SKU's level once, then reports the
//! resident set size growth per actor and the activation rate.
//!
//! `cargo bench --bench actor_memory -- [--actors N] [--batch B]`

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::runtime::{Runtime, RuntimeConfig};
use mercato_actors::sku::Inventory;
use mercato_actors::storage::{Durability, Storage, StorageConfig};

/// Flags.
#[derive(clap::Parser)]
struct Args {
    /// Actors to activate.
    #[arg(long, default_value_t = 1_000_000)]
    actors: usize,
    /// Activations in flight at once.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Resident set size of this process, from /proc.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

fn main() {
    let Args {
        actors,
        batch: in_flight,
        ..
    } = clap::Parser::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    actix_rt::System::new().block_on(async move {
        let prometheus = prometheus::Registry::new();
        let metrics = ActorMetrics::register(&prometheus).expect("metrics");
        let storage_config = StorageConfig {
            data_dir: dir.path().to_path_buf(),
            durability: Durability::Sync,
            cache_capacity_mb: 64,
            flush_every_ms: 500,
        };
        let storage = Storage::open(&storage_config, metrics.storage).expect("storage");
        let config = RuntimeConfig {
            arbiters: 0,
            idle_timeout: Duration::from_secs(3600),
            mailbox_capacity: 100_000,
            max_batch: 1024,
            snapshot_min_bytes: 65_536,
            restart_backoff_min: Duration::from_millis(10),
            restart_backoff_max: Duration::from_secs(5),
        };
        let runtime = Runtime::start(config, storage, metrics.runtime);
        let inventory = Inventory::new(&runtime);
        inventory.level("WARMUP").await.expect("warm-up");
        let rss_before = rss_bytes();
        let started = Instant::now();
        let failures = stream::iter(0..actors)
            .map(|i| {
                let inventory = inventory.clone();
                async move { inventory.level(&format!("SKU-{i:07}")).await.is_err() }
            })
            .buffer_unordered(in_flight)
            .filter(|failed| std::future::ready(*failed))
            .count()
            .await;
        let elapsed = started.elapsed();
        let live = inventory.registry().active();
        let grown = rss_bytes().saturating_sub(rss_before);
        println!("actors activated: {live} (failures: {failures})");
        println!(
            "time: {:.2} s ({:.0} activations/s)",
            elapsed.as_secs_f64(),
            actors as f64 / elapsed.as_secs_f64()
        );
        println!(
            "rss growth: {:.1} MiB ({:.0} bytes per actor)",
            grown as f64 / (1024.0 * 1024.0),
            grown as f64 / actors as f64
        );
    });
}
