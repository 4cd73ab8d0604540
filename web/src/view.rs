//! How the API's bodies read on a page: money in words of its currency, stock
//! as a shopper understands it, products as cards.

use mercato_actors::money::format_money;
use mercato_http::routes::me::AddressFields;
use mercato_http::routes::order_body::OrderBody;
use mercato_http::routes::products::ProductBody;

/// At or below this many units a product page says "only N left".
pub const FEW_LEFT: u64 = 5;

/// A product in a grid.
pub struct ProductCard {
    pub href: String,
    pub name: String,
    pub price: String,
    pub stock: String,
    /// `in`, `few` or `out`: the stock note's style.
    pub stock_class: &'static str,
    /// The first image's URL, if the product has one.
    pub image: Option<String>,
    /// The name's first letter, drawn where there is no image.
    pub initial: String,
}

impl From<&ProductBody> for ProductCard {
    fn from(product: &ProductBody) -> Self {
        let (stock, stock_class) = stock_note(product.available, product.is_available);
        ProductCard {
            href: format!("/p/{}", product.id),
            name: product.name.clone(),
            price: format_money(product.price, &product.currency),
            stock,
            stock_class,
            image: product.images.first().cloned(),
            initial: product.name.chars().next().map(String::from).unwrap_or_default(),
        }
    }
}

/// What a shopper reads about stock, and its style.
pub fn stock_note(available: Option<u64>, buyable: bool) -> (String, &'static str) {
    match available {
        None => ("Stock unknown right now".into(), "few"),
        Some(0) => ("Out of stock".into(), "out"),
        // In stock but archived (or otherwise not buyable).
        Some(_) if !buyable => ("Not for sale".into(), "out"),
        Some(n) if n <= FEW_LEFT => (format!("Only {n} left"), "few"),
        Some(_) => ("In stock".into(), "in"),
    }
}

/// An API message as a sentence: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    text.push_str(chars.as_str());
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// One order line as a page shows it.
pub struct LineRow {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: String,
    pub line_total: String,
}

/// An order's lines, priced in its currency.
pub fn order_lines(order: &OrderBody) -> Vec<LineRow> {
    order
        .items
        .iter()
        .map(|item| LineRow {
            sku: item.sku.clone(),
            name: item.name.clone(),
            qty: item.qty,
            unit_price: format_money(item.unit_price, &order.currency),
            line_total: format_money(item.line_total, &order.currency),
        })
        .collect()
}

/// An address as the lines of a label.
pub fn address_lines(address: &AddressFields) -> Vec<String> {
    [
        Some(address.name.clone()),
        Some(address.line1.clone()),
        address.line2.clone(),
        Some(format!("{} {}", address.postal_code, address.city)),
        address.region.clone(),
        Some(address.country.clone()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A gateway's name in words.
pub fn gateway_name(gateway: &str) -> String {
    match gateway {
        "manual" => "the built-in gateway".to_string(),
        "stripe" => "Stripe".to_string(),
        other => other.to_string(),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn when(millis: u64) -> String {
    utc(&mercato_http::format::rfc3339(millis))
}

/// An RFC 3339 time of the API as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(rfc3339: &str) -> String {
    format!("{} UTC", rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " "))
}

#[cfg(test)]
mod tests {
    use super::{sentence, stock_note};

    #[test]
    fn api_messages_become_sentences() {
        assert_eq!(sentence("coupon SPRING expired"), "Coupon SPRING expired.");
        assert_eq!(sentence("Done."), "Done.");
    }

    #[test]
    fn stock_reads_as_a_shopper_expects() {
        assert_eq!(stock_note(Some(0), false).0, "Out of stock");
        assert_eq!(stock_note(Some(3), true).0, "Only 3 left");
        assert_eq!(stock_note(Some(40), true).0, "In stock");
        assert_eq!(stock_note(Some(40), false).0, "Not for sale");
        assert_eq!(stock_note(None, false).0, "Stock unknown right now");
    }
}
