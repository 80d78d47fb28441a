//! Validation and errors on the API port (contract §2, §3): replay/freshness, content type, the
//! two size limits, parse and validation failures with generic details, 405 and 404; plus the
//! accepted variants (no Content-Type, an old `startsAt`, `X-Timestamp` ignored on events).

use std::time::Duration;

use fixtures::payloads::{Event, Webhook};
use reqwest::Method;
use serde_json::json;

use super::support::{
    ADMIT_INTERVAL, BATCH_PARSE_FAILED, MAX_PROMETHEUS_BYTES, Writer, admit_deadline, alert_created, cleaning_up,
    expect_bad_request, expect_created, expect_problem, now_unix, oversized, pod_alert, post_raw, single_use,
    str_field, world_with_pod,
};
use crate::{Ctx, Failure, KUBERNETES_EVENT_PATH, PROMETHEUS_PATH, Response, case, eventually};

/// A one-alert webhook about a Pod that need not exist (refused before resolution).
fn probe_webhook() -> Webhook {
    Webhook::with_alert(pod_alert("ValidationProbe", "any-0", "default"))
}

/// `X-Timestamp: now`.
fn stamp_now() -> (&'static str, String) {
    ("X-Timestamp", now_unix().to_string())
}

/// The detail of a stale `X-Timestamp` (`middleware/timestamp.go`).
const OLD_STAMP: &str = "timestamp too old: possible replay attack";
/// The detail of an `X-Timestamp` too far ahead (`middleware/timestamp.go`).
const FUTURE_STAMP: &str = "timestamp in future: possible clock skew attack";

/// Asserts a freshness middleware 400 whose detail contains `words`.
fn expect_stale(answer: &Response, words: &str) -> Result<(), Failure> {
    let body = expect_problem(answer, 400, "validation-error", Writer::Middleware)?;
    let detail = str_field(&body, "detail")?;
    Failure::ensure(detail.contains(words), || format!("detail should say {words:?}: {detail:?}"))
}

/// Upstream rule: `signal_ingestion.go`, `adapters/prometheus_adapter.go` — a body that is not
/// JSON: 400 "Failed to parse batch payload" from the handler (instance, request_id).
async fn malformed_json_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let answer = post_raw(&ctx, PROMETHEUS_PATH, "{\"alerts\": [", Some("application/json"), &[stamp_now()]).await?;
    expect_bad_request(&answer, BATCH_PARSE_FAILED).map(drop)
}
case!(malformed_json_is_400_problem, area = "validation", labels = ["validation"]);

/// Upstream rule: `adapters/prometheus_adapter.go` — an empty body does not parse: 400.
async fn empty_body_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let answer = post_raw(&ctx, PROMETHEUS_PATH, "", Some("application/json"), &[stamp_now()]).await?;
    expect_bad_request(&answer, BATCH_PARSE_FAILED).map(drop)
}
case!(empty_body_is_400_problem, area = "validation", labels = ["validation"]);

/// Upstream rule: `adapters/prometheus_adapter.go` — no alerts (empty or missing): 400 with the
/// generic detail (the field is not named).
async fn empty_or_missing_alerts_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    let empty = Webhook::with_alerts(Vec::new()).to_json();
    let mut missing = empty.clone();
    if let Some(obj) = missing.as_object_mut() {
        obj.remove("alerts");
    }
    for body in [empty, missing] {
        let answer =
            post_raw(&ctx, PROMETHEUS_PATH, body.to_string(), Some("application/json"), &[stamp_now()]).await?;
        expect_bad_request(&answer, BATCH_PARSE_FAILED)?;
    }
    Ok(())
}
case!(empty_or_missing_alerts_is_400_problem, area = "validation", labels = ["validation"]);

/// Upstream rule: `adapters/prometheus_adapter.go` (the webhook does not decode) — `alerts` of
/// the wrong JSON type (a string, an object, a number): 400 "Failed to parse batch payload"
/// (`test/e2e/gateway/26_error_classification_test.go`).
async fn alerts_of_the_wrong_type_are_400_problem(ctx: Ctx) -> Result<(), Failure> {
    for alerts in [serde_json::json!("not-a-list"), serde_json::json!({ "alertname": "X" }), serde_json::json!(7)] {
        let mut body = Webhook::with_alerts(Vec::new()).to_json();
        body["alerts"] = alerts;
        let answer =
            post_raw(&ctx, PROMETHEUS_PATH, body.to_string(), Some("application/json"), &[stamp_now()]).await?;
        expect_bad_request(&answer, BATCH_PARSE_FAILED)?;
    }
    Ok(())
}
case!(alerts_of_the_wrong_type_are_400_problem, area = "validation", labels = ["validation"]);

/// Upstream rule: `adapters/prometheus_adapter.go` (`Validate`), `signal_ingestion.go` — an
/// alert about an existing Pod without `alertname`: 400 "Signal validation failed: alertName is
/// required".
async fn missing_alertname_is_400_problem(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = world_with_pod(&ctx, "nameless", "nameless-0").await?;
        let alert = pod_alert("Nameless", "nameless-0", world.namespace()).without_label("alertname");
        let webhook = Webhook::with_alert(alert);
        // Until the gateway sees the Pod, the alert fails resolution instead: send again.
        eventually(admit_deadline(&ctx), ADMIT_INTERVAL, || async {
            expect_bad_request(&ctx.post_alert(&webhook).await?, "Signal validation failed: alertName is required")
        })
        .await
        .map(drop)
    })
    .await
}
case!(missing_alertname_is_400_problem, area = "validation", labels = ["validation"], needs_cluster);

/// Upstream rule: `middleware/content_type.go` — not `application/json`: 415 with
/// `Accept: application/json`, written by the middleware (instance = path, no request_id).
async fn non_json_content_type_is_415_with_accept(ctx: Ctx) -> Result<(), Failure> {
    let answer =
        post_raw(&ctx, PROMETHEUS_PATH, probe_webhook().to_bytes(), Some("text/plain"), &[stamp_now()]).await?;
    let body = expect_problem(&answer, 415, "unsupported-media-type", Writer::Middleware)?;
    Failure::ensure_eq("instance", str_field(&body, "instance")?, PROMETHEUS_PATH)?;
    let accept = answer.header("accept").unwrap_or_default();
    Failure::ensure(accept.contains("application/json"), || format!("Accept should name application/json: {accept:?}"))
}
case!(non_json_content_type_is_415_with_accept, area = "validation", labels = ["validation"]);

/// Upstream rule: `signal_ingestion.go` chain order — freshness runs before the content type: a
/// `text/plain` body with a stale `X-Timestamp` is 400, not 415.
async fn freshness_is_checked_before_content_type(ctx: Ctx) -> Result<(), Failure> {
    let stale = ("X-Timestamp", (now_unix() - 10 * 60).to_string());
    let answer = post_raw(&ctx, PROMETHEUS_PATH, probe_webhook().to_bytes(), Some("text/plain"), &[stale]).await?;
    expect_stale(&answer, OLD_STAMP)
}
case!(freshness_is_checked_before_content_type, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/alertmanager_freshness.go`, `middleware/limits.go` — a body over
/// 256 KiB is 413 "payload-too-large" (without `X-Timestamp`, from the middleware).
async fn body_over_256_kib_is_413(ctx: Ctx) -> Result<(), Failure> {
    let body = oversized(&probe_webhook().to_json());
    let request = ctx.request(Method::POST, PROMETHEUS_PATH).header("Content-Type", "application/json").body(body);
    let answer = ctx.send(single_use(request)).await?;
    expect_problem(&answer, 413, "payload-too-large", Writer::Middleware).map(drop)
}
case!(body_over_256_kib_is_413, area = "validation", labels = ["validation"]);

/// Upstream rule: `adapters/prometheus_adapter.go` (`maxPayloadSize`) — the Prometheus parser
/// refuses bodies over 100 KiB with 400, below the 256 KiB limit's 413.
async fn body_over_100_kib_is_400_parse_failure(ctx: Ctx) -> Result<(), Failure> {
    let mut body = probe_webhook().to_json().to_string().into_bytes();
    body.resize(MAX_PROMETHEUS_BYTES + 50 * 1024, b' ');
    let answer = post_raw(&ctx, PROMETHEUS_PATH, body, Some("application/json"), &[stamp_now()]).await?;
    expect_bad_request(&answer, BATCH_PARSE_FAILED).map(drop)
}
case!(body_over_100_kib_is_400_parse_failure, area = "validation", labels = ["validation"]);

/// Upstream rule: chi's router (`server.go`) — another method on a signal path: 405, `Allow:
/// POST`, an empty body without Content-Type.
async fn other_method_on_signal_path_is_405_with_allow(ctx: Ctx) -> Result<(), Failure> {
    for (method, path) in [(Method::GET, PROMETHEUS_PATH), (Method::PUT, KUBERNETES_EVENT_PATH)] {
        let answer = ctx.send(ctx.request(method.clone(), path)).await?;
        answer.expect_status(405)?;
        Failure::ensure_eq(&format!("{method} {path}: Allow"), answer.header("allow"), Some("POST"))?;
        Failure::ensure_eq(&format!("{method} {path}: body"), answer.body.as_str(), "")?;
        Failure::ensure_eq(&format!("{method} {path}: Content-Type"), answer.header("content-type"), None)?;
    }
    Ok(())
}
case!(other_method_on_signal_path_is_405_with_allow, area = "validation", labels = ["validation"]);

/// Upstream rule: chi's router (`server.go`) — an unknown path: 404 `text/plain` "404 page not
/// found".
async fn unknown_path_is_404_text(ctx: Ctx) -> Result<(), Failure> {
    let path = format!("/api/v1/signals/{}", ctx.unique("nowhere"));
    for answer in [ctx.get(&path).await?, ctx.post_json(&path, &probe_webhook().to_json()).await?] {
        answer.expect_status(404)?;
        let content_type = answer.header("content-type").unwrap_or_default();
        Failure::ensure(content_type.starts_with("text/plain"), || format!("404 Content-Type {content_type:?}"))?;
        Failure::ensure_eq("404 body", answer.body.trim(), "404 page not found")?;
    }
    Ok(())
}
case!(unknown_path_is_404_text, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/timestamp.go` — `X-Timestamp` older than 5 minutes: 400 with the
/// detail "timestamp too old: possible replay attack"
/// (`test/e2e/gateway/19_replay_attack_prevention_test.go`).
async fn old_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let stale = ("X-Timestamp", (now_unix() - 10 * 60).to_string());
    let answer =
        post_raw(&ctx, PROMETHEUS_PATH, probe_webhook().to_bytes(), Some("application/json"), &[stale]).await?;
    expect_stale(&answer, OLD_STAMP)
}
case!(old_x_timestamp_is_400, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/timestamp.go` — more than 2 minutes ahead: 400 with the detail
/// "timestamp in future: possible clock skew attack"
/// (`test/e2e/gateway/19_replay_attack_prevention_test.go`).
async fn future_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let ahead = ("X-Timestamp", (now_unix() + 10 * 60).to_string());
    let answer =
        post_raw(&ctx, PROMETHEUS_PATH, probe_webhook().to_bytes(), Some("application/json"), &[ahead]).await?;
    expect_stale(&answer, FUTURE_STAMP)
}
case!(future_x_timestamp_is_400, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/timestamp.go` — a non-numeric or negative `X-Timestamp`: 400.
async fn non_numeric_or_negative_x_timestamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    for (stamp, words) in [("yesterday", "invalid timestamp"), ("1.5e9", "invalid timestamp"), ("-1", "negative")] {
        let header = ("X-Timestamp", stamp.to_owned());
        let body = probe_webhook().to_bytes();
        let answer = post_raw(&ctx, PROMETHEUS_PATH, body, Some("application/json"), &[header]).await?;
        expect_stale(&answer, words).map_err(|f| Failure::new(format!("X-Timestamp {stamp:?}: {}", f.message)))?;
    }
    Ok(())
}
case!(non_numeric_or_negative_x_timestamp_is_400, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/alertmanager_freshness.go` — without `X-Timestamp` the body needs a
/// `startsAt`: 400 "missing startsAt".
async fn alert_without_starts_at_or_stamp_is_400(ctx: Ctx) -> Result<(), Failure> {
    let alert = pod_alert("Timeless", "any-0", "default").starts_at(None);
    expect_stale(&ctx.post_alert_unstamped(&Webhook::with_alert(alert)).await?, "missing startsAt")
}
case!(alert_without_starts_at_or_stamp_is_400, area = "validation", labels = ["validation"]);

/// Upstream rule: `middleware/alertmanager_freshness.go` — without `X-Timestamp` an **old**
/// `startsAt` is accepted (AlertManager resends long-firing alerts).
async fn old_starts_at_is_accepted_without_stamp(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "old-start", "old-0").await?;
        let hour_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string();
        let alert = pod_alert("LongFiring", "old-0", world.namespace()).starts_at(Some(&hour_ago));
        let webhook = Webhook::with_alert(alert);
        let answer = super::support::admitted(&ctx, || ctx.post_alert_unstamped(&webhook)).await?;
        expect_created(&answer, &cleanup).map(drop)
    })
    .await
}
case!(old_starts_at_is_accepted_without_stamp, area = "validation", labels = ["validation"], needs_cluster);

/// Upstream rule: `middleware/event_freshness.go` — an event whose timestamps are over 5 minutes
/// old: 400 "too old".
async fn stale_event_is_400(ctx: Ctx) -> Result<(), Failure> {
    let stale = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10)).to_string();
    let event = Event::warning("BackOff", "Pod", "any-0", "default")
        .set("lastTimestamp", json!(stale))
        .set("firstTimestamp", json!(stale));
    expect_stale(&ctx.post_event(&event).await?, "too old")
}
case!(stale_event_is_400, area = "validation", labels = ["validation", "events"]);

/// Upstream rule: `middleware/event_freshness.go` — an event with neither `lastTimestamp` nor
/// `firstTimestamp`: 400.
async fn event_without_timestamps_is_400(ctx: Ctx) -> Result<(), Failure> {
    let event = Event::warning("BackOff", "Pod", "any-0", "default").without("lastTimestamp").without("firstTimestamp");
    expect_stale(&ctx.post_event(&event).await?, "missing")
}
case!(event_without_timestamps_is_400, area = "validation", labels = ["validation", "events"]);

/// Upstream rule: `middleware/event_freshness.go` — the event route ignores `X-Timestamp`: a
/// stale header with a fresh event is accepted.
async fn event_route_ignores_x_timestamp(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "event-stamp", "stamp-0").await?;
        let event = Event::warning("BackOff", "Pod", "stamp-0", world.namespace());
        let stale = [("X-Timestamp", "1".to_owned())];
        let send = || post_raw(&ctx, KUBERNETES_EVENT_PATH, event.to_bytes(), Some("application/json"), &stale);
        expect_created(&super::support::admitted(&ctx, send).await?, &cleanup).map(drop)
    })
    .await
}
case!(event_route_ignores_x_timestamp, area = "validation", labels = ["validation", "events"], needs_cluster);

/// Upstream rule: `middleware/timestamp.go` — a fresh `X-Timestamp` replaces the body check: an
/// alert without `startsAt` is accepted.
async fn fresh_x_timestamp_stands_in_for_starts_at(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "stamped", "stamped-0").await?;
        let alert = pod_alert("Stamped", "stamped-0", world.namespace()).starts_at(None);
        alert_created(&ctx, &cleanup, &Webhook::with_alert(alert)).await.map(drop)
    })
    .await
}
case!(fresh_x_timestamp_stands_in_for_starts_at, area = "validation", labels = ["validation"], needs_cluster);

/// Upstream rule: `middleware/content_type.go` — no Content-Type, or JSON with parameters, is
/// accepted.
async fn absent_or_parameterized_json_content_type_is_accepted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("content-type").await?;
        for (pod, content_type) in [("no-ct", None), ("charset", Some("application/json; charset=utf-8"))] {
            world.pod(pod).await?;
            let body = Webhook::with_alert(pod_alert("ContentType", pod, world.namespace())).to_bytes();
            let send = || async { post_raw(&ctx, PROMETHEUS_PATH, body.clone(), content_type, &[stamp_now()]).await };
            expect_created(&super::support::admitted(&ctx, send).await?, &cleanup)
                .map_err(|f| Failure::new(format!("Content-Type {content_type:?}: {}", f.message)))?;
        }
        Ok(())
    })
    .await
}
case!(
    absent_or_parameterized_json_content_type_is_accepted,
    area = "validation",
    labels = ["validation"],
    needs_cluster
);

/// Upstream rule: `middleware/content_type.go` — an event without any Content-Type is accepted.
async fn event_without_content_type_is_accepted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "event-no-ct", "plain-0").await?;
        let event = Event::warning("BackOff", "Pod", "plain-0", world.namespace());
        let send = || post_raw(&ctx, KUBERNETES_EVENT_PATH, event.to_bytes(), None, &[]);
        expect_created(&super::support::admitted(&ctx, send).await?, &cleanup).map(drop)
    })
    .await
}
case!(event_without_content_type_is_accepted, area = "validation", labels = ["validation", "events"], needs_cluster);

/// Upstream spec: `test/e2e/gateway/17_error_response_codes_test.go` (404 and 405) — without a
/// token, an unknown path is 404 and a GET on the Prometheus route 405: the router answers
/// before the routes' auth (`server.go`: auth is per route).
async fn tokenless_unknown_path_is_404_and_get_is_405(ctx: Ctx) -> Result<(), Failure> {
    let anonymous = |path: &str| ctx.config().http.get(ctx.url(path)).header("X-E2E-Case", ctx.case_name());
    let unknown = ctx.send(anonymous("/api/v1/nonexistent/endpoint")).await?;
    unknown.expect_status(404)?;
    Failure::ensure_eq("404 body", unknown.body.trim(), "404 page not found")?;
    let get = ctx.send(anonymous(PROMETHEUS_PATH)).await?;
    get.expect_status(405)?;
    Failure::ensure_eq("405 Allow", get.header("allow"), Some("POST"))
}
case!(tokenless_unknown_path_is_404_and_get_is_405, area = "validation", labels = ["validation"]);

/// Upstream spec: `test/e2e/gateway/26_error_classification_test.go` (permanent errors are not
/// retried) — `alerts` of the wrong type is answered 400 within 1 s, a body without alerts within
/// 2 s, upstream's bounds: a parse failure never reaches processing and its retries. Serial, so
/// the bound measures the gateway, not its neighbours' load; an untimed request first, so it does
/// not measure a new connection either.
async fn permanent_errors_are_answered_without_retry_delay(ctx: Ctx) -> Result<(), Failure> {
    let warm_up = ctx
        .request(Method::POST, PROMETHEUS_PATH)
        .header("Content-Type", "application/json")
        .header("X-Timestamp", now_unix().to_string())
        .body(json!({ "invalid": "payload" }).to_string());
    expect_bad_request(&ctx.send(warm_up).await?, BATCH_PARSE_FAILED)?;
    let bodies = [
        (json!({ "status": "firing", "alerts": "not-an-array" }), Duration::from_secs(1)),
        (json!({ "invalid": "payload" }), Duration::from_secs(2)),
    ];
    for (body, bound) in bodies {
        let request = ctx
            .request(Method::POST, PROMETHEUS_PATH)
            .header("Content-Type", "application/json")
            .header("X-Timestamp", now_unix().to_string())
            .body(body.to_string())
            .timeout(bound);
        let answer = ctx.send(request).await.map_err(|f| {
            Failure::new(format!("{body}: no answer within {bound:?} (upstream's bound): {}", f.message))
        })?;
        expect_bad_request(&answer, BATCH_PARSE_FAILED)?;
    }
    Ok(())
}
case!(
    permanent_errors_are_answered_without_retry_delay,
    area = "validation",
    labels = ["validation", "timing"],
    serial
);
