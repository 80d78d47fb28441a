//! Prometheus AlertManager ingestion (contract §4, §6): the created answer, the RemediationRequest
//! it makes (spec, metadata, initial status), label, namespace, severity and target rules, and
//! multi-alert webhooks (207).

use fixtures::crd::{ANNOTATION_CREATED_AT, LABEL_COMPONENT, LABEL_MANAGED_BY, RemediationRequest};
use fixtures::payloads::{Alert, Webhook};
use serde_json::Value;

use super::support::{
    SIGNAL_NAMESPACE, Signalled, cleaning_up, created_body, deployment_alert, expect_created, parse_time,
    skip_if_any_result_rejected, str_field, wait_for_rr, wait_for_rr_state,
};
use crate::{Ctx, Failure, case};

async fn alert_creates_remediation_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("api");
        let alert = deployment_alert("HighMemoryUsage", &deployment, SIGNAL_NAMESPACE).severity("critical");
        let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
        let rr = wait_for_rr(&ctx, &created.name).await?;
        Failure::ensure_eq("spec.signalName", rr.spec.signal_name.as_str(), "HighMemoryUsage")?;
        Failure::ensure_eq("spec.signalFingerprint", rr.spec.signal_fingerprint.as_str(), created.fingerprint.as_str())
    })
    .await
}
case!(alert_creates_remediation_request, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn created_answer_has_contract_fields(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert = deployment_alert("CreatedFields", &ctx.unique("fields"), SIGNAL_NAMESPACE);
        let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
        let namespace = str_field(&created.body, "remediationRequestNamespace")?;
        Failure::ensure_eq("remediationRequestNamespace", namespace, ctx.config().controller_namespace.as_str())?;
        let message = str_field(&created.body, "message")?;
        Failure::ensure(!message.is_empty(), || "message is empty".to_owned())?;
        ensure_rr_name(&created)
    })
    .await
}
case!(created_answer_has_contract_fields, area = "ingestion", labels = ["ingestion"]);

/// `rr-<fingerprint[:12]>-<suffix>`, a DNS-1123 name (the suffix itself is an implementation detail).
fn ensure_rr_name(created: &Signalled) -> Result<(), Failure> {
    let prefix = format!("rr-{}-", &created.fingerprint[..12]);
    let name = &created.name;
    let suffix = name.strip_prefix(&prefix).unwrap_or_default();
    let dns = name.len() <= 253 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    Failure::ensure(!suffix.is_empty() && dns, || format!("name {name:?} is not {prefix}<suffix> in DNS-1123 form"))
}

async fn remediation_request_spec_describes_the_alert(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("checkout");
        let alert = deployment_alert("HighLatency", &deployment, SIGNAL_NAMESPACE)
            .severity("critical")
            .annotation("summary", "p99 latency above 2s");
        let starts_at = alert.to_json()["startsAt"].as_str().unwrap_or_default().to_owned();
        let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        Failure::ensure_eq("spec.signalFingerprint", spec.signal_fingerprint.as_str(), created.fingerprint.as_str())?;
        Failure::ensure_eq("spec.signalName", spec.signal_name.as_str(), "HighLatency")?;
        Failure::ensure_eq("spec.severity", spec.severity.as_str(), "critical")?;
        Failure::ensure_eq("spec.signalType", spec.signal_type.as_str(), "prometheus-alert")?;
        Failure::ensure_eq("spec.signalSource", spec.signal_source.as_str(), "prometheus")?;
        Failure::ensure_eq("spec.targetType", spec.target_type.as_str(), "kubernetes")?;
        let target = &spec.target_resource;
        Failure::ensure_eq("spec.targetResource.kind", target.kind.as_str(), "Deployment")?;
        Failure::ensure_eq("spec.targetResource.name", target.name.as_str(), deployment.as_str())?;
        Failure::ensure_eq("spec.targetResource.namespace", target.namespace.as_str(), SIGNAL_NAMESPACE)?;
        let firing = parse_time("spec.firingTime", spec.firing_time.as_deref().unwrap_or_default())?;
        Failure::ensure_eq("spec.firingTime", firing, parse_time("startsAt", &starts_at)?)?;
        let received = parse_time("spec.receivedTime", spec.received_time.as_deref().unwrap_or_default())?;
        let skew = (jiff::Timestamp::now() - received).get_seconds().abs();
        Failure::ensure(skew < 300, || format!("spec.receivedTime {received} is {skew}s away from now"))?;
        Failure::ensure_eq("spec.signalLabels.deployment", spec.signal_labels.get("deployment"), Some(&deployment))?;
        let summary = spec.signal_annotations.get("summary").map(String::as_str);
        Failure::ensure_eq("spec.signalAnnotations.summary", summary, Some("p99 latency above 2s"))?;
        Failure::ensure(spec.original_payload.contains(&deployment), || {
            format!("spec.originalPayload does not hold the alert: {}", spec.original_payload)
        })
    })
    .await
}
case!(remediation_request_spec_describes_the_alert, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn remediation_request_metadata_and_initial_status(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert = deployment_alert("FreshIncident", &ctx.unique("meta"), SIGNAL_NAMESPACE);
        let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
        // The status may show after the answer: wait until it is the initial one.
        let rr = wait_for_rr_state(&ctx, &created.name, ensure_initial_status).await?;
        let labels = rr.metadata.labels.clone().unwrap_or_default();
        for (key, value) in [LABEL_MANAGED_BY, LABEL_COMPONENT] {
            Failure::ensure_eq(&format!("label {key}"), labels.get(key).map(String::as_str), Some(value))?;
        }
        let annotations = rr.metadata.annotations.clone().unwrap_or_default();
        let created_at = annotations.get(ANNOTATION_CREATED_AT).map(String::as_str).unwrap_or_default();
        parse_time(&format!("annotation {ANNOTATION_CREATED_AT}"), created_at)?;
        let namespace = rr.metadata.namespace.as_deref();
        Failure::ensure_eq("metadata.namespace", namespace, Some(ctx.config().controller_namespace.as_str()))
    })
    .await
}
case!(remediation_request_metadata_and_initial_status, area = "ingestion", labels = ["ingestion"], needs_cluster);

fn ensure_initial_status(rr: &RemediationRequest) -> Result<(), Failure> {
    let dedup = rr.status.as_ref().and_then(|s| s.deduplication.as_ref());
    let dedup = dedup.ok_or_else(|| Failure::new("status.deduplication is not written after create"))?;
    Failure::ensure_eq("status.deduplication.occurrenceCount", dedup.occurrence_count, 1)?;
    let first = parse_time("status.deduplication.firstSeenAt", &dedup.first_seen_at)?;
    let last = parse_time("status.deduplication.lastSeenAt", &dedup.last_seen_at)?;
    Failure::ensure(last >= first, || format!("lastSeenAt {last} is before firstSeenAt {first}"))?;
    Failure::ensure_eq("status.overallPhase", rr.phase(), "")
}

async fn alert_labels_win_over_common_labels(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert = deployment_alert("Merged", &ctx.unique("merge"), SIGNAL_NAMESPACE).severity("critical");
        let webhook = Webhook::with_alert(alert).common_label("severity", "info").common_label("team", "payments");
        let created = expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        let label = |key: &str| spec.signal_labels.get(key).cloned();
        Failure::ensure_eq("spec.signalLabels.team (from commonLabels)", label("team").as_deref(), Some("payments"))?;
        Failure::ensure_eq("spec.signalLabels.severity (alert wins)", label("severity").as_deref(), Some("critical"))?;
        Failure::ensure_eq("spec.severity", spec.severity.as_str(), "critical")
    })
    .await
}
case!(alert_labels_win_over_common_labels, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn long_label_values_are_cut_to_63_chars(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let long = format!("{}-{}", ctx.unique("long"), "x".repeat(100));
        let alert = deployment_alert("LongLabel", &ctx.unique("cut"), SIGNAL_NAMESPACE).label("runbook", &long);
        let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        let cut: String = long.chars().take(63).collect();
        Failure::ensure_eq("spec.signalLabels.runbook", spec.signal_labels.get("runbook"), Some(&cut))
    })
    .await
}
case!(long_label_values_are_cut_to_63_chars, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Posts `alert`, returns the created resource's `spec.targetResource` (kind, name, namespace).
async fn target_of(ctx: &Ctx, cleanup: &super::support::Cleanup, alert: Alert) -> Result<[String; 3], Failure> {
    let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, cleanup)?;
    let target = wait_for_rr(ctx, &created.name).await?.spec.target_resource;
    Ok([target.kind, target.name, target.namespace])
}

async fn namespace_falls_back_to_exported_namespace(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert =
            Alert::firing("Exported").label("deployment", &ctx.unique("exp")).label("exported_namespace", "e2e-x");
        let [_, _, namespace] = target_of(&ctx, &cleanup, alert).await?;
        Failure::ensure_eq("spec.targetResource.namespace", namespace.as_str(), "e2e-x")
    })
    .await
}
case!(namespace_falls_back_to_exported_namespace, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn namespace_defaults_to_default(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert = Alert::firing("NoNamespace").label("deployment", &ctx.unique("nons"));
        let [_, _, namespace] = target_of(&ctx, &cleanup, alert).await?;
        Failure::ensure_eq("spec.targetResource.namespace", namespace.as_str(), "default")
    })
    .await
}
case!(namespace_defaults_to_default, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn severity_is_normalized(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let table = [
            (Some("critical"), "critical"),
            (Some("warning"), "warning"),
            (Some("info"), "info"),
            (Some("page"), "warning"),
            (Some("CRITICAL"), "warning"),
            (None, "warning"),
        ];
        for (i, (sent, expected)) in table.into_iter().enumerate() {
            let mut alert = deployment_alert("SeverityRule", &ctx.unique(&format!("sev-{i}")), SIGNAL_NAMESPACE);
            if let Some(sent) = sent {
                alert = alert.severity(sent);
            }
            let created = expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, &cleanup)?;
            let spec = wait_for_rr(&ctx, &created.name).await?.spec;
            Failure::ensure_eq(
                &format!("spec.severity for severity label {sent:?}"),
                spec.severity.as_str(),
                expected,
            )?;
        }
        Ok(())
    })
    .await
}
case!(severity_is_normalized, area = "ingestion", labels = ["ingestion"], needs_cluster);

async fn target_resource_follows_label_priority(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let table: [(&[&str], &str); 5] = [
            (&["deployment", "node", "service"], "Deployment"),
            (&["statefulset", "daemonset"], "StatefulSet"),
            (&["daemonset", "node"], "DaemonSet"),
            (&["node", "service"], "Node"),
            (&["service"], "Service"),
        ];
        for (i, (labels, kind)) in table.into_iter().enumerate() {
            let mut alert = Alert::firing("TargetRule").namespace(SIGNAL_NAMESPACE);
            for label in labels {
                alert = alert.label(label, &ctx.unique(&format!("t{i}-{label}")));
            }
            let expected_name = ctx.unique(&format!("t{i}-{}", labels[0]));
            let [got_kind, got_name, _] = target_of(&ctx, &cleanup, alert).await?;
            Failure::ensure_eq(&format!("target kind for labels {labels:?}"), got_kind.as_str(), kind)?;
            Failure::ensure_eq(&format!("target name for labels {labels:?}"), got_name, expected_name)?;
        }
        let alertname = ctx.unique("Lonely");
        let [kind, name, _] = target_of(&ctx, &cleanup, Alert::firing(&alertname).namespace(SIGNAL_NAMESPACE)).await?;
        Failure::ensure_eq("target kind without resource labels", kind.as_str(), "Unknown")?;
        Failure::ensure_eq("target name without resource labels", name, alertname)
    })
    .await
}
case!(target_resource_follows_label_priority, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// `summary` of a 207 answer as (total, created, deduplicated, failed).
fn summary(body: &Value) -> Result<[u64; 4], Failure> {
    let field = |name: &str| {
        body.pointer(&format!("/summary/{name}"))
            .and_then(Value::as_u64)
            .ok_or_else(|| Failure::new(format!("207 answer has no integer summary.{name}: {body}")))
    };
    Ok([field("total")?, field("created")?, field("deduplicated")?, field("failed")?])
}

fn results(body: &Value) -> Result<Vec<Value>, Failure> {
    body.get("results")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| Failure::new(format!("207 answer has no results array: {body}")))
}

async fn multi_alert_webhook_answers_207_per_alert(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alerts = (0..3).map(|i| deployment_alert("Multi", &ctx.unique(&format!("multi-{i}")), SIGNAL_NAMESPACE));
        let answer = ctx.post_alert(&Webhook::with_alerts(alerts.collect())).await?;
        answer.expect_status(207)?;
        let body = answer.json()?;
        let results = results(&body)?;
        Failure::ensure_eq("number of results", results.len(), 3)?;
        let mut names = Vec::new();
        for result in results {
            names.push(created_body(result, &cleanup)?.name);
        }
        names.sort();
        names.dedup();
        Failure::ensure_eq("distinct RemediationRequests", names.len(), 3)?;
        Failure::ensure_eq("summary [total, created, deduplicated, failed]", summary(&body)?, [3, 3, 0, 0])
    })
    .await
}
case!(multi_alert_webhook_answers_207_per_alert, area = "ingestion", labels = ["ingestion"]);

async fn multi_alert_summary_counts_duplicates_and_failures(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("mixed");
        let alerts = vec![
            deployment_alert("MixedFirst", &deployment, SIGNAL_NAMESPACE),
            deployment_alert("MixedSecond", &deployment, SIGNAL_NAMESPACE),
            deployment_alert("MixedBroken", &ctx.unique("broken"), SIGNAL_NAMESPACE).without_label("alertname"),
        ];
        let answer = ctx.post_alert(&Webhook::with_alerts(alerts)).await?;
        let body = answer.json().unwrap_or_default();
        for result in body.get("results").and_then(Value::as_array).into_iter().flatten() {
            cleanup.track_answer(result);
        }
        skip_if_any_result_rejected(&body)?;
        answer.expect_status(207)?;
        Failure::ensure_eq("number of results", results(&body)?.len(), 3)?;
        Failure::ensure_eq("summary [total, created, deduplicated, failed]", summary(&body)?, [3, 1, 1, 1])
    })
    .await
}
case!(multi_alert_summary_counts_duplicates_and_failures, area = "ingestion", labels = ["ingestion"]);
