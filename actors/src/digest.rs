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
