//! The worker pool: runs the plan's parallel cases with at most `jobs` in flight, then its serial
//! cases one at a time, and reports every start and finish as an event. It never writes to the
//! terminal and never decides the exit code.

pub mod attempt;
pub mod cancel;

use std::sync::Arc;
use std::time::Duration;

use suites::{Case, CtxConfig};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

pub use cancel::{Stop, StopReason};

use crate::events::{CaseResult, Event, Outcome};
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
}

/// Counts the pool keeps for the exit code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTally {
    /// Passed cases.
    pub passed: usize,
    /// Failed or timed-out cases.
    pub failed: usize,
    /// Skipped cases.
    pub skipped: usize,
}

/// Runs `plan`, sending events to `events`, until done or stopped through `stop`.
pub async fn run(
    plan: &TestPlan,
    config: &PoolConfig,
    ctx: Arc<CtxConfig>,
    events: &UnboundedSender<Event>,
    stop: &Stop,
) -> PoolTally {
    let mut pool = Pool { config, ctx, events, stop, tally: PoolTally::default() };
    pool.phase(&plan.parallel, config.jobs.max(1)).await;
    pool.phase(&plan.serial, 1).await;
    pool.tally
}

struct Pool<'a> {
    config: &'a PoolConfig,
    ctx: Arc<CtxConfig>,
    events: &'a UnboundedSender<Event>,
    stop: &'a Stop,
    tally: PoolTally,
}

impl Pool<'_> {
    async fn phase(&mut self, cases: &[&'static Case], limit: usize) {
        let mut pending = cases.iter().copied();
        let mut running = JoinSet::new();
        loop {
            while running.len() < limit && !self.stop.is_stopping() {
                let Some(case) = pending.next() else { break };
                if let Some(reason) = self.cannot_run(case) {
                    self.finish(skipped(case, reason));
                    continue;
                }
                let _ = self.events.send(Event::CaseStarted { name: case.name.to_owned() });
                let (ctx, stop) = (self.ctx.clone(), self.stop.clone());
                let timeout = case.timeout.unwrap_or(self.config.default_timeout);
                running.spawn(async move { attempt::run(case, ctx, timeout, &stop).await });
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                joined = running.join_next() => {
                    if let Some(joined) = joined {
                        // `attempt::run` catches panics of the case itself; a JoinError here
                        // would be a bug in the attempt code, reported rather than lost.
                        match joined {
                            Ok(result) => self.finish(result),
                            Err(e) => self.tally.failed += usize::from(e.is_panic()),
                        }
                    }
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
            return Some("needs cluster access".into());
        }
        if case.needs_auth && self.ctx.token.is_none() {
            return Some("needs a gateway with auth tokens (--token-file)".into());
        }
        None
    }

    fn finish(&mut self, result: CaseResult) {
        match &result.outcome {
            Outcome::Passed => self.tally.passed += 1,
            Outcome::Skipped { .. } => self.tally.skipped += 1,
            Outcome::Failed { .. } | Outcome::TimedOut { .. } => {
                self.tally.failed += 1;
                if self.config.max_fail.is_some_and(|max| self.tally.failed >= max) && !self.stop.is_stopping() {
                    let reason = StopReason::MaxFail(self.tally.failed);
                    let _ = self.events.send(Event::Stopping { reason: reason.to_string() });
                    self.stop.request(reason);
                }
            }
        }
        let _ = self.events.send(Event::CaseFinished(result));
    }
}

/// A result for a case that was not run.
pub fn skipped(case: &Case, reason: impl Into<String>) -> CaseResult {
    CaseResult {
        name: case.name.to_owned(),
        area: case.area.to_owned(),
        outcome: Outcome::Skipped { reason: reason.into() },
        duration: Duration::ZERO,
        log: String::new(),
    }
}

#[cfg(test)]
mod tests;
