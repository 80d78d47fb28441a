//! The JUnit builder's tests: elements per outcome, retries, run-level entries, failure text.

use quick_junit::{Report, TestCaseStatus};

use super::*;
use crate::events::{FailedAttempt, Outcome};

fn result(name: &str, outcome: Outcome, log: &str) -> CaseResult {
    CaseResult { area: "area".into(), ..CaseResult::sample(name, outcome, Duration::from_millis(1500), log) }
}

/// What the final report knows of a run that ended.
fn finished() -> RunInfo {
    RunInfo { complete: true, ..RunInfo::default() }
}

#[test]
fn a_report_written_before_the_run_ended_has_a_failing_run_entry() {
    let passed = result("a::passes", Outcome::Passed, "");
    let snapshot = to_xml(&build(std::slice::from_ref(&passed), &RunInfo::default())).unwrap_or_default();
    assert!(snapshot.contains(r#"<error message="the run has not finished"#), "{snapshot}");
    assert!(snapshot.contains(r#"type="incomplete""#) && snapshot.contains(r#"complete" value="false""#), "{snapshot}");
    let last = to_xml(&build(&[passed], &finished())).unwrap_or_default();
    assert!(!last.contains("<error") && !last.contains("incomplete"), "{last}");
}

fn failed_attempt(message: &str) -> FailedAttempt {
    FailedAttempt {
        outcome: Outcome::Failed { message: message.into(), kind: "assertion", check: None },
        duration: Duration::from_millis(20),
        started: std::time::Instant::now(),
        log: format!("log of {message}"),
    }
}

#[test]
fn retried_cases_stay_one_testcase_with_flaky_or_rerun_elements() {
    let mut flaky = result("a::flaky", Outcome::Passed, "");
    flaky.retries = vec![failed_attempt("503 first")];
    let mut broken =
        result("a::broken", Outcome::Failed { message: "still 503".into(), kind: "assertion", check: None }, "");
    broken.retries = vec![failed_attempt("503 one"), failed_attempt("503 two")];
    let (flaky_clone, broken_clone) = (flaky.clone(), broken.clone());
    let xml = to_xml(&build(&[flaky, broken], &finished())).unwrap_or_default();
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<flakyFailure").count(), 1, "{xml}");
    assert_eq!(xml.matches("<rerunFailure").count(), 2, "{xml}");
    assert!(xml.contains(r#"message="503 first" type="assertion""#), "{xml}");
    let strict =
        to_xml(&build(&[flaky_clone.clone(), broken_clone.clone()], &RunInfo { strict_junit4: true, ..finished() }))
            .unwrap_or_default();
    assert!(!strict.contains("flakyFailure") && !strict.contains("rerunFailure"), "{strict}");
    assert!(strict.contains("attempt 1 of 2 failed: assertion: 503 first"), "{strict}");
    assert!(strict.contains("attempt 2 of 3 failed: assertion: 503 two"), "{strict}");
    let parsed = Report::deserialize_from_str(&xml).map_err(|e| e.to_string());
    let cases: Vec<_> = parsed.iter().flat_map(|r| &r.test_suites).flat_map(|s| &s.test_cases).collect();
    assert!(matches!(&cases[0].status, TestCaseStatus::Success { flaky_runs } if flaky_runs.len() == 1));
}

#[test]
fn outcomes_map_to_junit_elements_and_logs_only_for_failures() {
    let results = vec![
        result("a::pass", Outcome::Passed, "passing log"),
        result(
            "a::fail",
            Outcome::Failed { message: "boom\nmore".into(), kind: "assertion", check: None },
            "failing log",
        ),
        result("a::slow", Outcome::TimedOut { after: Duration::from_secs(3) }, "slow log"),
        result("a::skip", Outcome::Skipped { reason: "interrupted".into() }, ""),
    ];
    let info = RunInfo { properties: vec![("target".into(), "http://x".into())], complete: true, ..finished() };
    let xml = to_xml(&build(&results, &info)).unwrap_or_default();
    let head = xml.lines().find(|l| l.starts_with("<testsuites")).unwrap_or_default();
    assert!(!head.contains("skipped="), "{head}");
    assert!(xml.contains(r#"<testsuite name="gateway-e2e" tests="4" skipped="1""#), "{xml}");
    assert!(xml.contains(r#"<failure message="boom" type="assertion">"#), "{xml}");
    assert!(xml.contains(r#"type="timeout""#), "{xml}");
    assert!(xml.contains("<skipped>interrupted</skipped>"), "{xml}");
    assert!(xml.contains("failing log") && xml.contains("slow log"));
    assert!(!xml.contains("passing log"));
    assert!(xml.contains(r#"<property name="complete" value="true"/>"#));
    assert!(xml.contains(r#"classname="area""#) && xml.contains(r#"time="1.500""#));
}

#[test]
fn cap_marks_truncation_on_a_char_boundary() {
    let text = "é".repeat(100);
    let capped = cap(&text, 51);
    assert!(capped.starts_with(&"é".repeat(25)));
    assert!(capped.contains("[log truncated: 150 of 200 bytes omitted]"), "{capped}");
    assert_eq!(cap("short", 10), "short");
}

#[test]
fn clean_drops_noncharacters() {
    assert_eq!(clean("a\u{FFFE}b\u{FFFF}c"), "abc");
}

#[test]
fn failure_text_has_the_place_and_the_end_of_the_log_capped() {
    let check = Some("suites/src/gateway/support.rs:57".into());
    let mut failed =
        result("a::bad", Outcome::Failed { message: "expected 201, got 500".into(), kind: "assertion", check }, "");
    failed.location = "suites/src/gateway/a.rs:42".into();
    failed.log = format!("first line\n{}\nlast line\n", "x".repeat(40 * 1024));
    let mut slow = result("a::slow", Outcome::TimedOut { after: Duration::from_secs(3) }, "sent POST /alerts\n");
    slow.location = "suites/src/gateway/b.rs:7".into();
    let xml = to_xml(&build(&[failed, slow], &finished())).unwrap_or_default();
    let report = Report::deserialize_from_str(&xml).map_err(|e| e.to_string());
    let cases: Vec<_> = report.iter().flat_map(|r| &r.test_suites).flat_map(|s| &s.test_cases).collect();
    let text = |i: usize| match &cases[i].status {
        TestCaseStatus::NonSuccess { description: Some(d), .. } => d.as_str().to_owned(),
        other => panic!("no failure text: {other:?}"),
    };
    let bad = text(0);
    let places = "case at suites/src/gateway/a.rs:42\ncheck at suites/src/gateway/support.rs:57";
    assert!(bad.starts_with(&format!("expected 201, got 500\n{places}\n\nlog:\n")), "{}", &bad[..200]);
    assert!(bad.trim_end().ends_with("last line") && !bad.contains("first line"), "the end of the log is kept");
    assert!(
        bad.contains("earlier bytes of the log omitted]") && bad.len() <= FAILURE_TEXT_LIMIT + 100,
        "{}",
        bad.len()
    );
    assert_eq!(text(1), "timed out after 3s\ncase at suites/src/gateway/b.rs:7\n\nlog:\nsent POST /alerts");
    assert!(xml.contains(r#"file="suites/src/gateway/a.rs""#), "{xml}");
}

#[test]
fn flaky_result_fail_makes_flaky_cases_failures_with_the_detail_in_stack_traces() {
    let mut flaky = result("a::flaky", Outcome::Passed, "");
    flaky.location = "suites/src/gateway/f.rs:3".into();
    flaky.retries = vec![failed_attempt("503 first")];
    let passing = to_xml(&build(std::slice::from_ref(&flaky), &finished())).unwrap_or_default();
    assert!(!passing.contains("<failure"), "{passing}");
    assert!(
        passing.contains("<stackTrace>503 first\ncase at suites/src/gateway/f.rs:3\n\nlog:\nlog of 503 first"),
        "{passing}"
    );
    let info = RunInfo { flaky_fails: true, ..finished() };
    let failing = to_xml(&build(&[flaky], &info)).unwrap_or_default();
    assert!(
        failing.contains(
            r#"<failure message="flaky: passed on attempt 2 after failing (--flaky-result fail)" type="flaky">"#
        ),
        "{failing}"
    );
    assert!(failing.contains("earlier attempts: assertion: 503 first"), "{failing}");
    assert!(failing.contains("<flakyFailure") && !failing.contains("rerunFailure"), "{failing}");
    let report = Report::deserialize_from_str(&failing).map_err(|e| e.to_string());
    assert_eq!(report.map(|r| r.failures), Ok(1));
}

#[test]
fn report_counts_hold_the_run_level_entries_and_flaky_failures() {
    let stats = RunStats { passed: 5, failed: 1, timed_out: 0, skipped: 2, flaky: 2 };
    let gate = GateResult {
        started: std::time::Instant::now(),
        url: "http://x/readyz".into(),
        attempts: 3,
        elapsed: Duration::from_secs(1),
        error: Some("never healthy".into()),
    };
    let info = RunInfo { gate: Some(gate), cut_short: Some("SIGINT".into()), ..finished() };
    assert_eq!(info.failed_entries(), 2);
    assert_eq!(info.report_counts(&stats), (5, 3, 2));
    assert_eq!(RunInfo { flaky_fails: true, ..info }.report_counts(&stats), (3, 5, 2));
}
