//! `runner merge-junit OUT IN...`: merges shard reports into one junit-4-valid file. Each input
//! suite stays a suite (with its properties, so each shard's target and partition survive),
//! labelled by the shard's partition; a case reported by several inputs is kept once, its worst
//! outcome winning.

use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{Report, TestCaseStatus, TestSuite};

use crate::report::junit::{self, JunitError};

/// Merging failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// An input could not be read or parsed.
    #[error("cannot read merge-junit input {path}: {problem}; pass the JUnit report files the shards wrote (--junit)")]
    Input {
        /// Input path.
        path: String,
        /// Why.
        problem: String,
    },
    /// The output path cannot take a report (a directory, device, FIFO, or an unwritable place).
    #[error(transparent)]
    OutputPath(#[from] crate::config::ConfigError),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] JunitError),
}

/// What a merge did, for the closing message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Inputs merged.
    pub inputs: usize,
    /// Distinct cases written.
    pub cases: usize,
    /// Copies dropped because another input reported the same case with a worse (or the same)
    /// outcome.
    pub duplicates: Vec<String>,
}

/// Largest input read (a regular file only: a FIFO or device would block or never end). A shard
/// report of thousands of cases is a few MiB; every failure text in it is capped.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Longest total a merged report states: JUnit times are f64 seconds, and a sum of absurd input
/// times near 2^64 s would be written as a value no reader (this one included) accepts back.
const MAX_TOTAL_TIME: Duration = Duration::from_secs(u64::MAX / 2);

/// Reads `inputs`, merges them and writes `out` atomically.
pub fn merge_files(out: &Path, inputs: &[PathBuf]) -> Result<MergeSummary, MergeError> {
    crate::config::check_report_path("merge-junit OUT", out)?;
    let mut reports = Vec::new();
    for path in inputs {
        let fail = |problem: String| MergeError::Input { path: path.display().to_string(), problem };
        let xml = crate::config::read_small_file(path, MAX_INPUT_BYTES).map_err(fail)?;
        let report = Report::deserialize_from_str(&xml).map_err(|e| fail(e.to_string()))?;
        reports.push((path.clone(), report));
    }
    let (merged, summary) = merge(&reports);
    junit::write_atomic(&merged, out)?;
    Ok(summary)
}

/// Merges parsed reports (pure). A case reported by several inputs keeps its worst copy: a
/// failure or error over a pass, a pass over a skip (the first of equals).
pub fn merge(reports: &[(PathBuf, Report)]) -> (Report, MergeSummary) {
    let kept = worst_copies(reports);
    let mut merged = Report::new(junit::SUITE_NAME);
    let mut summary = MergeSummary { inputs: reports.len(), cases: kept.len(), ..MergeSummary::default() };
    let mut time = Duration::ZERO;
    for (index, (path, report)) in reports.iter().enumerate() {
        for (suite_index, suite) in report.test_suites.iter().enumerate() {
            let label = shard_label(suite, index, path);
            let mut out = TestSuite::new(format!("{} [{label}]", suite.name.as_str()));
            out.add_properties(suite.properties.iter().cloned());
            out.add_property(quick_junit::Property::new("source", path.display().to_string()));
            out.timestamp = suite.timestamp;
            out.time = suite.time;
            out.extra = suite.extra.clone();
            for (case_index, case) in suite.test_cases.iter().enumerate() {
                if kept.get(&key(case)).is_some_and(|k| k.1 == (index, suite_index, case_index)) {
                    out.add_test_case(case.clone());
                } else {
                    summary.duplicates.push(case.name.as_str().to_owned());
                }
            }
            time = time.saturating_add(suite.time.unwrap_or_default());
            merged.add_test_suite(out);
        }
    }
    merged.set_time(time.min(MAX_TOTAL_TIME));
    (merged, summary)
}

type CaseKey = (Option<String>, String);

fn key(case: &quick_junit::TestCase) -> CaseKey {
    (case.classname.as_ref().map(|c| c.as_str().to_owned()), case.name.as_str().to_owned())
}

/// How bad an outcome is: skipped 0, passed 1, failed or errored 2.
fn severity(status: &TestCaseStatus) -> u8 {
    match status {
        TestCaseStatus::Skipped { .. } => 0,
        TestCaseStatus::Success { .. } => 1,
        TestCaseStatus::NonSuccess { .. } => 2,
    }
}

/// For each case, where its worst copy is: (severity, (input, suite, case)).
fn worst_copies(reports: &[(PathBuf, Report)]) -> std::collections::BTreeMap<CaseKey, (u8, (usize, usize, usize))> {
    let mut kept = std::collections::BTreeMap::new();
    for (index, (_, report)) in reports.iter().enumerate() {
        for (suite_index, suite) in report.test_suites.iter().enumerate() {
            for (case_index, case) in suite.test_cases.iter().enumerate() {
                let candidate = (severity(&case.status), (index, suite_index, case_index));
                kept.entry(key(case))
                    .and_modify(|k: &mut (u8, (usize, usize, usize))| {
                        if candidate.0 > k.0 {
                            *k = candidate;
                        }
                    })
                    .or_insert(candidate);
            }
        }
    }
    kept
}

fn shard_label(suite: &TestSuite, index: usize, path: &Path) -> String {
    suite
        .properties
        .iter()
        .find(|p| p.name.as_str() == "partition" && p.value.as_str() != "none")
        .map(|p| p.value.as_str().to_owned())
        .unwrap_or_else(|| format!("input {}: {}", index + 1, path.display()))
}

#[cfg(test)]
mod tests {
    use quick_junit::{NonSuccessKind, TestCase};

    use super::*;

    fn report(partition: &str, cases: &[(&str, TestCaseStatus)]) -> Report {
        let mut suite = TestSuite::new("gateway-e2e");
        suite.add_property(("partition", partition));
        suite.set_time(Duration::from_secs(2));
        for (name, status) in cases {
            let mut case = TestCase::new(*name, status.clone());
            case.set_classname("area");
            suite.add_test_case(case);
        }
        let mut r = Report::new("gateway-e2e");
        r.add_test_suite(suite);
        r
    }

    #[test]
    fn shards_merge_with_counts_times_and_properties_per_shard() {
        let failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let inputs = vec![
            (PathBuf::from("a.xml"), report("slice:1/2", &[("x", TestCaseStatus::success()), ("y", failure.clone())])),
            (PathBuf::from("b.xml"), report("slice:2/2", &[("z", TestCaseStatus::success())])),
        ];
        let (merged, summary) = merge(&inputs);
        assert_eq!(summary.cases, 3);
        assert!(summary.duplicates.is_empty());
        assert_eq!((merged.tests, merged.failures), (3, 1));
        assert_eq!(merged.time, Some(Duration::from_secs(4)));
        let names: Vec<&str> = merged.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["gateway-e2e [slice:1/2]", "gateway-e2e [slice:2/2]"]);
        assert!(merged.test_suites[1].properties.iter().any(|p| p.value.as_str() == "slice:2/2"));
    }

    #[test]
    fn a_case_in_two_inputs_is_kept_once_preferring_a_run_over_a_skip() {
        let inputs = vec![
            (PathBuf::from("a.xml"), report("slice:1/2", &[("x", TestCaseStatus::skipped())])),
            (PathBuf::from("b.xml"), report("slice:2/2", &[("x", TestCaseStatus::success())])),
            (PathBuf::from("c.xml"), report("slice:2/2", &[("x", TestCaseStatus::success())])),
        ];
        let (merged, summary) = merge(&inputs);
        assert_eq!(summary.cases, 1);
        assert_eq!(summary.duplicates.len(), 2);
        let kept: Vec<_> = merged.test_suites.iter().flat_map(|s| &s.test_cases).collect();
        assert_eq!(kept.len(), 1);
        assert!(matches!(kept[0].status, TestCaseStatus::Success { .. }));
    }

    #[test]
    fn a_failure_in_any_input_wins_over_a_pass_whatever_the_order() {
        let failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
        for order in [[0, 1], [1, 0]] {
            let copies = [TestCaseStatus::success(), failure.clone()];
            let inputs: Vec<_> = order
                .iter()
                .map(|i| (PathBuf::from(format!("{i}.xml")), report("none", &[("x", copies[*i].clone())])))
                .collect();
            let (merged, summary) = merge(&inputs);
            assert_eq!((merged.tests, merged.failures), (1, 1), "order {order:?}");
            assert_eq!(summary.duplicates, vec!["x".to_owned()]);
        }
    }
}
