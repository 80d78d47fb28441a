//! One run, top to bottom: plan → list or target → reporter → gate → pool → exit code. Signals
//! and the suite timeout feed the same `Stop`; the exit code is a value handed back to `main`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::{Repeat, RunConfig};
use crate::describe;
use crate::events::{Event, RunStats};
use crate::gate::HealthGate;
use crate::plan::{self, TestPlan};
use crate::pool::{self, PoolConfig, Stop, StopReason};
use crate::report::junit::JunitError;
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

/// The reporter task and the channel feeding it.
struct Reporting {
    events: mpsc::UnboundedSender<Event>,
    task: tokio::task::JoinHandle<Option<JunitError>>,
    started: Instant,
}

impl Reporting {
    /// Starts the reporter; its JUnit sink replaces any earlier report at once.
    fn start(config: &RunConfig) -> Self {
        let (events, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(report::run(receiver, reporter_config(config)));
        Self { events, task, started: Instant::now() }
    }

    /// Sends `RunFinished` and waits for the reports; `Err` when the reporter itself failed.
    async fn finish(self, cut_short: Option<String>, stats: RunStats) -> Result<Option<JunitError>, Exit> {
        let _ = self.events.send(Event::RunFinished { wall: self.started.elapsed(), cut_short, stats });
        drop(self.events);
        self.task.await.map_err(|e| {
            eprintln!("error: the reporter stopped: {e}");
            Exit::NotStarted
        })
    }
}

async fn execute(config: RunConfig, plan: TestPlan) -> Exit {
    let reporting = Reporting::start(&config);
    if plan.is_empty() {
        return nothing_selected(&config, &plan, reporting).await;
    }
    // Signals are heard from here on: set-up may wait on a cluster for tens of seconds.
    let stop = Stop::default();
    tokio::spawn(listen_for_signals(stop.clone(), reporting.events.clone()));
    let (prepared, http, reporting) = match set_up_or_stop(&config, &plan, reporting, &stop).await {
        Ok(ready) => ready,
        Err(exit) => return exit,
    };
    let events = reporting.events.clone();
    let _ = events.send(Event::RunStarted {
        facts: Box::new(describe::facts(&config, &plan, &prepared)),
        total: plan.len(),
        at: crate::process_start(),
        ready: std::time::Instant::now(),
    });
    if let Some(limit) = config.suite_timeout {
        tokio::spawn(stop_at_suite_timeout(limit, stop.clone(), events.clone()));
    }
    let healthy = pass_gate(&config, &prepared, &http, &stop, &events).await;
    let stats = match healthy {
        Some(true) => run_selection(&config, &plan, case_context(&prepared, http), &stop, &events).await,
        Some(false) => pool::skip_all(&plan, "not run: health gate failed", &events),
        None => pool::skip_all(&plan, "interrupted", &events),
    };
    drop(events);
    // Read once: the reports and the exit code say the same, even if a signal or the suite
    // timeout comes during the tear-down below.
    let reason = stop.reason();
    let cut_short = match reason.clone() {
        Some(reason @ (StopReason::Interrupted(_) | StopReason::SuiteTimeout(_))) => Some(reason.to_string()),
        _ => None,
    };
    // A report that could not be written was said on stderr; the exit code still tells how the
    // cases went.
    let junit_error = reporting.finish(cut_short, stats).await;
    tear_down(prepared).await;
    match junit_error {
        Ok(junit_error) => exit_code(reason, &stats, healthy == Some(false), junit_error.is_some(), config.flaky_fails),
        Err(exit) => exit,
    }
}

/// No case selected: the report still replaces any earlier one (an old all-pass file must not
/// stand for this run); exit 4, or 0 with `--allow-empty` unless the report could not be written.
async fn nothing_selected(config: &RunConfig, plan: &TestPlan, reporting: Reporting) -> Exit {
    let written = reporting.finish(None, RunStats::default()).await;
    eprintln!(
        "no case selected: {} registered, none matched the name filter, --label-filter, --ignored and --partition; \
         list them with --list (pass --allow-empty to exit 0)",
        plan.registered
    );
    match written {
        Err(exit) => exit,
        Ok(Some(_)) if config.allow_empty => Exit::Failed,
        Ok(_) if config.allow_empty => Exit::Passed,
        Ok(_) => Exit::NothingSelected,
    }
}

/// Sets the target up unless a signal comes first. `Err` is the exit code of a run that ends
/// here, its reports written: set-up failed (2) or was interrupted (130; whatever set-up had made
/// by then may stay behind).
async fn set_up_or_stop(
    config: &RunConfig,
    plan: &TestPlan,
    reporting: Reporting,
    stop: &Stop,
) -> Result<(Prepared, reqwest::Client, Reporting), Exit> {
    let ready = tokio::select! {
        ready = set_up(config) => ready,
        () = stop.stopping() => {
            let stats = pool::skip_all(plan, "interrupted during set-up", &reporting.events);
            let reason = stop.reason().map_or_else(|| "interrupted".to_owned(), |r| r.to_string());
            let _ = reporting.finish(Some(format!("{reason} (during set-up)")), stats).await;
            return Err(Exit::Interrupted);
        }
    };
    match ready {
        Ok((prepared, http)) => Ok((prepared, http, reporting)),
        Err(error) => {
            let _ = reporting.events.send(Event::SetupFailed { error, total: plan.len() });
            let stats = pool::skip_all(plan, "not run: the target could not be set up", &reporting.events);
            let _ = reporting.finish(None, stats).await;
            Err(Exit::NotStarted)
        }
    }
}

/// Waits for the one health gate (or a stop) and reports it; whether the target is healthy,
/// `None` when the run stopped first.
async fn pass_gate(
    config: &RunConfig,
    prepared: &Prepared,
    http: &reqwest::Client,
    stop: &Stop,
    events: &mpsc::UnboundedSender<Event>,
) -> Option<bool> {
    let gate = HealthGate::new(&prepared.health_url, config.health_timeout);
    tokio::select! {
        result = gate.wait(http) => {
            let healthy = result.error.is_none();
            let _ = events.send(Event::GateFinished(result));
            Some(healthy)
        }
        () = stop.stopping() => None,
    }
}

/// Removes the suite's account (when the runner made it) and stops the embedded target.
async fn tear_down(prepared: Prepared) {
    for problem in prepared.account.release().await {
        eprintln!("warning: could not remove the suite's account: {problem}");
    }
    if let Some(double) = prepared.double {
        double.shutdown().await;
    }
}

/// The exit code, read from the pool's counts and how the run ended.
fn exit_code(
    stop: Option<StopReason>,
    stats: &RunStats,
    gate_failed: bool,
    junit_failed: bool,
    flaky_fails: bool,
) -> Exit {
    match stop {
        Some(StopReason::Interrupted(_)) => Exit::Interrupted,
        // Without its report a run cannot be judged by CI: never a pass.
        _ if junit_failed => Exit::Failed,
        _ if gate_failed => Exit::NotStarted,
        _ if stats.cases_failed(flaky_fails) => Exit::Failed,
        Some(StopReason::SuiteTimeout(_)) => Exit::Failed,
        _ => Exit::Passed,
    }
}

/// The target (embedded double, kube client, the suite's account) and the HTTP client the gate
/// and the cases share; what went wrong, with a hint.
async fn set_up(config: &RunConfig) -> Result<(Prepared, reqwest::Client), String> {
    let prepared = target::prepare(config).await.map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        // A redirect is an answer the gate or the case sees, never a hop off the target.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(config.jobs)
        .build()
        .map_err(|e| format!("could not build the HTTP client: {e}"))?;
    Ok((prepared, http))
}

/// What every case's `Ctx` starts from (the run id is set per run of the selection).
fn case_context(prepared: &Prepared, http: reqwest::Client) -> suites::CtxConfig {
    suites::CtxConfig {
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
    }
}

/// Runs the selection once, or again per `--repeat`/`--until-it-fails` until a run fails or the
/// run stops; the counts of the last run.
async fn run_selection(
    config: &RunConfig,
    plan: &TestPlan,
    base: suites::CtxConfig,
    stop: &Stop,
    events: &mpsc::UnboundedSender<Event>,
) -> RunStats {
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
        let stats = pool::run(plan, &pool_config, ctx, events, stop).await;
        let again = match config.repeat {
            Repeat::Times(runs) => iteration < runs,
            // A run in which every case skipped can never fail: repeating it would spin forever.
            Repeat::UntilItFails => stats.skipped < stats.total(),
        };
        if stats.cases_failed(config.flaky_fails) || !again || stop.is_stopping() {
            return stats;
        }
        // Let the signal and timeout tasks run between runs, even on one worker thread.
        tokio::task::yield_now().await;
    }
}

/// Stops the run like an interrupt once `limit` has passed.
async fn stop_at_suite_timeout(limit: Duration, stop: Stop, events: mpsc::UnboundedSender<Event>) {
    tokio::time::sleep(limit).await;
    let reason = StopReason::SuiteTimeout(limit);
    let _ = events.send(Event::Stopping { reason: format!("{reason}: stopping like an interrupt") });
    stop.request_with_grace(reason, INTERRUPT_GRACE);
}

fn reporter_config(config: &RunConfig) -> ReporterConfig {
    ReporterConfig {
        junit: config.junit.clone(),
        interactive: config.interactive,
        quiet: config.quiet,
        terse: config.terse,
        show_logs: config.show_logs,
        color: config.color,
        strict_junit4: config.junit_strict,
        trace: config.trace.clone(),
        flaky_fails: config.flaky_fails,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_is_read_from_the_pools_counts_and_how_the_run_ended() {
        let clean = RunStats { passed: 3, ..RunStats::default() };
        let failed = RunStats { passed: 2, failed: 1, ..RunStats::default() };
        let flaky = RunStats { passed: 3, flaky: 1, ..RunStats::default() };
        let sigint = || Some(StopReason::Interrupted("SIGINT".into()));
        let suite = || Some(StopReason::SuiteTimeout(Duration::from_secs(1)));
        assert_eq!(exit_code(None, &clean, false, false, false), Exit::Passed);
        assert_eq!(exit_code(None, &failed, false, false, false), Exit::Failed);
        assert_eq!(exit_code(None, &flaky, false, false, false), Exit::Passed);
        assert_eq!(exit_code(None, &flaky, false, false, true), Exit::Failed);
        assert_eq!(exit_code(None, &clean, true, false, false), Exit::NotStarted);
        assert_eq!(exit_code(None, &clean, false, true, false), Exit::Failed, "no report, no pass");
        assert_eq!(exit_code(sigint(), &clean, false, false, false), Exit::Interrupted);
        assert_eq!(exit_code(suite(), &clean, false, false, false), Exit::Failed);
        assert_eq!(exit_code(Some(StopReason::MaxFail(1)), &failed, false, false, false), Exit::Failed);
    }
}
