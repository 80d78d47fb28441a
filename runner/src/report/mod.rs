//! The reporter: the one task that writes to the terminal. It consumes run events, shows progress
//! (bar or lines), prints failures and the summary, and keeps the JUnit report on disk current:
//! rewritten (atomically, `complete=false`) as cases finish, so a killed run still leaves a valid
//! report, and written a last time when the run ends — also on gate failure, timeout or interrupt.

pub mod atomic;
pub mod console;
pub mod github;
pub mod junit;
mod progress;
mod snapshots;
pub mod trace;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::UnboundedReceiver;

use self::junit::{JunitError, RunInfo};
use self::progress::Progress;
use self::snapshots::Snapshots;
use crate::events::{CaseResult, Event, Outcome};

/// How often a pending JUnit snapshot is flushed when cases finish faster than files are written.
const SNAPSHOT_TICK: Duration = Duration::from_millis(100);

/// How the reporter presents the run.
#[derive(Clone, Debug)]
pub struct ReporterConfig {
    /// JUnit output path.
    pub junit: PathBuf,
    /// Chrome trace output path.
    pub trace: Option<PathBuf>,
    /// Draw the indicatif bar (stderr is a terminal and `CI` is unset).
    pub interactive: bool,
    /// Print only failures and the summary.
    pub quiet: bool,
    /// Print every case's log, not only failed ones (`--nocapture`).
    pub show_logs: bool,
    /// Color the status words (`--color`, `NO_COLOR`).
    pub color: bool,
    /// Only junit-4 XSD elements in the report (`--junit-strict`).
    pub strict_junit4: bool,
    /// Suite properties for JUnit.
    pub properties: Vec<(String, String)>,
    /// GitHub Actions step summary and annotations.
    pub github: github::GithubOutput,
}

/// What the reporter saw, for the exit code.
#[derive(Debug, Default)]
pub struct ReportOutcome {
    /// Every case result of the last run of the selection.
    pub results: Vec<CaseResult>,
    /// The gate failed.
    pub gate_failed: bool,
    /// The final JUnit report could not be written.
    pub junit_error: Option<JunitError>,
}

/// Consumes events until `RunFinished` (or the channel closes), then writes JUnit (and the trace).
pub async fn run(mut events: UnboundedReceiver<Event>, config: ReporterConfig) -> ReportOutcome {
    let mut info = RunInfo {
        properties: config.properties.clone(),
        started_at: Some(SystemTime::now()),
        strict_junit4: config.strict_junit4,
        ..RunInfo::default()
    };
    let mut results: Vec<CaseResult> = Vec::new();
    let mut all_results: Vec<CaseResult> = Vec::new();
    let mut total = 0;
    let mut zero = Instant::now();
    let mut ready = zero;
    let mut progress: Option<Progress> = None;
    let mut snapshots = Snapshots::new(config.junit.clone());
    let mut tick = tokio::time::interval(SNAPSHOT_TICK);
    loop {
        let event = tokio::select! {
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            _ = tick.tick() => {
                snapshots.flush(&results, &info);
                continue;
            }
        };
        match event {
            Event::RunStarted { banner, total: planned, at, ready: target_ready } => {
                (total, zero, ready) = (planned, at, target_ready);
                for line in &banner {
                    say(&progress, line);
                }
                if config.interactive && !config.quiet {
                    progress = Some(Progress::new(total));
                }
            }
            Event::GateFinished(gate) => {
                match &gate.error {
                    None => say(
                        &progress,
                        &format!(
                            "health gate: {} healthy after {} attempt(s) in {:.0?}",
                            gate.url, gate.attempts, gate.elapsed
                        ),
                    ),
                    Some(error) => say(&progress, &console::printable(error)),
                }
                info.gate = Some(gate);
            }
            Event::IterationStarted { iteration } => {
                if iteration > 1 {
                    say(&progress, &format!("--- run {iteration} of the selection ---"));
                    results.clear();
                    if let Some(p) = progress.as_mut() {
                        p.finish();
                        *p = Progress::new(total);
                    }
                }
                info.properties.retain(|(k, _)| k != "iteration");
                info.properties.push(("iteration".to_owned(), iteration.to_string()));
            }
            Event::CaseStarted { name } => {
                if let Some(p) = progress.as_mut() {
                    p.started(&name);
                }
            }
            Event::CaseRetrying { name, attempt, outcome } => {
                let why = match outcome {
                    Outcome::Failed { message, .. } => {
                        console::printable(message.lines().next().unwrap_or_default()).into_owned()
                    }
                    Outcome::TimedOut { after } => format!("timed out after {after:?}"),
                    _ => String::new(),
                };
                say(&progress, &format!("RETRY   {name}: attempt {attempt} failed: {why}"));
            }
            Event::CaseFinished(result) => {
                let mut line = console::case_line(&result, results.len() + 1, total, config.color);
                if config.show_logs && !result.outcome.is_failure() && !result.log.is_empty() {
                    line.push('\n');
                    line.push_str(&console::indent(&result.log));
                }
                match progress.as_mut() {
                    Some(p) => p.finished(&result.name, &line),
                    None if !config.quiet || result.outcome.is_failure() => say(&progress, &line),
                    None => {}
                }
                if config.trace.is_some() {
                    // The trace needs every attempt of every run, but not the logs.
                    all_results.push(CaseResult { log: String::new(), ..result.clone() });
                }
                results.push(result);
                info.wall = zero.elapsed();
                snapshots.changed();
                snapshots.flush(&results, &info);
            }
            Event::Stopping { reason } => say(&progress, &format!("stopping: {reason}")),
            Event::RunFinished { wall, cut_short } => {
                info.wall = wall;
                info.complete = cut_short.is_none();
                info.cut_short = cut_short;
                break;
            }
        }
    }
    if let Some(p) = &progress {
        p.finish();
    }
    snapshots.close().await;
    let junit_error = junit::write_atomic(&junit::build(&results, &info), &config.junit).err();
    let mut text = console::failures(&results);
    text.push_str(&console::summary(&results, info.wall));
    match &junit_error {
        None => text.push_str(&format!("junit: {}\n", config.junit.display())),
        Some(e) => text.push_str(&format!("error: {e}\n")),
    }
    if let Some(path) = &config.trace {
        match trace::write(&trace::build(zero, ready, info.gate.as_ref(), &all_results), path) {
            Ok(()) => text.push_str(&format!("trace: {} (open in https://ui.perfetto.dev)\n", path.display())),
            Err(e) => text.push_str(&format!("warning: could not write the trace to {}: {e}\n", path.display())),
        }
    }
    text.push_str(&github::emit(&config.github, &results, &info, info.wall, &config.junit));
    let _ = write!(std::io::stderr(), "{text}");
    let gate_failed = info.gate.as_ref().is_some_and(|g| g.error.is_some());
    ReportOutcome { results, gate_failed, junit_error }
}

/// Prints a line above the bar, or on stderr.
fn say(progress: &Option<Progress>, line: &str) {
    match progress {
        Some(p) => p.println(line),
        None => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}
