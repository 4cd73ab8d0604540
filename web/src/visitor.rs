//! Who is browsing: a random visitor id in a cookie (the key of the CSRF
//! token), and the guest cart it holds. Cookies are HttpOnly, SameSite=Lax,
//! and Secure when the request came over TLS or `web.secure_cookies` is set.

use std::future::{ready, Ready};

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use hmac::{Hmac, Mac};
use mercato_actors::account::tokens::{is_random_id, random_id};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::error::PageError;
use crate::WebState;

/// The visitor-id cookie.
const VISITOR_COOKIE: &str = "mercato_visitor";
/// The guest cart's id.
const CART_COOKIE: &str = "mercato_cart";
/// How long a browser keeps its guest cart and visitor id.
const COOKIE_DAYS: i64 = 30;

/// The browser making a page request.
pub struct Visitor {
    /// Random per browser; the CSRF token is an HMAC of it.
    id: String,
    /// Whether `id` was made for this request (its cookie must be set).
    fresh: bool,
    /// The guest cart the browser holds, if any.
    pub cart: Option<String>,
    /// Whether cookies get the Secure flag.
    secure: bool,
    /// The token forms of this visitor carry.
    pub csrf: String,
}

impl Visitor {
    fn from_parts(req: &HttpRequest, state: &WebState) -> Self {
        let existing = req.cookie(VISITOR_COOKIE).map(|c| c.value().to_string());
        let (id, fresh) = match existing.filter(|id| is_random_id(id)) {
            Some(id) => (id, false),
            None => (random_id(), true),
        };
        let cart = req
            .cookie(CART_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|id| is_random_id(id));
        let secure = state.secure_cookies || req.connection_info().scheme() == "https";
        let csrf = csrf_token(&state.csrf_key, &id);
        Visitor {
            id,
            fresh,
            cart,
            secure,
            csrf,
        }
    }

    /// Refuses a state-changing form unless it came from one of our pages: the
    /// browser must have shown its visitor cookie, the form must carry that
    /// visitor's token, and an `Origin` header, when sent, must be this host.
    pub fn check_form(&self, req: &HttpRequest, token: &str) -> Result<(), PageError> {
        if let Some(origin) = req.headers().get("origin").and_then(|o| o.to_str().ok()) {
            let info = req.connection_info();
            let own = format!("{}://{}", info.scheme(), info.host());
            if origin != own {
                return Err(PageError::Forbidden("This form was sent from another site.".into()));
            }
        }
        if self.fresh || !bool::from(token.as_bytes().ct_eq(self.csrf.as_bytes())) {
            return Err(PageError::Forbidden(
                "This form has expired. Go back, reload the page and try again.".into(),
            ));
        }
        Ok(())
    }

    /// The cookies to set with the response: the visitor id when new.
    pub fn cookies(&self) -> Vec<Cookie<'static>> {
        match self.fresh {
            true => vec![self.cookie(VISITOR_COOKIE, self.id.clone())],
            false => Vec::new(),
        }
    }

    /// The cookie that makes `cart` this browser's guest cart.
    pub fn cart_cookie(&self, cart: &str) -> Cookie<'static> {
        self.cookie(CART_COOKIE, cart.to_string())
    }

    /// A cookie that forgets the guest cart (it was checked out).
    pub fn forget_cart(&self) -> Cookie<'static> {
        let mut cookie = self.cookie(CART_COOKIE, String::new());
        cookie.make_removal();
        cookie
    }

    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(Duration::days(COOKIE_DAYS))
            .finish()
    }
}

fn csrf_token(key: &[u8; 32], visitor: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(visitor.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<WebState>>() {
            Some(state) => Ok(Visitor::from_parts(req, state)),
            None => Err(PageError::Internal),
        })
    }
}
