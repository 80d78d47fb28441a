//! Security on the API port (contract §2): security headers and a fresh `X-Request-ID` on every
//! answer after the throttle (an inbound one is never echoed), CORS preflight without a token,
//! secrets never echoed in problem details, and Bearer auth on signal endpoints (checked first,
//! answered with `about:blank` problems). Health and metrics may be other listeners (§1): they are
//! only read when served under the gateway URL.

use fixtures::payloads::{Event, Webhook};
use reqwest::{Method, RequestBuilder};
use serde_json::json;

use super::support::{
    admitted, cleaning_up, expect_auth_problem, expect_created, oversized, pod_alert, post_raw, single_use,
    world_with_pod,
};
use crate::{Ctx, Failure, KUBERNETES_EVENT_PATH, PROMETHEUS_PATH, Response, case};

/// The headers every API answer after the throttle carries, with their values.
const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-xss-protection", "1; mode=block"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("content-security-policy", "default-src 'none'"),
    ("referrer-policy", "no-referrer"),
];

/// A request without the Bearer token (but with `X-E2E-Case`).
fn anonymous(ctx: &Ctx, method: Method, url: &str) -> RequestBuilder {
    ctx.config().http.request(method, url).header("X-E2E-Case", ctx.case_name())
}

fn ensure_security_headers(what: &str, answer: &Response) -> Result<(), Failure> {
    for (name, value) in SECURITY_HEADERS {
        Failure::ensure_eq(&format!("{what}: header {name}"), answer.header(name), Some(value))?;
    }
    Ok(())
}

/// The URLs to `GET` for header checks: API-port paths only. Health, readiness and metrics are
/// other listeners without this middleware (contract §1), wherever the run points at them.
fn gateway_get_urls(ctx: &Ctx) -> Vec<String> {
    vec![ctx.url("/no-such-path"), ctx.url(PROMETHEUS_PATH)]
}

/// Upstream rule: `middleware/security_headers.go` — every API answer after the throttle carries
/// the security headers: created, 400, 415, 404, 405 and 401 alike, and the 201 a UUID
/// `X-Request-ID` (`middleware/request_id.go`; `test/e2e/gateway/20_security_headers_test.go`).
async fn security_headers_on_every_api_answer(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        for url in gateway_get_urls(&ctx) {
            let answer = ctx.send(ctx.request_url(Method::GET, &url)).await?;
            ensure_security_headers(&format!("GET {url} ({})", answer.status), &answer)?;
        }
        let method_not_allowed = ctx.send(ctx.request(Method::GET, PROMETHEUS_PATH)).await?;
        ensure_security_headers("GET on a signal path", &method_not_allowed)?;
        let world = world_with_pod(&ctx, "headers", "headers-0").await?;
        let webhook = Webhook::with_alert(pod_alert("HeadersProbe", "headers-0", world.namespace()));
        let created = admitted(&ctx, || ctx.post_alert(&webhook)).await?;
        expect_created(&created, &cleanup)?;
        ensure_security_headers("created signal", &created)?;
        // The 201 carries a request id too (`test/e2e/gateway/20_security_headers_test.go`).
        let id = created.header("x-request-id").unwrap_or_default();
        Failure::ensure(uuid::Uuid::parse_str(id).is_ok(), || format!("201: X-Request-ID {id:?} is not a UUID"))?;
        let invalid = post_raw(&ctx, KUBERNETES_EVENT_PATH, "{", Some("application/json"), &[]).await?;
        ensure_security_headers("invalid signal", &invalid)?;
        let text = post_raw(&ctx, PROMETHEUS_PATH, "x", Some("text/plain"), &[stamp()]).await?;
        ensure_security_headers("unsupported media type", &text)?;
        if ctx.config().token.is_some() {
            let unauthorized = ctx.send(anonymous(&ctx, Method::POST, &ctx.url(PROMETHEUS_PATH)).body("{}")).await?;
            ensure_security_headers(&format!("signal without token ({})", unauthorized.status), &unauthorized)?;
        }
        Ok(())
    })
    .await
}
case!(security_headers_on_every_api_answer, area = "security", labels = ["security"], needs_cluster);

/// Upstream rule: `middleware/security_headers.go` — `X-XSS-Protection: 1; mode=block` on API
/// answers, errors included.
async fn xss_protection_header_on_api_answers(ctx: Ctx) -> Result<(), Failure> {
    let answers = [
        post_raw(&ctx, PROMETHEUS_PATH, "{", Some("application/json"), &[stamp()]).await?,
        ctx.get(&format!("/{}", ctx.unique("nowhere"))).await?,
    ];
    for answer in answers {
        Failure::ensure_eq(
            &format!("X-XSS-Protection on a {} answer", answer.status),
            answer.header("x-xss-protection"),
            Some("1; mode=block"),
        )?;
    }
    Ok(())
}
case!(xss_protection_header_on_api_answers, area = "security", labels = ["security"]);

/// `X-Timestamp: now`.
fn stamp() -> (&'static str, String) {
    ("X-Timestamp", super::support::now_unix().to_string())
}

/// Upstream rule: `middleware/request_id.go` — every API answer carries a new UUID as
/// `X-Request-ID`; an inbound one is ignored, never echoed.
async fn inbound_request_id_is_not_echoed(ctx: Ctx) -> Result<(), Failure> {
    let id = ctx.unique("request-id");
    let requests: Vec<(&str, RequestBuilder)> = vec![
        ("invalid signal", ctx.request(Method::POST, PROMETHEUS_PATH).header("X-Timestamp", stamp().1).body("{")),
        ("method not allowed", ctx.request(Method::GET, KUBERNETES_EVENT_PATH)),
        ("unknown path", ctx.request(Method::GET, "/no-such-path")),
    ];
    for (what, request) in requests {
        let answer = ctx.send(request.header("X-Request-ID", &id)).await?;
        let got = answer.header("x-request-id").unwrap_or_default();
        Failure::ensure(got != id, || format!("{what}: the inbound X-Request-ID {id:?} was echoed"))?;
        Failure::ensure(uuid::Uuid::parse_str(got).is_ok(), || format!("{what}: X-Request-ID {got:?} is not a UUID"))?;
    }
    Ok(())
}
case!(inbound_request_id_is_not_echoed, area = "security", labels = ["security"]);

/// Upstream rule: `middleware/request_id.go`, `http_errors.go` — the id is new for every answer,
/// and a handler's problem carries it as `request_id`.
async fn request_id_is_fresh_for_every_answer(ctx: Ctx) -> Result<(), Failure> {
    let mut ids = Vec::new();
    let mut requests: Vec<RequestBuilder> = gateway_get_urls(&ctx)
        .iter()
        .flat_map(|url| [ctx.request_url(Method::GET, url), ctx.request_url(Method::GET, url)])
        .collect();
    for _ in 0..2 {
        requests.push(ctx.request(Method::POST, PROMETHEUS_PATH).header("X-Timestamp", stamp().1).body("{"));
    }
    for request in requests {
        let answer = ctx.send(request).await?;
        let id = answer.header("x-request-id").unwrap_or_default().to_owned();
        Failure::ensure(uuid::Uuid::parse_str(&id).is_ok(), || format!("X-Request-ID {id:?} is not a UUID"))?;
        if answer.status == 400 {
            let body = answer.json()?;
            Failure::ensure_eq("problem request_id", body["request_id"].as_str(), Some(id.as_str()))?;
        }
        ids.push(id);
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    Failure::ensure(distinct.len() == ids.len(), || format!("X-Request-ID values repeat: {ids:?}"))
}
case!(request_id_is_fresh_for_every_answer, area = "security", labels = ["security"]);

/// Upstream rule: `pkg/http/cors/cors.go` (chain: CORS first) — a preflight needs no token: 200 with
/// `Access-Control-Allow-Origin` and `-Methods` (`test/e2e/gateway/25_cors_test.go`).
async fn cors_preflight_needs_no_token(ctx: Ctx) -> Result<(), Failure> {
    let request = anonymous(&ctx, Method::OPTIONS, &ctx.url(PROMETHEUS_PATH))
        .header("Origin", "https://console.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type");
    let answer = ctx.send(request).await?;
    // 200 is go-chi/cors' default success status; upstream's own case also allows 204.
    Failure::ensure(matches!(answer.status, 200 | 204), || format!("preflight answered {}", answer.status))?;
    let origin = answer.header("access-control-allow-origin").unwrap_or_default();
    Failure::ensure(!origin.is_empty(), || "no Access-Control-Allow-Origin on the preflight".to_owned())?;
    let methods = answer.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    Failure::ensure(methods.contains("POST"), || format!("Access-Control-Allow-Methods {methods:?} lacks POST"))
}
case!(cors_preflight_needs_no_token, area = "security", labels = ["security"]);

/// Upstream rule: `http_errors.go` (generic details, sanitized) — problem answers never echo what
/// the request carried: body secrets or the token.
async fn problem_detail_never_echoes_secrets(ctx: Ctx) -> Result<(), Failure> {
    let secrets: Vec<String> = (0..4).map(|i| format!("s3cr3t{i}{}", ctx.unique("x").replace('-', ""))).collect();
    let malformed = format!(
        r#"{{"token": "{}", "password": "{}", "api_key": "{}", "authorization": "Bearer {}", "alerts": ["#,
        secrets[0], secrets[1], secrets[2], secrets[3]
    );
    let mut nameless = pod_alert("Leaky", "leaky-0", "default").without_label("alertname");
    for (key, secret) in ["token", "password", "api_key", "authorization"].iter().zip(&secrets) {
        nameless = nameless.label(key, secret);
    }
    let event = Event::warning("BackOff", "Pod", "leaky-0", "default")
        .without("reason")
        .set("message", json!(format!("token={} password={}", secrets[0], secrets[1])));
    let answers = [
        post_raw(&ctx, PROMETHEUS_PATH, malformed, Some("application/json"), &[stamp()]).await?,
        ctx.post_alert(&Webhook::with_alert(nameless)).await?,
        ctx.post_event(&event).await?,
    ];
    let mut forbidden = secrets.clone();
    if let Some(token) = &ctx.config().token {
        forbidden.push(token.to_string());
    }
    for answer in &answers {
        answer.expect_status(400)?;
        for secret in &forbidden {
            Failure::ensure(!answer.body.contains(secret.as_str()), || "a problem detail echoes a secret".to_owned())?;
        }
    }
    Ok(())
}
case!(problem_detail_never_echoes_secrets, area = "security", labels = ["security"]);

/// Upstream rule: `pkg/shared/health/server.go` — `/healthz` needs no token.
async fn health_needs_no_token(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(anonymous(&ctx, Method::GET, &super::support::liveness_url(&ctx))).await?;
    answer.expect_status(200)?;
    Failure::ensure_eq("health status field", answer.json()?["status"].as_str(), Some("healthy"))
}
case!(health_needs_no_token, area = "security", labels = ["security"]);

/// A one-alert webhook (auth refuses it before anything reads it).
fn valid_webhook(ctx: &Ctx, tag: &str) -> serde_json::Value {
    Webhook::with_alert(pod_alert("AuthProbe", &ctx.unique(tag), "default")).to_json()
}

/// The same, as a request body.
fn valid_body(ctx: &Ctx, tag: &str) -> String {
    valid_webhook(ctx, tag).to_string()
}

/// Upstream rule: `pkg/shared/auth/middleware.go` — no `Authorization`, or not Bearer: 401
/// `about:blank` (`test/e2e/gateway/38_auth_middleware_test.go`).
async fn missing_token_is_401(ctx: Ctx) -> Result<(), Failure> {
    let token = ctx.token()?;
    let url = ctx.url(PROMETHEUS_PATH);
    let bare = anonymous(&ctx, Method::POST, &url);
    let basic = anonymous(&ctx, Method::POST, &url).header("Authorization", format!("Basic {token}"));
    for (what, request) in [("no Authorization", bare), ("Basic scheme", basic)] {
        let request = request.header("Content-Type", "application/json").body(valid_body(&ctx, "anon"));
        let answer = ctx.send(request).await?;
        expect_auth_problem(&answer, 401).map_err(|f| Failure::new(format!("{what}: {}", f.message)))?;
    }
    Ok(())
}
case!(missing_token_is_401, area = "security", labels = ["security"], needs_auth);

/// Upstream rule: `pkg/shared/auth/middleware.go` — a token TokenReview does not know: 401, the
/// token never echoed.
async fn unknown_token_is_401_and_not_echoed(ctx: Ctx) -> Result<(), Failure> {
    ctx.token()?;
    let bogus = format!("bogus{}", ctx.unique("token").replace('-', ""));
    for path in [PROMETHEUS_PATH, KUBERNETES_EVENT_PATH] {
        let request = anonymous(&ctx, Method::POST, &ctx.url(path))
            .bearer_auth(&bogus)
            .header("Content-Type", "application/json")
            .body(valid_body(&ctx, "bogus"));
        let answer = ctx.send(request).await?;
        expect_auth_problem(&answer, 401)?;
        Failure::ensure(!answer.body.contains(&bogus), || format!("{path}: the 401 answer echoes the token"))?;
    }
    Ok(())
}
case!(unknown_token_is_401_and_not_echoed, area = "security", labels = ["security"], needs_auth);

/// Upstream rule: `signal_ingestion.go` chain — auth runs before freshness, content type, size
/// and parsing.
async fn auth_is_checked_before_other_checks(ctx: Ctx) -> Result<(), Failure> {
    ctx.token()?;
    let huge = oversized(&valid_webhook(&ctx, "huge"));
    let url = ctx.url(PROMETHEUS_PATH);
    let json = || anonymous(&ctx, Method::POST, &url).header("Content-Type", "application/json");
    let requests = [
        ("oversized body", single_use(json().body(huge))),
        ("text/plain", anonymous(&ctx, Method::POST, &url).header("Content-Type", "text/plain").body("x")),
        ("malformed JSON", json().body("{")),
        (
            "stale X-Timestamp",
            anonymous(&ctx, Method::POST, &url).header("X-Timestamp", "1").body(valid_body(&ctx, "s")),
        ),
    ];
    for (what, request) in requests {
        let answer = ctx.send(request).await?;
        expect_auth_problem(&answer, 401).map_err(|f| Failure::new(format!("{what}: {}", f.message)))?;
    }
    Ok(())
}
case!(auth_is_checked_before_other_checks, area = "security", labels = ["security"], needs_auth);

/// Upstream rule: `pkg/shared/auth/middleware.go`, `k8s_auth.go` — a token TokenReview accepts
/// whose account is not allowed `create` on `services/gateway-service`: 403 `about:blank` on
/// both routes, the token never echoed (`test/e2e/gateway/38_auth_middleware_test.go`).
async fn unbound_account_is_403_on_both_routes(ctx: Ctx) -> Result<(), Failure> {
    ctx.token()?;
    let kube = ctx.kube()?;
    let namespace = ctx.config().controller_namespace.clone();
    let account = ctx.unique("unbound");
    let made = fixtures::credentials::provision(&kube, &namespace, &account, false)
        .await
        .map_err(|e| Failure::new(e.to_string()))?;
    ctx.log(format!("made ServiceAccount {namespace}/{account} without the gateway-service-client binding"));
    let checked = async {
        let token = fixtures::credentials::mint_token(&kube, &namespace, &account)
            .await
            .map_err(|e| Failure::new(e.to_string()))?;
        for path in [PROMETHEUS_PATH, KUBERNETES_EVENT_PATH] {
            let request = anonymous(&ctx, Method::POST, &ctx.url(path))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(valid_body(&ctx, "unbound"));
            let answer = ctx.send(request).await?;
            expect_auth_problem(&answer, 403).map_err(|f| Failure::new(format!("{path}: {}", f.message)))?;
            Failure::ensure(!answer.body.contains(&token), || format!("{path}: the 403 answer echoes the token"))?;
        }
        Ok(())
    }
    .await;
    for problem in fixtures::credentials::remove(&kube, &made).await {
        ctx.log(format!("cleanup: {problem}"));
    }
    checked
}
case!(unbound_account_is_403_on_both_routes, area = "security", labels = ["security"], needs_cluster, needs_auth);

/// Upstream rule: `pkg/http/cors/cors.go` (CORS runs first on the API port) — a cross-origin
/// request with an allowed method carries `Access-Control-Allow-Origin: *` whatever the answer,
/// here a tokenless GET on the signal route (405) and a tokenless POST (401)
/// (`test/e2e/gateway/18_cors_enforcement_test.go`).
async fn cross_origin_answers_carry_allow_origin(ctx: Ctx) -> Result<(), Failure> {
    let origin = "https://console.example.com";
    let get = anonymous(&ctx, Method::GET, &ctx.url(PROMETHEUS_PATH)).header("Origin", origin);
    let post = anonymous(&ctx, Method::POST, &ctx.url(PROMETHEUS_PATH))
        .header("Origin", origin)
        .header("Content-Type", "application/json")
        .body(valid_body(&ctx, "cors"));
    for (what, request, status) in [("GET", get, 405), ("POST without a token", post, 401)] {
        let answer = ctx.send(request).await?;
        Failure::ensure_eq(&format!("{what}: status"), answer.status, status)?;
        Failure::ensure_eq(
            &format!("{what}: Access-Control-Allow-Origin"),
            answer.header("access-control-allow-origin"),
            Some("*"),
        )?;
    }
    Ok(())
}
case!(cross_origin_answers_carry_allow_origin, area = "security", labels = ["security"]);

/// Upstream rule: `pkg/shared/health/server.go` — the health listener is a plain mux: a
/// cross-origin request gets no CORS headers there (`test/e2e/gateway/18_cors_enforcement_test.go`).
async fn health_listener_sends_no_cors_headers(ctx: Ctx) -> Result<(), Failure> {
    let request = anonymous(&ctx, Method::GET, &super::support::liveness_url(&ctx))
        .header("Origin", "https://console.example.com");
    let answer = ctx.send(request).await?;
    answer.expect_status(200)?;
    Failure::ensure_eq("liveness status field", answer.json()?["status"].as_str(), Some("healthy"))?;
    let cors: Vec<&str> =
        answer.headers.keys().map(|k| k.as_str()).filter(|k| k.starts_with("access-control-")).collect();
    Failure::ensure(cors.is_empty(), || format!("the health listener sent CORS headers: {cors:?}"))
}
case!(health_listener_sends_no_cors_headers, area = "security", labels = ["security"]);
