//! The live cart over real WebSocket clients: snapshots from every source in
//! strictly increasing versions, commands with acks, re-pricing pushes, stalled
//! clients that hold nobody up, and owners' carts behind their token.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::carts::{add, cart_call, new_cart, shop};
use crate::helpers::{access, eventually, spawn_app, Api};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(
    api: &Api,
    cart: &str,
    token: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let base = api.base.replace("http://", "ws://");
    let query = token.map(|t| format!("?access_token={t}")).unwrap_or_default();
    let (socket, _) = tokio_tungstenite::connect_async(format!("{base}/v1/carts/{cart}/ws{query}")).await?;
    Ok(socket)
}

/// A client with a 4 KiB receive buffer that will never read.
async fn connect_stalled(api: &Api, cart: &str) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let address: std::net::SocketAddr = api.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(address).await.unwrap();
    let url = format!("ws://{address}/v1/carts/{cart}/ws");
    tokio_tungstenite::client_async(url, stream).await.unwrap().0
}

/// The next JSON text message (pings are answered by the client library).
pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON message");
        }
    }
}

/// The version of the next cart snapshot, skipping other messages.
async fn next_version(socket: &mut Socket) -> u64 {
    loop {
        let message = next_json(socket).await;
        if message["type"] == "cart" {
            return message["cart"]["version"].as_u64().unwrap();
        }
    }
}

/// Snapshots until `version` is seen; the versions seen on the way.
async fn versions_until(socket: &mut Socket, version: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while seen.last() != Some(&version) {
        seen.push(next_version(socket).await);
    }
    seen
}

pub async fn send(socket: &mut Socket, command: Value) {
    socket.send(Message::text(command.to_string())).await.unwrap();
}

/// The next `ack` or `error` message.
async fn answer(socket: &mut Socket) -> Value {
    loop {
        let message = next_json(socket).await;
        if message["type"] != "cart" {
            return message;
        }
    }
}

#[actix_web::test]
async fn two_sockets_and_rest_see_the_same_strictly_increasing_versions() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000), ("CAP", 500)], 50).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    let mut first = connect(&app.api, &id, None).await.unwrap();
    let mut second = connect(&app.api, &id, None).await.unwrap();
    assert_eq!(next_version(&mut first).await, 1, "a snapshot on connect");
    assert_eq!(next_version(&mut second).await, 1);

    add(&app.api, &id, "TEE", 1).await;
    send(
        &mut first,
        json!({"op": "add_item", "id": "a1", "sku": "CAP", "qty": 2}),
    )
    .await;
    let ack = answer(&mut first).await;
    assert_eq!(
        (ack["type"].as_str(), ack["id"].as_str(), ack["version"].as_u64()),
        (Some("ack"), Some("a1"), Some(3))
    );
    send(
        &mut second,
        json!({"op": "set_qty", "id": 7, "sku": "TEE", "qty": 4, "version": 3}),
    )
    .await;
    assert_eq!(answer(&mut second).await["version"], 4);
    send(&mut second, json!({"op": "remove_item", "sku": "CAP"})).await;
    let rest = cart_call(&app.api, Method::GET, &format!("/v1/carts/{id}"), None, &[]).await;
    let rest_version = eventually(Duration::from_secs(5), || async {
        let cart: Value = cart_call(&app.api, Method::GET, &format!("/v1/carts/{id}"), None, &[])
            .await
            .json()
            .await
            .ok()?;
        (cart["version"] == 5).then_some(5)
    })
    .await;
    assert_eq!(rest.status(), StatusCode::OK);

    for socket in [&mut first, &mut second] {
        let seen = versions_until(socket, rest_version).await;
        assert!(
            seen.windows(2).all(|pair| pair[0] < pair[1]),
            "strictly increasing: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&5));
    }
}

#[actix_web::test]
async fn socket_commands_get_errors_like_rest() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 50).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    let mut socket = connect(&app.api, &id, None).await.unwrap();
    next_version(&mut socket).await;
    let cases = [
        (
            json!({"op": "add_item", "id": 1, "sku": "TEE", "qty": 0}),
            "invalid_field",
        ),
        (
            json!({"op": "add_item", "id": 2, "sku": "NOPE", "qty": 1}),
            "unknown_sku",
        ),
        (
            json!({"op": "set_qty", "id": 3, "sku": "TEE", "qty": 1}),
            "line_not_found",
        ),
        (
            json!({"op": "add_item", "id": 4, "sku": "TEE", "qty": 1, "version": 9}),
            "version_mismatch",
        ),
        (json!({"op": "apply_coupon", "id": 5, "code": "NOPE"}), "coupon_unknown"),
        (json!({"op": "fly"}), "invalid_message"),
    ];
    for (command, code) in cases {
        send(&mut socket, command.clone()).await;
        let error = answer(&mut socket).await;
        assert_eq!(error["type"], "error", "{command}");
        assert_eq!(error["error"]["code"], code, "{command}");
        if let Some(id) = command.get("id") {
            assert_eq!(&error["id"], id);
        }
    }
    socket.send(Message::text("not json")).await.unwrap();
    assert_eq!(answer(&mut socket).await["error"]["code"], "invalid_message");
    let cart: Value = cart_call(&app.api, Method::GET, &format!("/v1/carts/{id}"), None, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cart["version"], 1, "no refused command changed the cart");
}

#[actix_web::test]
async fn a_price_change_reprices_the_cart_and_pushes_it() {
    let app = spawn_app().await;
    let category = app.api.create_category("Tees", "tees", None).await["id"]
        .as_u64()
        .unwrap();
    let body = json!({"sku": "TEE", "name": "Tee", "category_id": category, "price": 1_000, "currency": "EUR"});
    let product = app.api.create_product(body).await["id"].as_u64().unwrap();
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &id, "TEE", 2).await;
    let mut socket = connect(&app.api, &id, None).await.unwrap();
    assert_eq!(next_version(&mut socket).await, 2);

    let patched = app
        .api
        .admin(
            Method::PATCH,
            &format!("/v1/products/{product}"),
            Some(json!({"price": 800})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let pushed = loop {
        let message = next_json(&mut socket).await;
        if message["type"] == "cart" {
            break message["cart"].clone();
        }
    };
    assert_eq!(pushed["version"], 3);
    assert_eq!(
        (pushed["items"][0]["unit_price"].as_u64(), pushed["total"].as_u64()),
        (Some(800), Some(1_600))
    );
}

#[actix_web::test]
async fn a_stalled_socket_holds_up_nobody_and_is_dropped() {
    let app = spawn_app().await;
    // A full cart (100 lines, ~9 KB a snapshot) changed 1,000 times: more than a
    // stalled client's kernel buffers hold.
    let products: Vec<(String, u64)> = (0..100).map(|n| (format!("SKU-{n}"), 1_000 + n)).collect();
    let refs: Vec<(&str, u64)> = products.iter().map(|(sku, price)| (sku.as_str(), *price)).collect();
    shop(&app.api, &refs, 1_000).await;
    let id = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    for (sku, _) in &products {
        add(&app.api, &id, sku, 1).await;
    }
    // Never read from this one: with a small receive buffer (no autotuning) its
    // TCP window closes, the server's send buffer fills, then its sends block.
    let _stalled = connect_stalled(&app.api, &id).await;
    let mut live = connect(&app.api, &id, None).await.unwrap();
    next_version(&mut live).await;

    let path = format!("/v1/carts/{id}/items/SKU-0");
    let mut last = 0;
    for qty in 1..=1_000u32 {
        let response = cart_call(&app.api, Method::PATCH, &path, Some(json!({"qty": qty % 999 + 1})), &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        last = response.json::<Value>().await.unwrap()["version"].as_u64().unwrap();
    }
    let seen = versions_until(&mut live, last).await;
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "{seen:?}");
    // The stalled socket is closed once a send to it has waited SEND_TIMEOUT (5 s).
    eventually(Duration::from_secs(30), || async {
        (app.api.metric("mercato_ws_closed_total{reason=\"slow\"}").await >= 1.0).then_some(())
    })
    .await;
    let after: u64 = {
        add(&app.api, &id, "SKU-1", 1).await;
        last + 1
    };
    assert_eq!(
        versions_until(&mut live, after).await.last(),
        Some(&after),
        "the live socket still follows"
    );
}

#[actix_web::test]
async fn a_customers_cart_socket_needs_the_owners_token() {
    let app = spawn_app().await;
    let owner = access(&app.api.register("rosa@example.com").await);
    let other = access(&app.api.register("sam@example.com").await);
    let cart: Value = app.api.my_cart(&owner).await;
    let id = cart["id"].as_str().unwrap();
    // As over REST: a token that does not verify is 401; anyone but the owner,
    // signed in or not, is 403.
    let refusals = [(None, 403), (Some(other.as_str()), 403), (Some("garbage"), 401)];
    for (token, expected) in refusals {
        match connect(&app.api, id, token).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
                assert_eq!(answer.status().as_u16(), expected, "{token:?}: the handshake's answer");
            }
            Err(other) => panic!("{token:?}: refused by {other}, not by an HTTP answer"),
            Ok(_) => panic!("{token:?} may not follow the cart"),
        }
    }
    let mut socket = connect(&app.api, id, Some(&owner)).await.unwrap();
    assert_eq!(next_version(&mut socket).await, 1);
    assert_eq!(app.api.metric("mercato_ws_connections").await, 1.0);
}
