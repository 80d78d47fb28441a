//! JUnit XML (quick-junit), the run as a whole: `testsuites > testsuite > testcase`, the failing
//! `@setup`/`@run` entries that make a run that never started or never finished red, the suite
//! properties, and the atomic write. How one case maps to a `<testcase>` is in `testcase`.

use std::path::Path;
use std::time::{Duration, SystemTime};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::testcase::{first_line, test_case};
use crate::events::{CaseResult, GateResult, RunFacts, RunStats};

pub use super::testcase::{FAILURE_TEXT_LIMIT, INTERRUPTED, SYSTEM_OUT_LIMIT, cap};

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
    /// `--flaky-result fail`: a case that passed only on a retry is a failure in the report.
    pub flaky_fails: bool,
}

impl RunInfo {
    /// The failing run-level entries (`@setup` health gate or target, `@run`) the report holds.
    pub fn failed_entries(&self) -> usize {
        let gate = self.gate.as_ref().is_some_and(|g| g.error.is_some());
        usize::from(gate) + usize::from(self.setup_error.is_some()) + usize::from(self.cut_short.is_some())
    }

    /// Passed, failed and skipped as the report counts them: run-level entries and (with
    /// `--flaky-result fail`) flaky cases among the failures.
    pub fn report_counts(&self, stats: &RunStats) -> (usize, usize, usize) {
        let flaky = if self.flaky_fails { stats.flaky } else { 0 };
        (stats.passed - flaky, stats.failed + flaky + self.failed_entries(), stats.skipped)
    }
}

/// The suite properties that describe a run (`complete` and `iteration` are added as it goes).
pub fn properties(facts: &RunFacts) -> Vec<(String, String)> {
    let mut properties = vec![
        ("target".to_owned(), facts.gateway_url.clone()),
        ("embedded".to_owned(), facts.embedded.to_string()),
        ("jobs".to_owned(), facts.workers.jobs.to_string()),
        ("partition".to_owned(), facts.partition.clone().unwrap_or_else(|| "none".to_owned())),
        ("runner.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
    ];
    if let Some(seed) = facts.seed {
        properties.push(("seed".to_owned(), seed.to_string()));
    }
    properties.push(("retries".to_owned(), facts.retries.to_string()));
    if let Some(labels) = &facts.label_filter {
        properties.push(("label-filter".to_owned(), labels.clone()));
    }
    if let Some((dir, _)) = &facts.artifacts {
        properties.push(("artifacts".to_owned(), dir.clone()));
    }
    properties
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

/// The text of the failing `@run` entry of a report written before the run ended.
pub const INCOMPLETE: &str = "the run has not finished: this report was written while it ran, and the \
runner ended (killed?) before it could write the final one";

/// Builds the report for `results`.
pub fn build(results: &[CaseResult], info: &RunInfo) -> Report {
    let mut report = Report::new(SUITE_NAME);
    report.set_time(info.wall);
    if let Some((gate, Some(error))) = info.gate.as_ref().map(|g| (g, &g.error)) {
        let entry = entry("@setup", "health-gate", NonSuccessKind::Failure, error, gate.elapsed);
        report.add_test_suite(entry_suite(entry, info.started_at));
    }
    if let Some(error) = &info.setup_error {
        let entry = entry("@setup", "target-setup", NonSuccessKind::Error, error, Duration::ZERO);
        report.add_test_suite(entry_suite(entry, info.started_at));
    }
    let unfinished = match (&info.cut_short, info.complete) {
        (Some(reason), _) => Some(("interrupted", format!("the run did not finish: {reason}"))),
        // A report written while the run goes on: if it is the last one written, the runner was
        // killed, so it must not read as green.
        (None, false) => Some(("incomplete", INCOMPLETE.to_owned())),
        (None, true) => None,
    };
    if let Some((ty, text)) = unfinished {
        let mut entry = entry("@run", ty, NonSuccessKind::Error, &text, info.wall);
        entry.name = "run".into();
        report.add_test_suite(entry_suite(entry, info.started_at));
    }
    let mut suite = TestSuite::new(SUITE_NAME);
    for (name, value) in &info.properties {
        suite.add_property((clean(name), clean(value)));
    }
    suite.add_property(("complete", if info.complete { "true" } else { "false" }));
    suite.add_test_cases(results.iter().map(|r| test_case(r, info)));
    suite.set_time(info.wall);
    stamp(&mut suite, info.started_at);
    report.add_test_suite(suite);
    report
}

/// A failing run-level entry named `ty` in class `class` (`@setup`, `@run`) saying `text`.
fn entry(class: &str, ty: &str, kind: NonSuccessKind, text: &str, time: Duration) -> TestCase {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(clean(first_line(text))).set_type(ty).set_description(clean(text));
    let mut case = TestCase::new(ty, status);
    case.set_classname(class).set_time(time);
    case
}

/// A suite of its own for a run-level entry, named after its class.
fn entry_suite(entry: TestCase, started_at: Option<SystemTime>) -> TestSuite {
    let name = entry.classname.as_ref().map_or_else(String::new, |c| c.as_str().to_owned());
    let mut suite = TestSuite::new(name);
    let time = entry.time.unwrap_or_default();
    suite.add_test_case(entry).set_time(time);
    stamp(&mut suite, started_at);
    suite
}

fn stamp(suite: &mut TestSuite, started_at: Option<SystemTime>) {
    if let Some(at) = started_at {
        suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(at).fixed_offset());
    }
    suite.extra.insert("hostname".into(), clean(&hostname()).into());
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests;
