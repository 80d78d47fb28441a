//! Why a case failed: a message the runner prints and writes to JUnit, a kind for its `type`,
//! and where the failing check is (`#[track_caller]`: the line in the case, not in this file).

use std::panic::Location;

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

/// A failed expectation, with a message that says what was expected and what came back, and the
/// place of the check that failed. Outside this crate it is built only through its constructors
/// (the place is crate-private), so every failure knows where it was made:
///
/// ```compile_fail
/// // The place cannot be carried over (nor set) outside the crate.
/// let failure = suites::Failure { message: "x".into(), ..suites::Failure::new("y") };
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// Assertion, infrastructure or skip.
    pub kind: FailureKind,
    /// The call that made it: the case's line for `ensure`, `new`, `?` on a foreign error, and
    /// for the helpers marked `#[track_caller]`.
    pub(crate) at: &'static Location<'static>,
}

impl Failure {
    /// An assertion failure.
    #[track_caller]
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: FailureKind::Assertion, at: Location::caller() }
    }

    /// An infrastructure failure (connection refused, API error).
    #[track_caller]
    pub fn infra(message: impl Into<String>) -> Self {
        Self { message: message.into(), kind: FailureKind::Infrastructure, at: Location::caller() }
    }

    /// Not a failure: the case cannot run here, for `reason`.
    #[track_caller]
    pub fn skip(reason: impl Into<String>) -> Self {
        Self { message: reason.into(), kind: FailureKind::Skip, at: Location::caller() }
    }

    /// Where the failure was made: the source file (as the compiler names it, relative to the
    /// workspace root like `file!()`) and line of the failing check.
    pub fn location(&self) -> &'static Location<'static> {
        self.at
    }

    /// Fails with `message` unless `condition` holds.
    #[track_caller]
    pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), Failure> {
        if condition { Ok(()) } else { Err(Self::new(message())) }
    }

    /// Fails unless `actual == expected`, naming `what`.
    #[track_caller]
    pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, actual: T, expected: T) -> Result<(), Failure> {
        if actual == expected {
            Ok(())
        } else {
            Err(Self::new(format!("{what}: expected {expected:?}, got {actual:?}")))
        }
    }
}

// `?` passes its own place to `From::from`, so these record the line of the `?`.
impl From<reqwest::Error> for Failure {
    #[track_caller]
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
    #[track_caller]
    fn from(e: kube::Error) -> Self {
        Self::infra(format!("kubernetes API call failed: {e}"))
    }
}

impl From<serde_json::Error> for Failure {
    #[track_caller]
    fn from(e: serde_json::Error) -> Self {
        Self::new(format!("answer is not the expected JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(file, line)` of a failure.
    fn place(failure: &Failure) -> (&'static str, u32) {
        (failure.location().file(), failure.location().line())
    }

    #[test]
    fn ensure_records_the_line_of_the_check_in_its_caller() {
        let (got, line) = (Failure::ensure(false, || "expected 201, got 500".into()), line!());
        let failure = got.expect_err("the condition is false");
        assert_eq!(place(&failure), (file!(), line));
        assert_eq!(failure.message, "expected 201, got 500");
        assert!(!file!().starts_with('/'), "file!() is relative to the workspace root: {}", file!());
    }

    #[test]
    fn ensure_eq_new_and_infra_record_their_callers_line() {
        let (eq, eq_line) = (Failure::ensure_eq("status", 500, 201), line!());
        assert_eq!(place(&eq.expect_err("500 is not 201")), (file!(), eq_line));
        let (new, new_line) = (Failure::new("x"), line!());
        assert_eq!(place(&new), (file!(), new_line));
        let (infra, infra_line) = (Failure::infra("x"), line!());
        assert_eq!(place(&infra), (file!(), infra_line));
    }

    /// A check a few lines down a function that fails on its second check.
    fn second_check_fails(status: u16) -> (Result<(), Failure>, u32) {
        let first = Failure::ensure_eq("body", "ok", "ok");
        assert!(first.is_ok());
        (Failure::ensure(status == 201, || format!("got {status}")), line!())
    }

    #[test]
    fn the_failing_check_is_named_not_the_first_one() {
        let (got, line) = second_check_fails(500);
        assert_eq!(place(&got.expect_err("500 fails")), (file!(), line));
    }

    #[test]
    fn a_helper_marked_track_caller_names_its_callers_line() {
        let answer = crate::Response {
            status: 500,
            headers: reqwest::header::HeaderMap::new(),
            body: "oops".into(),
            path: "/api/v1/signals/prometheus".into(),
        };
        let (got, line) = (answer.expect_status(201).map(|_| ()), line!());
        assert_eq!(place(&got.expect_err("500 is not 201")), (file!(), line));
        let (got, line) = (answer.json(), line!());
        assert_eq!(place(&got.expect_err("oops is not JSON")), (file!(), line));
    }

    fn parse(text: &str) -> (Result<serde_json::Value, Failure>, u32) {
        let parsed = || -> Result<serde_json::Value, Failure> { Ok(serde_json::from_str(text)?) };
        (parsed(), line!() - 1)
    }

    #[test]
    fn question_mark_on_a_foreign_error_records_the_line_of_the_question_mark() {
        let (got, line) = parse("not json");
        let failure = got.expect_err("not JSON");
        assert_eq!(place(&failure), (file!(), line));
        assert_eq!(failure.kind, FailureKind::Assertion);
    }
}
