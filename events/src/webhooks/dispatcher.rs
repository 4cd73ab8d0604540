//! Runs one follower per enabled endpoint: watches the endpoints' view and
//! starts a follower for an endpoint enabled or created, stops the one of an
//! endpoint disabled or deleted. A changed URL, type list or secret needs no
//! restart: the sink reads its endpoint afresh for every batch.

use std::collections::BTreeMap;

use mercato_actors::runtime::{BackgroundTask, StopSignal};

use super::actor::{EndpointMap, EndpointsCommand, ID};
use super::sink::WebhookSink;
use super::Webhooks;
use crate::follower::Follower;

/// The cursor of endpoint `id`.
pub fn cursor_name(id: &str) -> String {
    format!("webhook-{id}")
}

pub(super) async fn run(webhooks: Webhooks, mut stop: StopSignal) {
    let mut running: BTreeMap<String, BackgroundTask> = BTreeMap::new();
    let mut changes = webhooks.endpoints.subscribe(ID);
    // Activates the entity, so that its view is published.
    let mut current = loop {
        match webhooks.endpoints.call(ID, EndpointsCommand::List).await {
            Ok(Ok(all)) => break all,
            _ if !stop.sleep(std::time::Duration::from_secs(1)).await => return,
            _ => {}
        }
    };
    loop {
        reconcile(&webhooks, &current, &mut running).await;
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    break;
                }
                if let Some(all) = changes.borrow_and_update().clone() {
                    current = all;
                }
            }
            _ = stop.stopped() => break,
        }
    }
    for (_, task) in running {
        task.stop().await;
    }
}

async fn reconcile(webhooks: &Webhooks, all: &EndpointMap, running: &mut BTreeMap<String, BackgroundTask>) {
    let enabled = all.values().filter(|endpoint| endpoint.enabled()).count();
    let metrics = &webhooks.metrics;
    metrics.endpoints.with_label_values(&["enabled"]).set(enabled as i64);
    metrics
        .endpoints
        .with_label_values(&["disabled"])
        .set((all.len() - enabled) as i64);
    let gone: Vec<String> = running
        .keys()
        .filter(|id| !all.get(*id).is_some_and(|endpoint| endpoint.enabled()))
        .cloned()
        .collect();
    for id in gone {
        if let Some(task) = running.remove(&id) {
            task.stop().await;
        }
        let name = cursor_name(&id);
        let _ = metrics.lag_events.remove_label_values(&[&name]);
        let _ = metrics.lag_seconds.remove_label_values(&[&name]);
    }
    for endpoint in all.values().filter(|endpoint| endpoint.enabled()) {
        if running.contains_key(&endpoint.id) {
            continue;
        }
        let sink = WebhookSink {
            id: endpoint.id.clone(),
            endpoints: webhooks.endpoints.clone(),
            sender: webhooks.sender.clone(),
            log: webhooks.log.clone(),
            policy: webhooks.config.policy(),
            metrics: metrics.clone(),
            failing: None,
        };
        let follower = Follower::new(
            ("webhook", &cursor_name(&endpoint.id)),
            webhooks.storage.clone(),
            webhooks.cursors.clone(),
            metrics.clone(),
            sink,
        );
        running.insert(endpoint.id.clone(), follower.start("webhook delivery"));
    }
}
