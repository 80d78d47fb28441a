//! Describing a run before it starts: the `--list` lines, the `--dry-run` plan, and the facts of
//! a run (target, workers and where the number came from, timeouts, partition, order) that the
//! reporters render. Nothing here runs anything.

use crate::config::{JobsSource, Repeat, RunConfig};
use crate::events::{Endpoint, RunFacts, Workers};
use crate::plan::TestPlan;
use crate::run::INTERRUPT_GRACE;
use crate::target::Prepared;
use std::io::Write;

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

/// What the run is about to do, as data for the reporters (the banner, JUnit's properties).
pub fn facts(config: &RunConfig, plan: &TestPlan, prepared: &Prepared) -> RunFacts {
    let source = match config.jobs_source {
        JobsSource::Flag => "from -j/--jobs",
        JobsSource::TestThreads => "from --test-threads",
        JobsSource::Env => "from E2E_JOBS",
        JobsSource::RustTestThreads => "from RUST_TEST_THREADS",
        JobsSource::Cpus => "all CPUs, std::thread::available_parallelism",
    };
    let endpoint = |url: &str, source: &str| Endpoint { url: Some(url.to_owned()), source: source.to_owned() };
    RunFacts {
        gateway_url: prepared.gateway_url.clone(),
        embedded: prepared.double.is_some(),
        cluster: prepared.kube_description.clone(),
        readiness: endpoint(&prepared.health_url, &prepared.health_source),
        metrics: endpoint(&prepared.metrics_url, &prepared.metrics_source),
        datastorage: Endpoint { url: prepared.datastorage_url.clone(), source: prepared.datastorage_source.clone() },
        workers: Workers { jobs: config.jobs, source },
        parallel: plan.parallel.len(),
        serial: plan.serial.len(),
        registered: plan.registered,
        case_timeout: config.case_timeout,
        suite_timeout: config.suite_timeout,
        health_timeout: config.health_timeout,
        interrupt_grace: INTERRUPT_GRACE,
        partition: config.selection.partition.map(|p| p.to_string()),
        order: config.selection.order.to_string(),
        seed: config.seed,
        timings: config.timings_source.clone(),
        recorded: plan
            .cases()
            .filter_map(|case| config.timings.get(case.name).map(|d| (case.name.to_owned(), *d)))
            .collect(),
        retries: config.retries,
        flaky_fails: config.flaky_fails,
        runs: match config.repeat {
            Repeat::Times(n) => Some(n),
            Repeat::UntilItFails => None,
        },
        token: prepared.account.source.clone(),
        label_filter: config.selection.labels.as_ref().map(ToString::to_string),
        artifacts: config.artifacts.as_ref().map(|(dir, source)| (dir.display().to_string(), *source)),
    }
}
