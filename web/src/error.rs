//! What a page shows when it cannot show what was asked: a page in words with
//! the right status, never the API's JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mercato_http::errors::ApiError;

use crate::page::{self, Layout};

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// No such page, product, category or order.
    NotFound(String),
    /// A form from elsewhere or an expired form, or a page this account may not see.
    Forbidden(String),
    /// A console page asked for without a session: sign in, then back to this path.
    SignIn(String),
    /// A request no form of ours makes.
    BadRequest(String),
    /// Storage or an actor is restarting: try again shortly.
    Unavailable,
    /// A defect; logged where it happened.
    Internal,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self)
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        match err.status_code() {
            StatusCode::NOT_FOUND => PageError::NotFound(err.message().to_string()),
            StatusCode::FORBIDDEN => PageError::Forbidden(err.message().to_string()),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                PageError::BadRequest(err.message().to_string())
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => PageError::Unavailable,
            _ => {
                tracing::error!(error = %err, "page failed");
                PageError::Internal
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

impl PageError {
    /// The heading and the sentence a page shows for it.
    pub fn words(&self) -> (&'static str, String) {
        match self {
            PageError::NotFound(message) => ("Page not found", message.clone()),
            PageError::Forbidden(message) => ("Not allowed", message.clone()),
            PageError::SignIn(_) => ("Sign in", "Sign in to the console first.".into()),
            PageError::BadRequest(message) => ("That request could not be understood", message.clone()),
            PageError::Unavailable => (
                "Busy for a moment",
                "The shop is catching its breath. Please try again in a few seconds.".into(),
            ),
            PageError::Internal => (
                "Something went wrong",
                "Sorry, this page failed. It has been logged; please try again.".into(),
            ),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::SignIn(_) => StatusCode::SEE_OTHER,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn(next) = self {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            return page::see_other(&format!("/admin/login?{query}"), Vec::new());
        }
        let (heading, message) = self.words();
        let page = ErrorPage {
            layout: Layout::bare(heading),
            heading,
            message,
        };
        page::html(self.status_code(), &page, Vec::new())
    }
}
