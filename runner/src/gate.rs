//! The one health gate: `GET {health-url}` until 200 or a deadline, before any case runs. On
//! failure the error names the URL, attempts, elapsed time, the last answer, and what to check.

use std::time::Duration;

use tokio::time::Instant;

use crate::events::GateResult;

/// How the gate checks the gateway.
#[derive(Clone, Debug)]
pub struct HealthGate {
    /// URL that must answer 200.
    pub url: String,
    /// Give up after this long.
    pub deadline: Duration,
    /// Wait between attempts (doubles up to `max_interval`).
    pub interval: Duration,
    /// Longest wait between attempts.
    pub max_interval: Duration,
}

impl HealthGate {
    /// A gate for `url` with `deadline`, polling from 20 ms up to 250 ms.
    pub fn new(url: impl Into<String>, deadline: Duration) -> Self {
        Self {
            url: url.into(),
            deadline,
            interval: Duration::from_millis(20),
            max_interval: Duration::from_millis(250),
        }
    }

    /// Polls until healthy or the deadline; never waits past it.
    pub async fn wait(&self, http: &reqwest::Client) -> GateResult {
        let start = Instant::now();
        let started = std::time::Instant::now();
        let end = start + self.deadline;
        let mut attempts = 0;
        let mut interval = self.interval;
        let mut last: String;
        loop {
            attempts += 1;
            let remaining = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining.max(Duration::from_millis(1)), http.get(&self.url).send()).await {
                Ok(Ok(answer)) if answer.status().as_u16() == 200 => {
                    return GateResult {
                        started,
                        url: self.url.clone(),
                        attempts,
                        elapsed: start.elapsed(),
                        error: None,
                    };
                }
                Ok(Ok(answer)) => last = format!("answered {}", answer.status()),
                Ok(Err(e)) => last = describe(&e),
                Err(_) => last = "request did not finish before the deadline".into(),
            }
            let now = Instant::now();
            if now + interval >= end {
                let elapsed = start.elapsed();
                let error = format!(
                    "health gate failed: {url} was not healthy after {attempts} attempts in {elapsed:.1?} (deadline {deadline:?}); last: {last}\n\
                     hint: is this the gateway's readiness URL? Point the gate elsewhere with --health-url. \
                     Is the gateway running and ready (a real Gateway stays unready until its Kubernetes API and DataStorage answer)? \
                     On Kind: is the cluster up (`make kind-up`), is the gateway deployed (`make deploy`), and are NodePorts \
                     30080/30180/30090 mapped to host ports 8080/28080/9090 (fixtures/data/kind/kind-gateway-config.yaml)? \
                     Raise the wait with --health-timeout.",
                    url = self.url,
                    deadline = self.deadline,
                );
                return GateResult { started, url: self.url.clone(), attempts, elapsed, error: Some(error) };
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(self.max_interval);
        }
    }
}

/// A reqwest error with its causes (e.g. "connection refused").
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closed_port_fails_with_url_attempts_and_hint() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0");
        let port = listener.as_ref().map(|l| l.local_addr().map(|a| a.port()).unwrap_or(1)).unwrap_or(1);
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/health");
        let deadline = Duration::from_millis(300);
        let gate = HealthGate::new(&url, deadline);
        let result = gate.wait(&reqwest::Client::new()).await;
        let error = result.error.unwrap_or_default();
        assert!(error.contains(&url), "{error}");
        assert!(error.contains("make kind-up"), "{error}");
        assert!(result.attempts >= 2, "{}", result.attempts);
        // It gives up at its deadline: never a wait past it (slack for one refused connect).
        assert!(result.elapsed <= deadline + Duration::from_secs(1), "{:?}", result.elapsed);
    }
}
