//! What a case gets: one shared HTTP client aimed at the gateway, the Kubernetes client (when the
//! run has cluster access), unique names, and its own log. Every request a case makes goes
//! through here, so each carries `X-E2E-Case` and the Bearer token, and is logged (redacted).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::{CaseLog, Failure};

/// Longest piece of an answer body copied into the case log.
const LOGGED_BODY_LIMIT: usize = 2048;
/// Most bytes of an answer body read: a gateway's answers are small; an endless or huge body is
/// cut here (the connection dropped), so a case's memory never depends on what the target sends.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Reads at most [`MAX_BODY_BYTES`] of `answer`'s body; `true` when more was there.
async fn read_bounded(answer: &mut reqwest::Response) -> Result<(Vec<u8>, bool), Failure> {
    let mut bytes = Vec::new();
    while let Some(chunk) = answer.chunk().await? {
        let room = MAX_BODY_BYTES - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok((bytes, true));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, false))
}

/// What the runner resolved once and every case shares.
#[derive(Clone)]
pub struct CtxConfig {
    /// One pooled client for all cases (timeouts set by the runner).
    pub http: reqwest::Client,
    /// Gateway base URL, without a trailing slash.
    pub gateway_url: String,
    /// Full URL of the health endpoint.
    pub health_url: String,
    /// Full URL of the metrics endpoint.
    pub metrics_url: String,
    /// Kubernetes API access, when the run has it.
    pub kube: Option<kube::Client>,
    /// Bearer token the gateway expects, when it is configured with tokens.
    pub token: Option<Arc<str>>,
    /// Namespace the gateway creates RemediationRequests in.
    pub controller_namespace: String,
    /// Identifies this run; part of every unique name.
    pub run_id: String,
    /// Whether the cluster runs controllers (a real cluster: a Deployment makes its ReplicaSet and
    /// Pods) or not (the in-memory cluster: the suite creates every level itself).
    pub runs_controllers: bool,
    /// DataStorage base URL the gateway sends its audit events to, when the run knows it (the
    /// audit cases read events back from it and skip without it).
    pub datastorage_url: Option<String>,
}

impl CtxConfig {
    /// A configuration for the gateway at `gateway_url` with the contract's defaults: health and
    /// metrics under it, no cluster access, no token, `kubernaut-system`, run id `test`, a cluster
    /// without controllers.
    pub fn for_gateway(http: reqwest::Client, gateway_url: &str) -> Self {
        let gateway_url = gateway_url.trim_end_matches('/').to_owned();
        Self {
            http,
            health_url: format!("{gateway_url}/readyz"),
            metrics_url: format!("{gateway_url}/metrics"),
            gateway_url,
            kube: None,
            token: None,
            controller_namespace: fixtures::crd::CONTROLLER_NAMESPACE.to_owned(),
            run_id: "test".to_owned(),
            runs_controllers: false,
            datastorage_url: None,
        }
    }

    /// The same configuration with readiness and metrics on their own listeners (base URLs, as
    /// a real Gateway and the double serve them): `{health_base}/readyz`, `{metrics_base}/metrics`.
    pub fn with_listeners(self, health_base: &str, metrics_base: &str) -> Self {
        Self {
            health_url: format!("{}/readyz", health_base.trim_end_matches('/')),
            metrics_url: format!("{}/metrics", metrics_base.trim_end_matches('/')),
            ..self
        }
    }

    /// `text` with the Bearer token replaced by `[REDACTED]` (for logs and failure messages,
    /// which may quote gateway answers that echo it).
    pub fn redact(&self, text: &str) -> String {
        match &self.token {
            Some(token) if !token.is_empty() => text.replace(token.as_ref(), "[REDACTED]"),
            _ => text.to_owned(),
        }
    }
}

impl std::fmt::Debug for CtxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtxConfig")
            .field("gateway_url", &self.gateway_url)
            .field("health_url", &self.health_url)
            .field("metrics_url", &self.metrics_url)
            .field("kube", &self.kube.as_ref().map(|_| "kube::Client"))
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("controller_namespace", &self.controller_namespace)
            .field("run_id", &self.run_id)
            .field("runs_controllers", &self.runs_controllers)
            .field("datastorage_url", &self.datastorage_url)
            .finish()
    }
}

/// The context of one case attempt.
#[derive(Clone, Debug)]
pub struct Ctx {
    config: Arc<CtxConfig>,
    case_name: &'static str,
    log: CaseLog,
    attempt: u32,
    /// RemediationRequests the gateway created for this case and the case has not deleted.
    created: Arc<Mutex<BTreeSet<String>>>,
    /// Kubernetes objects the case created (its world), in creation order.
    world: Arc<Mutex<Vec<crate::world::Tracked>>>,
}

/// A gateway answer, read in full.
#[derive(Clone, Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body text (lossy UTF-8).
    pub body: String,
    /// The path the request went to (a handler's problem names it as `instance`).
    pub path: String,
}

impl Response {
    /// The body as JSON (a failure names the caller's line).
    #[track_caller]
    pub fn json(&self) -> Result<Value, Failure> {
        match serde_json::from_str(&self.body) {
            Ok(value) => Ok(value),
            Err(e) => Err(Failure::new(format!("answer {} is not JSON ({e}): {}", self.status, self.body))),
        }
    }

    /// A header value as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Fails unless the status is `expected`, showing the body (and naming the caller's line).
    #[track_caller]
    pub fn expect_status(&self, expected: u16) -> Result<&Self, Failure> {
        Failure::ensure(self.status == expected, || {
            format!("expected status {expected}, got {}: {}", self.status, self.body)
        })?;
        Ok(self)
    }
}

impl Ctx {
    /// The context for `case_name`, logging into `log`.
    pub fn new(config: Arc<CtxConfig>, case_name: &'static str, log: CaseLog) -> Self {
        Self { config, case_name, log, attempt: 1, created: Arc::default(), world: Arc::default() }
    }

    /// The same context for attempt `attempt` (1-based) of a retried case: its unique names
    /// differ from earlier attempts', so a retry never trips over what a failed attempt created.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt.max(1);
        self
    }

    /// The case this context belongs to.
    pub fn case_name(&self) -> &'static str {
        self.case_name
    }

    /// The shared run configuration.
    pub fn config(&self) -> &CtxConfig {
        &self.config
    }

    /// Appends a line to the case log (redacted).
    pub fn log(&self, line: impl AsRef<str>) {
        self.log.line(self.redact(line.as_ref()));
    }

    /// The Kubernetes client, or a skip when the run has no cluster access.
    pub fn kube(&self) -> Result<kube::Client, Failure> {
        self.config.kube.clone().ok_or_else(|| Failure::skip(NEEDS_CLUSTER))
    }

    /// The Bearer token, or a skip when the gateway has no auth configured.
    pub fn token(&self) -> Result<Arc<str>, Failure> {
        self.config.token.clone().ok_or_else(|| Failure::skip("needs a gateway with auth tokens (--token-file)"))
    }

    /// A DNS-safe name unique to this run and case: `<tag>-<run>-<case hash>`, at most 63 chars.
    pub fn unique(&self, tag: &str) -> String {
        let mut hasher = fnv::FnvHasher::default();
        std::hash::Hasher::write(&mut hasher, self.case_name.as_bytes());
        // Eight hex digits are plenty to tell the cases of one run apart.
        let hash = std::hash::Hasher::finish(&hasher) as u32;
        let tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .take(40)
            .collect();
        match self.attempt {
            1 => format!("{tag}-{}-{hash:08x}", self.config.run_id),
            n => format!("{tag}-{}-{hash:08x}-a{n}", self.config.run_id),
        }
    }

    /// `gateway_url + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.gateway_url)
    }

    /// A request to the gateway at `path`, with `X-E2E-Case` and (when configured) the token.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.request_url(method, &self.url(path))
    }

    /// A request to an absolute URL, with `X-E2E-Case` and (when configured) the token.
    pub fn request_url(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut builder = self.config.http.request(method, url).header("X-E2E-Case", self.case_name);
        if let Some(token) = &self.config.token {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    /// Sends `builder`, reads the whole answer and logs both sides.
    pub async fn send(&self, builder: reqwest::RequestBuilder) -> Result<Response, Failure> {
        let request = builder.build()?;
        let line = format!("{} {}", request.method(), request.url());
        let path = request.url().path().to_owned();
        self.log(format!("-> {line}"));
        let mut answer = self.config.http.execute(request).await.inspect_err(|e| self.log(format!("<- error: {e}")))?;
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let (bytes, cut) = read_bounded(&mut answer).await?;
        if cut {
            self.log(format!("<- {status} {line}: answer longer than {MAX_BODY_BYTES} bytes, the rest not read"));
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        // Redact the whole body before cutting the excerpt: a token across the cut must not leak.
        let redacted = self.redact(&body);
        let shown: String = redacted.chars().take(LOGGED_BODY_LIMIT).collect();
        self.log(format!("<- {status} {line}: {shown}"));
        if matches!(status, 201 | 207) && body.contains("remediationRequestName") {
            self.remember_created(&body);
        }
        Ok(Response { status, headers, body, path })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Response, Failure> {
        self.send(self.request(Method::GET, path)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Response, Failure> {
        let builder =
            self.request(Method::POST, path).header("Content-Type", "application/json").body(body.to_string());
        self.send(builder).await
    }

    /// `POST /api/v1/signals/prometheus` with a webhook and `X-Timestamp: <now>` (contract §8: every
    /// upstream post carries it, so the replay check never depends on the body's `startsAt`).
    pub async fn post_alert(&self, webhook: &fixtures::payloads::Webhook) -> Result<Response, Failure> {
        let stamp = jiff::Timestamp::now().as_second().to_string();
        let builder = self
            .request(Method::POST, PROMETHEUS_PATH)
            .header("Content-Type", "application/json")
            .header("X-Timestamp", stamp)
            .body(webhook.to_json().to_string());
        self.send(builder).await
    }

    /// `POST /api/v1/signals/prometheus` without `X-Timestamp` (the freshness cases: the gateway
    /// then reads `startsAt`, contract §2).
    pub async fn post_alert_unstamped(&self, webhook: &fixtures::payloads::Webhook) -> Result<Response, Failure> {
        self.post_json(PROMETHEUS_PATH, &webhook.to_json()).await
    }

    /// `POST /api/v1/signals/kubernetes-event` with an event.
    pub async fn post_event(&self, event: &fixtures::payloads::Event) -> Result<Response, Failure> {
        self.post_json(KUBERNETES_EVENT_PATH, &event.to_json()).await
    }

    /// Notes every RemediationRequest a created (201) or multi-status (207) answer names.
    fn remember_created(&self, body: &str) {
        let Ok(value) = serde_json::from_str::<Value>(body) else { return };
        let answers = value.get("results").and_then(Value::as_array).cloned().unwrap_or_else(|| vec![value]);
        let mut created = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        for answer in answers.iter().filter(|a| a.get("status").and_then(Value::as_str) == Some("created")) {
            if let Some(name) = answer.get("remediationRequestName").and_then(Value::as_str) {
                created.insert(name.to_owned());
            }
        }
    }

    /// The case deleted `name` itself: nothing left to clean up for it.
    pub fn forget_created(&self, name: &str) {
        self.created.lock().unwrap_or_else(PoisonError::into_inner).remove(name);
    }

    /// Whether the case left RemediationRequests or world objects behind (see
    /// [`Ctx::delete_leftovers`]).
    pub fn has_leftovers(&self) -> bool {
        !self.created.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
            || !self.world.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// Remembers a Kubernetes object the case created, for deletion after it.
    pub(crate) fn track(&self, tracked: crate::world::Tracked) {
        self.world.lock().unwrap_or_else(PoisonError::into_inner).push(tracked);
    }

    /// Takes every tracked world object (the caller deletes them).
    pub(crate) fn take_world(&self) -> Vec<crate::world::Tracked> {
        std::mem::take(&mut *self.world.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Deletes what the gateway created for this case and the case left behind (it failed before
    /// its own cleanup, timed out, or was cancelled), then the case's world: its objects, then its
    /// namespaces. The runner calls this after every attempt; best effort and logged (a 404 is
    /// fine); nothing to do without cluster access.
    pub async fn delete_leftovers(&self) {
        self.delete_created().await;
        crate::world::delete_world(self).await;
    }

    async fn delete_created(&self) {
        let names = std::mem::take(&mut *self.created.lock().unwrap_or_else(PoisonError::into_inner));
        let Some(kube) = self.config.kube.clone() else { return };
        let api: kube::Api<fixtures::crd::RemediationRequest> =
            kube::Api::namespaced(kube, &self.config.controller_namespace);
        let deletions = names.iter().map(|name| {
            let api = api.clone();
            async move { (name, api.delete(name, &kube::api::DeleteParams::default()).await) }
        });
        for (name, result) in futures::future::join_all(deletions).await {
            match result {
                Ok(_) => self.log(format!("cleanup after the case: deleted RemediationRequest {name}")),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => self.log(format!("cleanup after the case: could not delete RemediationRequest {name}: {e}")),
            }
        }
    }

    fn redact(&self, text: &str) -> String {
        self.config.redact(text)
    }
}

/// Why a case that needs the Kubernetes API is skipped without it.
pub const NEEDS_CLUSTER: &str = "needs cluster access: run against the embedded double, or give a kubeconfig \
     (KUBECONFIG / --kube auto) or --kube in-cluster";

/// Path of the AlertManager webhook endpoint.
pub const PROMETHEUS_PATH: &str = "/api/v1/signals/prometheus";
/// Path of the Kubernetes Event endpoint.
pub const KUBERNETES_EVENT_PATH: &str = "/api/v1/signals/kubernetes-event";
