//! One shard of a registry: the live entries whose ids hash to it.
//!
//! Entries are found by the id their slot holds, so the table keeps no second
//! copy of the key (16 bytes less per live actor, a million of them in a big
//! catalog). The shard was chosen by the id hash's low bits, which every entry
//! here therefore shares; the table hashes on the other bits, or every entry
//! would start its probe in the same 1/[`SHARDS`] of the buckets.

use std::sync::Arc;

use actix::Addr;
use hashbrown::{hash_table, HashTable};

use super::actor::EntityActor;
use super::entity::Entity;
use super::placement::hash_id;
use super::registry::Slot;

/// Number of independently locked parts of a registry's id map.
pub const SHARDS: usize = 64;

/// The shard of an id hash.
pub fn shard_of(hash: u64) -> usize {
    (hash % SHARDS as u64) as usize
}

/// The hash the table of a shard uses: the bits the shard did not take, mixed
/// back up to the top (where the table takes its per-bucket tags).
fn table_hash(hash: u64) -> u64 {
    (hash / SHARDS as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A live (or retiring) actor of the registry.
pub struct Entry<E: Entity> {
    /// Its mailbox.
    pub addr: Addr<EntityActor<E>>,
    /// What it shares with the registry, its id among them.
    pub slot: Arc<Slot<E::View>>,
    /// Passivating: no message goes to it any more; dropped once it has stopped.
    pub retiring: bool,
}

impl<E: Entity> Entry<E> {
    /// Whether messages may go to it.
    pub fn serving(&self) -> bool {
        !self.retiring && self.addr.connected()
    }
}

/// The entries of one shard.
pub struct Shard<E: Entity> {
    table: HashTable<Entry<E>>,
}

impl<E: Entity> Default for Shard<E> {
    fn default() -> Self {
        Shard {
            table: HashTable::new(),
        }
    }
}

impl<E: Entity> Shard<E> {
    /// The entry of `id`, whose hash is `hash`.
    pub fn get(&self, hash: u64, id: &str) -> Option<&Entry<E>> {
        self.table.find(table_hash(hash), |entry| &*entry.slot.id == id)
    }

    /// Puts `entry` (whose id hashes to `hash`) in place of the one of the same id.
    pub fn insert(&mut self, hash: u64, entry: Entry<E>) {
        let rehash = |entry: &Entry<E>| table_hash(hash_id(&entry.slot.id));
        match self
            .table
            .entry(table_hash(hash), |old| old.slot.id == entry.slot.id, rehash)
        {
            hash_table::Entry::Occupied(mut old) => *old.get_mut() = entry,
            hash_table::Entry::Vacant(vacant) => {
                vacant.insert(entry);
            }
        }
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = &Entry<E>> {
        self.table.iter()
    }

    /// Keeps the entries for which `keep` answers true.
    pub fn retain(&mut self, keep: impl FnMut(&mut Entry<E>) -> bool) {
        self.table.retain(keep);
    }
}
