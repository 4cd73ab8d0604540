//! Logins per second and the server's memory at the configured argon2id cost
//! (19 MiB, 2 passes by default), with 1, 8, 64 and 512 concurrent clients.
//!
//! The real binary runs in a child process (its own data dir, rate limits
//! lifted), so its resident set is its own: sampled every 5 ms during each
//! round (peak) and 5 s after it (settled). Each client logs in with the right
//! password back to back for `--duration` seconds; 200 is success, 503 `busy`
//! (every hashing slot taken past `auth.argon2.queue_timeout`) is counted apart,
//! anything else is an error and fails the run.
//!
//! `cargo bench --bench login_load -- [--clients 1,8,64,512] [--duration SECS]`

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const MIB: f64 = 1024.0 * 1024.0;

/// Flags.
#[derive(clap::Parser)]
struct Args {
    /// Concurrent clients of each round.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64,512")]
    clients: Vec<usize>,
    /// Seconds of each round.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Starts the binary on `dir`; answers it and its base URL (as it prints it).
fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--admin-token",
            "bench-token-0123456789",
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "error")
        .env("MERCATO__RATE_LIMIT__LOGIN__PER_IP", "1000000000")
        .env("MERCATO__RATE_LIMIT__LOGIN__PER_ACCOUNT", "1000000000")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the mercato binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let address = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("listening on ").map(str::to_string))
        .expect("the server printed its address");
    (child, address)
}

/// One round: `clients` logging in back to back for `duration`.
async fn round(client: &reqwest::Client, base: &str, pid: u32, clients: usize, duration: Duration) {
    let (peak, done) = (
        Arc::new(AtomicU64::new(rss_bytes(pid))),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = std::thread::spawn({
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    let until = Instant::now() + duration;
    let tasks = (0..clients).map(|_| {
        let (client, url) = (client.clone(), format!("{base}/v1/auth/login"));
        tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3).expect("histogram");
            let (mut ok, mut busy, mut other) = (0u64, 0u64, 0u64);
            while Instant::now() < until {
                let started = Instant::now();
                let body = json!({"email": "bench@example.com", "password": PASSWORD});
                match client
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .map(|answer| answer.status().as_u16())
                {
                    Ok(200) => {
                        ok += 1;
                        latencies
                            .record(started.elapsed().as_micros().max(1) as u64)
                            .expect("recorded");
                    }
                    Ok(503) => busy += 1,
                    _ => other += 1,
                }
            }
            (latencies, ok, busy, other)
        })
    });
    let mut latencies = Histogram::<u64>::new(3).expect("histogram");
    let (mut ok, mut busy, mut other) = (0, 0, 0);
    for task in futures_util::future::join_all(tasks).await {
        let (histogram, o, b, e) = task.expect("a client task");
        latencies.add(&histogram).expect("same bounds");
        (ok, busy, other) = (ok + o, busy + b, other + e);
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{clients:>4} clients: {:>6.1} logins/s, {busy} × 503 busy, {other} errors; p50 {:.1} ms, p99 {:.1} ms; RSS peak {:.0} MiB, settled {:.0} MiB",
        ok as f64 / duration.as_secs_f64(),
        ms(0.5),
        ms(0.99),
        peak.load(Ordering::Relaxed) as f64 / MIB,
        rss_bytes(pid) as f64 / MIB,
    );
    assert_eq!(other, 0, "{other} logins failed otherwise than 503 busy");
}

fn main() {
    let args: Args = clap::Parser::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, base) = start(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a client runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let registered = client
            .post(format!("{base}/v1/auth/register"))
            .json(&json!({"email": "bench@example.com", "password": PASSWORD}))
            .send()
            .await
            .expect("registered");
        assert_eq!(registered.status().as_u16(), 201, "registration");
        println!(
            "server pid {}, RSS at start {:.0} MiB",
            child.id(),
            rss_bytes(child.id()) as f64 / MIB
        );
        for clients in &args.clients {
            round(&client, &base, child.id(), *clients, Duration::from_secs(args.duration)).await;
        }
    });
    let _ = child.kill();
    let _ = child.wait();
}
