//! Webhooks with several alerts (contract §3): 207 with one result per alert and a summary, a
//! plain 201 when only one alert survives owner resolution, 400 when none does.

use fixtures::payloads::Webhook;
use serde_json::Value;

use super::support::{
    BATCH_PARSE_FAILED, alert_created, cleaning_up, expect_bad_request, expect_created, is_sha256_hex, pod_alert,
    str_field,
};
use crate::world::World;
use crate::{Ctx, Failure, Response, case};

/// `summary` of a 207 answer as (total, created, deduplicated, rejected, failed).
pub fn summary(body: &Value) -> Result<[u64; 5], Failure> {
    let field = |name: &str| {
        body.pointer(&format!("/summary/{name}"))
            .and_then(Value::as_u64)
            .ok_or_else(|| Failure::new(format!("207 answer has no integer summary.{name}: {body}")))
    };
    Ok([field("total")?, field("created")?, field("deduplicated")?, field("rejected")?, field("failed")?])
}

/// The `results` of a 207 answer.
pub fn results(body: &Value) -> Result<Vec<Value>, Failure> {
    body.get("results")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| Failure::new(format!("207 answer has no results array: {body}")))
}

/// The `status` of each result.
pub fn statuses(body: &Value) -> Result<Vec<String>, Failure> {
    results(body)?.iter().map(|r| str_field(r, "status").map(str::to_owned)).collect()
}

/// Makes sure the gateway sees `world` before a batch about it: a Pod created after the case's
/// others is alerted on until created (its caches see objects in creation order).
pub async fn settle(ctx: &Ctx, world: &World) -> Result<(), Failure> {
    let pod = world.pod("settle-0").await?;
    let cleanup = super::support::Cleanup::default();
    alert_created(ctx, &cleanup, &Webhook::with_alert(pod_alert("WorldSettled", &pod, world.namespace()))).await?;
    Ok(())
}

/// Expects a 207 and returns its body.
fn multi_status(answer: &Response) -> Result<Value, Failure> {
    answer.expect_status(207)?;
    answer.json()
}

/// Upstream rule: `signal_ingestion.go`, `response_types.go` — several alerts answer 207 with
/// `results[]` of `{status, fingerprint, message}` (no resource name, no `duplicate`) and
/// `summary{total, created, deduplicated, rejected, failed}`.
async fn multi_alert_webhook_answers_207_per_alert(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("multi").await?;
        let mut alerts = Vec::new();
        for i in 0..3 {
            let pod = world.pod(&format!("multi-{i}")).await?;
            alerts.push(pod_alert("Multi", &pod, world.namespace()));
        }
        settle(&ctx, &world).await?;
        let body = multi_status(&ctx.post_alert(&Webhook::with_alerts(alerts)).await?)?;
        let results = results(&body)?;
        Failure::ensure_eq("number of results", results.len(), 3)?;
        let mut fingerprints = Vec::new();
        for result in &results {
            Failure::ensure_eq("result status", str_field(result, "status")?, "created")?;
            let fingerprint = str_field(result, "fingerprint")?;
            Failure::ensure(is_sha256_hex(fingerprint), || format!("result fingerprint {fingerprint:?}"))?;
            for absent in ["remediationRequestName", "duplicate"] {
                Failure::ensure(result.get(absent).is_none(), || format!("a 207 result has `{absent}`: {result}"))?;
            }
            fingerprints.push(fingerprint.to_owned());
        }
        fingerprints.sort();
        fingerprints.dedup();
        Failure::ensure_eq("distinct fingerprints", fingerprints.len(), 3)?;
        Failure::ensure_eq("summary [total, created, deduplicated, rejected, failed]", summary(&body)?, [3, 3, 0, 0, 0])
    })
    .await
}
case!(multi_alert_webhook_answers_207_per_alert, area = "batch", labels = ["ingestion", "batch"], needs_cluster);

/// Upstream rule: `signal_ingestion.go` (`processOneSignalInBatch`) — alerts of one batch are
/// processed in order: a repeat is `duplicate`, an alert failing validation is `rejected`.
async fn batch_summary_counts_duplicates_and_rejections(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("mixed").await?;
        let (a, b) = (world.pod("mixed-a").await?, world.pod("mixed-b").await?);
        settle(&ctx, &world).await?;
        let alerts = vec![
            pod_alert("MixedFirst", &a, world.namespace()),
            pod_alert("MixedSecond", &a, world.namespace()),
            pod_alert("MixedBroken", &b, world.namespace()).without_label("alertname"),
        ];
        let body = multi_status(&ctx.post_alert(&Webhook::with_alerts(alerts)).await?)?;
        Failure::ensure_eq(
            "result statuses",
            statuses(&body)?,
            vec!["created".into(), "duplicate".into(), "rejected".into()],
        )?;
        let broken = results(&body)?.get(2).cloned().unwrap_or_default();
        let error = str_field(&broken, "error")?;
        Failure::ensure(error.contains("alertName is required"), || format!("rejected result error: {error:?}"))?;
        Failure::ensure_eq("summary [total, created, deduplicated, rejected, failed]", summary(&body)?, [3, 1, 1, 1, 0])
    })
    .await
}
case!(batch_summary_counts_duplicates_and_rejections, area = "batch", labels = ["ingestion", "batch"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` (`ParseBatch`), `signal_ingestion.go` — a
/// two-alert webhook with one resolvable alert is one signal: a plain 201.
async fn partial_batch_answers_201(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("partial").await?;
        let pod = world.pod("real-0").await?;
        settle(&ctx, &world).await?;
        let alerts =
            vec![pod_alert("Partial", "ghost-0", world.namespace()), pod_alert("Partial", &pod, world.namespace())];
        let created = expect_created(&ctx.post_alert(&Webhook::with_alerts(alerts)).await?, &cleanup)?;
        let expected = super::ingestion::fingerprint_of(world.namespace(), "Pod", &pod);
        Failure::ensure_eq("fingerprint (the existing Pod's)", created.fingerprint, expected)
    })
    .await
}
case!(partial_batch_answers_201, area = "batch", labels = ["ingestion", "batch"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` (`ParseBatch`) — when every alert of a batch
/// fails owner resolution: 400 "Failed to parse batch payload".
async fn all_dropped_batch_is_400(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world("dropped").await?;
        let alerts = vec![
            pod_alert("Dropped", "ghost-a", world.namespace()),
            pod_alert("Dropped", "ghost-b", world.namespace()),
        ];
        expect_bad_request(&ctx.post_alert(&Webhook::with_alerts(alerts)).await?, BATCH_PARSE_FAILED).map(drop)
    })
    .await
}
case!(all_dropped_batch_is_400, area = "batch", labels = ["ingestion", "batch"], needs_cluster);
