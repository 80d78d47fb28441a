//! Resolves the flags and the environment into one `RunConfig`: the only place that reads
//! environment variables or files named by flags. Every bad value is rejected here, before
//! anything runs, with what is wrong and what is expected.

use std::path::PathBuf;
use std::time::Duration;

use libtest_mimic::FormatSetting;

use crate::cli::Cli;
use crate::plan::{IgnoredMode, LabelExpr, LabelExprError, NameFilter, Partition, PartitionError, Selection};

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
        let selection = Selection {
            names: NameFilter { filter: cli.libtest.filter, exact: cli.libtest.exact, skip: cli.libtest.skip, ignored },
            labels: cli.label_filter.as_deref().map(LabelExpr::parse).transpose()?,
            partition: resolve_partition(cli.partition, env)?,
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
        })
    }
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
