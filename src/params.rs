//! Extractors for request parameters whose rejections are the server's JSON errors.
//!
//! axum's own extractors answer a bad value in plain text (`Invalid URL: Invalid UTF-8 in
//! `id``); handlers take these instead, as axum's `customize-extractor-error` example does,
//! so no route can forget the `{"code", "description"}` body.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::extract::Path`, refusing a segment that does not decode (bad percent-encoding,
/// not UTF-8, not of the expected type) with `400 InvalidParameterValue`.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::invalid("path", rejection.body_text()))
    }
}

/// The route's parameters as the router decoded them, borrowed (no copy per request), for a
/// hot route that parses them itself; refused like [`Path`].
pub async fn raw_path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<axum::extract::RawPathParams, ApiError> {
    axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|rejection| ApiError::invalid("path", rejection.body_text()))
}
