//! Metrics (contract §7): the text exposition parses with the v2 families (and no in-flight
//! gauge), and the received, created, deduplicated, owner-resolution and request-duration
//! series grow by at least what a case did. Other cases run at the same time, so every check is
//! growth (`after - before >= n`), never equality.

use fixtures::payloads::{Event, Webhook};

use super::support::{
    Cleanup, alert_created, cleaning_up, ensure_grew, event_created, expect_duplicate, pod_alert, scrape_metrics,
};
use crate::world::World;
use crate::{Ctx, Failure, PROMETHEUS_PATH, case};

const RECEIVED: &str = "gateway_signals_received_total";
const DEDUPLICATED: &str = "gateway_signals_deduplicated_total";
const CREATED: &str = "gateway_crds_created_total";
const DURATION: &str = "gateway_http_request_duration_seconds";
const OWNER_RESOLUTION: &str = "gateway_owner_resolution_total";
const IN_FLIGHT: &str = "gateway_http_requests_in_flight";

/// Signals each growth case sends.
const SIGNALS: usize = 3;

/// Sends `SIGNALS` alerts with `severity` about new Pods of `world`, each answered 201.
async fn send_new_alerts(
    ctx: &Ctx,
    cleanup: &Cleanup,
    world: &World,
    alertname: &str,
    severity: &str,
) -> Result<(), Failure> {
    for i in 0..SIGNALS {
        let pod = world.pod(&format!("m{i}")).await?;
        let alert = pod_alert(alertname, &pod, world.namespace()).severity(severity);
        alert_created(ctx, cleanup, &Webhook::with_alert(alert)).await?;
    }
    Ok(())
}

/// Upstream rule: `pkg/gateway/metrics/metrics.go` — the families and their types; there is no
/// `gateway_http_requests_in_flight` (`test/e2e/gateway/04_metrics_endpoint_test.go`).
async fn metrics_are_prometheus_text(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        // Signals first, so the labelled families have members.
        let world = ctx.world("exposition").await?;
        send_new_alerts(&ctx, &cleanup, &world, "ExpositionProbe", "critical").await?;
        let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().metrics_url)).await?;
        answer.expect_status(200)?;
        let content_type = answer.header("content-type").unwrap_or_default();
        Failure::ensure(content_type.starts_with("text/plain"), || {
            format!("Content-Type should be text/plain, got {content_type:?}")
        })?;
        let metrics = scrape_metrics(&ctx).await?;
        let families =
            [(RECEIVED, "counter"), (CREATED, "counter"), (DURATION, "histogram"), (OWNER_RESOLUTION, "counter")];
        for (name, kind) in families {
            Failure::ensure_eq(&format!("type of {name}"), metrics.kind(name), Some(kind))?;
        }
        Failure::ensure_eq(&format!("{IN_FLIGHT} (not a v2 metric)"), metrics.kind(IN_FLIGHT), None)
    })
    .await
}
case!(metrics_are_prometheus_text, area = "metrics", labels = ["metrics"], needs_cluster);

/// Fails unless `metrics` has the Go runtime (`go_`), process (`process_`) and gateway
/// (`gateway_`) families; `when` says which scrape it was.
fn ensure_families(metrics: &super::support::Metrics, when: &str) -> Result<(), Failure> {
    for prefix in ["go_", "process_", "gateway_"] {
        Failure::ensure(metrics.has_prefix(prefix), || format!("{when}: no {prefix}* family in the metrics"))?;
    }
    Ok(())
}

/// Upstream spec: `test/e2e/gateway/04_metrics_endpoint_test.go` — the exposition carries the Go
/// runtime and process families of the default registry (`metrics/metrics.go`) beside the
/// gateway's, after an alert and still after an invalid POST (400).
async fn runtime_families_served_after_invalid_post(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("runtime-families").await?;
        send_new_alerts(&ctx, &cleanup, &world, "RuntimeFamiliesProbe", "warning").await?;
        ensure_families(&scrape_metrics(&ctx).await?, "after an alert")?;
        let invalid = serde_json::json!({ "invalid": "payload" });
        let answer = super::support::post_stamped(&ctx, PROMETHEUS_PATH, &invalid, &now_stamp()).await?;
        answer.expect_status(400)?;
        ensure_families(&scrape_metrics(&ctx).await?, "after an invalid POST")
    })
    .await
}
case!(runtime_families_served_after_invalid_post, area = "metrics", labels = ["metrics"], needs_cluster);

/// Unix seconds now, as `X-Timestamp` carries them.
fn now_stamp() -> String {
    super::support::now_unix().to_string()
}

/// Upstream rule: `signal_ingestion_process.go` — `gateway_signals_received_total{source_type=
/// "prometheus", severity=<raw>}` grows per alert (a severity of this case's own keeps the series
/// ours).
async fn received_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("received").await?;
        let severity = format!("sev{:08x}", fnv_of(ctx.case_name(), &ctx.config().run_id));
        let labels = [("source_type", "prometheus"), ("severity", severity.as_str())];
        let before = scrape_metrics(&ctx).await?.total(RECEIVED, &labels);
        send_new_alerts(&ctx, &cleanup, &world, "ReceivedProbe", &severity).await?;
        let after = scrape_metrics(&ctx).await?.total(RECEIVED, &labels);
        ensure_grew(
            &format!("{RECEIVED}{{source_type=\"prometheus\",severity=\"{severity}\"}}"),
            before,
            after,
            SIGNALS as f64,
        )
    })
    .await
}
case!(received_counter_grows, area = "metrics", labels = ["metrics"], needs_cluster);

/// A short hash of the case and run, for label values of this case only.
fn fnv_of(case: &str, run: &str) -> u32 {
    let mut hasher = fnv::FnvHasher::default();
    std::hash::Hasher::write(&mut hasher, format!("{case}/{run}").as_bytes());
    std::hash::Hasher::finish(&hasher) as u32
}

/// Upstream rule: `signal_ingestion_process.go`, `kubernetes_event_adapter.go` — events count
/// under `source_type="kubernetes-events"` with their type as severity.
async fn event_signals_are_counted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("event-metric").await?;
        let labels = [("source_type", "kubernetes-events"), ("severity", "Warning")];
        let before = scrape_metrics(&ctx).await?.total(RECEIVED, &labels);
        for i in 0..SIGNALS {
            let pod = world.pod(&format!("ev{i}")).await?;
            event_created(&ctx, &cleanup, &Event::warning("BackOff", "Pod", &pod, world.namespace())).await?;
        }
        let after = scrape_metrics(&ctx).await?.total(RECEIVED, &labels);
        ensure_grew(
            &format!("{RECEIVED}{{source_type=\"kubernetes-events\",severity=\"Warning\"}}"),
            before,
            after,
            SIGNALS as f64,
        )
    })
    .await
}
case!(event_signals_are_counted, area = "metrics", labels = ["metrics", "events"], needs_cluster);

/// Upstream rule: `processing/crd_creator.go` — `gateway_crds_created_total{source_type=
/// "prometheus", status="created"}` grows per new RR.
async fn created_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("created-metric").await?;
        let labels = [("source_type", "prometheus"), ("status", "created")];
        let before = scrape_metrics(&ctx).await?.total(CREATED, &labels);
        send_new_alerts(&ctx, &cleanup, &world, "CreatedProbe", "critical").await?;
        let after = scrape_metrics(&ctx).await?.total(CREATED, &labels);
        ensure_grew(
            &format!("{CREATED}{{source_type=\"prometheus\",status=\"created\"}}"),
            before,
            after,
            SIGNALS as f64,
        )
    })
    .await
}
case!(created_counter_grows, area = "metrics", labels = ["metrics"], needs_cluster);

/// Upstream rule: `signal_ingestion_process.go` — `gateway_signals_deduplicated_total{signal_name}`
/// grows per duplicate (an alert name of this case keeps the series ours).
async fn deduplicated_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("dedup-metric").await?;
        let pod = world.pod("dedup-0").await?;
        let alertname = ctx.unique("DedupProbe");
        let labels = [("signal_name", alertname.as_str())];
        let webhook = Webhook::with_alert(pod_alert(&alertname, &pod, world.namespace()));
        let before = scrape_metrics(&ctx).await?.total(DEDUPLICATED, &labels);
        alert_created(&ctx, &cleanup, &webhook).await?;
        for _ in 0..SIGNALS {
            expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        }
        let after = scrape_metrics(&ctx).await?.total(DEDUPLICATED, &labels);
        ensure_grew(&format!("{DEDUPLICATED}{{signal_name=\"{alertname}\"}}"), before, after, SIGNALS as f64)
    })
    .await
}
case!(deduplicated_counter_grows, area = "metrics", labels = ["metrics"], needs_cluster);

/// Upstream rule: `adapters/prometheus_adapter.go` — `gateway_owner_resolution_total{kind=
/// <resolved kind>, outcome="success"}` grows per resolved alert.
async fn owner_resolution_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("owner-metric").await?;
        let chain = world.deployment("resolved", 1).await?;
        let pod = chain.pods.first().cloned().unwrap_or_default();
        let labels = [("kind", "Deployment"), ("outcome", "success")];
        let before = scrape_metrics(&ctx).await?.total(OWNER_RESOLUTION, &labels);
        let webhook = Webhook::with_alert(pod_alert("OwnerProbe", &pod, world.namespace()));
        alert_created(&ctx, &cleanup, &webhook).await?;
        let after = scrape_metrics(&ctx).await?.total(OWNER_RESOLUTION, &labels);
        ensure_grew(&format!("{OWNER_RESOLUTION}{{kind=\"Deployment\",outcome=\"success\"}}"), before, after, 1.0)
    })
    .await
}
case!(owner_resolution_counter_grows, area = "metrics", labels = ["metrics", "owner"], needs_cluster);

/// Upstream rule: `middleware/http_metrics.go` — `gateway_http_request_duration_seconds{endpoint=
/// <raw path>, method="POST"}` counts every signal request, and its `_sum` and `_bucket` series
/// are there and grow too (`test/e2e/gateway/20_security_headers_test.go`).
async fn request_duration_histogram_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("duration").await?;
        // The signal endpoint's series only: the case's own scrapes and other cases' GETs do not count.
        let labels = [("endpoint", PROMETHEUS_PATH), ("method", "POST")];
        let sum = format!("{DURATION}_sum");
        let earlier = scrape_metrics(&ctx).await?;
        let (before, sum_before) = (earlier.histogram_count(DURATION, &labels), earlier.total(&sum, &labels));
        send_new_alerts(&ctx, &cleanup, &world, "DurationProbe", "critical").await?;
        let later = scrape_metrics(&ctx).await?;
        let series = format!("{{endpoint=\"{PROMETHEUS_PATH}\",method=\"POST\"}}");
        ensure_grew(
            &format!("{DURATION}_count{series}"),
            before,
            later.histogram_count(DURATION, &labels),
            SIGNALS as f64,
        )?;
        let sum_after = later.total(&sum, &labels);
        Failure::ensure(sum_after > sum_before, || {
            format!("{sum}{series} should grow: was {sum_before}, now {sum_after}")
        })?;
        Failure::ensure_eq(&format!("type of {DURATION} (its _bucket series)"), later.kind(DURATION), Some("histogram"))
    })
    .await
}
case!(request_duration_histogram_grows, area = "metrics", labels = ["metrics"], needs_cluster);
