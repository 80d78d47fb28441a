//! One run, top to bottom: plan → list or target → reporter → gate → pool → exit code. Signals
//! and the suite timeout feed the same `Stop`; the exit code is a value handed back to `main`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::{Repeat, RunConfig};
use crate::describe;
use crate::events::Event;
use crate::gate::HealthGate;
use crate::plan::{self, TestPlan};
use crate::pool::{self, PoolConfig, Stop, StopReason};
use crate::report::{self, ReporterConfig};
use crate::target::{self, Prepared};

/// How long running cases may finish after a first interrupt before they are cancelled.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// The process exit code, as policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every case passed.
    Passed = 0,
    /// A case failed or timed out.
    Failed = 1,
    /// Could not start: usage, config, target or gate.
    NotStarted = 2,
    /// The filters selected nothing.
    NothingSelected = 4,
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted = 130,
}

/// Plans and, unless listing, runs.
pub fn run(config: RunConfig) -> Exit {
    let registered = suites::registered();
    let plan = match plan::build(&registered, &config.selection, &config.timings) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::NotStarted;
        }
    };
    if config.list {
        describe::print_list(&plan, config.terse);
        return Exit::Passed;
    }
    if config.dry_run {
        describe::print_dry_run(&plan, &config);
        return Exit::Passed;
    }
    if plan.is_empty() {
        // Replace any earlier report: an old all-pass file must not stand for this run.
        write_setup_failure(&config, &plan, "");
        eprintln!(
            "no case selected: {} registered, none matched the name filter, --label-filter, --ignored and --partition; \
             list them with --list (pass --allow-empty to exit 0)",
            plan.registered
        );
        return if config.allow_empty { Exit::Passed } else { Exit::NothingSelected };
    }
    write_started(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return Exit::NotStarted;
        }
    };
    runtime.block_on(execute(config, plan))
}

/// Eight lowercase hex characters.
fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// Replaces the report at `--junit` (and clears temp files a killed writer left) before anything
/// else happens: from now on the file describes this run, `complete=false` until it ends, so a
/// run killed during set-up or the gate never leaves an earlier run's report standing.
fn write_started(config: &RunConfig) {
    crate::report::atomic::remove_leftovers(&config.junit);
    let info = crate::report::junit::RunInfo { complete: false, ..Default::default() };
    let report = crate::report::junit::build(&[], &info);
    if let Err(e) = crate::report::junit::write_atomic(&report, &config.junit) {
        eprintln!("warning: {e}");
    }
}

/// Writes the report of a run that never reached its cases: every planned case skipped, and a
/// failed `@setup` case when `error` is not empty. Replaces any earlier report at the path.
fn write_setup_failure(config: &RunConfig, plan: &TestPlan, error: &str) {
    let reason = if error.is_empty() { "not run" } else { "not run: the target could not be set up" };
    let results: Vec<_> = plan.cases().map(|case| pool::skipped(case, reason)).collect();
    let info = crate::report::junit::RunInfo {
        setup_error: (!error.is_empty()).then(|| error.to_owned()),
        complete: true,
        ..Default::default()
    };
    let report = crate::report::junit::build(&results, &info);
    if let Err(e) = crate::report::junit::write_atomic(&report, &config.junit) {
        eprintln!("error: {e}");
    }
}

async fn execute(config: RunConfig, plan: TestPlan) -> Exit {
    let started = Instant::now();
    let prepared = match target::prepare(&config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            write_setup_failure(&config, &plan, &e.to_string());
            return Exit::NotStarted;
        }
    };
    let http = match reqwest::Client::builder()
        .no_proxy()
        // A redirect is an answer the gate or the case sees, never a hop off the target.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(config.jobs)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: could not build the HTTP client: {e}");
            return Exit::NotStarted;
        }
    };
    let (events, receiver) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(report::run(receiver, reporter_config(&config, &prepared)));
    let _ = events.send(Event::RunStarted {
        banner: describe::banner(&config, &plan, &prepared),
        total: plan.len(),
        at: crate::process_start(),
        ready: std::time::Instant::now(),
    });
    let stop = Stop::default();
    tokio::spawn(listen_for_signals(stop.clone(), events.clone()));
    if let Some(limit) = config.suite_timeout {
        let (stop, events) = (stop.clone(), events.clone());
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            let reason = StopReason::SuiteTimeout(limit);
            let _ = events.send(Event::Stopping { reason: format!("{reason}: stopping like an interrupt") });
            stop.request_with_grace(reason, INTERRUPT_GRACE);
        });
    }

    let gate = HealthGate::new(&prepared.health_url, config.health_timeout);
    let gate_result = tokio::select! {
        result = gate.wait(&http) => Some(result),
        () = stop.stopping() => None,
    };
    let gate_ok = gate_result.as_ref().is_some_and(|g| g.error.is_none());
    if let Some(result) = gate_result {
        let _ = events.send(Event::GateFinished(result));
    }
    if gate_ok {
        let base = suites::CtxConfig {
            http,
            gateway_url: prepared.gateway_url.clone(),
            health_url: prepared.health_url.clone(),
            metrics_url: prepared.metrics_url.clone(),
            kube: prepared.kube.clone(),
            token: prepared.account.token.as_deref().map(Arc::from),
            controller_namespace: fixtures::crd::CONTROLLER_NAMESPACE.to_owned(),
            run_id: String::new(),
            // The in-memory cluster of the embedded double runs no controllers; a real one does.
            runs_controllers: prepared.double.is_none(),
            datastorage_url: prepared.datastorage_url.clone(),
        };
        let pool_config = PoolConfig {
            jobs: config.jobs,
            default_timeout: config.case_timeout,
            max_fail: config.max_fail,
            retries: config.retries,
        };
        let mut iteration = 0;
        loop {
            iteration += 1;
            let _ = events.send(Event::IterationStarted { iteration });
            // A fresh run id per run of the selection: `--repeat` never trips over what an earlier
            // run created (names and fingerprints derive from it).
            let ctx = Arc::new(suites::CtxConfig { run_id: new_run_id(), ..base.clone() });
            let tally = pool::run(&plan, &pool_config, ctx, &events, &stop).await;
            let again = match config.repeat {
                Repeat::Times(runs) => iteration < runs,
                Repeat::UntilItFails => true,
            };
            let failed = tally.failed > 0 || (config.flaky_fails && tally.flaky > 0);
            if failed || !again || stop.is_stopping() {
                break;
            }
        }
    } else {
        let reason = if stop.is_stopping() { "interrupted" } else { "not run: health gate failed" };
        for case in plan.cases() {
            let _ = events.send(Event::CaseFinished(pool::skipped(case, reason)));
        }
    }
    let cut_short = match stop.reason() {
        Some(reason @ (StopReason::Interrupted(_) | StopReason::SuiteTimeout(_))) => Some(reason.to_string()),
        _ => None,
    };
    let _ = events.send(Event::RunFinished { wall: started.elapsed(), cut_short });
    drop(events);
    // A report that could not be written was said on stderr; the exit code still tells how the
    // cases went.
    let outcome = match reporter.await {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: the reporter stopped: {e}");
            return Exit::NotStarted;
        }
    };
    for problem in prepared.account.release().await {
        eprintln!("warning: could not remove the suite's account: {problem}");
    }
    if let Some(double) = prepared.double {
        double.shutdown().await;
    }
    match stop.reason() {
        Some(StopReason::Interrupted(_)) => Exit::Interrupted,
        // Without its report a run cannot be judged by CI: never a pass.
        _ if outcome.junit_error.is_some() => Exit::Failed,
        _ if outcome.gate_failed => Exit::NotStarted,
        _ if outcome.results.iter().any(|r| r.outcome.is_failure()) => Exit::Failed,
        _ if config.flaky_fails && outcome.results.iter().any(|r| r.is_flaky()) => Exit::Failed,
        Some(StopReason::SuiteTimeout(_)) => Exit::Failed,
        _ => Exit::Passed,
    }
}

fn reporter_config(config: &RunConfig, prepared: &Prepared) -> ReporterConfig {
    let mut properties = vec![
        ("target".to_owned(), prepared.gateway_url.clone()),
        ("embedded".to_owned(), prepared.double.is_some().to_string()),
        ("jobs".to_owned(), config.jobs.to_string()),
        ("partition".to_owned(), describe::partition_text(config)),
        ("runner.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
    ];
    if let Some(seed) = config.seed {
        properties.push(("seed".to_owned(), seed.to_string()));
    }
    properties.push(("retries".to_owned(), config.retries.to_string()));
    if let Some(labels) = &config.selection.labels {
        properties.push(("label-filter".to_owned(), labels.to_string()));
    }
    ReporterConfig {
        junit: config.junit.clone(),
        interactive: config.interactive,
        quiet: config.quiet,
        show_logs: config.show_logs,
        color: config.color,
        strict_junit4: config.junit_strict,
        trace: config.trace.clone(),
        properties,
        github: config.github.clone(),
        json: config.json,
    }
}

async fn listen_for_signals(stop: Stop, events: mpsc::UnboundedSender<Event>) {
    use tokio::signal::unix::{SignalKind, signal};
    // SIGHUP (the terminal went away) stops the run like SIGTERM: the report is still written.
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()), signal(SignalKind::hangup()))
    else {
        let _ = events.send(Event::Stopping { reason: "warning: could not install signal handlers".into() });
        return;
    };
    let mut count = 0;
    loop {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        };
        count += 1;
        if count == 1 {
            let _ = events.send(Event::Stopping {
                reason: format!("{name} received: no new cases; running cases get {INTERRUPT_GRACE:?}, then JUnit is written (signal again to stop at once)"),
            });
            stop.request_with_grace(StopReason::Interrupted(name.into()), INTERRUPT_GRACE);
        } else {
            let _ = events
                .send(Event::Stopping { reason: format!("second signal ({name}): cancelling running cases now") });
            stop.abort(StopReason::Interrupted(name.into()));
        }
    }
}
