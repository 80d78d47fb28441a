//! Pool behaviour under paused tokio time: concurrency limit, serial isolation, timeouts,
//! panics, fail-fast and interruption.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use suites::{Case, Ctx, CtxConfig, Failure};
use tokio::sync::mpsc;

use super::*;
use crate::plan::TestPlan;

type BoxFut = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static SERIAL_OVERLAP: AtomicUsize = AtomicUsize::new(0);

fn ctx_config() -> Arc<CtxConfig> {
    Arc::new(CtxConfig::for_gateway(reqwest::Client::new(), "http://127.0.0.1:9"))
}

fn leak(case: Case) -> &'static Case {
    Box::leak(Box::new(case))
}

fn sleeper(ctx: Ctx) -> BoxFut {
    Box::pin(async move {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        ctx.log("sleeping 1s");
        tokio::time::sleep(Duration::from_secs(1)).await;
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    })
}

fn serial_probe(_: Ctx) -> BoxFut {
    Box::pin(async move {
        if RUNNING.load(Ordering::SeqCst) != 0 {
            SERIAL_OVERLAP.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    })
}

fn forever(ctx: Ctx) -> BoxFut {
    Box::pin(async move {
        ctx.log("about to hang");
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// The line of the panic in `panics`.
const PANIC_LINE: u32 = line!() + 3;

fn panics(_: Ctx) -> BoxFut {
    Box::pin(async move { panic!("kaboom in case") })
}

/// The line of the failing check in `fails`.
const FAILING_CHECK_LINE: u32 = line!() + 3;

fn fails(_: Ctx) -> BoxFut {
    Box::pin(async move { Err(Failure::new("expected 201, got 500")) })
}

fn passes(_: Ctx) -> BoxFut {
    Box::pin(async move { Ok(()) })
}

async fn run_plan(plan: TestPlan, jobs: usize, max_fail: Option<usize>, stop: &Stop) -> (RunStats, Vec<CaseResult>) {
    run_plan_with_retries(plan, jobs, max_fail, 0, stop).await
}

async fn run_plan_with_retries(
    plan: TestPlan,
    jobs: usize,
    max_fail: Option<usize>,
    retries: u32,
    stop: &Stop,
) -> (RunStats, Vec<CaseResult>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let config = PoolConfig { jobs, default_timeout: Duration::from_secs(5), max_fail, retries };
    let tally = run(&plan, &config, ctx_config(), &tx, stop).await;
    drop(tx);
    let mut results = Vec::new();
    while let Some(event) = rx.recv().await {
        if let Event::CaseFinished(r) = event {
            results.push(r);
        }
    }
    (tally, results)
}

fn outcome_of<'a>(results: &'a [CaseResult], name: &str) -> Option<&'a Outcome> {
    results.iter().find(|r| r.name == name).map(|r| &r.outcome)
}

#[tokio::test(start_paused = true)]
async fn at_most_jobs_in_flight_and_serial_cases_run_alone() {
    let parallel: Vec<&'static Case> = (0..6).map(|_| leak(Case::new("p::sleep", "p", sleeper))).collect();
    let serial = vec![leak(Case::new("s::probe", "s", serial_probe).serial())];
    let plan = TestPlan { parallel, serial, registered: 7 };
    let started = tokio::time::Instant::now();
    let (tally, _) = run_plan(plan, 2, None, &Stop::default()).await;
    assert_eq!(tally.passed, 7);
    assert_eq!(PEAK.load(Ordering::SeqCst), 2);
    assert_eq!(SERIAL_OVERLAP.load(Ordering::SeqCst), 0);
    // 6 one-second cases on 2 workers take 3 virtual seconds, then the serial one.
    assert!(started.elapsed() >= Duration::from_secs(3) && started.elapsed() < Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn timeout_panic_and_failure_are_reported_and_the_pool_goes_on() {
    let plan = TestPlan {
        parallel: vec![
            leak(Case::new("t::hang", "t", forever).timeout_secs(2)),
            leak(Case::new("t::panic", "t", panics)),
            leak(Case::new("t::fail", "t", fails)),
            leak(Case::new("t::pass", "t", passes)),
        ],
        serial: vec![],
        registered: 4,
    };
    let (tally, results) = run_plan(plan, 4, None, &Stop::default()).await;
    assert_eq!((tally.passed, tally.failed), (1, 3));
    assert_eq!(outcome_of(&results, "t::hang"), Some(&Outcome::TimedOut { after: Duration::from_secs(2) }));
    let hang_log = results.iter().find(|r| r.name == "t::hang").map(|r| r.log.clone()).unwrap_or_default();
    assert!(hang_log.contains("about to hang") && hang_log.contains("timed out after 2s"), "{hang_log}");
    assert!(
        matches!(outcome_of(&results, "t::panic"), Some(Outcome::Failed { message, kind: "panic", .. }) if message.contains("kaboom in case"))
    );
    assert!(matches!(outcome_of(&results, "t::fail"), Some(Outcome::Failed { kind: "assertion", .. })));
}

#[tokio::test(start_paused = true)]
async fn a_failure_carries_the_place_of_its_check_relative_to_the_workspace() {
    let plan = TestPlan { parallel: vec![leak(Case::new("c::fail", "c", fails))], serial: vec![], registered: 1 };
    let (_, results) = run_plan(plan, 1, None, &Stop::default()).await;
    let Some(Outcome::Failed { check: Some(check), .. }) = outcome_of(&results, "c::fail") else {
        panic!("no check place: {results:?}");
    };
    assert_eq!(check, &format!("runner/src/pool/tests.rs:{FAILING_CHECK_LINE}"));
}

#[tokio::test(start_paused = true)]
async fn a_panic_carries_its_place_as_the_failing_check() {
    super::attempt::catch_case_panics();
    let plan = TestPlan { parallel: vec![leak(Case::new("c::panic", "c", panics))], serial: vec![], registered: 1 };
    let (_, results) = run_plan(plan, 1, None, &Stop::default()).await;
    let Some(Outcome::Failed { kind: "panic", check: Some(check), .. }) = outcome_of(&results, "c::panic") else {
        panic!("no panic place: {results:?}");
    };
    assert_eq!(check, &format!("runner/src/pool/tests.rs:{PANIC_LINE}"));
}

#[tokio::test(start_paused = true)]
async fn max_fail_stops_scheduling_and_skips_the_rest() {
    let mut parallel = vec![leak(Case::new("f::first", "f", fails))];
    parallel.extend((0..3).map(|_| leak(Case::new("f::later", "f", passes))));
    let plan = TestPlan { parallel, serial: vec![leak(Case::new("f::serial", "f", passes).serial())], registered: 5 };
    let stop = Stop::default();
    let (tally, results) = run_plan(plan, 1, Some(1), &stop).await;
    assert_eq!((tally.failed, tally.passed, tally.skipped), (1, 0, 4));
    assert_eq!(stop.reason(), Some(StopReason::MaxFail(1)));
    assert!(
        results
            .iter()
            .skip(1)
            .all(|r| matches!(&r.outcome, Outcome::Skipped { reason } if reason.contains("--fail-fast")))
    );
}

#[tokio::test(start_paused = true)]
async fn interrupt_cancels_running_cases_after_grace_and_skips_pending() {
    let plan = TestPlan {
        parallel: vec![leak(Case::new("i::hang", "i", forever)), leak(Case::new("i::pending", "i", passes))],
        serial: vec![],
        registered: 2,
    };
    let stop = Stop::default();
    let trigger = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.request_with_grace(StopReason::Interrupted("SIGINT".into()), Duration::from_secs(1));
    });
    let started = tokio::time::Instant::now();
    let (_, results) = run_plan(plan, 1, None, &stop).await;
    assert_eq!(started.elapsed(), Duration::from_millis(1100));
    let cancelled = Outcome::Failed {
        message: "cancelled while running: interrupted by SIGINT".into(),
        kind: crate::report::junit::INTERRUPTED,
        check: None,
    };
    assert_eq!(outcome_of(&results, "i::hang"), Some(&cancelled));
    assert_eq!(outcome_of(&results, "i::pending"), Some(&Outcome::Skipped { reason: "interrupted".into() }));
}

#[tokio::test(start_paused = true)]
async fn cluster_cases_are_skipped_without_cluster_access() {
    let plan = TestPlan {
        parallel: vec![leak(Case::new("k::needs", "k", passes).needs_cluster())],
        serial: vec![],
        registered: 1,
    };
    let (tally, results) = run_plan(plan, 1, None, &Stop::default()).await;
    assert_eq!(tally.skipped, 1);
    assert_eq!(outcome_of(&results, "k::needs"), Some(&Outcome::Skipped { reason: suites::NEEDS_CLUSTER.into() }));
}

static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);

fn fails_once(_: Ctx) -> BoxFut {
    Box::pin(async move {
        if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 { Err(Failure::new("503 on first try")) } else { Ok(()) }
    })
}

#[tokio::test(start_paused = true)]
async fn retries_make_a_flaky_pass_and_keep_the_failed_attempt() {
    let plan = TestPlan { parallel: vec![leak(Case::new("r::once", "r", fails_once))], serial: vec![], registered: 1 };
    let (tally, results) = run_plan_with_retries(plan, 1, None, 2, &Stop::default()).await;
    assert_eq!((tally.passed, tally.flaky, tally.failed), (1, 1, 0));
    assert_eq!(results[0].retries.len(), 1);
    assert!(matches!(&results[0].retries[0].outcome, Outcome::Failed { message, .. } if message == "503 on first try"));
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_retry_backoff_keeps_the_real_failure() {
    let plan = TestPlan { parallel: vec![leak(Case::new("r::always", "r", fails))], serial: vec![], registered: 1 };
    let stop = Stop::default();
    let trigger = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        trigger.request_with_grace(StopReason::Interrupted("SIGINT".into()), Duration::from_secs(1));
    });
    let (tally, results) = run_plan_with_retries(plan, 1, None, 5, &stop).await;
    assert_eq!(tally.failed, 1);
    assert!(matches!(&results[0].outcome, Outcome::Failed { kind: "assertion", .. }), "{:?}", results[0].outcome);
}

#[test]
fn messages_are_redacted_before_they_are_cut() {
    let token = "tok-0123456789abcdef";
    let ctx = CtxConfig { token: Some(Arc::from(token)), ..(*ctx_config()).clone() };
    for offset in 0..token.len() + 2 {
        let padding = "x".repeat(attempt::MAX_MESSAGE_BYTES - offset);
        let text = format!("{padding}{token}{}", "y".repeat(100));
        let cut = attempt::message(&ctx, &text);
        assert!(cut.len() < attempt::MAX_MESSAGE_BYTES + 64, "{}", cut.len());
        // No prefix of the token of 4 or more characters survives, wherever the cut falls.
        let tail = &cut[cut.len().saturating_sub(200)..];
        assert!(!tail.contains(&token[..4]), "offset {offset}: {tail}");
    }
    let long = "é".repeat(attempt::MAX_MESSAGE_BYTES);
    assert!(attempt::message(&ctx, &long).ends_with("more bytes cut]"));
}
