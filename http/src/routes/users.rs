//! Admin routes over user accounts: read one, change its role, delete it.

use actix_web::{delete, get, patch, web, HttpResponse};
use mercato_actors::account::tokens::is_random_id;
use mercato_actors::account::{Profile, Role};
use serde::Deserialize;
use utoipa::ToSchema;

use super::me::UserBody;
use crate::auth::Admin;
use crate::errors::ApiError;
use crate::AppState;

/// `PATCH /v1/admin/users/{id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `customer`, `operator` or `admin`.
    #[schema(value_type = String, example = "operator")]
    role: Role,
}

fn user_id(id: &str) -> Result<String, ApiError> {
    let id = id.to_string();
    if !is_random_id(&id) {
        return Err(ApiError::not_found(format!("no user {id}")));
    }
    Ok(id)
}

/// One user account.
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "accounts", security(("operator_token" = [])),
    params(("id" = String, Path)), responses((status = 200, body = UserBody), (status = 401), (status = 403), (status = 404)))]
#[get("/users/{id}")]
pub async fn get_user(_: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = user_id(&id)?;
    let profile = state.accounts.profile(&id).await?;
    Ok(HttpResponse::Ok().json(UserBody::new(id, profile)))
}

/// Changes a user's role; it applies to the user's next request.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "accounts", security(("operator_token" = [])),
    params(("id" = String, Path)), request_body = RoleChange,
    responses((status = 200, body = UserBody), (status = 401), (status = 403), (status = 404), (status = 422)))]
#[patch("/users/{id}")]
pub async fn set_role(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<RoleChange>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let profile = change_role(&state, &id, body.role).await?;
    Ok(HttpResponse::Ok().json(UserBody::new(id, profile)))
}

/// Deletes a user: its tokens stop working at once and its e-mail is free again.
#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "accounts", security(("operator_token" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 401), (status = 403), (status = 404)))]
#[delete("/users/{id}")]
pub async fn delete_user(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    delete_account(&state, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives user `id` `role`; it applies to the user's next request. The front
/// door of the route and the console.
pub async fn change_role(state: &AppState, id: &str, role: Role) -> Result<Profile, ApiError> {
    let id = user_id(id)?;
    Ok(state.accounts.set_role(&id, role).await?)
}

/// Deletes user `id`: the front door of the route and the console.
pub async fn delete_account(state: &AppState, id: &str) -> Result<(), ApiError> {
    Ok(state.accounts.delete(&user_id(id)?).await?)
}
