//! Extractors whose rejections use the API's error shape
//! (`{"error": "bad_request", "message": …}`), not axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};

use app::api::{AppError, ErrorCode};

/// A JSON body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiRejection))]
pub struct ApiJson<T>(pub T);

/// Path parameters, such as typed ids.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiRejection))]
pub struct ApiPath<T>(pub T);

/// Query parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiRejection))]
pub struct ApiQuery<T>(pub T);

pub struct ApiRejection(AppError);

impl From<JsonRejection> for ApiRejection {
    fn from(rejection: JsonRejection) -> Self {
        ApiRejection(AppError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

impl From<PathRejection> for ApiRejection {
    fn from(rejection: PathRejection) -> Self {
        ApiRejection(AppError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiRejection {
    fn from(rejection: QueryRejection) -> Self {
        ApiRejection(AppError::new(ErrorCode::BadRequest, rejection.body_text()))
    }
}

impl IntoResponse for ApiRejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}
