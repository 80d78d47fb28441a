//! The per-case log: what a case did (requests, answers, assertions), kept by the runner so it
//! survives a timeout and can be printed under a failure and written to JUnit. Bounded: past
//! [`HEAD_BYTES`] only the last [`TAIL_BYTES`] are kept (where a failure usually is), with how
//! much was cut, so a case's memory and its report never grow with what a gateway sends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Bytes kept from the start of a log.
pub const HEAD_BYTES: usize = 256 * 1024;
/// Bytes kept from the end of a log once the head is full.
pub const TAIL_BYTES: usize = 256 * 1024;

/// Cheap to clone; all clones append to the same buffer.
#[derive(Clone, Debug)]
pub struct CaseLog {
    inner: Arc<Mutex<Buffer>>,
    started: Instant,
}

#[derive(Debug, Default)]
struct Buffer {
    head: String,
    tail: VecDeque<String>,
    tail_bytes: usize,
    cut_lines: usize,
    cut_bytes: usize,
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
        let text = format!("[{:>8.3}s] {}\n", elapsed.as_secs_f64(), line.as_ref());
        let mut buf = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if buf.tail.is_empty() && buf.head.len() + text.len() <= HEAD_BYTES {
            buf.head.push_str(&text);
            return;
        }
        buf.tail_bytes += text.len();
        buf.tail.push_back(text);
        while buf.tail_bytes > TAIL_BYTES && buf.tail.len() > 1 {
            if let Some(dropped) = buf.tail.pop_front() {
                buf.tail_bytes -= dropped.len();
                buf.cut_lines += 1;
                buf.cut_bytes += dropped.len();
            }
        }
    }

    /// Everything logged so far (the head, a note of what was cut, the tail).
    pub fn contents(&self) -> String {
        let buf = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = buf.head.clone();
        if buf.cut_lines > 0 {
            text.push_str(&format!(
                "[… {} lines ({} bytes) cut from the middle of this log …]\n",
                buf.cut_lines, buf.cut_bytes
            ));
        }
        for line in &buf.tail {
            // A single line longer than the tail budget is cut too.
            if line.len() > TAIL_BYTES {
                let mut end = TAIL_BYTES;
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                text.push_str(&line[..end]);
                text.push_str("… [line cut]\n");
            } else {
                text.push_str(line);
            }
        }
        text
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

    #[test]
    fn a_long_log_keeps_its_start_and_its_end_within_bounds() {
        let log = CaseLog::default();
        for i in 0..100_000 {
            log.line(format!("line {i} {}", "x".repeat(40)));
        }
        log.line("the failure");
        let text = log.contents();
        assert!(text.len() <= HEAD_BYTES + TAIL_BYTES + 200, "{}", text.len());
        assert!(text.contains("] line 0 ") && text.ends_with("the failure\n"));
        assert!(text.contains("lines ("), "the cut is said");
        let huge = CaseLog::default();
        huge.line("é".repeat(HEAD_BYTES));
        huge.line("é".repeat(TAIL_BYTES));
        assert!(huge.contents().len() <= HEAD_BYTES + TAIL_BYTES + 200);
    }
}
