//! libtest's JSON event stream (`--format json -Z unstable-options`) on stdout, so rust-analyzer's
//! test explorer and other libtest readers see every case: `suite started`, `test started`, one
//! `ok`/`failed`/`ignored` per case (a failure's text and log as `stdout`), `suite ok`/`failed`
//! with the counts and `exec_time`.

use std::time::Duration;

use serde_json::{Value, json};

use super::console::Counts;
use crate::events::{CaseResult, Outcome};

/// `{"type":"suite","event":"started","test_count":N}`.
pub fn suite_started(total: usize) -> String {
    line(json!({ "type": "suite", "event": "started", "test_count": total }))
}

/// `{"type":"test","event":"started","name":...}`.
pub fn test_started(name: &str) -> String {
    line(json!({ "type": "test", "event": "started", "name": name }))
}

/// The event of a finished case.
pub fn test_finished(result: &CaseResult) -> String {
    let time = result.duration.as_secs_f64();
    let value = match &result.outcome {
        Outcome::Passed => json!({ "type": "test", "name": result.name, "event": "ok", "exec_time": time }),
        Outcome::Skipped { reason } => {
            json!({ "type": "test", "name": result.name, "event": "ignored", "message": reason })
        }
        Outcome::Failed { message, kind } => json!({
            "type": "test", "name": result.name, "event": "failed", "exec_time": time,
            "stdout": format!("{kind}: {message}\n{}", result.log),
        }),
        Outcome::TimedOut { after } => json!({
            "type": "test", "name": result.name, "event": "failed", "exec_time": time,
            "stdout": format!("timed out after {after:?}\n{}", result.log),
        }),
    };
    line(value)
}

/// `{"type":"suite","event":"ok"|"failed",...}`; `failed` when a case failed or `run_failed`
/// (gate failure, interrupt, suite timeout).
pub fn suite_finished(results: &[CaseResult], wall: Duration, run_failed: bool) -> String {
    let c = Counts::of(results);
    let failed = c.failed + c.timed_out;
    let event = if failed > 0 || run_failed { "failed" } else { "ok" };
    line(json!({
        "type": "suite", "event": event, "passed": c.passed, "failed": failed, "ignored": c.skipped,
        "measured": 0, "filtered_out": 0, "exec_time": wall.as_secs_f64(),
    }))
}

/// The libtest JSON sink, writing to `out` (stdout).
pub struct JsonSink {
    out: Box<dyn std::io::Write + Send>,
}

impl JsonSink {
    /// Events to `out`.
    pub fn new(out: Box<dyn std::io::Write + Send>) -> Self {
        Self { out }
    }

    fn write(&mut self, line: &str) {
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.flush();
    }
}

impl super::Sink for JsonSink {
    fn event(&mut self, event: &crate::events::Event, _state: &super::RunState) {
        use crate::events::Event;
        match event {
            Event::RunStarted { total, .. } => self.write(&suite_started(*total)),
            Event::CaseStarted { name } => self.write(&test_started(name)),
            Event::CaseFinished(result) => self.write(&test_finished(result)),
            _ => {}
        }
    }

    fn finish(&mut self, state: &mut super::RunState) {
        let run_failed = state.info.cut_short.is_some() || state.info.gate.as_ref().is_some_and(|g| g.error.is_some());
        let line = suite_finished(&state.results, state.info.wall, run_failed);
        self.write(&line);
    }
}

fn line(value: Value) -> String {
    format!("{value}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, outcome: Outcome) -> CaseResult {
        CaseResult::sample(name, outcome, Duration::from_millis(250), "GET /x\n")
    }

    #[test]
    fn every_line_is_one_libtest_event() {
        let results = [
            result("a::ok", Outcome::Passed),
            result("a::bad", Outcome::Failed { message: "expected 201\u{1b}".into(), kind: "assertion" }),
            result("a::skip", Outcome::Skipped { reason: "needs cluster access".into() }),
        ];
        let mut stream = suite_started(3) + &test_started("a::ok");
        for r in &results {
            stream.push_str(&test_finished(r));
        }
        stream.push_str(&suite_finished(&results, Duration::from_secs(1), false));
        let events: Vec<Value> =
            stream.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
        assert_eq!(events.len(), 6);
        assert_eq!(events[0], json!({ "type": "suite", "event": "started", "test_count": 3 }));
        assert_eq!(events[2]["event"], "ok");
        assert_eq!(events[2]["exec_time"], 0.25);
        assert_eq!(events[3]["event"], "failed");
        assert!(
            events[3]["stdout"]
                .as_str()
                .is_some_and(|s| s.starts_with("assertion: expected 201") && s.ends_with("GET /x\n"))
        );
        assert_eq!(events[4]["event"], "ignored");
        assert_eq!(events[4]["message"], "needs cluster access");
        let last = &events[5];
        assert_eq!(
            (last["event"].as_str(), last["passed"].as_u64(), last["failed"].as_u64(), last["ignored"].as_u64()),
            (Some("failed"), Some(1), Some(1), Some(1))
        );
        let ok = suite_finished(&results[..1], Duration::ZERO, false);
        assert!(ok.contains("\"event\":\"ok\""));
        assert!(suite_finished(&results[..1], Duration::ZERO, true).contains("\"event\":\"failed\""));
    }
}
