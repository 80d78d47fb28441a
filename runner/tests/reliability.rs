//! Reliability under faults, through the real binary and the double's fault knobs: a late or
//! absent gateway, a gateway that stops mid-run, overload (503s) with retries, latency beyond
//! the case timeout, SIGINT/SIGTERM and SIGKILL mid-run. Nothing is lost: the exit code says
//! what happened and the JUnit report is valid.

mod support;

use std::time::Duration;

use quick_junit::TestCaseStatus;
use support::*;
use tokio::io::BufReader;

fn junit_arg(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn property<'a>(report: &'a quick_junit::Report, name: &str) -> Option<&'a str> {
    report.test_suites.iter().flat_map(|s| &s.properties).find(|p| p.name.as_str() == name).map(|p| p.value.as_str())
}

#[tokio::test]
async fn gate_waits_for_a_gateway_that_turns_healthy_late() {
    let (_dir, junit) = junit_path();
    let output = run(&["health::", "--double-fault", "unhealthy-for=2s", "--junit", &junit_arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let gate_line = stderr.lines().find(|l| l.starts_with("health gate:")).unwrap_or_default();
    assert!(gate_line.contains("healthy after"), "{stderr}");
    let attempts: u32 =
        gate_line.split("after ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(attempts > 1, "the gate polled while the gateway was unhealthy: {gate_line}");
}

#[tokio::test]
async fn gate_gives_up_on_a_gateway_that_never_turns_healthy() {
    let (_dir, junit) = junit_path();
    let output =
        run(&["--double-fault", "unhealthy-for=1h", "--health-timeout", "2s", "--junit", &junit_arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answered 503 Service Unavailable"), "the last answer is named: {stderr}");
    let report = read_junit(&junit);
    let gate = report.test_suites.iter().flat_map(|s| &s.test_cases).find(|c| c.name.as_str() == "health-gate");
    let gate_time = gate.and_then(|c| c.time).unwrap_or(Duration::MAX);
    assert!(gate_time <= Duration::from_secs(3), "gate gave up within its timeout + 1 s: {gate_time:?}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn gateway_stopping_mid_run_fails_cases_with_the_url_and_completes_the_report() {
    let (_dir, junit) = junit_path();
    let output =
        run(&["--double-fault", "latency=50ms,stop-after=1500ms", "--order", "name", "--junit", &junit_arg(&junit)])
            .await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let target =
        stderr.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("http://127.0.0.1").to_owned();
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(xml.contains(r#"type="infrastructure""#), "connection failures are infrastructure failures:\n{stderr}");
    assert!(stderr.contains(&format!("http request failed ({target}")), "failures name the URL {target}:\n{stderr}");
    let report = read_junit(&junit);
    assert_eq!(property(&report, "complete"), Some("true"));
    assert_eq!(report.tests, listed_count().await);
    assert_valid_junit4(&junit);
}

async fn listed_count() -> usize {
    let output = run(&["--list", "--format", "terse"]).await;
    texts(&output).0.lines().count()
}

#[tokio::test]
async fn overload_with_retries_passes_and_reports_flaky_cases() {
    let (_dir, junit) = junit_path();
    // One worker, name order and a seed make the sequence of 503s the same on every run.
    let args = ["--label-filter", "events", "-j", "1", "--order", "name", "--retries", "10"];
    let mut all: Vec<&str> = args.to_vec();
    let path = junit_arg(&junit);
    all.extend(["--double-fault", "fail-fraction=0.3,seed=7", "--junit", &path]);
    let output = run(&all).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("flaky cases (failed, then passed on retry)"), "{stderr}");
    let report = read_junit(&junit);
    let flaky = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .filter(|c| matches!(&c.status, TestCaseStatus::Success { flaky_runs } if !flaky_runs.is_empty()))
        .count();
    assert!(flaky >= 1, "{report:#?}");
    let names: Vec<&str> = report.test_suites.iter().flat_map(|s| &s.test_cases).map(|c| c.name.as_str()).collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "a retried case is one testcase");
    // The same run with flaky cases counted as failures fails.
    let strict = run(&[all.as_slice(), &["--flaky-result", "fail"]].concat()).await;
    assert_eq!(strict.status.code(), Some(1), "{:?}", texts(&strict));
    // For strict junit-4 validators the attempts go to system-out and the file validates.
    let schema = run(&[all.as_slice(), &["--junit-strict"]].concat()).await;
    assert_eq!(schema.status.code(), Some(0), "{:?}", texts(&schema));
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(!xml.contains("flakyFailure") && xml.contains("attempt 1 of"), "{xml}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn latency_beyond_the_case_timeout_is_reported_as_timeouts() {
    let (_dir, junit) = junit_path();
    let output =
        run(&["validation::m", "--double-fault", "latency=3s", "--timeout", "1s", "--junit", &junit_arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report = read_junit(&junit);
    let cases: Vec<_> = report.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    assert!(!cases.is_empty());
    for case in cases {
        assert!(
            matches!(&case.status, TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "timeout"),
            "{case:#?}"
        );
    }
}

async fn signal_mid_run(signal: &str) {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    let mut child = command(&["--gateway-url", &url, "--kube", "none", "--junit", &junit_arg(&junit)])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "healthy after").await;
    let pid = child.id().unwrap_or_else(|| panic!("no pid")).to_string();
    let sent = std::process::Command::new("kill").args([signal, &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;
    assert_eq!(status.ok().and_then(Result::ok).and_then(|s| s.code()), Some(130), "{signal}");
    let report = read_junit(&junit);
    // Interrupted: not complete, and at least one error (the `@run` entry) whatever the cases did.
    assert_eq!(property(&report, "complete"), Some("false"));
    assert!(report.tests > 0 && report.errors > 0, "{report:#?}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn sigint_mid_run_exits_130_with_an_interrupted_report() {
    signal_mid_run("-INT").await;
}

#[tokio::test]
async fn sigterm_mid_run_exits_130_with_an_interrupted_report() {
    signal_mid_run("-TERM").await;
}

#[tokio::test]
async fn sigkill_mid_run_leaves_a_valid_report_with_finished_cases() {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    // Health and readiness answer, everything else hangs: the health cases finish, the
    // validation cases (signals to the API listener) never do.
    let args = ["--label-filter", "health || validation", "--gateway-url", &url, "--kube", "none"];
    let mut child = command(&[&args[..], &["--junit", &junit_arg(&junit)]].concat())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "PASS").await;
    // The snapshot is written by a background writer right after the case finished.
    let written = suites::eventually(Duration::from_secs(10), Duration::from_millis(20), || {
        let junit = junit.clone();
        async move {
            let xml = std::fs::read_to_string(&junit).unwrap_or_default();
            if xml.contains("health::health_answers_200_json") { Ok(()) } else { Err(suites::Failure::new("not yet")) }
        }
    })
    .await;
    assert_eq!(written, Ok(()));
    let _ = child.start_kill();
    let _ = tokio::time::timeout(DEADLINE, child.wait()).await;
    let report = read_junit(&junit);
    assert_eq!(property(&report, "complete"), Some("false"));
    let passed = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| c.name.as_str() == "health::health_answers_200_json");
    assert!(matches!(passed.map(|c| &c.status), Some(TestCaseStatus::Success { .. })), "{report:#?}");
    assert_valid_junit4(&junit);
}
