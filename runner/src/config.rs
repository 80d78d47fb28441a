//! Resolves the flags and the environment into one `RunConfig`: the only place that reads
//! environment variables or files named by flags. Every bad value is rejected here, before
//! anything runs, with what is wrong and what is expected.

use std::path::PathBuf;
use std::time::Duration;

pub use crate::cli::KubeMode;
use crate::cli::{Cli, FlakyResult};
use crate::plan::{LabelExprError, PartitionError, Selection, Timings};

/// Default per-case timeout.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default health gate deadline.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Default JUnit path.
pub const DEFAULT_JUNIT: &str = "target/e2e/junit.xml";

/// Where the gateway is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Start the gateway double in-process on loopback.
    Embedded,
    /// A deployed gateway at this base URL (no trailing slash).
    External(String),
}

/// Where the worker count came from (printed in the banner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobsSource {
    /// `-j` / `--jobs` / `--procs`.
    Flag,
    /// `--test-threads`.
    TestThreads,
    /// `E2E_JOBS`.
    Env,
    /// libtest's `RUST_TEST_THREADS`.
    RustTestThreads,
    /// `std::thread::available_parallelism`.
    Cpus,
}

/// Everything a run needs, resolved.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The gateway.
    pub target: Target,
    /// Readiness URL (`None` = the layout's default, see `layout`).
    pub health_url: Option<String>,
    /// Metrics URL (`None` = the layout's default, see `layout`).
    pub metrics_url: Option<String>,
    /// DataStorage URL for the audit cases, from `--datastorage-url` or `E2E_DATASTORAGE_URL`
    /// (`None` = the layout's default, see `layout`).
    pub datastorage_url: Option<(String, &'static str)>,
    /// Health gate deadline.
    pub health_timeout: Duration,
    /// Cases in flight.
    pub jobs: usize,
    /// Where `jobs` came from.
    pub jobs_source: JobsSource,
    /// Per-case timeout unless a case sets one.
    pub case_timeout: Duration,
    /// Whole-run timeout.
    pub suite_timeout: Option<Duration>,
    /// JUnit path.
    pub junit: PathBuf,
    /// Only junit-4 XSD elements in the report.
    pub junit_strict: bool,
    /// What to run.
    pub selection: Selection,
    /// Stop scheduling after this many failures.
    pub max_fail: Option<usize>,
    /// Bearer token for the gateway (never printed).
    pub token: Option<String>,
    /// Kubernetes access mode: auto, none, in-cluster.
    pub kube: KubeMode,
    /// Only list the cases.
    pub list: bool,
    /// `--format terse`: `--list` as `name: test` lines, a run as libtest's `.`/`F`/`i` characters.
    pub terse: bool,
    /// `-q`.
    pub quiet: bool,
    /// `--nocapture` / `--show-output`: print every case's log.
    pub show_logs: bool,
    /// Color status words: `--color always`, or `auto` on a terminal without `CI`/`NO_COLOR`.
    pub color: bool,
    /// Exit 0 on an empty selection.
    pub allow_empty: bool,
    /// Draw the progress bar (stderr is a terminal and CI unset).
    pub interactive: bool,
    /// Recorded durations, and where they came from (for the banner).
    pub timings: Timings,
    /// Where `timings` came from.
    pub timings_source: String,
    /// Retries of a failing case.
    pub retries: u32,
    /// Flaky cases fail the run.
    pub flaky_fails: bool,
    /// How many times to run the selection.
    pub repeat: Repeat,
    /// The shuffle seed, when shuffling.
    pub seed: Option<u64>,
    /// Print the plan only.
    pub dry_run: bool,
    /// Chrome trace output.
    pub trace: Option<PathBuf>,
    /// Where failure artifacts are collected (`--artifacts-dir`, `E2E_ARTIFACTS_DIR`), and from which.
    pub artifacts: Option<(PathBuf, &'static str)>,
    /// Faults the embedded double injects (`--double-fault`).
    pub double_faults: Option<fixtures::double::Faults>,
    /// libtest's JSON events on stdout (`--format json -Z unstable-options`).
    pub json: bool,
    /// GitHub Actions output (`GITHUB_STEP_SUMMARY`, `GITHUB_ACTIONS=true`).
    pub github: crate::report::github::GithubOutput,
}

/// How often the selection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// This many runs in all (1 = once), stopping at the first failing run.
    Times(u32),
    /// Until a run fails.
    UntilItFails,
}

/// A flag or environment value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Bad URL.
    #[error(
        "invalid {what} `{value}`: {problem}; expected an absolute http:// or https:// URL such as http://localhost:8080"
    )]
    Url {
        /// Which flag.
        what: &'static str,
        /// Its value.
        value: String,
        /// Why.
        problem: String,
    },
    /// Bad worker count.
    #[error(
        "invalid worker count `{value}` from {source_name}: expected a whole number from 1 to 1024, or Nx for N × CPUs (e.g. 8 or 4x)"
    )]
    Jobs {
        /// Value.
        value: String,
        /// Flag or env var.
        source_name: &'static str,
    },
    /// Bad partition.
    #[error(transparent)]
    Partition(#[from] PartitionError),
    /// Bad label expression.
    #[error(transparent)]
    Labels(#[from] LabelExprError),
    /// A report path (`--junit`, `--trace`) that cannot be replaced by a regular file.
    #[error("cannot write {flag} to {path}: {problem}; pass {flag} a file path in a writable directory")]
    ReportPath {
        /// Which flag.
        flag: &'static str,
        /// Path.
        path: String,
        /// Why.
        problem: String,
    },
    /// Token file unreadable.
    #[error("cannot read --token-file {path}: {problem}; expected a file holding the gateway's Bearer token")]
    Token {
        /// Path.
        path: String,
        /// Why.
        problem: String,
    },
    /// Timings file unreadable.
    #[error("cannot read --timings {path}: {problem}; expected a JUnit report from an earlier run")]
    Timings {
        /// Path.
        path: String,
        /// Why.
        problem: String,
    },
    /// Other flag problem.
    #[error("{0}")]
    Flag(String),
}

/// Reads environment variables; a function so tests can pass a fake environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl RunConfig {
    /// Resolves `cli` against the environment `env`.
    pub fn resolve(cli: Cli, env: Env<'_>, stderr_is_terminal: bool) -> Result<Self, ConfigError> {
        let target = parts::target(&cli, env)?;
        let health_url = cli.health_url.as_deref().map(|u| check_url("--health-url", u)).transpose()?;
        let metrics_url = cli.metrics_url.as_deref().map(|u| check_url("--metrics-url", u)).transpose()?;
        let datastorage_url = parts::datastorage_url(&cli, env, &target)?;
        let (jobs, jobs_source) = parts::jobs(&cli, env)?;
        let junit = parts::report_paths(&cli, env)?;
        let token = cli.token_file.as_deref().map(read_token).transpose()?;
        let double_faults = parse_faults(&cli.double_faults, &target)?;
        let (timings, timings_source) = load_timings(cli.timings.as_deref(), &junit)?;
        let (retries, max_fail) = (parts::retries(&cli)?, parts::max_fail(&cli)?);
        let ci = env("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let color = parts::color(&cli, env, stderr_is_terminal && !ci);
        let (repeat, github, json) = (parts::repeat(&cli), parts::github(env), parts::format(&cli)?);
        let artifacts = parts::artifacts_dir(&cli, env);
        let plain = parts::Plain::of(&cli);
        let (selection, seed) = parts::selection(cli, env)?;
        Ok(Self {
            target,
            health_url,
            metrics_url,
            datastorage_url,
            health_timeout: plain.health_timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT),
            jobs,
            jobs_source,
            case_timeout: plain.timeout.unwrap_or(DEFAULT_CASE_TIMEOUT),
            suite_timeout: plain.suite_timeout,
            junit,
            junit_strict: plain.junit_strict,
            selection,
            max_fail,
            token,
            kube: plain.kube,
            list: plain.list,
            terse: plain.terse,
            quiet: plain.quiet,
            show_logs: plain.show_logs,
            color,
            allow_empty: plain.allow_empty,
            interactive: stderr_is_terminal && !ci,
            timings,
            timings_source,
            retries,
            flaky_fails: plain.flaky_result == FlakyResult::Fail,
            repeat,
            seed,
            dry_run: plain.dry_run,
            trace: plain.trace,
            artifacts,
            double_faults,
            json,
            github,
        })
    }
}

mod parts;
mod values;

pub(crate) use values::{check_report_path, read_small_file};
pub use values::{check_url, parse_jobs};
use values::{load_timings, parse_faults, read_token};

#[cfg(test)]
mod tests;
