//! Metrics (contract §7): the text exposition parses, and the signal, creation, deduplication and
//! request-duration series grow by at least what a case did. Other cases run at the same time,
//! so every check is growth (`after - before >= n`), never equality.

use std::collections::BTreeSet;

use fixtures::payloads::{Event, Webhook};

use super::support::{
    Metrics, SIGNAL_NAMESPACE, cleaning_up, deployment_alert, ensure_grew, expect_created, expect_duplicate,
    scrape_metrics,
};
use crate::{Ctx, Failure, PROMETHEUS_PATH, case};

const RECEIVED: &str = "gateway_signals_received_total";
const DEDUPLICATED: &str = "gateway_signals_deduplicated_total";
const CREATED: &str = "gateway_crds_created_total";
const DURATION: &str = "gateway_http_request_duration_seconds";
const IN_FLIGHT: &str = "gateway_http_requests_in_flight";

/// Signals each growth case sends.
const SIGNALS: usize = 3;

/// Sends `SIGNALS` alerts about distinct Deployments of this case, each answered 201.
async fn send_new_alerts(ctx: &Ctx, cleanup: &super::support::Cleanup, alertname: &str) -> Result<(), Failure> {
    for i in 0..SIGNALS {
        let alert = deployment_alert(alertname, &ctx.unique(&format!("m{i}")), SIGNAL_NAMESPACE).severity("critical");
        expect_created(&ctx.post_alert(&Webhook::with_alert(alert)).await?, cleanup)?;
    }
    Ok(())
}

async fn metrics_are_prometheus_text(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        // One signal first, so the labelled families have a member.
        send_new_alerts(&ctx, &cleanup, "ExpositionProbe").await?;
        let answer = ctx.send(ctx.request_url(reqwest::Method::GET, &ctx.config().metrics_url)).await?;
        answer.expect_status(200)?;
        let content_type = answer.header("content-type").unwrap_or_default();
        Failure::ensure(content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"), || {
            format!("Content-Type should be text/plain; version=0.0.4, got {content_type:?}")
        })?;
        let metrics = scrape_metrics(&ctx).await?;
        for (name, kind) in [(RECEIVED, "counter"), (CREATED, "counter"), (DURATION, "histogram"), (IN_FLIGHT, "gauge")]
        {
            Failure::ensure_eq(&format!("type of {name}"), metrics.kind(name), Some(kind))?;
        }
        Ok(())
    })
    .await
}
case!(metrics_are_prometheus_text, area = "metrics", labels = ["metrics"]);

async fn received_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let before = scrape_metrics(&ctx).await?.total(RECEIVED, &[("severity", "critical")]);
        send_new_alerts(&ctx, &cleanup, "ReceivedProbe").await?;
        let after = scrape_metrics(&ctx).await?.total(RECEIVED, &[("severity", "critical")]);
        ensure_grew(&format!("{RECEIVED}{{severity=\"critical\"}}"), before, after, SIGNALS as f64)
    })
    .await
}
case!(received_counter_grows, area = "metrics", labels = ["metrics"]);

/// `source_type` of the received series that Prometheus alerts use: those seen with severity
/// `info`, which only an alert can have (an event is `critical` or `warning`, contract §5). The
/// value itself is not fixed by the contract, so it is read, never asserted.
fn prometheus_source_types(metrics: &Metrics) -> BTreeSet<String> {
    metrics.label_values(RECEIVED, "source_type", &[("severity", "info")])
}

async fn event_signals_are_counted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        // One info alert, so the Prometheus series shows up as the one with severity="info".
        let probe = deployment_alert("EventCountProbe", &ctx.unique("info"), SIGNAL_NAMESPACE).severity("info");
        expect_created(&ctx.post_alert(&Webhook::with_alert(probe)).await?, &cleanup)?;
        let first = scrape_metrics(&ctx).await?;
        Failure::ensure(!prometheus_source_types(&first).is_empty(), || {
            format!("after an info alert, no {RECEIVED} series has severity=\"info\" and a source_type")
        })?;
        for i in 0..SIGNALS {
            let event = Event::warning("BackOff", "Deployment", &ctx.unique(&format!("ev{i}")), SIGNAL_NAMESPACE);
            expect_created(&ctx.post_event(&event).await?, &cleanup)?;
        }
        let last = scrape_metrics(&ctx).await?;
        // Everything known as Prometheus at either scrape is left out of both sums.
        let prometheus: BTreeSet<String> =
            prometheus_source_types(&first).union(&prometheus_source_types(&last)).cloned().collect();
        let before = first.total_excluding(RECEIVED, "source_type", &prometheus);
        let after = last.total_excluding(RECEIVED, "source_type", &prometheus);
        ctx.log(format!(
            "source_type values: Prometheus {prometheus:?}, all {:?}",
            last.label_values(RECEIVED, "source_type", &[])
        ));
        ensure_grew(&format!("{RECEIVED} with a source_type other than {prometheus:?}"), before, after, SIGNALS as f64)
    })
    .await
}
case!(event_signals_are_counted, area = "metrics", labels = ["metrics"]);

async fn created_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let labels = [("status", "created")];
        let before = scrape_metrics(&ctx).await?.total(CREATED, &labels);
        send_new_alerts(&ctx, &cleanup, "CreatedProbe").await?;
        let after = scrape_metrics(&ctx).await?.total(CREATED, &labels);
        ensure_grew(&format!("{CREATED}{{status=\"created\"}}"), before, after, SIGNALS as f64)
    })
    .await
}
case!(created_counter_grows, area = "metrics", labels = ["metrics"]);

async fn deduplicated_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        // An alert name of this case only, so the series is ours.
        let alertname = ctx.unique("DedupProbe");
        let labels = [("signal_name", alertname.as_str())];
        let webhook = Webhook::with_alert(deployment_alert(&alertname, &ctx.unique("dedup"), SIGNAL_NAMESPACE));
        let before = scrape_metrics(&ctx).await?.total(DEDUPLICATED, &labels);
        expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
        for _ in 0..SIGNALS {
            expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        }
        let after = scrape_metrics(&ctx).await?.total(DEDUPLICATED, &labels);
        ensure_grew(&format!("{DEDUPLICATED}{{signal_name=\"{alertname}\"}}"), before, after, SIGNALS as f64)
    })
    .await
}
case!(deduplicated_counter_grows, area = "metrics", labels = ["metrics"]);

async fn request_duration_histogram_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        // The signal endpoint's series only: the case's own scrapes, and other cases' GETs and
        // unknown paths, do not count.
        let labels = [("endpoint", PROMETHEUS_PATH), ("method", "POST")];
        let before = scrape_metrics(&ctx).await?.histogram_count(DURATION, &labels);
        send_new_alerts(&ctx, &cleanup, "DurationProbe").await?;
        let after = scrape_metrics(&ctx).await?.histogram_count(DURATION, &labels);
        let what = format!("{DURATION}_count{{endpoint=\"{PROMETHEUS_PATH}\",method=\"POST\"}}");
        ensure_grew(&what, before, after, SIGNALS as f64)
    })
    .await
}
case!(request_duration_histogram_grows, area = "metrics", labels = ["metrics"]);
