//! JUnit XML (quick-junit): maps case results to `testsuites > testsuite > testcase`, keeps the
//! output schema-valid (junit-4 XSD), and writes the file atomically (temp file + rename).

use std::path::Path;
use std::time::{Duration, SystemTime};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use crate::events::{CaseResult, FailedAttempt, GateResult, Outcome};

/// Most bytes of a case log written to `system-out`.
pub const SYSTEM_OUT_LIMIT: usize = 64 * 1024;

/// The failure kind of a case cancelled while it ran (a signal stopped the run).
pub const INTERRUPTED: &str = "interrupted";

/// Name of the suite holding the cases.
pub const SUITE_NAME: &str = "gateway-e2e";

/// What the report says about the run as a whole.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// `name=value` suite properties (target URL, jobs, partition, runner version, ...).
    pub properties: Vec<(String, String)>,
    /// When the run started.
    pub started_at: Option<SystemTime>,
    /// Wall time so far.
    pub wall: Duration,
    /// The health gate, once it ran.
    pub gate: Option<GateResult>,
    /// Whether the run finished (false while it is still going).
    pub complete: bool,
    /// Why the run ended before its cases did (signal, suite timeout): the report then carries a
    /// failing `@run` entry, so no reader shows a cut-short run as green.
    pub cut_short: Option<String>,
    /// The target (embedded double, kube client) could not be set up.
    pub setup_error: Option<String>,
    /// Write only what the junit-4 XSD knows: retried attempts go to system-out instead of
    /// flakyFailure/rerunFailure elements (`--junit-strict`).
    pub strict_junit4: bool,
}

/// Failure to write the report.
#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    /// The XML could not be produced.
    #[error("could not serialize the JUnit report: {0}")]
    Serialize(#[from] quick_junit::SerializeError),
    /// The file could not be written.
    #[error(
        "could not write the JUnit report to {path}: {source}; check that the directory exists and is writable, or pass --junit PATH"
    )]
    Io {
        /// Target path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// Builds the report for `results`.
pub fn build(results: &[CaseResult], info: &RunInfo) -> Report {
    let mut report = Report::new(SUITE_NAME);
    report.set_time(info.wall);
    if let Some((gate, Some(error))) = info.gate.as_ref().map(|g| (g, &g.error)) {
        let mut setup = TestSuite::new("@setup");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status
            .set_message(clean(error.lines().next().unwrap_or_default()))
            .set_type("health-gate")
            .set_description(clean(error));
        let mut case = TestCase::new("health-gate", status);
        case.set_classname("@setup").set_time(gate.elapsed);
        setup.add_test_case(case).set_time(gate.elapsed);
        stamp(&mut setup, info.started_at);
        report.add_test_suite(setup);
    }
    if let Some(error) = &info.setup_error {
        let mut setup = TestSuite::new("@setup");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(clean(first_line(error))).set_type("target-setup").set_description(clean(error));
        let mut case = TestCase::new("target-setup", status);
        case.set_classname("@setup").set_time(Duration::ZERO);
        setup.add_test_case(case).set_time(Duration::ZERO);
        stamp(&mut setup, info.started_at);
        report.add_test_suite(setup);
    }
    if let Some(reason) = &info.cut_short {
        let mut run = TestSuite::new("@run");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(clean(&format!("the run did not finish: {reason}"))).set_type("interrupted");
        let mut case = TestCase::new("run", status);
        case.set_classname("@run").set_time(info.wall);
        run.add_test_case(case).set_time(info.wall);
        stamp(&mut run, info.started_at);
        report.add_test_suite(run);
    }
    let mut suite = TestSuite::new(SUITE_NAME);
    for (name, value) in &info.properties {
        suite.add_property((clean(name), clean(value)));
    }
    suite.add_property(("complete", if info.complete { "true" } else { "false" }));
    suite.add_test_cases(results.iter().map(|r| test_case(r, info.strict_junit4)));
    suite.set_time(info.wall);
    stamp(&mut suite, info.started_at);
    report.add_test_suite(suite);
    report
}

fn stamp(suite: &mut TestSuite, started_at: Option<SystemTime>) {
    if let Some(at) = started_at {
        suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(at).fixed_offset());
    }
    suite.extra.insert("hostname".into(), clean(&hostname()).into());
}

fn test_case(result: &CaseResult, strict: bool) -> TestCase {
    let status = match &result.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed { message, kind } => {
            // A case cut off by an interrupt did not fail its assertions: an error, as Ginkgo writes it.
            let nature = if *kind == INTERRUPTED { NonSuccessKind::Error } else { NonSuccessKind::Failure };
            let mut status = TestCaseStatus::non_success(nature);
            let text =
                if result.location.is_empty() { message.clone() } else { format!("{message}\nat {}", result.location) };
            status.set_message(clean(first_line(message))).set_type(*kind).set_description(clean(&text));
            status
        }
        Outcome::TimedOut { after } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("timed out after {after:?}")).set_type("timeout");
            status
        }
        Outcome::Skipped { reason } => {
            // junit-4's <skipped> takes text, not a message attribute.
            let mut status = TestCaseStatus::skipped();
            status.set_description(clean(reason));
            status
        }
    };
    let mut status = status;
    // A retried case stays one testcase: earlier failed attempts become <flakyFailure> (it passed
    // in the end) or <rerunFailure> (it never passed) — or, for strict junit-4 consumers, lines
    // of its system-out.
    let mut out = String::new();
    if strict {
        for (i, attempt) in result.retries.iter().enumerate() {
            out.push_str(&format!(
                "attempt {} of {} failed: {}\n",
                i + 1,
                result.retries.len() + 1,
                describe(&attempt.outcome)
            ));
            out.push_str(&attempt.log);
        }
    } else {
        status.add_reruns(result.retries.iter().map(rerun));
    }
    let mut case = TestCase::new(clean(&result.name), status);
    case.set_classname(clean(&result.area)).set_time(result.duration);
    if result.outcome.is_failure() {
        out.push_str(&result.log);
    }
    if !out.is_empty() {
        case.set_system_out(clean(&cap(&out, SYSTEM_OUT_LIMIT)));
    }
    case
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed { message, kind } => format!("{kind}: {}", first_line(message)),
        Outcome::TimedOut { after } => format!("timeout after {after:?}"),
        Outcome::Passed => "passed".to_owned(),
        Outcome::Skipped { reason } => format!("skipped: {reason}"),
    }
}

fn rerun(attempt: &FailedAttempt) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    match &attempt.outcome {
        Outcome::Failed { message, kind } => {
            rerun.set_message(clean(first_line(message))).set_type(*kind).set_description(clean(message));
        }
        Outcome::TimedOut { after } => {
            rerun.set_message(format!("timed out after {after:?}")).set_type("timeout");
        }
        Outcome::Passed | Outcome::Skipped { .. } => {}
    }
    rerun.set_time(attempt.duration);
    if !attempt.log.is_empty() {
        rerun.set_system_out(clean(&cap(&attempt.log, SYSTEM_OUT_LIMIT)));
    }
    rerun
}

/// Writes `report` to `path` atomically: a temp file in the same directory, then a rename.
pub fn write_atomic(report: &Report, path: &Path) -> Result<(), JunitError> {
    let xml = to_xml(report)?;
    super::atomic::write(path, xml.as_bytes())
        .map_err(|source| JunitError::Io { path: path.display().to_string(), source })
}

/// Serializes `report` as junit-4 XSD-valid XML. quick-junit always writes a `skipped` count on
/// `<testsuites>`, an attribute that schema does not allow (each `<testsuite>` keeps its own).
pub fn to_xml(report: &Report) -> Result<String, JunitError> {
    let xml = report.to_string()?;
    let Some(start) = xml.find("<testsuites") else { return Ok(xml) };
    let end = xml[start..].find('>').map_or(xml.len(), |i| start + i);
    let Some(attr) = xml[start..end].find(" skipped=\"").map(|i| start + i) else { return Ok(xml) };
    let value_end = xml[attr + 10..end].find('"').map_or(end, |i| attr + 10 + i + 1);
    Ok(format!("{}{}", &xml[..attr], &xml[value_end..]))
}

/// Removes what XML 1.0 cannot carry and quick-junit leaves in (U+FFFE, U+FFFF); quick-junit
/// itself strips ANSI escapes and C0 controls.
pub fn clean(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}')).collect()
}

/// The first `limit` bytes of `text` (on a char boundary) plus a marker when cut.
pub fn cap(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[log truncated: {} of {} bytes omitted]\n", &text[..end], text.len() - end, text.len())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, outcome: Outcome, log: &str) -> CaseResult {
        CaseResult {
            name: name.into(),
            area: "area".into(),
            location: String::new(),
            outcome,
            duration: Duration::from_millis(1500),
            log: log.into(),
            started: std::time::Instant::now(),
            lane: 0,
            retries: Vec::new(),
        }
    }

    fn failed_attempt(message: &str) -> FailedAttempt {
        FailedAttempt {
            outcome: Outcome::Failed { message: message.into(), kind: "assertion" },
            duration: Duration::from_millis(20),
            started: std::time::Instant::now(),
            log: format!("log of {message}"),
        }
    }

    #[test]
    fn retried_cases_stay_one_testcase_with_flaky_or_rerun_elements() {
        let mut flaky = result("a::flaky", Outcome::Passed, "");
        flaky.retries = vec![failed_attempt("503 first")];
        let mut broken = result("a::broken", Outcome::Failed { message: "still 503".into(), kind: "assertion" }, "");
        broken.retries = vec![failed_attempt("503 one"), failed_attempt("503 two")];
        let (flaky_clone, broken_clone) = (flaky.clone(), broken.clone());
        let xml = to_xml(&build(&[flaky, broken], &RunInfo::default())).unwrap_or_default();
        assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
        assert_eq!(xml.matches("<flakyFailure").count(), 1, "{xml}");
        assert_eq!(xml.matches("<rerunFailure").count(), 2, "{xml}");
        assert!(xml.contains(r#"message="503 first" type="assertion""#), "{xml}");
        let strict = to_xml(&build(
            &[flaky_clone.clone(), broken_clone.clone()],
            &RunInfo { strict_junit4: true, ..RunInfo::default() },
        ))
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
            result("a::fail", Outcome::Failed { message: "boom\nmore".into(), kind: "assertion" }, "failing log"),
            result("a::slow", Outcome::TimedOut { after: Duration::from_secs(3) }, "slow log"),
            result("a::skip", Outcome::Skipped { reason: "interrupted".into() }, ""),
        ];
        let info =
            RunInfo { properties: vec![("target".into(), "http://x".into())], complete: true, ..RunInfo::default() };
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
}
