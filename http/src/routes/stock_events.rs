//! `GET /v1/inventory/{sku}/events`: a SKU's stock as server-sent events, for
//! pages that show "only N left" while a shopper looks. The first event is
//! the current level; then one event per change the SKU actor publishes, and
//! a comment line every 15 s so proxies keep the stream open.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use futures_util::{stream, StreamExt as _};
use mercato_actors::sku::{Inventory, StockLevel};
use tokio::sync::watch;

use super::inventory::StockLevelBody;
use crate::errors::ApiError;
use crate::validate;
use crate::AppState;

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Pause before following a SKU again after its actor was passivated.
const REFOLLOW_DELAY: Duration = Duration::from_millis(200);

/// Where a stream is.
struct Following {
    inventory: Inventory,
    sku: String,
    feed: watch::Receiver<Option<StockLevel>>,
    last: Option<StockLevel>,
}

impl Following {
    /// The next chunk: a changed level, or a keep-alive comment.
    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        loop {
            let current = *self.feed.borrow_and_update();
            if let Some(level) = current.filter(|level| Some(*level) != self.last) {
                self.last = Some(level);
                return Some((Ok(event(&self.sku, level)), self));
            }
            match tokio::time::timeout(KEEP_ALIVE, self.feed.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    tokio::time::sleep(REFOLLOW_DELAY).await;
                    self.feed = self.inventory.follow(&self.sku);
                }
                Err(_) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self)),
            }
        }
    }
}

/// Follows a SKU's stock.
#[utoipa::path(get, path = "/v1/inventory/{sku}/events", tag = "inventory", params(("sku" = String, Path)),
    responses((status = 200, content_type = "text/event-stream",
        description = "`data: {sku,on_hand,reserved,available,sold}` now and after every change; `: keep-alive` comments every 15 s")))]
#[get("/{sku}/events")]
pub async fn stock_events(state: web::Data<AppState>, sku: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let sku = sku.into_inner();
    validate::sku(&sku)?;
    let first = state.inventory.level(&sku).await?;
    let first_event = Ok::<_, actix_web::Error>(event(&sku, first));
    let following = Following {
        feed: state.inventory.follow(&sku),
        inventory: state.inventory.clone(),
        last: Some(first),
        sku,
    };
    let rest = stream::unfold(following, Following::next);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream::iter([first_event]).chain(rest)))
}

/// One event: the level as the JSON of `GET /v1/inventory/{sku}`.
fn event(sku: &str, level: StockLevel) -> Bytes {
    let body = serde_json::to_string(&StockLevelBody::new(sku.to_string(), level)).expect("a stock level serializes");
    Bytes::from(format!("data: {body}\n\n"))
}
