//! Deduplication (contract §6).

use fixtures::payloads::{Alert, Webhook};

use super::support::{cleanup_rr, str_field, wait_for_rr};
use crate::{Ctx, Failure, case};

async fn repeat_alert_is_duplicate(ctx: Ctx) -> Result<(), Failure> {
    let pod = ctx.unique("worker");
    let webhook = Webhook::with_alert(Alert::firing("CrashLooping").pod(&pod).namespace("e2e"));
    let first = ctx.post_alert(&webhook).await?;
    first.expect_status(201)?;
    let name = str_field(&first.json()?, "remediationRequestName")?.to_owned();
    let second = ctx.post_alert(&webhook).await?;
    second.expect_status(202)?;
    let body = second.json()?;
    Failure::ensure_eq("status", str_field(&body, "status")?, "duplicate")?;
    Failure::ensure_eq("remediationRequestName", str_field(&body, "remediationRequestName")?, name.as_str())?;
    let rr = wait_for_rr(&ctx, &name).await?;
    cleanup_rr(&ctx, &name).await;
    Failure::ensure_eq("status.deduplication.occurrenceCount", rr.occurrence_count(), 2)
}
case!(repeat_alert_is_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

async fn different_resources_get_different_fingerprints(ctx: Ctx) -> Result<(), Failure> {
    let mut fingerprints = Vec::new();
    for tag in ["left", "right"] {
        let pod = ctx.unique(tag);
        let answer =
            ctx.post_alert(&Webhook::with_alert(Alert::firing("DiskPressure").pod(&pod).namespace("e2e"))).await?;
        answer.expect_status(201)?;
        fingerprints.push(str_field(&answer.json()?, "fingerprint")?.to_owned());
    }
    Failure::ensure(fingerprints[0] != fingerprints[1], || {
        format!("both resources got fingerprint {}", fingerprints[0])
    })
}
case!(different_resources_get_different_fingerprints, area = "dedup", labels = ["dedup"]);
