//! The live cart: `GET /v1/carts/{id}/ws`.
//!
//! On connect the client gets `{"type":"cart","cart":{...}}`, and again after
//! every change from any source (REST, another socket, re-pricing). It may send
//! commands — `{"op":"add_item","sku":"A","qty":1}`, `set_qty`, `remove_item`,
//! `apply_coupon` (`code`), `remove_coupon`, each with an optional `id` echoed
//! back and an optional `version` (like `If-Match`) — answered by
//! `{"type":"ack","id":..,"version":n}` or `{"type":"error","id":..,"error":{..}}`.
//!
//! Heartbeat: the server pings every [`HEARTBEAT_INTERVAL`]; a client that sends
//! nothing (pongs included) for [`CLIENT_TIMEOUT`] is closed. Back-pressure: each
//! socket follows the cart through a `watch` channel, so a slow socket skips to
//! the latest snapshot and never holds up the cart actor or other sockets; a
//! socket that cannot take a message for [`SEND_TIMEOUT`] is closed.
//!
//! A customer's cart needs the owner's access token, in `Authorization` or as
//! `?access_token=` (browsers cannot set headers on a WebSocket).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{get, web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use futures_util::StreamExt as _;
use mercato_actors::cart::messages::CartView;
use mercato_actors::cart::{CartFeed, CartsError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{resolve, Principal};
use crate::errors::ApiError;
use crate::routes::carts::{cart_id, cart_json};
use crate::AppState;

/// How often the server pings.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// Silence after which a client is closed.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a message may wait for a client that does not read.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest accepted client message.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Query of the WebSocket route.
#[derive(Deserialize)]
pub struct WsQuery {
    /// The owner's access token, for browsers.
    access_token: Option<String>,
}

/// A command sent over the socket.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    AddItem {
        id: Option<Value>,
        version: Option<u64>,
        sku: String,
        qty: u32,
    },
    SetQty {
        id: Option<Value>,
        version: Option<u64>,
        sku: String,
        qty: u32,
    },
    RemoveItem {
        id: Option<Value>,
        version: Option<u64>,
        sku: String,
    },
    ApplyCoupon {
        id: Option<Value>,
        version: Option<u64>,
        code: String,
    },
    RemoveCoupon {
        id: Option<Value>,
        version: Option<u64>,
    },
}

/// The storefront's session cookie, when the socket was opened by a page of
/// this origin.
fn storefront_session(req: &HttpRequest) -> Option<String> {
    let origin = req.headers().get(actix_web::http::header::ORIGIN)?.to_str().ok()?;
    // The connection info is borrowed from the request's extensions, where
    // the cookies are parsed into too: let go of it first.
    let own = {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    };
    if origin != own {
        return None;
    }
    req.cookie(crate::auth::SESSION_COOKIE)
        .map(|cookie| cookie.value().to_string())
}

/// Live cart: snapshots after every change; commands with an ack each.
#[utoipa::path(get, path = "/v1/carts/{id}/ws", tag = "carts",
    params(("id" = String, Path), ("access_token" = Option<String>, Query, description = "owner's token for a customer's cart")),
    responses((status = 101, description = "WebSocket: see the module docs for the protocol"),
        (status = 400, description = "`not_a_websocket`: the request asks for no WebSocket upgrade"), (status = 401), (status = 403, description = "`cart_forbidden`"), (status = 404, description = "`cart_not_found`")))]
#[get("/{id}/ws")]
pub async fn cart_socket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<WsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = cart_id(&id)?.to_string();
    let header_token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_string());
    let caller = match header_token.or_else(|| query.into_inner().access_token) {
        Some(token) => match resolve(&state, &token).await? {
            Principal::User { id, .. } => Some(id),
            Principal::Service => None,
        },
        // A storefront page: its session cookie, from a page of this origin
        // only (a socket from another site must not ride on it). An expired
        // one leaves a guest, who may still follow a guest cart.
        None => match storefront_session(&req) {
            Some(token) => match resolve(&state, &token).await {
                Ok(Principal::User { id, .. }) => Some(id),
                _ => None,
            },
            None => None,
        },
    };
    let feed = state.carts.subscribe(&id, caller.as_deref()).await?;
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|err| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "not_a_websocket",
            err.to_string(),
        )
    })?;
    let stream = stream
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    actix_web::rt::spawn(
        Connection {
            state: state.into_inner(),
            id,
            caller,
            session,
            last_sent: None,
        }
        .run(feed, stream),
    );
    Ok(response)
}

/// Why the server ended a connection.
enum Ended {
    /// The client closed, or the connection dropped.
    ByClient,
    /// The client stopped answering.
    Timeout,
    /// The client did not take messages.
    Slow,
    /// The cart can no longer be followed.
    CartGone,
}

struct Connection {
    state: Arc<AppState>,
    id: String,
    caller: Option<String>,
    session: Session,
    /// The last view pushed: a republished identical view is skipped.
    last_sent: Option<Arc<CartView>>,
}

impl Connection {
    async fn run(mut self, mut feed: CartFeed, mut stream: actix_ws::AggregatedMessageStream) {
        let metrics = self.state.metrics.clone();
        metrics.ws_connections.inc();
        let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        let mut ended = self.push_latest(&mut feed).await.err();
        while ended.is_none() {
            ended = tokio::select! {
                changed = feed.changed() => match changed {
                    Ok(()) => self.push_latest(&mut feed).await.err(),
                    // Passivated: follow the cart's next activation.
                    Err(_) => match self.state.carts.subscribe(&self.id, self.caller.as_deref()).await {
                        Ok(next) => {
                            feed = next;
                            self.push_latest(&mut feed).await.err()
                        }
                        Err(_) => Some(Ended::CartGone),
                    },
                },
                message = stream.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => self.command(&text).await.err(),
                        Some(Ok(AggregatedMessage::Ping(bytes))) => self.send_pong(&bytes).await.err(),
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            self.reply(json!({"type": "error", "error": {"code": "invalid_message", "message": "send JSON text"}})).await.err()
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => None,
                        Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => Some(Ended::ByClient),
                    }
                },
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > CLIENT_TIMEOUT {
                        Some(Ended::Timeout)
                    } else {
                        self.send_ping().await.err()
                    }
                },
            };
        }
        metrics.ws_connections.dec();
        let reason = match ended {
            Some(Ended::Timeout) => Some(("timeout", CloseCode::Away, "no heartbeat from the client")),
            Some(Ended::Slow) => Some(("slow", CloseCode::Policy, "the client does not read its messages")),
            Some(Ended::CartGone) => Some(("cart_gone", CloseCode::Error, "the cart can no longer be followed")),
            Some(Ended::ByClient) | None => None,
        };
        if let Some((label, code, description)) = reason {
            metrics.ws_closed.with_label_values(&[label]).inc();
            let reason = CloseReason {
                code,
                description: Some(description.to_string()),
            };
            let _ = tokio::time::timeout(SEND_TIMEOUT, self.session.close(Some(reason))).await;
        }
    }

    /// Sends `text`, giving up on a client that does not read.
    async fn send(&mut self, text: String) -> Result<(), Ended> {
        within_send_timeout(self.session.text(text)).await
    }

    async fn send_ping(&mut self) -> Result<(), Ended> {
        within_send_timeout(self.session.ping(b"")).await
    }

    async fn send_pong(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        within_send_timeout(self.session.pong(bytes)).await
    }

    async fn reply(&mut self, message: Value) -> Result<(), Ended> {
        self.send(message.to_string()).await
    }

    /// Pushes the feed's latest view unless it was pushed already.
    async fn push_latest(&mut self, feed: &mut CartFeed) -> Result<(), Ended> {
        let Some(view) = feed.borrow_and_update().clone().flatten() else {
            return Ok(());
        };
        if self.last_sent.as_ref().is_some_and(|last| Arc::ptr_eq(last, &view)) {
            return Ok(());
        }
        let message = format!("{{\"type\":\"cart\",\"cart\":{}}}", cart_json(&self.id, &view));
        self.state
            .metrics
            .ws_push_delay
            .observe(view.priced_at.elapsed().as_secs_f64());
        self.send(message).await?;
        self.state.metrics.ws_pushes.inc();
        self.last_sent = Some(view);
        Ok(())
    }

    /// Runs one client command and answers it.
    async fn command(&mut self, text: &str) -> Result<(), Ended> {
        let command: Command = match serde_json::from_str(text) {
            Ok(command) => command,
            Err(err) => {
                let error = json!({"code": "invalid_message", "message": err.to_string()});
                return self.reply(json!({"type": "error", "error": error})).await;
            }
        };
        let (carts, id, caller) = (&self.state.carts, self.id.as_str(), self.caller.as_deref());
        let (request_id, result) = match command {
            Command::AddItem {
                id: rid,
                version,
                sku,
                qty,
            } => (rid, carts.add_item(id, caller, version, &sku, qty).await),
            Command::SetQty {
                id: rid,
                version,
                sku,
                qty,
            } => (rid, carts.set_qty(id, caller, version, &sku, qty).await),
            Command::RemoveItem { id: rid, version, sku } => (rid, carts.remove_item(id, caller, version, &sku).await),
            Command::ApplyCoupon { id: rid, version, code } => {
                (rid, carts.apply_coupon(id, caller, version, &code).await)
            }
            Command::RemoveCoupon { id: rid, version } => (rid, carts.remove_coupon(id, caller, version).await),
        };
        let answer = match result {
            Ok(view) => json!({"type": "ack", "id": request_id, "version": view.version}),
            Err(err) => json!({"type": "error", "id": request_id, "error": error_body(err)}),
        };
        self.reply(answer).await
    }
}

/// Waits for a send, at most [`SEND_TIMEOUT`]: a client that does not read is slow.
async fn within_send_timeout(
    send: impl std::future::Future<Output = Result<(), actix_ws::Closed>>,
) -> Result<(), Ended> {
    match tokio::time::timeout(SEND_TIMEOUT, send).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_closed)) => Err(Ended::ByClient),
        Err(_elapsed) => Err(Ended::Slow),
    }
}

/// The `error` object of an answer, as REST would give it.
fn error_body(err: CartsError) -> Value {
    let api: ApiError = err.into();
    let mut body = api.details().clone();
    body.insert("code".into(), api.code().into());
    body.insert("message".into(), api.message().into());
    Value::Object(body)
}
