//! Describing a run to the user before it starts: the `--list` lines, the `--dry-run` plan and
//! the banner (target, workers and where the number came from, timeouts, partition, order, JUnit
//! path). Only text; nothing here runs anything.

use std::io::Write;
use std::time::Duration;

use crate::config::{JobsSource, Repeat, RunConfig};
use crate::plan::TestPlan;
use crate::run::INTERRUPT_GRACE;
use crate::target::Prepared;

/// `--list`: libtest's `name: test` lines (and its count line unless `--format terse`).
pub fn print_list(plan: &TestPlan, terse: bool) {
    let mut out = std::io::stdout().lock();
    for case in plan.cases() {
        let _ = writeln!(out, "{}: test", case.name);
    }
    if !terse {
        let _ = writeln!(out, "\n{} tests, 0 benchmarks", plan.len());
    }
}

/// The partition as shown to users and stored in JUnit: `slice:2/4`, or `none`.
pub fn partition_text(config: &RunConfig) -> String {
    config.selection.partition.map_or_else(|| "none".to_owned(), |p| p.to_string())
}

/// `--dry-run`: what would run, in which order, with the recorded durations.
pub fn print_dry_run(plan: &TestPlan, config: &RunConfig) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "dry run: {} of {} registered cases would run ({} parallel on {} workers, then {} serial); nothing is sent",
        plan.len(),
        plan.registered,
        plan.parallel.len(),
        config.jobs,
        plan.serial.len()
    );
    let _ = writeln!(out, "partition: {}", partition_text(config));
    let _ = writeln!(out, "timings: {}", config.timings_source);
    let _ = writeln!(out, "order: {}", config.selection.order);
    for (phase, cases) in [("parallel", &plan.parallel), ("serial", &plan.serial)] {
        for case in cases {
            let recorded = config.timings.get(case.name).map_or_else(|| "unknown".to_owned(), |d| format!("{d:.3?}"));
            let _ = writeln!(out, "  {phase:<8} {:<60} [{}] recorded {recorded}", case.name, case.labels.join(", "));
        }
    }
}

/// The banner lines, printed on stderr before the gate.
pub fn banner(config: &RunConfig, plan: &TestPlan, prepared: &Prepared) -> Vec<String> {
    let jobs_from = match config.jobs_source {
        JobsSource::Flag => "from -j/--jobs",
        JobsSource::TestThreads => "from --test-threads",
        JobsSource::Env => "from E2E_JOBS",
        JobsSource::RustTestThreads => "from RUST_TEST_THREADS",
        JobsSource::Cpus => "all CPUs, std::thread::available_parallelism",
    };
    let fmt_opt = |d: Option<Duration>| d.map_or_else(|| "none".to_owned(), |d| format!("{d:?}"));
    vec![
        prepared.description.clone(),
        prepared.kube_description.clone(),
        format!(
            "readiness: {} ({}; one gate before any case, deadline {:?})",
            prepared.health_url, prepared.health_source, config.health_timeout
        ),
        format!("metrics: {} ({})", prepared.metrics_url, prepared.metrics_source),
        match &prepared.datastorage_url {
            Some(url) => format!("datastorage: {url} ({})", prepared.datastorage_source),
            None => format!("datastorage: {}", prepared.datastorage_source),
        },
        format!("workers: {} ({jobs_from})", config.jobs),
        format!(
            "cases: {} selected of {} registered ({} parallel, {} serial)",
            plan.len(),
            plan.registered,
            plan.parallel.len(),
            plan.serial.len()
        ),
        format!(
            "timeouts: {:?} per case (unless a case sets its own), suite {}, interrupt grace {INTERRUPT_GRACE:?}",
            config.case_timeout,
            fmt_opt(config.suite_timeout)
        ),
        format!("partition: {}", partition_text(config)),
        format!("order: {}; timings: {}", config.selection.order, config.timings_source),
        format!(
            "retries: {} (flaky cases {} the run); runs: {}",
            config.retries,
            if config.flaky_fails { "fail" } else { "pass" },
            match config.repeat {
                Repeat::Times(n) => n.to_string(),
                Repeat::UntilItFails => "until one fails".to_owned(),
            }
        ),
        format!("token: {}", prepared.account.source),
        format!("junit: {}", config.junit.display()),
    ]
}
