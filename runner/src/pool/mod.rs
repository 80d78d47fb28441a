//! The worker pool: runs the plan's parallel cases with at most `jobs` in flight, then its serial
//! cases one at a time, and reports every start and finish as an event. It never writes to the
//! terminal and never decides the exit code.

pub mod attempt;
pub mod cancel;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use suites::{Case, CtxConfig};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

pub use cancel::{Stop, StopReason};

use crate::events::{CaseResult, Event, FailedAttempt, Outcome, RunStats};
use crate::plan::TestPlan;

/// How the pool runs cases.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Cases in flight at once.
    pub jobs: usize,
    /// Timeout of a case that sets none.
    pub default_timeout: Duration,
    /// Stop scheduling after this many failures.
    pub max_fail: Option<usize>,
    /// Retries of a failing case.
    pub retries: u32,
}

/// Runs `plan`, sending events to `events`, until done or stopped through `stop`.
pub async fn run(
    plan: &TestPlan,
    config: &PoolConfig,
    ctx: Arc<CtxConfig>,
    events: &UnboundedSender<Event>,
    stop: &Stop,
) -> RunStats {
    let mut pool = Pool { config, ctx, events, stop, stats: RunStats::default() };
    pool.phase(&plan.parallel, config.jobs.max(1)).await;
    pool.phase(&plan.serial, 1).await;
    pool.stats
}

struct Pool<'a> {
    config: &'a PoolConfig,
    ctx: Arc<CtxConfig>,
    events: &'a UnboundedSender<Event>,
    stop: &'a Stop,
    stats: RunStats,
}

impl Pool<'_> {
    async fn phase(&mut self, cases: &[&'static Case], limit: usize) {
        let mut pending = cases.iter().copied();
        let mut running = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, (&'static Case, usize)> = HashMap::new();
        let mut lanes = vec![false; limit];
        loop {
            while running.len() < limit && !self.stop.is_stopping() {
                let Some(case) = pending.next() else { break };
                if let Some(reason) = self.cannot_run(case) {
                    self.finish(skipped(case, reason));
                    continue;
                }
                let lane = lanes.iter().position(|busy| !busy).unwrap_or(0);
                lanes[lane] = true;
                let _ = self.events.send(Event::CaseStarted { name: case.name.to_owned() });
                let (ctx, stop, events) = (self.ctx.clone(), self.stop.clone(), self.events.clone());
                let timeout = case.timeout.unwrap_or(self.config.default_timeout);
                let retries = self.config.retries;
                let handle = running.spawn(async move {
                    let mut result = with_retries(case, ctx, timeout, retries, &stop, &events).await;
                    result.lane = lane;
                    result
                });
                in_flight.insert(handle.id(), (case, lane));
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                joined = running.join_next_with_id() => {
                    let Some(joined) = joined else { continue };
                    let id = match &joined {
                        Ok((id, _)) => *id,
                        Err(e) => e.id(),
                    };
                    let Some((case, lane)) = in_flight.remove(&id) else { continue };
                    if let Some(busy) = lanes.get_mut(lane) {
                        *busy = false;
                    }
                    self.finish(joined.map(|(_, result)| result).unwrap_or_else(|_| lost(case)));
                }
                () = self.stop.stopping(), if !self.stop.is_stopping() => {}
            }
        }
        if let Some(reason) = self.stop.reason() {
            let why = match reason {
                StopReason::MaxFail(_) => format!("not run: {reason}"),
                StopReason::SuiteTimeout(_) => format!("not run: {reason}"),
                StopReason::Interrupted(_) => "interrupted".to_owned(),
            };
            for case in pending {
                self.finish(skipped(case, why.clone()));
            }
        }
    }

    fn cannot_run(&self, case: &Case) -> Option<String> {
        if case.needs_cluster && self.ctx.kube.is_none() {
            return Some(suites::NEEDS_CLUSTER.into());
        }
        if case.needs_auth && self.ctx.token.is_none() {
            return Some("needs a gateway with auth tokens (--token-file)".into());
        }
        None
    }

    fn finish(&mut self, result: CaseResult) {
        self.stats.add(&result);
        let failed = self.stats.failed;
        if result.outcome.is_failure()
            && self.config.max_fail.is_some_and(|max| failed >= max)
            && !self.stop.is_stopping()
        {
            let reason = StopReason::MaxFail(failed);
            let _ = self.events.send(Event::Stopping { reason: reason.to_string() });
            self.stop.request(reason);
        }
        let _ = self.events.send(Event::CaseFinished(result));
    }
}

/// Reports every case of `plan` as skipped for `reason` (the target or the gate failed, or the
/// run was stopped before the pool started) and counts them.
pub fn skip_all(plan: &TestPlan, reason: &str, events: &UnboundedSender<Event>) -> RunStats {
    let mut stats = RunStats::default();
    for case in plan.cases() {
        let result = skipped(case, reason);
        stats.add(&result);
        let _ = events.send(Event::CaseFinished(result));
    }
    stats
}

/// Runs `case`, and again up to `retries` times while it fails, with a short backoff. Earlier
/// failed attempts are kept on the result (flaky when it finally passes).
async fn with_retries(
    case: &'static Case,
    ctx: Arc<CtxConfig>,
    timeout: Duration,
    retries: u32,
    stop: &Stop,
    events: &UnboundedSender<Event>,
) -> CaseResult {
    let mut failed = Vec::new();
    let mut attempt_no = 0;
    loop {
        attempt_no += 1;
        let mut result = attempt::run(case, ctx.clone(), timeout, stop, attempt_no).await;
        if !result.outcome.is_failure() || attempt_no > retries || stop.is_stopping() {
            result.retries = failed;
            return result;
        }
        let _ = events.send(Event::CaseRetrying {
            name: case.name.to_owned(),
            attempt: attempt_no,
            outcome: result.outcome.clone(),
        });
        failed.push(FailedAttempt {
            outcome: result.outcome,
            duration: result.duration,
            started: result.started,
            log: result.log,
        });
        let backoff = RETRY_BACKOFF.saturating_mul(1 << attempt_no.min(4)).min(Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.aborted() => {}
        }
        if stop.is_stopping() {
            // No new attempt once the run stops: the case keeps its last real failure.
            let Some(last) = failed.pop() else { continue };
            return CaseResult {
                name: case.name.to_owned(),
                area: case.area.to_owned(),
                location: case.location(),
                outcome: last.outcome,
                duration: last.duration,
                log: last.log,
                started: last.started,
                lane: 0,
                retries: failed,
            };
        }
    }
}

/// First retry waits this long ×2; the wait doubles per retry, at most 1 s.
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// The result of a case whose task the runner lost: `attempt::run` catches panics of the case
/// itself, so a join error would be a bug in the retry code; the case is still reported, failed.
fn lost(case: &Case) -> CaseResult {
    let mut lost = skipped(case, "");
    lost.outcome = Outcome::Failed { message: "the runner lost this case's task".into(), kind: "panic", check: None };
    lost
}

/// A result for a case that was not run.
pub fn skipped(case: &Case, reason: impl Into<String>) -> CaseResult {
    CaseResult {
        name: case.name.to_owned(),
        area: case.area.to_owned(),
        location: case.location(),
        outcome: Outcome::Skipped { reason: reason.into() },
        duration: Duration::ZERO,
        log: String::new(),
        started: std::time::Instant::now(),
        lane: 0,
        retries: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
