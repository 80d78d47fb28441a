//! The reporter: the one task that writes to the terminal. It consumes run events, shows progress
//! (bar or lines), prints failures and the summary, and writes the JUnit report at the end — also
//! when the gate failed, the run timed out or was interrupted.

pub mod console;
pub mod junit;
mod progress;

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::mpsc::UnboundedReceiver;

use self::junit::{JunitError, RunInfo};
use self::progress::Progress;
use crate::events::{CaseResult, Event};

/// How the reporter presents the run.
#[derive(Clone, Debug)]
pub struct ReporterConfig {
    /// JUnit output path.
    pub junit: PathBuf,
    /// Draw the indicatif bar (stderr is a terminal and `CI` is unset).
    pub interactive: bool,
    /// Print only failures and the summary.
    pub quiet: bool,
    /// Print every case's log, not only failed ones (`--nocapture`).
    pub show_logs: bool,
    /// Suite properties for JUnit.
    pub properties: Vec<(String, String)>,
}

/// What the reporter saw, for the exit code.
#[derive(Clone, Debug, Default)]
pub struct ReportOutcome {
    /// Every case result.
    pub results: Vec<CaseResult>,
    /// The gate failed.
    pub gate_failed: bool,
}

/// Consumes events until `RunFinished` (or the channel closes), then writes JUnit.
pub async fn run(mut events: UnboundedReceiver<Event>, config: ReporterConfig) -> Result<ReportOutcome, JunitError> {
    let mut err = std::io::stderr();
    let mut info =
        RunInfo { properties: config.properties.clone(), started_at: Some(SystemTime::now()), ..RunInfo::default() };
    let mut results: Vec<CaseResult> = Vec::new();
    let mut total = 0;
    let mut progress: Option<Progress> = None;
    let mut say = |progress: &Option<Progress>, line: &str| match progress {
        Some(p) => p.println(line),
        None => {
            let _ = writeln!(err, "{line}");
        }
    };
    while let Some(event) = events.recv().await {
        match event {
            Event::RunStarted { banner, total: planned } => {
                total = planned;
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
                    Some(error) => say(&progress, error),
                }
                info.gate = Some(gate);
            }
            Event::CaseStarted { name } => {
                if let Some(p) = progress.as_mut() {
                    p.started(&name);
                }
            }
            Event::CaseFinished(result) => {
                let mut line = console::case_line(&result, results.len() + 1, total);
                if config.show_logs && !result.outcome.is_failure() && !result.log.is_empty() {
                    line.push('\n');
                    line.push_str(&console::indent(&result.log));
                }
                match progress.as_mut() {
                    Some(p) => p.finished(&result.name, &line),
                    None if !config.quiet || result.outcome.is_failure() => say(&progress, &line),
                    None => {}
                }
                results.push(result);
            }
            Event::Stopping { reason } => say(&progress, &format!("stopping: {reason}")),
            Event::RunFinished { wall } => {
                info.wall = wall;
                info.complete = true;
                break;
            }
        }
    }
    if let Some(p) = &progress {
        p.finish();
    }
    let gate_failed = info.gate.as_ref().is_some_and(|g| g.error.is_some());
    junit::write_atomic(&junit::build(&results, &info), &config.junit)?;
    let mut text = console::failures(&results);
    text.push_str(&console::summary(&results, info.wall));
    text.push_str(&format!("junit: {}\n", config.junit.display()));
    let _ = write!(std::io::stderr(), "{text}");
    Ok(ReportOutcome { results, gate_failed })
}
