//! `/admin/customers`: every account (a read model of the log), searched by
//! e-mail or name and filtered by role; one account with its addresses and
//! orders. Admins (only) change a role or delete an account, through the
//! API's front doors; deleting asks for confirmation first.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::account::customers::{CustomerQuery, CustomerSummary};
use mercato_actors::account::Role;
use mercato_http::errors::ApiError;
use mercato_http::routes::users::{change_role, delete_account};
use mercato_http::AppState;
use serde::Deserialize;

use super::orders::OrderRow;
use super::paging::{page_number, Pager};
use super::{Confirm, ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::CsrfForm;
use crate::page;
use crate::view::when;

const PER_PAGE: usize = 50;
/// An account's orders its page lists (the rest: the orders list by e-mail).
const ORDERS_SHOWN: usize = 20;

/// One account as a row.
pub struct CustomerRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub since: String,
    pub orders: u32,
}

impl From<CustomerSummary> for CustomerRow {
    fn from(account: CustomerSummary) -> Self {
        CustomerRow {
            role: account.role.name(),
            since: when(account.created_at),
            name: account.name.unwrap_or_default(),
            id: account.id,
            email: account.email,
            orders: account.orders,
        }
    }
}

#[derive(Template)]
#[template(path = "console/customers.html")]
struct CustomersPage {
    layout: ConsoleLayout,
    q: String,
    role: String,
    rows: Vec<CustomerRow>,
    matching: usize,
    pager: Pager,
    problem: Option<String>,
}

/// The list's query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    role: String,
    page: String,
}

fn list_link(query: &ListQuery, page: usize) -> String {
    let pairs = [
        ("q", query.q.as_str()),
        ("role", query.role.as_str()),
        ("page", &page.to_string()),
    ];
    format!(
        "/admin/customers?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// `GET /admin/customers?q=&role=&page=`.
#[get("/admin/customers")]
pub async fn list(staff: Staff, state: web::Data<AppState>, query: web::Query<ListQuery>) -> HttpResponse {
    let page = page_number(&query.page);
    let model = state.accounts.customers();
    if let Err(err) = model.catch_up().await {
        tracing::warn!(error = %err, "customer list not caught up; it may lag");
    }
    let role = Role::from_name(&query.role);
    let problem = (!query.role.is_empty() && role.is_none())
        .then(|| format!("There is no role '{}'; showing every role.", query.role));
    let (found, matching) = model.read().page(&CustomerQuery {
        search: query.q.clone(),
        role,
        page: page - 1,
        per_page: PER_PAGE,
    });
    let pager = Pager::new(page, matching, PER_PAGE, usize::MAX, |n| list_link(&query, n));
    let view = CustomersPage {
        layout: ConsoleLayout::of(&staff, "customers", "Customers"),
        rows: found.into_iter().map(CustomerRow::from).collect(),
        matching,
        pager,
        q: query.q.clone(),
        role: role.map(Role::name).unwrap_or_default().to_string(),
        problem,
    };
    let status = match view.problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    page::html(status, &view, staff.visitor.cookies())
}

#[derive(Template)]
#[template(path = "console/customer.html")]
struct CustomerPage {
    layout: ConsoleLayout,
    id: String,
    email: String,
    name: String,
    phone: String,
    role: &'static str,
    since: String,
    addresses: Vec<Vec<String>>,
    orders: Vec<OrderRow>,
    /// Whether the viewer may change the role or delete (an admin, not themself).
    may_manage: bool,
    done: Option<&'static str>,
}

/// `GET /admin/customers/{id}`.
#[get("/admin/customers/{id}")]
pub async fn show(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    if !mercato_actors::account::tokens::is_random_id(&id) {
        return Err(PageError::NotFound("There is no account with this id.".into()).into());
    }
    let profile = state.accounts.profile(&id).await.map_err(ApiError::from)?;
    let book = state.orders.book().read();
    let orders = profile
        .orders
        .iter()
        .rev()
        .take(ORDERS_SHOWN)
        .filter_map(|order| book.get(order))
        .map(|order| OrderRow::from(&order))
        .collect();
    drop(book);
    let view = CustomerPage {
        layout: ConsoleLayout::of(&staff, "customers", profile.email.clone()),
        may_manage: staff.role == Role::Admin && staff.user_id != id,
        email: profile.email,
        name: profile.name.unwrap_or_default(),
        phone: profile.phone.unwrap_or_default(),
        role: profile.role.name(),
        since: when(profile.created_at),
        addresses: profile
            .addresses
            .iter()
            .map(|saved| crate::view::address_lines(&saved.address.clone().into()))
            .collect(),
        orders,
        done: match query.done.as_str() {
            "role" => Some("Role changed; it applies to the account's next request."),
            _ => None,
        },
        id,
    };
    Ok(page::html(StatusCode::OK, &view, staff.visitor.cookies()))
}

/// Refuses a change unless an admin asks for it about another account.
fn may_manage(staff: &Staff, id: &str) -> Result<(), PageError> {
    match (staff.role == Role::Admin, staff.user_id == id) {
        (false, _) => Err(PageError::Forbidden(
            "Only admins change roles or delete accounts.".into(),
        )),
        (true, true) => Err(PageError::Forbidden(
            "You cannot change or delete the account you are signed in with.".into(),
        )),
        (true, false) => Ok(()),
    }
}

/// The role form as posted.
#[derive(Deserialize)]
pub struct RoleForm {
    csrf: String,
    role: String,
}

/// `POST /admin/customers/{id}/role`.
#[post("/admin/customers/{id}/role")]
pub async fn set_role(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    may_manage(&staff, &id)?;
    let role = Role::from_name(&form.role).ok_or_else(|| PageError::BadRequest("There is no such role.".into()))?;
    change_role(&state, &id, role).await?;
    tracing::info!(admin = %staff.email, user = %id, role = form.role, "console changed a role");
    Ok(page::see_other(
        &format!("/admin/customers/{id}?done=role"),
        staff.visitor.cookies(),
    ))
}

/// The role asked for.
#[derive(Deserialize)]
pub struct RoleQuery {
    role: String,
}

/// `GET /admin/customers/{id}/role?role=`: the confirmation step.
#[get("/admin/customers/{id}/role")]
pub async fn confirm_role(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<RoleQuery>,
) -> Result<HttpResponse, ConsoleError> {
    may_manage(&staff, &id)?;
    let role = Role::from_name(&query.role).ok_or_else(|| PageError::BadRequest("There is no such role.".into()))?;
    let profile = state.accounts.profile(&id).await.map_err(ApiError::from)?;
    let consequences = match role {
        Role::Admin => "An admin may do everything: manage coupons, change roles and delete accounts.",
        Role::Operator => "An operator runs orders, the catalog, stock and actors in this console.",
        Role::Customer => "A customer has no console and no staff API routes.",
    };
    let back = format!("/admin/customers/{id}");
    let heading = format!(
        "Make {} {} {}?",
        profile.email,
        if role == Role::Customer { "a" } else { "an" },
        role.name()
    );
    let view = Confirm::new(
        &staff,
        "customers",
        heading,
        format!("{consequences} It applies to their next request."),
    )
    .form(format!("{back}/role"), "Change the role", back)
    .hidden("role", role.name().to_string());
    Ok(view.page(&staff, StatusCode::OK))
}

/// `GET /admin/customers/{id}/delete`: the confirmation step.
#[get("/admin/customers/{id}/delete")]
pub async fn confirm_delete(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    may_manage(&staff, &id)?;
    let profile = state.accounts.profile(&id).await.map_err(ApiError::from)?;
    let back = format!("/admin/customers/{id}");
    let consequences = format!(
        "Its sessions end at once and the e-mail address is free again. Its {} orders stay, as a guest's. This cannot be undone.",
        profile.orders.len()
    );
    let view = Confirm::new(
        &staff,
        "customers",
        format!("Delete the account {}?", profile.email),
        consequences,
    )
    .form(format!("{back}/delete"), "Delete the account", back);
    Ok(view.page(&staff, StatusCode::OK))
}

/// `POST /admin/customers/{id}/delete`.
#[post("/admin/customers/{id}/delete")]
pub async fn delete(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    may_manage(&staff, &id)?;
    delete_account(&state, &id).await?;
    tracing::info!(admin = %staff.email, user = %id, "console deleted an account");
    if let Err(err) = state.accounts.customers().catch_up().await {
        tracing::warn!(error = %err, "customer list not caught up after a deletion");
    }
    Ok(page::see_other("/admin/customers", staff.visitor.cookies()))
}
