//! Short digests of ids, for what keeps many ids only to recognise them
//! again (a SKU's settled reservations, the analytics book's orders, the view
//! log's viewers): 16 bytes instead of a string and its allocation.

use sha2::{Digest as _, Sha256};

/// The first 16 bytes of the SHA-256 of `domain` followed by `id`: stable
/// across versions (snapshots and the view log hold such digests), and with
/// 2^128 of them, no two ids of one kind meet.
pub fn digest16(domain: &[u8], id: &str) -> [u8; 16] {
    let hash = Sha256::new()
        .chain_update(domain)
        .chain_update(id.as_bytes())
        .finalize();
    let mut digest = [0; 16];
    digest.copy_from_slice(&hash[..16]);
    digest
}

/// A hash of a digest for a hash table: its own first 8 bytes (a SHA-256's
/// bits need no further mixing).
pub fn table_hash(digest: &[u8; 16]) -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = *digest;
    u64::from_le_bytes([a, b, c, d, e, f, g, h])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_keep_the_bytes_snapshots_and_the_view_log_hold() {
        let hex = |bytes: [u8; 16]| bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
        // SHA-256("abc") starts ba7816bf…: a settled id's digest has no domain.
        assert_eq!(hex(digest16(b"", "abc")), "ba7816bf8f01cfea414140de5dae2223");
        assert_eq!(hex(digest16(b"cart\n", "abc")), hex(digest16(b"", "cart\nabc")));
        assert_eq!(table_hash(&digest16(b"", "abc")), 0xeacf_018f_bf16_78ba);
    }
}
