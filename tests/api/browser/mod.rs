//! The storefront in a real browser: Debian's Chromium driven through
//! chromedriver (WebDriver) with fantoccini, headless, against the real
//! server on a free port. Every journey saves screenshots of its key pages
//! under `target/screenshots/`.
//!
//! Without chromedriver the tests say so and pass, unless
//! `MERCATO_REQUIRE_ALL_TESTS` is set (CI sets it, and `.ci/run` installs
//! `chromium` and `chromium-driver`).

mod accessibility;
mod accounts;
mod console;
mod console_analytics;
mod console_catalog;
mod console_customers;
mod console_webhooks;
mod journeys;
mod safety;
mod shop;
mod suggestions;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use self::shop::{open_shop, Shop};
use crate::helpers::{spawn_app, TestApp};

/// Browsers running at once: each is a few processes, and CI has two cores.
static BROWSERS: Semaphore = Semaphore::const_new(2);

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium session and its driver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// `http://127.0.0.1:PORT` of the server under test.
    base: String,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

/// Whether a browser can run here; `false` (the test then passes after
/// saying why) only when `MERCATO_REQUIRE_ALL_TESTS` is not set.
pub fn available() -> bool {
    let found = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !found {
        assert!(
            std::env::var_os("MERCATO_REQUIRE_ALL_TESTS").is_none(),
            "browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: no {CHROMEDRIVER}; apt-get install chromium chromium-driver");
    }
    found
}

/// The shop of `shop.rs` on a test server and a browser on it,
/// `width`×`height`, with or without JavaScript; `None` (the test then passes
/// after saying why) where no browser can run.
pub async fn shop_in_browser(javascript: bool, size: (u32, u32)) -> Option<(TestApp, Shop, Browser)> {
    if !available() {
        return None;
    }
    let app = spawn_app().await;
    let shop = open_shop(&app.api).await;
    let browser = Browser::open(&app.api.base, javascript, size).await;
    Some((app, shop, browser))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// A browser at `base`, `width`×`height`, with or without JavaScript.
    pub async fn open(base: &str, javascript: bool, (width, height): (u32, u32)) -> Browser {
        let slot = BROWSERS.acquire().await.expect("the semaphore is never closed");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut prefs = json!({});
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let mut chrome_options = json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", format!("--window-size={width},{height}")],
            "prefs": prefs,
        });
        // A headless window is at least 500 px wide: a phone needs emulation.
        if width < 500 {
            chrome_options["mobileEmulation"] =
                json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}});
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options,
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        // ChromeDriver listens on loopback in plain HTTP: no TLS stack needed.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a chromium session");
        Browser {
            client,
            driver,
            base: base.to_string(),
            _slot: slot,
        }
    }

    /// Opens `path` of the server under test.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigation");
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        url.as_str().trim_start_matches(&self.base).to_string()
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element '{css}': {err}"))
            .text()
            .await
            .expect("text")
    }

    /// Clicks the first element matching `css`; again if a live update
    /// replaced the element between finding and clicking it.
    pub async fn click(&self, css: &str) {
        for _ in 0..5 {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|err| panic!("no element '{css}': {err}"));
            match element.click().await {
                Ok(()) => return,
                Err(err) if err.to_string().contains("stale element") => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(err) => panic!("click on '{css}': {err}"),
            }
        }
        panic!("'{css}' kept being replaced");
    }

    /// Replaces the value of the field matching `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no field '{css}': {err}"));
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Runs `script` in the page and answers its JSON result.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.expect("script runs")
    }

    /// Waits up to 10 s until the text of `css` contains `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(expected) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("'{css}' never showed '{expected}' (last: '{last}')");
    }

    /// Saves a screenshot as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// DOMContentLoaded of the current page after navigation start, in ms
    /// (Navigation Timing), for the report.
    pub async fn dom_content_loaded_ms(&self) -> f64 {
        self.eval("return performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
            .await
            .as_f64()
            .unwrap_or(f64::NAN)
    }

    /// The browser console's errors so far (CSP violations land here).
    pub async fn console_errors(&self) -> Vec<String> {
        let logs = self.client.issue_cmd(BrowserLog).await.expect("browser log");
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Closes the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}

/// chromedriver's log endpoint (not in the W3C protocol): the console's
/// messages since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_string()))
    }
}
