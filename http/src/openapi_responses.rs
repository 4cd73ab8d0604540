//! Completes the OpenAPI description with the answers any route can give
//! whatever its handler does — a body that is not JSON, a missing token, a
//! full mailbox — and gives every error answer the one error schema, so that
//! a client generated from `/openapi.json` knows every status it may get.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::Modify;

/// Adds the common error answers to every operation (see the module doc).
pub struct CommonResponses;

/// `(status, when, applies)`: applies to an operation given whether it takes
/// a body, needs a token, and has path parameters.
type Rule = (&'static str, &'static str, fn(bool, bool, bool) -> bool);

const RULES: [Rule; 10] = [
    (
        "400",
        "`malformed_json`: the body is not the JSON this route takes",
        |body, _, _| body,
    ),
    (
        "413",
        "`payload_too_large`: the body is larger than `server.body_limit_bytes`",
        |body, _, _| body,
    ),
    (
        "415",
        "`unsupported_media_type`: the body is not `application/json`",
        |body, _, _| body,
    ),
    (
        "401",
        "`unauthorized`, `token_expired`, `session_revoked`: no valid token",
        |_, token, _| token,
    ),
    (
        "403",
        "`forbidden`: the token's role does not allow this route, or the resource is someone else's",
        |_, token, _| token,
    ),
    ("404", "`not_found`: nothing at this path", |_, _, path| path),
    (
        "422",
        "`invalid_field`, `invalid_query`: a value is out of its range",
        |body, _, path| body || path,
    ),
    (
        "431",
        "`headers_too_large`: the request headers total more than 16 KiB",
        |_, _, _| true,
    ),
    (
        "500",
        "`internal`: a fault on the server's side (logged with the request id)",
        |_, _, _| true,
    ),
    (
        "503",
        "`actor_restarting`, `actor_overloaded`, `storage_unavailable`, `busy`, `not_ready`: retry after `Retry-After`",
        |_, _, _| true,
    ),
];

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

fn complete(operation: &mut Operation, path: &str) {
    let body = operation.request_body.is_some();
    let token = operation.security.is_some() || path.starts_with("/v1/me") || path.starts_with("/v1/admin");
    let has_path_params = path.contains('{');
    for (status, when, applies) in RULES {
        if applies(body, token, has_path_params) {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(error_response(when)));
        }
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if status.as_str() >= "400" && response.content.is_empty() {
                let described = match response.description.as_str() {
                    "" => RULES
                        .iter()
                        .find(|(code, _, _)| code == status)
                        .map_or("see the error's `code`", |(_, when, _)| when),
                    described => described,
                };
                *response = error_response(described);
            }
        }
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let error = ObjectBuilder::new()
            .property(
                "error",
                ObjectBuilder::new()
                    .property("code", ObjectBuilder::new().schema_type(Type::String))
                    .property("message", ObjectBuilder::new().schema_type(Type::String))
                    .required("code")
                    .required("message")
                    .description(Some("`code` says what went wrong; some errors add fields (`field`, `lines`, `retry_after_secs`, ...)")),
            )
            .required("error");
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert("Error".to_string(), RefOr::T(error.into()));
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                complete(operation, path);
            }
        }
    }
}
