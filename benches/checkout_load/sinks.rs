//! The events-out sinks under checkout load (`--nats`, `--webhooks`): what
//! their consumers receive, how fast, and how late. Each consumer runs on a
//! thread of its own (named `load-client`, so its CPU counts as the client's):
//! an HTTP receiver that answers every webhook delivery 200, and a NATS core
//! subscription to the run's subjects. The lag of an event is the time it was
//! received minus its `occurred_at` (when its log record was written, just
//! before its fsync).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

use futures_util::StreamExt as _;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use crate::api::{call_once, request};
use crate::client::Target;

/// How long the sinks may take to catch up after the last checkout.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// Caught up: nothing new arrived for this long.
const QUIET: Duration = Duration::from_secs(2);

/// What one consumer received: when, and how late (µs).
#[derive(Default)]
struct Received {
    events: Vec<(Instant, u64)>,
    /// Bodies without a readable `occurred_at`.
    unreadable: u64,
}

type Shared = Arc<Mutex<Received>>;

/// Records one event's JSON as received now.
fn record(received: &Shared, body: &[u8]) {
    let now = (Instant::now(), SystemTime::now());
    let occurred = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|event| humantime::parse_rfc3339_weak(event["occurred_at"].as_str()?).ok());
    let mut received = received.lock().expect("not poisoned");
    match occurred {
        Some(at) => {
            let lag = now.1.duration_since(at).unwrap_or_default().as_micros() as u64;
            received.events.push((now.0, lag));
        }
        None => received.unreadable += 1,
    }
}

/// One consumer: its name and what it received.
struct Consumer {
    name: String,
    received: Shared,
}

/// The consumers of a run, and what to clean up after it.
pub(crate) struct Sinks {
    consumers: Vec<Consumer>,
    /// The NATS connection and the run's stream, deleted at the end.
    nats: Option<(async_nats::jetstream::Context, String)>,
}

/// The run's NATS stream and subject prefix: new names per run, so that an
/// earlier run's event ids (which restart at `evt_1` in a fresh data dir)
/// are not taken for duplicates.
pub(crate) fn nats_names() -> (String, String) {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    (format!("BENCH_{millis}"), format!("bench{millis}"))
}

impl Sinks {
    /// Starts the consumers: a subscription to `<prefix>.>` at `nats` (the
    /// server publishes to stream `stream` there), and `webhooks` endpoints
    /// for `types`, registered over the API to one receiver in this process.
    pub(crate) async fn start(
        target: &Target,
        nats: Option<(&str, &str, &str)>,
        webhooks: usize,
        types: &[String],
    ) -> anyhow::Result<Self> {
        let mut sinks = Sinks {
            consumers: Vec::new(),
            nats: None,
        };
        if let Some((url, stream, prefix)) = nats {
            let received = Shared::default();
            let client = subscribe(url, prefix, Arc::clone(&received))?;
            sinks.consumers.push(Consumer {
                name: "nats".into(),
                received,
            });
            sinks.nats = Some((async_nats::jetstream::new(client), stream.to_string()));
        }
        if webhooks > 0 {
            let receivers: Vec<Shared> = (0..webhooks).map(|_| Shared::default()).collect();
            let base = receive(receivers.clone())?;
            for (index, received) in receivers.into_iter().enumerate() {
                let body =
                    json!({"url": format!("{base}/{index}"), "event_types": types, "description": "checkout_load"});
                let post = request(target, Method::POST, "/v1/admin/webhooks", Some(body.to_string()), true);
                let (status, answer) = call_once(target, post).await?;
                if status != hyper::StatusCode::CREATED {
                    bail!(
                        "registering webhook {index} answered {status}: {} (a server started with --url must set webhooks.allow_private_targets = true)",
                        String::from_utf8_lossy(&answer)
                    );
                }
                sinks.consumers.push(Consumer {
                    name: format!("webhook {index}"),
                    received,
                });
            }
        }
        Ok(sinks)
    }

    /// Waits until every consumer has been quiet for [`QUIET`] (at most
    /// [`DRAIN_LIMIT`]), then prints, per consumer, the events received
    /// within `from..to` per second, the lag of every event received from
    /// `from` on (the backlog after `to` included), and when it caught up
    /// after `to`. Deletes the run's NATS stream.
    pub(crate) async fn report(self, from: Instant, to: Instant) -> anyhow::Result<()> {
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            let last = self
                .consumers
                .iter()
                .filter_map(|consumer| {
                    consumer
                        .received
                        .lock()
                        .expect("not poisoned")
                        .events
                        .last()
                        .map(|e| e.0)
                })
                .max();
            if last.is_none_or(|last| last.elapsed() >= QUIET) {
                break;
            }
            if Instant::now() >= deadline {
                println!(
                    "sink          still receiving {} s after the load: the figures below miss the rest",
                    DRAIN_LIMIT.as_secs()
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let seconds = to.saturating_duration_since(from).as_secs_f64().max(1e-3);
        for consumer in &self.consumers {
            let received = consumer.received.lock().expect("not poisoned");
            let mut lags = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).context("histogram")?;
            for (_, lag) in received.events.iter().filter(|(at, _)| *at >= from) {
                lags.saturating_record((*lag).max(1));
            }
            let in_window = received.events.iter().filter(|(at, _)| (from..to).contains(at)).count();
            let caught_up = received
                .events
                .last()
                .map_or(0.0, |(at, _)| at.saturating_duration_since(to).as_secs_f64() * 1000.0);
            if received.unreadable > 0 {
                println!(
                    "sink          {}: {} bodies without a readable occurred_at",
                    consumer.name, received.unreadable
                );
            }
            println!(
                "sink          {}: {:.0} events/s received while measured ({} in all), lag ms p50 {:.1}  p99 {:.1}  max {:.1} (from the measured part on); last event {caught_up:.0} ms after the measured part",
                consumer.name,
                in_window as f64 / seconds,
                received.events.len(),
                lags.value_at_quantile(0.5) as f64 / 1000.0,
                lags.value_at_quantile(0.99) as f64 / 1000.0,
                lags.max() as f64 / 1000.0,
            );
        }
        if let Some((jetstream, stream)) = self.nats {
            if let Ok(mut info) = jetstream.get_stream(&stream).await {
                if let Ok(info) = info.info().await {
                    println!(
                        "sink          nats stream {stream}: {} messages stored",
                        info.state.messages
                    );
                }
            }
            jetstream
                .delete_stream(&stream)
                .await
                .context("deleting the run's stream")?;
        }
        Ok(())
    }
}

/// Runs `serve` on a thread of its own (named like the load client's
/// threads) with a runtime of its own; answers what `ready` got from it
/// before it went on serving. Blocks the caller until then (set-up only).
fn on_own_thread<T: Send + 'static, F: std::future::Future<Output = ()>>(
    serve: impl FnOnce(std::sync::mpsc::Sender<anyhow::Result<T>>) -> F + Send + 'static,
) -> anyhow::Result<T> {
    let (ready, answer) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("load-client".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(serve(ready)),
            Err(err) => drop(ready.send(Err(err.into()))),
        }
    })?;
    answer
        .recv()
        .context("the consumer's thread ended before it was ready")?
}

/// Subscribes to `<prefix>.>`; answers the connection.
fn subscribe(url: &str, prefix: &str, received: Shared) -> anyhow::Result<async_nats::Client> {
    let (url, subject) = (url.to_string(), format!("{prefix}.>"));
    on_own_thread(move |ready| async move {
        let connected = async_nats::ConnectOptions::new()
            .subscription_capacity(1 << 20)
            .connect(url)
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(err) => return drop(ready.send(Err(err.into()))),
        };
        let mut subscription = match client.subscribe(subject).await {
            Ok(subscription) => subscription,
            Err(err) => return drop(ready.send(Err(err.into()))),
        };
        let _ = ready.send(Ok(client));
        while let Some(message) = subscription.next().await {
            record(&received, &message.payload);
        }
    })
}

/// Starts the webhook receiver: `POST /{index}` records into
/// `receivers[index]` and answers 200. Answers its base URL.
fn receive(receivers: Vec<Shared>) -> anyhow::Result<String> {
    let receivers = Arc::new(receivers);
    on_own_thread(move |ready| async move {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(err) => return drop(ready.send(Err(err.into()))),
        };
        let base = listener.local_addr().map(|addr| format!("http://{addr}"));
        let _ = ready.send(base.map_err(Into::into));
        while let Ok((stream, _)) = listener.accept().await {
            let receivers = Arc::clone(&receivers);
            let service = service_fn(move |delivery: Request<Incoming>| {
                let receivers = Arc::clone(&receivers);
                async move {
                    let index = delivery.uri().path().trim_start_matches('/').parse::<usize>().ok();
                    let body = delivery.into_body().collect().await?.to_bytes();
                    if let Some(received) = index.and_then(|index| receivers.get(index)) {
                        record(received, &body);
                    }
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::new())))
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    })
}
