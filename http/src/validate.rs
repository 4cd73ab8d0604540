//! Checks of input values that types alone do not express; each failure is a
//! 422 naming the field.

use crate::errors::ApiError;

/// Longest SKU id.
pub const MAX_SKU_LEN: usize = 64;
/// Longest reservation id.
pub const MAX_RESERVATION_ID_LEN: usize = 128;
/// Longest adjustment reason.
pub const MAX_REASON_LEN: usize = 200;
/// Longest reservation TTL, in seconds.
pub const MAX_TTL_SECS: u64 = 86_400;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn check_id(field: &str, value: &str, max_len: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > max_len || !value.chars().all(is_id_char) {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be 1 to {max_len} characters of A-Z, a-z, 0-9, '.', '_' or '-'"),
        ));
    }
    Ok(())
}

/// A SKU id: `[A-Za-z0-9._-]{1,64}`.
pub fn sku(value: &str) -> Result<(), ApiError> {
    check_id("sku", value, MAX_SKU_LEN)
}

/// A reservation id: `[A-Za-z0-9._-]{1,128}`.
pub fn reservation_id(value: &str) -> Result<(), ApiError> {
    check_id("reservation_id", value, MAX_RESERVATION_ID_LEN)
}

/// A caller's reservation id, checked, or a new random one when it gave none.
pub fn reservation_id_or_new(id: Option<String>) -> Result<String, ApiError> {
    match id {
        Some(id) => reservation_id(&id).map(|()| id),
        None => Ok(uuid::Uuid::new_v4().simple().to_string()),
    }
}

/// An integer within `range`.
pub fn in_range<T: PartialOrd + std::fmt::Display>(field: &str, value: T, min: T, max: T) -> Result<T, ApiError> {
    if value < min || value > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(value)
}

/// A free-text reason: 1 to 200 characters, not only whitespace.
pub fn reason(value: &str) -> Result<(), ApiError> {
    text("reason", value, MAX_REASON_LEN)
}

/// Longest category slug.
pub const MAX_SLUG_LEN: usize = 64;
/// Most attributes on one product.
pub const MAX_ATTRIBUTES: usize = 50;
/// Most images on one product.
pub const MAX_IMAGES: usize = 20;
/// Longest image URL.
pub const MAX_URL_LEN: usize = 2048;

/// Free text of 1 to `max` characters, not only whitespace.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be 1 to {max} characters and not blank"),
        ));
    }
    Ok(())
}

/// Free text of at most `max` characters (may be empty).
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// A slug: lower-case letters and digits in words joined by single hyphens.
pub fn slug(value: &str) -> Result<(), ApiError> {
    let words_ok = value
        .split('-')
        .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    // At least one letter: an all-digit slug would read as an id in /v1/categories/{id or slug}.
    let has_letter = value.chars().any(|c| c.is_ascii_lowercase());
    if value.is_empty() || value.len() > MAX_SLUG_LEN || !words_ok || !has_letter {
        return Err(ApiError::invalid_field(
            "slug",
            format!("slug must be 1 to {MAX_SLUG_LEN} characters of a-z and 0-9 in words joined by '-', with a letter"),
        ));
    }
    Ok(())
}

/// An ISO 4217 currency code: three upper-case letters.
pub fn currency(value: &str) -> Result<(), ApiError> {
    if value.len() != 3 || !value.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ApiError::invalid_field(
            "currency",
            "currency must be an ISO 4217 code such as EUR",
        ));
    }
    Ok(())
}

/// Attributes: at most 50; keys `[a-z0-9_]{1,40}`; values 1 to 200 characters.
pub fn attributes<'a>(pairs: impl ExactSizeIterator<Item = (&'a String, &'a String)>) -> Result<(), ApiError> {
    if pairs.len() > MAX_ATTRIBUTES {
        return Err(ApiError::invalid_field(
            "attributes",
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (key, value) in pairs {
        attribute_key(key)?;
        text("attributes", value, 200)?;
    }
    Ok(())
}

/// An attribute key: `[a-z0-9_]{1,40}`.
pub fn attribute_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty()
        || key.len() > 40
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ApiError::invalid_field(
            "attributes",
            format!("attribute key '{key}' must be 1 to 40 of a-z, 0-9, '_'"),
        ));
    }
    Ok(())
}

/// Image URLs: at most 20, each http(s), at most 2,048 characters, no whitespace.
pub fn images(urls: &[String]) -> Result<(), ApiError> {
    if urls.len() > MAX_IMAGES {
        return Err(ApiError::invalid_field(
            "images",
            format!("at most {MAX_IMAGES} images"),
        ));
    }
    for url in urls {
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !scheme_ok || url.len() > MAX_URL_LEN || url.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid_field(
                "images",
                format!("'{url}' is not an http(s) URL"),
            ));
        }
    }
    Ok(())
}

/// A seller id: the SKU alphabet.
pub fn seller_id(value: &str) -> Result<(), ApiError> {
    check_id("seller_id", value, MAX_SKU_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_ids_follow_the_documented_alphabet() {
        assert!(sku("ABC-1.2_x").is_ok());
        assert!(sku(&"a".repeat(64)).is_ok());
        assert!(sku(&"a".repeat(65)).is_err());
        assert!(sku("").is_err());
        assert!(sku("a/b").is_err());
        assert!(sku("é").is_err());
    }

    #[test]
    fn ranges_are_inclusive() {
        assert!(in_range("qty", 1u64, 1, 10).is_ok());
        assert!(in_range("qty", 10u64, 1, 10).is_ok());
        assert_eq!(in_range("qty", 0u64, 1, 10).unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert!(slug("mens-shoes-2").is_ok());
        for bad in ["", "Mens", "a--b", "-a", "a-", "a_b", "é", "2024"] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_and_images_are_checked() {
        assert!(currency("EUR").is_ok());
        assert!(currency("eur").is_err());
        assert!(currency("EURO").is_err());
        assert!(images(&["https://cdn.example/a.jpg".into()]).is_ok());
        assert!(images(&["ftp://x".into()]).is_err());
        assert!(images(&["https://a b".into()]).is_err());
    }

    #[test]
    fn blank_reasons_are_refused() {
        assert!(reason("recount").is_ok());
        assert!(reason("   ").is_err());
        assert!(reason(&"x".repeat(201)).is_err());
    }
}
