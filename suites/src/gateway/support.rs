//! Helpers the gateway cases share: reading RemediationRequests, asserting problem+json, cleanup.

use std::time::Duration;

use fixtures::crd::RemediationRequest;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::Value;

use crate::{Ctx, Failure, Response, eventually};

/// How long a case waits for an effect to show in the Kubernetes API.
pub const API_DEADLINE: Duration = Duration::from_secs(10);
/// How often it looks.
pub const API_INTERVAL: Duration = Duration::from_millis(50);

/// The RemediationRequests API in the gateway's controller namespace.
pub fn rr_api(ctx: &Ctx) -> Result<Api<RemediationRequest>, Failure> {
    Ok(Api::namespaced(ctx.kube()?, &ctx.config().controller_namespace))
}

/// Waits until the RemediationRequest `name` exists and returns it.
pub async fn wait_for_rr(ctx: &Ctx, name: &str) -> Result<RemediationRequest, Failure> {
    let api = rr_api(ctx)?;
    eventually(API_DEADLINE, API_INTERVAL, || {
        let api = api.clone();
        async move {
            api.get_opt(name).await?.ok_or_else(|| Failure::new(format!("RemediationRequest {name} does not exist")))
        }
    })
    .await
}

/// Deletes the RemediationRequest `name`, best effort, logging the outcome.
pub async fn cleanup_rr(ctx: &Ctx, name: &str) {
    let Ok(api) = rr_api(ctx) else { return };
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => ctx.log(format!("cleanup: deleted RemediationRequest {name}")),
        Err(e) => ctx.log(format!("cleanup: could not delete RemediationRequest {name}: {e}")),
    }
}

/// A string field of a JSON answer, or a failure naming it.
pub fn str_field<'a>(body: &'a Value, field: &str) -> Result<&'a str, Failure> {
    body.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::new(format!("answer has no string field `{field}`: {body}")))
}

/// Whether `s` is a 64-character lowercase hex string.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Asserts an RFC 7807 answer with `status` whose `type` ends in `kind`; returns the body.
pub fn expect_problem(answer: &Response, status: u16, kind: &str) -> Result<Value, Failure> {
    answer.expect_status(status)?;
    let content_type = answer.header("content-type").unwrap_or_default();
    Failure::ensure(content_type.starts_with("application/problem+json"), || {
        format!("expected Content-Type application/problem+json, got {content_type:?}")
    })?;
    let body = answer.json()?;
    for field in ["type", "title", "detail", "instance"] {
        str_field(&body, field)?;
    }
    Failure::ensure_eq("problem status", body.get("status").and_then(Value::as_u64), Some(u64::from(status)))?;
    let ty = str_field(&body, "type")?;
    Failure::ensure(ty == format!("https://kubernaut.ai/problems/{kind}"), || {
        format!("problem type: expected https://kubernaut.ai/problems/{kind}, got {ty}")
    })?;
    Ok(body)
}
