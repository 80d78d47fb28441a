//! What the one-fault proxies of `doubles.rs` do to a signal before the double sees it, or to the
//! double's answer and resources after: each breaks exactly one v2 rule.

use std::collections::BTreeSet;

use axum::body::Bytes;
use fixtures::crd::{LABEL_COMPONENT, LABEL_MANAGED_BY, RemediationRequest, is_terminal_phase};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// The v1 value of the managed-by label.
const V1_MANAGED_BY: &str = "kubernaut-gateway";

/// The (namespace, Pod) pairs a signal body names: alerts' `pod` labels, an event's Pod.
fn named_pods(body: &[u8]) -> BTreeSet<(String, String)> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else { return BTreeSet::new() };
    let mut pods = BTreeSet::new();
    for alert in value.get("alerts").and_then(Value::as_array).into_iter().flatten() {
        let labels = &alert["labels"];
        let namespace = labels["exported_namespace"].as_str().or(labels["namespace"].as_str());
        if let (Some(namespace), Some(pod)) = (namespace, labels["pod"].as_str()) {
            pods.insert((namespace.to_owned(), pod.to_owned()));
        }
    }
    let object = &value["involvedObject"];
    if let (Some("Pod"), Some(namespace), Some(name)) =
        (object["kind"].as_str(), object["namespace"].as_str(), object["name"].as_str())
    {
        pods.insert((namespace.to_owned(), name.to_owned()));
    }
    pods
}

/// Creates every Pod the signal names that does not exist.
pub async fn create_missing_pods(kube: &kube::Client, body: &[u8]) {
    for (namespace, name) in named_pods(body) {
        let pods: Api<Pod> = Api::namespaced(kube.clone(), &namespace);
        let _ = pods.create(&PostParams::default(), &fixtures::world::pod(&namespace, &name)).await;
    }
}

/// Labels every namespace and Pod the signal names `kubernaut.ai/managed=true`.
pub async fn label_managed(kube: &kube::Client, body: &[u8]) {
    let patch = json!({ "metadata": { "labels": { fixtures::world::MANAGED_LABEL: "true" } } });
    let params = PatchParams::default();
    for (namespace, name) in named_pods(body) {
        let namespaces: Api<Namespace> = Api::all(kube.clone());
        let _ = namespaces.patch(&namespace, &params, &Patch::Merge(&patch)).await;
        let pods: Api<Pod> = Api::namespaced(kube.clone(), &namespace);
        let _ = pods.patch(&name, &params, &Patch::Merge(&patch)).await;
    }
}

/// The body with every alert's severity one of `critical`, `warning`, `info` (else `warning`).
/// Bodies over the size limit are left alone (a gateway refuses them unread).
pub fn normalize_severity(body: &Bytes) -> Bytes {
    if body.len() > 256 * 1024 {
        return body.clone();
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else { return body.clone() };
    for alert in value.get_mut("alerts").and_then(Value::as_array_mut).into_iter().flatten() {
        let severity = alert["labels"]["severity"].as_str().unwrap_or_default().to_owned();
        let normalized =
            if ["critical", "warning", "info"].contains(&severity.as_str()) { severity } else { "warning".to_owned() };
        if let Some(labels) = alert.get_mut("labels").and_then(Value::as_object_mut) {
            labels.insert("severity".into(), json!(normalized));
        }
    }
    Bytes::from(value.to_string())
}

/// Writes v1's labels on every RemediationRequest.
pub async fn relabel_v1(rrs: &Api<RemediationRequest>) {
    let patch = json!({ "metadata": { "labels": { LABEL_MANAGED_BY.0: V1_MANAGED_BY, LABEL_COMPONENT.0: null } } });
    let items = rrs.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    for rr in items {
        let name = rr.metadata.name.unwrap_or_default();
        let _ = rrs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await;
    }
}

/// A 207 body in v1's shape: each result with a name, `duplicate` and `statusCode`, `rejected`
/// results `failed`, and no `summary.rejected`.
pub fn v1_results(body: &[u8]) -> Bytes {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else { return Bytes::copy_from_slice(body) };
    for result in value.get_mut("results").and_then(Value::as_array_mut).into_iter().flatten() {
        let status = result["status"].as_str().unwrap_or_default().to_owned();
        let fingerprint = result["fingerprint"].as_str().unwrap_or("000000000000").to_owned();
        let (status, code) = match status.as_str() {
            "created" => ("created", 201),
            "duplicate" => ("duplicate", 202),
            _ => ("failed", 400),
        };
        result["status"] = json!(status);
        result["statusCode"] = json!(code);
        result["duplicate"] = json!(status == "duplicate");
        result["remediationRequestName"] = json!(format!("rr-{}-00000000", fingerprint.get(..12).unwrap_or("0")));
    }
    if let Some(summary) = value.get_mut("summary").and_then(Value::as_object_mut) {
        let rejected = summary.remove("rejected").and_then(|r| r.as_u64()).unwrap_or(0);
        let failed = summary.get("failed").and_then(Value::as_u64).unwrap_or(0);
        summary.insert("failed".into(), json!(failed + rejected));
    }
    Bytes::from(value.to_string())
}

/// Sets every terminal RemediationRequest (that would not deduplicate anyway) to `Blocked`;
/// returns their names and phases for [`restore_phases`].
pub async fn hide_terminal(rrs: &Api<RemediationRequest>) -> Vec<(String, String)> {
    let items = rrs.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    let mut hidden = Vec::new();
    for rr in items.iter().filter(|rr| is_terminal_phase(rr.phase())) {
        let name = rr.metadata.name.clone().unwrap_or_default();
        let patch = json!({ "status": { "overallPhase": "Blocked" } });
        if rrs.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.is_ok() {
            hidden.push((name, rr.phase().to_owned()));
        }
    }
    hidden
}

/// Writes back the phases [`hide_terminal`] hid.
pub async fn restore_phases(rrs: &Api<RemediationRequest>, hidden: Vec<(String, String)>) {
    for (name, phase) in hidden {
        let patch = json!({ "status": { "overallPhase": phase } });
        let _ = rrs.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await;
    }
}
