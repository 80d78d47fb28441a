//! Health and readiness (contract §2): liveness JSON, readiness, and liveness under a burst.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fixtures::payloads::Webhook;
use futures::StreamExt;

use super::support::{Cleanup, FAN_OUT, SIGNAL_NAMESPACE, cleaning_up, deployment_alert, ready_url};
use crate::{Ctx, Failure, case};

/// Signals in the burst.
const BURST: usize = 50;

async fn health_answers_200_json(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().health_url)).await?;
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("health status field", body["status"].as_str(), Some("healthy"))
}
case!(health_answers_200_json, area = "health", labels = ["health"]);

async fn ready_answers_200_json(ctx: Ctx) -> Result<(), Failure> {
    let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ready_url(&ctx))).await?;
    answer.expect_status(200)?;
    let body = answer.json()?;
    Failure::ensure_eq("readiness status field", body["status"].as_str(), Some("ready"))
}
case!(ready_answers_200_json, area = "health", labels = ["health"]);

async fn health_stays_200_during_signal_burst(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let done = AtomicBool::new(false);
        let burst = async {
            let statuses = futures::stream::iter(0..BURST)
                .map(|i| burst_signal(&ctx, &cleanup, i))
                .buffer_unordered(FAN_OUT)
                .collect::<Vec<_>>()
                .await;
            done.store(true, Ordering::SeqCst);
            statuses
        };
        let probe = async {
            let mut seen = Vec::new();
            loop {
                let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().health_url)).await;
                seen.push(answer.map(|a| a.status));
                if done.load(Ordering::SeqCst) {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let (statuses, health) = futures::join!(burst, probe);
        let accepted = statuses.iter().filter(|s| matches!(s, Ok(201))).count();
        Failure::ensure(accepted == BURST, || {
            format!("burst: {accepted} of {BURST} signals answered 201: {statuses:?}")
        })?;
        let healthy = health.iter().filter(|s| matches!(s, Ok(200))).count();
        ctx.log(format!("{} health probes during the burst, {healthy} answered 200", health.len()));
        Failure::ensure(healthy == health.len(), || {
            format!("health answered other than 200 during the burst: {health:?}")
        })
    })
    .await
}
case!(health_stays_200_during_signal_burst, area = "health", labels = ["health"]);

/// One signal of the burst; its status (tracking what it created).
async fn burst_signal(ctx: &Ctx, cleanup: &Cleanup, i: usize) -> Result<u16, Failure> {
    let deployment = ctx.unique(&format!("burst-{i}"));
    let answer =
        ctx.post_alert(&Webhook::with_alert(deployment_alert("BurstAlert", &deployment, SIGNAL_NAMESPACE))).await?;
    if let Ok(body) = answer.json() {
        cleanup.track_answer(&body);
    }
    Ok(answer.status)
}
