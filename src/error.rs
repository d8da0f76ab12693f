//! The HTTP boundary's one error type, mapped once to a JSON response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Every failure a client can see. The body is `{"code": ..., "description": ...}`
/// (the shape OGC API exceptions use), and `description` says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("layer {0:?} does not exist")]
    UnknownLayer(String),
    #[error("feature {feature:?} does not exist in layer {layer:?}")]
    UnknownFeature { layer: String, feature: String },
    #[error("{0}")]
    InvalidTile(#[from] crate::tiles::TileIdError),
    #[error("invalid value for parameter {param:?}: {reason}")]
    InvalidParameter { param: String, reason: String },
    #[error("unknown query parameter {0:?}; {1}")]
    UnknownParameter(String, String),
    #[error("no resource at {0}")]
    NoRoute(String),
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(param: &str, reason: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter {
            param: param.to_string(),
            reason: reason.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::UnknownLayer(_) | ApiError::UnknownFeature { .. } | ApiError::NoRoute(_) => {
                (StatusCode::NOT_FOUND, "NotFound")
            }
            ApiError::InvalidTile(_) => (StatusCode::BAD_REQUEST, "InvalidTile"),
            ApiError::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "InvalidParameterValue"),
            ApiError::UnknownParameter(..) => (StatusCode::BAD_REQUEST, "UnknownParameter"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({ "code": code, "description": self.to_string() });
        (status, axum::Json(body)).into_response()
    }
}
