//! Scope (contract §5): the `kubernaut.ai/managed` label on the resource, else on its namespace,
//! decides; unmanaged signals answer 200 `rejected` with a `kubectl label` hint, make no
//! RemediationRequest, and count in `gateway_signals_rejected_total`.

use fixtures::payloads::{Event, Webhook};

use super::batch::{results, settle, statuses, summary};
use super::support::{
    ADMIT_INTERVAL, admit_deadline, alert_created, cleaning_up, ensure_grew, expect_rejected, pod_alert, rrs_about,
    scrape_metrics,
};
use crate::{Ctx, Failure, Response, case, eventually};

const REJECTED: &str = "gateway_signals_rejected_total";

/// Sends with `send` until the answer is a rejection about `resource`, within the deadline.
/// (The gateway's caches may show fresh labels late, contract §8.)
async fn until_rejected<F, Fut>(ctx: &Ctx, resource: &str, send: F) -> Result<Response, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Response, Failure>>,
{
    let send = &send;
    eventually(admit_deadline(ctx), ADMIT_INTERVAL, || async move {
        let answer = send().await?;
        expect_rejected(&answer, resource)?;
        Ok(answer)
    })
    .await
}

/// Fails if any RemediationRequest targets the namespace `namespace`.
async fn ensure_no_rr_in(ctx: &Ctx, namespace: &str) -> Result<(), Failure> {
    let made = rrs_about(ctx, namespace).await?;
    Failure::ensure(made.is_empty(), || format!("{} RemediationRequest(s) made for unmanaged {namespace}", made.len()))
}

/// Upstream rule: `pkg/shared/scope/manager.go`, `pkg/gateway/scope.go` — a Pod in a namespace
/// without the scope label is unmanaged: 200 `rejected`, reason `unmanaged_resource`, resource
/// `ns:Pod:name`, a `kubectl label` action, no RemediationRequest
/// (`test/e2e/gateway/37_scope_filtering_test.go`).
async fn unmanaged_namespace_is_rejected(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world_with("unmanaged", None).await?;
        let pod = world.pod("stray-0").await?;
        let webhook = Webhook::with_alert(pod_alert("OutOfScope", &pod, world.namespace()));
        let resource = format!("{}:Pod:{pod}", world.namespace());
        let answer = until_rejected(&ctx, &resource, || ctx.post_alert(&webhook)).await?;
        let action =
            answer.json()?.pointer("/rejection/action").and_then(|a| a.as_str()).unwrap_or_default().to_owned();
        Failure::ensure(action.contains(world.namespace()) && action.contains(&pod), || {
            format!("rejection.action should name the namespace and the Pod: {action:?}")
        })?;
        ensure_no_rr_in(&ctx, world.namespace()).await
    })
    .await
}
case!(unmanaged_namespace_is_rejected, area = "scope", labels = ["scope"], needs_cluster);

/// Upstream rule: `pkg/shared/scope/manager.go` — the resource's own label decides before its
/// namespace's: `managed=false` on a Pod in a managed namespace is rejected.
async fn opted_out_pod_in_managed_namespace_is_rejected(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("optout").await?;
        let pod = world.labelled_pod("optout-0", false).await?;
        // The gateway reads scope labels from a cache. A Pod made later that is managed only by
        // its own label (its namespace has none) is admitted only once that cache holds it, and
        // then it holds this one's `false` too: a single alert after that must be rejected (an
        // earlier look would fall back to the managed namespace and create).
        let probe_world = ctx.world_with("optout-probe", None).await?;
        let probe = probe_world.labelled_pod("probe-0", true).await?;
        let probe_alert = Webhook::with_alert(pod_alert("OptOutProbe", &probe, probe_world.namespace()));
        super::support::alert_created(&ctx, &cleanup, &probe_alert).await?;
        let webhook = Webhook::with_alert(pod_alert("OptedOut", &pod, world.namespace()));
        let resource = format!("{}:Pod:{pod}", world.namespace());
        expect_rejected(&ctx.post_alert(&webhook).await?, &resource)?;
        let made = rrs_about(&ctx, world.namespace()).await?;
        Failure::ensure(made.iter().all(|rr| rr.spec.target_resource.name != pod), || {
            format!("a RemediationRequest was made for the opted-out Pod {pod}")
        })
    })
    .await
}
case!(opted_out_pod_in_managed_namespace_is_rejected, area = "scope", labels = ["scope"], needs_cluster);

/// Upstream rule: `pkg/shared/scope/manager.go` — `managed=true` on the Pod itself puts it in
/// scope even in a namespace without the label.
async fn opted_in_pod_in_unmanaged_namespace_is_accepted(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world_with("optin", None).await?;
        let pod = world.labelled_pod("optin-0", true).await?;
        let webhook = Webhook::with_alert(pod_alert("OptedIn", &pod, world.namespace()));
        alert_created(&ctx, &cleanup, &webhook).await.map(drop)
    })
    .await
}
case!(opted_in_pod_in_unmanaged_namespace_is_accepted, area = "scope", labels = ["scope"], needs_cluster);

/// Upstream rule: `pkg/shared/scope/manager.go` — a cluster-scoped kind without its own label is
/// unmanaged; with `managed=true` on the Node it is in scope and the Node is the target.
async fn node_scope_follows_its_own_label(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let unlabelled = ctx.node("bare", None).await?;
        let webhook = Webhook::with_alert(fixtures::payloads::Alert::firing("NodeDown").label("node", &unlabelled));
        until_rejected(&ctx, &format!("Node:{unlabelled}"), || ctx.post_alert(&webhook)).await?;
        let managed = ctx.node("managed", Some(true)).await?;
        let webhook = Webhook::with_alert(fixtures::payloads::Alert::firing("NodeDown").label("node", &managed));
        let created = alert_created(&ctx, &cleanup, &webhook).await?;
        let target = super::support::wait_for_rr(&ctx, &created.name).await?.spec.target_resource;
        Failure::ensure_eq("spec.targetResource", [target.kind.as_str(), target.name.as_str()], ["Node", &managed])
    })
    .await
}
case!(node_scope_follows_its_own_label, area = "scope", labels = ["scope"], needs_cluster);

/// Upstream rule: `pkg/gateway/scope.go`, `kubernetes_event_adapter.go` — an Event about an
/// object in an unmanaged namespace is rejected the same way.
async fn unmanaged_event_is_rejected(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world_with("unmanaged-event", None).await?;
        let pod = world.pod("stray-0").await?;
        let event = Event::warning("BackOff", "Pod", &pod, world.namespace());
        until_rejected(&ctx, &format!("{}:Pod:{pod}", world.namespace()), || ctx.post_event(&event)).await?;
        ensure_no_rr_in(&ctx, world.namespace()).await
    })
    .await
}
case!(unmanaged_event_is_rejected, area = "scope", labels = ["scope", "events"], needs_cluster);

/// Upstream rule: `signal_ingestion.go` (`validateScope`), `metrics/metrics.go` —
/// `gateway_signals_rejected_total{reason="unmanaged_resource"}` grows with each rejection.
async fn rejected_counter_grows(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let world = ctx.world_with("rejected-metric", None).await?;
        let pod = world.pod("stray-0").await?;
        let webhook = Webhook::with_alert(pod_alert("CountedOut", &pod, world.namespace()));
        let resource = format!("{}:Pod:{pod}", world.namespace());
        until_rejected(&ctx, &resource, || ctx.post_alert(&webhook)).await?;
        let labels = [("reason", "unmanaged_resource")];
        let before = scrape_metrics(&ctx).await?.total(REJECTED, &labels);
        for _ in 0..3 {
            expect_rejected(&ctx.post_alert(&webhook).await?, &resource)?;
        }
        let after = scrape_metrics(&ctx).await?.total(REJECTED, &labels);
        ensure_grew(&format!("{REJECTED}{{reason=\"unmanaged_resource\"}}"), before, after, 3.0)
    })
    .await
}
case!(rejected_counter_grows, area = "scope", labels = ["scope", "metrics"], needs_cluster);

/// Upstream rule: `signal_ingestion.go` (`processOneSignalInBatch`) — in a batch, an unmanaged
/// alert is a `rejected` result and counts in `summary.rejected`.
async fn batch_with_unmanaged_alert_reports_rejected(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, _cleanup| async move {
        let managed = ctx.world("batch-in").await?;
        let inside = managed.pod("in-0").await?;
        let unmanaged = ctx.world_with("batch-out", None).await?;
        let outside = unmanaged.pod("out-0").await?;
        let single = Webhook::with_alert(pod_alert("Probe", &outside, unmanaged.namespace()));
        until_rejected(&ctx, &format!("{}:Pod:{outside}", unmanaged.namespace()), || ctx.post_alert(&single)).await?;
        settle(&ctx, &managed).await?;
        let alerts = vec![
            pod_alert("BatchScope", &inside, managed.namespace()),
            pod_alert("BatchScope", &outside, unmanaged.namespace()),
        ];
        let answer = ctx.post_alert(&Webhook::with_alerts(alerts)).await?;
        answer.expect_status(207)?;
        let body = answer.json()?;
        Failure::ensure_eq("number of results", results(&body)?.len(), 2)?;
        Failure::ensure_eq("result statuses", statuses(&body)?, vec!["created".to_owned(), "rejected".to_owned()])?;
        Failure::ensure_eq(
            "summary [total, created, deduplicated, rejected, failed]",
            summary(&body)?,
            [2, 1, 0, 1, 0],
        )?;
        ensure_no_rr_in(&ctx, unmanaged.namespace()).await
    })
    .await
}
case!(batch_with_unmanaged_alert_reports_rejected, area = "scope", labels = ["scope", "batch"], needs_cluster);
