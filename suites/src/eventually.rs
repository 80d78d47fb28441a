//! `eventually`: poll an asynchronous effect until it holds or a deadline passes (Gomega's
//! `Eventually`). Every wait in a case goes through a deadline.

use std::future::Future;
use std::time::Duration;

use crate::Failure;

/// Calls `probe` every `interval` until it returns `Ok`, or fails with the last error once
/// `deadline` has passed. A probe still running at the deadline is cancelled.
pub async fn eventually<T, F, Fut>(deadline: Duration, interval: Duration, mut probe: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let end = tokio::time::Instant::now() + deadline;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let attempt = tokio::time::timeout_at(end, probe())
            .await
            .unwrap_or_else(|_| Err(Failure::infra(format!("attempt {attempts} did not finish before the deadline"))));
        match attempt {
            Ok(value) => return Ok(value),
            Err(last) => {
                if tokio::time::Instant::now() + interval > end {
                    return Err(Failure {
                        message: format!("still failing after {attempts} attempts over {deadline:?}: {}", last.message),
                        kind: last.kind,
                    });
                }
                tokio::time::sleep(interval).await;
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
        let got: Result<(), Failure> = eventually(Duration::from_secs(2), Duration::from_millis(100), || async {
            std::future::pending::<()>().await;
            Ok(())
        })
        .await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        let message = got.err().map(|f| f.message).unwrap_or_default();
        assert!(message.contains("did not finish before the deadline"), "{message}");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_deadline_with_last_error() {
        let started = tokio::time::Instant::now();
        let got: Result<(), Failure> =
            eventually(Duration::from_secs(1), Duration::from_millis(100), || async { Err(Failure::new("nope")) })
                .await;
        let err = got.err().map(|f| f.message).unwrap_or_default();
        assert!(err.contains("nope"), "{err}");
        assert!(started.elapsed() <= Duration::from_secs(1));
    }
}
