//! The bearer check in front of the admin routes: `Authorization: Bearer <ADMIN_TOKEN>`,
//! compared in constant time; anything else is 401.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::config::AdminToken;

/// Whether `header` carries exactly `token` as a bearer credential (compared in constant
/// time).
pub fn authorized(header: Option<&HeaderValue>, token: &AdminToken) -> bool {
    let Some(presented) = header.and_then(|v| v.to_str().ok()).and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    }) else {
        return false;
    };
    presented.as_bytes().ct_eq(token.expose().as_bytes()).into()
}

/// Middleware (`axum::middleware::from_fn_with_state(token, require_token)`): passes the
/// request on when it carries the bearer `token`, answers 401 otherwise.
pub async fn require_token(
    State(token): State<AdminToken>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(request.headers().get(header::AUTHORIZATION), &token) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or wrong bearer token\n",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> AdminToken {
        AdminToken::new("s3cret").expect("non-empty")
    }

    #[test]
    fn accepts_only_the_exact_bearer_token() {
        let ok = HeaderValue::from_static("Bearer s3cret");
        assert!(authorized(Some(&ok), &token()));
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
        ] {
            let value = HeaderValue::from_str(bad).expect("header");
            assert!(!authorized(Some(&value), &token()), "{bad}");
        }
        assert!(!authorized(None, &token()));
    }
}
