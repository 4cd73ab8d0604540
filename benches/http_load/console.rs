//! The operator console's page scenarios (issue 14's benchmark): with the
//! demo catalog and `--orders` guest orders placed in-process first (so that
//! as many order, cart and SKU actors are live), an admin signs in over HTTP
//! and the connections load `/admin/orders` (pages, a status, an e-mail),
//! `/admin/orders/{id}`, `/admin/products` (pages and searches) or
//! `/admin/actors` (all, one kind, one id), with the session cookie.

use anyhow::{bail, Context};
use hyper::body::Bytes;
use hyper::{Method, StatusCode, Uri};

use crate::client::{next_random, send_each, PreparedRequest, Target};
use crate::server::ADMIN;

/// Which console page a scenario loads.
#[derive(Clone, Copy)]
pub(crate) enum ConsolePage {
    Orders,
    Order,
    Products,
    Actors,
}

fn get(uri: String) -> anyhow::Result<PreparedRequest> {
    Ok(PreparedRequest {
        method: Method::GET,
        uri: uri.parse::<Uri>().context("a console page makes an invalid URI")?,
        body: Bytes::new(),
        success: StatusCode::OK,
    })
}

/// The requests of `page` under `base_path`.
pub(crate) fn requests(page: ConsolePage, base_path: &str, orders: &[String]) -> anyhow::Result<Vec<PreparedRequest>> {
    let mut random = 0x5EED_u64;
    let mut pick = |n: usize| next_random(&mut random) as usize % n.max(1);
    let paths: Vec<String> = match page {
        ConsolePage::Orders => (0..200)
            .map(|i| match i % 4 {
                0 => format!("/admin/orders?page={}", 1 + pick(100)),
                1 => "/admin/orders?status=confirmed".to_string(),
                2 => format!("/admin/orders?q=buyer{}%40example.com", pick(5_000)),
                _ => format!("/admin/orders?q={}", orders[pick(orders.len())]),
            })
            .collect(),
        ConsolePage::Order => (0..1_000)
            .map(|_| format!("/admin/orders/{}", orders[pick(orders.len())]))
            .collect(),
        ConsolePage::Products => (0..200)
            .map(|i| match i % 2 {
                0 => format!("/admin/products?page={}", 1 + pick(100)),
                _ => [
                    "/admin/products?q=jacket",
                    "/admin/products?q=linen",
                    "/admin/products?q=DEMO-0001234",
                ][pick(3)]
                .to_string(),
            })
            .collect(),
        ConsolePage::Actors => vec![
            "/admin/actors".to_string(),
            "/admin/actors?kind=order".to_string(),
            "/admin/actors?kind=sku&id=DEMO-0000001".to_string(),
            format!("/admin/actors?kind=order&id={}", orders[0]),
        ],
    };
    if orders.is_empty() {
        bail!("the console scenarios need seeded orders");
    }
    paths
        .into_iter()
        .map(|path| get(format!("{base_path}{path}")))
        .collect()
}

/// Signs the bench admin in over HTTP; answers the session cookie.
pub(crate) async fn sign_in(target: &Target) -> anyhow::Result<String> {
    let login = PreparedRequest {
        method: Method::POST,
        uri: format!("{}/v1/auth/login", target.base_path).parse()?,
        body: Bytes::from(format!(r#"{{"email":"{}","password":"{}"}}"#, ADMIN.0, ADMIN.1)),
        success: StatusCode::OK,
    };
    let (status, body) = send_each(target, std::slice::from_ref(&login)).await?.remove(0);
    if status != StatusCode::OK {
        bail!("the bench admin cannot sign in: {status}");
    }
    let session: serde_json::Value = serde_json::from_slice(&body)?;
    let token = session["access_token"].as_str().context("no access token")?;
    Ok(format!("mercato_session={token}"))
}
