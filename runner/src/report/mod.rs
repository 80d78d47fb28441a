//! The reporter: one task consumes the run's events and hands each to every sink (console and
//! progress, JUnit, trace, GitHub, libtest JSON). Sinks share only the event type and the
//! [`RunState`] the dispatcher keeps; adding a report is one new file implementing [`Sink`].
//! This task is the only writer to the terminal.

pub mod atomic;
mod banner;
pub mod console;
pub mod github;
pub mod json;
pub mod junit;
mod progress;
mod snapshots;
mod terminal;
mod testcase;
pub mod trace;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc::UnboundedReceiver;

use self::junit::{JunitError, RunInfo};
use crate::events::{CaseResult, Event, RunStats};

/// How often sinks get a tick (pending JUnit snapshots are flushed).
const TICK: Duration = Duration::from_millis(100);

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
    /// `--format terse`: one libtest character per case instead of a line.
    pub terse: bool,
    /// Print every case's log, not only failed ones (`--nocapture`).
    pub show_logs: bool,
    /// Color the status words (`--color`, `NO_COLOR`).
    pub color: bool,
    /// Only junit-4 XSD elements in the report (`--junit-strict`).
    pub strict_junit4: bool,
    /// `--flaky-result fail`: flaky cases are failures in the reports too.
    pub flaky_fails: bool,
    /// GitHub Actions step summary and annotations.
    pub github: github::GithubOutput,
    /// libtest's JSON events on stdout (`--format json -Z unstable-options`).
    pub json: bool,
}

/// What the dispatcher knows about the run; every sink reads it.
#[derive(Debug)]
pub struct RunState {
    /// Results of the current run of the selection, in finishing order.
    pub results: Vec<CaseResult>,
    /// What JUnit says about the run as a whole (gate, wall time, completeness, properties).
    pub info: RunInfo,
    /// The pool's counts, once the run finished.
    pub stats: RunStats,
    /// Cases planned.
    pub total: usize,
    /// When the process entered the runner.
    pub zero: Instant,
    /// When the target was ready.
    pub ready: Instant,
    /// The final JUnit write failed (set by the JUnit sink when the run ends).
    pub junit_error: Option<JunitError>,
    /// Closing lines sinks leave for the console (where a report went, or why it did not).
    pub notes: Vec<String>,
}

/// One report of the run. Every method has a default that does nothing.
pub trait Sink: Send {
    /// Before the first event (the JUnit sink replaces an earlier run's report here).
    fn start(&mut self, _state: &mut RunState) {}
    /// An event, after the dispatcher updated `state` with it.
    fn event(&mut self, _event: &Event, _state: &RunState) {}
    /// Called every [`TICK`] while no event comes.
    fn tick(&mut self, _state: &RunState) {}
    /// The run is over (or the channel closed); sinks finish in the order they were given.
    fn finish(&mut self, _state: &mut RunState) {}
}

/// The sinks `config` asks for, in finishing order (reports first, so the console can say where
/// they went).
fn sinks(config: &ReporterConfig) -> Vec<Box<dyn Sink>> {
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(snapshots::JunitSink::new(config.junit.clone()))];
    if let Some(path) = &config.trace {
        sinks.push(Box::new(trace::TraceSink::new(path.clone())));
    }
    sinks.push(Box::new(terminal::Console::new(config, Box::new(std::io::stderr()))));
    if config.github != github::GithubOutput::default() {
        sinks.push(Box::new(github::GithubSink::new(
            config.github.clone(),
            config.junit.clone(),
            Box::new(std::io::stderr()),
        )));
    }
    if config.json {
        sinks.push(Box::new(json::JsonSink::new(Box::new(std::io::stdout()))));
    }
    sinks
}

/// Consumes events until `RunFinished` (or the channel closes) and feeds every sink; the error
/// of the final JUnit write, if any (the exit code depends on it).
pub async fn run(events: UnboundedReceiver<Event>, config: ReporterConfig) -> Option<JunitError> {
    let state = RunState {
        results: Vec::new(),
        info: RunInfo {
            started_at: Some(SystemTime::now()),
            strict_junit4: config.strict_junit4,
            flaky_fails: config.flaky_fails,
            ..RunInfo::default()
        },
        stats: RunStats::default(),
        total: 0,
        zero: Instant::now(),
        ready: Instant::now(),
        junit_error: None,
        notes: Vec::new(),
    };
    dispatch(events, state, sinks(&config)).await
}

/// Feeds `sinks` until the run ends, then finishes them in order.
pub async fn dispatch(
    mut events: UnboundedReceiver<Event>,
    mut state: RunState,
    mut sinks: Vec<Box<dyn Sink>>,
) -> Option<JunitError> {
    sinks.iter_mut().for_each(|s| s.start(&mut state));
    let mut tick = tokio::time::interval(TICK);
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tick.tick() => {
                sinks.iter_mut().for_each(|s| s.tick(&state));
                continue;
            }
        };
        let Some(event) = event else { break };
        let last = matches!(event, Event::RunFinished { .. });
        update(&mut state, &event);
        sinks.iter_mut().for_each(|s| s.event(&event, &state));
        if last {
            break;
        }
    }
    sinks.iter_mut().for_each(|s| s.finish(&mut state));
    state.junit_error
}

/// What an event changes in the state every sink sees.
fn update(state: &mut RunState, event: &Event) {
    match event {
        Event::RunStarted { facts, total, at, ready } => {
            (state.total, state.zero, state.ready) = (*total, *at, *ready);
            state.info.properties = junit::properties(facts);
        }
        Event::SetupFailed { error, total } => {
            state.total = *total;
            state.info.setup_error = Some(error.clone());
        }
        Event::GateFinished(gate) => state.info.gate = Some(gate.clone()),
        Event::IterationStarted { iteration } => {
            if *iteration > 1 {
                state.results.clear();
            }
            state.info.properties.retain(|(k, _)| k != "iteration");
            state.info.properties.push(("iteration".to_owned(), iteration.to_string()));
        }
        Event::CaseFinished(result) => {
            state.results.push(result.clone());
            state.info.wall = state.zero.elapsed();
        }
        Event::RunFinished { wall, cut_short, stats } => {
            state.stats = *stats;
            state.info.wall = *wall;
            state.info.complete = cut_short.is_none();
            state.info.cut_short.clone_from(cut_short);
        }
        Event::CaseStarted { .. } | Event::CaseRetrying { .. } | Event::Stopping { .. } => {}
    }
}
