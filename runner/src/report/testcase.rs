//! One case as a JUnit `<testcase>`: the failure element's text a reader can act on (what failed,
//! where the case and the failing check are, the end of its log, all capped), the `file` attribute, earlier attempts as
//! `flakyFailure`/`rerunFailure` with the detail in `<stackTrace>` too (Jenkins reads it there),
//! and `--flaky-result fail` making a flaky case a failure.

use quick_junit::{FlakyOrRerun, NonSuccessKind, TestCase, TestCaseStatus, TestRerun};

use super::junit::{RunInfo, clean};
use crate::events::{CaseResult, FailedAttempt, Outcome};

/// Most bytes of a case log written to `system-out`.
pub const SYSTEM_OUT_LIMIT: usize = 64 * 1024;

/// Most bytes of a failure element's text (GitHub's annotations and GitLab's view show it).
pub const FAILURE_TEXT_LIMIT: usize = 16 * 1024;

/// The failure kind of a case cancelled while it ran (a signal stopped the run).
pub const INTERRUPTED: &str = "interrupted";

/// The `<testcase>` of `result`.
pub fn test_case(result: &CaseResult, info: &RunInfo) -> TestCase {
    let mut status = status(result, info.flaky_fails);
    // A retried case stays one testcase: earlier failed attempts become <flakyFailure> (it passed
    // in the end) or <rerunFailure> (it never passed) — or, for strict junit-4 consumers, lines
    // of its system-out.
    let mut out = String::new();
    if info.strict_junit4 {
        for (i, attempt) in result.retries.iter().enumerate() {
            let of = result.retries.len() + 1;
            out.push_str(&format!("attempt {} of {of} failed: {}\n", i + 1, describe(&attempt.outcome)));
            out.push_str(&attempt.log);
        }
    } else {
        status.add_reruns(result.retries.iter().map(|attempt| rerun(attempt, &result.location)));
        if result.is_flaky() {
            status.set_rerun_kind(FlakyOrRerun::Flaky);
        }
    }
    let mut case = TestCase::new(clean(&result.name), status);
    case.set_classname(clean(&result.area)).set_time(result.duration);
    if let Some((file, _)) = result.location.rsplit_once(':') {
        case.extra.insert("file".into(), clean(file).into());
    }
    if result.outcome.is_failure() {
        out.push_str(&result.log);
    }
    if !out.is_empty() {
        case.set_system_out(clean(&cap(&out, SYSTEM_OUT_LIMIT)));
    }
    case
}

/// The status of the last attempt; `flaky_fails` turns a pass after failures into a failure.
fn status(result: &CaseResult, flaky_fails: bool) -> TestCaseStatus {
    let failing = |nature, ty: &str, message: &str, headline: &str| {
        let mut status = TestCaseStatus::non_success(nature);
        let text = failure_text(headline, &result.location, result.outcome.check(), &result.log);
        status.set_message(clean(first_line(message))).set_type(ty).set_description(clean(&text));
        status
    };
    match &result.outcome {
        Outcome::Passed if flaky_fails && result.is_flaky() => {
            let message =
                format!("flaky: passed on attempt {} after failing (--flaky-result fail)", result.retries.len() + 1);
            let attempts: Vec<String> = result.retries.iter().map(|a| describe(&a.outcome)).collect();
            let headline = format!("{message}\nearlier attempts: {}", attempts.join("; "));
            failing(NonSuccessKind::Failure, "flaky", &message, &headline)
        }
        Outcome::Passed => TestCaseStatus::success(),
        // A case cut off by an interrupt did not fail its assertions: an error, as Ginkgo writes it.
        Outcome::Failed { message, kind, .. } if *kind == INTERRUPTED => {
            failing(NonSuccessKind::Error, kind, message, message)
        }
        Outcome::Failed { message, kind, .. } => failing(NonSuccessKind::Failure, kind, message, message),
        Outcome::TimedOut { after } => {
            let message = format!("timed out after {after:?}");
            failing(NonSuccessKind::Failure, "timeout", &message, &message)
        }
        Outcome::Skipped { reason } => {
            // junit-4's <skipped> takes text, not a message attribute.
            let mut status = TestCaseStatus::skipped();
            status.set_description(clean(reason));
            status
        }
    }
}

/// `headline`, where the case is (`case at file:line`) and the failing check (`check at
/// file:line`) when known, and the end of `log`, at most [`FAILURE_TEXT_LIMIT`] bytes: the log's
/// beginning gives way first.
pub fn failure_text(headline: &str, location: &str, check: Option<&str>, log: &str) -> String {
    let mut text = format!("{headline}{}", places(location, check));
    if !log.is_empty() {
        text.push_str("\n\nlog:\n");
        let room = FAILURE_TEXT_LIMIT.saturating_sub(text.len() + 64);
        text.push_str(&tail(log, room));
    }
    cap(&text, FAILURE_TEXT_LIMIT)
}

/// `\ncase at file:line` of the case and `\ncheck at file:line` of the failing check, each when
/// known.
pub fn places(location: &str, check: Option<&str>) -> String {
    let mut text = String::new();
    if !location.is_empty() {
        text.push_str(&format!("\ncase at {location}"));
    }
    if let Some(check) = check {
        text.push_str(&format!("\ncheck at {check}"));
    }
    text
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed { message, kind, .. } => format!("{kind}: {}", first_line(message)),
        Outcome::TimedOut { after } => format!("timeout after {after:?}"),
        Outcome::Passed => "passed".to_owned(),
        Outcome::Skipped { reason } => format!("skipped: {reason}"),
    }
}

fn rerun(attempt: &FailedAttempt, location: &str) -> TestRerun {
    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
    let headline = match &attempt.outcome {
        Outcome::Failed { message, kind, .. } => {
            rerun.set_message(clean(first_line(message))).set_type(*kind).set_description(clean(message));
            message.clone()
        }
        Outcome::TimedOut { after } => {
            let message = format!("timed out after {after:?}");
            rerun.set_message(message.clone()).set_type("timeout");
            message
        }
        Outcome::Passed | Outcome::Skipped { .. } => String::new(),
    };
    rerun.set_stack_trace(clean(&failure_text(&headline, location, attempt.outcome.check(), &attempt.log)));
    rerun.set_time(attempt.duration);
    if !attempt.log.is_empty() {
        rerun.set_system_out(clean(&cap(&attempt.log, SYSTEM_OUT_LIMIT)));
    }
    rerun
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

/// The last `limit` bytes of `text` (from a char boundary), a marker first when cut.
pub fn tail(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[… {start} earlier bytes of the log omitted]\n{}", &text[start..])
}

/// The first line of `text`.
pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
