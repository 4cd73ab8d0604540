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
    let length = value.chars().count();
    if value.trim().is_empty() || length > MAX_REASON_LEN {
        return Err(ApiError::invalid_field(
            "reason",
            format!("reason must be 1 to {MAX_REASON_LEN} characters and not blank"),
        ));
    }
    Ok(())
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
    fn blank_reasons_are_refused() {
        assert!(reason("recount").is_ok());
        assert!(reason("   ").is_err());
        assert!(reason(&"x".repeat(201)).is_err());
    }
}
