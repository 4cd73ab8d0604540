//! The REST side: one lean hyper HTTP/1.1 keep-alive connection per task, the
//! set-up (a category, products with stock, carts holding them) and the cart
//! changes whose pushes are timed.
//!
//! A change is `PATCH /v1/carts/{id}/items/{sku}` `{"qty":n}`. The instant just
//! before it is sent is noted with the version its answer names (every change
//! bumps the version by one, so each version of a cart is one change's), for the
//! join with the sockets' arrivals.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use crate::client::{stock_all, Target};
use crate::sockets::{cart_version, new_histogram, Clock};

/// Lines in every cart; a change sets the quantity of one of them.
pub(crate) const LINES: usize = 3;
/// Quantities cycle through `1..=MAX_QTY`.
const MAX_QTY: u64 = 9;
/// Carts created at once during set-up.
const SETUP_CONNECTIONS: usize = 16;

/// One keep-alive connection.
pub(crate) struct Rest {
    sender: SendRequest<Full<Bytes>>,
    target: Arc<Target>,
}

impl Rest {
    /// Opens a connection to the target.
    pub(crate) async fn open(target: &Arc<Target>) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(target.addr)
            .await
            .with_context(|| format!("cannot connect to {}", target.addr))?;
        stream.set_nodelay(true).context("cannot set TCP_NODELAY")?;
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake failed")?;
        tokio::spawn(driver);
        Ok(Rest {
            sender,
            target: Arc::clone(target),
        })
    }

    /// Sends `method path` with a JSON `body` (and the operator token), returns
    /// the status and the body.
    async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut request = Request::new(Full::new(body.map(Bytes::from).unwrap_or_default()));
        *request.method_mut() = method;
        *request.uri_mut() = format!("{}{path}", self.target.base_path).parse()?;
        let headers = request.headers_mut();
        headers.insert(HOST, self.target.host.clone());
        headers.insert(AUTHORIZATION, self.target.authorization.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Like `send`, but fails unless the answer is `expected`; returns the body.
    async fn expect(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
        expected: StatusCode,
    ) -> anyhow::Result<Bytes> {
        let (status, answer) = self.send(method.clone(), path, body).await?;
        if status != expected {
            bail!(
                "{method} {path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        Ok(answer)
    }
}

/// Creates a category and [`LINES`] products named after `tag`, stocks them,
/// and returns their SKUs.
pub(crate) async fn products(target: &Arc<Target>, tag: &str) -> anyhow::Result<Vec<String>> {
    let mut rest = Rest::open(target).await?;
    let category = serde_json::json!({"name": format!("Push bench {tag}"), "slug": format!("push-bench-{tag}")});
    let answer = rest
        .expect(
            Method::POST,
            "/v1/categories",
            Some(category.to_string()),
            StatusCode::CREATED,
        )
        .await?;
    let category: serde_json::Value = serde_json::from_slice(&answer)?;
    let category_id = category["id"].as_u64().context("a category without id")?;
    let skus: Vec<String> = (0..LINES).map(|n| format!("PUSH-{tag}-{n}")).collect();
    for (n, sku) in skus.iter().enumerate() {
        let product = serde_json::json!({
            "sku": sku, "name": format!("Push bench item {n}"), "category_id": category_id,
            "price": 1_999 + 500 * n as u64, "currency": "EUR"
        });
        rest.expect(
            Method::POST,
            "/v1/products",
            Some(product.to_string()),
            StatusCode::CREATED,
        )
        .await?;
    }
    stock_all(target, &skus, 1).await?;
    Ok(skus)
}

/// Creates `count` guest carts holding every SKU of `skus`; returns their ids
/// and versions.
pub(crate) async fn carts(target: &Arc<Target>, count: usize, skus: &[String]) -> anyhow::Result<Vec<(String, u64)>> {
    let skus: Arc<[String]> = skus.into();
    let connections = SETUP_CONNECTIONS.min(count);
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections {
        let (target, skus) = (Arc::clone(target), Arc::clone(&skus));
        tasks.spawn(async move {
            let mut rest = Rest::open(&target).await?;
            let mut made = Vec::new();
            for _ in (first..count).step_by(connections) {
                let answer = rest
                    .expect(Method::POST, "/v1/carts", None, StatusCode::CREATED)
                    .await?;
                let cart: serde_json::Value = serde_json::from_slice(&answer)?;
                let id = cart["id"].as_str().context("a cart without id")?.to_owned();
                let mut version = 0;
                for (n, sku) in skus.iter().enumerate() {
                    let line = format!(r#"{{"sku":"{sku}","qty":{}}}"#, n + 1);
                    let answer = rest
                        .expect(
                            Method::POST,
                            &format!("/v1/carts/{id}/items"),
                            Some(line),
                            StatusCode::OK,
                        )
                        .await?;
                    version = cart_version(&answer).context("a cart answer without version")?;
                }
                made.push((id, version));
            }
            anyhow::Ok(made)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(result) = tasks.join_next().await {
        all.extend(result.context("a set-up task panicked")??);
    }
    Ok(all)
}

/// What a run of changes did.
pub(crate) struct Changes {
    /// Changes answered 200.
    pub(crate) done: u64,
    /// Latency of those answers, in microseconds.
    pub(crate) rest_latencies: Histogram<u64>,
    /// Per change: the cart, the version it produced, when it was sent (see [`Clock`]).
    pub(crate) sent: Vec<(usize, u64, u64)>,
    /// The first failure, which ends the run of its task.
    pub(crate) error: Option<anyhow::Error>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Changes {
            done: 0,
            rest_latencies: new_histogram(),
            sent: Vec::new(),
            error: None,
        }
    }

    /// Adds `other` to this.
    pub(crate) fn merge(&mut self, other: Changes) {
        self.done += other.done;
        self.rest_latencies
            .add(&other.rest_latencies)
            .expect("histograms with equal bounds merge");
        self.sent.extend(other.sent);
        self.error = self.error.take().or(other.error);
    }
}

/// How a task paces its changes.
#[derive(Clone, Copy)]
pub(crate) enum Pace {
    /// `count` changes, one started every `every` (or as soon as the previous
    /// one is answered, if that is later).
    Spaced { count: u64, every: std::time::Duration },
    /// Back to back until the instant.
    Until(Instant),
}

/// Changes the carts `carts` (indexes into `ids`) in turn, on one connection,
/// paced by `pace`.
pub(crate) async fn change_carts(
    target: Arc<Target>,
    ids: Arc<[String]>,
    clock: Clock,
    skus: Arc<[String]>,
    carts: Vec<usize>,
    pace: Pace,
) -> Changes {
    let mut changes = Changes::new();
    let mut rest = match Rest::open(&target).await {
        Ok(rest) => rest,
        Err(err) => {
            changes.error = Some(err);
            return changes;
        }
    };
    let mut ticks = match pace {
        Pace::Spaced { every, .. } => {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            Some(ticks)
        }
        Pace::Until(_) => None,
    };
    let mut n = 0u64;
    loop {
        match pace {
            Pace::Spaced { count, .. } if n >= count => break,
            Pace::Until(until) if Instant::now() >= until => break,
            _ => {}
        }
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        let cart = carts[(n % carts.len() as u64) as usize];
        let sku = &skus[(n % skus.len() as u64) as usize];
        let qty = n % MAX_QTY + 1;
        let path = format!("/v1/carts/{}/items/{sku}", ids[cart]);
        let started = Instant::now();
        let sent_at = clock.micros();
        let outcome = rest
            .send(Method::PATCH, &path, Some(format!(r#"{{"qty":{qty}}}"#)))
            .await;
        let latency = started.elapsed();
        match outcome {
            Ok((StatusCode::OK, body)) => {
                let Some(version) = cart_version(&body) else {
                    changes.error = Some(anyhow::anyhow!("PATCH {path} answered a cart without version"));
                    break;
                };
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                changes.rest_latencies.saturating_record(micros.max(1));
                changes.done += 1;
                changes.sent.push((cart, version, sent_at));
            }
            Ok((status, body)) => {
                changes.error = Some(anyhow::anyhow!(
                    "PATCH {path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
                break;
            }
            Err(err) => {
                changes.error = Some(err.context(format!("PATCH {path} got no answer")));
                break;
            }
        }
        n += 1;
    }
    changes
}
