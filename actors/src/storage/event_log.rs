//! The global domain-event log: every event any entity emits, numbered by one
//! global sequence, written in the same atomic batch as the entity's own records.
//!
//! One log record holds everything one group commit wrote; it is a concatenation of
//! entries framed as
//! `kind_len:u8 kind id_len:u8 id first_seq:u64be count:u32be len:u32be events`,
//! where `events` are the bincode-encoded events of one entity, in order.
//! Records written since events are published start with a header
//! `0:u8 written_at:u64be` (Unix milliseconds): no kind is empty, so a zero
//! byte cannot start an entry, and older records still read.

use super::keys::split_u64;

/// The events one entity wrote in one group commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvents {
    /// Global sequence number of the first event.
    pub first_seq: u64,
    /// How many events `events` holds.
    pub count: u32,
    /// Entity kind that emitted them.
    pub kind: String,
    /// Entity id that emitted them.
    pub id: String,
    /// The bincode-encoded events, concatenated.
    pub events: Vec<u8>,
    /// When the group commit wrote them (Unix milliseconds); `None` in
    /// records older than the header.
    pub written_at: Option<u64>,
}

/// Starts a log record written at `written_at` (Unix milliseconds).
pub fn start_record(record: &mut Vec<u8>, written_at: u64) {
    record.push(0);
    record.extend_from_slice(&written_at.to_be_bytes());
}

/// Appends one entry to a log record under construction.
pub fn push_entry(record: &mut Vec<u8>, kind: &str, id: &str, first_seq: u64, count: u32, events: &[u8]) {
    record.push(kind.len() as u8);
    record.extend_from_slice(kind.as_bytes());
    record.push(id.len() as u8);
    record.extend_from_slice(id.as_bytes());
    record.extend_from_slice(&first_seq.to_be_bytes());
    record.extend_from_slice(&count.to_be_bytes());
    record.extend_from_slice(&(events.len() as u32).to_be_bytes());
    record.extend_from_slice(events);
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if bytes.len() < len {
        return None;
    }
    let (head, rest) = bytes.split_at(len);
    *bytes = rest;
    Some(head)
}

fn take_name(bytes: &mut &[u8]) -> Option<String> {
    let len = *take(bytes, 1)?.first()? as usize;
    String::from_utf8(take(bytes, len)?.to_vec()).ok()
}

/// Parses one log record into its entries; `None` if the record is damaged.
pub fn parse_record(mut bytes: &[u8]) -> Option<Vec<LoggedEvents>> {
    let mut entries = Vec::new();
    let mut written_at = None;
    if bytes.first() == Some(&0) {
        let header = take(&mut bytes, 9)?;
        written_at = Some(split_u64(&header[1..])?.0);
    }
    while !bytes.is_empty() {
        let kind = take_name(&mut bytes)?;
        let id = take_name(&mut bytes)?;
        let (first_seq, _) = split_u64(take(&mut bytes, 8)?)?;
        let count = u32::from_be_bytes(take(&mut bytes, 4)?.try_into().ok()?);
        let len = u32::from_be_bytes(take(&mut bytes, 4)?.try_into().ok()?) as usize;
        let events = take(&mut bytes, len)?.to_vec();
        entries.push(LoggedEvents {
            first_seq,
            count,
            kind,
            id,
            events,
            written_at,
        });
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_a_record() {
        let mut record = Vec::new();
        push_entry(&mut record, "sku", "A-1", 7, 2, b"xy");
        push_entry(&mut record, "sku", "B", 9, 1, b"z");
        let entries = parse_record(&record).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "A-1");
        assert_eq!(entries[0].first_seq, 7);
        assert_eq!(entries[1].events, b"z".to_vec());
        assert_eq!(entries[1].written_at, None);
    }

    #[test]
    fn a_record_with_a_header_gives_every_entry_its_time() {
        let mut record = Vec::new();
        start_record(&mut record, 1_700_000_000_123);
        push_entry(&mut record, "order", "o1", 3, 1, b"q");
        push_entry(&mut record, "sku", "A", 4, 2, b"rs");
        let entries = parse_record(&record).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|entry| entry.written_at == Some(1_700_000_000_123)));
        assert_eq!((entries[1].first_seq, entries[1].count), (4, 2));
        assert!(parse_record(&record[..5]).is_none());
    }

    #[test]
    fn a_truncated_record_is_refused() {
        let mut record = Vec::new();
        push_entry(&mut record, "sku", "A", 1, 1, b"abc");
        record.pop();
        assert!(parse_record(&record).is_none());
    }
}
