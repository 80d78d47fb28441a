//! Deliberately wrong gateways on 127.0.0.1: one that answers 200 `{}` to everything, and a
//! proxy in front of the contract double that changes exactly one behaviour (see [`Fault`]), so
//! the cases that fail there fail for that reason only. The rewrites of requests and answers are
//! in `rewrites.rs`.

use std::sync::Arc;

use crate::rewrites;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fixtures::crd::{RemediationRequest, is_terminal_phase};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

/// Serves `app` on 127.0.0.1:0 for the rest of the test; returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Answers 200 with an empty JSON object to every method on every path.
pub fn always_ok() -> Router {
    Router::new().fallback(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}") })
}

/// The one behaviour a [`proxy`] changes.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Before each signal, marks every in-progress RemediationRequest `Completed` (signals are
    /// serialized so concurrent ones see each other's resources): nothing is ever a duplicate.
    NeverDeduplicates,
    /// A signal the double answers with a 4xx (validation, size, content type, freshness, auth)
    /// is answered 201 with a made-up created body instead.
    SkipsValidation,
    /// A problem answer to a signal gets the request's body and `Authorization` header appended
    /// to its `detail`, unredacted.
    LeaksSecrets,
    /// The metrics count events under the alerts' `source_type` (the double's Event label value
    /// is rewritten to its Prometheus one), so events have no series of their own.
    CountsEventsAsAlerts,
    /// The metrics lose the Go runtime and process families (a registry of the gateway's own).
    HidesRuntimeFamilies,
    /// Makes the Pods a signal names before the double sees it: RemediationRequests for objects
    /// that do not exist.
    CreatesMissingObjects,
    /// Labels the namespace and the Pod a signal names `kubernaut.ai/managed=true` first: scope
    /// ignored.
    IgnoresScope,
    /// Rewrites alert severities to `critical`, `warning` or `info` (anything else and none:
    /// `warning`), as v1 claimed.
    NormalizesSeverity,
    /// Answers carry the inbound `X-Request-ID` instead of a fresh one.
    EchoesRequestId,
    /// Created RemediationRequests get v1's labels instead of v2's.
    UsesV1Labels,
    /// 207 answers use v1's result shape (a name and `duplicate` per result, no `rejected`).
    AnswersV1Results,
    /// Terminal RemediationRequests count as in progress while a signal is processed.
    DeduplicatesAgainstTerminal,
    /// Answers lose every `Access-Control-*` header, preflights included: no CORS.
    DropsCors,
}

/// The `source_type` values of events and alerts (contract §7).
const EVENT_SOURCE_TYPE: &str = r#"source_type="kubernetes-events""#;
const ALERT_SOURCE_TYPE: &str = r#"source_type="prometheus""#;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    rrs: Api<RemediationRequest>,
    kube: kube::Client,
    fault: Fault,
    serial: Arc<tokio::sync::Mutex<()>>,
}

/// A proxy to the double at `upstream` (whose resources `kube` reads) with `fault`.
pub fn proxy(upstream: &str, kube: kube::Client, namespace: &str, fault: Fault) -> Router {
    let state = Proxy {
        upstream: upstream.to_owned(),
        http: crate::harness::http(),
        rrs: Api::namespaced(kube.clone(), namespace),
        kube,
        fault,
        serial: Arc::default(),
    };
    Router::new().fallback(forward).with_state(state)
}

fn is_signal(method: &Method, path: &str) -> bool {
    method == Method::POST && [suites::PROMETHEUS_PATH, suites::KUBERNETES_EVENT_PATH].contains(&path)
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // A client that goes away mid-body gets nothing: there is nobody to answer.
    let Ok(body) = axum::body::to_bytes(body, 4 << 20).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let signal = is_signal(&parts.method, parts.uri.path());
    let _serial = match (signal, proxy.fault) {
        (true, Fault::NeverDeduplicates) => {
            let guard = proxy.serial.clone().lock_owned().await;
            end_every_incident(&proxy.rrs).await;
            Some(guard)
        }
        (true, Fault::DeduplicatesAgainstTerminal) => Some(proxy.serial.clone().lock_owned().await),
        _ => None,
    };
    let hidden = match (signal, proxy.fault) {
        (true, Fault::DeduplicatesAgainstTerminal) => rewrites::hide_terminal(&proxy.rrs).await,
        _ => Vec::new(),
    };
    let body = match (signal, proxy.fault) {
        (true, Fault::CreatesMissingObjects) => {
            rewrites::create_missing_pods(&proxy.kube, &body).await;
            body
        }
        (true, Fault::IgnoresScope) => {
            rewrites::label_managed(&proxy.kube, &body).await;
            body
        }
        (true, Fault::NormalizesSeverity) => rewrites::normalize_severity(&body),
        _ => body,
    };
    let inbound_id = parts.headers.get("x-request-id").cloned();
    let leak = format!(
        " [request body: {}] [authorization: {}]",
        String::from_utf8_lossy(&body),
        parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    );
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = proxy.http.request(parts.method.clone(), format!("{}{path}", proxy.upstream)).body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("the contract double answers");
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let bytes = answer.bytes().await.expect("the contract double's body");
    for hop in [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::CONNECTION] {
        headers.remove(hop);
    }
    rewrites::restore_phases(&proxy.rrs, hidden).await;
    if let Fault::DropsCors = proxy.fault {
        let cors: Vec<_> = headers.keys().filter(|k| k.as_str().starts_with("access-control-")).cloned().collect();
        cors.into_iter().for_each(|name| drop(headers.remove(name)));
    }
    if let (Fault::EchoesRequestId, Some(id)) = (proxy.fault, inbound_id) {
        headers.insert("x-request-id", id);
    }
    if let (true, Fault::UsesV1Labels) = (signal, proxy.fault) {
        rewrites::relabel_v1(&proxy.rrs).await;
    }
    match proxy.fault {
        Fault::AnswersV1Results if signal && status == StatusCode::MULTI_STATUS => {
            rebuild(status, headers, rewrites::v1_results(&bytes))
        }
        Fault::SkipsValidation if signal && status.is_client_error() => made_up_created(headers),
        Fault::LeaksSecrets if signal && status.is_client_error() => rebuild(status, headers, leaky(&bytes, &leak)),
        Fault::CountsEventsAsAlerts if parts.uri.path().ends_with("/metrics") => {
            let text = String::from_utf8_lossy(&bytes).replace(EVENT_SOURCE_TYPE, ALERT_SOURCE_TYPE);
            rebuild(status, headers, Bytes::from(text))
        }
        Fault::HidesRuntimeFamilies if parts.uri.path().ends_with("/metrics") => {
            let text = String::from_utf8_lossy(&bytes);
            let kept: Vec<&str> = text.lines().filter(|l| !is_runtime_line(l)).collect();
            rebuild(status, headers, Bytes::from(kept.join("\n") + "\n"))
        }
        _ => rebuild(status, headers, bytes),
    }
}

/// A sample, `# HELP` or `# TYPE` line of a `go_` or `process_` family.
fn is_runtime_line(line: &str) -> bool {
    let name = line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")).unwrap_or(line);
    name.starts_with("go_") || name.starts_with("process_")
}

fn rebuild(status: StatusCode, headers: HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The problem `body` with `leak` appended to its `detail`.
fn leaky(body: &[u8], leak: &str) -> Bytes {
    let mut problem: serde_json::Value = serde_json::from_slice(body).expect("a problem+json body");
    let detail = problem["detail"].as_str().unwrap_or_default().to_owned();
    problem["detail"] = json!(format!("{detail}{leak}"));
    Bytes::from(problem.to_string())
}

/// A 201 as a gateway that accepted the signal would send it (the upstream's headers kept).
fn made_up_created(mut headers: HeaderMap) -> Response {
    let fingerprint = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let name = format!("rr-{}-{}", &fingerprint[..12], &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let body = json!({
        "status": "created",
        "duplicate": false,
        "fingerprint": fingerprint,
        "remediationRequestName": name,
        "remediationRequestNamespace": fixtures::crd::CONTROLLER_NAMESPACE,
        "message": "accepted without validation",
    });
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = (StatusCode::CREATED, body.to_string()).into_response();
    *response.headers_mut() = headers;
    response
}

/// Writes `overallPhase: Completed` on every RemediationRequest not yet in a terminal phase.
async fn end_every_incident(rrs: &Api<RemediationRequest>) {
    let items = rrs.list(&ListParams::default()).await.expect("list RemediationRequests").items;
    for rr in items.iter().filter(|rr| !is_terminal_phase(rr.phase())) {
        let name = rr.metadata.name.as_deref().unwrap_or_default();
        let patch = json!({ "status": { "overallPhase": "Completed" } });
        // A case may delete its resources meanwhile; that is fine.
        let _ = rrs.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await;
    }
}
