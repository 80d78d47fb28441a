//! `eventually`: poll an asynchronous effect until it holds or a deadline passes (Gomega's
//! `Eventually`). Every wait in a case goes through a deadline.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use crate::Failure;

/// Calls `probe` every `interval` until it returns `Ok`, or fails with the last error once
/// `deadline` has passed. A probe still running at the deadline is cancelled. The failure keeps
/// the place of the probe's failing check; a probe cut at the deadline names the caller's line.
#[track_caller]
pub fn eventually<T, F, Fut>(
    deadline: Duration,
    interval: Duration,
    mut probe: F,
) -> impl Future<Output = Result<T, Failure>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    // An async fn cannot take `#[track_caller]`: the place is read here, before the future runs.
    let caller = Location::caller();
    async move {
        let end = tokio::time::Instant::now() + deadline;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let attempt = tokio::time::timeout_at(end, probe()).await.unwrap_or_else(|_| {
                let cut = Failure::infra(format!("attempt {attempts} did not finish before the deadline"));
                Err(Failure { at: caller, ..cut })
            });
            match attempt {
                Ok(value) => return Ok(value),
                Err(last) => {
                    if tokio::time::Instant::now() + interval > end {
                        let message =
                            format!("still failing after {attempts} attempts over {deadline:?}: {}", last.message);
                        return Err(Failure { message, ..last });
                    }
                    tokio::time::sleep(interval).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn returns_first_success() {
        let mut calls = 0;
        let got = eventually(Duration::from_secs(5), Duration::from_millis(100), || {
            calls += 1;
            let n = calls;
            async move { if n >= 3 { Ok(n) } else { Err(Failure::new("not yet")) } }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_probe_is_cut_at_the_deadline() {
        let started = tokio::time::Instant::now();
        let (waiting, line) = (
            eventually(Duration::from_secs(2), Duration::from_millis(100), || async {
                std::future::pending::<()>().await;
                Ok::<(), Failure>(())
            }),
            line!() - 4,
        );
        let got = waiting.await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        let failure = got.expect_err("the probe never finishes");
        assert!(failure.message.contains("did not finish before the deadline"), "{}", failure.message);
        // No check failed: the place is the wait in the caller, not this module's internals.
        assert_eq!((failure.location().file(), failure.location().line()), (file!(), line));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_deadline_with_last_error() {
        let started = tokio::time::Instant::now();
        let probe_line = line!() + 2;
        let got: Result<(), Failure> =
            eventually(Duration::from_secs(1), Duration::from_millis(100), || async { Err(Failure::new("nope")) })
                .await;
        let failure = got.expect_err("the probe always fails");
        assert!(failure.message.contains("nope"), "{}", failure.message);
        assert_eq!(failure.location().line(), probe_line, "the probe's failing check is named");
        assert!(started.elapsed() <= Duration::from_secs(1));
    }
}
