//! The signed-in user's own account: profile and address book.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use mercato_actors::account::address::{Address, AddressPatch};
use mercato_actors::account::{Profile, Role, SavedAddress};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::errors::ApiError;
use crate::format::rfc3339;
use crate::patch::present;
use crate::AppState;

/// A user account.
#[derive(Serialize, ToSchema)]
pub struct UserBody {
    /// The user id.
    pub id: String,
    email: String,
    #[schema(value_type = String, example = "customer")]
    role: Role,
    name: Option<String>,
    phone: Option<String>,
    created_at: String,
    /// The address book, oldest first.
    addresses: Vec<AddressBody>,
}

impl UserBody {
    /// The body of user `id`.
    pub fn new(id: String, profile: Profile) -> Self {
        UserBody {
            id,
            email: profile.email,
            role: profile.role,
            name: profile.name,
            phone: profile.phone,
            created_at: rfc3339(profile.created_at),
            addresses: profile.addresses.into_iter().map(AddressBody::from).collect(),
        }
    }
}

/// A postal address as the API reads and writes it (the address book, checkout).
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressFields {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

impl From<AddressFields> for Address {
    fn from(fields: AddressFields) -> Self {
        let AddressFields {
            name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            phone,
        } = fields;
        Address {
            name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            phone,
        }
    }
}

impl From<Address> for AddressFields {
    fn from(address: Address) -> Self {
        let Address {
            name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            phone,
        } = address;
        AddressFields {
            name,
            line1,
            line2,
            city,
            region,
            postal_code,
            country,
            phone,
        }
    }
}

/// An address in the book.
#[derive(Serialize, ToSchema)]
pub struct AddressBody {
    id: u32,
    /// Offered first at checkout; exactly one address is the default.
    is_default: bool,
    #[serde(flatten)]
    address: AddressFields,
}

impl From<SavedAddress> for AddressBody {
    fn from(saved: SavedAddress) -> Self {
        AddressBody {
            id: saved.id,
            is_default: saved.is_default,
            address: saved.address.into(),
        }
    }
}

/// `PATCH /v1/me`: absent fields stay, `null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    /// A new e-mail; needs `current_password`.
    email: Option<String>,
    /// Confirms an e-mail change.
    current_password: Option<String>,
}

/// `POST /v1/me/addresses`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {
    name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    country: String,
    phone: Option<String>,
    /// Make it the default (the first address always is).
    #[serde(default)]
    is_default: bool,
}

/// `PATCH /v1/me/addresses/{id}`: absent fields stay, `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressChange {
    name: Option<String>,
    line1: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    line2: Option<Option<String>>,
    city: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    region: Option<Option<String>>,
    postal_code: Option<String>,
    country: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    /// `true` makes it the default.
    #[serde(default)]
    is_default: bool,
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("access_token" = [])),
    responses((status = 200, body = UserBody), (status = 401), (status = 403, description = "the service token has no account")))]
#[get("")]
pub async fn get_me(user: CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let profile = state.accounts.profile(&user.id).await?;
    Ok(HttpResponse::Ok().json(UserBody::new(user.id, profile)))
}

/// Changes name, phone or (with the current password) e-mail.
#[utoipa::path(patch, path = "/v1/me", tag = "accounts", security(("access_token" = [])), request_body = ProfileChange,
    responses((status = 200, body = UserBody), (status = 401), (status = 403, description = "`wrong_password`"),
        (status = 409, description = "`email_taken`"), (status = 422, description = "`invalid_field`")))]
#[patch("")]
pub async fn update_me(
    user: CurrentUser,
    state: web::Data<AppState>,
    body: web::Json<ProfileChange>,
) -> Result<HttpResponse, ApiError> {
    let ProfileChange {
        name,
        phone,
        email,
        current_password,
    } = body.into_inner();
    if let Some(email) = email {
        let password = current_password
            .ok_or_else(|| ApiError::invalid_field("current_password", "changing the e-mail needs current_password"))?;
        state.accounts.change_email(&user.id, &email, password).await?;
    }
    let profile = match (name, phone) {
        (None, None) => state.accounts.profile(&user.id).await?,
        (name, phone) => state.accounts.update_profile(&user.id, name, phone).await?,
    };
    Ok(HttpResponse::Ok().json(UserBody::new(user.id, profile)))
}

/// The caller's address book.
#[utoipa::path(get, path = "/v1/me/addresses", tag = "accounts", security(("access_token" = [])),
    responses((status = 200, body = [AddressBody]), (status = 401)))]
#[get("/addresses")]
pub async fn list_addresses(user: CurrentUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let profile = state.accounts.profile(&user.id).await?;
    let addresses: Vec<AddressBody> = profile.addresses.into_iter().map(AddressBody::from).collect();
    Ok(HttpResponse::Ok().json(addresses))
}

/// Adds an address.
#[utoipa::path(post, path = "/v1/me/addresses", tag = "accounts", security(("access_token" = [])), request_body = NewAddress,
    responses((status = 201, body = AddressBody), (status = 401),
        (status = 422, description = "`invalid_field` (e.g. country not ISO 3166-1 alpha-2), `too_many_addresses`")))]
#[post("/addresses")]
pub async fn add_address(
    user: CurrentUser,
    state: web::Data<AppState>,
    body: web::Json<NewAddress>,
) -> Result<HttpResponse, ApiError> {
    let NewAddress {
        name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
        is_default,
    } = body.into_inner();
    let address = Address {
        name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
    };
    let profile = state.accounts.add_address(&user.id, address, is_default).await?;
    let added = profile
        .addresses
        .into_iter()
        .max_by_key(|saved| saved.id)
        .expect("the address just added is in the book");
    Ok(HttpResponse::Created().json(AddressBody::from(added)))
}

/// Changes an address.
#[utoipa::path(patch, path = "/v1/me/addresses/{id}", tag = "accounts", security(("access_token" = [])),
    params(("id" = u32, Path)), request_body = AddressChange,
    responses((status = 200, body = AddressBody), (status = 401), (status = 404), (status = 422, description = "`invalid_field`")))]
#[patch("/addresses/{id}")]
pub async fn update_address(
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<u32>,
    body: web::Json<AddressChange>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let AddressChange {
        name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
        is_default,
    } = body.into_inner();
    let patch = AddressPatch {
        name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
    };
    let profile = state.accounts.update_address(&user.id, id, patch, is_default).await?;
    let saved = profile
        .addresses
        .into_iter()
        .find(|saved| saved.id == id)
        .expect("the address just changed is in the book");
    Ok(HttpResponse::Ok().json(AddressBody::from(saved)))
}

/// Removes an address; if it was the default, the oldest other one becomes it.
#[utoipa::path(delete, path = "/v1/me/addresses/{id}", tag = "accounts", security(("access_token" = [])),
    params(("id" = u32, Path)), responses((status = 204), (status = 401), (status = 404)))]
#[delete("/addresses/{id}")]
pub async fn remove_address(
    user: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<u32>,
) -> Result<HttpResponse, ApiError> {
    state.accounts.remove_address(&user.id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
