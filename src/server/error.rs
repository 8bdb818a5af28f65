//! The one place where errors become HTTP: every failure a client can see is an [`ApiError`],
//! answered as `{"error": {"code", "message"}, "took_us"}` with a fitting status.
//!
//! Client mistakes are 4xx; only engine failures (a broken index, a panicked worker) are 5xx,
//! and overload is 503 so clients back off instead of giving up.

use crate::search::SearchError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Errors of the HTTP layer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing or invalid.
    #[error("{0}")]
    BadRequest(String),
    /// No such document or route.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is larger than the server accepts.
    #[error("request body too large: at most {0} bytes")]
    PayloadTooLarge(usize),
    /// The URL is longer than the server accepts.
    #[error("URL too long: at most {0} bytes")]
    UriTooLong(usize),
    /// The admin token is missing or wrong.
    #[error("a valid admin token is required (Authorization: Bearer TOKEN)")]
    Unauthorized,
    /// The request took longer than the server allows.
    #[error("request timed out after {0} ms")]
    Timeout(u64),
    /// The index is busy (e.g. a sync holds the writer).
    #[error("{0}")]
    Unavailable(String),
    /// A failure on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Status and machine-readable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The JSON body, with the time spent so far.
    pub fn body(&self, took_us: u64) -> serde_json::Value {
        let (_, code) = self.status_and_code();
        serde_json::json!({
            "error": { "code": code, "message": self.to_string() },
            "took_us": took_us,
        })
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => ApiError::BadRequest(m),
            SearchError::Engine(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    /// The timing middleware rewrites the body with the real `took_us`; the error rides along
    /// in the response extensions for that.
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, Json(self.body(0))).into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}
