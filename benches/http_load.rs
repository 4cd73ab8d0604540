//! HTTP load generator: reservations per second and their latency over HTTP.
//!
//! `cargo bench --bench http_load -- [--url URL] [--scenario hot|spread]
//! [--connections N] [--duration SECS] [--warmup SECS] [--durability sync|relaxed]
//! [--token T] [--client-threads N]`
//!
//! Without `--url` a server is started in this process (port 0, temporary data
//! directory, operator token `bench-token`, dropped at the end), so it shares the
//! cores with the client; `--durability` applies only to that server. The client
//! is lean on purpose: one hyper HTTP/1.1 keep-alive connection per task, closed
//! loop (a task sends its next request when the previous answer is in), on a tokio
//! runtime of `--client-threads` workers.
//!
//! Before the run every SKU used is stocked with 10^12 units (`PUT
//! /v1/inventory/{sku}`). The measured request is `POST
//! /v1/inventory/{sku}/reservations` `{"qty":1,"ttl_secs":3600}`: 201 counts as
//! success, any other status as an error. `hot` sends everything to one SKU,
//! `spread` picks uniformly among `SKU-0`..`SKU-9999`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use futures_util::future::Either;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use mercato::settings::Settings;
use mercato::Application;
use mercato_actors::storage::Durability;
use secrecy::SecretString;

/// SKUs of the `spread` scenario.
const SPREAD_SKUS: usize = 10_000;
/// The SKU of the `hot` scenario.
const HOT_SKU: &str = "SKU-HOT";
/// The measured request's body.
const RESERVE_BODY: &[u8] = br#"{"qty":1,"ttl_secs":3600}"#;
/// Units each SKU is stocked with: the largest `on_hand`, never exhausted.
const ON_HAND: u64 = 1_000_000_000_000;
/// Pause before reconnecting after a transport error, so a dead server is not spun on.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// Longest latency the histogram holds, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 60_000_000;

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "HTTP load generator for stock reservations")]
struct Args {
    /// Base URL of a running server; absent: start one in this process.
    #[arg(long)]
    url: Option<String>,
    /// Operator token sent as `Authorization: Bearer <token>`.
    #[arg(long, default_value = "bench-token")]
    token: String,
    /// Concurrent keep-alive connections, one closed-loop task each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Which SKUs the reservations go to.
    #[arg(long, value_enum, default_value_t = Scenario::Hot)]
    scenario: Scenario,
    /// Durability of the in-process server (ignored with `--url`).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Sync)]
    durability: DurabilityArg,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Where reservations go.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// All to one SKU.
    Hot,
    /// Uniformly over 10,000 SKUs.
    Spread,
}

/// `--durability`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    /// Reply after the fsync.
    Sync,
    /// Reply before the flush.
    Relaxed,
}

/// What every connection needs to build requests; shared by all tasks.
struct Target {
    /// Address connections are opened to.
    addr: SocketAddr,
    /// `Host` header value.
    host: HeaderValue,
    /// `Authorization` header value.
    authorization: HeaderValue,
    /// The SKUs used, by index.
    skus: Vec<String>,
    /// `POST` path of each SKU's reservations, parsed once.
    reserve_uris: Vec<Uri>,
    /// Path prefix of the base URL (empty for the root).
    base_path: String,
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    /// hyper's request half; its connection driver runs as its own task.
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Opens a connection to `addr`.
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake failed")?;
        tokio::spawn(driver);
        Ok(Connection { sender })
    }

    /// Sends `request`, reads the whole body, returns the status and the body.
    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// What one connection measured.
struct Report {
    /// Latency of 201 answers, in microseconds.
    latencies: Histogram<u64>,
    /// Answers by status.
    statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection errors).
    transport_errors: u64,
}

impl Report {
    fn new() -> Self {
        Report {
            latencies: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("the histogram bounds are valid"),
            statuses: BTreeMap::new(),
            transport_errors: 0,
        }
    }

    fn merge(&mut self, other: Report) {
        self.latencies
            .add(&other.latencies)
            .expect("histograms with equal bounds merge");
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.transport_errors += other.transport_errors;
    }
}

/// A server started in this process, dropped when the run ends.
///
/// `Application` offers no handle to stop it gracefully, so `stop` drops the
/// serving future: fine for a throw-away database in a temporary directory.
struct InProcessServer {
    /// Where it listens.
    addr: SocketAddr,
    /// Tells the server thread to drop the application.
    stop: tokio::sync::oneshot::Sender<()>,
    /// Its actix system; returns how serving ended.
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
    /// Its database; removed after the server has stopped.
    _data_dir: tempfile::TempDir,
}

impl InProcessServer {
    /// Builds the application on its own thread and waits until it is bound.
    fn start(token: &str, durability: Durability) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir().context("cannot create a temporary data dir")?;
        let mut settings = Settings::defaults()?;
        settings.server.bind = "127.0.0.1:0".parse()?;
        settings.storage.data_dir = data_dir.path().into();
        settings.storage.durability = durability;
        settings.admin.token = SecretString::from(token.to_owned());
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mercato-server".into())
            .spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let app = Application::build(settings)?;
                    // The receiver waits for this message; if it is gone, so is the run.
                    let _ = bound.send(app.addr());
                    let serving = Box::pin(app.run_until_stopped());
                    match futures_util::future::select(serving, stop_rx).await {
                        Either::Left((served, _)) => served,
                        Either::Right(_) => Ok(()),
                    }
                })
            })
            .context("cannot start the server thread")?;
        match bound_rx.recv() {
            Ok(addr) => Ok(InProcessServer {
                addr,
                stop,
                thread,
                _data_dir: data_dir,
            }),
            Err(_) => match thread.join() {
                Ok(result) => Err(result
                    .err()
                    .unwrap_or_else(|| anyhow::anyhow!("the server stopped before it was bound"))),
                Err(_) => bail!("the server thread panicked while starting"),
            },
        }
    }

    /// Drops the application and waits for its thread.
    async fn stop(self) -> anyhow::Result<()> {
        // An error means the thread already ended; joining tells how.
        let _ = self.stop.send(());
        tokio::task::spawn_blocking(move || self.thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))?
    }
}

/// A small xorshift generator: picking a SKU must cost next to nothing.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Stocks every SKU of `target`, spread over `connections` connections.
async fn stock_all(target: &Arc<Target>, connections: usize) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections.min(target.skus.len()) {
        let target = Arc::clone(target);
        tasks.spawn(async move {
            let mut connection = Connection::open(target.addr).await?;
            for sku in target.skus.iter().skip(first).step_by(connections) {
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(format!("{}/v1/inventory/{sku}", target.base_path))
                    .header(HOST, target.host.clone())
                    .header(AUTHORIZATION, target.authorization.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(format!(r#"{{"on_hand":{ON_HAND}}}"#))))?;
                let (status, body) = connection.send(request).await?;
                if status != StatusCode::OK {
                    bail!(
                        "PUT /v1/inventory/{sku} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.context("a stocking task panicked")??;
    }
    Ok(())
}

/// One closed-loop connection: requests back to back until `until`; only those
/// started at or after `measure_from` are recorded.
async fn run_connection(target: Arc<Target>, seed: u64, measure_from: Instant, until: Instant) -> Report {
    let mut report = Report::new();
    let mut random = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut connection = None;
    let body = Bytes::from_static(RESERVE_BODY);
    while Instant::now() < until {
        let open = match connection.as_mut() {
            Some(open) => open,
            None => match Connection::open(target.addr).await {
                Ok(open) => connection.insert(open),
                Err(_) => {
                    if Instant::now() >= measure_from {
                        report.transport_errors += 1;
                    }
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    continue;
                }
            },
        };
        let index = match target.reserve_uris.len() {
            1 => 0,
            n => (next_random(&mut random) % n as u64) as usize,
        };
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = target.reserve_uris[index].clone();
        let headers = request.headers_mut();
        headers.insert(HOST, target.host.clone());
        headers.insert(AUTHORIZATION, target.authorization.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let started = Instant::now();
        let outcome = open.send(request).await;
        let latency = started.elapsed();
        let measured = started >= measure_from;
        match outcome {
            Ok((status, _)) if measured => {
                if status == StatusCode::CREATED {
                    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    report.latencies.saturating_record(micros.max(1));
                }
                *report.statuses.entry(status.as_u16()).or_default() += 1;
            }
            Ok(_) => {}
            Err(_) => {
                connection = None;
                if measured {
                    report.transport_errors += 1;
                }
            }
        }
    }
    report
}

/// Parses `--url` into an address, a `Host` value and a path prefix.
async fn resolve(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let uri: Uri = url.parse().with_context(|| format!("invalid --url {url}"))?;
    if uri.scheme_str() != Some("http") {
        bail!("--url must start with http:// (no TLS in this client)");
    }
    let authority = uri.authority().context("--url has no host")?;
    let host_port = match authority.port_u16() {
        Some(_) => authority.to_string(),
        None => format!("{}:80", authority.host()),
    };
    let addr = tokio::net::lookup_host(&host_port)
        .await
        .with_context(|| format!("cannot resolve {host_port}"))?
        .next()
        .with_context(|| format!("{host_port} resolves to no address"))?;
    Ok((addr, authority.to_string(), uri.path().trim_end_matches('/').to_owned()))
}

fn percentile_ms(latencies: &Histogram<u64>, quantile: f64) -> f64 {
    latencies.value_at_quantile(quantile) as f64 / 1000.0
}

fn print_summary(args: &Args, report: &Report, measured: Duration) {
    let answered: u64 = report.statuses.values().sum();
    let succeeded = report.statuses.get(&201).copied().unwrap_or(0);
    let errors = answered - succeeded + report.transport_errors;
    let seconds = measured.as_secs_f64();
    let latencies = &report.latencies;
    println!("scenario      {:?}", args.scenario);
    println!("connections   {}", args.connections);
    println!("duration      {seconds:.2} s (after {} s warm-up)", args.warmup);
    println!("requests      {}", answered + report.transport_errors);
    println!("errors        {errors}");
    for (status, count) in &report.statuses {
        println!("  status {status}  {count}");
    }
    if report.transport_errors > 0 {
        println!("  transport   {}", report.transport_errors);
    }
    println!(
        "throughput    {:.0} req/s (201 only: {:.0}/s)",
        answered as f64 / seconds,
        succeeded as f64 / seconds
    );
    println!(
        "latency ms    p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  (201 answers)",
        percentile_ms(latencies, 0.50),
        percentile_ms(latencies, 0.90),
        percentile_ms(latencies, 0.99),
        percentile_ms(latencies, 0.999),
        latencies.max() as f64 / 1000.0,
    );
}

async fn run(args: Args) -> anyhow::Result<()> {
    let (server, addr, host, base_path) = match &args.url {
        Some(url) => {
            let (addr, host, base_path) = resolve(url).await?;
            (None, addr, host, base_path)
        }
        None => {
            let durability = match args.durability {
                DurabilityArg::Sync => Durability::Sync,
                DurabilityArg::Relaxed => Durability::Relaxed,
            };
            let server = InProcessServer::start(&args.token, durability)?;
            let addr = server.addr;
            eprintln!("in-process server on {addr} ({durability:?})");
            (Some(server), addr, addr.to_string(), String::new())
        }
    };
    let skus: Vec<String> = match args.scenario {
        Scenario::Hot => vec![HOT_SKU.to_owned()],
        Scenario::Spread => (0..SPREAD_SKUS).map(|i| format!("SKU-{i}")).collect(),
    };
    let reserve_uris = skus
        .iter()
        .map(|sku| format!("{base_path}/v1/inventory/{sku}/reservations").parse())
        .collect::<Result<Vec<Uri>, _>>()
        .context("a SKU makes an invalid path")?;
    let target = Arc::new(Target {
        addr,
        host: HeaderValue::from_str(&host)?,
        authorization: HeaderValue::from_str(&format!("Bearer {}", args.token))?,
        skus,
        reserve_uris,
        base_path,
    });
    let connections = args.connections.max(1);
    stock_all(&target, connections).await?;
    eprintln!(
        "stocked {} SKU(s); running {connections} connections",
        target.skus.len()
    );
    let measured = Duration::from_secs(args.duration);
    let measure_from = Instant::now() + Duration::from_secs(args.warmup);
    let until = measure_from + measured;
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..connections {
        tasks.spawn(run_connection(
            Arc::clone(&target),
            seed as u64 + 1,
            measure_from,
            until,
        ));
    }
    let mut report = Report::new();
    while let Some(result) = tasks.join_next().await {
        report.merge(result.context("a connection task panicked")?);
    }
    print_summary(&args, &report, measured);
    if let Some(server) = server {
        server.stop().await.context("the in-process server failed")?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.duration == 0 {
        bail!("--duration must be at least 1 second");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("load-client")
        .enable_all()
        .build()
        .context("cannot build the client runtime")?;
    runtime.block_on(run(args))
}
