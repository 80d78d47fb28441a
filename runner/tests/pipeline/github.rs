//! The runner in GitHub Actions, end to end: a run with failing cases writes one `::error`
//! annotation per failed case and appends a step summary that agrees with its JUnit report;
//! outside GitHub (neither variable set) it writes no workflow command at all.

use std::path::Path;

use quick_junit::{NonSuccessKind, TestCaseStatus};

use super::support::{Behaviour, DEADLINE, command, fake_gateway, junit_path, read_junit, run, texts};

/// Cases that all fail against a gateway answering 500, with no cluster needed.
const FAILING: &str = "validation::";

/// Names of the cases JUnit has as failed or errored (not the run's own `@` entries).
fn failed_in_junit(junit: &Path) -> Vec<String> {
    let report = read_junit(junit);
    let cases = report.test_suites.iter().filter(|s| !s.name.as_str().starts_with('@')).flat_map(|s| &s.test_cases);
    cases
        .filter(|c| {
            matches!(c.status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure | NonSuccessKind::Error, .. })
        })
        .map(|c| c.name.as_str().to_owned())
        .collect()
}

fn workflow_commands(stdout: &str, stderr: &str) -> Vec<String> {
    stdout.lines().chain(stderr.lines()).filter(|l| l.trim_start().starts_with("::")).map(str::to_owned).collect()
}

#[tokio::test]
async fn on_github_each_failed_case_is_annotated_and_summarised_as_junit_has_it() {
    let url = fake_gateway(Behaviour::Garbage);
    let (dir, junit) = junit_path();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "an earlier step's summary\n").unwrap_or_else(|e| panic!("{e}"));
    let junit_arg = junit.to_string_lossy().into_owned();
    let mut cmd = command(&[FAILING, "--gateway-url", &url, "--kube", "none", "--junit", &junit_arg]);
    cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary);
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("runner: {e}"));
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let failed = failed_in_junit(&junit);
    assert!(!failed.is_empty(), "the 500s fail cases: {stderr}");
    let commands = workflow_commands(&stdout, &stderr);
    assert_eq!(commands.len(), failed.len(), "one annotation per failed case: {commands:#?}");
    for name in &failed {
        let title = format!(",title={}::", name.replace(':', "%3A"));
        let line = commands.iter().find(|l| l.contains(&title)).unwrap_or_else(|| panic!("{name}: {commands:#?}"));
        assert!(line.starts_with("::error file=suites/src/gateway/") && line.contains(".rs,line="), "{line}");
    }

    let md = std::fs::read_to_string(&summary).unwrap_or_else(|e| panic!("no summary: {e}"));
    let (earlier, ours) = md.split_once("### ❌ gateway e2e").unwrap_or_else(|| panic!("{md}"));
    assert_eq!(earlier, "an earlier step's summary\n", "appended, not replaced");
    assert!(ours.starts_with(&format!(": `{url}`\n")), "the heading names the target: {ours}");
    let counts = ours.lines().nth(4).unwrap_or_default();
    let columns: Vec<&str> = counts.split('|').map(str::trim).collect();
    assert_eq!(columns.get(2).copied(), Some(failed.len().to_string().as_str()), "failed column: {ours}");
    assert!(ours.contains("Health gate: `"), "{ours}");
    for name in &failed {
        let row = ours.lines().find(|l| l.starts_with(&format!("| `{name}` |"))).unwrap_or_else(|| panic!("{ours}"));
        assert!(row.contains("| `suites/src/gateway/") && row.ends_with(" |"), "{row}");
    }
    assert!(ours.contains(&format!("JUnit: `{junit_arg}`")), "{ours}");
}

#[tokio::test]
async fn outside_github_a_failing_run_writes_no_workflow_command() {
    let url = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let output = run(&[FAILING, "--gateway-url", &url, "--kube", "none", "--junit", &junit.to_string_lossy()]).await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!failed_in_junit(&junit).is_empty(), "{stderr}");
    let commands = workflow_commands(&stdout, &stderr);
    assert!(commands.is_empty(), "no GITHUB_ACTIONS, no annotations: {commands:#?}");
}
