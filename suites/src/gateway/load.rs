//! Load (contract §6): many signals for distinct resources at once each make their own
//! RemediationRequest, with unique names and no 5xx. Serial: it wants the gateway to itself so
//! a slow answer is the load's, not a neighbour's.

use std::collections::{BTreeMap, BTreeSet};

use fixtures::crd::LABEL_MANAGED_BY;
use fixtures::payloads::Webhook;
use futures::StreamExt;
use kube::api::ListParams;
use serde_json::Value;

use super::support::{FAN_OUT, SIGNAL_NAMESPACE, cleaning_up, deployment_alert, rr_api};
use crate::{Ctx, Failure, case};

/// Signals sent, each about its own Deployment.
const SIGNALS: usize = 100;

async fn hundred_distinct_signals_make_hundred_requests(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let answers = futures::stream::iter(0..SIGNALS)
            .map(|i| {
                let ctx = &ctx;
                async move {
                    let alert = deployment_alert("LoadProbe", &ctx.unique(&format!("load-{i}")), SIGNAL_NAMESPACE);
                    ctx.post_alert(&Webhook::with_alert(alert)).await
                }
            })
            .buffer_unordered(FAN_OUT)
            .collect::<Vec<_>>()
            .await;
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        let mut names = BTreeSet::new();
        for answer in answers {
            let answer = answer?;
            *statuses.entry(answer.status).or_default() += 1;
            let name = answer
                .json()
                .ok()
                .and_then(|b| b.get("remediationRequestName").and_then(Value::as_str).map(str::to_owned));
            if let Some(name) = name {
                cleanup.track(&name);
                names.insert(name);
            }
        }
        ctx.log(format!("statuses: {statuses:?}"));
        let server_errors: usize = statuses.range(500..).map(|(_, n)| n).sum();
        Failure::ensure_eq("answers with a 5xx status", server_errors, 0)?;
        Failure::ensure_eq("answers with status 201", statuses.get(&201).copied().unwrap_or(0), SIGNALS)?;
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), SIGNALS)?;
        let (key, value) = LABEL_MANAGED_BY;
        let listed = rr_api(&ctx)?.list(&ListParams::default().labels(&format!("{key}={value}"))).await?;
        let present =
            listed.items.iter().filter_map(|rr| rr.metadata.name.as_ref()).filter(|n| names.contains(*n)).count();
        Failure::ensure_eq("of those, RemediationRequests in the API", present, SIGNALS)
    })
    .await
}
case!(hundred_distinct_signals_make_hundred_requests, area = "load", labels = ["load"], needs_cluster, serial);
