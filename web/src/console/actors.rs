//! `/admin/actors`: the live entity actors by kind with their status,
//! mailbox, restarts (and why) and activation time, live; find one by id,
//! inspect its published state, restart it, or (with
//! `testing.fault_injection` on) make its next message panic. The page shows
//! a bounded slice: a shop has as many actors as carts, orders and SKUs.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::runtime::{now_millis, ActorDirectory, ActorInfo, RestartRecord, RECENT_RESTARTS};
use mercato_http::routes::actors::{directory, inject_fault, restart_actor};
use mercato_http::AppState;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use super::{live, Confirm, ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::CsrfForm;
use crate::page;
use crate::view::when;
use crate::WebState;

/// Rows the list shows at most.
const ROWS: usize = 100;
/// Restarts the list shows at most.
const RESTARTS: usize = 20;

/// One actor as a row.
pub struct ActorRow {
    pub kind: &'static str,
    pub id: String,
    pub href: String,
    pub status: &'static str,
    pub mailbox: u32,
    pub restarts: u32,
    /// `panic`, `storage`, `operator`, or empty.
    pub last_cause: &'static str,
    pub activated: String,
}

impl From<ActorInfo> for ActorRow {
    fn from(info: ActorInfo) -> Self {
        ActorRow {
            kind: info.kind,
            href: format!("/admin/actors/{}/{}", info.kind, encode(&info.id)),
            id: info.id,
            status: info.status.as_str(),
            mailbox: info.mailbox,
            restarts: info.restarts,
            last_cause: info.last_restart.map_or("", |cause| cause.as_str()),
            activated: when(info.activated_at),
        }
    }
}

/// One restart as a row.
pub struct RestartRow {
    pub kind: &'static str,
    pub id: String,
    pub cause: &'static str,
    pub reason: String,
    pub at: String,
}

/// A kind's count.
pub struct KindRow {
    pub kind: &'static str,
    pub live: i64,
    pub restarts_last_hour: usize,
    /// More restarts than remembered: the count is a floor.
    pub capped: bool,
}

/// What the list shows; the page and its live stream render it alike.
pub struct ActorsView {
    pub kinds: Vec<KindRow>,
    pub rows: Vec<ActorRow>,
    /// Live actors the filter matches (the rows are the first of them).
    pub matching: i64,
    pub restarts: Vec<RestartRow>,
}

/// `id` as one path segment: everything but unreserved characters escaped.
fn encode(id: &str) -> String {
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    utf8_percent_encode(id, SEGMENT).to_string()
}

/// The filters of the list.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ActorsQuery {
    /// Only this kind (empty: all).
    kind: String,
    /// Only this id.
    id: String,
}

fn restart_rows(records: impl Iterator<Item = (&'static str, RestartRecord)>) -> Vec<RestartRow> {
    records
        .map(|(kind, record)| RestartRow {
            kind,
            id: record.id.to_string(),
            cause: record.cause.as_str(),
            reason: record.reason,
            at: when(record.at),
        })
        .collect()
}

/// The list for `query`, or why the query names nothing.
fn view(directories: &[Arc<dyn ActorDirectory>], query: &ActorsQuery) -> Result<ActorsView, String> {
    let hour_ago = now_millis().saturating_sub(3_600_000);
    let chosen: Vec<&Arc<dyn ActorDirectory>> = directories
        .iter()
        .filter(|directory| query.kind.is_empty() || directory.kind() == query.kind)
        .collect();
    if chosen.is_empty() {
        return Err(format!("There is no actor kind '{}'.", query.kind));
    }
    let mut recent: Vec<(&'static str, RestartRecord)> = Vec::new();
    let mut kinds = Vec::new();
    for directory in directories {
        let records = directory.recent_restarts();
        kinds.push(KindRow {
            kind: directory.kind(),
            live: directory.live(),
            restarts_last_hour: records.iter().filter(|record| record.at >= hour_ago).count(),
            capped: records.len() == RECENT_RESTARTS && records.last().is_some_and(|r| r.at >= hour_ago),
        });
        if chosen.iter().any(|chosen| chosen.kind() == directory.kind()) {
            recent.extend(records.into_iter().map(|record| (directory.kind(), record)));
        }
    }
    recent.sort_by_key(|(_, record)| std::cmp::Reverse(record.at));
    let id = query.id.trim();
    let (rows, matching) = match id {
        "" => {
            let mut rows = Vec::new();
            for directory in &chosen {
                rows.extend(directory.list(ROWS - rows.len()).into_iter().map(ActorRow::from));
            }
            (rows, chosen.iter().map(|directory| directory.live()).sum())
        }
        id => {
            recent.retain(|(_, record)| &*record.id == id);
            let found: Vec<ActorRow> = chosen
                .iter()
                .filter_map(|directory| directory.inspect(id))
                .map(|(info, _)| ActorRow::from(info))
                .collect();
            let matching = found.len() as i64;
            (found, matching)
        }
    };
    recent.truncate(RESTARTS);
    Ok(ActorsView {
        kinds,
        rows,
        matching,
        restarts: restart_rows(recent.into_iter()),
    })
}

#[derive(Template)]
#[template(path = "console/actors.html")]
struct ActorsPage {
    layout: ConsoleLayout,
    kind: String,
    id: String,
    kinds: Vec<&'static str>,
    live_src: String,
    view: ActorsView,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "console/actors_region.html")]
struct ActorsRegion {
    view: ActorsView,
}

/// `GET /admin/actors?kind=&id=`.
#[get("/admin/actors")]
pub async fn list(staff: Staff, state: web::Data<AppState>, query: web::Query<ActorsQuery>) -> HttpResponse {
    let query = query.into_inner();
    let (view, problem, status) = match view(&state.directories, &query) {
        Ok(view) => (view, None, StatusCode::OK),
        Err(problem) => {
            let all = ActorsQuery::default();
            let view = view(&state.directories, &all).unwrap_or_else(|_| unreachable!("every kind is listed"));
            (view, Some(problem), StatusCode::NOT_FOUND)
        }
    };
    // A page for an unknown kind shows every kind, and follows them.
    let followed = match problem {
        Some(_) => Vec::new(),
        None => vec![("kind", query.kind.as_str()), ("id", query.id.as_str())],
    };
    let page = ActorsPage {
        layout: ConsoleLayout::of(&staff, "actors", "Actors").live(),
        live_src: format!(
            "/admin/actors/live?{}",
            serde_urlencoded::to_string(followed).unwrap_or_default()
        ),
        kinds: state.directories.iter().map(|directory| directory.kind()).collect(),
        kind: query.kind,
        id: query.id,
        view,
        problem,
    };
    page::html(status, &page, staff.visitor.cookies())
}

/// `GET /admin/actors/live?kind=&id=`: the list's region as server-sent events.
#[get("/admin/actors/live")]
pub async fn live_list(
    _: Staff,
    state: web::Data<AppState>,
    query: web::Query<ActorsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    // The kinds are fixed at start: a query valid now stays valid.
    view(&state.directories, &query).map_err(PageError::NotFound)?;
    Ok(live::stream(move || {
        view(&state.directories, &query)
            .ok()
            .and_then(|view| ActorsRegion { view }.render().ok())
            .unwrap_or_default()
    }))
}

/// Events an actor's page lists at most.
const RECENT_EVENTS: usize = 10;

/// An actor's latest events, as its page shows them.
pub enum LatestEvents {
    /// Newest first, from the newest log records (empty: none there).
    Listed(Vec<String>),
    /// The kind keeps them off the console (they may carry secrets).
    Hidden,
    /// The log could not be read now.
    Unreadable,
}

#[derive(Template)]
#[template(path = "console/actor.html")]
struct ActorPage {
    layout: ConsoleLayout,
    kind: String,
    id: String,
    live_src: String,
    view: ActorsView,
    state_view: String,
    events: LatestEvents,
    fault_injection: bool,
    done: Option<&'static str>,
}

/// `GET /admin/actors/{kind}/{id}`: one actor, live, and what may be done to it.
#[get("/admin/actors/{kind}/{id}")]
pub async fn show(
    staff: Staff,
    state: web::Data<AppState>,
    web_state: web::Data<WebState>,
    path: web::Path<(String, String)>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (kind, id) = path.into_inner();
    let found = directory(&state, &kind).map_err(PageError::from)?;
    let Some((_, state_view)) = found.inspect(&id) else {
        return Err(PageError::NotFound(format!(
            "{kind}/{id} is not live now: actors are activated by their first message and passivated when idle."
        ))
        .into());
    };
    let filter = ActorsQuery {
        kind: kind.clone(),
        id: id.clone(),
    };
    let (directory, entity) = (std::sync::Arc::clone(found), id.clone());
    let events = match web::block(move || directory.recent_events(&entity, RECENT_EVENTS)).await {
        Ok(Some(Ok(events))) => LatestEvents::Listed(events),
        Ok(None) => LatestEvents::Hidden,
        Ok(Some(Err(err))) => {
            tracing::warn!(error = %err, "an actor's events not readable");
            LatestEvents::Unreadable
        }
        Err(_) => LatestEvents::Unreadable,
    };
    let page = ActorPage {
        layout: ConsoleLayout::of(&staff, "actors", format!("{kind}/{id}")).live(),
        live_src: format!(
            "/admin/actors/live?{}",
            serde_urlencoded::to_string([("kind", &kind), ("id", &id)]).unwrap_or_default()
        ),
        view: view(&state.directories, &filter).map_err(PageError::NotFound)?,
        state_view,
        events,
        fault_injection: web_state.fault_injection,
        done: match query.done.as_str() {
            "restart" => Some("Restart requested: the actor reloads its state from storage after its back-off."),
            "fault" => Some("Fault armed: the next message to this actor panics, and it restarts."),
            _ => None,
        },
        kind,
        id,
    };
    Ok(page::html(StatusCode::OK, &page, staff.visitor.cookies()))
}

/// What may be done to an actor.
fn action(web_state: &WebState, name: &str) -> Result<(&'static str, &'static str), PageError> {
    match name {
        "restart" => Ok((
            "Restart now",
            "Its in-memory state is discarded and reloaded from storage after the back-off. \
             Messages it holds at that moment get a 503 and are retried by their callers; \
             nothing it acknowledged is lost.",
        )),
        "fault" if web_state.fault_injection => Ok((
            "Arm the fault",
            "The next message to this actor panics (fault injection is on, for testing). \
             The actor restarts from storage with a back-off; that message gets a 503.",
        )),
        _ => Err(PageError::NotFound("There is no such action.".into())),
    }
}

/// `GET /admin/actors/{kind}/{id}/{action}`: the confirmation step.
#[get("/admin/actors/{kind}/{id}/{action}")]
pub async fn confirm(
    staff: Staff,
    web_state: web::Data<WebState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (kind, id, name) = path.into_inner();
    let (button, consequences) = action(&web_state, &name)?;
    let back = format!("/admin/actors/{kind}/{}", encode(&id));
    let page = Confirm::new(&staff, "actors", format!("{button} for {kind}/{id}?"), consequences).form(
        format!("{back}/{name}"),
        button,
        back,
    );
    Ok(page.page(&staff, StatusCode::OK))
}

/// `POST /admin/actors/{kind}/{id}/{action}`.
#[post("/admin/actors/{kind}/{id}/{action}")]
pub async fn act(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    web_state: web::Data<WebState>,
    path: web::Path<(String, String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    let (kind, id, name) = path.into_inner();
    action(&web_state, &name)?;
    match name.as_str() {
        "restart" => restart_actor(&state, &kind, &id)?,
        _ => inject_fault(&state, &kind, &id)?,
    }
    tracing::info!(operator = %staff.email, kind, id, action = name, "console action on an actor");
    let location = format!("/admin/actors/{kind}/{}?done={name}", encode(&id));
    Ok(page::see_other(&location, staff.visitor.cookies()))
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn an_id_is_one_path_segment() {
        assert_eq!(encode("K-1_a.b~c"), "K-1_a.b~c");
        assert_eq!(encode("a b/ü?#"), "a%20b%2F%C3%BC%3F%23");
    }
}
