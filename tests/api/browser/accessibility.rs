//! Every page type on a phone (375 × 812): no horizontal scroll, a label for
//! every form control, alt text on images, one h1, the landmarks, and within
//! the 64 KB budget of HTML + CSS + JS.

use super::shop_in_browser;

/// Problems the page's DOM shows, as sentences (empty when all is well).
pub const AUDIT: &str = r#"
const problems = [];
if (document.documentElement.scrollWidth > window.innerWidth)
  problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (control.labels.length === 0 && !control.getAttribute('aria-label'))
    problems.push(`no label: ${control.outerHTML}`);
}
for (const button of document.querySelectorAll('button')) {
  if (!button.textContent.trim() && !button.getAttribute('aria-label')) problems.push(`unnamed button`);
}
for (const image of document.querySelectorAll('img')) {
  if (!image.hasAttribute('alt')) problems.push(`no alt: ${image.outerHTML}`);
}
const h1s = document.querySelectorAll('h1').length;
if (h1s !== 1) problems.push(`${h1s} h1 elements`);
for (const landmark of ['header', 'main', 'footer'])
  if (!document.querySelector(landmark)) problems.push(`no ${landmark}`);
const weight = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
  // API calls and the console's live streams are data, not the page.
  .filter(entry => !entry.name.includes('/v1/') && !entry.name.includes('/live'))
  .reduce((sum, entry) => sum + entry.decodedBodySize, 0);
if (weight > 64 * 1024) problems.push(`weighs ${weight} bytes`);
return problems;
"#;

#[actix_web::test]
async fn every_page_fits_a_phone_and_passes_the_basic_accessibility_checks() {
    let Some((_app, shop, browser)) = shop_in_browser(true, (375, 812)).await else {
        return;
    };
    let audit = |name: &'static str| {
        let browser = &browser;
        async move {
            let problems = browser.eval(AUDIT).await;
            // Reported, not asserted: timing belongs to benchmarks.
            let loaded = browser.dom_content_loaded_ms().await;
            eprintln!("DOMContentLoaded {name}: {loaded:.0} ms");
            browser.screenshot(&format!("mobile-{name}")).await;
            assert_eq!(problems, serde_json::json!([]), "{name}: {problems}");
        }
    };
    browser.goto("/").await;
    audit("home").await;
    browser.goto("/search?q=jacket").await;
    audit("search").await;
    browser.goto("/c/clothing").await;
    audit("category").await;
    browser.goto("/login").await;
    audit("login").await;
    browser.goto("/register").await;
    audit("register").await;
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    audit("product").await;
    browser.click(".add-to-cart button[type=submit]").await;
    browser.wait_for_text("h1", "Your cart").await;
    audit("cart").await;
    browser.goto("/checkout").await;
    audit("checkout").await;
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text(".error-summary", "There is a problem").await;
    audit("checkout-errors").await;
    for (field, value) in [
        ("#email", "ada@example.com"),
        ("#name", "Ada Lovelace"),
        ("#line1", "12 Market Street"),
        ("#city", "Berlin"),
        ("#postal_code", "10115"),
        ("#country", "DE"),
    ] {
        browser.fill(field, value).await;
    }
    browser.click(".checkout-form button[type=submit]").await;
    browser.wait_for_text("h1", "Thank you").await;
    audit("confirmation").await;
    browser.goto("/no-such-page").await;
    browser.wait_for_text("h1", "Page not found").await;
    audit("not-found").await;
    browser.close().await;
}
