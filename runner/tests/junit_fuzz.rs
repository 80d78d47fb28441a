//! Any case names, messages and logs — any Unicode, control characters, ESC sequences, `]]>`,
//! NUL, U+FFFE/U+FFFF, very long strings — produce JUnit that parses and validates against the
//! junit-4 XSD.

mod support;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use runner::events::{CaseResult, FailedAttempt, GateResult, Outcome};
use runner::report::junit::{self, RunInfo};

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        Just("\u{1b}[31mred\u{1b}[0m ]]> <![CDATA[ x ]]> \u{0} \u{FFFE}\u{FFFF} &amp; <tag attr=\"q\">".to_owned()),
        proptest::collection::vec(any::<char>(), 0..200).prop_map(|v| v.into_iter().collect()),
        ".{0,10}".prop_map(|s| s.repeat(20_000)),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Passed),
        hostile_text().prop_map(|message| Outcome::Failed { message, kind: "assertion", check: None }),
        (0u64..10_000).prop_map(|ms| Outcome::TimedOut { after: Duration::from_millis(ms) }),
        hostile_text().prop_map(|reason| Outcome::Skipped { reason }),
    ]
}

fn case() -> impl Strategy<Value = CaseResult> {
    (hostile_text(), hostile_text(), outcome(), hostile_text(), proptest::option::of((hostile_text(), hostile_text())))
        .prop_map(|(name, area, outcome, log, retry)| CaseResult {
            name,
            area,
            location: "suites/src/gateway/x.rs:1".into(),
            outcome,
            duration: Duration::from_millis(3),
            log,
            started: Instant::now(),
            lane: 0,
            retries: retry
                .map(|(message, log)| FailedAttempt {
                    outcome: Outcome::Failed { message, kind: "assertion", check: None },
                    duration: Duration::from_millis(1),
                    started: Instant::now(),
                    log,
                })
                .into_iter()
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn junit_is_valid_for_any_text(
        cases in proptest::collection::vec(case(), 0..6),
        gate_error in proptest::option::of(hostile_text()),
        property in hostile_text(),
    ) {
        // Retried cases write flakyFailure/rerunFailure, which junit-4 does not know: the default
        // report is checked by parsing, the strict one (--junit-strict) by the schema too.
        let info = RunInfo {
            properties: vec![("note".to_owned(), property)],
            gate: gate_error.map(|error| GateResult {
                started: Instant::now(),
                url: "http://127.0.0.1:1/health".into(),
                attempts: 1,
                elapsed: Duration::from_millis(5),
                error: Some(error),
            }),
            complete: true,
            ..RunInfo::default()
        };
        let xml = junit::to_xml(&junit::build(&cases, &info)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = quick_junit::Report::deserialize_from_str(&xml);
        prop_assert!(parsed.is_ok(), "does not parse: {:?}", parsed.err());
        let strict = junit::to_xml(&junit::build(&cases, &RunInfo { strict_junit4: true, ..info }))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = dir.path().join("junit.xml");
        std::fs::write(&path, &strict).map_err(|e| TestCaseError::fail(e.to_string()))?;
        support::assert_valid_junit4(&path);
    }
}
