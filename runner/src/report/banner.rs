//! The console's banner: the facts of `RunStarted` as `key: value` lines, printed before the
//! health gate so a reader knows what ran against what, with how many workers and which limits.

use std::path::Path;
use std::time::Duration;

use crate::events::{Endpoint, RunFacts};

/// The banner lines of `facts`, the report going to `junit`.
pub fn lines(facts: &RunFacts, junit: &Path) -> Vec<String> {
    let target = if facts.embedded {
        format!(
            "target: {} (embedded gateway double, in-memory cluster; pass --gateway-url for a real gateway)",
            facts.gateway_url
        )
    } else {
        format!("target: {} (external gateway)", facts.gateway_url)
    };
    let optional = |d: Option<Duration>| d.map_or_else(|| "none".to_owned(), |d| format!("{d:?}"));
    vec![
        target,
        facts.cluster.clone(),
        format!(
            "readiness: {} ({}; one gate before any case, deadline {:?})",
            url(&facts.readiness),
            facts.readiness.source,
            facts.health_timeout
        ),
        format!("metrics: {} ({})", url(&facts.metrics), facts.metrics.source),
        match &facts.datastorage.url {
            Some(url) => format!("datastorage: {url} ({})", facts.datastorage.source),
            None => format!("datastorage: {}", facts.datastorage.source),
        },
        format!("workers: {} ({})", facts.workers.jobs, facts.workers.source),
        format!(
            "cases: {} selected of {} registered ({} parallel, {} serial)",
            facts.parallel + facts.serial,
            facts.registered,
            facts.parallel,
            facts.serial
        ),
        format!(
            "timeouts: {:?} per case (unless a case sets its own), suite {}, interrupt grace {:?}",
            facts.case_timeout,
            optional(facts.suite_timeout),
            facts.interrupt_grace
        ),
        format!("partition: {}", facts.partition.as_deref().unwrap_or("none")),
        format!("order: {}; timings: {}", facts.order, facts.timings),
        format!(
            "retries: {} (flaky cases {} the run); runs: {}",
            facts.retries,
            if facts.flaky_fails { "fail" } else { "pass" },
            facts.runs.map_or_else(|| "until one fails".to_owned(), |n| n.to_string())
        ),
        format!("token: {}", facts.token),
        format!("junit: {}", junit.display()),
        match &facts.artifacts {
            Some((dir, source)) => format!("artifacts: {dir} (from {source}; collected there by ci/ on failure)"),
            None => "artifacts: none (--artifacts-dir names where ci/ collects them)".to_owned(),
        },
    ]
}

fn url(endpoint: &Endpoint) -> &str {
    endpoint.url.as_deref().unwrap_or("none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_is_one_line() {
        let lines = lines(&RunFacts::sample(), Path::new("out/junit.xml"));
        let text = lines.join("\n");
        for expected in [
            "target: http://127.0.0.1:8080 (external gateway)",
            "readiness: http://127.0.0.1:28080/readyz (Kind layout; one gate before any case, deadline 30s)",
            "datastorage: none answered",
            "workers: 8 (from RUST_TEST_THREADS)",
            "cases: 64 selected of 70 registered (60 parallel, 4 serial)",
            "suite 1800s, interrupt grace 2s",
            "partition: slice:2/4",
            "order: longest first; timings: none",
            "retries: 1 (flaky cases fail the run); runs: until one fails",
            "junit: out/junit.xml",
        ] {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
    }

    #[test]
    fn the_artifacts_directory_and_its_source_are_named() {
        let mut facts = RunFacts::sample();
        assert!(lines(&facts, Path::new("j.xml")).iter().any(|l| l.starts_with("artifacts: none")));
        facts.artifacts = Some(("target/e2e/artifacts".into(), "E2E_ARTIFACTS_DIR"));
        let lines = lines(&facts, Path::new("j.xml"));
        assert!(
            lines.iter().any(|l| l.starts_with("artifacts: target/e2e/artifacts (from E2E_ARTIFACTS_DIR")),
            "{lines:?}"
        );
        let properties = crate::report::junit::properties(&facts);
        assert!(properties.contains(&("artifacts".to_owned(), "target/e2e/artifacts".to_owned())), "{properties:?}");
    }
}
