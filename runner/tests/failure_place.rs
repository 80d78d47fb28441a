//! Where a failure is, as each report of a real run tells it: a case that fails inside shared
//! helpers is reported at the line of its own failing check (the helpers are `#[track_caller]`),
//! next to the case's registration, in the JUnit failure text, the console's failure block, the
//! GitHub annotation and the libtest JSON event.

mod support;

use quick_junit::TestCaseStatus;
use support::*;

const CASE: &str = "validation::malformed_json_is_400_problem";

/// The `file:line` after `prefix` on a line of `text`.
fn place_after<'a>(text: &'a str, prefix: &str) -> Option<(&'a str, u32)> {
    let rest = text.lines().find_map(|l| l.strip_prefix(prefix))?;
    let (file, line) = rest.rsplit_once(':')?;
    Some((file, line.parse().ok()?))
}

#[tokio::test]
async fn a_failed_case_is_reported_at_its_failing_check_in_every_report() {
    // The garbage gateway answers 500 where the case expects a 400 problem.
    let gateway = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let junit_arg = junit.to_string_lossy().into_owned();
    let args = ["--exact", CASE, "--gateway-url", &gateway, "--kube", "none", "--junit", &junit_arg];
    let mut cmd = command(&[&args[..], &["--format", "json", "-Z", "unstable-options"]].concat());
    cmd.env("GITHUB_ACTIONS", "true");
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let report = read_junit(&junit);
    let case = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find(|c| CASE.ends_with(c.name.as_str()))
        .unwrap_or_else(|| panic!("no testcase for {CASE}"));
    let text = match &case.status {
        TestCaseStatus::NonSuccess { description: Some(text), .. } => text.as_str(),
        other => panic!("{CASE} has no failure text: {other:?}"),
    };
    let (case_file, case_line) = place_after(text, "case at ").unwrap_or_else(|| panic!("no case place: {text}"));
    let (check_file, check_line) = place_after(text, "check at ").unwrap_or_else(|| panic!("no check place: {text}"));
    // The failing check is in the case's body, above its registration — not in the helpers.
    assert_eq!(check_file, case_file, "{text}");
    assert!(check_file.starts_with("suites/src/gateway/"), "relative to the workspace root: {text}");
    assert!(check_line < case_line, "{text}");
    let source = std::fs::read_to_string(format!("{}/../{check_file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{check_file} is not a workspace file: {e}"));
    assert!(source.lines().nth(check_line as usize - 1).is_some_and(|l| !l.trim().is_empty()), "{text}");

    let check = format!("{check_file}:{check_line}");
    assert!(stderr.contains(&format!("\ncheck at {check}\n")), "console failure block: {stderr}");
    let title = CASE.replace(':', "%3A");
    let annotation = format!("::error file={check_file},line={check_line},title={title}::");
    assert!(stderr.contains(&annotation), "no annotation at the check: {stderr}");
    let failed = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["type"] == "test" && e["event"] == "failed")
        .unwrap_or_else(|| panic!("no failed event: {stdout}"));
    let event_text = failed["stdout"].as_str().unwrap_or_default();
    assert!(event_text.contains(&format!("\ncheck at {check}\n")), "libtest JSON: {event_text}");
}
