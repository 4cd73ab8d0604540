//! The entity runtime without HTTP, through its observable state: activation is
//! single-flight, every event reaches the global log in order, and an entity that
//! was snapshotted and passivated comes back the same, also when it was
//! passivated with a write in flight.

use std::time::Duration;

use futures_util::future::join_all;
use mercato_actors::metrics::ActorMetrics;
use mercato_actors::runtime::{Runtime, RuntimeConfig};
use mercato_actors::sku::{Inventory, SkuEvent, StockLevel};
use mercato_actors::storage::{codec, Durability, Storage, StorageConfig};

struct Harness {
    inventory: Inventory,
    storage: Storage,
    prometheus: prometheus::Registry,
    _dir: tempfile::TempDir,
}

fn start(snapshot_min_bytes: usize) -> Harness {
    start_with(Durability::Sync, snapshot_min_bytes, Duration::from_millis(10))
}

fn start_with(durability: Durability, snapshot_min_bytes: usize, restart_backoff_min: Duration) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let prometheus = prometheus::Registry::new();
    let metrics = ActorMetrics::register(&prometheus).unwrap();
    let storage_config = StorageConfig {
        data_dir: dir.path().to_path_buf(),
        durability,
        cache_capacity_mb: 16,
        flush_every_ms: 500,
    };
    let storage = Storage::open(&storage_config, metrics.storage).unwrap();
    let config = RuntimeConfig {
        arbiters: 2,
        idle_timeout: Duration::from_secs(300),
        settled_idle_timeout: Duration::from_secs(300),
        mailbox_capacity: 100_000,
        max_batch: 1024,
        snapshot_min_bytes,
        restart_backoff_min,
        restart_backoff_max: Duration::from_secs(1),
    };
    let runtime = Runtime::start(config, storage.clone(), metrics.runtime);
    Harness {
        inventory: Inventory::new(&runtime),
        storage,
        prometheus,
        _dir: dir,
    }
}

fn counter(prometheus: &prometheus::Registry, name: &str) -> f64 {
    prometheus
        .gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| {
            family
                .get_metric()
                .iter()
                .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
        })
        .sum()
}

#[test]
fn concurrent_first_messages_activate_one_actor() {
    actix_rt::System::new().block_on(async {
        let harness = start(65_536);
        let calls = (0..200).map(|_| harness.inventory.level("FRESH"));
        let levels = join_all(calls).await;
        assert!(levels.iter().all(|level| level.is_ok()));
        assert_eq!(counter(&harness.prometheus, "mercato_actor_activations_total"), 1.0);
        assert_eq!(harness.inventory.registry().active(), 1);
    });
}

#[test]
fn every_event_reaches_the_global_log_in_sequence() {
    actix_rt::System::new().block_on(async {
        let harness = start(65_536);
        let inventory = &harness.inventory;
        inventory.set_on_hand("A", 10).await.unwrap();
        inventory.reserve("A", "r1".into(), 2, 60_000).await.unwrap();
        inventory.set_on_hand("B", 5).await.unwrap();
        inventory.commit("A", "r1".into()).await.unwrap();

        let entries = harness.storage.read_event_log(1, 100).unwrap();
        let mut seen = Vec::new();
        let mut next_seq = 1;
        for entry in entries {
            assert_eq!(entry.first_seq, next_seq, "sequence numbers have no gaps");
            let count =
                codec::decode_all::<SkuEvent>(&entry.events, |event| seen.push((entry.id.clone(), event))).unwrap();
            assert_eq!(count as u32, entry.count);
            next_seq += u64::from(entry.count);
        }
        let expected = vec![
            ("A".to_string(), SkuEvent::OnHandSet { on_hand: 10 }),
            (
                "A".to_string(),
                SkuEvent::StockReserved {
                    reservation_id: "r1".into(),
                    qty: 2,
                    expires_at: expires_at(&seen),
                },
            ),
            ("B".to_string(), SkuEvent::OnHandSet { on_hand: 5 }),
            (
                "A".to_string(),
                SkuEvent::ReservationCommitted {
                    reservation_id: "r1".into(),
                },
            ),
        ];
        assert_eq!(seen, expected);
        assert_eq!(
            harness.storage.read_event_log(3, 100).unwrap()[0].first_seq,
            3,
            "reads can start mid-log"
        );
    });
}

fn expires_at(seen: &[(String, SkuEvent)]) -> u64 {
    seen.iter()
        .find_map(|(_, event)| match event {
            SkuEvent::StockReserved { expires_at, .. } => Some(*expires_at),
            _ => None,
        })
        .expect("a reservation was logged")
}

#[test]
fn a_snapshotted_and_passivated_entity_comes_back_the_same() {
    actix_rt::System::new().block_on(async {
        // A one-byte threshold makes nearly every submission write a snapshot.
        let harness = start(1);
        let inventory = &harness.inventory;
        inventory.set_on_hand("S", 1_000).await.unwrap();
        for i in 0..50 {
            inventory.reserve("S", format!("r{i}"), 3, 600_000).await.unwrap();
        }
        for i in 0..20 {
            inventory.release("S", format!("r{i}")).await.unwrap();
        }
        let before = inventory.level("S").await.unwrap();
        assert_eq!(
            before,
            StockLevel {
                on_hand: 1_000,
                reserved: 90,
                available: 910,
                sold: 0
            }
        );

        let mut snapshot_written = false;
        for _ in 0..200 {
            let stored = harness.storage.load("sku", "S").unwrap();
            if stored.snapshot.is_some() {
                snapshot_written = true;
                break;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(snapshot_written, "the snapshot thread wrote a snapshot");

        assert_eq!(inventory.registry().passivate_idle(Duration::ZERO), 1);
        let after = inventory.level("S").await.unwrap();
        assert_eq!(after, before);
        let replay = inventory.reserve("S", "r49".into(), 3, 600_000).await.unwrap();
        assert!(!replay.created, "open reservations survived the snapshot");
        assert_eq!(counter(&harness.prometheus, "mercato_actor_activations_total"), 2.0);
    });
}

#[test]
fn a_live_entity_publishes_its_view_and_a_passivated_one_has_none() {
    actix_rt::System::new().block_on(async {
        let harness = start(65_536);
        let inventory = &harness.inventory;
        assert_eq!(inventory.registry().peek("V"), None, "never activated");
        inventory.set_on_hand("V", 9).await.unwrap();
        inventory.reserve("V", "r".into(), 4, 600_000).await.unwrap();
        let expected = StockLevel {
            on_hand: 9,
            reserved: 4,
            available: 5,
            sold: 0,
        };
        assert_eq!(inventory.registry().peek("V"), Some(expected));
        assert_eq!(inventory.displayed_level("V").await.unwrap(), expected);

        inventory.registry().passivate_idle(Duration::ZERO);
        assert_eq!(inventory.registry().peek("V"), None, "passivated");
        assert_eq!(
            inventory.displayed_level("V").await.unwrap(),
            expected,
            "asked of a new activation"
        );
    });
}

#[test]
fn a_new_actor_never_runs_beside_a_retiring_one() {
    actix_rt::System::new().block_on(async {
        let harness = start_with(Durability::Sync, 65_536, Duration::from_millis(400));
        let inventory = &harness.inventory;
        inventory.set_on_hand("SOLO", 3).await.unwrap();
        // A failure puts the actor into a 400 ms back-off; passivated then, it can
        // only stop once the back-off is over.
        inventory.registry().inject_fault("SOLO");
        assert!(
            inventory.level("SOLO").await.is_err(),
            "the injected fault fails this call"
        );
        assert_eq!(inventory.registry().passivate_idle(Duration::ZERO), 1);

        let level = inventory.level("SOLO").await.unwrap();
        assert_eq!(level.on_hand, 3);
        assert_eq!(
            inventory.registry().live(),
            1,
            "the retiring actor had stopped before the new one answered"
        );
    });
}

#[test]
fn a_reactivated_entity_loads_what_its_passivated_predecessor_was_still_writing() {
    actix_rt::System::new().block_on(async {
        // Relaxed durability answers before the write reaches sled: the actor is
        // passivated with its last record still queued for the commit thread.
        let harness = start_with(Durability::Relaxed, 65_536, Duration::from_millis(10));
        let inventory = &harness.inventory;
        for round in 0..50 {
            let sku = format!("P{round}");
            inventory.set_on_hand(&sku, 100).await.unwrap();
            inventory.reserve(&sku, "r".into(), 7, 600_000).await.unwrap();
            // This SKU's actor, and the previous round's second one.
            assert!(inventory.registry().passivate_idle(Duration::ZERO) >= 1);

            let level = inventory.level(&sku).await.unwrap();
            assert_eq!(
                (level.on_hand, level.reserved),
                (100, 7),
                "round {round}: the new activation loaded every write of the old one"
            );
        }
        assert_eq!(counter(&harness.prometheus, "mercato_actor_activations_total"), 100.0);
    });
}
