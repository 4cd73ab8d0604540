//! Money as people read it: integer minor units of an ISO 4217 currency written
//! with the currency's symbol and decimals ("€12.50", "¥1,200", "12.50 CHF").
//! Used by the storefront and by the order mails, so both say the same.
//!
//! The currency table (exponent, symbol, symbol position) comes from
//! `rusty-money`'s ISO 4217 data rather than a hand-kept list.

use rusty_money::iso;

/// `minor` units of `currency` as text: symbol, thousands separators and the
/// currency's own number of decimals; an unknown code is written after the
/// amount with two decimals ("12.50 XYZ").
pub fn format_money(minor: u64, currency: &str) -> String {
    let (exponent, symbol, symbol_first) = match iso::find(currency) {
        Some(found) => (found.exponent, found.symbol, found.symbol_first),
        None => (2, currency, false),
    };
    let text = amount(minor, exponent, true);
    // A symbol made of letters ("CHF", "kr") reads better with a space.
    let spaced = symbol.chars().any(char::is_alphabetic) && symbol.chars().count() > 1;
    match (symbol_first, spaced) {
        (true, false) => format!("{symbol}{text}"),
        (true, true) => format!("{symbol} {text}"),
        (false, _) => format!("{text} {symbol}"),
    }
}

/// `minor` units of `currency` as a plain decimal ("12.50"), as schema.org
/// offers and payment forms want it.
pub fn decimal_amount(minor: u64, currency: &str) -> String {
    amount(minor, iso::find(currency).map_or(2, |found| found.exponent), false)
}

/// A decimal amount typed by a person ("12", "12.5", "1,200.00") as minor
/// units of `currency`; why not, in words.
pub fn parse_amount(text: &str, currency: &str) -> Result<u64, String> {
    let exponent = iso::find(currency).map_or(2, |found| found.exponent);
    let cleaned: String = text.trim().chars().filter(|c| *c != ',' && *c != ' ').collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err("Enter an amount such as 19.99.".into());
    }
    if fraction.len() > exponent as usize {
        return Err(format!("{currency} amounts have at most {exponent} decimals."));
    }
    let scale = 10u64.pow(exponent);
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| "That amount is too large.".to_string())?
    };
    let fraction: u64 = format!("{fraction:0<width$}", width = exponent as usize)
        .parse()
        .unwrap_or(0);
    whole
        .checked_mul(scale)
        .and_then(|minor| minor.checked_add(fraction))
        .ok_or_else(|| "That amount is too large.".to_string())
}

fn amount(minor: u64, exponent: u32, grouped: bool) -> String {
    let scale = 10u64.pow(exponent);
    let mut text = match grouped {
        true => group_thousands(minor / scale),
        false => (minor / scale).to_string(),
    };
    if exponent > 0 {
        text.push('.');
        text.push_str(&format!("{:0width$}", minor % scale, width = exponent as usize));
    }
    text
}

fn group_thousands(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_amounts_become_minor_units_of_their_currency() {
        use super::parse_amount;
        assert_eq!(parse_amount("19.99", "EUR"), Ok(1999));
        assert_eq!(parse_amount(" 1,200.5 ", "EUR"), Ok(120_050));
        assert_eq!(parse_amount("12", "EUR"), Ok(1200));
        assert_eq!(parse_amount(".5", "EUR"), Ok(50));
        assert_eq!(parse_amount("1200", "JPY"), Ok(1200));
        assert!(parse_amount("12.5", "JPY").unwrap_err().contains("at most 0 decimals"));
        assert!(parse_amount("12.345", "EUR").is_err());
        for bad in ["", ".", "-1", "12a", "1.2.3", "99999999999999999999"] {
            assert!(parse_amount(bad, "EUR").is_err(), "{bad:?}");
        }
    }

    use super::{decimal_amount, format_money};

    #[test]
    fn common_currencies_read_as_people_write_them() {
        assert_eq!(format_money(1250, "EUR"), "€12.50");
        assert_eq!(format_money(5, "USD"), "$0.05");
        assert_eq!(format_money(123_456_789, "GBP"), "£1,234,567.89");
        assert_eq!(format_money(1200, "JPY"), "¥1,200");
        assert!(format_money(1500, "KWD").contains("1.500"), "three decimals");
    }

    #[test]
    fn decimal_amounts_have_no_symbol_or_grouping() {
        assert_eq!(decimal_amount(123_456, "EUR"), "1234.56");
        assert_eq!(decimal_amount(1200, "JPY"), "1200");
    }

    #[test]
    fn an_unknown_code_is_written_after_the_amount() {
        assert_eq!(format_money(1250, "XYZ"), "12.50 XYZ");
        assert_eq!(format_money(0, "XYZ"), "0.00 XYZ");
    }
}
