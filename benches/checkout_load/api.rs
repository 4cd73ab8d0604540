//! The checkout bench's own HTTP side, kept minimal: `http_load`'s client
//! (included as `client`) gives the [`Target`], the `Report`, the keep-alive
//! [`Connection`], `stock_all` and `resolve`; its prepared requests carry no
//! `Idempotency-Key`, so this module has the request builders the bench needs,
//! and the set-up calls that run before the timed phase: the category, the
//! products, the stock, and carts holding one line each, spread over a few
//! connections.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use crate::client::{Connection, Target};

/// Slug of the category every bench product goes into.
const CATEGORY_SLUG: &str = "checkout-bench";
/// Where every checkout ships: a valid German address.
const SHIPPING_ADDRESS: &str =
    r#"{"name":"B","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"}"#;

/// A request to `path` (under the base path). `operator` adds the operator
/// token; buyers' requests go without one, as a guest's would.
pub(crate) fn request(
    target: &Target,
    method: Method,
    path: &str,
    body: Option<String>,
    operator: bool,
) -> Request<Full<Bytes>> {
    let json = body.is_some();
    let mut request = Request::new(Full::new(body.map_or_else(Bytes::new, Bytes::from)));
    *request.method_mut() = method;
    *request.uri_mut() = format!("{}{path}", target.base_path)
        .parse()
        .expect("the bench's paths are valid URIs");
    let headers = request.headers_mut();
    headers.insert(HOST, target.host.clone());
    if operator {
        headers.insert(AUTHORIZATION, target.authorization.clone());
    }
    if json {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    request
}

/// The checkout of `cart` under idempotency key `key`, by a guest of its own
/// (`KEY@example.com`), as most of a shop's orders are.
pub(crate) fn checkout_request(target: &Target, cart: &str, key: &str) -> Request<Full<Bytes>> {
    let body = format!(r#"{{"email":"{key}@example.com","shipping_address":{SHIPPING_ADDRESS}}}"#);
    let mut request = Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = format!("{}/v1/carts/{cart}/checkout", target.base_path)
        .parse()
        .expect("cart ids make valid URIs");
    let headers = request.headers_mut();
    headers.insert(HOST, target.host.clone());
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        "idempotency-key",
        HeaderValue::from_str(key).expect("the bench's keys are visible ASCII"),
    );
    request
}

/// `error.code` of an error body, or `-` when there is none.
pub(crate) fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| value["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned())
}

/// Whether a 201 checkout answer is a confirmed order.
pub(crate) fn is_confirmed(body: &[u8]) -> bool {
    const CONFIRMED: &[u8] = br#""status":"confirmed""#;
    body.windows(CONFIRMED.len()).any(|window| window == CONFIRMED)
}

/// Fails with the answer unless `status` is one of `expected`.
fn expect(what: &str, status: StatusCode, body: &[u8], expected: &[StatusCode]) -> anyhow::Result<()> {
    if !expected.contains(&status) {
        bail!("{what} answered {status}: {}", String::from_utf8_lossy(body));
    }
    Ok(())
}

/// The client's kept-alive connection, opened first if it has none (after a
/// transport error the caller drops it). `None` when it cannot be opened.
pub(crate) async fn kept_open<'a>(kept: &'a mut Option<Connection>, target: &Target) -> Option<&'a mut Connection> {
    if kept.is_none() {
        *kept = Some(Connection::open(target.addr).await.ok()?);
    }
    kept.as_mut()
}

/// Sends one request on a fresh connection.
pub(crate) async fn call_once(target: &Target, request: Request<Full<Bytes>>) -> anyhow::Result<(StatusCode, Bytes)> {
    Connection::open(target.addr).await?.send(request).await
}

/// Sends `count` requests, made by `build(index)`, over `connections`
/// connections; `check(index, status, body)` turns each answer into a result.
/// Returns the results in index order.
async fn send_all<T, B, C>(
    target: &Arc<Target>,
    count: usize,
    connections: usize,
    build: B,
    check: C,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    B: Fn(&Target, usize) -> Request<Full<Bytes>> + Send + Sync + 'static,
    C: Fn(usize, StatusCode, &Bytes) -> anyhow::Result<T> + Send + Sync + 'static,
{
    let connections = connections.clamp(1, count.max(1));
    let (build, check) = (Arc::new(build), Arc::new(check));
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections {
        let (target, build, check) = (Arc::clone(target), Arc::clone(&build), Arc::clone(&check));
        tasks.spawn(async move {
            let mut connection = Connection::open(target.addr).await?;
            let mut results = Vec::new();
            for index in (first..count).step_by(connections) {
                let (status, body) = connection.send(build(&target, index)).await?;
                results.push((index, check(index, status, &body)?));
            }
            anyhow::Ok(results)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(results) = tasks.join_next().await {
        all.extend(results.context("a set-up task panicked")??);
    }
    all.sort_unstable_by_key(|(index, _)| *index);
    Ok(all.into_iter().map(|(_, result)| result).collect())
}

/// The id of the bench's category, created unless it exists (a rerun on the same server).
pub(crate) async fn category(target: &Target) -> anyhow::Result<u64> {
    let body = format!(r#"{{"name":"Checkout bench","slug":"{CATEGORY_SLUG}"}}"#);
    let (status, body) = call_once(
        target,
        request(target, Method::POST, "/v1/categories", Some(body), true),
    )
    .await?;
    let body = match status {
        StatusCode::CREATED => body,
        StatusCode::CONFLICT => {
            let path = format!("/v1/categories/{CATEGORY_SLUG}");
            let (status, body) = call_once(target, request(target, Method::GET, &path, None, false)).await?;
            expect("GET the bench category", status, &body, &[StatusCode::OK])?;
            body
        }
        _ => bail!(
            "POST /v1/categories answered {status}: {}",
            String::from_utf8_lossy(&body)
        ),
    };
    let category: Value = serde_json::from_slice(&body).context("a category answer is not JSON")?;
    category["id"].as_u64().context("a category answer has no id")
}

/// Creates a product for each of `skus` (price 10.00 to 59.00 EUR); one that
/// exists already (a rerun) is kept. Returns how many were created.
pub(crate) async fn create_products(
    target: &Arc<Target>,
    category: u64,
    skus: Arc<[String]>,
    connections: usize,
) -> anyhow::Result<usize> {
    let names = Arc::clone(&skus);
    let created = send_all(
        target,
        skus.len(),
        connections,
        move |target, index| {
            let body = format!(
                r#"{{"sku":"{sku}","name":"Bench product {sku}","category_id":{category},"price":{price},"currency":"EUR"}}"#,
                sku = names[index],
                price = 1_000 + (index % 50) * 100,
            );
            request(target, Method::POST, "/v1/products", Some(body), true)
        },
        move |index, status, body| {
            if status == StatusCode::CONFLICT && error_code(body) == "sku_taken" {
                return Ok(false);
            }
            expect(&format!("POST /v1/products ({})", skus[index]), status, body, &[StatusCode::CREATED])?;
            Ok(true)
        },
    )
    .await?;
    Ok(created.into_iter().filter(|created| *created).count())
}

/// Sets `sku`'s on-hand count.
pub(crate) async fn set_on_hand(target: &Target, sku: &str, on_hand: u64) -> anyhow::Result<()> {
    let path = format!("/v1/inventory/{sku}");
    let body = format!(r#"{{"on_hand":{on_hand}}}"#);
    let (status, body) = call_once(target, request(target, Method::PUT, &path, Some(body), true)).await?;
    expect(&format!("PUT {path}"), status, &body, &[StatusCode::OK])
}

/// The stock of every SKU of `skus`, summed: `(on_hand + sold, reserved, sold)`.
pub(crate) async fn stock_totals(
    target: &Arc<Target>,
    skus: Arc<[String]>,
    connections: usize,
) -> anyhow::Result<(u64, u64, u64)> {
    let names = Arc::clone(&skus);
    let build = move |target: &Target, index: usize| {
        let path = format!("/v1/inventory/{}", names[index]);
        request(target, Method::GET, &path, None, false)
    };
    let check = |_, status, body: &Bytes| {
        expect("GET /v1/inventory/{sku}", status, body, &[StatusCode::OK])?;
        let level: Value = serde_json::from_slice(body).context("a stock level is not JSON")?;
        let field = |name: &str| {
            level[name]
                .as_u64()
                .with_context(|| format!("a stock level without {name}"))
        };
        Ok((field("on_hand")? + field("sold")?, field("reserved")?, field("sold")?))
    };
    let levels = send_all(target, skus.len(), connections, build, check).await?;
    Ok(levels.into_iter().fold((0, 0, 0), |sum, level| {
        (sum.0 + level.0, sum.1 + level.1, sum.2 + level.2)
    }))
}

/// `GET /v1/inventory/{sku}`.
pub(crate) async fn stock_level(target: &Target, sku: &str) -> anyhow::Result<Value> {
    let path = format!("/v1/inventory/{sku}");
    let (status, body) = call_once(target, request(target, Method::GET, &path, None, false)).await?;
    expect(&format!("GET {path}"), status, &body, &[StatusCode::OK])?;
    serde_json::from_slice(&body).context("a stock level is not JSON")
}

/// One guest cart per entry of `carts`, holding one unit of each SKU listed
/// there; returns the cart ids in the same order. Passes: create, then one per
/// line position.
pub(crate) async fn prepare_carts(
    target: &Arc<Target>,
    carts: Arc<[Vec<String>]>,
    connections: usize,
) -> anyhow::Result<Arc<[String]>> {
    let ids: Arc<[String]> = send_all(
        target,
        carts.len(),
        connections,
        |target, _| request(target, Method::POST, "/v1/carts", None, false),
        |_, status, body| {
            expect("POST /v1/carts", status, body, &[StatusCode::CREATED])?;
            let cart: Value = serde_json::from_slice(body).context("a cart answer is not JSON")?;
            Ok(cart["id"].as_str().context("a cart answer has no id")?.to_owned())
        },
    )
    .await?
    .into();
    let most_lines = carts.iter().map(Vec::len).max().unwrap_or(0);
    for position in 0..most_lines {
        let holding: Arc<[usize]> = (0..carts.len()).filter(|&cart| carts[cart].len() > position).collect();
        let (ids, carts) = (Arc::clone(&ids), Arc::clone(&carts));
        let indexes = Arc::clone(&holding);
        send_all(
            target,
            holding.len(),
            connections,
            move |target, index| {
                let cart = indexes[index];
                let path = format!("/v1/carts/{}/items", ids[cart]);
                let body = format!(r#"{{"sku":"{}","qty":1}}"#, carts[cart][position]);
                request(target, Method::POST, &path, Some(body), false)
            },
            |_, status, body| expect("POST /v1/carts/{id}/items", status, body, &[StatusCode::OK]),
        )
        .await?;
    }
    Ok(ids)
}

/// The server's counters this bench looks at, read from `GET /metrics`.
#[derive(Debug, Clone)]
pub(crate) struct ServerCounters {
    /// When they were asked for.
    at: Instant,
    /// Series name to value, for the series below.
    values: BTreeMap<String, f64>,
}

/// Series read from `/metrics`.
const SERIES: &[&str] = &[
    "mercato_storage_flush_seconds_sum",
    "mercato_storage_flush_seconds_count",
    "mercato_storage_batch_records_sum",
    "mercato_checkout_duration_seconds_sum",
    "mercato_checkout_duration_seconds_count",
];

impl ServerCounters {
    /// Reads them; `None` when `/metrics` does not answer 200 (not fatal).
    pub(crate) async fn read(target: &Target) -> Option<Self> {
        let at = Instant::now();
        let (status, body) = call_once(target, request(target, Method::GET, "/metrics", None, false))
            .await
            .ok()?;
        if status != StatusCode::OK {
            return None;
        }
        let text = String::from_utf8_lossy(&body);
        let values = text
            .lines()
            .filter_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                SERIES
                    .contains(&name)
                    .then(|| Some((name.to_owned(), value.parse().ok()?)))?
            })
            .collect();
        Some(ServerCounters { at, values })
    }

    fn delta(&self, earlier: &Self, name: &str) -> f64 {
        self.values.get(name).copied().unwrap_or(0.0) - earlier.values.get(name).copied().unwrap_or(0.0)
    }

    /// One line on what the server did between `earlier` and this reading:
    /// group commits (each one write and fsync by the one commit thread), the
    /// share of the time that thread spent in them, their mean time and size,
    /// and the server-side mean checkout time.
    pub(crate) fn describe_since(&self, earlier: &Self) -> String {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64().max(1e-3);
        let commits = self.delta(earlier, "mercato_storage_flush_seconds_count");
        let flush = self.delta(earlier, "mercato_storage_flush_seconds_sum");
        let records = self.delta(earlier, "mercato_storage_batch_records_sum");
        let checkouts = self.delta(earlier, "mercato_checkout_duration_seconds_count");
        let checkout = self.delta(earlier, "mercato_checkout_duration_seconds_sum");
        let per = |total: f64, count: f64| if count > 0.0 { total / count } else { 0.0 };
        format!(
            "{commits:.0} group commits ({:.0}/s, {:.2} per checkout, commit thread busy {:.0}%), mean \
             write+fsync {:.2} ms, {:.1} records each ({:.1} per checkout); server-side checkout mean {:.2} ms",
            commits / seconds,
            per(commits, checkouts),
            100.0 * flush / seconds,
            1000.0 * per(flush, commits),
            per(records, commits),
            per(records, checkouts),
            1000.0 * per(checkout, checkouts),
        )
    }
}
