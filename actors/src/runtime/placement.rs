//! Placement: entity actors run on a fixed pool of arbiters (threads with their
//! own event loop), chosen by a hash of the id, so that HTTP workers stay free and
//! one hot entity keeps to one core.

use std::hash::{Hash, Hasher};

use actix_rt::{Arbiter, ArbiterHandle};

/// A stable hash of an entity id, used for sharding and placement.
pub fn hash_id(id: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    id.hash(&mut hasher);
    hasher.finish()
}

/// The arbiters entity actors run on; they stop when the pool is dropped.
pub struct ArbiterPool {
    /// One thread and event loop each.
    arbiters: Vec<Arbiter>,
}

impl ArbiterPool {
    /// Starts `count` arbiters (at least one); must run inside an actix `System`.
    pub fn start(count: usize) -> Self {
        ArbiterPool {
            arbiters: (0..count.max(1)).map(|_| Arbiter::new()).collect(),
        }
    }

    /// The arbiter for an id hash.
    pub fn pick(&self, hash: u64) -> ArbiterHandle {
        let index = ((hash >> 32) % self.arbiters.len() as u64) as usize;
        self.arbiters[index].handle()
    }

    /// Number of arbiters.
    pub fn len(&self) -> usize {
        self.arbiters.len()
    }

    /// Always false: a pool has at least one arbiter.
    pub fn is_empty(&self) -> bool {
        self.arbiters.is_empty()
    }
}

impl Drop for ArbiterPool {
    fn drop(&mut self) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}
