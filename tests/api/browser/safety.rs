//! Hostile input renders as text, forms from another site are refused, and
//! no page needs an inline script under its Content-Security-Policy.

use reqwest::StatusCode;

use super::shop::HOSTILE_NAME;
use super::shop_in_browser;

/// Script elements that would need `'unsafe-inline'`, and inline handlers.
const INLINE_SCRIPT: &str =
    "return document.querySelectorAll('script:not([src]):not([type=\"application/ld+json\"])').length \
    + [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length";

#[actix_web::test]
async fn hostile_names_and_queries_render_as_text_under_a_strict_csp() {
    let Some((app, shop, browser)) = shop_in_browser(true, (1280, 1000)).await else {
        return;
    };
    let hostile_query = "<script>window.__xss=3</script>";
    let pages = [
        "/".to_string(),
        format!("/p/{}", shop.hostile),
        format!("/search?q={}", urlencode(hostile_query)),
        "/c/home".to_string(),
        "/cart".to_string(),
    ];
    for path in &pages {
        browser.goto(path).await;
        assert_eq!(
            browser.eval("return window.__xss === undefined").await,
            true,
            "script ran on {path}"
        );
        assert_eq!(browser.eval(INLINE_SCRIPT).await, 0, "inline script on {path}");
        let errors = browser.console_errors().await;
        assert!(errors.is_empty(), "console errors on {path}: {errors:?}");
    }
    browser.goto(&format!("/p/{}", shop.hostile)).await;
    assert_eq!(browser.text("h1").await, HOSTILE_NAME);
    browser.screenshot("xss-product").await;
    browser.goto(&format!("/search?q={}", urlencode(hostile_query))).await;
    assert!(browser.text("h1").await.contains(hostile_query));
    assert_eq!(
        browser
            .eval("return document.querySelector('#site-search').value")
            .await,
        hostile_query
    );
    browser.screenshot("xss-search").await;

    let page = app.api.client.get(app.api.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    browser.close().await;
}

#[actix_web::test]
async fn a_form_posted_from_another_site_is_refused() {
    let Some((app, shop, browser)) = shop_in_browser(true, (1280, 1000)).await else {
        return;
    };
    // The shopper has a session with us...
    browser.goto(&format!("/p/{}", shop.jacket)).await;
    // ...and visits another site whose form posts to the shop.
    let form = format!(
        "<form method=post action='{}/cart/items'><input name=csrf value=guess><input name=sku value={}>\
         <input name=qty value=5><button id=go>Win a prize</button></form>",
        app.api.base, shop.jacket_sku
    );
    let page = urlencode(&form).replace('+', "%20");
    browser.client.goto(&format!("data:text/html,{page}")).await.unwrap();
    browser.click("#go").await;
    browser.wait_for_text("h1", "Not allowed").await;
    browser.screenshot("csrf-refused").await;
    browser.goto("/cart").await;
    assert!(
        browser.text("main").await.contains("Your cart is empty"),
        "nothing was added"
    );
    browser.close().await;

    // The right token from the wrong origin is refused too.
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let product = client
        .get(app.api.url(&format!("/p/{}", shop.jacket)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = product
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let form = [("csrf", token), ("sku", shop.jacket_sku), ("qty", "1")];
    let cross = client
        .post(app.api.url("/cart/items"))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let same = client
        .post(app.api.url("/cart/items"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        same.status(),
        StatusCode::OK,
        "the same form from our own page is accepted (and redirected)"
    );
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_string()
}
