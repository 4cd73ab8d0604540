//! `/admin/categories`: the category tree; create, rename, move and delete,
//! through the API's front doors, with its refusals (a taken name or slug, a
//! move under itself, a category still in use) in words.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use mercato_actors::catalog::Category;
use mercato_http::errors::ApiError;
use mercato_http::routes::categories::{change_category, create_category, delete_category};
use mercato_http::AppState;
use serde::Deserialize;

use super::{Confirm, ConsoleError, ConsoleLayout, DoneQuery, Staff};
use crate::error::PageError;
use crate::form::{is_client_error, refusal, CsrfForm, Errors};
use crate::page;

/// One category in the tree, indented by its depth.
pub struct TreeRow {
    pub id: u64,
    pub name: String,
    pub slug: String,
    pub depth: usize,
}

/// The tree, depth first, children by name.
fn tree(categories: &[Category]) -> Vec<TreeRow> {
    fn visit(categories: &[Category], parent: Option<u64>, depth: usize, out: &mut Vec<TreeRow>) {
        let mut children: Vec<&Category> = categories.iter().filter(|c| c.parent_id == parent).collect();
        children.sort_by_key(|category| category.name.to_lowercase());
        for child in children {
            out.push(TreeRow {
                id: child.id,
                name: child.name.clone(),
                slug: child.slug.clone(),
                depth,
            });
            visit(categories, Some(child.id), depth + 1, out);
        }
    }
    let mut out = Vec::with_capacity(categories.len());
    visit(categories, None, 0, &mut out);
    out
}

/// The category form as posted (and as shown).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CategoryForm {
    csrf: String,
    name: String,
    slug: String,
    /// Empty: a root.
    parent_id: String,
}

#[derive(Template)]
#[template(path = "console/categories.html")]
struct CategoriesPage {
    layout: ConsoleLayout,
    rows: Vec<TreeRow>,
    /// The category being edited (`None`: the create form).
    editing: Option<u64>,
    form: CategoryForm,
    errors: Errors,
    done: Option<&'static str>,
}

/// The API's refusal on the field it concerns.
fn refused(err: &ApiError) -> Errors {
    refusal(
        err,
        "name",
        &[
            ("category_name_taken", "name", "Another category has this name."),
            ("slug_taken", "slug", "Another category has this address (slug)."),
            (
                "category_cycle",
                "parent_id",
                "A category cannot move under itself or one of its own sub-categories.",
            ),
            (
                "category_not_found",
                "parent_id",
                "That parent category does not exist (any more).",
            ),
        ],
    )
}

fn render(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    editing: Option<u64>,
    form: CategoryForm,
    errors: Errors,
    done: Option<&'static str>,
) -> HttpResponse {
    let view = CategoriesPage {
        layout: ConsoleLayout::of(staff, "categories", "Categories"),
        rows: tree(&state.catalog.category_table().categories),
        editing,
        form,
        errors,
        done,
    };
    page::html(status, &view, staff.visitor.cookies())
}

fn done_words(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Category created."),
        "saved" => Some("Category saved."),
        "deleted" => Some("Category deleted."),
        _ => None,
    }
}

/// `GET /admin/categories`: the tree and the create form.
#[get("/admin/categories")]
pub async fn list(staff: Staff, state: web::Data<AppState>, query: web::Query<DoneQuery>) -> HttpResponse {
    render(
        &staff,
        &state,
        StatusCode::OK,
        None,
        CategoryForm::default(),
        Errors::default(),
        done_words(&query.done),
    )
}

/// `GET /admin/categories/{id}`: the tree and the edit form.
#[get("/admin/categories/{id}")]
pub async fn edit(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (category, _) = state.catalog.category(*id).await.map_err(ApiError::from)?;
    let form = CategoryForm {
        csrf: String::new(),
        name: category.name,
        slug: category.slug,
        parent_id: category.parent_id.map(|id| id.to_string()).unwrap_or_default(),
    };
    Ok(render(
        &staff,
        &state,
        StatusCode::OK,
        Some(*id),
        form,
        Errors::default(),
        done_words(&query.done),
    ))
}

fn parent_of(form: &CategoryForm) -> Result<Option<u64>, PageError> {
    match form.parent_id.trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(Some)
            .map_err(|_| PageError::BadRequest("That is not a category.".into())),
    }
}

/// `POST /admin/categories`: creates one.
#[post("/admin/categories")]
pub async fn create(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    staff.check_form(&req, &form.csrf)?;
    let parent = parent_of(&form)?;
    match create_category(&state, &form.name, form.slug.trim().to_string(), parent).await {
        Ok((category, _)) => {
            tracing::info!(operator = %staff.email, category = category.id, "console created a category");
            Ok(page::see_other(
                "/admin/categories?done=created",
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => Ok(render(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            form,
            refused(&err),
            None,
        )),
        Err(err) => Err(err.into()),
    }
}

/// `POST /admin/categories/{id}`: renames or moves one.
#[post("/admin/categories/{id}")]
pub async fn update(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    staff.check_form(&req, &form.csrf)?;
    let parent = parent_of(&form)?;
    let changed = change_category(
        &state,
        id,
        Some(form.name.clone()),
        Some(form.slug.trim().to_string()),
        Some(parent),
    )
    .await;
    match changed {
        Ok(_) => {
            tracing::info!(operator = %staff.email, category = id, "console changed a category");
            Ok(page::see_other(
                &format!("/admin/categories/{id}?done=saved"),
                staff.visitor.cookies(),
            ))
        }
        Err(err) if is_client_error(&err) => Ok(render(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            form,
            refused(&err),
            None,
        )),
        Err(err) => Err(err.into()),
    }
}

fn delete_confirmation(staff: &Staff, category: &Category, error: Option<String>) -> Confirm {
    let back = format!("/admin/categories/{}", category.id);
    let consequences = "Only an empty category can go: one without sub-categories and products.";
    Confirm::new(
        staff,
        "categories",
        format!("Delete the category {}?", category.name),
        consequences,
    )
    .form(format!("{back}/delete"), "Delete", back)
    .error(error)
}

/// `GET /admin/categories/{id}/delete`: the confirmation step.
#[get("/admin/categories/{id}/delete")]
pub async fn confirm_delete(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
) -> Result<HttpResponse, ConsoleError> {
    let (category, _) = state.catalog.category(*id).await.map_err(ApiError::from)?;
    let view = delete_confirmation(&staff, &category, None);
    Ok(page::html(StatusCode::OK, &view, staff.visitor.cookies()))
}

/// `POST /admin/categories/{id}/delete`.
#[post("/admin/categories/{id}/delete")]
pub async fn delete(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<u64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_form(&req, &form.csrf)?;
    let (category, _) = state.catalog.category(*id).await.map_err(ApiError::from)?;
    match delete_category(&state, *id).await {
        Ok(()) => {
            tracing::info!(operator = %staff.email, category = *id, "console deleted a category");
            Ok(page::see_other(
                "/admin/categories?done=deleted",
                staff.visitor.cookies(),
            ))
        }
        Err(err) if err.code() == "category_not_empty" => {
            let words = "It still has sub-categories or products: move or delete them first.".to_string();
            let view = delete_confirmation(&staff, &category, Some(words));
            Ok(page::html(StatusCode::CONFLICT, &view, staff.visitor.cookies()))
        }
        Err(err) => Err(err.into()),
    }
}
