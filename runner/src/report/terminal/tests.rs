//! The console sink's tests: what a user reads, line by line.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::*;
use crate::events::CaseResult;
use crate::report::junit::RunInfo;

/// A `Write` whose bytes a test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

fn config(quiet: bool) -> ReporterConfig {
    ReporterConfig {
        junit: "j.xml".into(),
        trace: None,
        interactive: false,
        quiet,
        show_logs: false,
        color: false,
        strict_junit4: false,
        flaky_fails: false,
        terse: false,
        github: Default::default(),
        json: false,
    }
}

fn state(results: Vec<CaseResult>) -> RunState {
    RunState {
        results,
        info: RunInfo::default(),
        stats: Default::default(),
        total: 2,
        zero: Instant::now(),
        ready: Instant::now(),
        junit_error: None,
        notes: vec!["junit: j.xml".into()],
    }
}

fn result(name: &str, outcome: Outcome) -> CaseResult {
    CaseResult::sample(name, outcome, Duration::from_millis(5), "GET /x\n")
}

#[test]
fn lines_then_failures_summary_and_notes_quiet_shows_only_failures() {
    for quiet in [false, true] {
        let out = Captured::default();
        let mut console = Console::new(&config(quiet), Box::new(out.clone()));
        let passed = result("a::ok", Outcome::Passed);
        let failed = result(
            "a::bad",
            Outcome::Failed { message: "expected 201\u{1b}[2J".into(), kind: "assertion", check: None },
        );
        let mut st = state(vec![passed.clone()]);
        let facts = Box::new(crate::events::RunFacts::sample());
        let (at, ready) = (Instant::now(), Instant::now());
        console.event(&Event::RunStarted { facts, total: 2, at, ready }, &st);
        let check = Some("suites/src/gateway/a.rs:9".into());
        let outcome = Outcome::Failed { message: "503\nbody".into(), kind: "assertion", check };
        console.event(&Event::CaseRetrying { name: "a::ok".into(), attempt: 1, outcome }, &st);
        console.event(&Event::CaseFinished(passed), &st);
        st.results.push(failed.clone());
        console.event(&Event::CaseFinished(failed), &st);
        console.finish(&mut st);
        let text = out.text();
        assert_eq!(text.contains("PASS"), !quiet, "{text}");
        assert!(text.contains("[2/2] FAIL") && text.contains("--- a::bad ---"), "{text}");
        let retry = "RETRY   a::ok: attempt 1 failed: 503 (check at suites/src/gateway/a.rs:9)\n";
        assert!(text.contains(retry), "{text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.trim_end().ends_with("junit: j.xml"), "{text}");
        assert!(text.starts_with("target: http://127.0.0.1:8080 (external gateway)\n"), "{text}");
    }
}

#[test]
fn terse_prints_one_libtest_character_per_case() {
    let out = Captured::default();
    let mut console = Console::new(&ReporterConfig { terse: true, ..config(false) }, Box::new(out.clone()));
    let facts = Box::new(crate::events::RunFacts::sample());
    let (at, ready) = (Instant::now(), Instant::now());
    let mut st = state(Vec::new());
    st.total = 90;
    console.event(&Event::RunStarted { facts, total: 90, at, ready }, &st);
    let failed = Outcome::Failed { message: "expected 201".into(), kind: "assertion", check: None };
    for i in 0..90 {
        let outcome = match i {
            1 => failed.clone(),
            2 => Outcome::Skipped { reason: "needs cluster access".into() },
            _ => Outcome::Passed,
        };
        let r = result(&format!("a::c{i}"), outcome);
        st.results.push(r.clone());
        console.event(&Event::CaseFinished(r), &st);
    }
    console.finish(&mut st);
    let text = out.text();
    let marks: Vec<&str> = text.lines().filter(|l| l.starts_with(".F")).collect();
    assert_eq!(marks, [format!(".Fi{} 88/90", ".".repeat(85))], "{text}");
    assert!(text.contains("\n..\n"), "the last line ends before the failures: {text}");
    assert!(text.contains("--- a::c1 ---"), "{text}");
}
