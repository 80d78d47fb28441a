//! Health and readiness (contract §2): liveness JSON, readiness, and liveness under a burst of
//! signals (which may be shed with 503 and `Retry-After`, contract §3 step 6: health may not).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fixtures::payloads::Webhook;
use futures::StreamExt;

use super::support::{Cleanup, FAN_OUT, SIGNAL_NAMESPACE, cleaning_up, deployment_alert, ready_url, skip_if_rejected};
use crate::{Ctx, Failure, Response, case};

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
            let answers = futures::stream::iter(0..BURST)
                .map(|i| burst_signal(&ctx, &cleanup, i))
                .buffer_unordered(FAN_OUT)
                .collect::<Vec<_>>()
                .await;
            done.store(true, Ordering::SeqCst);
            answers
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
        let (answers, health) = futures::join!(burst, probe);
        let healthy = health.iter().filter(|s| matches!(s, Ok(200))).count();
        ctx.log(format!("{} health probes during the burst, {healthy} answered 200", health.len()));
        Failure::ensure(healthy == health.len(), || {
            format!("health answered other than 200 during the burst: {health:?}")
        })?;
        // The signals only load the gateway: under overload it may shed them (503 + Retry-After).
        let mut statuses = Vec::with_capacity(answers.len());
        for answer in answers {
            let answer = answer?;
            skip_if_rejected(&answer)?;
            let overloaded = answer.status == 503 && answer.header("retry-after").is_some();
            Failure::ensure(matches!(answer.status, 201 | 202) || overloaded, || {
                format!(
                    "burst: a signal was answered {} (allowed: 201, 202, 503 with Retry-After): {}",
                    answer.status, answer.body
                )
            })?;
            statuses.push(answer.status);
        }
        ctx.log(format!("burst statuses: {statuses:?}"));
        Ok(())
    })
    .await
}
case!(health_stays_200_during_signal_burst, area = "health", labels = ["health"]);

/// One signal of the burst; its answer (tracking what it created).
async fn burst_signal(ctx: &Ctx, cleanup: &Cleanup, i: usize) -> Result<Response, Failure> {
    let deployment = ctx.unique(&format!("burst-{i}"));
    let answer =
        ctx.post_alert(&Webhook::with_alert(deployment_alert("BurstAlert", &deployment, SIGNAL_NAMESPACE))).await?;
    if let Ok(body) = answer.json() {
        cleanup.track_answer(&body);
    }
    Ok(answer)
}
