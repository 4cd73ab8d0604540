//! "Customers also bought" at size, without a server: the cost of counting
//! one confirmed order into the co-occurrence model, the model's memory, and
//! the cost of ranking a product's neighbours, with `--products` SKUs and
//! `--orders` past orders (1 to 5 lines each, a few SKUs much more popular
//! than the rest; a seeded generator, so every run counts the same orders).
//!
//! `cargo bench --bench co_bought -- [--products 100000] [--orders 1000000]`
//!
//! Memory is the process's resident set before and after the model is built
//! (the orders are generated one at a time, so it is the model's).

use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use mercato_actors::order::placement::Placement;
use mercato_actors::order::state::OrderEvent;
use mercato_actors::read_model::Book;
use mercato_actors::recommend::co_bought::CoBought;

/// The allocator of the `mercato` binary, so memory is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Orders timed one by one once the model holds `--orders`.
const TIMED: usize = 10_000;
/// Neighbour rankings timed.
const READS: usize = 10_000;

#[derive(Parser, Debug)]
struct Args {
    /// SKUs.
    #[arg(long, default_value_t = 100_000)]
    products: u64,
    /// Past confirmed orders counted before the timed ones.
    #[arg(long, default_value_t = 1_000_000)]
    orders: usize,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// xorshift64*: the order generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A SKU index: squaring a uniform draw makes low indexes popular.
    fn sku(&mut self, products: u64) -> u64 {
        let uniform = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((uniform * uniform) * products as f64) as u64
    }
}

fn placement(rng: &mut Rng, products: u64) -> Placement {
    let skus: Vec<String> = (0..1 + rng.next() % 5)
        .map(|_| format!("SKU-{:06}", rng.sku(products)))
        .collect();
    let lines: Vec<(&str, u32, u64)> = skus.iter().map(|sku| (sku.as_str(), 1, 100)).collect();
    Placement::example(0, "EUR", &lines)
}

/// One confirmed order, as the log holds it (placed, then confirmed).
fn count(model: &mut CoBought, rng: &mut Rng, products: u64, n: usize) {
    let id = format!("order-{n}");
    model.apply(&id, 0, vec![OrderEvent::Placed(Box::new(placement(rng, products)))]);
    model.apply(&id, 0, vec![OrderEvent::Confirmed]);
}

/// The resident set size, in bytes.
fn rss() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: u64 = (status.lines())
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")?;
    Ok(kib * 1024)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rng = Rng(0x5EED_CAFE);
    let mut model = CoBought::default();
    let before = rss()?;
    let started = Instant::now();
    for n in 0..args.orders {
        count(&mut model, &mut rng, args.products, n);
    }
    let built = started.elapsed();
    let after = rss()?;
    let mut timed = Vec::with_capacity(TIMED);
    for n in 0..TIMED {
        let asked = Instant::now();
        count(&mut model, &mut rng, args.products, args.orders + n);
        timed.push(asked.elapsed().as_nanos() as u64);
    }
    timed.sort_unstable();
    let mut reads = Vec::with_capacity(READS);
    let mut found = 0;
    for _ in 0..READS {
        let sku = format!("SKU-{:06}", rng.sku(args.products));
        let asked = Instant::now();
        found += model.neighbours(&sku, 20, |_| true).len();
        reads.push(asked.elapsed().as_nanos() as u64);
    }
    reads.sort_unstable();
    let quantile = |sorted: &[u64], q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    let model_bytes = after.saturating_sub(before);
    println!(
        "model         {} SKUs, {} orders, {} pairs",
        args.products,
        args.orders,
        model.pairs()
    );
    println!(
        "build         {:.1} s: {:.2} µs per confirmed order on average",
        built.as_secs_f64(),
        built.as_secs_f64() * 1e6 / args.orders as f64
    );
    println!(
        "update        µs per confirmed order at that size: p50 {:.2}  p99 {:.2}  max {:.2}  ({TIMED} orders)",
        quantile(&timed, 0.5),
        quantile(&timed, 0.99),
        quantile(&timed, 1.0)
    );
    println!(
        "memory        {:.0} MiB resident for the model ({:.0} bytes per pair)",
        model_bytes as f64 / (1 << 20) as f64,
        model_bytes as f64 / model.pairs().max(1) as f64
    );
    println!(
        "read          µs per top-20 ranking: p50 {:.2}  p99 {:.2}  max {:.2}  ({READS} SKUs drawn as orders draw them, {:.1} neighbours each)",
        quantile(&reads, 0.5),
        quantile(&reads, 0.99),
        quantile(&reads, 1.0),
        found as f64 / READS as f64
    );
    Ok(())
}
