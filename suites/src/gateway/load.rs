//! Load (contract §2, §6): many signals for distinct Pods at once each make their own
//! RemediationRequest, with unique names; below the throttle's limit nothing is refused (signal
//! routes never answer 503), above it the next request is 429. Serial: each wants the gateway
//! to itself so a slow or refused answer is the load's, not a neighbour's.

use std::collections::BTreeSet;

use fixtures::payloads::Webhook;
use futures::{StreamExt, TryStreamExt};

use super::batch::settle;
use super::support::{API_DEADLINE, API_INTERVAL, FAN_OUT, cleaning_up, expect_created, pod_alert, rrs_about};
use crate::{Ctx, Failure, PROMETHEUS_PATH, case, eventually};

/// A managed world (`tag`) with `count` Pods named `<prefix>-<i>`, settled: the gateway sees them.
async fn world_with_pods(ctx: &Ctx, tag: &str, prefix: &str, count: usize) -> Result<crate::world::World, Failure> {
    let world = ctx.world(tag).await?;
    let world_ref = &world;
    futures::stream::iter(0..count)
        .map(|i| async move { world_ref.pod(&format!("{prefix}-{i}")).await })
        .buffer_unordered(FAN_OUT)
        .try_collect::<Vec<_>>()
        .await?;
    settle(ctx, &world).await?;
    Ok(world)
}

/// Signals sent, each about its own Pod.
const SIGNALS: usize = 100;

/// Upstream rule: `processing/crd_creator.go`, `server.go` (throttle at 100 in flight) — 100
/// signals about 100 Pods, 16 in flight, make 100 distinct RemediationRequests.
async fn hundred_distinct_signals_make_hundred_requests(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pods(&ctx, "load", "load", SIGNALS).await?;
        let world = &world;
        let ctx_ref = &ctx;
        let answers = futures::stream::iter(0..SIGNALS)
            .map(|i| {
                let webhook = Webhook::with_alert(pod_alert("LoadProbe", &format!("load-{i}"), world.namespace()));
                async move { ctx_ref.post_alert(&webhook).await }
            })
            .buffer_unordered(FAN_OUT)
            .collect::<Vec<_>>()
            .await;
        let mut names = BTreeSet::new();
        for answer in answers {
            names.insert(expect_created(&answer?, &cleanup)?.name);
        }
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), SIGNALS)?;
        let names = &names;
        eventually(API_DEADLINE, API_INTERVAL, || async move {
            let listed = rrs_about(ctx_ref, world.namespace()).await?;
            let present =
                listed.iter().filter_map(|rr| rr.metadata.name.as_ref()).filter(|n| names.contains(*n)).count();
            Failure::ensure_eq("of those, RemediationRequests in the API", present, SIGNALS)
        })
        .await
    })
    .await
}
case!(hundred_distinct_signals_make_hundred_requests, area = "load", labels = ["load"], needs_cluster, serial);

/// Signals sent at once by the concurrency case, as upstream's own.
const AT_ONCE: usize = 50;

/// Upstream spec: `test/e2e/gateway/28_graceful_shutdown_test.go` (concurrent load) — 50 alerts
/// about 50 Pods sent all at once (half the throttle's 100) are each created, none refused.
async fn fifty_concurrent_distinct_alerts_are_all_created(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pods(&ctx, "at-once", "once", AT_ONCE).await?;
        let world = &world;
        let webhooks: Vec<Webhook> = (0..AT_ONCE)
            .map(|i| Webhook::with_alert(pod_alert("AtOnceProbe", &format!("once-{i}"), world.namespace())))
            .collect();
        let answers = futures::future::join_all(webhooks.iter().map(|w| ctx.post_alert(w))).await;
        let mut names = BTreeSet::new();
        for answer in answers {
            names.insert(expect_created(&answer?, &cleanup)?.name);
        }
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), AT_ONCE)
    })
    .await
}
case!(fifty_concurrent_distinct_alerts_are_all_created, area = "load", labels = ["load"], needs_cluster, serial);

/// The throttle's limit: requests in flight on the API port (contract §2, the default of
/// `server.maxConcurrentRequests`; chi's `Throttle`, `server.go`).
const THROTTLE_LIMIT: usize = 100;
/// How long the throttle case waits for the gateway to fill up and to recover.
const THROTTLE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
/// Pace of the throttle case's probes while it fills the gateway.
const PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(25);

/// Opens a connection to the API port and sends an authorized signal request whose body never
/// arrives whole: the gateway holds it in flight (reading the body) until the connection closes.
async fn held_request(ctx: &Ctx, token: &str) -> Result<tokio::net::TcpStream, Failure> {
    use tokio::io::AsyncWriteExt;
    let url = reqwest::Url::parse(&ctx.config().gateway_url).map_err(|e| Failure::new(e.to_string()))?;
    if url.scheme() != "http" {
        return Err(Failure::skip("holds requests over plain TCP: needs an http:// gateway URL"));
    }
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let mut stream =
        tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| Failure::infra(e.to_string()))?;
    let head = format!(
        "POST {PROMETHEUS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nX-Timestamp: {}\r\nX-E2E-Case: {}\r\nContent-Length: 1024\r\n\r\n{{",
        super::support::now_unix(),
        ctx.case_name()
    );
    stream.write_all(head.as_bytes()).await.map_err(|e| Failure::infra(e.to_string()))?;
    Ok(stream)
}

/// The first line of each answer the gateway already sent on `held` connections (they should
/// have none: the gateway waits for their bodies), for the log of a failed case.
fn answered_early(held: &[tokio::net::TcpStream]) -> String {
    let mut lines = Vec::new();
    for stream in held {
        let mut buffer = [0u8; 256];
        if let Ok(n @ 1..) = stream.try_read(&mut buffer) {
            lines.push(String::from_utf8_lossy(&buffer[..n]).lines().next().unwrap_or_default().to_owned());
        }
    }
    format!("{} of {}: {lines:?}", lines.len(), held.len())
}

/// Probes every [`PROBE_INTERVAL`] until the gateway answers 429, holding one more request after
/// each other answer (a request of an earlier case may still have held a slot while the first
/// ones were sent), up to twice the limit and [`THROTTLE_DEADLINE`]; returns the 429. The interval
/// gives the gateway time to take up the requests already held: a probe on a pooled connection
/// would otherwise overtake them.
async fn until_full(ctx: &Ctx, token: &str, held: &mut Vec<tokio::net::TcpStream>) -> Result<crate::Response, Failure> {
    let end = tokio::time::Instant::now() + THROTTLE_DEADLINE;
    let mut pace = tokio::time::interval(PROBE_INTERVAL);
    loop {
        pace.tick().await;
        let answer = probe(ctx).await?;
        if answer.status == 429 {
            return Ok(answer);
        }
        if tokio::time::Instant::now() > end || held.len() >= 2 * THROTTLE_LIMIT {
            return Err(Failure::new(format!(
                "with {} requests held in flight the gateway still answered {}, not 429: {}",
                held.len(),
                answer.status,
                answer.body.trim()
            )));
        }
        held.push(held_request(ctx, token).await?);
    }
}

/// A GET on an unknown API path: 404, or 429 while the throttle is full.
async fn probe(ctx: &Ctx) -> Result<crate::Response, Failure> {
    ctx.get(&format!("/{}", ctx.unique("throttle-probe"))).await
}

/// Beyond upstream's suite (contract §2; chi's `Throttle`, `server.go`) — with the limit's worth
/// of requests in flight, the next is answered 429 `text/plain` "Server capacity exceeded."
/// without `Retry-After`; once they end, requests are served again. Serial: it fills the gateway.
async fn requests_over_the_in_flight_limit_are_429(ctx: Ctx) -> Result<(), Failure> {
    let token = ctx.token()?;
    let mut held = Vec::with_capacity(2 * THROTTLE_LIMIT);
    for _ in 0..THROTTLE_LIMIT {
        held.push(held_request(&ctx, &token).await?);
    }
    let full = until_full(&ctx, &token, &mut held).await;
    if full.is_err() {
        ctx.log(format!("held requests the gateway answered already: {}", answered_early(&held)));
    }
    drop(held);
    let full = full?;
    let content_type = full.header("content-type").unwrap_or_default();
    Failure::ensure(content_type.starts_with("text/plain"), || format!("429 Content-Type {content_type:?}"))?;
    Failure::ensure_eq("429 Retry-After", full.header("retry-after"), None)?;
    Failure::ensure_eq("429 body", full.body.trim(), "Server capacity exceeded.")?;
    eventually(THROTTLE_DEADLINE, API_INTERVAL, || async { probe(&ctx).await?.expect_status(404).map(drop) }).await
}
case!(requests_over_the_in_flight_limit_are_429, area = "load", labels = ["load", "throttle"], needs_auth, serial);
