//! Who is browsing: a random visitor id in a cookie (the key of the CSRF
//! token), the guest cart it holds, and, once signed in, the session: the
//! same access and refresh tokens the JSON API hands out, in cookies. An
//! expired access token is renewed with the refresh token on the next page.
//! Cookies are HttpOnly, SameSite=Lax, and Secure when the request came over
//! TLS or `web.secure_cookies` is set.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use hmac::{Hmac, Mac};
use mercato_actors::account::tokens::{is_random_id, random_id};
use mercato_actors::account::{Role, SignedIn};
use mercato_actors::views::recent::ViewerKey;
use mercato_http::auth::{resolve, Principal, SESSION_COOKIE};
use mercato_http::routes::auth::{access_token, Guest};
use mercato_http::AppState;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::error::PageError;
use crate::WebState;

/// The refresh token of a signed-in visitor.
const REFRESH_COOKIE: &str = "mercato_refresh";

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
    /// The signed-in customer: user id and role.
    pub user: Option<(String, Role)>,
    /// The refresh token, to sign out with.
    pub refresh_token: Option<String>,
    /// Session cookies renewed while reading this request.
    renewed: Vec<Cookie<'static>>,
    /// Whether cookies get the Secure flag.
    secure: bool,
    /// The token forms of this visitor carry.
    pub csrf: String,
    /// The origin of `web.public_url`, when set.
    public_origin: Option<String>,
    /// The CSRF key, to make a new token when the id changes.
    csrf_key: [u8; 32],
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
            user: None,
            refresh_token: req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()),
            renewed: Vec::new(),
            secure,
            csrf,
            public_origin: state.public_origin.clone(),
            csrf_key: state.csrf_key,
        }
    }

    /// Gives the browser a new visitor id, and so a new CSRF token, as its
    /// privileges change (a console sign-in): a token seen before no longer
    /// passes.
    pub fn renew_id(&mut self) {
        self.id = random_id();
        self.fresh = true;
        self.csrf = csrf_token(&self.csrf_key, &self.id);
    }

    /// Reads the session cookies: a valid access token signs the visitor in;
    /// an expired one is renewed with the refresh token (new cookies go out
    /// with the response); a revoked session leaves a guest.
    async fn sign_in_from_cookies(&mut self, req: &HttpRequest, state: &AppState) {
        let Some(access) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return;
        };
        match resolve(state, &access).await {
            Ok(Principal::User { id, role }) => self.user = Some((id, role)),
            Ok(Principal::Service) => {}
            Err(err) if err.code() == "token_expired" => {
                let Some(refresh) = self.refresh_token.clone() else {
                    return;
                };
                match state.accounts.refresh(&refresh).await {
                    Ok(signed_in) => match self.session_cookies(state, &signed_in) {
                        Ok(cookies) => {
                            self.user = Some((signed_in.user_id.clone(), signed_in.profile.role));
                            self.refresh_token = Some(signed_in.refresh.token.clone());
                            self.renewed = cookies;
                        }
                        Err(err) => tracing::error!(error = %err, "cannot renew a storefront session"),
                    },
                    // A refused token ends the session; a failure that may
                    // pass (storage, a restarting actor) leaves a guest for
                    // this request and the cookies as they are.
                    Err(err) => {
                        tracing::info!(error = %err, "storefront session not renewed");
                        let refused = mercato_http::errors::ApiError::from(err);
                        if is_refusal(&refused) {
                            self.renewed = self.end_session();
                        }
                    }
                }
            }
            Err(err) if is_refusal(&err) => self.renewed = self.end_session(),
            Err(err) => tracing::warn!(error = %err, "storefront session not checked"),
        }
    }

    /// The cookies that hold `signed_in`'s session.
    pub fn session_cookies(&self, state: &AppState, signed_in: &SignedIn) -> Result<Vec<Cookie<'static>>, PageError> {
        let access = access_token(state, signed_in)?;
        Ok(vec![
            self.cookie(SESSION_COOKIE, access.token),
            self.cookie(REFRESH_COOKIE, signed_in.refresh.token.clone()),
        ])
    }

    /// Signs out: the session is revoked for its tokens too (also when the
    /// refresh token was already gone), then forgotten; answers the cookies
    /// that go out with the response.
    pub async fn sign_out(&self, state: &AppState) -> Vec<Cookie<'static>> {
        if let Some(refresh) = &self.refresh_token {
            if let Err(err) = state.accounts.logout(refresh).await {
                tracing::info!(error = %err, "sign-out of a session already gone");
            }
        }
        let mut cookies = self.cookies();
        cookies.extend(self.end_session());
        cookies
    }

    /// Cookies that forget the session.
    pub fn end_session(&self) -> Vec<Cookie<'static>> {
        [SESSION_COOKIE, REFRESH_COOKIE]
            .into_iter()
            .map(|name| {
                let mut cookie = self.cookie(name, String::new());
                cookie.make_removal();
                cookie
            })
            .collect()
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|(id, _)| id.as_str())
    }

    /// Who views products: the customer, else this browser.
    pub fn viewer(&self) -> ViewerKey {
        match self.user_id() {
            Some(user) => ViewerKey::customer(user),
            None => ViewerKey::session(&self.id),
        }
    }

    /// What this guest brings to sign-in: its cart and what it viewed.
    pub fn guest(&self) -> Guest {
        Guest {
            cart: self.cart.clone(),
            views: Some(ViewerKey::session(&self.id)),
        }
    }

    /// The visitor's cart: a customer's current cart, else the guest cart of
    /// the cookie.
    pub async fn cart_id(&self, state: &AppState) -> Option<String> {
        match self.user_id() {
            Some(user) => state.accounts.current_cart(user).await.ok(),
            None => self.cart.clone(),
        }
    }

    /// Refuses a state-changing form unless it came from one of our pages: the
    /// browser must have shown its visitor cookie, the form must carry that
    /// visitor's token, and an `Origin` header, when sent, must be this host.
    pub fn check_form(&self, req: &HttpRequest, token: &str) -> Result<(), PageError> {
        if let Some(origin) = req.headers().get("origin").and_then(|o| o.to_str().ok()) {
            let own = crate::page::absolute(req, "");
            // Behind a TLS proxy the request looks like plain HTTP here; the
            // configured public address is this shop's origin too.
            if origin != own && Some(origin) != self.public_origin.as_deref() {
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

    /// The cookies to set with the response: the visitor id when new, the
    /// session when it was renewed.
    pub fn cookies(&self) -> Vec<Cookie<'static>> {
        let mut cookies = self.renewed.clone();
        if self.fresh {
            cookies.push(self.cookie(VISITOR_COOKIE, self.id.clone()));
        }
        cookies
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

/// Whether the API refused a credential for good (401), rather than failed.
fn is_refusal(err: &mercato_http::errors::ApiError) -> bool {
    actix_web::ResponseError::status_code(err) == actix_web::http::StatusCode::UNAUTHORIZED
}

fn csrf_token(key: &[u8; 32], visitor: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(visitor.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let web_state = req.app_data::<web::Data<WebState>>().ok_or(PageError::Internal)?;
            let state = req.app_data::<web::Data<AppState>>().ok_or(PageError::Internal)?;
            let mut visitor = Visitor::from_parts(&req, web_state);
            visitor.sign_in_from_cookies(&req, state).await;
            Ok(visitor)
        })
    }
}
