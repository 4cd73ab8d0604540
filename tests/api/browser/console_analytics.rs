//! The console home's analytics: the figures of a range, its best sellers
//! and the server-drawn chart.

use super::console::{console_in_browser, guest_order};
use crate::carts::shop;

#[actix_web::test]
async fn the_home_page_charts_the_ranges_sales_and_names_its_best_sellers() {
    let Some((app, browser)) = console_in_browser((1280, 1100)).await else {
        return;
    };
    shop(&app.api, &[("TEE", 2_500), ("MUG", 1_200)], 10).await;
    guest_order(&app.api, &[("TEE", 2)], "ada@example.com", "k1").await;
    guest_order(&app.api, &[("MUG", 3)], "bob@example.com", "k2").await;

    browser.goto("/admin?range=24h").await;
    let section = browser.text(".analytics").await;
    assert!(section.contains("Sales: Last 24 hours"), "{section}");
    assert!(section.contains("€86.00"), "{section}");
    assert!(section.contains("2 orders, €43.00 on average"), "{section}");
    let best = browser.text("#an-products + ol").await;
    assert_eq!(best.split_whitespace().collect::<Vec<_>>(), ["MUG", "3", "TEE", "2"]);
    let bars = browser
        .eval("return [...document.querySelectorAll('.chart rect')].map(r => Number(r.getAttribute('height')))")
        .await;
    let bars: Vec<f64> = bars.as_array().unwrap().iter().map(|h| h.as_f64().unwrap()).collect();
    assert_eq!(bars.len(), 24, "one bar per hour");
    // The orders were placed this hour, or the last one if an hour began since.
    let sold: Vec<usize> = (0..24).filter(|n| bars[*n] > 0.0).collect();
    assert!(
        matches!(sold[..], [23] | [22] | [22, 23]),
        "the last hours sold: {bars:?}"
    );
    assert_eq!(
        bars.iter().copied().fold(0.0, f64::max),
        180.0,
        "the highest bar fills the chart"
    );
    browser
        .eval("document.querySelector('.analytics').scrollIntoView(); return null")
        .await;
    browser.screenshot("console-09-home-analytics").await;

    browser
        .eval("document.querySelector('#range').value = '7d'; return null")
        .await;
    browser.click(".range-choice button").await;
    browser.wait_for_text("#analytics-title", "Last 7 days").await;
    assert_eq!(browser.path().await, "/admin?range=7d");
    browser.close().await;
}
