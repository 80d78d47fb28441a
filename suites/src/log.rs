//! The per-case log: what a case did (requests, answers, assertions), kept by the runner so it
//! survives a timeout and can be printed under a failure and written to JUnit.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Cheap to clone; all clones append to the same buffer.
#[derive(Clone, Debug)]
pub struct CaseLog {
    inner: Arc<Mutex<String>>,
    started: Instant,
}

impl Default for CaseLog {
    fn default() -> Self {
        Self { inner: Arc::default(), started: Instant::now() }
    }
}

impl CaseLog {
    /// Appends one line, prefixed with the time since the case started.
    pub fn line(&self, line: impl AsRef<str>) {
        let elapsed = self.started.elapsed();
        let mut buf = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        buf.push_str(&format!("[{:>8.3}s] {}\n", elapsed.as_secs_f64(), line.as_ref()));
    }

    /// Everything logged so far.
    pub fn contents(&self) -> String {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_buffer() {
        let log = CaseLog::default();
        let other = log.clone();
        other.line("GET /health");
        log.line("200");
        let text = log.contents();
        assert!(text.contains("GET /health\n"));
        assert!(text.ends_with("200\n"));
    }
}
