//! Health and readiness (contract §1): `/healthz` and `/readyz` answer JSON on the health
//! listener, and health stays 200 while the API port takes a burst of signals.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fixtures::payloads::Webhook;
use futures::StreamExt;

use super::batch::settle;
use super::support::{Cleanup, FAN_OUT, cleaning_up, expect_created, liveness_url, pod_alert};
use crate::world::World;
use crate::{Ctx, Failure, Response, case};

/// Signals in the burst.
const BURST: usize = 50;

/// Upstream rule: `pkg/gateway/server.go`, `pkg/shared/health/server.go` — `/healthz` answers 200
/// `{"status":"healthy","timestamp":...}` (`test/e2e/gateway/07_health_readiness_test.go`).
async fn health_answers_200_json(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &liveness_url(&ctx))).await?;
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("health status field", body["status"].as_str(), Some("healthy"))?;
    // `timestamp` is the time of the answer (`test/e2e/gateway/30_observability_test.go`).
    let stamp = body["timestamp"].as_str().ok_or_else(|| Failure::new(format!("no string timestamp: {body}")))?;
    super::support::parse_time("health timestamp", stamp).map(|_| ())
}
case!(health_answers_200_json, area = "health", labels = ["health"]);

/// Upstream rule: `pkg/gateway/server.go` — `/readyz` answers 200 `{"status":"ready"}` once the
/// gateway is ready.
async fn ready_answers_200_json(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().health_url)).await?;
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("readiness status field", body["status"].as_str(), Some("ready"))
}
case!(ready_answers_200_json, area = "health", labels = ["health"]);

/// Upstream rule: `pkg/shared/health/server.go` (its own listener) — health stays 200 while the
/// API port is busy; the signals (fewer in flight than the throttle's limit) are all created.
async fn health_stays_200_during_signal_burst(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("burst").await?;
        for i in 0..BURST {
            world.pod(&format!("burst-{i}")).await?;
        }
        settle(&ctx, &world).await?;
        let done = AtomicBool::new(false);
        let burst = async {
            let answers = futures::stream::iter(0..BURST)
                .map(|i| burst_signal(&ctx, &world, i))
                .buffer_unordered(FAN_OUT)
                .collect::<Vec<_>>()
                .await;
            done.store(true, Ordering::SeqCst);
            answers
        };
        let probe = async {
            let mut seen = Vec::new();
            loop {
                let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &liveness_url(&ctx))).await;
                seen.push(answer.map(|a| a.status));
                if done.load(Ordering::SeqCst) {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let (answers, health) = futures::join!(burst, probe);
        let healthy = health.iter().filter(|s| matches!(s, Ok(200))).count();
        ctx.log(format!("{} health probes during the burst, {healthy} answered 200", health.len()));
        Failure::ensure(healthy == health.len(), || {
            format!("health answered other than 200 during the burst: {health:?}")
        })?;
        ensure_all_created(&answers, &cleanup)
    })
    .await
}
case!(health_stays_200_during_signal_burst, area = "health", labels = ["health"], needs_cluster);

/// One signal of the burst.
async fn burst_signal(ctx: &Ctx, world: &World, i: usize) -> Result<Response, Failure> {
    let webhook = Webhook::with_alert(pod_alert("BurstAlert", &format!("burst-{i}"), world.namespace()));
    ctx.post_alert(&webhook).await
}

fn ensure_all_created(answers: &[Result<Response, Failure>], cleanup: &Cleanup) -> Result<(), Failure> {
    for answer in answers {
        let answer = answer.as_ref().map_err(Clone::clone)?;
        expect_created(answer, cleanup).map_err(|f| Failure::new(format!("burst: {}", f.message)))?;
    }
    Ok(())
}

/// Beyond upstream's suite (contract §1; `server.go` registers only the signal routes on the API
/// port, `pkg/shared/health/server.go` the probes and profiling on the health port) — the API port
/// answers 404 to `/healthz`, `/readyz` and `/metrics`; whether the health listener serves
/// `/debug/pprof/` without a token (it does unless profiling is disabled) is reported, not asserted.
async fn api_port_serves_no_health_or_metrics(ctx: Ctx) -> Result<(), Failure> {
    let config = ctx.config();
    let api = format!("{}/", config.gateway_url);
    if config.health_url.starts_with(&api) || config.metrics_url.starts_with(&api) {
        return Err(Failure::skip(
            "this run serves health or metrics under the gateway URL (one listener): give --health-url and \
             --metrics-url of their own listeners",
        ));
    }
    for path in ["/healthz", "/readyz", "/metrics"] {
        let answer = ctx.get(path).await?;
        Failure::ensure_eq(&format!("GET {path} on the API port"), answer.status, 404)?;
    }
    let pprof = liveness_url(&ctx).replace("/healthz", "/debug/pprof/");
    let request = ctx.config().http.get(&pprof).header("X-E2E-Case", ctx.case_name());
    let answer = ctx.send(request).await?;
    ctx.log(format!("report: GET {pprof} without a token answered {} (200 = profiling is exposed)", answer.status));
    Ok(())
}
case!(api_port_serves_no_health_or_metrics, area = "health", labels = ["health"]);
