//! The interactive progress display (indicatif): a bar with passed and failed counts, an ETA
//! from the recorded durations of the cases still to finish (when there are any), and the names
//! of running cases. Used only when stderr is a terminal and `CI` is unset; elsewhere the
//! reporter prints plain lines.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::CaseResult;

/// What is left of a run by the recorded durations: the cases still to finish, divided among
/// the workers.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    /// Recorded duration of each planned case that has one, not yet finished.
    remaining: HashMap<String, Duration>,
    /// Planned cases without a recorded duration, not yet finished.
    unknown: usize,
    /// Workers.
    jobs: usize,
}

impl Estimate {
    /// An estimate for `recorded` durations of `total` planned cases on `jobs` workers.
    pub fn new(recorded: &[(String, Duration)], total: usize, jobs: usize) -> Self {
        Self { remaining: recorded.iter().cloned().collect(), unknown: total - recorded.len().min(total), jobs }
    }

    /// A case finished.
    pub fn finished(&mut self, name: &str) {
        if self.remaining.remove(name).is_none() {
            self.unknown = self.unknown.saturating_sub(1);
        }
    }

    /// Time left, counting unknown cases at the mean recorded duration; `None` without any
    /// recorded duration.
    pub fn left(&self) -> Option<Duration> {
        // Saturating: recorded durations come from a file and may be absurd.
        let known = self.remaining.values().fold(Duration::ZERO, |sum, d| sum.saturating_add(*d));
        let count = u32::try_from(self.remaining.len()).ok().filter(|n| *n > 0)?;
        let unknown = u32::try_from(self.unknown).unwrap_or(u32::MAX);
        let jobs = u32::try_from(self.jobs.max(1)).unwrap_or(u32::MAX);
        Some(known.saturating_add((known / count).saturating_mul(unknown)) / jobs)
    }
}

/// The counts and ETA shown beside the bar.
pub fn status(passed: usize, failed: usize, left: Option<Duration>) -> String {
    let mut text = format!("{passed} passed, {failed} failed");
    if let Some(left) = left {
        text.push_str(&format!(", ETA {}s", left.as_secs()));
    }
    text
}

/// A bar on stderr with the counts as its prefix and the running cases as its message.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    running: BTreeSet<String>,
    estimate: Estimate,
    passed: usize,
    failed: usize,
}

impl Progress {
    /// A bar for `total` cases, with an ETA from `estimate`.
    pub fn new(total: usize, estimate: Estimate) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{elapsed_precise:.dim} [{bar:30}] {pos}/{len} {prefix} · {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        let progress = Self { bar, running: BTreeSet::new(), estimate, passed: 0, failed: 0 };
        progress.refresh();
        progress
    }

    /// A case started.
    pub fn started(&mut self, name: &str) {
        self.running.insert(name.to_owned());
        self.refresh();
    }

    /// A case finished; `line` is printed above the bar.
    pub fn finished(&mut self, result: &CaseResult, line: &str) {
        self.running.remove(&result.name);
        self.estimate.finished(&result.name);
        self.passed += usize::from(result.outcome == crate::events::Outcome::Passed);
        self.failed += usize::from(result.outcome.is_failure());
        self.bar.println(line);
        self.bar.inc(1);
        self.refresh();
    }

    /// Prints a line above the bar.
    pub fn println(&self, line: &str) {
        self.bar.println(line);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn refresh(&self) {
        self.bar.set_prefix(status(self.passed, self.failed, self.estimate.left()));
        let names: Vec<&str> = self.running.iter().map(String::as_str).take(3).collect();
        let more = self.running.len().saturating_sub(names.len());
        let mut message = names.join(", ");
        if more > 0 {
            message.push_str(&format!(" +{more}"));
        }
        self.bar.set_message(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_recorded_durations_do_not_overflow_the_eta() {
        let huge = Duration::from_secs(u64::MAX / 2);
        let recorded = [("a".to_owned(), huge), ("b".to_owned(), huge), ("c".to_owned(), huge)];
        assert_eq!(Estimate::new(&recorded, 5, 1).left(), Some(Duration::MAX));
    }

    #[test]
    fn the_eta_follows_the_recorded_durations_of_what_is_left() {
        let recorded = [("a".to_owned(), Duration::from_secs(40)), ("b".to_owned(), Duration::from_secs(20))];
        let mut estimate = Estimate::new(&recorded, 3, 2);
        // 40 + 20 known, the unknown case at the mean (30): 90 s on two workers.
        assert_eq!(estimate.left(), Some(Duration::from_secs(45)));
        estimate.finished("a");
        assert_eq!(estimate.left(), Some(Duration::from_secs(20)));
        estimate.finished("c");
        assert_eq!(estimate.left(), Some(Duration::from_secs(10)));
        estimate.finished("b");
        assert_eq!(estimate.left(), None, "nothing recorded is left");
        assert_eq!(Estimate::new(&[], 5, 4).left(), None, "no timings, no ETA");
        assert_eq!(status(3, 1, Some(Duration::from_secs(45))), "3 passed, 1 failed, ETA 45s");
        assert_eq!(status(0, 0, None), "0 passed, 0 failed");
    }
}
