//! GitHub Actions output: a Markdown step summary (appended to `$GITHUB_STEP_SUMMARY`) and one
//! `::error` annotation per failed case. Every byte that came from the gateway or a case is
//! escaped the way GitHub documents for workflow commands, so remote text can neither end an
//! annotation early nor start a command of its own.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::junit::RunInfo;
use crate::events::{CaseResult, Outcome, RunStats};

/// Longest failure text shown per case in the summary and in an annotation.
const SHOWN_CHARS: usize = 300;
/// Most failed cases listed in the summary (the JUnit report has them all).
const LISTED_FAILURES: usize = 50;

/// What to write for GitHub, resolved from the environment by `config`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GithubOutput {
    /// `$GITHUB_STEP_SUMMARY`: the file the summary is appended to.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_ACTIONS=true`: print `::error` annotations for failed cases.
    pub annotations: bool,
}

/// Escapes a workflow command's message (`%`, CR, LF), after making control characters visible.
pub fn escape_data(text: &str) -> String {
    let visible: String =
        text.chars().map(|c| if c.is_control() && c != '\n' && c != '\r' { '\u{FFFD}' } else { c }).collect();
    visible.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value (data escapes plus `:` and `,`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error` line per failed or timed-out case.
pub fn annotations(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.outcome.is_failure())
        .map(|r| {
            // `file=…,line=…` of the failing check when known (that is where the failure is), else
            // of the case's registration.
            let place = match where_failed(r).rsplit_once(':') {
                Some((file, line)) if line.parse::<u32>().is_ok() => {
                    format!("file={},line={line},", escape_property(file))
                }
                _ => String::new(),
            };
            format!("::error {place}title={}::{}", escape_property(&r.name), escape_data(&first_line(r)))
        })
        .collect()
}

/// The Markdown summary: counts, the health gate, failed cases with their first line and where
/// they failed (the check, else the case), flaky cases, the slowest cases, and where the report is.
pub fn summary(results: &[CaseResult], stats: &RunStats, info: &RunInfo, wall: Duration, junit: &Path) -> String {
    let c = stats;
    let verdict = if c.failed > 0 || info.cut_short.is_some() || gate_error(info).is_some() { "❌" } else { "✅" };
    let mut md = format!(
        "### {verdict} gateway e2e{}\n\n| passed | failed | timed out | flaky | skipped | wall |\n|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {:.1}s |\n\n",
        run_label(info),
        c.passed,
        c.failed - c.timed_out,
        c.timed_out,
        c.flaky,
        c.skipped,
        wall.as_secs_f64()
    );
    match &info.gate {
        Some(gate) if gate.error.is_none() => {
            let _ = writeln!(
                md,
                "Health gate: `{}` ready after {} request(s), {:.1}s\n",
                markdown_cell(&gate.url),
                gate.attempts,
                gate.elapsed.as_secs_f64()
            );
        }
        _ => {}
    }
    if let Some(error) = gate_error(info) {
        let _ = writeln!(md, "**Health gate failed:** {}\n", markdown_cell(error.lines().next().unwrap_or_default()));
    }
    if let Some(reason) = &info.cut_short {
        let _ = writeln!(md, "**The run did not finish:** {}\n", markdown_cell(reason));
    }
    let failed: Vec<&CaseResult> = results.iter().filter(|r| r.outcome.is_failure()).collect();
    if !failed.is_empty() {
        md.push_str("| failed case | why | where |\n|---|---|---|\n");
        for r in failed.iter().take(LISTED_FAILURES) {
            let at = where_failed(r);
            let place = if at.is_empty() { String::new() } else { format!("`{}`", markdown_cell(at)) };
            let _ = writeln!(md, "| `{}` | {} | {place} |", markdown_cell(&r.name), markdown_cell(&first_line(r)));
        }
        if failed.len() > LISTED_FAILURES {
            let _ = writeln!(md, "\n… and {} more in the JUnit report.", failed.len() - LISTED_FAILURES);
        }
        md.push('\n');
    }
    let flaky: Vec<&str> = results.iter().filter(|r| r.is_flaky()).map(|r| r.name.as_str()).collect();
    if !flaky.is_empty() {
        let _ = writeln!(md, "**Flaky** (failed, then passed on retry): {}\n", flaky.join(", "));
    }
    let mut slowest: Vec<&CaseResult> = results.iter().filter(|r| !r.duration.is_zero()).collect();
    slowest.sort_by(|a, b| b.duration.cmp(&a.duration).then_with(|| a.name.cmp(&b.name)));
    let slow: Vec<String> =
        slowest.iter().take(5).map(|r| format!("`{}` {:.2}s", r.name, r.duration.as_secs_f64())).collect();
    if !slow.is_empty() {
        let _ = writeln!(md, "Slowest: {}\n", slow.join(", "));
    }
    let _ = writeln!(md, "JUnit: `{}`", junit.display());
    md
}

/// Writes what `output` asks for; problems become warnings in the returned text, never errors.
pub fn emit(output: &GithubOutput, results: &[CaseResult], stats: &RunStats, info: &RunInfo, junit: &Path) -> String {
    let wall = info.wall;
    let mut text = String::new();
    if output.annotations {
        for line in annotations(results) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    if let Some(path) = &output.step_summary {
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| f.write_all(summary(results, stats, info, wall, junit).as_bytes()));
        if let Err(e) = appended {
            text.push_str(&format!("warning: could not append the step summary to {}: {e}\n", path.display()));
        }
    }
    text
}

/// The GitHub sink: annotations and the step summary when the run ends.
pub struct GithubSink {
    output: GithubOutput,
    junit: PathBuf,
    out: Box<dyn std::io::Write + Send>,
}

impl GithubSink {
    /// Annotations to `out`, the summary to `output.step_summary`.
    pub fn new(output: GithubOutput, junit: PathBuf, out: Box<dyn std::io::Write + Send>) -> Self {
        Self { output, junit, out }
    }
}

impl super::Sink for GithubSink {
    fn finish(&mut self, state: &mut super::RunState) {
        let text = emit(&self.output, &state.results, &state.stats, &state.info, &self.junit);
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

/// What the run was against, for the heading: the embedded double or the target URL, and the
/// partition when there is one (each CI shard writes its own summary).
fn run_label(info: &RunInfo) -> String {
    let property = |name: &str| info.properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut label = match (property("embedded"), property("target")) {
        (Some("true"), _) => "embedded double".to_owned(),
        (_, Some(target)) => format!("`{}`", markdown_cell(target)),
        _ => return String::new(),
    };
    if let Some(partition) = property("partition").filter(|p| *p != "none") {
        let _ = write!(label, ", shard {}", markdown_cell(partition));
    }
    format!(": {label}")
}

fn gate_error(info: &RunInfo) -> Option<&str> {
    info.gate.as_ref().and_then(|g| g.error.as_deref())
}

/// `file:line` of the failing check when known, else of the case (empty when neither is).
fn where_failed(result: &CaseResult) -> &str {
    result.outcome.check().unwrap_or(&result.location)
}

fn first_line(result: &CaseResult) -> String {
    let text = match &result.outcome {
        Outcome::Failed { message, kind, .. } => format!("{kind}: {}", message.lines().next().unwrap_or_default()),
        Outcome::TimedOut { after } => format!("timed out after {after:?}"),
        _ => String::new(),
    };
    text.chars().take(SHOWN_CHARS).collect()
}

/// Text safe inside a Markdown table cell: no line breaks, pipes, backticks, HTML or controls.
fn markdown_cell(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => '¦',
            '`' => '\'',
            '<' => '‹',
            '>' => '›',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(SHOWN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::GateResult;

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
            Path::new("j.xml"),
        );
        assert!(md.contains("| `area::fails` | assertion: got 500 | `suites/src/gateway/helpers.rs:57` |"), "{md}");
    }

    #[test]
    fn summary_lists_counts_failures_and_the_gate_without_remote_markup() {
        let results = [
            result(
                "area::fails",
                Outcome::Failed { message: "a | b <script> `x`".into(), kind: "assertion", check: None },
            ),
            result("area::passes", Outcome::Passed),
        ];
        let info = RunInfo { cut_short: Some("interrupted by SIGINT".into()), ..RunInfo::default() };
        let md = summary(&results, &stats(&results), &info, Duration::from_secs(2), Path::new("target/e2e/junit.xml"));
        assert!(md.starts_with("### ❌ gateway e2e"), "{md}");
        assert!(md.contains("| 1 | 1 | 0 | 0 | 0 | 2.0s |"), "{md}");
        assert!(md.contains("| `area::fails` | assertion: a ¦ b ‹script› 'x' |"), "{md}");
        assert!(md.contains("did not finish:** interrupted by SIGINT"), "{md}");
        let ok = summary(&results[1..], &stats(&results[1..]), &RunInfo::default(), Duration::ZERO, Path::new("j.xml"));
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
            Path::new("j.xml"),
        );
        assert!(md.starts_with("### ❌ gateway e2e: `http://localhost:8080`, shard slice:2/3\n"), "{md}");
        assert!(md.contains("| `area::fails` | assertion: got 500 | `suites/src/gateway/x.rs:42` |"), "{md}");
        assert!(md.contains("Health gate: `http://127.0.0.1:8080/readyz` ready after 3 request(s), 1.5s"), "{md}");

        let refused = GateResult { error: Some("503 from /readyz\nmore".into()), ..gate };
        let info = RunInfo { gate: Some(refused), ..RunInfo::default() };
        let md = summary(&[], &RunStats::default(), &info, Duration::ZERO, Path::new("j.xml"));
        assert!(md.starts_with("### ❌") && md.contains("**Health gate failed:** 503 from /readyz\n"), "{md}");
        assert!(!md.contains("ready after"), "{md}");
    }

    #[test]
    fn outside_github_nothing_is_written() {
        let results =
            [result("area::fails", Outcome::Failed { message: HOSTILE.into(), kind: "assertion", check: None })];
        let text = emit(&GithubOutput::default(), &results, &stats(&results), &RunInfo::default(), Path::new("j.xml"));
        assert!(text.is_empty(), "no annotations without GITHUB_ACTIONS=true: {text}");
    }

    #[test]
    fn emit_appends_to_the_step_summary_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").unwrap_or_else(|e| panic!("{e}"));
        let output = GithubOutput { step_summary: Some(path.clone()), annotations: false };
        let results = [result("area::passes", Outcome::Passed)];
        let text = emit(&output, &results, &stats(&results), &RunInfo::default(), Path::new("j.xml"));
        assert!(text.is_empty(), "{text}");
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(written.starts_with("earlier step\n### ✅ gateway e2e"), "{written}");
    }
}
