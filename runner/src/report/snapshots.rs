//! The JUnit sink, the only writer of the report. Before anything else happens it replaces the
//! report at the path (and removes temp files a killed writer left) with an empty one saying
//! `complete=false`, so a run killed during set-up never leaves an earlier run's report. While
//! the run goes on, the report on disk is rewritten (atomically, with
//! `complete=false`) after finished cases, on a background writer; a snapshot is built only when
//! the writer is idle, so a fast suite costs a few writes, not one per case, and pending changes
//! go out on the next event or tick. When the run ends the final report is written after any
//! snapshot in flight (one lock orders the writes), and a failure is kept for the exit code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::junit::{self, RunInfo};
use super::{RunState, Sink};
use crate::events::{CaseResult, Event};

/// Keeps the JUnit report at one path current.
#[derive(Debug)]
pub struct JunitSink {
    path: PathBuf,
    busy: Arc<AtomicBool>,
    /// Held while a file is written; `true` once the final report is written, after which a
    /// late snapshot writer does nothing.
    writing: Arc<Mutex<bool>>,
    dirty: bool,
}

impl JunitSink {
    /// Snapshots and the final report at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, busy: Arc::new(AtomicBool::new(false)), writing: Arc::default(), dirty: false }
    }

    /// Writes a snapshot of `results` if something changed and the writer is idle.
    fn flush(&mut self, results: &[CaseResult], info: &RunInfo) {
        if !self.dirty || self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        self.dirty = false;
        let report = junit::build(results, info);
        let (path, busy, writing) = (self.path.clone(), self.busy.clone(), self.writing.clone());
        tokio::task::spawn_blocking(move || {
            let closed = writing.lock().unwrap_or_else(PoisonError::into_inner);
            if !*closed {
                // A failed snapshot is not fatal: the final write reports errors.
                let _ = junit::write_atomic(&report, &path);
            }
            busy.store(false, Ordering::Release);
        });
    }
}

impl Sink for JunitSink {
    fn start(&mut self, state: &mut RunState) {
        super::atomic::remove_leftovers(&self.path);
        let info = RunInfo { complete: false, ..state.info.clone() };
        if let Err(e) = junit::write_atomic(&junit::build(&[], &info), &self.path) {
            state.notes.push(format!("warning: {e}"));
        }
    }

    fn event(&mut self, event: &Event, state: &RunState) {
        if let Event::CaseFinished(_) = event {
            self.dirty = true;
        }
        self.flush(&state.results, &state.info);
    }

    fn tick(&mut self, state: &RunState) {
        self.flush(&state.results, &state.info);
    }

    fn finish(&mut self, state: &mut RunState) {
        // No snapshot starts after this (`busy` stays set); one being written finishes first
        // (the lock), and one not yet started finds the report closed.
        self.busy.store(true, Ordering::Release);
        let mut closed = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        *closed = true;
        state.junit_error = junit::write_atomic(&junit::build(&state.results, &state.info), &self.path).err();
        let note = match &state.junit_error {
            None => format!("junit: {}", self.path.display()),
            Some(e) => format!("error: {e}"),
        };
        state.notes.push(note);
    }
}
