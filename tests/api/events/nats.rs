//! NATS JetStream: the scripted session on the stream in log order, once
//! each; through a broker outage; through a `kill -9` of Mercato.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join;

use super::jetstream::{
    check_session, check_stream, connect, read_stream, unique_names, wait_for_orders, wait_for_session, NATS,
};
use super::proxy::Proxy;
use super::script;
use crate::carts::shop;
use crate::helpers::{eventually, spawn_app_with, ServerProcess};
use crate::order_crashes::{checkouts_until_killed, Attempt};
use crate::orders::guest_cart_with;

#[actix_web::test]
async fn the_scripted_session_reaches_the_stream_in_order_once_each() {
    let (stream, prefix) = unique_names();
    let (s, p) = (stream.clone(), prefix.clone());
    let app = spawn_app_with(move |settings| {
        settings.events.nats.url = format!("nats://{NATS}");
        settings.events.nats.stream = s;
        settings.events.nats.subject_prefix = p;
    })
    .await;
    let session = script::run(&app.api).await;
    let js = connect().await;
    let received = wait_for_session(&js, &stream, &session).await;
    check_session(&received, &prefix, &session);
    let published = app
        .api
        .metric("mercato_events_published_total{sink=\"nats\",type=\"order.placed\"}")
        .await;
    assert_eq!(published, 3.0);
    js.delete_stream(&stream).await.unwrap();
}

#[actix_web::test]
async fn a_broker_outage_delays_events_but_loses_none_and_never_blocks_checkout() {
    let (stream, prefix) = unique_names();
    let proxy = Proxy::start(NATS.parse::<SocketAddr>().unwrap()).await;
    // Down from the start: the first connection fails too.
    proxy.cut();
    let (s, p, url) = (stream.clone(), prefix.clone(), format!("nats://{}", proxy.addr));
    let app = spawn_app_with(move |settings| {
        settings.events.nats.url = url;
        settings.events.nats.stream = s;
        settings.events.nats.subject_prefix = p;
    })
    .await;
    let session = script::run(&app.api).await;
    let js = connect().await;
    assert!(
        read_stream(&js, &stream).await.is_empty(),
        "nothing got through the cut"
    );
    assert!(app.api.metric("mercato_events_lag{sink=\"nats\"}").await > 0.0);

    proxy.restore();
    let first = wait_for_session(&js, &stream, &session).await;
    // Cut again mid-stream, with more orders placed meanwhile: they wait, then arrive.
    proxy.cut();
    let more = script::buy_more(&app.api, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    let all = wait_for_orders(&js, &stream, &more).await;
    assert!(all.len() > first.len());
    check_session(&all, &prefix, &session);
    js.delete_stream(&stream).await.unwrap();
}

#[actix_web::test]
async fn a_kill_9_mid_delivery_loses_and_repeats_nothing_after_the_restart() {
    let (stream, prefix) = unique_names();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("nats://{NATS}");
    let env = [
        ("MERCATO__EVENTS__NATS__URL", url.as_str()),
        ("MERCATO__EVENTS__NATS__STREAM", stream.as_str()),
        ("MERCATO__EVENTS__NATS__SUBJECT_PREFIX", prefix.as_str()),
        ("MERCATO__CHECKOUT__SWEEP_INTERVAL", "200ms"),
        ("MERCATO__CHECKOUT__RECONCILE_AFTER", "0s"),
    ];
    let server = ServerProcess::start(dir.path(), &env);
    shop(&server.api, &[("TEE", 1_000)], 1_000).await;
    let mut carts = Vec::new();
    for _ in 0..200 {
        carts.push(guest_cart_with(&server.api, &[("TEE", 1)]).await);
    }
    // The publisher follows the log while 8 connections check out; the kill
    // lands once 40 have answered.
    let (api, answered) = (server.api.clone(), AtomicUsize::new(0));
    let killer = async {
        eventually(Duration::from_secs(30), || async {
            (answered.load(Ordering::Relaxed) >= 40).then_some(())
        })
        .await;
        server.kill();
    };
    let (attempts, ()) = join(checkouts_until_killed(&api, &carts, 8, &answered), killer).await;
    let acknowledged: Vec<String> = attempts
        .into_iter()
        .filter_map(|(_, attempt)| match attempt {
            Attempt::Answered(_, id) => id,
            Attempt::Cut => None,
        })
        .collect();
    assert!(acknowledged.len() >= 40);

    let _server = ServerProcess::start(dir.path(), &env);
    let js = connect().await;
    let received = wait_for_orders(&js, &stream, &acknowledged).await;
    check_stream(&received, &prefix);
    js.delete_stream(&stream).await.unwrap();
}
