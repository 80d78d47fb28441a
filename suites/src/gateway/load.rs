//! Load (contract §3, §6): many signals for distinct resources at once each make their own
//! RemediationRequest, with unique names. The gateway may shed load with 503 and `Retry-After`
//! (§3 step 6): such a signal is sent again, a bounded number of times; any other 5xx fails.
//! Serial: it wants the gateway to itself so a slow answer is the load's, not a neighbour's.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fixtures::crd::LABEL_MANAGED_BY;
use fixtures::payloads::Webhook;
use futures::StreamExt;
use kube::api::ListParams;

use super::support::{
    API_DEADLINE, API_INTERVAL, Cleanup, FAN_OUT, SIGNAL_NAMESPACE, cleaning_up, deployment_alert, expect_created,
    expect_duplicate, rr_api, skip_if_rejected,
};
use crate::{Ctx, Failure, FailureKind, Response, case, eventually};

/// Signals sent, each about its own Deployment.
const SIGNALS: usize = 100;
/// Attempts per signal while the gateway answers 503 with `Retry-After`.
const ATTEMPTS: u32 = 8;
/// Shortest and longest wait between attempts, whatever `Retry-After` says.
const RETRY_DELAY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));
/// The wait when `Retry-After` is not a number of seconds (an HTTP date).
const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Sends signal `i` until it is not shed (503 with `Retry-After`), at most [`ATTEMPTS`] times;
/// returns the last answer and how many attempts it took. Tracks every resource named.
async fn send_signal(ctx: &Ctx, cleanup: &Cleanup, i: usize) -> Result<(Response, u32), Failure> {
    let webhook =
        Webhook::with_alert(deployment_alert("LoadProbe", &ctx.unique(&format!("load-{i}")), SIGNAL_NAMESPACE));
    let mut attempt = 1;
    loop {
        let answer = ctx.post_alert(&webhook).await?;
        if let Ok(body) = answer.json() {
            cleanup.track_answer(&body);
        }
        if answer.status != 503 || attempt >= ATTEMPTS {
            return Ok((answer, attempt));
        }
        let Some(retry_after) = answer.header("retry-after") else {
            return Ok((answer, attempt));
        };
        let delay = retry_after
            .trim()
            .parse::<u64>()
            .map_or(DEFAULT_RETRY_DELAY, Duration::from_secs)
            .clamp(RETRY_DELAY.0, RETRY_DELAY.1);
        ctx.log(format!("signal {i}: 503 with Retry-After {retry_after:?}, attempt {attempt}, next in {delay:?}"));
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// The resource name the final answer of one signal names, or why it is wrong.
fn resource_of(answer: &Response, attempts: u32, cleanup: &Cleanup) -> Result<String, Failure> {
    skip_if_rejected(answer)?;
    match answer.status {
        503 if answer.header("retry-after").is_some() => {
            Err(Failure::new(format!("still 503 after {attempts} attempts: {}", answer.body)))
        }
        status @ 500.. => {
            Err(Failure::new(format!("answer {status} (only a 503 with Retry-After may be retried): {}", answer.body)))
        }
        // A shed attempt may have created the resource before answering 503: the retry is then
        // a duplicate of it, which is still this signal's one resource.
        202 if attempts > 1 => Ok(expect_duplicate(answer)?.0.name),
        _ => Ok(expect_created(answer, cleanup)?.name),
    }
}

async fn hundred_distinct_signals_make_hundred_requests(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let answers = futures::stream::iter(0..SIGNALS)
            .map(|i| send_signal(&ctx, &cleanup, i))
            .buffer_unordered(FAN_OUT)
            .collect::<Vec<_>>()
            .await;
        let mut statuses: BTreeMap<(u16, u32), usize> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            let (answer, attempts) = answer?;
            *statuses.entry((answer.status, attempts)).or_default() += 1;
            outcomes.push(resource_of(&answer, attempts, &cleanup));
        }
        ctx.log(format!("final answers, (status, attempts): count: {statuses:?}"));
        // A rejected signal skips the case, unless another one fails it.
        let (names, errors): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(Result::is_ok);
        let mut errors: Vec<Failure> = errors.into_iter().filter_map(Result::err).collect();
        errors.sort_by_key(|f| f.kind == FailureKind::Skip);
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
        let names: BTreeSet<String> = names.into_iter().flatten().collect();
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), SIGNALS)?;
        let (key, value) = LABEL_MANAGED_BY;
        let api = rr_api(&ctx)?;
        let names = &names;
        eventually(API_DEADLINE, API_INTERVAL, || {
            let api = api.clone();
            async move {
                let listed = api.list(&ListParams::default().labels(&format!("{key}={value}"))).await?;
                let present: BTreeSet<&String> = listed
                    .items
                    .iter()
                    .filter_map(|rr| rr.metadata.name.as_ref())
                    .filter(|n| names.contains(*n))
                    .collect();
                Failure::ensure_eq("of those, RemediationRequests in the API", present.len(), SIGNALS)
            }
        })
        .await
    })
    .await
}
case!(hundred_distinct_signals_make_hundred_requests, area = "load", labels = ["load"], needs_cluster, serial);
