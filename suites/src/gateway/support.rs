//! Helpers the gateway cases share: payload shortcuts, answer checks (created, duplicate,
//! problem+json), RemediationRequests in the API (wait, phase, cleanup) and the metrics reader.
//! Only HTTP to the gateway and the Kubernetes API through `kube`: nothing here knows the double.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fixtures::crd::{LABEL_MANAGED_BY, RemediationRequest};
use fixtures::payloads::{Alert, Event, Webhook};
use futures::StreamExt;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::world::World;
use crate::{Ctx, Failure, Response, eventually};

/// How long a case waits for an effect to show in the Kubernetes API.
pub const API_DEADLINE: Duration = Duration::from_secs(10);
/// How often it looks.
pub const API_INTERVAL: Duration = Duration::from_millis(50);
/// How long the first signal about a fresh world is sent again while the gateway does not see
/// the world yet (its caches lag the API; upstream's suite retries for 30 s, contract §8).
pub const ADMIT_DEADLINE: Duration = Duration::from_secs(30);
/// The same for a cluster without controllers (the in-memory one, read without caches).
pub const ADMIT_DEADLINE_IN_MEMORY: Duration = Duration::from_secs(5);
/// How often such a signal is sent again.
pub const ADMIT_INTERVAL: Duration = Duration::from_millis(250);
/// The body size limit of the middleware (contract §2).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The Prometheus parser's own limit (contract §2).
pub const MAX_PROMETHEUS_BYTES: usize = 100 * 1024;
/// Requests a case keeps in flight when it sends many.
pub const FAN_OUT: usize = 16;

/// A firing alert named `alertname` about the bare Pod `pod` in `namespace`, as upstream's suite
/// sends them (contract §8).
pub fn pod_alert(alertname: &str, pod: &str, namespace: &str) -> Alert {
    Alert::firing(alertname).pod(pod).namespace(namespace)
}

/// Whether `answer` looks like the gateway not seeing a fresh world yet: a 200 `rejected` (scope
/// read from a lagging cache) or a 400 (target not found yet).
fn not_seen_yet(answer: &Response) -> bool {
    answer.status == 400 || (answer.status == 200 && answer.json().is_ok_and(|body| is_rejected(&body)))
}

/// How long a case waits for the gateway to see objects it just created.
pub fn admit_deadline(ctx: &Ctx) -> Duration {
    if ctx.config().runs_controllers { ADMIT_DEADLINE } else { ADMIT_DEADLINE_IN_MEMORY }
}

/// Sends with `send` until the answer is not [`not_seen_yet`] or the admission deadline passes;
/// returns the last answer. For the first signal about objects a case just created.
pub async fn admitted<F, Fut>(ctx: &Ctx, send: F) -> Result<Response, Failure>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Response, Failure>>,
{
    let end = tokio::time::Instant::now() + admit_deadline(ctx);
    loop {
        let answer = send().await?;
        if !not_seen_yet(&answer) || tokio::time::Instant::now() + ADMIT_INTERVAL > end {
            return Ok(answer);
        }
        ctx.log(format!("the gateway does not see the case's objects yet ({}): sending again", answer.status));
        tokio::time::sleep(ADMIT_INTERVAL).await;
    }
}

/// Posts `webhook` (stamped) until admitted and expects 201 created.
pub async fn alert_created(ctx: &Ctx, cleanup: &Cleanup, webhook: &Webhook) -> Result<Signalled, Failure> {
    expect_created(&admitted(ctx, || ctx.post_alert(webhook)).await?, cleanup)
}

/// Posts `event` until admitted and expects 201 created.
pub async fn event_created(ctx: &Ctx, cleanup: &Cleanup, event: &Event) -> Result<Signalled, Failure> {
    expect_created(&admitted(ctx, || ctx.post_event(event)).await?, cleanup)
}

/// A managed world with one bare Pod `pod` in it (the most common setup).
pub async fn world_with_pod(ctx: &Ctx, tag: &str, pod: &str) -> Result<World, Failure> {
    let world = ctx.world(tag).await?;
    world.pod(pod).await?;
    Ok(world)
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// An RFC 3339 time, or a failure naming `what`.
pub fn parse_time(what: &str, value: &str) -> Result<jiff::Timestamp, Failure> {
    value.parse().map_err(|e| Failure::new(format!("{what}: {value:?} is not an RFC 3339 time ({e})")))
}

/// RemediationRequests a case created; deleted when the case ends, whatever its outcome.
#[derive(Debug, Default)]
pub struct Cleanup(Mutex<Vec<String>>);

impl Cleanup {
    /// Remembers the `remediationRequestName` of an answer body, if it has one.
    pub fn track_answer(&self, body: &Value) {
        if let Some(name) = body.get("remediationRequestName").and_then(Value::as_str) {
            self.track(name);
        }
    }

    /// Remembers `name` for deletion.
    pub fn track(&self, name: &str) {
        let mut names = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }

    /// Deletes every tracked resource, best effort (logged; skipped without cluster access).
    pub async fn run(&self, ctx: &Ctx) {
        let names = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        if names.is_empty() {
            return;
        }
        if ctx.config().kube.is_none() {
            ctx.log(format!("cleanup: no cluster access, leaving {} RemediationRequest(s)", names.len()));
            return;
        }
        futures::stream::iter(names)
            .for_each_concurrent(FAN_OUT, |name| async move { cleanup_rr(ctx, &name).await })
            .await;
    }
}

/// Runs `body` with a [`Cleanup`], then deletes what it tracked and the case's world (objects,
/// namespaces and the RemediationRequests about them), then returns its result.
pub async fn cleaning_up<T, F, Fut>(ctx: Ctx, body: F) -> Result<T, Failure>
where
    F: FnOnce(Ctx, Arc<Cleanup>) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let cleanup = Arc::new(Cleanup::default());
    let result = body(ctx.clone(), cleanup.clone()).await;
    let clean = async {
        cleanup.run(&ctx).await;
        ctx.delete_leftovers().await;
    };
    // A stuck API call must not turn a finished case into a timeout (the case's own deadline).
    if tokio::time::timeout(CLEANUP_DEADLINE, clean).await.is_err() {
        ctx.log(format!("cleanup did not finish within {CLEANUP_DEADLINE:?}; objects may be left behind"));
    }
    result
}

/// Longest a case spends on its own cleanup.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(30);

/// What a created (201) or duplicate (202) answer said.
#[derive(Clone, Debug)]
pub struct Signalled {
    /// `fingerprint`.
    pub fingerprint: String,
    /// `remediationRequestName`.
    pub name: String,
    /// The whole body.
    pub body: Value,
}

#[track_caller]
fn signalled(body: Value) -> Result<Signalled, Failure> {
    let fingerprint = str_field(&body, "fingerprint")?.to_owned();
    Failure::ensure(is_sha256_hex(&fingerprint), || format!("fingerprint {fingerprint:?} is not 64 lowercase hex"))?;
    let name = str_field(&body, "remediationRequestName")?.to_owned();
    Ok(Signalled { fingerprint, name, body })
}

/// Whether a single-signal body says `"status": "rejected"`.
fn is_rejected(body: &Value) -> bool {
    body.get("status").and_then(Value::as_str) == Some("rejected")
}

/// Checks one single-signal "created" body and tracks its resource. A `rejected` answer is a
/// failure: the case's world is managed (contract §5).
#[track_caller]
pub fn created_body(body: Value, cleanup: &Cleanup) -> Result<Signalled, Failure> {
    cleanup.track_answer(&body);
    Failure::ensure(!is_rejected(&body), || {
        format!("the gateway rejected a signal about the case's managed namespace: {body}")
    })?;
    Failure::ensure_eq("status", body.get("status").and_then(Value::as_str), Some("created"))?;
    Failure::ensure_eq("duplicate", body.get("duplicate").and_then(Value::as_bool), Some(false))?;
    signalled(body)
}

/// Asserts a 201 created answer (§6) and tracks its resource for cleanup.
#[track_caller]
pub fn expect_created(answer: &Response, cleanup: &Cleanup) -> Result<Signalled, Failure> {
    if let Ok(body) = answer.json() {
        cleanup.track_answer(&body);
    }
    answer.expect_status(201)?;
    created_body(answer.json()?, cleanup)
}

/// Asserts a 200 `rejected` scope answer (§5) about `resource` (`ns:Kind:name`); returns its body.
#[track_caller]
pub fn expect_rejected(answer: &Response, resource: &str) -> Result<Value, Failure> {
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("status", body.get("status").and_then(Value::as_str), Some("rejected"))?;
    Failure::ensure_eq("duplicate", body.get("duplicate").and_then(Value::as_bool), Some(false))?;
    Failure::ensure_eq("fingerprint", body.get("fingerprint").and_then(Value::as_str), Some(""))?;
    Failure::ensure(body.get("remediationRequestName").is_none(), || format!("a rejection names a resource: {body}"))?;
    let rejection = body.get("rejection").cloned().unwrap_or(Value::Null);
    Failure::ensure_eq("rejection.reason", str_field(&rejection, "reason")?, "unmanaged_resource")?;
    Failure::ensure_eq("rejection.resource", str_field(&rejection, "resource")?, resource)?;
    str_field(&rejection, "message")?;
    let action = str_field(&rejection, "action")?;
    Failure::ensure(action.contains("kubectl label") && action.contains("kubernaut.ai/managed=true"), || {
        format!("rejection.action should say how to label the resource: {action:?}")
    })?;
    Ok(body)
}

/// Asserts a 202 duplicate answer; returns it and its `metadata.count`.
#[track_caller]
pub fn expect_duplicate(answer: &Response) -> Result<(Signalled, i64), Failure> {
    answer.expect_status(202)?;
    let body = answer.json()?;
    Failure::ensure_eq("status", body.get("status").and_then(Value::as_str), Some("duplicate"))?;
    Failure::ensure_eq("duplicate", body.get("duplicate").and_then(Value::as_bool), Some(true))?;
    let count = body
        .pointer("/metadata/count")
        .and_then(Value::as_i64)
        .ok_or_else(|| Failure::new(format!("duplicate answer has no integer metadata.count: {body}")))?;
    Ok((signalled(body)?, count))
}

/// `POST path` with `body` as is, `Content-Type: content_type` (none when `None`) and extra
/// `headers`.
pub async fn post_raw(
    ctx: &Ctx,
    path: &str,
    body: impl Into<reqwest::Body>,
    content_type: Option<&str>,
    headers: &[(&str, String)],
) -> Result<Response, Failure> {
    let mut builder = ctx.request(Method::POST, path).body(body);
    if let Some(content_type) = content_type {
        builder = builder.header("Content-Type", content_type);
    }
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    ctx.send(builder).await
}

/// A body one byte over the contract's 256 KiB limit: `json` padded with whitespace.
pub fn oversized(json: &Value) -> Vec<u8> {
    let mut body = json.to_string().into_bytes();
    body.resize(MAX_BODY_BYTES + 1, b' ');
    body
}

/// Marks a request the gateway may answer without reading its body (oversized): its connection
/// is not reused, so when the gateway closes it after answering, no other request lands on it.
pub fn single_use(builder: RequestBuilder) -> RequestBuilder {
    builder.header(reqwest::header::CONNECTION, "close")
}

/// `POST path` with a JSON body and `X-Timestamp: stamp`.
pub async fn post_stamped(ctx: &Ctx, path: &str, body: &Value, stamp: &str) -> Result<Response, Failure> {
    post_raw(ctx, path, body.to_string(), Some("application/json"), &[("X-Timestamp", stamp.to_owned())]).await
}

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

/// Waits until the RemediationRequest `name` exists and `check` accepts it, and returns it. For
/// status the gateway writes (deduplication): its answer may come before the status shows.
/// On the deadline it fails with `check`'s last complaint.
pub async fn wait_for_rr_state<C>(ctx: &Ctx, name: &str, check: C) -> Result<RemediationRequest, Failure>
where
    C: Fn(&RemediationRequest) -> Result<(), Failure>,
{
    let api = rr_api(ctx)?;
    let check = &check;
    eventually(API_DEADLINE, API_INTERVAL, || {
        let api = api.clone();
        async move {
            let rr = api
                .get_opt(name)
                .await?
                .ok_or_else(|| Failure::new(format!("RemediationRequest {name} does not exist")))?;
            check(&rr).map_err(|f| Failure { message: format!("RemediationRequest {name}: {}", f.message), ..f })?;
            Ok(rr)
        }
    })
    .await
}

/// Waits until `status.deduplication` of `name` is written with `occurrenceCount == count`.
pub async fn wait_for_occurrences(ctx: &Ctx, name: &str, count: i64) -> Result<RemediationRequest, Failure> {
    wait_for_rr_state(ctx, name, |rr| {
        let written = rr.status.as_ref().and_then(|s| s.deduplication.as_ref());
        let written = written.ok_or_else(|| Failure::new("status.deduplication is not written"))?;
        Failure::ensure_eq("status.deduplication.occurrenceCount", written.occurrence_count, count)
    })
    .await
}

/// Writes `status.overallPhase` of `name` through the status subresource, as a controller does.
pub async fn set_phase(ctx: &Ctx, name: &str, phase: &str) -> Result<(), Failure> {
    let patch = json!({ "status": { "overallPhase": phase } });
    rr_api(ctx)?.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    ctx.log(format!("set status.overallPhase of {name} to {phase}"));
    Ok(())
}

/// Merges `status` into the status of `name` through the status subresource, as a controller does.
pub async fn set_status(ctx: &Ctx, name: &str, status: &Value) -> Result<(), Failure> {
    let patch = json!({ "status": status });
    rr_api(ctx)?.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    ctx.log(format!("merged {status} into the status of {name}"));
    Ok(())
}

/// Every RemediationRequest the gateway manages with `fingerprint`.
pub async fn rrs_with_fingerprint(ctx: &Ctx, fingerprint: &str) -> Result<Vec<RemediationRequest>, Failure> {
    let (key, value) = LABEL_MANAGED_BY;
    let list = rr_api(ctx)?.list(&ListParams::default().labels(&format!("{key}={value}"))).await?;
    Ok(list.items.into_iter().filter(|rr| rr.spec.signal_fingerprint == fingerprint).collect())
}

/// Every RemediationRequest the gateway manages whose target is in `namespace`.
pub async fn rrs_about(ctx: &Ctx, namespace: &str) -> Result<Vec<RemediationRequest>, Failure> {
    let (key, value) = LABEL_MANAGED_BY;
    let list = rr_api(ctx)?.list(&ListParams::default().labels(&format!("{key}={value}"))).await?;
    Ok(list.items.into_iter().filter(|rr| rr.spec.target_resource.namespace == namespace).collect())
}

/// Deletes the RemediationRequest `name`, best effort, logging the outcome.
pub async fn cleanup_rr(ctx: &Ctx, name: &str) {
    let Ok(api) = rr_api(ctx) else { return };
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => ctx.log(format!("cleanup: deleted RemediationRequest {name}")),
        Err(e) => ctx.log(format!("cleanup: could not delete RemediationRequest {name}: {e}")),
    }
    ctx.forget_created(name);
}

/// A string field of a JSON answer, or a failure naming it.
#[track_caller]
pub fn str_field<'a>(body: &'a Value, field: &str) -> Result<&'a str, Failure> {
    match body.get(field).and_then(Value::as_str) {
        Some(value) => Ok(value),
        None => Err(Failure::new(format!("answer has no string field `{field}`: {body}"))),
    }
}

/// Whether `s` is a 64-character lowercase hex string.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The liveness URL on the health listener: the readiness URL the run was given (`--health-url`,
/// `…/readyz`) with `/healthz` in its place (contract §1).
pub fn liveness_url(ctx: &Ctx) -> String {
    let ready = &ctx.config().health_url;
    match ready.strip_suffix("/readyz") {
        Some(base) => format!("{base}/healthz"),
        None => format!("{}/healthz", ready.trim_end_matches('/')),
    }
}

pub use super::problem::{
    BATCH_PARSE_FAILED, SIGNAL_PARSE_FAILED, Writer, expect_auth_problem, expect_bad_request, expect_problem,
};
pub use super::scrape::{Metrics, ensure_grew, scrape_metrics};
