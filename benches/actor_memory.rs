//! Memory and time of many live SKU actors, in process, two ways:
//!
//! 1. **empty**: N never-stocked SKUs (default 1,000,000) activated by reading
//!    each one's level once: the runtime's floor per actor;
//! 2. **stocked**: M SKUs (default 100,000) each given stock and three open
//!    reservations (ids, quantities, expiries), all passivated, then activated
//!    again by a read, so each live actor holds a realistic state loaded from
//!    storage.
//!
//! Each phase reports bytes per *live* actor (as the registry counts them, not
//! as requested) twice: the heap growth from a counting allocator (exact, and
//! blind to memory the allocator keeps after the frees of a passivation) and the
//! resident set growth (what the OS sees; it includes sled's page cache, capped
//! at 64 MiB here). The counting costs a little of the activation rate.
//!
//! `cargo bench --bench actor_memory -- [--actors N] [--stocked M] [--batch B]`

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::runtime::{Runtime, RuntimeConfig};
use mercato_actors::sku::Inventory;
use mercato_actors::storage::{Durability, Storage, StorageConfig};

/// mimalloc, the allocator the `mercato` binary runs on (so that the resident
/// set is the binary's), counting the bytes it has handed out and not had back.
struct Counting;

static HEAP: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HEAP.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Flags.
#[derive(clap::Parser)]
struct Args {
    /// Never-stocked actors to activate.
    #[arg(long, default_value_t = 1_000_000)]
    actors: usize,
    /// Stocked actors, with three open reservations each.
    #[arg(long, default_value_t = 100_000)]
    stocked: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Resident set size of this process, from /proc.
fn rss_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: i64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

/// Heap and resident bytes at one moment.
#[derive(Clone, Copy)]
struct Memory {
    heap: isize,
    rss: i64,
}

fn memory() -> Memory {
    Memory {
        heap: HEAP.load(Ordering::Relaxed),
        rss: rss_bytes(),
    }
}

/// Runs `call` for each of `ids`, `batch` at a time; answers how many failed.
async fn for_each<F, Fut>(ids: impl Iterator<Item = String>, batch: usize, call: F) -> usize
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    stream::iter(ids)
        .map(call)
        .buffer_unordered(batch)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await
}

/// Activates `ids` by reading their levels; prints the phase's figures.
async fn activate(label: &str, inventory: &Inventory, ids: impl Iterator<Item = String>, batch: usize) {
    let before = memory();
    let started = Instant::now();
    let failures = for_each(ids, batch, |id| async move { inventory.level(&id).await.is_err() }).await;
    let elapsed = started.elapsed();
    let after = memory();
    let live = inventory.registry().active();
    assert_eq!(failures, 0, "{label}: {failures} activations failed");
    let per = |bytes: f64| bytes / live.max(1) as f64;
    let (heap, rss) = ((after.heap - before.heap) as f64, (after.rss - before.rss) as f64);
    println!(
        "{label}: {live} live actors, {:.2} s ({:.0} activations/s)",
        elapsed.as_secs_f64(),
        live as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  heap growth {:.1} MiB: {:.0} bytes per live actor",
        heap / 1048576.0,
        per(heap)
    );
    println!(
        "  rss growth  {:.1} MiB: {:.0} bytes per live actor",
        rss / 1048576.0,
        per(rss)
    );
}

/// Passivates every actor and waits until they have all stopped.
async fn passivate_all(inventory: &Inventory) {
    while inventory.registry().live() > 0 || inventory.registry().active() > 0 {
        inventory.registry().passivate_idle(Duration::ZERO);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn main() {
    let Args {
        actors, stocked, batch, ..
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
            settled_idle_timeout: Duration::from_secs(3600),
            mailbox_capacity: 100_000,
            max_batch: 1024,
            snapshot_min_bytes: 65_536,
            restart_backoff_min: Duration::from_millis(10),
            restart_backoff_max: Duration::from_secs(5),
        };
        let runtime = Runtime::start(config, storage, metrics.runtime);
        let inventory = Inventory::new(&runtime);
        inventory.level("WARMUP").await.expect("warm-up");

        activate("empty", &inventory, (0..actors).map(|i| format!("SKU-{i:07}")), batch).await;
        passivate_all(&inventory).await;

        let stocked_ids = || (0..stocked).map(|i| format!("STOCKED-{i:07}"));
        let started = Instant::now();
        let failures = for_each(stocked_ids(), batch, |id| {
            let inventory = inventory.clone();
            async move {
                let mut failed = inventory.set_on_hand(&id, 100).await.is_err();
                for n in 0..3 {
                    let reservation = format!("order-{id}-{n}");
                    failed |= inventory.reserve(&id, reservation, n + 1, 3_600_000).await.is_err();
                }
                failed
            }
        })
        .await;
        assert_eq!(failures, 0, "stocking: {failures} SKUs failed");
        println!(
            "stocked {stocked} SKUs with 3 reservations each in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        passivate_all(&inventory).await;
        activate("stocked", &inventory, stocked_ids(), batch).await;
        let level = inventory.level("STOCKED-0000000").await.expect("a stocked level");
        assert_eq!((level.on_hand, level.reserved), (100, 6), "the state came back");
    });
}
