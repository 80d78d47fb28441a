//! One attempt of one case: its own task (so a panic stays inside it), its timeout, its log,
//! and cancellation when the run is aborted. Turns whatever happened into an `Outcome`.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use suites::{Case, CaseLog, Ctx, CtxConfig, Failure, FailureKind};
use tokio::time::Instant;

use super::cancel::{Stop, StopReason};
use crate::events::{CaseResult, Outcome};

/// Longest the runner spends deleting what a case left behind.
const CLEANUP_DEADLINE: Duration = Duration::from_secs(10);

tokio::task_local! {
    /// Set while a case's future is polled, so the panic hook knows a case panicked and where.
    static IN_CASE: PanicPlace;
}

/// Where a case panicked (`file:line`, as the compiler names the file), written by the panic hook.
#[derive(Clone, Default)]
struct PanicPlace(Arc<std::sync::Mutex<Option<String>>>);

impl PanicPlace {
    fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut place| place.take())
    }
}

/// Installs (once) the panic hook that reports a panicking case as that case's failure, at the
/// panic's place, instead of printing it from a worker thread. Panics outside cases still print.
pub fn catch_case_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
            let in_case = IN_CASE.try_with(|slot| {
                if let Ok(mut slot) = slot.0.lock() {
                    *slot = place;
                }
            });
            if in_case.is_err() {
                default(info);
            }
        }));
    });
}

/// Runs attempt `attempt` (1-based) of `case` with `timeout`, cancelled when `stop` aborts.
pub async fn run(case: &'static Case, ctx: Arc<CtxConfig>, timeout: Duration, stop: &Stop, attempt: u32) -> CaseResult {
    let log = CaseLog::default();
    let started = Instant::now();
    let started_at = std::time::Instant::now();
    let case_ctx = Ctx::new(ctx.clone(), case.name, log.clone()).with_attempt(attempt);
    let panic_place = PanicPlace::default();
    let task = tokio::spawn(IN_CASE.scope(panic_place.clone(), (case.run)(case_ctx.clone())));
    let abort = task.abort_handle();
    let outcome = tokio::select! {
        finished = tokio::time::timeout(timeout, task) => match finished {
            Ok(Ok(Ok(()))) => Outcome::Passed,
            Ok(Ok(Err(failure))) => outcome(&ctx, &failure),
            Ok(Err(join)) if join.is_panic() => Outcome::Failed {
                message: message(&ctx, &format!("case panicked: {}", panic_message(join.into_panic()))),
                kind: "panic",
                check: panic_place.take(),
            },
            Ok(Err(_)) => Outcome::Failed { message: "case task was cancelled".into(), kind: "cancelled", check: None },
            Err(_) => {
                abort.abort();
                log.line(format!("timed out after {timeout:?}"));
                Outcome::TimedOut { after: timeout }
            }
        },
        () = stop.aborted() => {
            abort.abort();
            match stop.reason() {
                Some(StopReason::SuiteTimeout(after)) => {
                    log.line(format!("cancelled: suite timeout of {after:?} reached"));
                    Outcome::TimedOut { after: started.elapsed() }
                }
                reason => {
                    let why = reason.map_or_else(|| "the run was stopped".to_owned(), |r| r.to_string());
                    log.line(format!("cancelled while running: {why}"));
                    Outcome::Failed {
                        message: format!("cancelled while running: {why}"),
                        kind: crate::report::junit::INTERRUPTED,
                        check: None,
                    }
                }
            }
        }
    };
    // What the case created and did not delete (it failed early, timed out or was cancelled) is
    // deleted here, within a deadline, so it cannot collide with later cases or runs.
    if case_ctx.has_leftovers() && tokio::time::timeout(CLEANUP_DEADLINE, case_ctx.delete_leftovers()).await.is_err() {
        log.line(format!("cleanup after the case did not finish within {CLEANUP_DEADLINE:?}"));
    }
    CaseResult {
        name: case.name.to_owned(),
        area: case.area.to_owned(),
        location: case.location(),
        outcome,
        duration: started.elapsed(),
        log: log.contents(),
        started: started_at,
        lane: 0,
        retries: Vec::new(),
    }
}

/// The outcome of a case that returned `failure`, with the place of the failing check. Messages
/// may quote gateway answers: the token never leaves the case unredacted.
fn outcome(ctx: &CtxConfig, failure: &Failure) -> Outcome {
    let text = message(ctx, &failure.message);
    // As the compiler names the file (relative to the workspace root), like the case's `file!()`.
    let check = Some(format!("{}:{}", failure.location().file(), failure.location().line()));
    match failure.kind {
        FailureKind::Skip => Outcome::Skipped { reason: text },
        FailureKind::Assertion => Outcome::Failed { message: text, kind: "assertion", check },
        FailureKind::Infrastructure => Outcome::Failed { message: text, kind: "infrastructure", check },
    }
}

/// Longest failure or skip message kept: a message may quote a whole gateway answer, and neither
/// the console nor the report may grow with what the gateway sends.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// `text` redacted (token) first, then cut to [`MAX_MESSAGE_BYTES`] on a character boundary with
/// the cut said; redacting after the cut would leak a token that straddles it.
pub fn message(ctx: &CtxConfig, text: &str) -> String {
    let mut text = ctx.redact(text);
    if text.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text.len() - end;
        text.truncate(end);
        text.push_str(&format!("… [{cut} more bytes cut]"));
    }
    text
}

/// The text of a panic payload.
pub fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".into()
    }
}
