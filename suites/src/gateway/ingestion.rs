//! Prometheus AlertManager ingestion (contract §4, §6).

use fixtures::payloads::{Alert, Webhook};

use super::support::{cleanup_rr, is_sha256_hex, str_field, wait_for_rr};
use crate::{Ctx, Failure, case};

async fn alert_creates_remediation_request(ctx: Ctx) -> Result<(), Failure> {
    let pod = ctx.unique("api");
    let webhook = Webhook::with_alert(Alert::firing("HighMemoryUsage").pod(&pod).namespace("e2e").severity("critical"));
    let answer = ctx.post_alert(&webhook).await?;
    answer.expect_status(201)?;
    let body = answer.json()?;
    Failure::ensure_eq("status", str_field(&body, "status")?, "created")?;
    let fingerprint = str_field(&body, "fingerprint")?;
    Failure::ensure(is_sha256_hex(fingerprint), || format!("fingerprint {fingerprint:?} is not 64 lowercase hex"))?;
    let name = str_field(&body, "remediationRequestName")?;
    let rr = wait_for_rr(&ctx, name).await?;
    cleanup_rr(&ctx, name).await;
    Failure::ensure_eq("spec.signalName", rr.spec.signal_name.as_str(), "HighMemoryUsage")?;
    Failure::ensure_eq("spec.signalFingerprint", rr.spec.signal_fingerprint.as_str(), fingerprint)
}
case!(alert_creates_remediation_request, area = "ingestion", labels = ["ingestion"], needs_cluster);
