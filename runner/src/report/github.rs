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
pub fn summary(results: &[CaseResult], stats: &RunStats, info: &RunInfo, wall: Duration, junit: &Junit) -> String {
    let c = stats;
    // As the report and the exit code count: set-up and gate entries, a cut-short run and (with
    // `--flaky-result fail`) flaky cases are failures; so is a report that could not be written.
    let (passed, failed, skipped) = info.report_counts(stats);
    let verdict = if failed > 0 || junit.failed { "❌" } else { "✅" };
    let mut md = format!(
        "### {verdict} gateway e2e{}\n\n| passed | failed | timed out | flaky | skipped | wall |\n|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {:.1}s |\n\n",
        run_label(info),
        passed,
        failed.saturating_sub(c.timed_out),
        c.timed_out,
        c.flaky,
        skipped,
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
    if let Some(error) = &info.setup_error {
        let first = error.lines().next().unwrap_or_default();
        let _ = writeln!(md, "**The target could not be set up:** {}\n", markdown_cell(first));
    }
    if junit.failed {
        let path = junit.path.display().to_string();
        let _ = writeln!(md, "**The JUnit report could not be written** to `{}`.\n", markdown_cell(&path));
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
    let _ = writeln!(md, "JUnit: `{}`", junit.path.display());
    md
}

/// Where the JUnit report went, and whether its final write failed.
pub struct Junit<'a> {
    /// The report's path.
    pub path: &'a Path,
    /// The final write failed (the run then exits 1).
    pub failed: bool,
}

/// Writes what `output` asks for; problems become warnings in the returned text, never errors.
pub fn emit(output: &GithubOutput, results: &[CaseResult], stats: &RunStats, info: &RunInfo, junit: &Junit) -> String {
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
        let junit = Junit { path: &self.junit, failed: state.junit_error.is_some() };
        let text = emit(&self.output, &state.results, &state.stats, &state.info, &junit);
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

/// Text safe inside a Markdown table cell: no line breaks, pipes, backticks, HTML, links or controls.
fn markdown_cell(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => '¦',
            '`' => '\'',
            '<' => '‹',
            '>' => '›',
            // No link or image from remote text: `[x](url)` and `![](url)` stay plain text.
            '[' => '⟦',
            ']' => '⟧',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(SHOWN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests;
