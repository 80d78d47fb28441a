//! `runner merge-junit OUT IN...`: merges shard reports into one junit-4-valid file. Each input
//! suite stays a suite (with its properties, so each shard's target and partition survive),
//! labelled by the shard's partition; a case reported by several inputs is kept once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use quick_junit::{Report, TestCaseStatus, TestSuite};

use crate::report::junit::{self, JunitError};

/// Merging failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// An input could not be read or parsed.
    #[error("cannot read JUnit report {path}: {problem}; pass the report files the shards wrote (--junit)")]
    Input {
        /// Input path.
        path: String,
        /// Why.
        problem: String,
    },
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
    /// Cases dropped because another input already reported them.
    pub duplicates: Vec<String>,
}

/// Reads `inputs`, merges them and writes `out` atomically.
pub fn merge_files(out: &Path, inputs: &[PathBuf]) -> Result<MergeSummary, MergeError> {
    let mut reports = Vec::new();
    for path in inputs {
        let fail = |problem: String| MergeError::Input { path: path.display().to_string(), problem };
        let xml = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let report = Report::deserialize_from_str(&xml).map_err(|e| fail(e.to_string()))?;
        reports.push((path.clone(), report));
    }
    let (merged, summary) = merge(&reports);
    junit::write_atomic(&merged, out)?;
    Ok(summary)
}

/// Merges parsed reports (pure).
pub fn merge(reports: &[(PathBuf, Report)]) -> (Report, MergeSummary) {
    let mut merged = Report::new(junit::SUITE_NAME);
    let mut seen = BTreeSet::new();
    let mut summary = MergeSummary { inputs: reports.len(), ..MergeSummary::default() };
    let mut time = Duration::ZERO;
    for (index, (path, report)) in reports.iter().enumerate() {
        for suite in &report.test_suites {
            let label = shard_label(suite, index, path);
            let mut out = TestSuite::new(format!("{} [{label}]", suite.name.as_str()));
            out.add_properties(suite.properties.iter().cloned());
            out.add_property(quick_junit::Property::new("source", path.display().to_string()));
            out.timestamp = suite.timestamp;
            out.time = suite.time;
            out.extra = suite.extra.clone();
            for case in &suite.test_cases {
                let key = (case.classname.as_ref().map(|c| c.as_str().to_owned()), case.name.as_str().to_owned());
                if seen.contains(&key) {
                    summary.duplicates.push(case.name.as_str().to_owned());
                    continue;
                }
                // A case skipped in one shard and run in another keeps the run.
                if matches!(case.status, TestCaseStatus::Skipped { .. }) && ran_elsewhere(reports, index, &key) {
                    summary.duplicates.push(case.name.as_str().to_owned());
                    continue;
                }
                seen.insert(key);
                out.add_test_case(case.clone());
            }
            time += suite.time.unwrap_or_default();
            merged.add_test_suite(out);
        }
    }
    merged.set_time(time);
    summary.cases = seen.len();
    (merged, summary)
}

fn ran_elsewhere(reports: &[(PathBuf, Report)], skip_index: usize, key: &(Option<String>, String)) -> bool {
    reports.iter().enumerate().filter(|(i, _)| *i != skip_index).any(|(_, (_, report))| {
        report.test_suites.iter().flat_map(|s| &s.test_cases).any(|c| {
            c.name.as_str() == key.1
                && c.classname.as_ref().map(|c| c.as_str().to_owned()) == key.0
                && !matches!(c.status, TestCaseStatus::Skipped { .. })
        })
    })
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
}
