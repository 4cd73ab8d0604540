//! Form errors as GOV.UK Frontend shows them: a summary at the top linking to
//! each field, and the message beside the field. The API names fields as its
//! JSON does ("postal_code may hold ..."); here they get their labels.

use mercato_http::errors::ApiError;

use crate::view::sentence;

/// A form that only carries its CSRF token (sign out, remove).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// A field with an error.
pub struct FieldError {
    /// The field's `id` and `name`.
    pub field: &'static str,
    pub message: String,
}

/// The errors of one form.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The error of `field`, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors, for the summary.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// An error on `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }
}

/// Every field of our forms and its label.
const LABELS: [(&str, &str); 21] = [
    ("email", "E-mail address"),
    ("password", "Password"),
    ("name", "Full name"),
    ("line1", "Address line 1"),
    ("line2", "Address line 2"),
    ("city", "Town or city"),
    ("region", "Region"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("phone", "Phone"),
    ("code", "Coupon code"),
    ("sku", "SKU"),
    ("description", "Description"),
    ("category_id", "Category"),
    ("price", "Price"),
    ("currency", "Currency"),
    ("attributes", "Attributes"),
    ("reason", "Reason"),
    ("on_hand", "Units on hand"),
    ("delta", "Units to add"),
    ("slug", "Address (slug)"),
];

/// `err` (an `invalid_field`) on the field it names, in words with the label;
/// on `fallback` when it names none of ours.
pub fn field_error(err: &ApiError, fallback: &'static str) -> FieldError {
    let named = err.details().get("field").and_then(|f| f.as_str()).unwrap_or(fallback);
    let (field, label) = LABELS
        .iter()
        .find(|(name, _)| named.ends_with(name))
        .copied()
        .unwrap_or((fallback, ""));
    let message = match err.message().strip_prefix(field) {
        Some(rest) if !label.is_empty() => sentence(&format!("{label}{rest}")),
        _ => sentence(err.message()),
    };
    FieldError { field, message }
}

/// The fields of a postal address as a form posts them.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct AddressForm {
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
}

/// Address fields that must not be empty, with what to say when one is.
const REQUIRED_ADDRESS: [(&str, &str); 5] = [
    ("name", "Enter the name to ship to."),
    ("line1", "Enter the first line of the address."),
    ("city", "Enter the town or city."),
    ("postal_code", "Enter the postal code."),
    ("country", "Enter the country as a two-letter code, such as DE."),
];

impl AddressForm {
    /// Adds an error for each required field left empty.
    pub fn check_required(&self, errors: &mut Errors) {
        for (field, message) in REQUIRED_ADDRESS {
            let value = match field {
                "name" => &self.name,
                "line1" => &self.line1,
                "city" => &self.city,
                "postal_code" => &self.postal_code,
                _ => &self.country,
            };
            if value.trim().is_empty() {
                errors.add(field, message);
            }
        }
    }

    /// The API's address body: empty optional fields are absent.
    pub fn fields(&self) -> mercato_http::routes::me::AddressFields {
        let optional = |text: &str| (!text.trim().is_empty()).then(|| text.to_string());
        mercato_http::routes::me::AddressFields {
            name: self.name.clone(),
            line1: self.line1.clone(),
            line2: optional(&self.line2),
            city: self.city.clone(),
            region: optional(&self.region),
            postal_code: self.postal_code.clone(),
            country: self.country.trim().to_uppercase(),
            phone: optional(&self.phone),
        }
    }

    /// The form filled with a saved address.
    pub fn from_address(address: &mercato_actors::account::address::Address) -> Self {
        AddressForm {
            name: address.name.clone(),
            line1: address.line1.clone(),
            line2: address.line2.clone().unwrap_or_default(),
            city: address.city.clone(),
            region: address.region.clone().unwrap_or_default(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
            phone: address.phone.clone().unwrap_or_default(),
        }
    }
}

/// Whether the API refused the request itself (a 4xx) rather than failed:
/// the form is shown again with why.
pub fn is_client_error(err: &ApiError) -> bool {
    actix_web::ResponseError::status_code(err).is_client_error()
}

/// The API's refusal `err` as form errors: a code of `known` (`code`,
/// field, words) on its field, an `invalid_field` on the field it names,
/// anything else in the API's words on `fallback`.
pub fn refusal(err: &ApiError, fallback: &'static str, known: &[(&str, &'static str, &str)]) -> Errors {
    let mut errors = Errors::default();
    match known.iter().find(|(code, _, _)| *code == err.code()) {
        Some((_, field, words)) => errors.add(field, *words),
        None if err.code() == "invalid_field" => errors.0.push(field_error(err, fallback)),
        None => errors.add(fallback, sentence(err.message())),
    }
    errors
}
