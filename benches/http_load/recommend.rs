//! The requests of the `recommendations` scenario (the reads in process
//! before it are `server.rs`'s `read_recommendations`).

use hyper::body::Bytes;
use hyper::{Method, StatusCode};

use crate::client::{next_random, PreparedRequest};
use crate::server::READ_LIMIT as LIMIT;

/// `GET /v1/products/{id}/recommendations?limit=8` over the first `sold` products.
pub(crate) fn requests(base_path: &str, sold: usize) -> anyhow::Result<Vec<PreparedRequest>> {
    let mut random = 0x5EED_u64;
    (0..1_000)
        .map(|_| {
            let product = 1 + next_random(&mut random) % sold.max(1) as u64;
            Ok(PreparedRequest {
                method: Method::GET,
                uri: format!("{base_path}/v1/products/{product}/recommendations?limit={LIMIT}").parse()?,
                body: Bytes::new(),
                success: StatusCode::OK,
            })
        })
        .collect()
}
