//! `--trace PATH`: a Chrome trace-event JSON of the run (Perfetto, chrome://tracing). One lane per
//! worker, a span per case attempt (name, outcome, attempt number), the health gate on its own lane.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::events::{CaseResult, GateResult, Outcome};

/// Builds the trace for `results` of a process that started at `zero` and had its target (the
/// embedded double, the kube client) ready at `ready`.
pub fn build(zero: Instant, ready: Instant, gate: Option<&GateResult>, results: &[CaseResult]) -> Value {
    let micros = |at: Instant| at.saturating_duration_since(zero).as_micros() as u64;
    let dur = |d: Duration| d.as_micros() as u64;
    let mut events = vec![json!({"ph": "M", "pid": 1, "name": "process_name", "args": {"name": "gateway e2e run"}})];
    events
        .push(json!({"ph": "M", "pid": 1, "tid": 0, "name": "thread_name", "args": {"name": "setup and health gate"}}));
    events.push(json!({
        "ph": "X", "pid": 1, "tid": 0, "name": "setup", "cat": "setup",
        "ts": 0, "dur": micros(ready), "args": {"what": "flags, plan, target (embedded double / kube client)"},
    }));
    if let Some(gate) = gate {
        events.push(json!({
            "ph": "X", "pid": 1, "tid": 0, "name": "health gate", "cat": "gate",
            "ts": micros(gate.started), "dur": dur(gate.elapsed),
            "args": {"url": gate.url, "attempts": gate.attempts, "ok": gate.error.is_none()},
        }));
    }
    let mut lanes = std::collections::BTreeSet::new();
    for result in results.iter().filter(|r| !matches!(r.outcome, Outcome::Skipped { .. }) || !r.duration.is_zero()) {
        let tid = result.lane + 1;
        lanes.insert(tid);
        let attempts = result.retries.len() + 1;
        for (i, failed) in result.retries.iter().enumerate() {
            events.push(span(
                &result.name,
                tid,
                micros(failed.started),
                dur(failed.duration),
                &failed.outcome,
                i + 1,
                attempts,
            ));
        }
        events.push(span(
            &result.name,
            tid,
            micros(result.started),
            dur(result.duration),
            &result.outcome,
            attempts,
            attempts,
        ));
    }
    for tid in lanes {
        events.push(
            json!({"ph": "M", "pid": 1, "tid": tid, "name": "thread_name", "args": {"name": format!("worker {tid}")}}),
        );
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ms" })
}

fn span(name: &str, tid: usize, ts: u64, dur: u64, outcome: &Outcome, attempt: usize, attempts: usize) -> Value {
    let outcome = match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed { .. } => "failed",
        Outcome::TimedOut { .. } => "timed out",
        Outcome::Skipped { .. } => "skipped",
    };
    json!({
        "ph": "X", "pid": 1, "tid": tid, "name": name, "cat": outcome, "ts": ts, "dur": dur.max(1),
        "args": {"outcome": outcome, "attempt": attempt, "attempts": attempts},
    })
}

/// The trace sink: every attempt of every run of the selection (without logs), written when the
/// run ends.
#[derive(Debug)]
pub struct TraceSink {
    path: std::path::PathBuf,
    results: Vec<CaseResult>,
}

impl TraceSink {
    /// A trace to be written to `path`.
    pub fn new(path: std::path::PathBuf) -> Self {
        Self { path, results: Vec::new() }
    }
}

impl super::Sink for TraceSink {
    fn event(&mut self, event: &crate::events::Event, _state: &super::RunState) {
        if let crate::events::Event::CaseFinished(result) = event {
            self.results.push(CaseResult { log: String::new(), ..result.clone() });
        }
    }

    fn finish(&mut self, state: &mut super::RunState) {
        let trace = build(state.zero, state.ready, state.info.gate.as_ref(), &self.results);
        state.notes.push(match write(&trace, &self.path) {
            Ok(()) => format!("trace: {} (open in https://ui.perfetto.dev)", self.path.display()),
            Err(e) => format!("warning: could not write the trace to {}: {e}", self.path.display()),
        });
    }
}

/// Writes the trace to `path` atomically.
pub fn write(trace: &Value, path: &Path) -> std::io::Result<()> {
    super::atomic::write(path, &serde_json::to_vec(trace)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::FailedAttempt;

    #[test]
    fn spans_per_attempt_on_worker_lanes_and_the_gate_lane() {
        let zero = Instant::now();
        let gate = GateResult {
            started: zero,
            url: "http://x/health".into(),
            attempts: 2,
            elapsed: Duration::from_millis(30),
            error: None,
        };
        let retry = FailedAttempt {
            outcome: Outcome::Failed { message: "503".into(), kind: "assertion", check: None },
            duration: Duration::from_millis(5),
            started: zero + Duration::from_millis(40),
            log: String::new(),
        };
        let result = CaseResult {
            name: "dedup::x".into(),
            area: "dedup".into(),
            location: String::new(),
            outcome: Outcome::Passed,
            duration: Duration::from_millis(7),
            log: String::new(),
            started: zero + Duration::from_millis(50),
            lane: 1,
            retries: vec![retry],
        };
        let trace = build(zero, zero, Some(&gate), &[result]);
        let spans: Vec<&Value> =
            trace["traceEvents"].as_array().into_iter().flatten().filter(|e| e["ph"] == "X").collect();
        assert_eq!(spans.len(), 4);
        assert_eq!(spans[0]["name"], "setup");
        assert_eq!(spans[1]["name"], "health gate");
        assert_eq!(spans[1]["tid"], 0);
        assert_eq!((spans[2]["ts"].as_u64(), spans[2]["args"]["attempt"].as_u64()), (Some(40_000), Some(1)));
        assert_eq!((spans[3]["tid"].as_u64(), spans[3]["args"]["outcome"].as_str()), (Some(2), Some("passed")));
    }
}
