//! Resolves the flags and the environment into one `RunConfig`: the only place that reads
//! environment variables or files named by flags. Every bad value is rejected here, before
//! anything runs, with what is wrong and what is expected.

use std::path::PathBuf;
use std::time::Duration;

use libtest_mimic::FormatSetting;

use crate::cli::Cli;
use crate::plan::{
    IgnoredMode, LabelExpr, LabelExprError, NameFilter, Order, PartitionError, PartitionKind, Selection, Timings,
};

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
    /// `--format terse` (list as `name: test`).
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
    /// Faults the embedded double injects (`--double-fault`).
    pub double_faults: Option<fixtures::double::Faults>,
}

/// How often the selection runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// This many runs in all (1 = once), stopping at the first failing run.
    Times(u32),
    /// Until a run fails.
    UntilItFails,
}

/// How cluster cases reach the Kubernetes API against an external gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeMode {
    /// Kubeconfig or in-cluster if present, else none.
    Auto,
    /// No cluster access: cluster cases are skipped.
    None,
    /// In-cluster service account.
    InCluster,
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
        let target = match cli.gateway_url.or_else(|| env("GATEWAY_URL").filter(|v| !v.is_empty())) {
            Some(url) => Target::External(check_url("--gateway-url", &url)?),
            None => Target::Embedded,
        };
        let health_url = cli.health_url.map(|u| check_url("--health-url", &u)).transpose()?;
        let metrics_url = cli.metrics_url.map(|u| check_url("--metrics-url", &u)).transpose()?;
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let (jobs, jobs_source) = if let Some(j) = &cli.jobs {
            (parse_jobs(j, cpus, "-j/--jobs")?, JobsSource::Flag)
        } else if let Some(t) = cli.libtest.test_threads {
            (parse_jobs(&t.to_string(), cpus, "--test-threads")?, JobsSource::TestThreads)
        } else if let Some(j) = env("E2E_JOBS").filter(|v| !v.is_empty()) {
            (parse_jobs(&j, cpus, "E2E_JOBS")?, JobsSource::Env)
        } else {
            (cpus, JobsSource::Cpus)
        };
        let junit = cli
            .junit
            .or_else(|| env("E2E_JUNIT").filter(|v| !v.is_empty()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_JUNIT));
        if !cli.libtest.list && !cli.dry_run {
            check_report_path("--junit", &junit)?;
            if let Some(trace) = &cli.trace {
                check_report_path("--trace", trace)?;
                if same_file(trace, &junit) {
                    return Err(ConfigError::Flag(format!(
                        "--trace and --junit both name {}: the trace would overwrite the report; give them different paths",
                        junit.display()
                    )));
                }
            }
        }
        let token = match &cli.token_file {
            Some(path) => Some(read_token(path)?),
            None => None,
        };
        let ignored = match (cli.libtest.ignored, cli.libtest.include_ignored) {
            (_, true) => IgnoredMode::Include,
            (true, false) => IgnoredMode::Only,
            (false, false) => IgnoredMode::Exclude,
        };
        let regexes = |patterns: &[String], flag: &str| -> Result<Vec<regex::Regex>, ConfigError> {
            patterns
                .iter()
                .map(|p| {
                    regex::Regex::new(p).map_err(|e| {
                        ConfigError::Flag(format!("invalid {flag} `{p}`: {e}; expected a regular expression"))
                    })
                })
                .collect()
        };
        let focus = regexes(&cli.focus, "--focus")?;
        // libtest's --skip is a substring, Ginkgo's a regular expression: a name is skipped when
        // either reading matches (patterns that are not valid regexes stay substrings).
        let skip_regex = cli.libtest.skip.iter().filter_map(|p| regex::Regex::new(p).ok()).collect();
        // `--seed S` alone means a shuffled run with that seed (as Ginkgo's --seed with --randomize-all).
        let seed = (cli.shuffle || cli.seed.is_some()).then(|| cli.seed.unwrap_or_else(random_seed));
        let selection = Selection {
            names: NameFilter {
                filter: cli.libtest.filter,
                exact: cli.libtest.exact,
                skip: cli.libtest.skip,
                ignored,
                focus,
                skip_regex,
            },
            labels: cli.label_filter.as_deref().map(LabelExpr::parse).transpose()?,
            partition: resolve_partition(cli.partition, env)?,
            order: match (seed, cli.order.as_str()) {
                (Some(seed), _) => Order::Shuffle(seed),
                (None, "longest") => Order::LongestFirst,
                (None, "name") => Order::Name,
                (None, other) => {
                    return Err(ConfigError::Flag(format!("invalid --order `{other}`: expected longest or name")));
                }
            },
        };
        if selection.partition.is_some_and(|p| p.kind == PartitionKind::Duration) && cli.timings.is_none() {
            return Err(ConfigError::Flag(
                "--partition duration:K/N needs --timings PATH: every shard must read the same recorded durations \
                 (e.g. the merged report of an earlier run), or shards would overlap and miss cases"
                    .into(),
            ));
        }
        let (timings, timings_source) = load_timings(cli.timings.as_deref(), &junit)?;
        let retries = match (cli.retries, cli.flake_attempts) {
            (Some(n), _) => n,
            (None, Some(0)) => return Err(ConfigError::Flag("invalid --flake-attempts 0: expected at least 1".into())),
            (None, Some(n)) => n - 1,
            (None, None) => 0,
        };
        let flaky_fails = match cli.flaky_result.as_str() {
            "pass" => false,
            "fail" => true,
            other => return Err(ConfigError::Flag(format!("invalid --flaky-result `{other}`: expected pass or fail"))),
        };
        let repeat = match (cli.repeat, cli.until_it_fails) {
            (_, true) => Repeat::UntilItFails,
            (Some(n), false) => Repeat::Times(n.saturating_add(1)),
            (None, false) => Repeat::Times(1),
        };
        let max_fail = match (cli.max_fail, cli.fail_fast) {
            (Some(0), _) => return Err(ConfigError::Flag("invalid --max-fail 0: expected at least 1".into())),
            (Some(n), _) => Some(n),
            (None, true) => Some(1),
            (None, false) => None,
        };
        let kube = match cli.kube.as_str() {
            "auto" => KubeMode::Auto,
            "none" => KubeMode::None,
            "in-cluster" => KubeMode::InCluster,
            other => {
                return Err(ConfigError::Flag(format!("invalid --kube `{other}`: expected auto, none or in-cluster")));
            }
        };
        let double_faults = parse_faults(&cli.double_faults, &target)?;
        let ci = env("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        Ok(Self {
            target,
            health_url,
            metrics_url,
            health_timeout: cli.health_timeout.unwrap_or(DEFAULT_HEALTH_TIMEOUT),
            jobs,
            jobs_source,
            case_timeout: cli.timeout.unwrap_or(DEFAULT_CASE_TIMEOUT),
            suite_timeout: cli.suite_timeout,
            junit,
            junit_strict: cli.junit_strict,
            selection,
            max_fail,
            token,
            kube,
            list: cli.libtest.list,
            terse: cli.libtest.format == Some(FormatSetting::Terse),
            quiet: cli.libtest.quiet,
            show_logs: cli.libtest.nocapture || cli.libtest.show_output,
            color: match cli.libtest.color {
                Some(libtest_mimic::ColorSetting::Always) => true,
                Some(libtest_mimic::ColorSetting::Never) => false,
                Some(libtest_mimic::ColorSetting::Auto) | None => {
                    stderr_is_terminal && !ci && env("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            },
            allow_empty: cli.allow_empty,
            interactive: stderr_is_terminal && !ci,
            timings,
            timings_source,
            retries,
            flaky_fails,
            repeat,
            seed,
            dry_run: cli.dry_run,
            trace: cli.trace,
            double_faults,
        })
    }
}

mod values;

use values::{check_report_path, load_timings, parse_faults, random_seed, read_token, resolve_partition, same_file};
pub use values::{check_url, parse_jobs};

#[cfg(test)]
mod tests;
