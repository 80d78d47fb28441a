//! Stopping a run: why it stops, and the two stages of stopping. `soft` = schedule nothing more;
//! `hard` = cancel what is running. A first interrupt requests soft now and hard after a grace
//! period; a second one requests hard at once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Why the run stops early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM.
    Interrupted(String),
    /// `--suite-timeout` reached.
    SuiteTimeout(Duration),
    /// `--fail-fast` / `--max-fail` reached.
    MaxFail(usize),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Interrupted(signal) => write!(f, "interrupted by {signal}"),
            StopReason::SuiteTimeout(after) => write!(f, "suite timeout of {after:?} reached"),
            StopReason::MaxFail(n) => write!(f, "stopped after {n} failure(s) (--fail-fast/--max-fail)"),
        }
    }
}

/// Shared handle to stop a run; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    soft: CancellationToken,
    hard: CancellationToken,
    reason: Arc<Mutex<Option<StopReason>>>,
}

impl Stop {
    /// Stop scheduling. The first reason given wins, except that an interrupt or the suite
    /// timeout replaces `MaxFail` (they also cancel running cases, and decide the exit code).
    pub fn request(&self, reason: StopReason) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        let replace = matches!(
            (&*slot, &reason),
            (None, _) | (Some(StopReason::MaxFail(_)), StopReason::Interrupted(_) | StopReason::SuiteTimeout(_))
        );
        if replace {
            *slot = Some(reason);
        }
        self.soft.cancel();
    }

    /// Stop scheduling now and cancel running cases after `grace` (a spawned timer).
    pub fn request_with_grace(&self, reason: StopReason, grace: Duration) {
        self.request(reason);
        let hard = self.hard.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            hard.cancel();
        });
    }

    /// Cancel running cases now.
    pub fn abort(&self, reason: StopReason) {
        self.request(reason);
        self.hard.cancel();
    }

    /// Why the run is stopping, if it is.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Scheduling has stopped.
    pub fn is_stopping(&self) -> bool {
        self.soft.is_cancelled()
    }

    /// Resolves when scheduling stops.
    pub async fn stopping(&self) {
        self.soft.cancelled().await;
    }

    /// Resolves when running cases must be cancelled.
    pub async fn aborted(&self) {
        self.hard.cancelled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn grace_period_then_abort_and_first_reason_wins() {
        let stop = Stop::default();
        stop.request_with_grace(StopReason::Interrupted("SIGINT".into()), Duration::from_secs(2));
        stop.request(StopReason::MaxFail(1));
        assert!(stop.is_stopping());
        assert_eq!(stop.reason(), Some(StopReason::Interrupted("SIGINT".into())));
        let started = tokio::time::Instant::now();
        stop.aborted().await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[test]
    fn an_interrupt_replaces_fail_fast_as_the_reason() {
        let stop = Stop::default();
        stop.request(StopReason::MaxFail(1));
        stop.request(StopReason::Interrupted("SIGINT".into()));
        assert_eq!(stop.reason(), Some(StopReason::Interrupted("SIGINT".into())));
        stop.request(StopReason::SuiteTimeout(Duration::from_secs(1)));
        assert_eq!(stop.reason(), Some(StopReason::Interrupted("SIGINT".into())));
    }
}
