//! Load (contract §2, §6): many signals for distinct Pods at once each make their own
//! RemediationRequest, with unique names; below the throttle's limit nothing is refused (signal
//! routes never answer 503). Serial: it wants the gateway to itself so a slow answer is the
//! load's, not a neighbour's.

use std::collections::BTreeSet;

use fixtures::payloads::Webhook;
use futures::{StreamExt, TryStreamExt};

use super::batch::settle;
use super::support::{API_DEADLINE, API_INTERVAL, FAN_OUT, cleaning_up, expect_created, pod_alert, rrs_about};
use crate::{Ctx, Failure, case, eventually};

/// Signals sent, each about its own Pod.
const SIGNALS: usize = 100;

/// Upstream rule: `processing/crd_creator.go`, `server.go` (throttle at 100 in flight) — 100
/// signals about 100 Pods, 16 in flight, make 100 distinct RemediationRequests.
async fn hundred_distinct_signals_make_hundred_requests(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("load").await?;
        let world = &world;
        futures::stream::iter(0..SIGNALS)
            .map(|i| async move { world.pod(&format!("load-{i}")).await })
            .buffer_unordered(FAN_OUT)
            .try_collect::<Vec<_>>()
            .await?;
        settle(&ctx, world).await?;
        let ctx_ref = &ctx;
        let answers = futures::stream::iter(0..SIGNALS)
            .map(|i| {
                let webhook = Webhook::with_alert(pod_alert("LoadProbe", &format!("load-{i}"), world.namespace()));
                async move { ctx_ref.post_alert(&webhook).await }
            })
            .buffer_unordered(FAN_OUT)
            .collect::<Vec<_>>()
            .await;
        let mut names = BTreeSet::new();
        for answer in answers {
            names.insert(expect_created(&answer?, &cleanup)?.name);
        }
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), SIGNALS)?;
        let names = &names;
        eventually(API_DEADLINE, API_INTERVAL, || async move {
            let listed = rrs_about(ctx_ref, world.namespace()).await?;
            let present =
                listed.iter().filter_map(|rr| rr.metadata.name.as_ref()).filter(|n| names.contains(*n)).count();
            Failure::ensure_eq("of those, RemediationRequests in the API", present, SIGNALS)
        })
        .await
    })
    .await
}
case!(hundred_distinct_signals_make_hundred_requests, area = "load", labels = ["load"], needs_cluster, serial);

/// Signals sent at once by the concurrency case, as upstream's own.
const AT_ONCE: usize = 50;

/// Upstream spec: `test/e2e/gateway/28_graceful_shutdown_test.go` (concurrent load) — 50 alerts
/// about 50 Pods sent all at once (half the throttle's 100) are each created, none refused.
async fn fifty_concurrent_distinct_alerts_are_all_created(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("at-once").await?;
        let world = &world;
        futures::stream::iter(0..AT_ONCE)
            .map(|i| async move { world.pod(&format!("once-{i}")).await })
            .buffer_unordered(FAN_OUT)
            .try_collect::<Vec<_>>()
            .await?;
        settle(&ctx, world).await?;
        let webhooks: Vec<Webhook> = (0..AT_ONCE)
            .map(|i| Webhook::with_alert(pod_alert("AtOnceProbe", &format!("once-{i}"), world.namespace())))
            .collect();
        let answers = futures::future::join_all(webhooks.iter().map(|w| ctx.post_alert(w))).await;
        let mut names = BTreeSet::new();
        for answer in answers {
            names.insert(expect_created(&answer?, &cleanup)?.name);
        }
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), AT_ONCE)
    })
    .await
}
case!(fifty_concurrent_distinct_alerts_are_all_created, area = "load", labels = ["load"], needs_cluster, serial);
