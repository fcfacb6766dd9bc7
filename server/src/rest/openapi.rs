//! The OpenAPI 3 document of the REST API, generated from the handlers'
//! annotations as the router registers them (see `crate::api_router`), and
//! served at `/api/openapi.json`.

use axum::{Extension, Json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Fixed parts of the document: title, tags and the ways to authenticate.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "crm-chat",
        description = "Chat and notifications for CRM staff. JSON in camelCase; errors are \
                       `{\"error\": \"<code>\", \"message\": \"…\"}` with the matching status. \
                       Real-time events travel over the WebSocket at /ws (see docs/protocol.md).",
    ),
    tags(
        (name = "auth", description = "Sessions and users"),
        (name = "chat", description = "Conversations, messages, receipts, reactions, files, search"),
        (name = "notifications", description = "A user's notification feed"),
        (name = "ingestion", description = "CRM systems create notifications with an organisation API key"),
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                app::api::session::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("crmk_…")
                    .description(Some(
                        "An organisation API key, created by an organisation admin.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The finished document, handed to [`serve`] as an extension.
#[derive(Clone)]
pub struct Document(pub std::sync::Arc<utoipa::openapi::OpenApi>);

/// This document: every REST route, its parameters, bodies and errors.
#[utoipa::path(
    get, path = "/api/openapi.json", tag = "auth",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")),
)]
pub async fn serve(Extension(document): Extension<Document>) -> Json<utoipa::openapi::OpenApi> {
    Json(document.0.as_ref().clone())
}
