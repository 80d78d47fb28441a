//! Plain-text rendering of run events: the per-case line, failures with their logs, and the
//! summary. Pure functions returning strings, so tests read exactly what users see.

use super::junit::RunInfo;
use crate::events::{CaseResult, Outcome, RunStats};

/// `STATUS [duration] name` with a `[done/total]` prefix, one line per finished case.
pub fn case_line(result: &CaseResult, done: usize, total: usize, color: bool) -> String {
    let width = total.to_string().len();
    // (word, ANSI color): green, magenta, red, red, yellow.
    let (status, code) = match &result.outcome {
        Outcome::Passed if result.is_flaky() => ("FLAKY", "35"),
        Outcome::Passed => ("PASS", "32"),
        Outcome::Failed { .. } => ("FAIL", "31"),
        Outcome::TimedOut { .. } => ("TIMEOUT", "31"),
        Outcome::Skipped { .. } => ("SKIP", "33"),
    };
    let status = if color { format!("\x1b[1;{code}m{status:<7}\x1b[0m") } else { format!("{status:<7}") };
    let mut line =
        format!("[{done:>width$}/{total}] {status} [{:>8.3}s] {}", result.duration.as_secs_f64(), result.name);
    if let Outcome::Skipped { reason } = &result.outcome {
        line.push_str(&format!(" ({})", printable(reason)));
    }
    line
}

/// The failure section: each failed or timed-out case with its message, the place of the failing
/// check, and its log.
pub fn failures(results: &[CaseResult]) -> String {
    let mut text = String::new();
    for r in results.iter().filter(|r| r.outcome.is_failure()) {
        let message = match &r.outcome {
            Outcome::Failed { message, kind, .. } => format!("{kind}: {}", printable(message)),
            Outcome::TimedOut { after } => format!("timeout: did not finish within {after:?}"),
            _ => String::new(),
        };
        let at = if r.location.is_empty() { String::new() } else { format!(" (at {})", r.location) };
        text.push_str(&format!("\n--- {}{at} ---\n{message}\n", r.name));
        if let Some(check) = r.outcome.check() {
            text.push_str(&format!("check at {check}\n"));
        }
        if !r.log.is_empty() {
            text.push_str("log:\n");
            text.push_str(&indent(&r.log));
        }
    }
    text
}

/// `text` with every line indented by two spaces (and made [`printable`]).
pub fn indent(text: &str) -> String {
    printable(text).lines().map(|line| format!("  {line}\n")).collect()
}

/// `text` safe for a terminal and a CI log: control characters other than newline and tab (ESC,
/// NUL, BEL, CR, DEL, the C1 range) become visible `\u{..}` escapes, so nothing a gateway sends
/// can move the cursor, clear the screen, set the window title or hide a line; and a line whose
/// first non-blank characters are `::` gets its first colon escaped, so no remote text is read as
/// a GitHub Actions workflow command (`::error`, `::add-mask::`, `::stop-commands::`); `##[`,
/// the older command syntax GitHub reads anywhere in a line, becomes `#\u{23}[`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    let command_line = |line: &str| line.trim_start().starts_with("::");
    if !text.chars().any(unsafe_char) && !text.split('\n').any(command_line) && !text.contains("##[") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut rest = line;
        if command_line(line) {
            let blank = line.len() - line.trim_start().len();
            out.push_str(&line[..blank]);
            out.push_str("\\u{3a}");
            rest = &line[blank + 1..];
        }
        for c in rest.chars() {
            if unsafe_char(c) {
                out.push_str(&c.escape_unicode().to_string());
            } else {
                out.push(c);
            }
        }
    }
    std::borrow::Cow::Owned(out.replace("##[", "#\\u{23}["))
}

/// The closing summary: flaky cases, the five slowest cases, and the counts as the JUnit report
/// has them (the pool's counts plus the failing run-level entries: gate, set-up, a cut-short run).
pub fn summary(results: &[CaseResult], stats: &RunStats, info: &RunInfo) -> String {
    let mut slowest: Vec<&CaseResult> = results.iter().filter(|r| !r.duration.is_zero()).collect();
    slowest.sort_by(|a, b| b.duration.cmp(&a.duration).then_with(|| a.name.cmp(&b.name)));
    let mut text = String::new();
    let flaky: Vec<&CaseResult> = results.iter().filter(|r| r.is_flaky()).collect();
    if !flaky.is_empty() {
        text.push_str("\nflaky cases (failed, then passed on retry):\n");
        for r in flaky {
            text.push_str(&format!("  {} (passed on attempt {})\n", r.name, r.retries.len() + 1));
        }
    }
    text.push_str("\nslowest cases:\n");
    for r in slowest.iter().take(5) {
        text.push_str(&format!("  {:>8.3}s {}\n", r.duration.as_secs_f64(), r.name));
    }
    let (passed, failed, skipped) = info.report_counts(stats);
    let mut run_level: Vec<&str> = Vec::new();
    if info.gate.as_ref().is_some_and(|g| g.error.is_some()) {
        run_level.push("the health gate");
    }
    if info.setup_error.is_some() {
        run_level.push("the target set-up");
    }
    if info.cut_short.is_some() {
        run_level.push("the run, cut short");
    }
    let run_level = if run_level.is_empty() { String::new() } else { format!(" (with {})", run_level.join(", ")) };
    let flaky_counted = if info.flaky_fails { " (counted as failed)" } else { "" };
    text.push_str(&format!(
        "\nsummary: {passed} passed, {failed} failed{run_level}, {skipped} skipped\n{} timed out (counted as failed) · {} flaky{flaky_counted} · {} cases in {:.2}s\n",
        stats.timed_out,
        stats.flaky,
        stats.total(),
        info.wall.as_secs_f64()
    ));
    text
}

#[cfg(test)]
mod tests {

    use std::time::Duration;

    use super::*;

    fn result(name: &str, outcome: Outcome, ms: u64) -> CaseResult {
        CaseResult::sample(name, outcome, Duration::from_millis(ms), "GET /health\n200")
    }

    #[test]
    fn the_older_workflow_command_syntax_is_broken_anywhere_in_a_line() {
        let shown = printable("body: ##[add-mask]secret and ##[error]fake");
        assert!(!shown.contains("##["), "{shown}");
        assert!(shown.contains("#\\u{23}[add-mask]secret"), "{shown}");
    }

    #[test]
    fn gateway_bytes_cannot_steer_the_terminal() {
        let hostile = "a\u{1b}[2J\u{1b}]0;title\u{7}b\0c\rd\u{9b}e\tf\ng";
        let shown = printable(hostile);
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{shown:?}");
        assert!(shown.contains("\\u{1b}[2J") && shown.contains("\tf\ng"), "{shown:?}");
        let failed = result("a::x", Outcome::Failed { message: hostile.into(), kind: "assertion", check: None }, 1);
        let text = failures(&[CaseResult { log: hostile.into(), ..failed }]);
        assert!(!text.contains('\u{1b}') && !text.contains('\0'), "{text:?}");
        let skipped = result("a::y", Outcome::Skipped { reason: hostile.into() }, 1);
        assert!(!case_line(&skipped, 1, 1, false).contains('\u{1b}'));
        let commands = "::error file=x::owned\n  ::add-mask::secret\nok :: fine\n::stop-commands::t";
        let shown = printable(commands);
        assert!(shown.lines().all(|l| !l.trim_start().starts_with("::")), "{shown}");
        assert!(shown.contains("ok :: fine") && shown.contains("\\u{3a}:error"), "{shown}");
        let text = failures(&[result(
            "a::z",
            Outcome::Failed { message: commands.into(), kind: "assertion", check: None },
            1,
        )]);
        assert!(text.lines().all(|l| !l.trim_start().starts_with("::")), "{text}");
    }

    #[test]
    fn lines_summary_and_failures_read_as_expected() {
        let results = vec![
            result("a::ok", Outcome::Passed, 120),
            CaseResult {
                location: "suites/src/gateway/a.rs:40".into(),
                ..result(
                    "a::bad",
                    Outcome::Failed {
                        message: "expected 201, got 500".into(),
                        kind: "assertion",
                        check: Some("suites/src/gateway/a.rs:57".into()),
                    },
                    30,
                )
            },
            result("a::slow", Outcome::TimedOut { after: Duration::from_secs(2) }, 2000),
            result("a::skip", Outcome::Skipped { reason: "needs cluster access".into() }, 0),
        ];
        assert_eq!(case_line(&results[0], 1, 12, false), "[ 1/12] PASS    [   0.120s] a::ok");
        assert_eq!(case_line(&results[0], 1, 12, true), "[ 1/12] \x1b[1;32mPASS   \x1b[0m [   0.120s] a::ok");
        assert!(case_line(&results[3], 4, 4, false).ends_with("a::skip (needs cluster access)"));
        let mut stats = RunStats::default();
        results.iter().for_each(|r| stats.add(r));
        let info = RunInfo { wall: Duration::from_millis(2500), ..RunInfo::default() };
        let s = summary(&results, &stats, &info);
        assert!(s.contains("summary: 1 passed, 2 failed, 1 skipped\n"), "{s}");
        assert!(s.contains("1 timed out"), "{s}");
        let slow_pos = s.find("a::slow").unwrap_or(usize::MAX);
        let ok_pos = s.find("a::ok").unwrap_or(0);
        assert!(slow_pos < ok_pos, "slowest first: {s}");
        let f = failures(&results);
        assert!(
            f.contains(
                "--- a::bad (at suites/src/gateway/a.rs:40) ---\nassertion: expected 201, got 500\ncheck at suites/src/gateway/a.rs:57\nlog:\n  GET /health\n"
            ),
            "{f}"
        );
        assert!(f.contains("timeout: did not finish within 2s"));
        assert!(!f.contains("a::ok"));
    }

    #[test]
    fn the_summary_counts_the_gate_and_flaky_failures_as_the_report_does() {
        let skipped = result("a::s", Outcome::Skipped { reason: "not run: health gate failed".into() }, 0);
        let stats = RunStats { skipped: 3, ..RunStats::default() };
        let gate = crate::events::GateResult {
            started: std::time::Instant::now(),
            url: "http://x/readyz".into(),
            attempts: 4,
            elapsed: Duration::from_secs(1),
            error: Some("never ready".into()),
        };
        let info = RunInfo { gate: Some(gate), ..RunInfo::default() };
        let s = summary(std::slice::from_ref(&skipped), &stats, &info);
        assert!(s.contains("summary: 0 passed, 1 failed (with the health gate), 3 skipped\n"), "{s}");
        let flaky = RunStats { passed: 4, flaky: 1, ..RunStats::default() };
        let info = RunInfo { flaky_fails: true, ..RunInfo::default() };
        let s = summary(&[], &flaky, &info);
        assert!(
            s.contains("summary: 3 passed, 1 failed, 0 skipped\n") && s.contains("1 flaky (counted as failed)"),
            "{s}"
        );
    }
}
