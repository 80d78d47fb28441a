//! Kubernetes Events (contract §5): Warning and Error events become RemediationRequests with the
//! right severity; Normal, unknown types and events missing required fields are 400.

use fixtures::payloads::Event;

use super::support::{
    SIGNAL_NAMESPACE, cleaning_up, expect_created, expect_duplicate, expect_invalid_field, expect_problem, wait_for_rr,
};
use crate::{Ctx, Failure, case};

/// A Warning event about a Deployment of this case (a Deployment: see `deployment_alert`).
fn warning(ctx: &Ctx, reason: &str, tag: &str) -> Event {
    Event::warning(reason, "Deployment", &ctx.unique(tag), SIGNAL_NAMESPACE)
}

async fn warning_event_creates_remediation_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("backoff");
        let event = Event::warning("BackOff", "Deployment", &deployment, SIGNAL_NAMESPACE);
        let created = expect_created(&ctx.post_event(&event).await?, &cleanup)?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        Failure::ensure_eq("spec.signalFingerprint", spec.signal_fingerprint.as_str(), created.fingerprint.as_str())?;
        Failure::ensure_eq("spec.signalName", spec.signal_name.as_str(), "BackOff")?;
        Failure::ensure_eq("spec.severity", spec.severity.as_str(), "warning")?;
        Failure::ensure_eq("spec.signalType", spec.signal_type.as_str(), "kubernetes-event")?;
        Failure::ensure_eq("spec.signalSource", spec.signal_source.as_str(), "kubernetes-events")?;
        let target = &spec.target_resource;
        Failure::ensure_eq("spec.targetResource.kind", target.kind.as_str(), "Deployment")?;
        Failure::ensure_eq("spec.targetResource.name", target.name.as_str(), deployment.as_str())?;
        Failure::ensure_eq("spec.targetResource.namespace", target.namespace.as_str(), SIGNAL_NAMESPACE)?;
        Failure::ensure(spec.original_payload.contains(&deployment), || {
            format!("spec.originalPayload does not hold the event: {}", spec.original_payload)
        })
    })
    .await
}
case!(warning_event_creates_remediation_request, area = "events", labels = ["events"], needs_cluster);

/// Posts `event` and returns the `spec.severity` of the resource it created.
async fn severity_of(ctx: Ctx, event: Event) -> Result<String, Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let created = expect_created(&ctx.post_event(&event).await?, &cleanup)?;
        Ok(wait_for_rr(&ctx, &created.name).await?.spec.severity)
    })
    .await
}

async fn error_event_is_critical(ctx: Ctx) -> Result<(), Failure> {
    let event = warning(&ctx, "BackOff", "error-type").event_type("Error");
    Failure::ensure_eq("spec.severity of an Error event", severity_of(ctx, event).await?.as_str(), "critical")
}
case!(error_event_is_critical, area = "events", labels = ["events"], needs_cluster);

async fn critical_reason_makes_warning_critical(ctx: Ctx) -> Result<(), Failure> {
    let event = warning(&ctx, "OOMKilled", "oom");
    Failure::ensure_eq("spec.severity of an OOMKilled Warning", severity_of(ctx, event).await?.as_str(), "critical")
}
case!(critical_reason_makes_warning_critical, area = "events", labels = ["events"], needs_cluster);

async fn repeated_event_is_duplicate(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let event = warning(&ctx, "FailedMount", "mount");
        let created = expect_created(&ctx.post_event(&event).await?, &cleanup)?;
        let (duplicate, count) = expect_duplicate(&ctx.post_event(&event).await?)?;
        Failure::ensure_eq("remediationRequestName of the repeat", duplicate.name, created.name)?;
        Failure::ensure_eq("metadata.count", count, 2)
    })
    .await
}
case!(repeated_event_is_duplicate, area = "events", labels = ["events"]);

async fn normal_event_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&warning(&ctx, "Scheduled", "normal").event_type("Normal")).await?;
    expect_problem(&answer, 400, "validation-error").map(drop)
}
case!(normal_event_is_400, area = "events", labels = ["events"]);

async fn unknown_event_type_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&warning(&ctx, "BackOff", "info-type").event_type("Info")).await?;
    expect_problem(&answer, 400, "validation-error").map(drop)
}
case!(unknown_event_type_is_400, area = "events", labels = ["events"]);

async fn event_without_reason_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&warning(&ctx, "BackOff", "no-reason").without("reason")).await?;
    expect_invalid_field(&answer, "reason").map(drop)
}
case!(event_without_reason_is_400, area = "events", labels = ["events"]);

async fn event_without_object_kind_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&warning(&ctx, "BackOff", "no-kind").without("involvedObject.kind")).await?;
    expect_invalid_field(&answer, "kind").map(drop)
}
case!(event_without_object_kind_is_400, area = "events", labels = ["events"]);

async fn event_without_object_name_is_400(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.post_event(&warning(&ctx, "BackOff", "no-name").without("involvedObject.name")).await?;
    expect_invalid_field(&answer, "name").map(drop)
}
case!(event_without_object_name_is_400, area = "events", labels = ["events"]);
