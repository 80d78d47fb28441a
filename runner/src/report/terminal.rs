//! The console sink: the banner, one line per finished case (above the progress bar on a
//! terminal; with `--format terse` one libtest character: `.` passed, `F` failed, `i` skipped,
//! 88 to a line with the count), retries and stops, then failures with their logs, the summary and the notes other
//! sinks left (where the reports went). Writes to an injected `Write`, so tests read exactly what
//! a user sees; the progress bar draws on the terminal itself.

use std::io::Write;

use super::progress::{Estimate, Progress};
use super::{ReporterConfig, RunState, Sink, console};
use crate::events::{Event, Outcome};

/// The human-readable report on stderr.
pub struct Console {
    out: Box<dyn Write + Send>,
    progress: Option<Progress>,
    /// The ETA's start for each run of the selection.
    estimate: Estimate,
    interactive: bool,
    quiet: bool,
    show_logs: bool,
    color: bool,
    junit: std::path::PathBuf,
    /// Set up or failing to: an empty selection ends without a summary.
    began: bool,
    /// `--format terse`: one character per case.
    terse: bool,
    /// Characters on the current terse line.
    column: usize,
}

/// Terse characters per line, as libtest's.
const TERSE_COLUMNS: usize = 88;

impl Console {
    /// A console writing to `out`, drawing a bar when `config.interactive` (and not quiet).
    pub fn new(config: &ReporterConfig, out: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            progress: None,
            estimate: Estimate::default(),
            interactive: config.interactive && !config.quiet && !config.terse,
            quiet: config.quiet,
            show_logs: config.show_logs,
            color: config.color,
            junit: config.junit.clone(),
            began: false,
            terse: config.terse,
            column: 0,
        }
    }

    /// A line above the bar, or on the output.
    fn say(&mut self, line: &str) {
        self.end_terse_line();
        match &self.progress {
            Some(p) => p.println(line),
            None => {
                let _ = writeln!(self.out, "{line}");
            }
        }
    }

    fn end_terse_line(&mut self) {
        if self.column > 0 {
            let _ = writeln!(self.out);
            self.column = 0;
        }
    }

    fn case_finished(&mut self, result: &crate::events::CaseResult, state: &RunState) {
        if self.terse {
            let mark = match result.outcome {
                Outcome::Passed => '.',
                Outcome::Failed { .. } | Outcome::TimedOut { .. } => 'F',
                Outcome::Skipped { .. } => 'i',
            };
            let _ = write!(self.out, "{mark}");
            self.column += 1;
            if self.column == TERSE_COLUMNS {
                let _ = writeln!(self.out, " {}/{}", state.results.len(), state.total);
                self.column = 0;
            }
            let _ = self.out.flush();
            return;
        }
        let mut line = console::case_line(result, state.results.len(), state.total, self.color);
        if self.show_logs && !result.outcome.is_failure() && !result.log.is_empty() {
            line.push('\n');
            line.push_str(&console::indent(&result.log));
        }
        match self.progress.as_mut() {
            Some(p) => p.finished(result, &line),
            None if !self.quiet || result.outcome.is_failure() => self.say(&line),
            None => {}
        }
    }
}

impl Sink for Console {
    fn event(&mut self, event: &Event, state: &RunState) {
        match event {
            Event::RunStarted { facts, total, .. } => {
                self.began = true;
                for line in super::banner::lines(facts, &self.junit) {
                    self.say(&line);
                }
                self.estimate = Estimate::new(&facts.recorded, *total, facts.workers.jobs);
                if self.interactive {
                    self.progress = Some(Progress::new(*total, self.estimate.clone()));
                }
            }
            Event::SetupFailed { error, .. } => {
                self.began = true;
                self.say(&format!("error: {}", console::printable(error)));
            }
            Event::GateFinished(gate) => match &gate.error {
                None => self.say(&format!(
                    "health gate: {} healthy after {} attempt(s) in {:.0?}",
                    gate.url, gate.attempts, gate.elapsed
                )),
                Some(error) => self.say(&console::printable(error)),
            },
            Event::IterationStarted { iteration } if *iteration > 1 => {
                self.say(&format!("--- run {iteration} of the selection ---"));
                if let Some(p) = self.progress.as_mut() {
                    p.finish();
                    *p = Progress::new(state.total, self.estimate.clone());
                }
            }
            Event::CaseStarted { name } => {
                if let Some(p) = self.progress.as_mut() {
                    p.started(name);
                }
            }
            Event::CaseRetrying { name, attempt, outcome } => {
                let why = match outcome {
                    Outcome::Failed { message, check, .. } => {
                        let first = console::printable(message.lines().next().unwrap_or_default()).into_owned();
                        check.as_ref().map_or(first.clone(), |check| format!("{first} (check at {check})"))
                    }
                    Outcome::TimedOut { after } => format!("timed out after {after:?}"),
                    _ => String::new(),
                };
                self.say(&format!("RETRY   {name}: attempt {attempt} failed: {why}"));
            }
            Event::CaseFinished(result) => self.case_finished(result, state),
            Event::Stopping { reason } => self.say(&format!("stopping: {reason}")),
            Event::IterationStarted { .. } | Event::RunFinished { .. } => {}
        }
    }

    fn finish(&mut self, state: &mut RunState) {
        if let Some(p) = self.progress.take() {
            p.finish();
        }
        self.end_terse_line();
        let mut text = String::new();
        if self.began {
            text.push_str(&console::failures(&state.results));
            text.push_str(&console::summary(&state.results, &state.stats, &state.info));
        }
        for note in &state.notes {
            text.push_str(note);
            text.push('\n');
        }
        let _ = write!(self.out, "{text}");
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests;
