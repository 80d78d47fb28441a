//! Running registered cases directly, the way the runner does (`(case.run)(Ctx::new(..))`), with
//! a deadline each, and summing up which passed and which failed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fixtures::double::RunningDouble;

use suites::{Case, CaseLog, Ctx, CtxConfig, Failure, FailureKind};

/// Longest one case may take here; a wrong double must make cases fail, not hang.
pub const CASE_DEADLINE: Duration = Duration::from_secs(30);
/// The token the doubles of these tests accept.
/// An HTTP client like the runner's (no proxy, bounded).
pub fn http() -> reqwest::Client {
    fixtures::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client builds")
}

/// What a case gets when the gateway is at `url` and the cluster is `kube`.
pub async fn ctx_config(url: &str, kube: kube::Client, double: Option<&RunningDouble>) -> Arc<CtxConfig> {
    let namespace = fixtures::crd::CONTROLLER_NAMESPACE;
    let account = fixtures::credentials::SUITE_ACCOUNT;
    fixtures::credentials::provision(&kube, namespace, account, true).await.expect("the suite's account");
    let token = fixtures::credentials::mint_token(&kube, namespace, account).await.expect("a token");
    let base = CtxConfig::for_gateway(http(), url);
    let base = match double {
        Some(double) => base.with_listeners(&double.health_url, &double.metrics_url),
        None => base,
    };
    // The audit cases read the double's DataStorage; a stand-in gateway gets an empty one.
    let datastorage_url = match double.and_then(RunningDouble::datastorage_url) {
        Some(url) => url.to_owned(),
        None => {
            let empty = fixtures::datastorage::start(Default::default()).await.expect("the DataStorage double starts");
            let url = empty.url.clone();
            std::mem::forget(empty);
            url
        }
    };
    Arc::new(CtxConfig {
        datastorage_url: Some(datastorage_url),
        kube: Some(kube),
        token: Some(Arc::from(token.as_str())),
        run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        ..base
    })
}

/// Cases that need what no in-process gateway has (a gateway pod's log) and skip here, saying
/// why; their checks are proved able to fail by their own unit tests.
pub const SKIPPED_IN_PROCESS: &[&str] = &["logs::gateway_pod_logs_json_lines"];

/// Every case's outcome, by name.
pub struct Outcomes(pub BTreeMap<&'static str, Result<(), Failure>>);

/// Runs every registered case against `config`, one at a time (so a double's misbehaviour
/// triggered by one case cannot leak into another's result).
pub async fn run_all(config: &Arc<CtxConfig>) -> Outcomes {
    run_except(config, &[]).await
}

/// Cases that cannot run behind the test proxies: a proxy reads a request's whole body before
/// it forwards it, so the requests such a case holds open never reach the double.
pub const NOT_BEHIND_A_PROXY: &[&str] = &["load::requests_over_the_in_flight_limit_are_429"];

/// [`run_all`] for a gateway behind a test proxy: every case but [`NOT_BEHIND_A_PROXY`].
pub async fn run_behind_proxy(config: &Arc<CtxConfig>) -> Outcomes {
    run_except(config, NOT_BEHIND_A_PROXY).await
}

/// Runs the registered cases whose names start with `prefix` at once (each waits out its own
/// deadline when it fails, so one after another would take their sum).
pub async fn run_concurrently(config: &Arc<CtxConfig>, prefix: &str) -> Outcomes {
    let cases: Vec<&'static Case> = suites::registered().into_iter().filter(|c| c.name.starts_with(prefix)).collect();
    let results = futures::future::join_all(cases.iter().map(|case| run_one(case, config))).await;
    Outcomes(cases.iter().map(|c| c.name).zip(results).collect())
}

async fn run_except(config: &Arc<CtxConfig>, left_out: &[&str]) -> Outcomes {
    let mut outcomes = BTreeMap::new();
    for case in suites::registered().into_iter().filter(|c| !left_out.contains(&c.name)) {
        outcomes.insert(case.name, run_one(case, config).await);
    }
    Outcomes(outcomes)
}

async fn run_one(case: &'static Case, config: &Arc<CtxConfig>) -> Result<(), Failure> {
    let log = CaseLog::default();
    let ctx = Ctx::new(config.clone(), case.name, log.clone());
    let outcome = match tokio::time::timeout(CASE_DEADLINE, (case.run)(ctx.clone())).await {
        Ok(result) => result,
        Err(_) => Err(Failure::new(format!("timed out after {CASE_DEADLINE:?}\n{}", log.contents()))),
    };
    // As the runner does after every attempt.
    ctx.delete_leftovers().await;
    outcome
}

impl Outcomes {
    /// Names of the cases that failed (assertion or infrastructure; skips are not failures).
    pub fn failed(&self) -> Vec<&'static str> {
        self.0.iter().filter(|(_, r)| matches!(r, Err(f) if f.kind != FailureKind::Skip)).map(|(n, _)| *n).collect()
    }

    /// Whether `name` is one of [`SKIPPED_IN_PROCESS`] and skipped here.
    pub fn skipped_in_process(&self, name: &str) -> bool {
        SKIPPED_IN_PROCESS.contains(&name) && matches!(self.0.get(name), Some(Err(f)) if f.kind == FailureKind::Skip)
    }

    /// Names of the cases that did not pass (failed or skipped).
    pub fn not_passed(&self) -> Vec<&'static str> {
        self.0.iter().filter(|(_, r)| r.is_err()).map(|(n, _)| *n).collect()
    }

    /// Why each case in `names` ended as it did, for assertion messages.
    pub fn explain(&self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| match self.0.get(n) {
                Some(Ok(())) => format!("{n}: passed"),
                Some(Err(f)) => format!("{n}: {:?}: {}", f.kind, f.message),
                None => format!("{n}: not registered"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Fails unless exactly the cases in `expected` failed and every other case passed.
    pub fn assert_exactly_failed(&self, expected: &[&str]) {
        for name in expected {
            assert!(self.0.contains_key(name), "{name} is not a registered case");
        }
        let failed = self.failed();
        let passed_but_should_fail: Vec<&str> = expected.iter().copied().filter(|n| !failed.contains(n)).collect();
        assert!(
            passed_but_should_fail.is_empty(),
            "these cases should fail on this double but did not:\n{}",
            self.explain(&passed_but_should_fail)
        );
        let unexpected: Vec<&str> =
            self.not_passed().into_iter().filter(|n| !expected.contains(n) && !self.skipped_in_process(n)).collect();
        assert!(unexpected.is_empty(), "these cases should pass on this double:\n{}", self.explain(&unexpected));
    }
}
