//! Crash-safe JUnit: while the run goes on, the report on disk is rewritten (atomically, with
//! `complete=false`) after finished cases, on a background writer. A snapshot is built only when
//! the writer is idle, so a fast suite costs a few writes, not one per case; pending changes are
//! flushed on the reporter's next event or tick.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinHandle;

use super::junit::{self, RunInfo};
use crate::events::CaseResult;

/// The background writer of in-progress reports.
#[derive(Debug)]
pub struct Snapshots {
    path: PathBuf,
    busy: Arc<AtomicBool>,
    dirty: bool,
    writer: Option<JoinHandle<()>>,
}

impl Snapshots {
    /// Snapshots of the report at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, busy: Arc::new(AtomicBool::new(false)), dirty: false, writer: None }
    }

    /// Something changed since the last snapshot.
    pub fn changed(&mut self) {
        self.dirty = true;
    }

    /// Writes a snapshot of `results` if something changed and the writer is idle.
    pub fn flush(&mut self, results: &[CaseResult], info: &RunInfo) {
        if !self.dirty || self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        self.dirty = false;
        let report = junit::build(results, info);
        let (path, busy) = (self.path.clone(), self.busy.clone());
        self.writer = Some(tokio::task::spawn_blocking(move || {
            // A failed snapshot is not fatal: the final write reports errors.
            let _ = junit::write_atomic(&report, &path);
            busy.store(false, Ordering::Release);
        }));
    }

    /// Waits for the snapshot being written, so the final report is written last.
    pub async fn close(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.await;
        }
    }
}
