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
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the body is larger than the {0}-byte upload limit")]
    PayloadTooLarge(u64),
    #[error(
        "decoded, the layer would need more than {} MiB of memory, the limit for this file; many properties that most features leave empty?",
        .0 >> 20
    )]
    LayerTooLarge(u64),
    #[error(
        "unsupported content type {0:?}: send application/flatgeobuf, application/geo+json, text/csv, application/zip (a zipped Shapefile) or application/geopackage+sqlite3"
    )]
    UnsupportedMediaType(String),
    #[error("the file cannot be read: {0}")]
    BadUpload(String),
    #[error(
        "the file breaks the data protocol for kind {:?}: {} error(s), {} warning(s); see report",
        .0.kind, .0.errors, .0.warnings
    )]
    ProtocolViolation(Box<crate::protocol::Report>),
    #[error("the requested range is outside the {0}-byte file")]
    RangeNotSatisfiable(u64),
    #[error("the upload did not arrive within {0} s; nothing was changed")]
    UploadTimeout(u64),
    #[error(
        "reading, checking and indexing the file took longer than the {0} s an upload may take; nothing was changed"
    )]
    DeadlineExceeded(u64),
    #[error("{0}")]
    Conflict(String),
    #[error("quota exceeded: {0}")]
    QuotaLayers(String),
    #[error("quota exceeded: {0}")]
    QuotaBytes(String),
    #[error("the server's disk is full; nothing was changed")]
    InsufficientStorage,
    #[error("the server is answering as many requests as it can; retry in a moment")]
    Overloaded,
    #[error("the server is starting and still loading its layers; retry in a few seconds")]
    Starting,
    #[error(
        "the request took longer than {0} s and was stopped; narrow it (bbox, limit, filters) or retry"
    )]
    Timeout(u64),
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
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
            ApiError::LayerTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "LayerTooLarge"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType")
            }
            ApiError::BadUpload(_) => (StatusCode::BAD_REQUEST, "InvalidFile"),
            ApiError::ProtocolViolation(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "ProtocolViolation")
            }
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "Conflict"),
            ApiError::QuotaLayers(_) => (StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded"),
            ApiError::QuotaBytes(_) => (StatusCode::INSUFFICIENT_STORAGE, "QuotaExceeded"),
            ApiError::RangeNotSatisfiable(_) => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "RangeNotSatisfiable")
            }
            ApiError::UploadTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "UploadTimeout"),
            ApiError::DeadlineExceeded(_) => (StatusCode::UNPROCESSABLE_ENTITY, "DeadlineExceeded"),
            ApiError::InsufficientStorage => {
                (StatusCode::INSUFFICIENT_STORAGE, "InsufficientStorage")
            }
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "Overloaded"),
            ApiError::Starting => (StatusCode::SERVICE_UNAVAILABLE, "Starting"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "Timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        }
    }
}

/// Most characters of a client's own input an error echoes back: enough to recognise it,
/// never a 20,000-character id repeated into the response and the log.
pub const MAX_ECHO: usize = 120;

/// The longest description an error gives, in characters (a report, when there is one, is
/// bounded on its own: see [`crate::protocol::MAX_REPORT_BYTES`]).
pub const MAX_DESCRIPTION: usize = 2000;

impl ApiError {
    /// The same error with the client input it echoes cut to [`MAX_ECHO`] characters.
    fn with_bounded_echo(self) -> ApiError {
        let cut = |s: String| crate::feature::abbreviate(&s, MAX_ECHO);
        match self {
            ApiError::UnknownLayer(id) => ApiError::UnknownLayer(cut(id)),
            ApiError::UnknownFeature { layer, feature } => ApiError::UnknownFeature {
                layer: cut(layer),
                feature: cut(feature),
            },
            ApiError::NoRoute(path) => ApiError::NoRoute(cut(path)),
            ApiError::MethodNotAllowed(method) => ApiError::MethodNotAllowed(cut(method)),
            ApiError::UnknownParameter(name, hint) => ApiError::UnknownParameter(cut(name), hint),
            // A reason may quote the value; reasons of our own are far shorter than this.
            ApiError::InvalidParameter { param, reason } => ApiError::InvalidParameter {
                param: cut(param),
                reason: crate::feature::abbreviate(&reason, 4 * MAX_ECHO),
            },
            other => other,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = self.with_bounded_echo();
        let (status, code) = this.status_and_code();
        // Refusals while starting are expected (a load balancer's probes, early clients).
        if status.is_server_error() && !matches!(this, ApiError::Starting) {
            tracing::error!(error = %this, "request failed");
        }
        // What a reader says about a file may quote it; no description is longer than this.
        let description = crate::feature::abbreviate(&this.to_string(), MAX_DESCRIPTION);
        let mut body = serde_json::json!({ "code": code, "description": description });
        if let ApiError::ProtocolViolation(report) = &this {
            body["report"] = serde_json::json!(report);
        }
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::RangeNotSatisfiable(total) = &this
            && let Ok(value) = axum::http::HeaderValue::from_str(&format!("bytes */{total}"))
        {
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_RANGE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let seconds = if matches!(this, ApiError::Starting) {
                "5"
            } else {
                "1"
            };
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(seconds),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"amis-webgis\""),
            );
        }
        response
    }
}
