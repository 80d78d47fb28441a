//! The command line: libtest-compatible flags (from libtest-mimic) flattened with the runner's
//! own. Parsing only; no IO, no environment reads (that is `config`'s job).

use std::path::PathBuf;

use clap::Parser;

/// End-to-end runner for the Kubernaut Gateway suite.
///
/// Runs every registered gateway case against one shared gateway URL, after one health gate,
/// on a worker pool sized from all CPUs, and writes JUnit XML.
#[derive(Debug, Parser)]
#[command(
    name = "runner",
    version,
    about,
    long_about = None,
    help_template = "{about-with-newline}\n{usage-heading} {usage}\n\n{all-args}{after-help}",
    after_help = "Exit codes: 0 passed, 1 a case failed or timed out, 2 could not start (usage, config, health gate), \
                  4 nothing selected, 130 interrupted.",
    mut_arg("nocapture", |a| a.help("Print the log of every case, not only of failed ones")),
    mut_arg("show_output", |a| a.help("Same as --nocapture")),
    mut_arg("test_threads", |a| a.help("Cases in flight at once (libtest spelling of -j)").allow_hyphen_values(true)),
    mut_arg("quiet", |a| a.help("Print only failures and the summary").long_help("Print only failures and the summary")),
    mut_arg("ignored", |a| a.help("Run only cases marked ignored")),
    mut_arg("include_ignored", |a| a.help("Run ignored cases too").conflicts_with("ignored")),
    mut_arg("list", |a| a.help("List the selected cases (libtest format; with --format terse: `name: test` lines only)")),
    mut_arg("color", |a| a.help("Color the console: auto (default: stderr is a terminal and CI is unset; NO_COLOR or CLICOLOR=0 turn it off, CLICOLOR_FORCE on), always, never")),
    mut_arg("format", |a| a.help("Console format: pretty (default), terse (one character per case), json (libtest's events on stdout; needs -Z unstable-options)")),
    mut_arg("logfile", |a| a.hide(true)),
    mut_arg("bench", |a| a.hide(true)),
    mut_arg("test", |a| a.hide(true)),
    mut_arg("unstable_flags", |a| a.hide(true)),
)]
pub struct Cli {
    /// libtest-compatible flags (positional FILTER, --exact, --skip, --list, --ignored, ...).
    #[command(flatten)]
    pub libtest: libtest_mimic::Arguments,

    /// Gateway base URL (env GATEWAY_URL). Without it the embedded gateway double is started.
    #[arg(long, value_name = "URL")]
    pub gateway_url: Option<String>,

    /// Readiness URL checked once before any case [default: the gateway host's health listener,
    /// http://localhost:28080/readyz for a loopback (Kind) gateway URL, else port 8081].
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,

    /// Metrics URL read by the metrics cases [default: the gateway host's port 9090, /metrics].
    #[arg(long, value_name = "URL")]
    pub metrics_url: Option<String>,

    /// DataStorage the gateway sends audit events to, read back by the audit cases (env
    /// E2E_DATASTORAGE_URL) [default: the embedded target's own; http://localhost:18091, Kind's
    /// host port of the DataStorage double, for a gateway at localhost:8080 when it answers;
    /// else none and the audit cases skip].
    #[arg(long, value_name = "URL")]
    pub datastorage_url: Option<String>,

    /// How long the health gate waits for 200, e.g. 30s, 2m.
    #[arg(long, value_name = "DURATION", value_parser = parse_run_duration, allow_hyphen_values = true)]
    pub health_timeout: Option<std::time::Duration>,

    /// Cases in flight at once (env E2E_JOBS) [default: all CPUs].
    #[arg(short = 'j', long = "jobs", visible_alias = "procs", value_name = "N", allow_hyphen_values = true)]
    pub jobs: Option<String>,

    /// Per-case timeout unless a case sets its own, e.g. 90s, 5m [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = parse_run_duration, allow_hyphen_values = true)]
    pub timeout: Option<std::time::Duration>,

    /// Timeout for the whole run; reaching it stops the run like an interrupt.
    #[arg(long, value_name = "DURATION", value_parser = parse_run_duration, allow_hyphen_values = true)]
    pub suite_timeout: Option<std::time::Duration>,

    /// Where to write the JUnit XML report (env E2E_JUNIT) [default: target/e2e/junit.xml].
    #[arg(long, visible_alias = "junit-report", value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Write only what the junit-4 XSD allows: retried attempts go to system-out instead of
    /// flakyFailure/rerunFailure elements (for strict schema validators).
    #[arg(long)]
    pub junit_strict: bool,

    /// Recorded durations for longest-first order and duration shards
    /// [default: the previous report at the --junit path, when present].
    #[arg(long, value_name = "PATH")]
    pub timings: Option<PathBuf>,

    /// Run only cases whose names match this regular expression (Ginkgo's --focus; repeatable).
    #[arg(long, value_name = "REGEX")]
    pub focus: Vec<String>,

    /// Retry a failing case up to N times; one that then passes is reported flaky.
    #[arg(long, value_name = "N", conflicts_with = "flake_attempts", allow_hyphen_values = true)]
    pub retries: Option<u32>,

    /// Ginkgo's spelling: make up to N attempts of each case in total (N - 1 retries).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub flake_attempts: Option<u32>,

    /// Whether flaky cases (failed, then passed on retry) pass or fail the run.
    #[arg(long, value_enum, default_value_t = FlakyResult::Pass)]
    pub flaky_result: FlakyResult,

    /// Run the selection N more times (N + 1 runs in all, as Ginkgo's --repeat); stop at the first failing run.
    #[arg(long, value_name = "N", conflicts_with = "until_it_fails", allow_hyphen_values = true)]
    pub repeat: Option<u32>,

    /// Run the selection again and again until a run fails (bounded by --suite-timeout, if set).
    #[arg(long)]
    pub until_it_fails: bool,

    /// Order within each phase: `longest` (recorded duration, unknown first) or `name`.
    #[arg(long, value_enum, default_value_t = OrderArg::Longest, conflicts_with_all = ["shuffle", "seed"])]
    pub order: OrderArg,

    /// Run cases in a random order (seeded; see --seed).
    #[arg(long, visible_alias = "randomize-all")]
    pub shuffle: bool,

    /// Seed for --shuffle [default: random, printed in the banner and stored in JUnit].
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub seed: Option<u64>,

    /// Print the plan (what would run, in which order, on which shard) without running anything.
    #[arg(long, conflicts_with = "list")]
    pub dry_run: bool,

    /// Write a Chrome trace-event JSON of the run (opens in Perfetto or chrome://tracing).
    #[arg(long, value_name = "PATH")]
    pub trace: Option<PathBuf>,

    /// Where this run's failure artifacts are collected (env E2E_ARTIFACTS_DIR; `ci/` collects the
    /// cluster's logs there). Named in the banner and in JUnit's `artifacts` property; the runner
    /// writes nothing there itself [default: none].
    #[arg(long, value_name = "DIR")]
    pub artifacts_dir: Option<PathBuf>,

    /// Ginkgo label expression, e.g. 'dedup && !serial', '(health,metrics)'.
    #[arg(long, value_name = "EXPR")]
    pub label_filter: Option<String>,

    /// Run one shard: hash:K/N or slice:K/N (K counts from 1).
    #[arg(long, value_name = "KIND:K/N")]
    pub partition: Option<String>,

    /// Stop scheduling cases after the first failure.
    #[arg(long, conflicts_with = "max_fail")]
    pub fail_fast: bool,

    /// Stop scheduling cases after N failures.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_fail: Option<usize>,

    /// File holding the Bearer token the gateway expects (never printed).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Kubernetes access for cluster cases: `auto` (kubeconfig if present), `none`, `in-cluster`.
    #[arg(long, value_enum, default_value_t = KubeMode::Auto)]
    pub kube: KubeMode,

    /// Fault for the embedded double, KEY=VALUE (repeatable): unhealthy-for=2s, latency=10ms..50ms,
    /// fail-fraction=0.3, close-after=N, stop-after=5s, seed=N. For reliability tests and benchmarks.
    #[arg(long = "double-fault", value_name = "KEY=VALUE")]
    pub double_faults: Vec<String>,

    /// Exit 0 instead of 4 when the filters select no case.
    #[arg(long)]
    pub allow_empty: bool,

    /// Print the runner's version.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    pub version: Option<bool>,
}

/// `runner merge-junit OUT IN...`: merges shard JUnit reports into one file.
#[derive(Debug, Parser)]
#[command(name = "merge-junit", about = "Merge shard JUnit reports into one junit-4-valid file")]
pub struct MergeJunit {
    /// Merged report to write.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Shard reports to read.
    #[arg(value_name = "IN", required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Durations are written `500ms`, `30s`, `1.5s`, `5m`, `1h30m`, `PT2S` or bare seconds; one
/// parser for the runner's flags and the double's.
pub use fixtures::double::cli::{DURATION_FORMS, parse_duration};

/// `--flaky-result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlakyResult {
    /// Flaky cases pass the run.
    Pass,
    /// Flaky cases fail the run.
    Fail,
}

/// `--order` (without `--shuffle`/`--seed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OrderArg {
    /// Longest recorded duration first, unknown first.
    Longest,
    /// Name order.
    Name,
}

/// `--kube`: how cluster cases reach the Kubernetes API against an external gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KubeMode {
    /// Kubeconfig or in-cluster if present, else none.
    Auto,
    /// No cluster access: cluster cases are skipped.
    None,
    /// In-cluster service account.
    InCluster,
}

/// The longest duration a run-level flag accepts: beyond it a deadline would not fit the clock.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A run-level duration: more than zero and at most [`MAX_DURATION`] (a week).
pub fn parse_run_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!("`{text}` is zero; expected a positive duration such as {DURATION_FORMS}"));
    }
    if duration > MAX_DURATION {
        return Err(format!("`{text}` is longer than the 7-day limit (168h)"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_parse_with_units() {
        for (text, want) in [
            ("500ms", Duration::from_millis(500)),
            ("30s", Duration::from_secs(30)),
            ("30", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1.5s", Duration::from_millis(1500)),
            ("1h", Duration::from_secs(3600)),
        ] {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        assert_eq!(parse_duration("5 minutes"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_run_duration("0").is_err_and(|e| e.contains("zero")));
        assert!(parse_run_duration("169h").is_err_and(|e| e.contains("7-day limit")));
    }

    #[test]
    fn libtest_and_runner_flags_parse_together() {
        let cli = Cli::try_parse_from([
            "runner",
            "dedup",
            "--exact",
            "--skip",
            "slow",
            "--list",
            "-j",
            "8",
            "--partition",
            "hash:1/3",
        ])
        .map_err(|e| e.to_string());
        let cli = match cli {
            Ok(cli) => cli,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cli.libtest.filter.as_deref(), Some("dedup"));
        assert!(cli.libtest.exact && cli.libtest.list);
        assert_eq!(cli.libtest.skip, vec!["slow".to_owned()]);
        assert_eq!(cli.jobs.as_deref(), Some("8"));
        assert!(Cli::try_parse_from(["runner", "--procs", "3"]).is_ok());
    }

    /// The help describes this runner's console, not libtest's (which speaks of stdout and serial runs).
    #[test]
    fn color_and_format_help_speak_of_the_runner() {
        let help = <Cli as clap::CommandFactory>::command().render_help().to_string();
        assert!(!help.contains("serially"), "{help}");
        assert!(help.contains("CLICOLOR_FORCE"), "{help}");
        assert!(help.contains("-Z unstable-options"), "{help}");
    }
}
