//! The pieces `RunConfig::resolve` is made of, one decision each: workers, report paths, the
//! selection (names, labels, partition, order), retries, the fail limit, color, and the flags
//! that are taken as they are.

use std::path::PathBuf;
use std::time::Duration;

use libtest_mimic::FormatSetting;

use super::values::{check_report_path, check_url, parse_jobs, random_seed, resolve_partition, same_file};
use super::{ConfigError, DEFAULT_JUNIT, Env, JobsSource, KubeMode, Repeat, Target};
use crate::cli::{Cli, FlakyResult, OrderArg};
use crate::plan::{IgnoredMode, LabelExpr, NameFilter, Order, PartitionKind, Selection};

/// The gateway: `--gateway-url`, else `GATEWAY_URL`, else the embedded double.
pub(super) fn target(cli: &Cli, env: Env<'_>) -> Result<Target, ConfigError> {
    match (&cli.gateway_url, env("GATEWAY_URL").filter(|v| !v.is_empty())) {
        (Some(url), _) => Ok(Target::External(check_url("--gateway-url", url)?)),
        (None, Some(url)) => Ok(Target::External(check_url("GATEWAY_URL (--gateway-url)", &url)?)),
        (None, None) => Ok(Target::Embedded),
    }
}

/// Workers and where the number came from: `-j`, then `--test-threads`, then `E2E_JOBS`, then
/// libtest's `RUST_TEST_THREADS`, then every CPU.
pub(super) fn jobs(cli: &Cli, env: Env<'_>) -> Result<(usize, JobsSource), ConfigError> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(if let Some(j) = &cli.jobs {
        (parse_jobs(j, cpus, "-j/--jobs")?, JobsSource::Flag)
    } else if let Some(t) = cli.libtest.test_threads {
        (parse_jobs(&t.to_string(), cpus, "--test-threads")?, JobsSource::TestThreads)
    } else if let Some(j) = env("E2E_JOBS").filter(|v| !v.is_empty()) {
        (parse_jobs(&j, cpus, "E2E_JOBS")?, JobsSource::Env)
    } else if let Some(j) = env("RUST_TEST_THREADS").filter(|v| !v.is_empty()) {
        (parse_jobs(&j, cpus, "RUST_TEST_THREADS")?, JobsSource::RustTestThreads)
    } else {
        (cpus, JobsSource::Cpus)
    })
}

/// The JUnit path (`--junit`, `E2E_JUNIT`, default), checked together with `--trace` unless the
/// run writes nothing (`--list`, `--dry-run`).
pub(super) fn report_paths(cli: &Cli, env: Env<'_>) -> Result<PathBuf, ConfigError> {
    let junit = cli
        .junit
        .clone()
        .or_else(|| env("E2E_JUNIT").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_JUNIT));
    if cli.libtest.list || cli.dry_run {
        return Ok(junit);
    }
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
    Ok(junit)
}

/// What to run and in which order, and the shuffle seed when shuffling.
pub(super) fn selection(cli: Cli, env: Env<'_>) -> Result<(Selection, Option<u64>), ConfigError> {
    let ignored = match (cli.libtest.ignored, cli.libtest.include_ignored) {
        (_, true) => IgnoredMode::Include,
        (true, false) => IgnoredMode::Only,
        (false, false) => IgnoredMode::Exclude,
    };
    let focus = cli
        .focus
        .iter()
        .map(|p| {
            regex::Regex::new(p)
                .map_err(|e| ConfigError::Flag(format!("invalid --focus `{p}`: {e}; expected a regular expression")))
        })
        .collect::<Result<Vec<_>, _>>()?;
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
        order: match (seed, cli.order) {
            (Some(seed), _) => Order::Shuffle(seed),
            (None, OrderArg::Longest) => Order::LongestFirst,
            (None, OrderArg::Name) => Order::Name,
        },
    };
    if selection.partition.is_some_and(|p| p.kind == PartitionKind::Duration) && cli.timings.is_none() {
        return Err(ConfigError::Flag(
            "--partition duration:K/N needs --timings PATH: every shard must read the same recorded durations \
             (e.g. the merged report of an earlier run), or shards would overlap and miss cases"
                .into(),
        ));
    }
    Ok((selection, seed))
}

/// `--datastorage-url`, else `E2E_DATASTORAGE_URL`, with where it came from. Only for an external
/// gateway: the embedded one has its own DataStorage double.
pub(super) fn datastorage_url(
    cli: &Cli,
    env: Env<'_>,
    target: &Target,
) -> Result<Option<(String, &'static str)>, ConfigError> {
    let given = match (&cli.datastorage_url, env("E2E_DATASTORAGE_URL").filter(|v| !v.is_empty())) {
        (Some(url), _) => Some((url.clone(), "from --datastorage-url")),
        (None, Some(url)) => Some((url, "from E2E_DATASTORAGE_URL")),
        (None, None) => None,
    };
    let Some((url, source)) = given else { return Ok(None) };
    if *target == Target::Embedded {
        return Err(ConfigError::Flag(format!(
            "--datastorage-url ({source}) applies to an external gateway: the embedded double sends its audit \
             events to its own DataStorage double; pass --gateway-url too, or drop it"
        )));
    }
    Ok(Some((check_url("--datastorage-url", &url)?, source)))
}

/// Retries of a failing case: `--retries N`, or Ginkgo's `--flake-attempts N` (N attempts in all).
pub(super) fn retries(cli: &Cli) -> Result<u32, ConfigError> {
    match (cli.retries, cli.flake_attempts) {
        (Some(n), _) => Ok(n),
        (None, Some(0)) => Err(ConfigError::Flag("invalid --flake-attempts 0: expected at least 1".into())),
        (None, Some(n)) => Ok(n - 1),
        (None, None) => Ok(0),
    }
}

/// Stop scheduling after this many failures: `--max-fail N`, `--fail-fast` (1), or never.
pub(super) fn max_fail(cli: &Cli) -> Result<Option<usize>, ConfigError> {
    match (cli.max_fail, cli.fail_fast) {
        (Some(0), _) => Err(ConfigError::Flag("invalid --max-fail 0: expected at least 1".into())),
        (Some(n), _) => Ok(Some(n)),
        (None, true) => Ok(Some(1)),
        (None, false) => Ok(None),
    }
}

/// How often the selection runs: `--repeat N` (N + 1 runs), `--until-it-fails`, or once.
pub(super) fn repeat(cli: &Cli) -> Repeat {
    match (cli.repeat, cli.until_it_fails) {
        (_, true) => Repeat::UntilItFails,
        (Some(n), false) => Repeat::Times(n.saturating_add(1)),
        (None, false) => Repeat::Times(1),
    }
}

/// `--artifacts-dir`, else `E2E_ARTIFACTS_DIR`, with which one it was.
pub(super) fn artifacts_dir(cli: &Cli, env: Env<'_>) -> Option<(PathBuf, &'static str)> {
    match &cli.artifacts_dir {
        Some(dir) => Some((dir.clone(), "--artifacts-dir")),
        None => env("E2E_ARTIFACTS_DIR").filter(|v| !v.is_empty()).map(|v| (PathBuf::from(v), "E2E_ARTIFACTS_DIR")),
    }
}

/// GitHub Actions output: the step summary file (`GITHUB_STEP_SUMMARY`) and annotations
/// (`GITHUB_ACTIONS=true`).
pub(super) fn github(env: Env<'_>) -> crate::report::github::GithubOutput {
    crate::report::github::GithubOutput {
        step_summary: env("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()).map(PathBuf::from),
        annotations: env("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
    }
}

/// Whether status words are colored: `--color always|never`; else `NO_COLOR` (set: never),
/// `CLICOLOR_FORCE` (set and not `0`: always), `CLICOLOR=0` (never); else a terminal outside CI.
pub(super) fn color(cli: &Cli, env: Env<'_>, terminal_outside_ci: bool) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    match cli.libtest.color {
        Some(libtest_mimic::ColorSetting::Always) => true,
        Some(libtest_mimic::ColorSetting::Never) => false,
        Some(libtest_mimic::ColorSetting::Auto) | None => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if set("CLICOLOR").is_some_and(|v| v == "0") {
                false
            } else {
                terminal_outside_ci
            }
        }
    }
}

/// Whether libtest's JSON events go to stdout. `--format json` needs `-Z unstable-options` (as
/// libtest's does) and a run (not `--list`); `--format terse` is the console's (and `--list`'s); `--logfile`
/// is refused rather than ignored.
pub(super) fn format(cli: &Cli) -> Result<bool, ConfigError> {
    if cli.libtest.logfile.is_some() {
        return Err(ConfigError::Flag(
            "--logfile is not supported: the runner writes JUnit (--junit) and, with --format json, libtest events on stdout"
                .into(),
        ));
    }
    match (cli.libtest.format, cli.libtest.list) {
        (Some(FormatSetting::Json), true) => {
            Err(ConfigError::Flag("--format json applies to runs, not to --list (use --format terse)".into()))
        }
        (Some(FormatSetting::Json), false) if cli.libtest.unstable_flags.is_none() => Err(ConfigError::Flag(
            "--format json is unstable in libtest: pass -Z unstable-options with it, as libtest expects".into(),
        )),
        (Some(FormatSetting::Json), false) => Ok(true),
        _ => Ok(false),
    }
}

/// Flags taken as they are.
pub(super) struct Plain {
    pub health_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub suite_timeout: Option<Duration>,
    pub junit_strict: bool,
    pub kube: KubeMode,
    pub list: bool,
    pub terse: bool,
    pub quiet: bool,
    pub show_logs: bool,
    pub allow_empty: bool,
    pub flaky_result: FlakyResult,
    pub dry_run: bool,
    pub trace: Option<PathBuf>,
}

impl Plain {
    pub(super) fn of(cli: &Cli) -> Self {
        Self {
            health_timeout: cli.health_timeout,
            timeout: cli.timeout,
            suite_timeout: cli.suite_timeout,
            junit_strict: cli.junit_strict,
            kube: cli.kube,
            list: cli.libtest.list,
            terse: cli.libtest.format == Some(FormatSetting::Terse),
            quiet: cli.libtest.quiet,
            show_logs: cli.libtest.nocapture || cli.libtest.show_output,
            allow_empty: cli.allow_empty,
            flaky_result: cli.flaky_result,
            dry_run: cli.dry_run,
            trace: cli.trace.clone(),
        }
    }
}
