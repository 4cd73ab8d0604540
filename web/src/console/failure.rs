//! What a console page shows when it cannot show what was asked: the same
//! words as the shop's error pages ([`PageError::words`]), in the console's
//! layout, with the way back to the console.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mercato_http::errors::ApiError;

use super::ConsoleLayout;
use crate::error::PageError;
use crate::page;

/// A console page's error.
#[derive(Debug)]
pub struct ConsoleError(pub PageError);

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<PageError> for ConsoleError {
    fn from(err: PageError) -> Self {
        ConsoleError(err)
    }
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        ConsoleError(PageError::from(err))
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    layout: ConsoleLayout,
    heading: &'static str,
    message: String,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn(_) = self.0 {
            return self.0.error_response();
        }
        let (heading, message) = self.0.words();
        let mut layout = ConsoleLayout::signed_out(String::new());
        layout.title = heading.to_string();
        let page = ErrorPage {
            layout,
            heading,
            message,
        };
        page::html(self.status_code(), &page, Vec::new())
    }
}
