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
        /// `file:line` of the failing check (where the case's `Failure` was made), relative to
        /// the workspace root as the case's location is; `None` when unknown.
        check: Option<String>,
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

    /// `file:line` of the failing check, when known.
    pub fn check(&self) -> Option<&str> {
        match self {
            Outcome::Failed { check, .. } => check.as_deref(),
            _ => None,
        }
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

/// Counts of one run of the selection, kept by the pool as cases finish (the only count);
/// `RunFinished` carries them and the exit code is read from them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Passed cases (flaky ones included).
    pub passed: usize,
    /// Failed or timed-out cases.
    pub failed: usize,
    /// Timed-out cases (also counted in `failed`).
    pub timed_out: usize,
    /// Skipped cases.
    pub skipped: usize,
    /// Passed after failing (also counted in `passed`).
    pub flaky: usize,
}

impl RunStats {
    /// Counts one finished case.
    pub fn add(&mut self, result: &CaseResult) {
        match &result.outcome {
            Outcome::Passed => {
                self.passed += 1;
                self.flaky += usize::from(result.is_flaky());
            }
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::TimedOut { .. } => {
                self.failed += 1;
                self.timed_out += 1;
            }
            Outcome::Skipped { .. } => self.skipped += 1,
        }
    }

    /// Cases counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }

    /// Whether a case failed, or (`flaky_fails`, `--flaky-result fail`) passed only on a retry.
    pub fn cases_failed(&self, flaky_fails: bool) -> bool {
        self.failed > 0 || (flaky_fails && self.flaky > 0)
    }
}

/// How many workers run cases, and which setting said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workers {
    /// Cases in flight at once.
    pub jobs: usize,
    /// `-j/--jobs`, `--test-threads`, `E2E_JOBS`, `RUST_TEST_THREADS` or the CPU count.
    pub source: &'static str,
}

/// A URL the run uses and where it came from (a flag, a layout rule), or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL; `None` when the run goes without it.
    pub url: Option<String>,
    /// Where it came from, or why there is none.
    pub source: String,
}

/// What a run is about to do, as data: the sinks render it (the console's banner, JUnit's
/// properties).
#[derive(Clone, Debug)]
pub struct RunFacts {
    /// Gateway base URL.
    pub gateway_url: String,
    /// The embedded gateway double (else an external gateway).
    pub embedded: bool,
    /// Kubernetes access of the cluster cases.
    pub cluster: String,
    /// The readiness URL of the one health gate.
    pub readiness: Endpoint,
    /// The metrics URL.
    pub metrics: Endpoint,
    /// The DataStorage the audit cases read.
    pub datastorage: Endpoint,
    /// Workers.
    pub workers: Workers,
    /// Cases planned (parallel and serial) and registered.
    pub parallel: usize,
    /// Cases run one at a time after the parallel ones.
    pub serial: usize,
    /// Cases registered in all.
    pub registered: usize,
    /// Timeout of a case that sets none.
    pub case_timeout: Duration,
    /// Timeout of the whole run.
    pub suite_timeout: Option<Duration>,
    /// Deadline of the health gate.
    pub health_timeout: Duration,
    /// How long running cases may finish after a first interrupt.
    pub interrupt_grace: Duration,
    /// The shard (`slice:2/4`), `None` for all cases.
    pub partition: Option<String>,
    /// The order within each phase, in words.
    pub order: String,
    /// The shuffle seed, when shuffling.
    pub seed: Option<u64>,
    /// Where recorded durations came from.
    pub timings: String,
    /// The recorded duration of each planned case that has one (for an ETA).
    pub recorded: Vec<(String, Duration)>,
    /// Retries of a failing case.
    pub retries: u32,
    /// `--flaky-result fail`: flaky cases fail the run.
    pub flaky_fails: bool,
    /// Runs of the selection; `None`: until one fails.
    pub runs: Option<u32>,
    /// Where the suite's token came from (never the token).
    pub token: String,
    /// `--label-filter`, as given.
    pub label_filter: Option<String>,
    /// Where failure artifacts are collected, and which flag or variable said so.
    pub artifacts: Option<(String, &'static str)>,
}

impl RunFacts {
    /// Facts of an external run, for tests of the sinks.
    #[cfg(test)]
    pub fn sample() -> Self {
        let endpoint = |url: &str, source: &str| Endpoint { url: Some(url.into()), source: source.into() };
        Self {
            gateway_url: "http://127.0.0.1:8080".into(),
            embedded: false,
            cluster: "cluster: none (--kube none)".into(),
            readiness: endpoint("http://127.0.0.1:28080/readyz", "Kind layout"),
            metrics: endpoint("http://127.0.0.1:9090/metrics", "port 9090"),
            datastorage: Endpoint { url: None, source: "none answered".into() },
            workers: Workers { jobs: 8, source: "from RUST_TEST_THREADS" },
            parallel: 60,
            serial: 4,
            registered: 70,
            case_timeout: Duration::from_secs(300),
            suite_timeout: Some(Duration::from_secs(1800)),
            health_timeout: Duration::from_secs(30),
            interrupt_grace: Duration::from_secs(2),
            partition: Some("slice:2/4".into()),
            order: "longest first".into(),
            seed: Some(7),
            timings: "none".into(),
            recorded: Vec::new(),
            retries: 1,
            flaky_fails: true,
            runs: None,
            token: "from --token-file (redacted)".into(),
            label_filter: None,
            artifacts: None,
        }
    }
}

/// Everything a reporter learns about a run.
#[derive(Clone, Debug)]
pub enum Event {
    /// The target is ready and the run is configured.
    RunStarted {
        /// What the run is about to do.
        facts: Box<RunFacts>,
        /// Cases planned.
        total: usize,
        /// When the process entered the runner (the trace's time zero).
        at: Instant,
        /// When the target was ready (the embedded double started, the kube client built).
        ready: Instant,
    },
    /// The target (embedded double, kube client, the suite's account, the HTTP client) could not
    /// be set up; no case runs. The planned cases follow as skipped, then `RunFinished`.
    SetupFailed {
        /// What went wrong, with a hint.
        error: String,
        /// Cases planned (all reported skipped next).
        total: usize,
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
        /// The pool's counts of the last run of the selection.
        stats: RunStats,
    },
}
