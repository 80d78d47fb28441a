//! Kubernetes Events (contract §4): Warning and Error events about existing objects become
//! RemediationRequests with the event type as severity; Normal, unknown types, events missing
//! required fields and events about objects that do not exist are 400 with a generic detail.

use fixtures::payloads::Event;

use super::support::{
    SIGNAL_PARSE_FAILED, cleaning_up, event_created, expect_bad_request, expect_duplicate, wait_for_rr, world_with_pod,
};
use crate::{Ctx, Failure, case};

/// A Warning event about a Pod that need not exist (for the cases refused before resolution).
fn unresolved(reason: &str) -> Event {
    Event::warning(reason, "Pod", "any-0", "default")
}

/// Upstream rule: `adapters/kubernetes_event_adapter.go`, `processing/crd_creator.go` — a Warning
/// event about an existing Pod makes an RR: signal name = reason, severity `Warning`,
/// `signalType: "alert"`, source `kubernetes-events`, the Pod as target
/// (`test/e2e/gateway/08_k8s_event_ingestion_test.go`).
async fn warning_event_creates_remediation_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "event", "backoff-0").await?;
        let event = Event::warning("BackOff", "Pod", "backoff-0", world.namespace());
        let created = event_created(&ctx, &cleanup, &event).await?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        Failure::ensure_eq("spec.signalFingerprint", spec.signal_fingerprint.as_str(), created.fingerprint.as_str())?;
        Failure::ensure_eq("spec.signalName", spec.signal_name.as_str(), "BackOff")?;
        Failure::ensure_eq("spec.severity", spec.severity.as_str(), "Warning")?;
        Failure::ensure_eq("spec.signalType", spec.signal_type.as_str(), "alert")?;
        Failure::ensure_eq("spec.signalSource", spec.signal_source.as_str(), "kubernetes-events")?;
        let target = &spec.target_resource;
        let got = [target.kind.as_str(), target.name.as_str(), target.namespace.as_str()];
        Failure::ensure_eq("spec.targetResource", got, ["Pod", "backoff-0", world.namespace()])?;
        Failure::ensure(spec.original_payload.contains("backoff-0"), || {
            format!("spec.originalPayload does not hold the event: {}", spec.original_payload)
        })
    })
    .await
}
case!(warning_event_creates_remediation_request, area = "events", labels = ["events"], needs_cluster);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — the severity is the event type
/// verbatim: an `Error` event is `Error`.
async fn error_event_severity_is_error(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "error-event", "err-0").await?;
        let event = Event::warning("FailedMount", "Pod", "err-0", world.namespace()).event_type("Error");
        let created = event_created(&ctx, &cleanup, &event).await?;
        let severity = wait_for_rr(&ctx, &created.name).await?.spec.severity;
        Failure::ensure_eq("spec.severity of an Error event", severity.as_str(), "Error")
    })
    .await
}
case!(error_event_severity_is_error, area = "events", labels = ["events"], needs_cluster);

/// Upstream rule: `adapters/kubernetes_event_adapter.go`, `adapters/owner_resolver.go` — an
/// event about a Pod of a Deployment is about the Deployment.
async fn event_about_owned_pod_targets_its_deployment(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("event-owner").await?;
        let chain = world.deployment("api", 1).await?;
        let pod = chain.pods.first().cloned().unwrap_or_default();
        let created =
            event_created(&ctx, &cleanup, &Event::warning("Unhealthy", "Pod", &pod, world.namespace())).await?;
        let target = wait_for_rr(&ctx, &created.name).await?.spec.target_resource;
        let got = [target.kind.as_str(), target.name.as_str()];
        Failure::ensure_eq("spec.targetResource", got, ["Deployment", chain.deployment.as_str()])
    })
    .await
}
case!(event_about_owned_pod_targets_its_deployment, area = "events", labels = ["events", "owner"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — a repeated event is a duplicate.
async fn repeated_event_is_duplicate(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "event-repeat", "mount-0").await?;
        let event = Event::warning("FailedMount", "Pod", "mount-0", world.namespace());
        let created = event_created(&ctx, &cleanup, &event).await?;
        let (duplicate, count) = expect_duplicate(&ctx.post_event(&event).await?)?;
        Failure::ensure_eq("remediationRequestName of the repeat", duplicate.name, created.name)?;
        Failure::ensure_eq("metadata.count", count, 2)
    })
    .await
}
case!(repeated_event_is_duplicate, area = "events", labels = ["events"], needs_cluster);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — an event about an object that does not
/// exist cannot be resolved: 400 "Failed to parse signal".
async fn event_about_missing_object_is_400(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("event-ghost").await?;
        let event = Event::warning("BackOff", "Pod", "ghost-0", world.namespace());
        expect_bad_request(&ctx.post_event(&event).await?, SIGNAL_PARSE_FAILED).map(drop)
    })
    .await
}
case!(event_about_missing_object_is_400, area = "events", labels = ["events"], needs_cluster);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — `Normal` events are not processed: 400.
async fn normal_event_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&unresolved("Scheduled").event_type("Normal")).await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(normal_event_is_400, area = "events", labels = ["events"]);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — only `Warning` and `Error`: 400.
async fn unknown_event_type_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&unresolved("BackOff").event_type("Info")).await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(unknown_event_type_is_400, area = "events", labels = ["events"]);

/// Upstream rule: `adapters/kubernetes_event_adapter.go`, `signal_ingestion.go` — a missing
/// `reason` is 400 with the generic detail (the field is not named).
async fn event_without_reason_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&unresolved("BackOff").without("reason")).await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(event_without_reason_is_400, area = "events", labels = ["events"]);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — a missing `involvedObject.kind`: 400.
async fn event_without_object_kind_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&unresolved("BackOff").without("involvedObject.kind")).await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(event_without_object_kind_is_400, area = "events", labels = ["events"]);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — a missing `involvedObject.name`: 400.
async fn event_without_object_name_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&unresolved("BackOff").without("involvedObject.name")).await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(event_without_object_name_is_400, area = "events", labels = ["events"]);

/// Upstream rule: `adapters/kubernetes_event_adapter.go` — a body that is not JSON: 400.
async fn malformed_event_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer =
        super::support::post_raw(&ctx, crate::KUBERNETES_EVENT_PATH, "{\"reason\":", Some("application/json"), &[])
            .await?;
    expect_bad_request(&answer, SIGNAL_PARSE_FAILED).map(drop)
}
case!(malformed_event_is_400, area = "events", labels = ["events"]);
