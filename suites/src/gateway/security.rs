//! Security (contract §2, §3): security headers and `X-Request-ID` on every answer under the
//! gateway URL (health, readiness and metrics only when served there, §8), secrets never echoed
//! in problem details, and Bearer auth on signal endpoints (checked first).

use fixtures::payloads::{Event, Webhook};
use reqwest::{Method, RequestBuilder};
use serde_json::json;

use super::support::{
    SIGNAL_NAMESPACE, cleaning_up, deployment_alert, expect_created, expect_problem, oversized, post_raw, ready_url,
    single_use, under_gateway,
};
use crate::{Ctx, Failure, KUBERNETES_EVENT_PATH, PROMETHEUS_PATH, Response, case};

/// The headers every answer carries, with their values.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
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

/// The URLs to `GET` for header checks: health, readiness and metrics only when they are served
/// under the gateway URL (newer gateways serve them on :8081 and :9090, maybe without the
/// middleware, contract §8), and always an unknown path under it.
fn gateway_get_urls(ctx: &Ctx) -> Vec<String> {
    let config = ctx.config();
    let mut urls: Vec<String> = [config.health_url.clone(), ready_url(ctx), config.metrics_url.clone()]
        .into_iter()
        .filter(|url| under_gateway(ctx, url))
        .collect();
    urls.push(ctx.url("/no-such-path"));
    urls
}

async fn security_headers_on_every_endpoint(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        for url in gateway_get_urls(&ctx) {
            let answer = ctx.send(ctx.request_url(Method::GET, &url)).await?;
            ensure_security_headers(&format!("GET {url} ({})", answer.status), &answer)?;
        }
        let method_not_allowed = ctx.send(ctx.request(Method::GET, PROMETHEUS_PATH)).await?;
        ensure_security_headers("GET on a signal path", &method_not_allowed)?;
        let alert = deployment_alert("HeadersProbe", &ctx.unique("headers"), SIGNAL_NAMESPACE);
        let created = ctx.post_alert(&Webhook::with_alert(alert)).await?;
        expect_created(&created, &cleanup)?;
        ensure_security_headers("created signal", &created)?;
        let invalid = post_raw(&ctx, KUBERNETES_EVENT_PATH, "{", Some("application/json"), &[]).await?;
        ensure_security_headers("invalid signal", &invalid)?;
        let text = post_raw(&ctx, PROMETHEUS_PATH, "x", Some("text/plain"), &[]).await?;
        ensure_security_headers("unsupported media type", &text)?;
        if ctx.config().token.is_some() {
            let unauthorized = ctx.send(anonymous(&ctx, Method::POST, &ctx.url(PROMETHEUS_PATH)).body("{}")).await?;
            ensure_security_headers(&format!("signal without token ({})", unauthorized.status), &unauthorized)?;
        }
        Ok(())
    })
    .await
}
case!(security_headers_on_every_endpoint, area = "security", labels = ["security"]);

async fn request_id_is_echoed_when_sent(ctx: Ctx) -> Result<(), Failure> {
    let id = ctx.unique("request-id");
    let mut requests: Vec<(String, RequestBuilder)> = gateway_get_urls(&ctx)
        .into_iter()
        .map(|url| (format!("GET {url}"), ctx.request_url(Method::GET, &url)))
        .collect();
    requests.push(("invalid signal".to_owned(), ctx.request(Method::POST, PROMETHEUS_PATH).body("{")));
    requests.push(("method not allowed".to_owned(), ctx.request(Method::GET, KUBERNETES_EVENT_PATH)));
    for (what, request) in requests {
        let answer = ctx.send(request.header("X-Request-ID", &id)).await?;
        Failure::ensure_eq(&format!("{what}: X-Request-ID"), answer.header("x-request-id"), Some(id.as_str()))?;
    }
    Ok(())
}
case!(request_id_is_echoed_when_sent, area = "security", labels = ["security"]);

async fn request_id_is_unique_when_not_sent(ctx: Ctx) -> Result<(), Failure> {
    let mut ids = Vec::new();
    // Each URL twice (the same URL must not repeat an id either), plus an invalid signal.
    let mut requests: Vec<RequestBuilder> = gateway_get_urls(&ctx)
        .iter()
        .flat_map(|url| [ctx.request_url(Method::GET, url), ctx.request_url(Method::GET, url)])
        .collect();
    requests.push(ctx.request(Method::POST, PROMETHEUS_PATH).body("{"));
    for request in requests {
        let answer = ctx.send(request).await?;
        let id = answer.header("x-request-id").unwrap_or_default().to_owned();
        Failure::ensure(uuid::Uuid::parse_str(&id).is_ok(), || format!("X-Request-ID {id:?} is not a UUID"))?;
        ids.push(id);
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    Failure::ensure(distinct.len() == ids.len(), || format!("X-Request-ID values repeat: {ids:?}"))
}
case!(request_id_is_unique_when_not_sent, area = "security", labels = ["security"]);

async fn problem_detail_never_echoes_secrets(ctx: Ctx) -> Result<(), Failure> {
    let secrets: Vec<String> = (0..4).map(|i| format!("s3cr3t{i}{}", ctx.unique("x").replace('-', ""))).collect();
    let malformed = format!(
        r#"{{"token": "{}", "password": "{}", "api_key": "{}", "authorization": "Bearer {}", "alerts": ["#,
        secrets[0], secrets[1], secrets[2], secrets[3]
    );
    let mut nameless = deployment_alert("Leaky", &ctx.unique("leaky"), SIGNAL_NAMESPACE).without_label("alertname");
    for (key, secret) in ["token", "password", "api_key", "authorization"].iter().zip(&secrets) {
        nameless = nameless.label(key, secret);
    }
    let event = Event::warning("BackOff", "Deployment", &ctx.unique("leaky-event"), SIGNAL_NAMESPACE)
        .without("reason")
        .set("message", json!(format!("token={} password={}", secrets[0], secrets[1])));
    let answers = [
        post_raw(&ctx, PROMETHEUS_PATH, malformed, Some("application/json"), &[]).await?,
        ctx.post_alert(&Webhook::with_alert(nameless)).await?,
        ctx.post_event(&event).await?,
    ];
    let mut forbidden = secrets.clone();
    if let Some(token) = &ctx.config().token {
        forbidden.push(token.to_string());
    }
    for answer in &answers {
        expect_problem(answer, 400, "validation-error")?;
        for secret in &forbidden {
            Failure::ensure(!answer.body.contains(secret.as_str()), || "a problem detail echoes a secret".to_owned())?;
        }
    }
    Ok(())
}
case!(problem_detail_never_echoes_secrets, area = "security", labels = ["security"]);

async fn health_needs_no_token(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(anonymous(&ctx, Method::GET, &ctx.config().health_url)).await?;
    answer.expect_status(200)?;
    Failure::ensure_eq("health status field", answer.json()?["status"].as_str(), Some("healthy"))
}
case!(health_needs_no_token, area = "security", labels = ["security"]);

/// A valid one-alert webhook about a Deployment of this case.
fn valid_webhook(ctx: &Ctx, tag: &str) -> serde_json::Value {
    Webhook::with_alert(deployment_alert("AuthProbe", &ctx.unique(tag), SIGNAL_NAMESPACE)).to_json()
}

/// The same, as a request body.
fn valid_body(ctx: &Ctx, tag: &str) -> String {
    valid_webhook(ctx, tag).to_string()
}

async fn missing_token_is_401(ctx: Ctx) -> Result<(), Failure> {
    let token = ctx.token()?;
    let url = ctx.url(PROMETHEUS_PATH);
    let bare = anonymous(&ctx, Method::POST, &url);
    let basic = anonymous(&ctx, Method::POST, &url).header("Authorization", format!("Basic {token}"));
    for (what, request) in [("no Authorization", bare), ("Basic scheme", basic)] {
        let request = request.header("Content-Type", "application/json").body(valid_body(&ctx, "anon"));
        let answer = ctx.send(request).await?;
        expect_problem(&answer, 401, "unauthorized").map_err(|f| Failure::new(format!("{what}: {}", f.message)))?;
    }
    Ok(())
}
case!(missing_token_is_401, area = "security", labels = ["security"], needs_auth);

async fn unknown_token_is_401_and_not_echoed(ctx: Ctx) -> Result<(), Failure> {
    ctx.token()?;
    let bogus = format!("bogus{}", ctx.unique("token").replace('-', ""));
    for path in [PROMETHEUS_PATH, KUBERNETES_EVENT_PATH] {
        let request = anonymous(&ctx, Method::POST, &ctx.url(path))
            .bearer_auth(&bogus)
            .header("Content-Type", "application/json")
            .body(valid_body(&ctx, "bogus"));
        let answer = ctx.send(request).await?;
        expect_problem(&answer, 401, "unauthorized")?;
        Failure::ensure(!answer.body.contains(&bogus), || format!("{path}: the 401 answer echoes the token"))?;
    }
    Ok(())
}
case!(unknown_token_is_401_and_not_echoed, area = "security", labels = ["security"], needs_auth);

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
        expect_problem(&answer, 401, "unauthorized").map_err(|f| Failure::new(format!("{what}: {}", f.message)))?;
    }
    Ok(())
}
case!(auth_is_checked_before_other_checks, area = "security", labels = ["security"], needs_auth);
