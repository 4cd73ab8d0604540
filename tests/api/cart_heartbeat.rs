//! The cart socket's heartbeat: the server pings every 5 s; a client that
//! answers (tungstenite pongs as it reads) stays connected, one silent for
//! 15 s is closed with 1001 "going away" and counted as a timeout.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::cart_socket::{connect, next_json, send};
use crate::carts::{new_cart, shop};
use crate::helpers::{eventually, spawn_app};

const TIMEOUTS: &str = "mercato_ws_closed_total{reason=\"timeout\"}";

#[actix_web::test]
async fn a_silent_socket_is_closed_after_15_s_and_one_that_answers_pings_is_not() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    let mut answering = connect(&app.api, &id, None).await.unwrap();
    let mut silent = connect(&app.api, &id, None).await.unwrap();
    let connected = std::time::Instant::now();

    let silent_closed = eventually(Duration::from_secs(25), || async {
        (app.api.metric(TIMEOUTS).await >= 1.0).then_some(())
    });
    tokio::pin!(silent_closed);
    let mut pings = 0;
    loop {
        tokio::select! {
            () = &mut silent_closed => break,
            message = answering.next() => match message.expect("open").expect("a frame") {
                Message::Ping(_) => pings += 1,
                Message::Close(frame) => panic!("the answering socket was closed: {frame:?}"),
                _ => {}
            },
        }
    }
    let silent_for = connected.elapsed();
    assert!(silent_for >= Duration::from_secs(15), "closed after {silent_for:?}");
    assert!(pings >= 3, "a ping every 5 s; saw {pings} in {silent_for:?}");
    assert_eq!(app.api.metric(TIMEOUTS).await, 1.0, "only the silent socket timed out");

    // The silent client finds what it missed, then the close.
    let close = loop {
        match silent
            .next()
            .await
            .expect("a close frame before the end")
            .expect("a frame")
        {
            Message::Close(frame) => break frame.expect("a close reason"),
            _ => continue,
        }
    };
    assert_eq!(close.code, CloseCode::Away);
    assert_eq!(close.reason.as_str(), "no heartbeat from the client");

    send(
        &mut answering,
        json!({"op": "add_item", "sku": "TEE", "qty": 1, "id": "after"}),
    )
    .await;
    let ack = loop {
        let message = next_json(&mut answering).await;
        if message["type"] != "cart" {
            break message;
        }
    };
    assert_eq!((ack["type"].as_str(), ack["id"].as_str()), (Some("ack"), Some("after")));
    assert_eq!(app.api.metric("mercato_ws_connections").await, 1.0);
}
