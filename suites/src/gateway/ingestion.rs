//! Prometheus AlertManager ingestion (contract §3, §6): the created answer, the RemediationRequest
//! it makes (spec, metadata, initial status), label, namespace, severity and target rules, owner
//! resolution, and what becomes of a webhook whose targets do not exist.

use fixtures::crd::{ANNOTATION_CREATED_AT, LABEL_COMPONENT, LABEL_MANAGED_BY, RemediationRequest};
use fixtures::payloads::{Alert, Webhook};
use sha2::Digest;

use super::support::{
    BATCH_PARSE_FAILED, Cleanup, Signalled, Writer, admitted, alert_created, cleaning_up, expect_bad_request,
    expect_duplicate, expect_problem, parse_time, pod_alert, rrs_about, str_field, wait_for_rr, wait_for_rr_state,
    world_with_pod,
};
use crate::{Ctx, Failure, case};

/// The fingerprint of a target (§6): lowercase hex SHA-256 of `<ns>:<Kind>:<name>`.
pub fn fingerprint_of(namespace: &str, kind: &str, name: &str) -> String {
    hex::encode(sha2::Sha256::digest(format!("{namespace}:{kind}:{name}")))
}

/// Upstream rule: `pkg/gateway/response_types.go`, `processing/crd_creator.go` — a new signal is
/// answered 201 with status, message, fingerprint, `duplicate: false` and the RR's name and
/// namespace; the name is `rr-<fingerprint[:12]>-<8 hex>`.
async fn created_answer_has_contract_fields(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "fields", "api-0").await?;
        let webhook = Webhook::with_alert(pod_alert("CreatedFields", "api-0", world.namespace()));
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let namespace = str_field(&created.body, "remediationRequestNamespace")?;
        Failure::ensure_eq("remediationRequestNamespace", namespace, ctx.config().controller_namespace.as_str())?;
        let message = str_field(&created.body, "message")?;
        Failure::ensure(!message.is_empty(), || "message is empty".to_owned())?;
        ensure_rr_name(&created)
    })
    .await
}
case!(created_answer_has_contract_fields, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// `rr-<fingerprint[:12]>-<8 lowercase hex>`.
fn ensure_rr_name(created: &Signalled) -> Result<(), Failure> {
    let prefix = format!("rr-{}-", &created.fingerprint[..12]);
    let name = &created.name;
    let suffix = name.strip_prefix(&prefix).unwrap_or_default();
    let hex = suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    Failure::ensure(hex, || format!("name {name:?} is not {prefix}<8 hex>"))
}

/// Upstream rule: `types/fingerprint.go` — the fingerprint is the SHA-256 of the resolved
/// target `<ns>:<Kind>:<name>`, whatever the alert's name.
async fn fingerprint_is_sha256_of_the_target(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "fp", "db-0").await?;
        let webhook = Webhook::with_alert(pod_alert("FingerprintRule", "db-0", world.namespace()));
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let expected = fingerprint_of(world.namespace(), "Pod", "db-0");
        Failure::ensure_eq("fingerprint", created.fingerprint.as_str(), expected.as_str())
    })
    .await
}
case!(fingerprint_is_sha256_of_the_target, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `processing/crd_creator.go` — the spec: `signalType: "alert"`, source
/// `prometheus`, target type `kubernetes`, the Pod as target, times, labels, annotations and the
/// whole body as `originalPayload`; `providerData` a JSON object without a `resource` key.
async fn remediation_request_spec_describes_the_alert(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "spec", "checkout-0").await?;
        let alert = pod_alert("HighLatency", "checkout-0", world.namespace())
            .severity("critical")
            .annotation("summary", "p99 latency above 2s");
        let starts_at = alert.to_json()["startsAt"].as_str().unwrap_or_default().to_owned();
        let created = alert_created(&ctx, &cleanup, &Webhook::with_alert(alert)).await?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        Failure::ensure_eq("spec.signalFingerprint", spec.signal_fingerprint.as_str(), created.fingerprint.as_str())?;
        Failure::ensure_eq("spec.signalName", spec.signal_name.as_str(), "HighLatency")?;
        Failure::ensure_eq("spec.severity", spec.severity.as_str(), "critical")?;
        Failure::ensure_eq("spec.signalType", spec.signal_type.as_str(), "alert")?;
        Failure::ensure_eq("spec.signalSource", spec.signal_source.as_str(), "prometheus")?;
        Failure::ensure_eq("spec.targetType", spec.target_type.as_str(), "kubernetes")?;
        let target = &spec.target_resource;
        let got = [target.kind.as_str(), target.name.as_str(), target.namespace.as_str()];
        Failure::ensure_eq("spec.targetResource", got, ["Pod", "checkout-0", world.namespace()])?;
        let firing = parse_time("spec.firingTime", spec.firing_time.as_deref().unwrap_or_default())?;
        Failure::ensure_eq("spec.firingTime", firing, parse_time("startsAt", &starts_at)?)?;
        let received = parse_time("spec.receivedTime", spec.received_time.as_deref().unwrap_or_default())?;
        let skew = (jiff::Timestamp::now() - received).get_seconds().abs();
        Failure::ensure(skew < 300, || format!("spec.receivedTime {received} is {skew}s away from now"))?;
        Failure::ensure_eq(
            "spec.signalLabels.pod",
            spec.signal_labels.get("pod").map(String::as_str),
            Some("checkout-0"),
        )?;
        let summary = spec.signal_annotations.get("summary").map(String::as_str);
        Failure::ensure_eq("spec.signalAnnotations.summary", summary, Some("p99 latency above 2s"))?;
        Failure::ensure(spec.original_payload.contains("HighLatency"), || {
            format!("spec.originalPayload does not hold the webhook: {}", spec.original_payload)
        })?;
        // The target lives in spec.targetResource only (`test/e2e/gateway/33_webhook_integration_test.go`).
        let provider: serde_json::Value = serde_json::from_str(&spec.provider_data)
            .map_err(|e| Failure::new(format!("spec.providerData is not JSON ({e}): {:?}", spec.provider_data)))?;
        let object = provider.as_object();
        let object = object.ok_or_else(|| Failure::new(format!("spec.providerData is not an object: {provider}")))?;
        Failure::ensure(!object.contains_key("resource"), || format!("spec.providerData has `resource`: {provider}"))
    })
    .await
}
case!(remediation_request_spec_describes_the_alert, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `processing/crd_creator.go` — labels `app.kubernetes.io/managed-by=
/// gateway-service` and `component=remediation`, annotation `kubernaut.ai/created-at`, status
/// `deduplication` with `occurrenceCount: 1` and no `overallPhase`.
async fn remediation_request_metadata_and_initial_status(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "meta", "web-0").await?;
        let webhook = Webhook::with_alert(pod_alert("FreshIncident", "web-0", world.namespace()));
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
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

/// Upstream rule: `adapters/prometheus_adapter.go` (`MergeLabels(alert, common)`) — on a key in
/// both, `commonLabels` wins in `signalLabels`; `spec.severity` is still the alert's own label.
async fn common_labels_win_over_alert_labels(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "merge", "pay-0").await?;
        let alert = pod_alert("Merged", "pay-0", world.namespace()).severity("critical").label("team", "alerts");
        let webhook = Webhook::with_alert(alert).common_label("team", "payments").common_label("tier", "backend");
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        let label = |key: &str| spec.signal_labels.get(key).cloned();
        Failure::ensure_eq("spec.signalLabels.team (commonLabels win)", label("team").as_deref(), Some("payments"))?;
        Failure::ensure_eq("spec.signalLabels.tier (from commonLabels)", label("tier").as_deref(), Some("backend"))?;
        Failure::ensure_eq("spec.signalLabels.severity (the alert's)", label("severity").as_deref(), Some("critical"))
    })
    .await
}
case!(common_labels_win_over_alert_labels, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` — label values are cut to 63 bytes.
async fn long_label_values_are_cut_to_63_chars(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "cut", "long-0").await?;
        let long = format!("runbook-{}", "x".repeat(100));
        let alert = pod_alert("LongLabel", "long-0", world.namespace()).label("runbook", &long);
        let created = alert_created(&ctx, &cleanup, &Webhook::with_alert(alert)).await?;
        let spec = wait_for_rr(&ctx, &created.name).await?.spec;
        let cut: String = long.chars().take(63).collect();
        Failure::ensure_eq("spec.signalLabels.runbook", spec.signal_labels.get("runbook"), Some(&cut))
    })
    .await
}
case!(long_label_values_are_cut_to_63_chars, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Posts `alert` until admitted, returns the created resource's `spec.targetResource`.
async fn target_of(ctx: &Ctx, cleanup: &Cleanup, alert: Alert) -> Result<[String; 3], Failure> {
    let created = alert_created(ctx, cleanup, &Webhook::with_alert(alert)).await?;
    let target = wait_for_rr(ctx, &created.name).await?.spec.target_resource;
    Ok([target.kind, target.name, target.namespace])
}

/// Upstream rule: `adapters/prometheus_adapter.go` (`extractNamespace`) — `exported_namespace`
/// wins over `namespace`.
async fn exported_namespace_wins_over_namespace(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "exported", "exp-0").await?;
        let alert = Alert::firing("Exported")
            .pod("exp-0")
            .namespace("monitoring")
            .label("exported_namespace", world.namespace());
        let [kind, name, namespace] = target_of(&ctx, &cleanup, alert).await?;
        Failure::ensure_eq("spec.targetResource", [kind.as_str(), name.as_str()], ["Pod", "exp-0"])?;
        Failure::ensure_eq("spec.targetResource.namespace", namespace.as_str(), world.namespace())
    })
    .await
}
case!(exported_namespace_wins_over_namespace, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` (`extractAlertResource`) — an alert without
/// `namespace` or `exported_namespace` is about the `default` namespace (a Pod there labelled
/// `kubernaut.ai/managed=true`, so scope does not depend on `default`'s own labels).
async fn namespace_defaults_to_default(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let default = ctx.existing_namespace("default");
        let pod = default.labelled_pod(&ctx.unique("nons"), true).await?;
        let [kind, name, namespace] = target_of(&ctx, &cleanup, Alert::firing("NoNamespace").pod(&pod)).await?;
        Failure::ensure_eq("spec.targetResource", [kind.as_str(), name.as_str()], ["Pod", pod.as_str()])?;
        Failure::ensure_eq("spec.targetResource.namespace", namespace.as_str(), "default")
    })
    .await
}
case!(namespace_defaults_to_default, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `audit_helpers.go`, `adapters/prometheus_adapter.go` (DD-SEVERITY-001) — the
/// severity label is passed through as is (`page` stays `page`); none at all is `unknown`.
async fn severity_is_passed_through(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("severity").await?;
        let table =
            [(Some("critical"), "critical"), (Some("page"), "page"), (Some("CRITICAL"), "CRITICAL"), (None, "unknown")];
        for (i, (sent, expected)) in table.into_iter().enumerate() {
            let pod = world.pod(&format!("sev-{i}")).await?;
            let mut alert = pod_alert("SeverityRule", &pod, world.namespace());
            if let Some(sent) = sent {
                alert = alert.severity(sent);
            }
            let created = alert_created(&ctx, &cleanup, &Webhook::with_alert(alert)).await?;
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
case!(severity_is_passed_through, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Label pairs of one alert.
type Labels<'a> = &'a [(&'a str, &'a str)];

/// Upstream rule: `adapters/prometheus_adapter.go` (`extractTargetResource`),
/// `resource_registry.go` — candidates by tier (workloads 1, Pod and Node 3), then kind name;
/// the first that exists wins.
async fn target_follows_tiers_and_existence(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("tiers").await?;
        let ns = world.namespace().to_owned();
        world.pod("tier-pod").await?;
        world.deployment("tier-deploy", 1).await?;
        world.stateful_set("tier-sts").await?;
        world.daemon_set("tier-ds").await?;
        let table: [(Labels, [&str; 2]); 3] = [
            (&[("pod", "tier-pod"), ("deployment", "tier-deploy")], ["Deployment", "tier-deploy"]),
            (&[("statefulset", "tier-sts"), ("daemonset", "tier-ds")], ["DaemonSet", "tier-ds"]),
            (&[("deployment", "tier-missing"), ("pod", "tier-pod")], ["Pod", "tier-pod"]),
        ];
        for (labels, expected) in table {
            let mut alert = Alert::firing("TargetRule").namespace(&ns);
            for (key, value) in labels {
                alert = alert.label(key, value);
            }
            let [kind, name, _] = target_of(&ctx, &cleanup, alert).await?;
            Failure::ensure_eq(&format!("target for labels {labels:?}"), [kind.as_str(), name.as_str()], expected)?;
        }
        Ok(())
    })
    .await
}
case!(target_follows_tiers_and_existence, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `adapters/owner_resolver.go` — a Pod is resolved to its top-level controller:
/// alerts about two Pods of one Deployment are one incident whose target is the Deployment.
async fn pods_of_one_deployment_are_one_incident(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("owner").await?;
        let chain = world.deployment("frontend", 2).await?;
        let first_pod = chain.pods.first().cloned().unwrap_or_default();
        let second_pod = chain.pods.get(1).cloned().unwrap_or_default();
        let first = Webhook::with_alert(pod_alert("PodRestarting", &first_pod, world.namespace()));
        let created = alert_created(&ctx, &cleanup, &first).await?;
        let expected = fingerprint_of(world.namespace(), "Deployment", &chain.deployment);
        Failure::ensure_eq("fingerprint (the Deployment's)", created.fingerprint.as_str(), expected.as_str())?;
        let target = wait_for_rr(&ctx, &created.name).await?.spec.target_resource;
        let got = [target.kind.as_str(), target.name.as_str()];
        Failure::ensure_eq("spec.targetResource", got, ["Deployment", chain.deployment.as_str()])?;
        let second = Webhook::with_alert(pod_alert("PodRestarting", &second_pod, world.namespace()));
        // The sibling may reach the gateway's caches later than the first Pod.
        let (repeat, count) = expect_duplicate(&admitted(&ctx, || ctx.post_alert(&second)).await?)?;
        Failure::ensure_eq("remediationRequestName for the sibling Pod", repeat.name, created.name)?;
        Failure::ensure_eq("metadata.count", count, 2)
    })
    .await
}
case!(pods_of_one_deployment_are_one_incident, area = "ingestion", labels = ["ingestion", "owner"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` (`ParseBatch`) — an alert whose target does
/// not exist is dropped; when all are, 400 "Failed to parse batch payload" and no resource.
async fn alert_about_a_missing_pod_is_400(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("missing").await?;
        let webhook = Webhook::with_alert(pod_alert("Ghost", "no-such-pod", world.namespace()));
        expect_bad_request(&ctx.post_alert(&webhook).await?, BATCH_PARSE_FAILED).map(drop)
    })
    .await
}
case!(alert_about_a_missing_pod_is_400, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` (`extractTargetResource`: no candidate →
/// `Unknown/unknown`), `processing/crd_creator.go` (refuses an `Unknown` target) — an alert
/// without any target label in a managed namespace is a 500 and makes no resource.
async fn alert_without_target_labels_makes_no_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("untargeted").await?;
        let webhook = Webhook::with_alert(Alert::firing("Lonely").namespace(world.namespace()));
        let answer = admitted(&ctx, || ctx.post_alert(&webhook)).await?;
        let body = expect_problem(&answer, 500, "internal-error", Writer::Handler)?;
        Failure::ensure_eq("detail", str_field(&body, "detail")?, "Internal server error")?;
        let made = rrs_about(&ctx, world.namespace()).await?;
        Failure::ensure(made.is_empty(), || format!("{} RemediationRequest(s) made without a target", made.len()))
    })
    .await
}
case!(alert_without_target_labels_makes_no_request, area = "ingestion", labels = ["ingestion"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` — a `resolved` alert is processed like a
/// firing one.
async fn resolved_alert_is_processed_like_firing(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "resolved", "calm-0").await?;
        let webhook = Webhook::with_alert(pod_alert("AllClear", "calm-0", world.namespace()).resolved());
        alert_created(&ctx, &cleanup, &webhook).await.map(drop)
    })
    .await
}
case!(resolved_alert_is_processed_like_firing, area = "ingestion", labels = ["ingestion"], needs_cluster);
