//! Audit events (the gateway's trail in DataStorage, as upstream's audit specs read it): a new
//! signal leaves `gateway.signal.received` and `gateway.crd.created` under the RR's name, a repeat
//! `gateway.signal.deduplicated` with its occurrence count, and the received and deduplicated
//! events carry the signal's body, labels and annotations for both signal types. Events are
//! batched by the gateway, so every read polls DataStorage with a deadline. Skipped when the run
//! knows no DataStorage URL.

use std::time::Duration;

use fixtures::datastorage::{self, CRD_CREATED, SIGNAL_DEDUPLICATED, SIGNAL_RECEIVED};
use fixtures::payloads::{Alert, Event, Webhook};
use serde_json::{Value, json};

use super::support::{alert_created, cleaning_up, event_created, expect_duplicate, pod_alert, world_with_pod};
use crate::{Ctx, Failure, case, eventually};

/// How long a case waits for its events (the gateway flushes its audit buffer every second).
const AUDIT_DEADLINE: Duration = Duration::from_secs(30);
/// Between two reads of DataStorage.
const AUDIT_INTERVAL: Duration = Duration::from_millis(250);

/// The DataStorage URL of the run, or a skip.
fn datastorage_url(ctx: &Ctx) -> Result<String, Failure> {
    ctx.config().datastorage_url.clone().ok_or_else(|| {
        Failure::skip(
            "needs the DataStorage the gateway sends audit events to: pass --datastorage-url (in Kind the \
             DataStorage double answers at http://localhost:18091; the embedded target starts its own)",
        )
    })
}

/// The gateway events about `correlation_id` of `event_type` (all types when `None`), as JSON,
/// once there are exactly `count` of them.
async fn audit_events(
    ctx: &Ctx,
    correlation_id: &str,
    event_type: Option<&str>,
    count: usize,
) -> Result<Vec<Value>, Failure> {
    let url = datastorage_url(ctx)?;
    let http = ctx.config().http.clone();
    eventually(AUDIT_DEADLINE, AUDIT_INTERVAL, || {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let found = datastorage::query(&http, &url, correlation_id, event_type)
                .await
                .map_err(|e| Failure::infra(e.to_string()))?;
            let found: Vec<Value> = found.iter().filter_map(|e| serde_json::to_value(e).ok()).collect();
            Failure::ensure(found.len() == count, || {
                format!("{} audit events for {correlation_id} ({event_type:?}), want {count}", found.len())
            })?;
            Ok(found)
        }
    })
    .await
}

/// The one event of `event_type` about `correlation_id`.
async fn one_event(ctx: &Ctx, correlation_id: &str, event_type: &str) -> Result<Value, Failure> {
    let mut events = audit_events(ctx, correlation_id, Some(event_type), 1).await?;
    events.pop().ok_or_else(|| Failure::new(format!("no {event_type} event for {correlation_id}")))
}

fn field<'a>(event: &'a Value, pointer: &str) -> &'a Value {
    event.pointer(pointer).unwrap_or(&Value::Null)
}

fn ensure_field(event: &Value, pointer: &str, want: Value) -> Result<(), Failure> {
    Failure::ensure_eq(pointer, field(event, pointer), &want)
}

/// The envelope every gateway event carries: version, category, `action`, success, the RR's
/// name as `correlation_id` (the last part of `rr`) and a time.
fn ensure_envelope(event: &Value, action: &str, rr: &str) -> Result<(), Failure> {
    ensure_field(event, "/version", json!("1.0"))?;
    ensure_field(event, "/event_category", json!("gateway"))?;
    ensure_field(event, "/event_action", json!(action))?;
    ensure_field(event, "/event_outcome", json!("success"))?;
    let name = rr.rsplit('/').next().unwrap_or(rr);
    ensure_field(event, "/correlation_id", json!(name))?;
    let stamp = field(event, "/event_timestamp").as_str().unwrap_or_default();
    super::support::parse_time("event_timestamp", stamp).map(drop)
}

/// The fields upstream's emission spec checks on a signal event (received or deduplicated).
fn ensure_signal_event(
    event: &Value,
    action: &str,
    fingerprint: &str,
    namespace: &str,
    rr: &str,
) -> Result<(), Failure> {
    ensure_envelope(event, action, rr)?;
    ensure_field(event, "/actor_type", json!("authenticated-service"))?;
    let actor = field(event, "/actor_id").as_str().unwrap_or_default();
    Failure::ensure(!actor.is_empty(), || format!("actor_id is empty: {event}"))?;
    ensure_field(event, "/resource_type", json!("Signal"))?;
    ensure_field(event, "/resource_id", json!(fingerprint))?;
    ensure_field(event, "/namespace", json!(namespace))?;
    ensure_field(event, "/event_data/signal_type", json!("alert"))?;
    ensure_field(event, "/event_data/fingerprint", json!(fingerprint))?;
    ensure_field(event, "/event_data/namespace", json!(namespace))?;
    ensure_field(event, "/event_data/remediation_request", json!(rr))
}

/// Upstream spec: `test/e2e/gateway/23_audit_emission_test.go` (signal received) and
/// `15_audit_trace_validation_test.go` — a new alert leaves exactly two gateway events under the
/// RR's name: `gateway.signal.received` (actor = the caller, resource = the fingerprint, severity,
/// target, `deduplication_status: new`) and `gateway.crd.created` about the RemediationRequest,
/// both with the envelope (`version`, category, action, success, `correlation_id`, a time).
async fn new_alert_is_audited_as_received_and_created(ctx: Ctx) -> Result<(), Failure> {
    datastorage_url(&ctx)?;
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "audit-new", "api-0").await?;
        let alert = pod_alert("AuditNewSignal", "api-0", world.namespace()).severity("warning");
        let created = alert_created(&ctx, &cleanup, &Webhook::with_alert(alert)).await?;
        let rr = format!("{}/{}", ctx.config().controller_namespace, created.name);
        let all = audit_events(&ctx, &created.name, None, 2).await?;
        let received = one_event(&ctx, &created.name, SIGNAL_RECEIVED).await?;
        ensure_signal_event(&received, "received", &created.fingerprint, world.namespace(), &rr)?;
        ensure_field(&received, "/event_data/signal_name", json!("AuditNewSignal"))?;
        ensure_field(&received, "/event_data/severity", json!("warning"))?;
        ensure_field(&received, "/event_data/resource_kind", json!("Pod"))?;
        ensure_field(&received, "/event_data/resource_name", json!("api-0"))?;
        ensure_field(&received, "/event_data/deduplication_status", json!("new"))?;
        let crd = all.iter().find(|e| e["event_type"] == CRD_CREATED);
        let crd = crd.ok_or_else(|| Failure::new(format!("no {CRD_CREATED} among {all:?}")))?;
        ensure_envelope(crd, "created", &rr)?;
        ensure_field(crd, "/resource_type", json!("RemediationRequest"))?;
        ensure_field(crd, "/event_data/fingerprint", json!(created.fingerprint))?;
        ensure_field(crd, "/namespace", json!(world.namespace()))?;
        ensure_field(crd, "/event_data/remediation_request", json!(rr))
    })
    .await
}
case!(new_alert_is_audited_as_received_and_created, area = "audit", labels = ["audit"], needs_cluster);

/// Upstream spec: `test/e2e/gateway/23_audit_emission_test.go` (signal deduplicated) — the first
/// repeat of an alert leaves one `gateway.signal.deduplicated` under the existing RR's name with
/// `occurrence_count: 2` and `deduplication_status: duplicate`.
async fn repeat_is_audited_as_deduplicated_with_count(ctx: Ctx) -> Result<(), Failure> {
    datastorage_url(&ctx)?;
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "audit-dup", "api-0").await?;
        let webhook = Webhook::with_alert(pod_alert("AuditRepeat", "api-0", world.namespace()).severity("warning"));
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let (duplicate, count) = expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        Failure::ensure_eq("duplicate's remediationRequestName", duplicate.name.as_str(), created.name.as_str())?;
        let event = one_event(&ctx, &created.name, SIGNAL_DEDUPLICATED).await?;
        let rr = format!("{}/{}", ctx.config().controller_namespace, created.name);
        ensure_signal_event(&event, "deduplicated", &created.fingerprint, world.namespace(), &rr)?;
        ensure_field(&event, "/event_data/signal_name", json!("AuditRepeat"))?;
        ensure_field(&event, "/event_data/deduplication_status", json!("duplicate"))?;
        ensure_field(&event, "/event_data/occurrence_count", json!(count))?;
        ensure_field(&event, "/event_data/occurrence_count", json!(2))
    })
    .await
}
case!(repeat_is_audited_as_deduplicated_with_count, area = "audit", labels = ["audit", "dedup"], needs_cluster);

/// `original_payload` is the whole webhook (`status`, `alerts`, `receiver`), `signal_labels`
/// exactly the alert's labels and `signal_annotations` present and empty.
fn ensure_alert_data(event: &Value, labels: &Value) -> Result<(), Failure> {
    let payload = field(event, "/event_data/original_payload");
    for key in ["status", "alerts", "receiver"] {
        Failure::ensure(payload.get(key).is_some(), || format!("original_payload has no `{key}`: {payload}"))?;
    }
    ensure_field(event, "/event_data/signal_labels", labels.clone())?;
    ensure_field(event, "/event_data/signal_annotations", json!({}))
}

/// Upstream spec: `test/e2e/gateway/24_audit_signal_data_test.go` (Prometheus) — the received and
/// the deduplicated events of an alert with three labels and no annotations carry the whole
/// webhook as `original_payload`, exactly those labels, and empty annotations.
async fn alert_events_carry_payload_labels_and_annotations(ctx: Ctx) -> Result<(), Failure> {
    datastorage_url(&ctx)?;
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "audit-data", "api-0").await?;
        let alert = Alert::firing("AuditSignalData").namespace(world.namespace()).label("pod", "api-0");
        let labels = alert.to_json()["labels"].clone();
        let count = labels.as_object().map_or(0, serde_json::Map::len);
        Failure::ensure_eq("labels sent", count, 3)?;
        let webhook = Webhook::with_alert(alert);
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        ensure_alert_data(&one_event(&ctx, &created.name, SIGNAL_RECEIVED).await?, &labels)?;
        expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        ensure_alert_data(&one_event(&ctx, &created.name, SIGNAL_DEDUPLICATED).await?, &labels)
    })
    .await
}
case!(alert_events_carry_payload_labels_and_annotations, area = "audit", labels = ["audit"], needs_cluster);

/// Upstream spec: `test/e2e/gateway/24_audit_signal_data_test.go` (Kubernetes events) — the
/// received event of a Warning event carries the event as `original_payload` and empty (present)
/// `signal_labels` and `signal_annotations`.
async fn event_signal_carries_payload_and_empty_maps(ctx: Ctx) -> Result<(), Failure> {
    datastorage_url(&ctx)?;
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "audit-event", "backoff-0").await?;
        let event = Event::warning("BackOff", "Pod", "backoff-0", world.namespace());
        let created = event_created(&ctx, &cleanup, &event).await?;
        let received = one_event(&ctx, &created.name, SIGNAL_RECEIVED).await?;
        ensure_field(&received, "/event_data/signal_name", json!("BackOff"))?;
        ensure_field(&received, "/event_data/signal_labels", json!({}))?;
        ensure_field(&received, "/event_data/signal_annotations", json!({}))?;
        let payload = field(&received, "/event_data/original_payload");
        ensure_field(payload, "/involvedObject/name", json!("backoff-0"))?;
        ensure_field(payload, "/reason", json!("BackOff"))
    })
    .await
}
case!(event_signal_carries_payload_and_empty_maps, area = "audit", labels = ["audit", "events"], needs_cluster);

/// Labels and annotations of the annotated alert beyond its name, namespace, Pod and severity.
const EXTRA_LABELS: [(&str, &str); 3] =
    [("app", "payment-service"), ("environment", "production"), ("source", "prometheus")];
const ANNOTATIONS: [(&str, &str); 3] = [
    ("summary", "memory usage above 90%"),
    ("description", "the payment service leaks memory"),
    ("runbook_url", "https://runbooks.example.com/memory"),
];

/// The event's `original_payload` is the webhook with its alert, and `signal_labels` and
/// `signal_annotations` exactly the alert's.
fn ensure_annotated_data(event: &Value, labels: &Value, annotations: &Value) -> Result<(), Failure> {
    let payload = field(event, "/event_data/original_payload");
    for key in ["status", "receiver"] {
        Failure::ensure(payload.get(key).is_some(), || format!("original_payload has no `{key}`: {payload}"))?;
    }
    let alerts = payload.get("alerts").and_then(Value::as_array).map_or(0, Vec::len);
    Failure::ensure_eq("alerts in original_payload", alerts, 1)?;
    ensure_field(event, "/event_data/signal_labels", labels.clone())?;
    ensure_field(event, "/event_data/signal_annotations", annotations.clone())
}

/// Upstream specs: `test/e2e/gateway/24_audit_signal_data_test.go` (full capture, minimal
/// payload, the deduplicated event, across signal types) — an alert with labels of its own and
/// annotations: its received event (full envelope) carries the webhook, exactly its labels and
/// exactly its annotations, and so does the deduplicated event of its repeat.
async fn annotated_alert_events_carry_its_labels_and_annotations(ctx: Ctx) -> Result<(), Failure> {
    datastorage_url(&ctx)?;
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "audit-annotated", "payment-0").await?;
        let mut alert = pod_alert("PodMemoryHigh", "payment-0", world.namespace()).severity("warning");
        for (key, value) in EXTRA_LABELS {
            alert = alert.label(key, value);
        }
        for (key, value) in ANNOTATIONS {
            alert = alert.annotation(key, value);
        }
        let (labels, annotations) = (alert.to_json()["labels"].clone(), alert.to_json()["annotations"].clone());
        let webhook = Webhook::with_alert(alert);
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let rr = format!("{}/{}", ctx.config().controller_namespace, created.name);
        let received = one_event(&ctx, &created.name, SIGNAL_RECEIVED).await?;
        ensure_signal_event(&received, "received", &created.fingerprint, world.namespace(), &rr)?;
        ensure_annotated_data(&received, &labels, &annotations)?;
        expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        let deduplicated = one_event(&ctx, &created.name, SIGNAL_DEDUPLICATED).await?;
        ensure_signal_event(&deduplicated, "deduplicated", &created.fingerprint, world.namespace(), &rr)?;
        ensure_annotated_data(&deduplicated, &labels, &annotations)
    })
    .await
}
case!(
    annotated_alert_events_carry_its_labels_and_annotations,
    area = "audit",
    labels = ["audit", "dedup"],
    needs_cluster
);
