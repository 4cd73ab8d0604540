//! `/admin/orders`: every order, newest first, from the order book (a read
//! model of the event log): filter by status, search by order id or e-mail,
//! a page at a time.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use askama::Template;
use mercato_actors::money::format_money;
use mercato_actors::order::book::{OrderQuery, OrderSummary, STATUSES};
use mercato_http::AppState;
use serde::Deserialize;

use super::paging::{page_number, Pager};
use super::{ConsoleLayout, Staff};
use crate::page;
use crate::view::when;

/// Orders a page shows.
const PER_PAGE: usize = 50;

/// One order as a row.
pub struct OrderRow {
    pub id: String,
    pub short_id: String,
    pub placed: String,
    pub email: String,
    pub status: &'static str,
    pub status_label: String,
    pub units: u64,
    pub total: String,
}

impl From<&OrderSummary> for OrderRow {
    fn from(order: &OrderSummary) -> Self {
        OrderRow {
            short_id: order.id.chars().take(8).collect(),
            id: order.id.clone(),
            placed: when(order.placed_at),
            email: order.email.clone(),
            status: order.status.name(),
            status_label: order.status.name().replace('_', " "),
            units: order.units,
            total: format_money(order.total, &order.currency),
        }
    }
}

/// A status in the filter, with how many orders are in it.
pub struct StatusOption {
    pub name: &'static str,
    pub label: String,
    pub count: usize,
}

/// The list's query.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    q: String,
    /// 1-based.
    page: String,
}

#[derive(Template)]
#[template(path = "console/orders.html")]
struct OrdersPage {
    layout: ConsoleLayout,
    statuses: Vec<StatusOption>,
    status: String,
    q: String,
    rows: Vec<OrderRow>,
    matching: usize,
    total: usize,
    pager: Pager,
    problem: Option<String>,
}

fn page_link(query: &ListQuery, page: usize) -> String {
    let query = serde_urlencoded::to_string([
        ("status", query.status.as_str()),
        ("q", query.q.as_str()),
        ("page", &page.to_string()),
    ])
    .unwrap_or_default();
    format!("/admin/orders?{query}")
}

/// `GET /admin/orders?status=&q=&page=`.
#[get("/admin/orders")]
pub async fn list(staff: Staff, state: web::Data<AppState>, query: web::Query<ListQuery>) -> HttpResponse {
    let query = query.into_inner();
    let status = STATUSES.into_iter().find(|status| status.name() == query.status);
    let problem = (!query.status.is_empty() && status.is_none())
        .then(|| format!("There is no order status '{}'; showing every status.", query.status));
    let page = page_number(&query.page);
    if let Err(err) = state.orders.book().catch_up().await {
        tracing::warn!(error = %err, "order book not caught up; the list may lag");
    }
    let book = state.orders.book().read();
    let found = book.page(&OrderQuery {
        status,
        search: query.q.clone(),
        page: page - 1,
        per_page: PER_PAGE,
    });
    let pager = Pager::new(page, found.matching, PER_PAGE, usize::MAX, |n| page_link(&query, n));
    let view = OrdersPage {
        layout: ConsoleLayout::of(&staff, "orders", "Orders"),
        statuses: STATUSES
            .iter()
            .map(|status| StatusOption {
                name: status.name(),
                label: status.name().replace('_', " "),
                count: book.count(*status),
            })
            .collect(),
        total: book.len(),
        rows: found.orders.iter().map(OrderRow::from).collect(),
        matching: found.matching,
        pager,
        status: status.map(|status| status.name().to_string()).unwrap_or_default(),
        q: query.q.clone(),
        problem,
    };
    drop(book);
    let code = match view.problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    page::html(code, &view, staff.visitor.cookies())
}
