//! Problem answers (contract §2): their fields differ by who writes them (the signal handler, a
//! middleware, the auth middleware), and the handler's details are generic.

use serde_json::Value;

use super::support::str_field;
use crate::{Failure, Response};

/// Who wrote a problem answer: its fields differ (contract §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// The signal handler (parse, validation, processing): `instance` is the path and
    /// `request_id` equals the `X-Request-ID` header.
    Handler,
    /// A middleware (freshness, size, content type): no `request_id`.
    Middleware,
}

/// Asserts an RFC 7807 answer with `status` whose `type` is `https://kubernaut.ai/problems/<kind>`,
/// shaped as `writer` writes them; returns the body.
#[track_caller]
pub fn expect_problem(answer: &Response, status: u16, kind: &str, writer: Writer) -> Result<Value, Failure> {
    answer.expect_status(status)?;
    let body = problem_body(answer, status)?;
    let ty = str_field(&body, "type")?;
    Failure::ensure(ty == format!("https://kubernaut.ai/problems/{kind}"), || {
        format!("problem type: expected https://kubernaut.ai/problems/{kind}, got {ty}")
    })?;
    match writer {
        Writer::Handler => {
            let header = answer.header("x-request-id");
            Failure::ensure_eq("request_id (= X-Request-ID)", body.get("request_id").and_then(Value::as_str), header)?;
            let path = answer.path.as_str();
            Failure::ensure_eq("instance", str_field(&body, "instance")?, path)?;
        }
        Writer::Middleware => {
            Failure::ensure(body.get("request_id").is_none(), || {
                format!("a middleware problem has a request_id: {body}")
            })?;
        }
    }
    Ok(body)
}

/// Asserts the auth middleware's problem (§2): `about:blank`, `title`, no `instance`, no
/// `request_id`; returns the body.
#[track_caller]
pub fn expect_auth_problem(answer: &Response, status: u16) -> Result<Value, Failure> {
    answer.expect_status(status)?;
    let body = problem_body(answer, status)?;
    Failure::ensure_eq("problem type", str_field(&body, "type")?, "about:blank")?;
    let title = if status == 401 { "Unauthorized" } else { "Forbidden" };
    Failure::ensure_eq("problem title", str_field(&body, "title")?, title)?;
    for field in ["instance", "request_id"] {
        Failure::ensure(body.get(field).is_none(), || format!("an auth problem has `{field}`: {body}"))?;
    }
    Ok(body)
}

/// The body of a problem+json answer with `title`, `detail` and a matching `status`.
#[track_caller]
fn problem_body(answer: &Response, status: u16) -> Result<Value, Failure> {
    let content_type = answer.header("content-type").unwrap_or_default();
    Failure::ensure(content_type.starts_with("application/problem+json"), || {
        format!("expected Content-Type application/problem+json, got {content_type:?}")
    })?;
    let body = answer.json()?;
    for field in ["type", "title", "detail"] {
        str_field(&body, field)?;
    }
    Failure::ensure_eq("problem status", body.get("status").and_then(Value::as_u64), Some(u64::from(status)))?;
    Ok(body)
}

/// Asserts a handler's 400 titled "Bad Request" whose `detail` is exactly `detail` (details are
/// generic, §2; the title is `errors/rfc7807.go`'s, `test/e2e/gateway/27_error_handling_test.go`).
#[track_caller]
pub fn expect_bad_request(answer: &Response, detail: &str) -> Result<Value, Failure> {
    let body = expect_problem(answer, 400, "validation-error", Writer::Handler)?;
    Failure::ensure_eq("title", str_field(&body, "title")?, "Bad Request")?;
    Failure::ensure_eq("detail", str_field(&body, "detail")?, detail)?;
    Ok(body)
}

/// The detail of any Prometheus parse or resolution failure (§2).
pub const BATCH_PARSE_FAILED: &str = "Failed to parse batch payload";
/// The detail of any Kubernetes Event parse failure (§2).
pub const SIGNAL_PARSE_FAILED: &str = "Failed to parse signal";
