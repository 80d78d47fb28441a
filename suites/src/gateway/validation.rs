//! Validation and errors (contract §2, §3, §4): malformed bodies, content type, size, methods,
//! unknown paths and replay protection, each answered with RFC 7807 problem+json; plus the
//! accepted variants (no Content-Type, `X-Timestamp` standing in for body timestamps).

use fixtures::payloads::{Event, Webhook};
use reqwest::Method;
use serde_json::json;

use super::support::{
    SIGNAL_NAMESPACE, cleaning_up, deployment_alert, expect_created, expect_invalid_field, expect_problem, now_unix,
    oversized, post_raw, post_stamped, single_use,
};
use crate::{Ctx, Failure, KUBERNETES_EVENT_PATH, PROMETHEUS_PATH, case};

/// A valid one-alert webhook about a Deployment of this case.
fn valid_webhook(ctx: &Ctx, tag: &str) -> Webhook {
    Webhook::with_alert(deployment_alert("ValidationProbe", &ctx.unique(tag), SIGNAL_NAMESPACE))
}

async fn malformed_json_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let answer = post_raw(&ctx, PROMETHEUS_PATH, "{\"alerts\": [", Some("application/json"), &[]).await?;
    let body = expect_problem(&answer, 400, "validation-error")?;
    Failure::ensure_eq("instance", body["instance"].as_str(), Some(PROMETHEUS_PATH))
}
case!(malformed_json_is_400_problem, area = "validation", labels = ["validation"]);

async fn empty_body_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    for path in [PROMETHEUS_PATH, KUBERNETES_EVENT_PATH] {
        let answer = post_raw(&ctx, path, "", Some("application/json"), &[]).await?;
        let body = expect_problem(&answer, 400, "validation-error")?;
        Failure::ensure_eq("instance", body["instance"].as_str(), Some(path))?;
    }
    Ok(())
}
case!(empty_body_is_400_problem, area = "validation", labels = ["validation"]);

async fn empty_or_missing_alerts_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let empty = Webhook::with_alerts(Vec::new()).to_json();
    let mut missing = empty.clone();
    if let Some(obj) = missing.as_object_mut() {
        obj.remove("alerts");
    }
    for body in [empty, missing] {
        expect_invalid_field(&ctx.post_json(PROMETHEUS_PATH, &body).await?, "alerts")?;
    }
    Ok(())
}
case!(empty_or_missing_alerts_is_400_problem, area = "validation", labels = ["validation"]);

async fn missing_alertname_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let alert = deployment_alert("Nameless", &ctx.unique("nameless"), SIGNAL_NAMESPACE).without_label("alertname");
    let answer = ctx.post_alert(&Webhook::with_alert(alert)).await?;
    expect_invalid_field(&answer, "alertname").map(drop)
}
case!(missing_alertname_is_400_problem, area = "validation", labels = ["validation"]);

async fn non_json_content_type_is_415_with_accept(ctx: Ctx) -> Result<(), Failure> {
    let body = valid_webhook(&ctx, "text").to_bytes();
    let answer = post_raw(&ctx, PROMETHEUS_PATH, body, Some("text/plain"), &[]).await?;
    expect_problem(&answer, 415, "unsupported-media-type")?;
    let accept = answer.header("accept").unwrap_or_default();
    Failure::ensure(accept.contains("application/json"), || {
        format!("Accept header should name application/json: {accept:?}")
    })
}
case!(non_json_content_type_is_415_with_accept, area = "validation", labels = ["validation"]);

async fn body_over_256_kib_is_413(ctx: Ctx) -> Result<(), Failure> {
    // A valid webhook padded with whitespace: only its size is wrong.
    let body = oversized(&valid_webhook(&ctx, "huge").to_json());
    let request = ctx.request(Method::POST, PROMETHEUS_PATH).header("Content-Type", "application/json").body(body);
    let answer = ctx.send(single_use(request)).await?;
    expect_problem(&answer, 413, "payload-too-large").map(drop)
}
case!(body_over_256_kib_is_413, area = "validation", labels = ["validation"]);

async fn other_method_on_signal_path_is_405_with_allow(ctx: Ctx) -> Result<(), Failure> {
    for (method, path) in [(Method::GET, PROMETHEUS_PATH), (Method::PUT, KUBERNETES_EVENT_PATH)] {
        let answer = ctx.send(ctx.request(method.clone(), path)).await?;
        expect_problem(&answer, 405, "method-not-allowed")?;
        let allow = answer.header("allow").unwrap_or_default();
        Failure::ensure(allow.split(',').any(|m| m.trim() == "POST"), || format!("{method} {path}: Allow {allow:?}"))?;
    }
    Ok(())
}
case!(other_method_on_signal_path_is_405_with_allow, area = "validation", labels = ["validation"]);

async fn unknown_path_is_404(ctx: Ctx) -> Result<(), Failure> {
    let path = format!("/api/v1/signals/{}", ctx.unique("nowhere"));
    ctx.send(ctx.request(Method::GET, &path)).await?.expect_status(404)?;
    ctx.post_json(&path, &valid_webhook(&ctx, "nowhere").to_json()).await?.expect_status(404).map(drop)
}
case!(unknown_path_is_404, area = "validation", labels = ["validation"]);

async fn old_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let stamp = (now_unix() - 10 * 60).to_string();
    let answer = post_stamped(&ctx, PROMETHEUS_PATH, &valid_webhook(&ctx, "old").to_json(), &stamp).await?;
    expect_problem(&answer, 400, "validation-error").map(drop)
}
case!(old_x_timestamp_is_400, area = "validation", labels = ["validation"]);

async fn future_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let stamp = (now_unix() + 10 * 60).to_string();
    let answer = post_stamped(&ctx, PROMETHEUS_PATH, &valid_webhook(&ctx, "future").to_json(), &stamp).await?;
    expect_problem(&answer, 400, "validation-error").map(drop)
}
case!(future_x_timestamp_is_400, area = "validation", labels = ["validation"]);

async fn non_numeric_or_negative_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    for stamp in ["yesterday", "-1", "1.5e9"] {
        let body = valid_webhook(&ctx, &format!("stamp-{stamp}")).to_json();
        let answer = post_stamped(&ctx, PROMETHEUS_PATH, &body, stamp).await?;
        expect_problem(&answer, 400, "validation-error")
            .map_err(|f| Failure::new(format!("X-Timestamp {stamp:?}: {}", f.message)))?;
    }
    Ok(())
}
case!(non_numeric_or_negative_x_timestamp_is_400, area = "validation", labels = ["validation"]);

async fn signal_without_any_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let alert = deployment_alert("Timeless", &ctx.unique("timeless"), SIGNAL_NAMESPACE).starts_at(None);
    expect_problem(&ctx.post_alert(&Webhook::with_alert(alert)).await?, 400, "validation-error")?;
    let event = Event::warning("BackOff", "Deployment", &ctx.unique("timeless-event"), SIGNAL_NAMESPACE)
        .without("lastTimestamp")
        .without("firstTimestamp");
    expect_problem(&ctx.post_event(&event).await?, 400, "validation-error").map(drop)
}
case!(signal_without_any_timestamp_is_400, area = "validation", labels = ["validation"]);

async fn stale_event_is_400(ctx: Ctx) -> Result<(), Failure> {
    let stale = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10)).to_string();
    let event = Event::warning("BackOff", "Deployment", &ctx.unique("stale"), SIGNAL_NAMESPACE)
        .set("lastTimestamp", json!(stale))
        .set("firstTimestamp", json!(stale));
    expect_problem(&ctx.post_event(&event).await?, 400, "validation-error").map(drop)
}
case!(stale_event_is_400, area = "validation", labels = ["validation"]);

async fn fresh_x_timestamp_stands_in_for_body_timestamps(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let alert = deployment_alert("Stamped", &ctx.unique("stamped"), SIGNAL_NAMESPACE).starts_at(None);
        let body = Webhook::with_alert(alert).to_json();
        let answer = post_stamped(&ctx, PROMETHEUS_PATH, &body, &now_unix().to_string()).await?;
        expect_created(&answer, &cleanup).map(drop)
    })
    .await
}
case!(fresh_x_timestamp_stands_in_for_body_timestamps, area = "validation", labels = ["validation"]);

async fn absent_or_parameterized_json_content_type_is_accepted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        for (tag, content_type) in [("no-ct", None), ("charset", Some("application/json; charset=utf-8"))] {
            let body = valid_webhook(&ctx, tag).to_bytes();
            let answer = post_raw(&ctx, PROMETHEUS_PATH, body, content_type, &[]).await?;
            expect_created(&answer, &cleanup)
                .map_err(|f| Failure::new(format!("Content-Type {content_type:?}: {}", f.message)))?;
        }
        Ok(())
    })
    .await
}
case!(absent_or_parameterized_json_content_type_is_accepted, area = "validation", labels = ["validation"]);
