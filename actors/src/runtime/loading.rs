//! How an entity actor gets its state: what it waits for first (the actor of
//! the same id before it, whose writes may still be in flight), then its
//! snapshot and the journal written after it.

use tokio::sync::watch;

use super::entity::Entity;
use super::journal::{saturating_u32, JournalPosition};
use crate::storage::{codec, Storage, StorageError};

/// The actor of the same id that ran before a new one.
pub enum Predecessor {
    /// None is known: the entity has nothing in flight.
    None,
    /// A passivated actor; `true` once it stopped with its writes durable.
    Retiring(watch::Receiver<bool>),
    /// An actor that stopped without passivating (a panic outside a
    /// handler): its last writes may still be queued.
    Died,
}

/// Loads an entity: its snapshot, then every journal record after it.
pub(super) fn load_entity<E: Entity>(storage: &Storage, id: &str) -> Result<(E, JournalPosition), StorageError> {
    let stored = storage.load(E::KIND, id)?;
    let mut position = JournalPosition::default();
    let mut state = match stored.snapshot {
        Some((seq, bytes)) => {
            let (mut state, _) = codec::decode_one::<E>(&bytes)?;
            state.restored();
            position.snapshot_seq = seq;
            position.snapshot_len = saturating_u32(bytes.len());
            state
        }
        None => E::new(id),
    };
    let mut last_seq = position.snapshot_seq;
    for (seq, bytes) in &stored.journal {
        codec::decode_all::<E::Event>(bytes, |event| state.apply(&event))?;
        position.bytes_since_snapshot = position
            .bytes_since_snapshot
            .saturating_add(saturating_u32(bytes.len()));
        last_seq = *seq;
    }
    position.next_seq = last_seq + 1;
    Ok((state, position))
}
