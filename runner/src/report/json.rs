//! libtest's JSON event stream (`--format json -Z unstable-options`) on stdout, so rust-analyzer's
//! test explorer and other libtest readers see every case: `suite started`, `test started`, one
//! `ok`/`failed`/`ignored` per case (a failure's text, where the case and the failing check are,
//! and the log as `stdout`), `suite ok`/`failed` with the counts and `exec_time`.

use serde_json::{Value, json};

use super::junit::RunInfo;
use super::testcase::places;
use crate::events::{CaseResult, Outcome, RunStats};

/// `{"type":"suite","event":"started","test_count":N}`.
pub fn suite_started(total: usize) -> String {
    line(json!({ "type": "suite", "event": "started", "test_count": total }))
}

/// `{"type":"test","event":"started","name":...}`.
pub fn test_started(name: &str) -> String {
    line(json!({ "type": "test", "event": "started", "name": name }))
}

/// The event of a finished case; with `flaky_fails` a case that passed only on a retry failed.
pub fn test_finished(result: &CaseResult, flaky_fails: bool) -> String {
    let time = result.duration.as_secs_f64();
    let value = match &result.outcome {
        Outcome::Passed if flaky_fails && result.is_flaky() => json!({
            "type": "test", "name": result.name, "event": "failed", "exec_time": time,
            "stdout": format!("flaky: passed on attempt {} after failing (--flaky-result fail)\n", result.retries.len() + 1),
        }),
        Outcome::Passed => json!({ "type": "test", "name": result.name, "event": "ok", "exec_time": time }),
        Outcome::Skipped { reason } => {
            json!({ "type": "test", "name": result.name, "event": "ignored", "message": reason })
        }
        Outcome::Failed { message, kind, check } => json!({
            "type": "test", "name": result.name, "event": "failed", "exec_time": time,
            "stdout": format!("{kind}: {message}{}\n{}", places(&result.location, check.as_deref()), result.log),
        }),
        Outcome::TimedOut { after } => json!({
            "type": "test", "name": result.name, "event": "failed", "exec_time": time,
            "stdout": format!("timed out after {after:?}{}\n{}", places(&result.location, None), result.log),
        }),
    };
    line(value)
}

/// `{"type":"suite","event":"ok"|"failed",...}` with the cases' counts as the report has them;
/// `failed` also when the run itself failed (gate, set-up, interrupt, suite timeout).
pub fn suite_finished(stats: &RunStats, info: &RunInfo) -> String {
    let (passed, failed, ignored) = info.report_counts(stats);
    let entries = info.failed_entries();
    let event = if failed > 0 { "failed" } else { "ok" };
    line(json!({
        "type": "suite", "event": event, "passed": passed, "failed": failed - entries, "ignored": ignored,
        "measured": 0, "filtered_out": 0, "exec_time": info.wall.as_secs_f64(),
    }))
}

/// The libtest JSON sink, writing to `out` (stdout).
pub struct JsonSink {
    out: Box<dyn std::io::Write + Send>,
    /// `suite started` is written (a run that selected nothing writes it at the end).
    started: bool,
}

impl JsonSink {
    /// Events to `out`.
    pub fn new(out: Box<dyn std::io::Write + Send>) -> Self {
        Self { out, started: false }
    }

    fn write(&mut self, line: &str) {
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.flush();
    }
}

impl super::Sink for JsonSink {
    fn event(&mut self, event: &crate::events::Event, state: &super::RunState) {
        use crate::events::Event;
        match event {
            Event::RunStarted { total, .. } | Event::SetupFailed { total, .. } => {
                self.started = true;
                self.write(&suite_started(*total));
            }
            Event::CaseStarted { name } => self.write(&test_started(name)),
            Event::CaseFinished(result) => self.write(&test_finished(result, state.info.flaky_fails)),
            _ => {}
        }
    }

    fn finish(&mut self, state: &mut super::RunState) {
        if !self.started {
            self.write(&suite_started(0));
        }
        let line = suite_finished(&state.stats, &state.info);
        self.write(&line);
    }
}

/// One JSON line. `##[` (GitHub's older workflow-command syntax, read anywhere in a line) can
/// only come from a string a gateway or case wrote; its second `#` is written as `\u0023`, which
/// every JSON reader reads back as `#`.
fn line(value: Value) -> String {
    format!("{}\n", value.to_string().replace("##[", "#\\u0023["))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stats(results: &[CaseResult]) -> RunStats {
        let mut stats = RunStats::default();
        results.iter().for_each(|r| stats.add(r));
        stats
    }

    fn result(name: &str, outcome: Outcome) -> CaseResult {
        CaseResult::sample(name, outcome, Duration::from_millis(250), "GET /x\n")
    }

    #[test]
    fn no_line_carries_the_older_workflow_command_syntax() {
        let message = "##[add-mask]secret";
        let failed = result("a::f", Outcome::Failed { message: message.into(), kind: "assertion", check: None });
        let line = test_finished(&failed, false);
        assert!(!line.contains("##["), "{line}");
        let read: Value = serde_json::from_str(&line).unwrap_or_default();
        assert!(read["stdout"].as_str().is_some_and(|s| s.contains(message)), "JSON readers still read it: {line}");
    }

    #[test]
    fn every_line_is_one_libtest_event() {
        let results = [
            result("a::ok", Outcome::Passed),
            CaseResult {
                location: "suites/src/gateway/a.rs:40".into(),
                ..result(
                    "a::bad",
                    Outcome::Failed {
                        message: "expected 201\u{1b}".into(),
                        kind: "assertion",
                        check: Some("suites/src/gateway/a.rs:57".into()),
                    },
                )
            },
            result("a::skip", Outcome::Skipped { reason: "needs cluster access".into() }),
        ];
        let mut stream = suite_started(3) + &test_started("a::ok");
        for r in &results {
            stream.push_str(&test_finished(r, false));
        }
        let stats = stats(&results);
        stream.push_str(&suite_finished(&stats, &RunInfo { wall: Duration::from_secs(1), ..RunInfo::default() }));
        let events: Vec<Value> =
            stream.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
        assert_eq!(events.len(), 6);
        assert_eq!(events[0], json!({ "type": "suite", "event": "started", "test_count": 3 }));
        assert_eq!(events[2]["event"], "ok");
        assert_eq!(events[2]["exec_time"], 0.25);
        assert_eq!(events[3]["event"], "failed");
        let failed = events[3]["stdout"].as_str().unwrap_or_default();
        assert!(failed.starts_with("assertion: expected 201") && failed.ends_with("GET /x\n"), "{failed}");
        assert!(
            failed.contains("\ncase at suites/src/gateway/a.rs:40\ncheck at suites/src/gateway/a.rs:57\n"),
            "{failed}"
        );
        assert_eq!(events[4]["event"], "ignored");
        assert_eq!(events[4]["message"], "needs cluster access");
        let last = &events[5];
        assert_eq!(
            (last["event"].as_str(), last["passed"].as_u64(), last["failed"].as_u64(), last["ignored"].as_u64()),
            (Some("failed"), Some(1), Some(1), Some(1))
        );
        let ok = suite_finished(&self::stats(&results[..1]), &RunInfo::default());
        assert!(ok.contains("\"event\":\"ok\""));
        let cut = RunInfo { cut_short: Some("SIGINT".into()), ..RunInfo::default() };
        assert!(suite_finished(&self::stats(&results[..1]), &cut).contains("\"event\":\"failed\""));
    }

    #[test]
    fn flaky_cases_fail_with_flaky_result_fail() {
        let mut flaky = result("a::flaky", Outcome::Passed);
        flaky.retries.push(crate::events::FailedAttempt {
            outcome: Outcome::Failed { message: "503".into(), kind: "assertion", check: None },
            duration: Duration::ZERO,
            started: std::time::Instant::now(),
            log: String::new(),
        });
        assert!(test_finished(&flaky, false).contains("\"event\":\"ok\""));
        assert!(test_finished(&flaky, true).contains("\"event\":\"failed\""));
        let stats = stats(std::slice::from_ref(&flaky));
        let counts = |flaky_fails| {
            let line = suite_finished(&stats, &RunInfo { flaky_fails, ..RunInfo::default() });
            let value: Value = serde_json::from_str(&line).unwrap_or_default();
            (value["event"].clone(), value["passed"].as_u64(), value["failed"].as_u64())
        };
        assert_eq!(counts(false), (json!("ok"), Some(1), Some(0)));
        assert_eq!(counts(true), (json!("failed"), Some(0), Some(1)));
    }

    /// A `Write` whose bytes a test reads back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_suite_starts_and_ends_even_when_nothing_ran() {
        use super::super::{RunState, Sink};
        use crate::events::Event;
        for setup_failed in [false, true] {
            let out = Shared::default();
            let mut sink = JsonSink::new(Box::new(out.clone()));
            let mut state = RunState {
                results: Vec::new(),
                info: RunInfo::default(),
                stats: RunStats::default(),
                total: 0,
                zero: std::time::Instant::now(),
                ready: std::time::Instant::now(),
                junit_error: None,
                notes: Vec::new(),
            };
            if setup_failed {
                state.info.setup_error = Some("no cluster".into());
                sink.event(&Event::SetupFailed { error: "no cluster".into(), total: 0 }, &state);
            }
            sink.finish(&mut state);
            let text =
                String::from_utf8_lossy(&out.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned();
            let events: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
            let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
            assert_eq!(kinds, ["started", if setup_failed { "failed" } else { "ok" }], "{text}");
        }
    }
}
