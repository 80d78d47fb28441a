//! Why a case failed: a message the runner prints and writes to JUnit, and a kind for its `type`.

/// What sort of failure it was (JUnit `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// An expectation about the gateway did not hold.
    Assertion,
    /// The gateway or the Kubernetes API could not be reached or answered garbage.
    Infrastructure,
    /// The case cannot run in this environment (it is reported as skipped).
    Skip,
}

/// A failed expectation, with a message that says what was expected and what came back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// Assertion, infrastructure or skip.
    pub kind: FailureKind,
}

impl Failure {
    /// An assertion failure.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: FailureKind::Assertion }
    }

    /// An infrastructure failure (connection refused, API error).
    pub fn infra(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: FailureKind::Infrastructure }
    }

    /// Not a failure: the case cannot run here, for `reason`.
    pub fn skip(reason: impl Into<String>) -> Self {
        Self { message: reason.into(), kind: FailureKind::Skip }
    }

    /// Fails with `message` unless `condition` holds.
    pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), Failure> {
        if condition { Ok(()) } else { Err(Self::new(message())) }
    }

    /// Fails unless `actual == expected`, naming `what`.
    pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, actual: T, expected: T) -> Result<(), Failure> {
        if actual == expected {
            Ok(())
        } else {
            Err(Self::new(format!("{what}: expected {expected:?}, got {actual:?}")))
        }
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        let url = e.url().map(|u| format!(" ({u})")).unwrap_or_default();
        let mut message = format!("http request failed{url}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Self::infra(message)
    }
}

impl From<kube::Error> for Failure {
    fn from(e: kube::Error) -> Self {
        Self::infra(format!("kubernetes API call failed: {e}"))
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Self::new(format!("answer is not the expected JSON: {e}"))
    }
}
