//! Tests of the GitHub sink: annotations, the step summary, and nothing outside GitHub.

use super::*;
use crate::events::GateResult;

/// A report at `path` that was written.
fn junit(path: &str) -> Junit<'_> {
    Junit { path: Path::new(path), failed: false }
}

/// The pool's counts of `results`, as `RunFinished` carries them.
fn stats(results: &[CaseResult]) -> RunStats {
    let mut stats = RunStats::default();
    results.iter().for_each(|r| stats.add(r));
    stats
}

fn result(name: &str, outcome: Outcome) -> CaseResult {
    CaseResult::sample(name, outcome, Duration::from_millis(10), "")
}

const HOSTILE: &str = "got 500: 100% bad\r\n::add-mask::x\n::error::fake, title: y\u{1b}[2J";

#[test]
fn annotations_escape_remote_text_so_no_command_hides_inside() {
    let results = [
        result("area::fails", Outcome::Failed { message: HOSTILE.into(), kind: "assertion", check: None }),
        result("area::passes", Outcome::Passed),
    ];
    let lines = annotations(&results);
    assert_eq!(lines.len(), 1);
    let placed = CaseResult { location: "suites/src/gateway/x.rs:42".into(), ..results[0].clone() };
    let with_place = annotations(&[placed]);
    assert!(with_place[0].starts_with("::error file=suites/src/gateway/x.rs,line=42,title="), "{with_place:?}");
    let line = &lines[0];
    assert!(line.starts_with("::error title=area%3A%3Afails::assertion: got 500: 100%25 bad"), "{line}");
    assert!(!line.contains('\n') && !line.contains('\r') && !line.contains('\u{1b}'), "{line:?}");
    assert_eq!(line.matches("::").count(), 2, "only the command's own separators: {line}");
}

#[test]
fn an_annotation_lands_on_the_failing_check_when_its_place_is_known() {
    let check = Some("suites/src/gateway/helpers.rs:57".into());
    let failed = CaseResult {
        location: "suites/src/gateway/x.rs:42".into(),
        ..result("area::fails", Outcome::Failed { message: "got 500".into(), kind: "assertion", check })
    };
    let lines = annotations(std::slice::from_ref(&failed));
    assert!(lines[0].starts_with("::error file=suites/src/gateway/helpers.rs,line=57,title="), "{lines:?}");
    let md = summary(
        std::slice::from_ref(&failed),
        &stats(std::slice::from_ref(&failed)),
        &RunInfo::default(),
        Duration::ZERO,
        &junit("j.xml"),
    );
    assert!(md.contains("| `area::fails` | assertion: got 500 | `suites/src/gateway/helpers.rs:57` |"), "{md}");
}

#[test]
fn summary_lists_counts_failures_and_the_gate_without_remote_markup() {
    let results = [
        result("area::fails", Outcome::Failed { message: "a | b <script> `x`".into(), kind: "assertion", check: None }),
        result("area::passes", Outcome::Passed),
    ];
    let info = RunInfo { cut_short: Some("interrupted by SIGINT".into()), ..RunInfo::default() };
    let md = summary(&results, &stats(&results), &info, Duration::from_secs(2), &junit("target/e2e/junit.xml"));
    assert!(md.starts_with("### ❌ gateway e2e"), "{md}");
    // The failed case and the run's own failing entry (it was cut short), as the report counts.
    assert!(md.contains("| 1 | 2 | 0 | 0 | 0 | 2.0s |"), "{md}");
    assert!(md.contains("| `area::fails` | assertion: a ¦ b ‹script› 'x' |"), "{md}");
    assert!(md.contains("did not finish:** interrupted by SIGINT"), "{md}");
    let ok = summary(&results[1..], &stats(&results[1..]), &RunInfo::default(), Duration::ZERO, &junit("j.xml"));
    assert!(ok.starts_with("### ✅"), "{ok}");
}

#[test]
fn summary_names_where_a_failed_case_is_and_how_the_gate_went() {
    let failed = CaseResult {
        location: "suites/src/gateway/x.rs:42".into(),
        ..result("area::fails", Outcome::Failed { message: "got 500".into(), kind: "assertion", check: None })
    };
    let gate = GateResult {
        started: std::time::Instant::now(),
        url: "http://127.0.0.1:8080/readyz".into(),
        attempts: 3,
        elapsed: Duration::from_millis(1500),
        error: None,
    };
    let properties = [("target", "http://localhost:8080"), ("embedded", "false"), ("partition", "slice:2/3")];
    let properties = properties.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let info = RunInfo { gate: Some(gate.clone()), properties, ..RunInfo::default() };
    let md = summary(
        std::slice::from_ref(&failed),
        &stats(std::slice::from_ref(&failed)),
        &info,
        Duration::ZERO,
        &junit("j.xml"),
    );
    assert!(md.starts_with("### ❌ gateway e2e: `http://localhost:8080`, shard slice:2/3\n"), "{md}");
    assert!(md.contains("| `area::fails` | assertion: got 500 | `suites/src/gateway/x.rs:42` |"), "{md}");
    assert!(md.contains("Health gate: `http://127.0.0.1:8080/readyz` ready after 3 request(s), 1.5s"), "{md}");

    let refused = GateResult { error: Some("503 from /readyz\nmore".into()), ..gate };
    let info = RunInfo { gate: Some(refused), ..RunInfo::default() };
    let md = summary(&[], &RunStats::default(), &info, Duration::ZERO, &junit("j.xml"));
    assert!(md.starts_with("### ❌") && md.contains("**Health gate failed:** 503 from /readyz\n"), "{md}");
    assert!(!md.contains("ready after"), "{md}");
}

#[test]
fn outside_github_nothing_is_written() {
    let results = [result("area::fails", Outcome::Failed { message: HOSTILE.into(), kind: "assertion", check: None })];
    let text = emit(&GithubOutput::default(), &results, &stats(&results), &RunInfo::default(), &junit("j.xml"));
    assert!(text.is_empty(), "no annotations without GITHUB_ACTIONS=true: {text}");
}

#[test]
fn emit_appends_to_the_step_summary_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "earlier step\n").unwrap_or_else(|e| panic!("{e}"));
    let output = GithubOutput { step_summary: Some(path.clone()), annotations: false };
    let results = [result("area::passes", Outcome::Passed)];
    let text = emit(&output, &results, &stats(&results), &RunInfo::default(), &junit("j.xml"));
    assert!(text.is_empty(), "{text}");
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(written.starts_with("earlier step\n### ✅ gateway e2e"), "{written}");
}

#[test]
fn the_verdict_is_the_exit_codes_for_set_up_failures_failing_flakes_and_lost_reports() {
    let set_up = RunInfo { setup_error: Some("no cluster\nmore".into()), ..RunInfo::default() };
    let md = summary(&[], &RunStats::default(), &set_up, Duration::ZERO, &junit("j.xml"));
    assert!(md.starts_with("### ❌") && md.contains("**The target could not be set up:** no cluster\n"), "{md}");

    let mut flaky = result("area::flaky", Outcome::Passed);
    flaky.retries = vec![crate::events::FailedAttempt {
        outcome: Outcome::Failed { message: "503".into(), kind: "assertion", check: None },
        duration: Duration::ZERO,
        started: std::time::Instant::now(),
        log: String::new(),
    }];
    let results = [flaky];
    let strict = RunInfo { flaky_fails: true, ..RunInfo::default() };
    let md = summary(&results, &stats(&results), &strict, Duration::ZERO, &junit("j.xml"));
    assert!(md.starts_with("### ❌") && md.contains("| 0 | 1 | 0 | 1 | 0 |"), "{md}");

    let passed = [result("area::passes", Outcome::Passed)];
    let lost = Junit { path: Path::new("j.xml"), failed: true };
    let md = summary(&passed, &stats(&passed), &RunInfo::default(), Duration::ZERO, &lost);
    assert!(md.starts_with("### ❌") && md.contains("could not be written"), "{md}");
}

#[test]
fn remote_text_makes_no_link_or_image_in_the_summary() {
    let message = "see [here](https://evil.example) ![x](https://evil.example/p.png)";
    let failed = [result("area::fails", Outcome::Failed { message: message.into(), kind: "assertion", check: None })];
    let md = summary(&failed, &stats(&failed), &RunInfo::default(), Duration::ZERO, &junit("j.xml"));
    assert!(!md.contains("](") && !md.contains("[here"), "{md}");
}
