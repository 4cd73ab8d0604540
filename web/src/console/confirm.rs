//! The confirmation step every console action passes: what it will do, in
//! words, and the form (with its CSRF token) that does it, or Cancel.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::{ConsoleLayout, Staff};
use crate::page;

/// A confirmation page.
#[derive(Template)]
#[template(path = "console/confirm.html")]
pub struct Confirm {
    layout: ConsoleLayout,
    heading: String,
    /// What happens, in words.
    consequences: String,
    /// Where the form posts.
    action: String,
    /// The button's label.
    button: &'static str,
    /// Where "Cancel" goes.
    back: String,
    /// A required text field (`name`, label), e.g. the tracking number.
    field: Option<(&'static str, &'static str)>,
    /// Values the form carries as they are (`name`, value), e.g. the new role.
    hidden: Vec<(&'static str, String)>,
    /// What went wrong the last time, if anything.
    error: Option<String>,
}

impl Confirm {
    /// "`button` … ?" for `subject`: posts to `action`, Cancel goes `back`.
    pub fn new(staff: &Staff, section: &'static str, heading: String, consequences: impl Into<String>) -> Self {
        Confirm {
            layout: ConsoleLayout::of(staff, section, heading.trim_end_matches('?').to_string()),
            heading,
            consequences: consequences.into(),
            action: String::new(),
            button: "Confirm",
            back: String::new(),
            field: None,
            hidden: Vec::new(),
            error: None,
        }
    }

    /// The form posts to `action` with the button `button`; Cancel goes to `back`.
    pub fn form(mut self, action: String, button: &'static str, back: String) -> Self {
        self.action = action;
        self.button = button;
        self.back = back;
        self
    }

    /// Asks for a text field first.
    pub fn field(mut self, name: &'static str, label: &'static str) -> Self {
        self.field = Some((name, label));
        self
    }

    /// Carries a value as it is.
    pub fn hidden(mut self, name: &'static str, value: String) -> Self {
        self.hidden.push((name, value));
        self
    }

    /// Says what went wrong the last time.
    pub fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    /// The page, with `status` and `staff`'s cookies.
    pub fn page(&self, staff: &Staff, status: StatusCode) -> HttpResponse {
        page::html(status, self, staff.visitor.cookies())
    }
}
