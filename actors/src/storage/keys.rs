//! The key layout of the one sled tree Mercato writes.
//!
//! Every key starts with a one-byte tag; entity keys then carry the kind and the
//! id, each prefixed by its length in one byte, so that no id can be the prefix of
//! another id's keys whatever bytes it holds.
//!
//! The default tree, written in atomic batches by the group-commit thread:
//!
//! | key                                     | value                                        |
//! |-----------------------------------------|----------------------------------------------|
//! | `j` kind id `journal_seq:u64be`         | `first_global_seq:u64be` + bincode events     |
//! | `e` `first_global_seq:u64be`            | events of one group commit, cut at ~4 KiB (see `event_log`) |
//! | `p`                                     | when the last probe write after a storage failure went through |
//!
//! The `snapshots` tree, written by the snapshot thread. A snapshot is cut into
//! chunks of ~4 KiB so that sled never holds a large value (see
//! `TARGET_VALUE_BYTES`); the manifest, written last, says which one is complete:
//!
//! | key                                         | value                              |
//! |---------------------------------------------|------------------------------------|
//! | `m` kind id                                 | `covers:u64be` `chunks:u32be`      |
//! | `c` kind id `covers:u64be` `chunk:u32be`    | a slice of the bincode entity state |
//!
//! Big-endian sequence numbers keep sled's byte order equal to numeric order, so a
//! prefix scan of an entity's journal yields its records in the order they were
//! written.

/// Tag of an entity's journal records.
pub const JOURNAL: u8 = b'j';
/// Tag of an entity's snapshot manifest (snapshots tree).
pub const SNAPSHOT_MANIFEST: u8 = b'm';
/// Tag of a snapshot chunk (snapshots tree).
pub const SNAPSHOT_CHUNK: u8 = b'c';
/// Tag of the global domain-event log.
pub const EVENT_LOG: u8 = b'e';
/// The key of the probe written when the database is reopened after a failure.
pub const PROBE: &[u8] = b"p";

/// Longest kind or id the layout can hold (one length byte).
pub const MAX_NAME_LEN: usize = u8::MAX as usize;

fn entity_prefix(tag: u8, kind: &str, id: &str, extra: usize) -> Vec<u8> {
    debug_assert!(kind.len() <= MAX_NAME_LEN && id.len() <= MAX_NAME_LEN);
    let mut key = Vec::with_capacity(3 + kind.len() + id.len() + extra);
    key.push(tag);
    key.push(kind.len() as u8);
    key.extend_from_slice(kind.as_bytes());
    key.push(id.len() as u8);
    key.extend_from_slice(id.as_bytes());
    key
}

/// Prefix shared by all journal records of one entity.
pub fn journal_prefix(kind: &str, id: &str) -> Vec<u8> {
    entity_prefix(JOURNAL, kind, id, 0)
}

/// Key of one journal record of an entity.
pub fn journal_key(kind: &str, id: &str, journal_seq: u64) -> Vec<u8> {
    let mut key = entity_prefix(JOURNAL, kind, id, 8);
    key.extend_from_slice(&journal_seq.to_be_bytes());
    key
}

/// Reads the journal sequence number at the end of a journal key.
pub fn journal_seq_of(key: &[u8]) -> Option<u64> {
    let tail = key.len().checked_sub(8).map(|start| &key[start..])?;
    Some(u64::from_be_bytes(tail.try_into().ok()?))
}

/// Key of an entity's snapshot manifest.
pub fn snapshot_manifest_key(kind: &str, id: &str) -> Vec<u8> {
    entity_prefix(SNAPSHOT_MANIFEST, kind, id, 0)
}

/// Prefix shared by every snapshot chunk of one entity.
pub fn snapshot_chunk_prefix(kind: &str, id: &str) -> Vec<u8> {
    entity_prefix(SNAPSHOT_CHUNK, kind, id, 0)
}

/// Key of chunk `chunk` of the snapshot that covers journal record `covers`.
pub fn snapshot_chunk_key(kind: &str, id: &str, covers: u64, chunk: u32) -> Vec<u8> {
    let mut key = entity_prefix(SNAPSHOT_CHUNK, kind, id, 12);
    key.extend_from_slice(&covers.to_be_bytes());
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

/// Reads which snapshot a chunk key belongs to.
pub fn snapshot_chunk_covers(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(12)?;
    Some(u64::from_be_bytes(key[start..start + 8].try_into().ok()?))
}

/// Key of the event-log record whose first event has `first_global_seq`.
pub fn event_log_key(first_global_seq: u64) -> [u8; 9] {
    let mut key = [EVENT_LOG; 9];
    key[1..].copy_from_slice(&first_global_seq.to_be_bytes());
    key
}

/// Splits a value into its leading big-endian `u64` and the rest.
pub fn split_u64(value: &[u8]) -> Option<(u64, &[u8])> {
    if value.len() < 8 {
        return None;
    }
    let (head, rest) = value.split_at(8);
    Some((u64::from_be_bytes(head.try_into().ok()?), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_keys_of_one_entity_sort_by_sequence() {
        let a = journal_key("sku", "A", 2);
        let b = journal_key("sku", "A", 256);
        assert!(a < b);
        assert!(a.starts_with(&journal_prefix("sku", "A")));
        assert_eq!(journal_seq_of(&b), Some(256));
    }

    #[test]
    fn snapshot_chunks_sort_by_snapshot_then_chunk() {
        let a = snapshot_chunk_key("sku", "A", 7, 300);
        let b = snapshot_chunk_key("sku", "A", 8, 0);
        assert!(a < b);
        assert!(b.starts_with(&snapshot_chunk_prefix("sku", "A")));
        assert_eq!(snapshot_chunk_covers(&a), Some(7));
    }

    #[test]
    fn no_id_is_a_prefix_of_another_ids_journal() {
        let key = journal_key("sku", "AB", 1);
        assert!(!key.starts_with(&journal_prefix("sku", "A")));
    }
}
