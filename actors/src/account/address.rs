//! Postal addresses and phone numbers: what a valid one looks like.
//!
//! Pure checks shared by the address book and (later) checkout: every failure
//! names the field, so the HTTP layer answers 422 with it.

use serde::{Deserialize, Serialize};

use super::state::is_bidi_control;

/// Longest name, city or region, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest address line, in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest postal code, in characters.
pub const MAX_POSTAL_CODE_CHARS: usize = 16;
/// Fewest and most digits in a phone number (E.164 allows 15; extensions pass).
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 6..=20;

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Who receives the parcel.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor, company.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or county, where the country uses one.
    pub region: Option<String>,
    /// Postal code as written locally.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 code, upper case.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

/// A field that fails its check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    /// The field, as named in the API.
    pub field: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// Free text of 1 to `max` characters, not blank; returned trimmed.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let bad = |c: char| c.is_control() || is_bidi_control(c);
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(bad) {
        return Err(FieldError::new(
            field,
            format!("{field} must be 1 to {max} characters, not blank, without control or bidi characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Like [`required_text`], where blank means absent.
pub fn optional_text(field: &'static str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => required_text(field, text, max).map(Some),
    }
}

/// A phone number: digits with an optional leading `+` and the usual separators
/// (spaces, `-`, `.`, parentheses); returned trimmed.
pub fn phone(field: &'static str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let shape_ok = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    if !shape_ok || !PHONE_DIGITS.contains(&digits) {
        return Err(FieldError::new(
            field,
            format!(
                "{field} must be {} to {} digits, optionally after '+', with spaces, '-', '.' or parentheses",
                PHONE_DIGITS.start(),
                PHONE_DIGITS.end()
            ),
        ));
    }
    Ok(trimmed.to_string())
}

/// An ISO 3166-1 alpha-2 country code (case-insensitive); returned upper case.
pub fn country(value: &str) -> Result<String, FieldError> {
    let code = value.trim().to_ascii_uppercase();
    let known = code.len() == 2 && celes::Country::from_alpha2(&code).is_ok();
    if !known {
        return Err(FieldError::new(
            "country",
            format!("'{}' is not an ISO 3166-1 alpha-2 country code", value.trim()),
        ));
    }
    Ok(code)
}

/// An address in `city`, for tests and benchmarks.
pub fn example_in(city: &str) -> Address {
    Address {
        name: "Ada".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: city.into(),
        region: None,
        postal_code: "10115".into(),
        country: "DE".into(),
        phone: None,
    }
}

/// A partial change of an address: absent fields stay; `Some(None)` clears an
/// optional field.
#[derive(Debug, Clone, Default)]
pub struct AddressPatch {
    pub name: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<Option<String>>,
    pub city: Option<String>,
    pub region: Option<Option<String>>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<Option<String>>,
}

impl AddressPatch {
    /// Writes the present fields into `address`.
    pub fn apply_to(self, address: &mut Address) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        set(&mut address.name, self.name);
        set(&mut address.line1, self.line1);
        set(&mut address.line2, self.line2);
        set(&mut address.city, self.city);
        set(&mut address.region, self.region);
        set(&mut address.postal_code, self.postal_code);
        set(&mut address.country, self.country);
        set(&mut address.phone, self.phone);
    }
}

impl Address {
    /// Checks every field and returns the address trimmed and normalized
    /// (country upper case, blank optional fields absent).
    pub fn validated(self) -> Result<Address, FieldError> {
        let postal_code = required_text("postal_code", &self.postal_code, MAX_POSTAL_CODE_CHARS)?;
        if !postal_code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-'))
        {
            return Err(FieldError::new(
                "postal_code",
                "postal_code may hold letters, digits, spaces and '-'",
            ));
        }
        Ok(Address {
            name: required_text("name", &self.name, MAX_NAME_CHARS)?,
            line1: required_text("line1", &self.line1, MAX_LINE_CHARS)?,
            line2: optional_text("line2", self.line2.as_deref(), MAX_LINE_CHARS)?,
            city: required_text("city", &self.city, MAX_NAME_CHARS)?,
            region: optional_text("region", self.region.as_deref(), MAX_NAME_CHARS)?,
            postal_code,
            country: country(&self.country)?,
            phone: match self.phone.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(number) => Some(phone("phone", number)?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Address {
        Address {
            name: " Ada Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: Some("  ".into()),
            city: "London".into(),
            region: None,
            postal_code: "SW1Y 4JH".into(),
            country: "gb".into(),
            phone: Some("+44 20 7946 0958".into()),
        }
    }

    #[test]
    fn a_valid_address_is_trimmed_and_normalized() {
        let address = sample().validated().expect("valid");
        assert_eq!(address.name, "Ada Lovelace");
        assert_eq!(address.country, "GB");
        assert_eq!(address.line2, None);
        assert_eq!(address.phone.as_deref(), Some("+44 20 7946 0958"));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Spoil = fn(&mut Address);
        let cases: [(&str, Spoil); 9] = [
            ("name", |a| a.name = " ".into()),
            ("line1", |a| a.line1 = "x".repeat(201)),
            ("city", |a| a.city = String::new()),
            ("postal_code", |a| a.postal_code = "12#45".into()),
            ("country", |a| a.country = "XX".into()),
            ("country", |a| a.country = "GBR".into()),
            ("phone", |a| a.phone = Some("call me".into())),
            ("phone", |a| a.phone = Some("+1 23".into())),
            ("region", |a| a.region = Some("r".repeat(101))),
        ];
        for (field, spoil) in cases {
            let mut address = sample();
            spoil(&mut address);
            assert_eq!(address.validated().expect_err(field).field, field);
        }
    }
}
