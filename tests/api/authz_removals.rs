//! Who may delete, archive and settle: every route that removes coupons,
//! promotions, products, categories and users, and that commits or releases a
//! stock reservation, against every role. Each allowed caller gets a target
//! of its own, so each success is a real removal, not a 404.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::authz::{staff_tokens, status};
use crate::helpers::{access, spawn_app, Api, TOKEN};

#[derive(Debug, Clone, Copy)]
enum Removal {
    Category,
    Product,
    Coupon,
    Promotion,
    User,
    Release,
    Commit,
}

impl Removal {
    const ALL: [Removal; 7] = [
        Removal::Category,
        Removal::Product,
        Removal::Coupon,
        Removal::Promotion,
        Removal::User,
        Removal::Release,
        Removal::Commit,
    ];

    fn admin_only(self) -> bool {
        matches!(self, Removal::Coupon | Removal::Promotion | Removal::User)
    }

    fn method(self) -> Method {
        match self {
            Removal::Commit => Method::POST,
            _ => Method::DELETE,
        }
    }

    fn success(self) -> StatusCode {
        match self {
            Removal::Product | Removal::Release | Removal::Commit => StatusCode::OK,
            _ => StatusCode::NO_CONTENT,
        }
    }

    /// Makes target `n` (with the service token) and answers its path.
    async fn target(self, api: &Api, category: u64, n: usize) -> String {
        let created = |response: reqwest::Response| async move {
            assert!(response.status().is_success(), "{self:?} target: {}", response.status());
            response.json::<Value>().await.unwrap()
        };
        match self {
            Removal::Category => {
                let made = api
                    .create_category(&format!("Gone {n}"), &format!("gone-{n}"), None)
                    .await;
                format!("/v1/categories/{}", made["id"])
            }
            Removal::Product => {
                let made = api
                    .create_product(json!({
                        "sku": format!("GONE-{n}"), "name": format!("Gone {n}"), "category_id": category,
                        "price": 100, "currency": "EUR"
                    }))
                    .await;
                format!("/v1/products/{}", made["id"])
            }
            Removal::Coupon => {
                let body = json!({"code": format!("GONE{n}"), "percent": 10});
                created(api.admin(Method::POST, "/v1/admin/coupons", Some(body)).await).await;
                format!("/v1/admin/coupons/GONE{n}")
            }
            Removal::Promotion => {
                let body = json!({"name": format!("Gone {n}"), "buy_x_get_y": {"sku": "SKU-1", "buy": 2, "get": 1}});
                let made = created(api.admin(Method::POST, "/v1/admin/promotions", Some(body)).await).await;
                format!("/v1/admin/promotions/{}", made["id"])
            }
            Removal::User => {
                let session = api.register(&format!("gone{n}@example.com")).await;
                format!("/v1/admin/users/{}", session["user"]["id"].as_str().unwrap())
            }
            Removal::Release | Removal::Commit => {
                let body = json!({"qty": 1, "ttl_secs": 600, "reservation_id": format!("held-{n}")});
                created(api.reserve("HELD", body).await).await;
                let path = format!("/v1/inventory/HELD/reservations/held-{n}");
                match self {
                    Removal::Commit => format!("{path}/commit"),
                    _ => path,
                }
            }
        }
    }
}

#[actix_web::test]
async fn every_role_meets_every_removal_and_reservation_route() {
    let app = spawn_app().await;
    let customer = access(&app.api.register("kim@example.com").await);
    let mut staff: Vec<(&str, Option<String>)> = staff_tokens(&app.api)
        .await
        .into_iter()
        .map(|(role, token)| (role, Some(token)))
        .collect();
    staff.push(("service", Some(TOKEN.to_string())));
    let category = app.api.create_category("Kept", "kept", None).await["id"]
        .as_u64()
        .unwrap();
    app.api.set_on_hand("HELD", 1_000).await;

    let mut n = 0;
    for removal in Removal::ALL {
        let method = removal.method();
        n += 1;
        let path = removal.target(&app.api, category, n).await;
        assert_eq!(
            status(&app.api, None, &method, &path, &None).await,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        assert_eq!(
            status(&app.api, Some(&customer), &method, &path, &None).await,
            StatusCode::FORBIDDEN,
            "{method} {path} as a customer"
        );
        for (role, token) in &staff {
            n += 1;
            let path = removal.target(&app.api, category, n).await;
            let allowed = *role != "operator" || !removal.admin_only();
            let expected = if allowed {
                removal.success()
            } else {
                StatusCode::FORBIDDEN
            };
            let got = status(&app.api, token.as_deref(), &method, &path, &None).await;
            assert_eq!(got, expected, "{method} {path} as {role}");
        }
    }
    let held = app.api.level("HELD").await;
    assert_eq!(
        (held["reserved"].as_u64(), held["sold"].as_u64()),
        (Some(2), Some(3)),
        "the two targets the customer met stay held; three releases freed and three commits sold"
    );
}
