//! Addresses the mailer cannot parse are refused where they come in (checkout,
//! registration, profile), and an order event that can never be mailed (here
//! an order placed below the HTTP layer with such an address, as data from an
//! older version could hold) is set aside as a dead letter instead of stopping
//! every later mail.

use std::time::Duration;

use mercato_actors::account::address::Address;
use mercato_actors::order::{CheckoutRequest, CheckoutResult};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::carts::{add, new_cart, shop};
use crate::helpers::{access, eventually, spawn_app, PASSWORD};
use crate::notifications::{mails, order_one};
use crate::orders::{checkout, checkout_body};

const UNSENDABLE: [&str; 6] = [
    "a,b@example.com",
    "a<b@example.com",
    "a;b@example.com",
    "(c)a@example.com",
    "a@[127.0.0.1]",
    "eve\u{202E}moc.elpmaxe@example.com",
];

async fn refused_email_field(response: reqwest::Response) -> bool {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    status == StatusCode::UNPROCESSABLE_ENTITY
        && body["error"]["code"] == "invalid_field"
        && body["error"]["field"] == "email"
}

#[actix_web::test]
async fn unsendable_addresses_are_refused_at_checkout_registration_and_profile() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 5).await;
    let session = app.api.register("kept@example.com").await;
    for email in UNSENDABLE {
        let cart = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
        add(&app.api, &cart, "TEE", 1).await;
        let placed = checkout(&app.api, &cart, Some("k"), &checkout_body(email), None).await;
        assert!(refused_email_field(placed).await, "checkout with {email:?}");
        let registered = app
            .api
            .post(
                "/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "name": "Eve"}),
            )
            .await;
        assert!(refused_email_field(registered).await, "registration with {email:?}");
        let changed = app
            .api
            .as_user(
                &access(&session),
                Method::PATCH,
                "/v1/me",
                Some(json!({"email": email, "current_password": PASSWORD})),
            )
            .await;
        assert!(refused_email_field(changed).await, "profile change to {email:?}");
    }
    let stock = app.api.level("TEE").await;
    assert_eq!(stock["reserved"], 0, "nothing held by a refused checkout");
}

#[actix_web::test]
async fn an_event_that_can_never_be_mailed_is_set_aside_and_later_mails_go_out() {
    let app = spawn_app().await;
    shop(&app.api, &[("TEE", 1_000)], 50).await;
    let cart = new_cart(&app.api).await["id"].as_str().unwrap().to_string();
    add(&app.api, &cart, "TEE", 1).await;
    let poison = app
        .orders
        .checkout(CheckoutRequest {
            cart_id: cart,
            caller: None,
            key: "poison".into(),
            email: "a,b@example.com".into(),
            shipping_address: Address {
                name: "Mallory".into(),
                line1: "1 Main St".into(),
                line2: None,
                city: "Berlin".into(),
                region: None,
                postal_code: "10115".into(),
                country: "DE".into(),
                phone: None,
            },
            fingerprint: [0; 32],
        })
        .await
        .expect("placed below the HTTP layer");
    let CheckoutResult::Done { order_id: poison, .. } = poison else {
        panic!("a new order");
    };

    let good = order_one(&app.api, "yuri@example.com", "good").await;
    eventually(Duration::from_secs(10), || async {
        mails(app._dir.path())
            .iter()
            .any(|(name, _)| name.ends_with(&format!("-{good}-order_confirmed")))
            .then_some(())
    })
    .await;
    assert_eq!(mails(app._dir.path()).len(), 1, "only the good order's mail");

    let response = app.api.admin(Method::GET, "/v1/admin/dead-letters", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let dead: Value = response.json().await.unwrap();
    assert_eq!(dead["total"], 1, "{dead}");
    let letter = &dead["letters"][0];
    assert_eq!(letter["subject"], format!("order/{poison}"));
    assert_eq!(
        (letter["consumer"].as_str(), letter["action"].as_str()),
        (Some("notifier"), Some("order_confirmed"))
    );
    assert!(!letter["reason"].as_str().unwrap().is_empty());
    assert_eq!(
        app.api
            .metric("mercato_dead_letters_total{consumer=\"notifier\"}")
            .await,
        1.0
    );
    let customer = access(&app.api.register("cust@example.com").await);
    let as_customer = app
        .api
        .as_user(&customer, Method::GET, "/v1/admin/dead-letters", None)
        .await;
    assert_eq!(as_customer.status(), StatusCode::FORBIDDEN);
}
