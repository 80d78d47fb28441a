//! The event contract between the pool (and the run around it) and the reporters. Nothing else
//! is shared: reporters never see cases or the pool, the pool never writes to the terminal.

use std::time::{Duration, Instant};

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// An expectation failed, the case panicked, or infrastructure failed.
    Failed {
        /// What went wrong.
        message: String,
        /// JUnit failure type: `assertion`, `infrastructure`, `panic`.
        kind: &'static str,
    },
    /// The case ran longer than its timeout.
    TimedOut {
        /// The timeout it exceeded.
        after: Duration,
    },
    /// The case did not run, for `reason` (`interrupted`, `needs cluster access`, ...).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// Failed or timed out: counts against the exit code.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::TimedOut { .. })
    }
}

/// A finished (or never started) case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Unique case name.
    pub name: String,
    /// Area of the contract (JUnit classname).
    pub area: String,
    /// Where the case is defined, `file:line` (empty when unknown).
    pub location: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time of the attempt (zero when not started).
    pub duration: Duration,
    /// What the case logged through its `Ctx`.
    pub log: String,
    /// When the (last) attempt started.
    pub started: Instant,
    /// Worker lane it ran on (for the trace), 0-based.
    pub lane: usize,
    /// Earlier attempts that failed before this one (retries), oldest first.
    pub retries: Vec<FailedAttempt>,
}

impl CaseResult {
    /// A finished result for tests of the sinks.
    #[cfg(test)]
    pub fn sample(name: &str, outcome: Outcome, duration: Duration, log: &str) -> Self {
        Self {
            name: name.into(),
            area: "a".into(),
            location: String::new(),
            outcome,
            duration,
            log: log.into(),
            started: Instant::now(),
            lane: 0,
            retries: Vec::new(),
        }
    }

    /// Passed after failing at least once.
    pub fn is_flaky(&self) -> bool {
        self.outcome == Outcome::Passed && !self.retries.is_empty()
    }
}

/// One failed attempt of a case that was retried.
#[derive(Clone, Debug)]
pub struct FailedAttempt {
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time.
    pub duration: Duration,
    /// When it started.
    pub started: Instant,
    /// Its log.
    pub log: String,
}

/// Result of the one health gate.
#[derive(Clone, Debug)]
pub struct GateResult {
    /// When it started.
    pub started: Instant,
    /// The URL checked.
    pub url: String,
    /// Requests made.
    pub attempts: u32,
    /// Time spent.
    pub elapsed: Duration,
    /// `None` when healthy; else what was wrong, with a hint.
    pub error: Option<String>,
}

/// Everything a reporter learns about a run.
#[derive(Clone, Debug)]
pub enum Event {
    /// The run is configured; the banner lines describe it.
    RunStarted {
        /// `key: value` lines (target, workers, timeouts, partition, JUnit path).
        banner: Vec<String>,
        /// Cases planned.
        total: usize,
        /// When the process entered the runner (the trace's time zero).
        at: Instant,
        /// When the target was ready (the embedded double started, the kube client built).
        ready: Instant,
    },
    /// The health gate finished.
    GateFinished(GateResult),
    /// A case started.
    CaseStarted {
        /// Case name.
        name: String,
    },
    /// A failed case is about to be tried again.
    CaseRetrying {
        /// Case name.
        name: String,
        /// The attempt that just failed (1-based).
        attempt: u32,
        /// Why it failed.
        outcome: Outcome,
    },
    /// A new run of the selection begins (`--repeat`, `--until-it-fails`).
    IterationStarted {
        /// 1-based run number.
        iteration: u32,
    },
    /// A case finished or was skipped.
    CaseFinished(CaseResult),
    /// The run is stopping early (signal, suite timeout, fail-fast).
    Stopping {
        /// Why, in words.
        reason: String,
    },
    /// Nothing more follows.
    RunFinished {
        /// Wall time of the run.
        wall: Duration,
        /// Why the run ended before its cases did (a signal, the suite timeout); `None` when it
        /// ran to its end (or stopped on purpose after failures, `--max-fail`).
        cut_short: Option<String>,
    },
}
