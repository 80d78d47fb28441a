//! Resolves the flags and the environment into one `RunConfig`: the only place that reads
//! environment variables or files named by flags. Every bad value is rejected here, before
//! anything runs, with what is wrong and what is expected.

use std::path::PathBuf;
use std::time::Duration;

use libtest_mimic::FormatSetting;

use crate::cli::Cli;
use crate::plan::{
    IgnoredMode, LabelExpr, LabelExprError, NameFilter, Order, Partition, PartitionError, Selection, Timings,
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
    /// Health URL (`None` = `{gateway}/health` once the embedded URL is known).
    pub health_url: Option<String>,
    /// Metrics URL (`None` = `{gateway}/metrics`).
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
        "invalid worker count `{value}` from {source_name}: expected a whole number of at least 1, or Nx for N × CPUs (e.g. 8 or 4x)"
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
    /// JUnit directory unusable.
    #[error(
        "cannot write the JUnit report to {path}: {problem}; pass --junit PATH (or E2E_JUNIT) with a writable directory"
    )]
    Junit {
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
        if !cli.libtest.list {
            check_junit_dir(&junit)?;
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
        let seed = cli.shuffle.then(|| cli.seed.unwrap_or_else(random_seed));
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
            selection,
            max_fail,
            token,
            kube,
            list: cli.libtest.list,
            terse: cli.libtest.format == Some(FormatSetting::Terse),
            quiet: cli.libtest.quiet,
            show_logs: cli.libtest.nocapture || cli.libtest.show_output,
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

/// `--double-fault KEY=VALUE...` into the embedded double's fault settings.
fn parse_faults(specs: &[String], target: &Target) -> Result<Option<fixtures::double::Faults>, ConfigError> {
    use fixtures::double::cli::{parse_duration, parse_latency};
    if specs.is_empty() {
        return Ok(None);
    }
    if *target != Target::Embedded {
        return Err(ConfigError::Flag(
            "--double-fault applies to the embedded double only; drop --gateway-url / GATEWAY_URL".into(),
        ));
    }
    let mut faults = fixtures::double::Faults::default();
    for spec in specs.iter().flat_map(|s| s.split(',')) {
        let fail = |problem: String| {
            ConfigError::Flag(format!(
                "invalid --double-fault `{spec}`: {problem}; expected unhealthy-for=D, latency=D[..D], fail-fraction=F, close-after=N, stop-after=D or seed=N"
            ))
        };
        let (key, value) = spec.split_once('=').ok_or_else(|| fail("missing `=`".into()))?;
        match key.trim() {
            "unhealthy-for" => faults.unhealthy_for = Some(parse_duration(value).map_err(fail)?),
            "latency" => faults.latency = Some(parse_latency(value).map_err(fail)?),
            "fail-fraction" => {
                let f: f64 = value.parse().map_err(|_| fail("not a number".into()))?;
                if !(0.0..=1.0).contains(&f) {
                    return Err(fail("must be between 0 and 1".into()));
                }
                faults.signal_503_fraction = f;
            }
            "close-after" => faults.close_after_requests = Some(value.parse().map_err(|_| fail("not a count".into()))?),
            "stop-after" => faults.stop_after = Some(parse_duration(value).map_err(fail)?),
            "seed" => faults.seed = value.parse().map_err(|_| fail("not a number".into()))?,
            other => return Err(fail(format!("unknown fault `{other}`"))),
        }
    }
    Ok(Some(faults))
}

/// Reads recorded durations: `--timings PATH` (must parse), else the previous report at the
/// JUnit path (ignored when absent or unreadable).
fn load_timings(flag: Option<&std::path::Path>, junit: &std::path::Path) -> Result<(Timings, String), ConfigError> {
    let (path, explicit) = match flag {
        Some(path) => (path, true),
        None => (junit, false),
    };
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|xml| quick_junit::Report::deserialize_from_str(&xml).map_err(|e| e.to_string()));
    match parsed {
        Ok(report) => {
            let timings: Timings = report
                .test_suites
                .iter()
                .filter(|s| !s.name.as_str().starts_with('@'))
                .flat_map(|s| &s.test_cases)
                .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
                .filter_map(|c| c.time.map(|t| (c.name.as_str().to_owned(), t)))
                .collect();
            let source = format!("{} ({} cases)", path.display(), timings.len());
            Ok((timings, source))
        }
        Err(problem) if explicit => Err(ConfigError::Timings { path: path.display().to_string(), problem }),
        Err(_) => Ok((Timings::new(), format!("none (no earlier report at {})", path.display()))),
    }
}

fn random_seed() -> u64 {
    let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
    (high ^ low) % 1_000_000
}

/// `--partition`, else `E2E_PARTITION`, else the Kubernetes Indexed Job's shard: with
/// `E2E_SHARDS=N` and `JOB_COMPLETION_INDEX=i` (0-based) this process runs `slice:{i+1}/N`.
fn resolve_partition(flag: Option<String>, env: Env<'_>) -> Result<Option<Partition>, ConfigError> {
    if let Some(value) = flag.or_else(|| env("E2E_PARTITION").filter(|v| !v.is_empty())) {
        return Ok(Some(Partition::parse(&value)?));
    }
    let (Some(shards), Some(index)) = (env("E2E_SHARDS"), env("JOB_COMPLETION_INDEX")) else { return Ok(None) };
    let index: u32 = index.trim().parse().map_err(|_| {
        ConfigError::Flag(format!(
            "invalid JOB_COMPLETION_INDEX `{index}`: expected the Job's 0-based completion index"
        ))
    })?;
    Ok(Some(Partition::parse(&format!("slice:{}/{}", index.saturating_add(1), shards.trim()))?))
}

/// Checks an http(s) URL and strips a trailing slash.
pub fn check_url(what: &'static str, value: &str) -> Result<String, ConfigError> {
    let fail = |problem: &str| ConfigError::Url { what, value: value.to_owned(), problem: problem.to_owned() };
    let parsed = reqwest::Url::parse(value).map_err(|e| fail(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(fail(&format!("scheme `{}` is not http or https", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(fail("it has no host"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `N` or `Nx` (N × CPUs), at least 1.
pub fn parse_jobs(value: &str, cpus: usize, source_name: &'static str) -> Result<usize, ConfigError> {
    let fail = || ConfigError::Jobs { value: value.to_owned(), source_name };
    let jobs = match value.trim().strip_suffix('x') {
        Some(factor) => factor.parse::<usize>().map_err(|_| fail())?.saturating_mul(cpus),
        None => value.trim().parse::<usize>().map_err(|_| fail())?,
    };
    if jobs == 0 { Err(fail()) } else { Ok(jobs) }
}

fn check_junit_dir(path: &std::path::Path) -> Result<(), ConfigError> {
    let fail = |problem: String| ConfigError::Junit { path: path.display().to_string(), problem };
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    tempfile::NamedTempFile::new_in(&dir).map(drop).map_err(|e| fail(format!("{} is not writable: {e}", dir.display())))
}

fn read_token(path: &std::path::Path) -> Result<String, ConfigError> {
    let fail = |problem: String| ConfigError::Token { path: path.display().to_string(), problem };
    let token = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?.trim().to_owned();
    if token.is_empty() { Err(fail("the file is empty".into())) } else { Ok(token) }
}

#[cfg(test)]
mod tests;
