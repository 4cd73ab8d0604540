//! Test helpers: the real application on a free port with a temp data dir, in
//! process ([`spawn_app`]) or as the real binary ([`ServerProcess`]), and typed
//! calls to its API.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mercato::settings::Settings;
use mercato::Application;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The operator token every test server uses.
pub const TOKEN: &str = "test-operator-token";

/// A client of one server.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Shared connection pool.
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        Api {
            base,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET failed")
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request failed")
    }

    pub async fn set_on_hand(&self, sku: &str, on_hand: u64) -> Value {
        let response = self
            .admin(
                reqwest::Method::PUT,
                &format!("/v1/inventory/{sku}"),
                Some(json!({ "on_hand": on_hand })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "set on_hand of {sku}");
        response.json().await.expect("level json")
    }

    pub async fn reserve(&self, sku: &str, body: Value) -> Response {
        self.admin(
            reqwest::Method::POST,
            &format!("/v1/inventory/{sku}/reservations"),
            Some(body),
        )
        .await
    }

    pub async fn commit(&self, sku: &str, reservation_id: &str) -> Response {
        let path = format!("/v1/inventory/{sku}/reservations/{reservation_id}/commit");
        self.admin(reqwest::Method::POST, &path, None).await
    }

    pub async fn release(&self, sku: &str, reservation_id: &str) -> Response {
        let path = format!("/v1/inventory/{sku}/reservations/{reservation_id}");
        self.admin(reqwest::Method::DELETE, &path, None).await
    }

    pub async fn level(&self, sku: &str) -> Value {
        let response = self.get(&format!("/v1/inventory/{sku}")).await;
        assert_eq!(response.status(), StatusCode::OK, "level of {sku}");
        response.json().await.expect("level json")
    }

    pub async fn create_category(&self, name: &str, slug: &str, parent_id: Option<u64>) -> Value {
        let body = json!({"name": name, "slug": slug, "parent_id": parent_id});
        let response = self.admin(reqwest::Method::POST, "/v1/categories", Some(body)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "create category {slug}");
        response.json().await.expect("category json")
    }

    pub async fn create_product(&self, body: Value) -> Value {
        let response = self
            .admin(reqwest::Method::POST, "/v1/products", Some(body.clone()))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create product {body}");
        response.json().await.expect("product json")
    }

    /// `GET /v1/products?{query}`, expecting 200.
    pub async fn search(&self, query: &str) -> Value {
        let response = self.get(&format!("/v1/products?{query}")).await;
        assert_eq!(response.status(), StatusCode::OK, "search {query}");
        response.json().await.expect("search json")
    }

    /// Product ids of a search page, in order.
    pub async fn search_ids(&self, query: &str) -> Vec<u64> {
        let page = self.search(query).await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["id"].as_u64().expect("id"))
            .collect()
    }

    /// The value of a metric line `name{labels} value`, summed over matching lines.
    pub async fn metric(&self, name_and_labels: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.expect("metrics text");
        text.lines()
            .filter(|line| line.starts_with(name_and_labels))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// The error code of an error response.
/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery";

impl Api {
    /// `POST path` with a JSON body and no credentials.
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST failed")
    }

    /// A request with `token` as bearer.
    pub async fn as_user(&self, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request failed")
    }

    /// Registers `email` with [`PASSWORD`]; answers the session body.
    pub async fn register(&self, email: &str) -> Value {
        let response = self
            .post("/v1/auth/register", json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {email}");
        response.json().await.expect("session json")
    }

    /// Logs in.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/v1/auth/login", json!({ "email": email, "password": password }))
            .await
    }

    /// Swaps a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post("/v1/auth/refresh", json!({ "refresh_token": refresh_token }))
            .await
    }
}

impl Api {
    /// An order, read with the operator token.
    pub async fn order(&self, id: &str) -> Value {
        let response = self
            .admin(reqwest::Method::GET, &format!("/v1/orders/{id}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK, "order {id}");
        response.json().await.expect("order json")
    }

    /// The current cart of the user holding `token`.
    pub async fn my_cart(&self, token: &str) -> Value {
        let response = self.as_user(token, reqwest::Method::GET, "/v1/me/cart", None).await;
        assert_eq!(response.status(), StatusCode::OK, "my cart");
        response.json().await.expect("cart json")
    }
}

/// The access token of a session body.
pub fn access(session: &Value) -> String {
    session["access_token"].as_str().expect("access_token").to_string()
}

/// The refresh token of a session body.
pub fn refresh_token(session: &Value) -> String {
    session["refresh_token"].as_str().expect("refresh_token").to_string()
}

pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.expect("error json");
    body["error"]["code"].as_str().expect("error.code").to_string()
}

/// An application running in this process.
pub struct TestApp {
    pub api: Api,
    /// The orders behind the API, for what HTTP would refuse (a direct write).
    pub orders: mercato_actors::order::Orders,
    /// Kept alive for the test: the sled directory.
    pub _dir: TempDir,
}

/// Settings for a test server: port 0, a temp dir, the test token, fault injection.
pub fn test_settings(dir: &Path) -> Settings {
    let mut settings = Settings::defaults().expect("default settings");
    settings.server.bind = "127.0.0.1:0".parse().expect("addr");
    settings.server.workers = 2;
    settings.storage.data_dir = dir.to_path_buf();
    settings.storage.cache_capacity_mb = 16;
    settings.admin.token = SecretString::from(TOKEN);
    settings.testing.fault_injection = true;
    settings.runtime.arbiters = 2;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(dir.path());
    customize(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let api = Api::new(format!("http://{}", app.addr()));
    let orders = app.core().orders.clone();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp { api, orders, _dir: dir }
}

/// The real `mercato` binary serving a data dir.
pub struct ServerProcess {
    pub api: Api,
    child: Child,
}

impl ServerProcess {
    /// Starts `mercato serve` on a free port and waits until it listens.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mercato"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--admin-token", TOKEN, "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .env("MERCATO__RUNTIME__ARBITERS", "2")
            .env("MERCATO__SERVER__WORKERS", "2")
            .env("MERCATO__SERVER__DRAIN_DELAY", "0s")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("mercato binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines.next().expect("server printed its address").expect("stdout line");
            if let Some(address) = line.strip_prefix("listening on ") {
                break address.to_string();
            }
        };
        ServerProcess {
            api: Api::new(address),
            child,
        }
    }

    /// The server's resident set size, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("the server's status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        kib * 1024
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM, then the exit status once it has drained and flushed.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal_terminate();
        self.exit_status()
    }

    /// Sends SIGTERM and returns at once.
    pub fn signal_terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }

    /// Waits (30 s at most) for the process to exit; answers its status.
    pub fn exit_status(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "condition not met within {limit:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}
