//! Proof the gateway cases can fail: every registered case is run (as the runner runs it)
//! against the contract double, where all must pass, and against deliberately wrong gateways,
//! where the cases covering the broken rule must fail and, for the one-fault proxies, only those.
//! Each wrong gateway gets its own fresh double and cluster.

mod doubles;
mod harness;

use doubles::{Fault, always_ok, proxy, serve};
use fixtures::double::{DoubleConfig, Faults, RunningDouble};
use harness::{TOKEN, ctx_config, run_all, run_named};

async fn contract_double() -> RunningDouble {
    let config = DoubleConfig { tokens: vec![TOKEN.to_owned()], ..DoubleConfig::default() };
    fixtures::double::start(config).await.expect("the contract double starts")
}

#[tokio::test]
async fn every_case_passes_on_the_contract_double() {
    let double = contract_double().await;
    let outcomes = run_all(&ctx_config(&double.url, double.kube.clone())).await;
    assert!(outcomes.0.len() >= 35, "only {} cases registered", outcomes.0.len());
    outcomes.assert_exactly_failed(&[]);
    double.shutdown().await;
}

/// Its `{}` has no `"status": "rejected"`, so the cases expecting 201 fail there rather than
/// skip as they do on a real gateway's 200 `rejected` (contract §8).
#[tokio::test]
async fn every_case_fails_on_a_gateway_answering_200_to_everything() {
    let url = serve(always_ok()).await;
    let kube = fixtures::cluster::in_memory().await.expect("in-memory cluster");
    let outcomes = run_all(&ctx_config(&url, kube)).await;
    let all: Vec<&str> = outcomes.0.keys().copied().collect();
    outcomes.assert_exactly_failed(&all);
}

/// The cases that need a repeat to be a duplicate.
const NEEDS_DEDUPLICATION: &[&str] = &[
    "dedup::alert_and_event_about_one_resource_are_one_incident",
    "dedup::concurrent_identical_signals_make_one_request",
    "dedup::duplicate_answer_carries_metadata",
    "dedup::occurrence_count_grows_with_each_repeat",
    "dedup::pending_phase_stays_duplicate",
    "dedup::processing_phase_stays_duplicate",
    "dedup::repeat_alert_is_duplicate",
    "dedup::two_alertnames_about_one_resource_are_one_incident",
    "dedup::unknown_phase_counts_as_in_progress",
    "events::repeated_event_is_duplicate",
    "metrics::deduplicated_counter_grows",
];

#[tokio::test]
async fn dedup_cases_fail_on_a_gateway_that_never_deduplicates() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::NeverDeduplicates);
    let url = serve(app).await;
    let outcomes = run_all(&ctx_config(&url, double.kube.clone())).await;
    outcomes.assert_exactly_failed(NEEDS_DEDUPLICATION);
    double.shutdown().await;
}

/// The cases that need a signal to be refused with a 4xx.
const NEEDS_REFUSAL: &[&str] = &[
    "events::event_without_object_kind_is_400",
    "events::event_without_object_name_is_400",
    "events::event_without_reason_is_400",
    "events::normal_event_is_400",
    "events::unknown_event_type_is_400",
    "security::auth_is_checked_before_other_checks",
    "security::missing_token_is_401",
    "security::problem_detail_never_echoes_secrets",
    "security::unknown_token_is_401_and_not_echoed",
    "validation::body_over_256_kib_is_413",
    "validation::empty_body_is_400_problem",
    "validation::empty_or_missing_alerts_is_400_problem",
    "validation::future_x_timestamp_is_400",
    "validation::malformed_json_is_400_problem",
    "validation::missing_alertname_is_400_problem",
    "validation::non_json_content_type_is_415_with_accept",
    "validation::non_numeric_or_negative_x_timestamp_is_400",
    "validation::old_x_timestamp_is_400",
    "validation::signal_without_any_timestamp_is_400",
    "validation::stale_event_is_400",
];

#[tokio::test]
async fn validation_cases_fail_on_a_gateway_that_skips_validation() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::SkipsValidation);
    let url = serve(app).await;
    let outcomes = run_all(&ctx_config(&url, double.kube.clone())).await;
    outcomes.assert_exactly_failed(NEEDS_REFUSAL);
    double.shutdown().await;
}

#[tokio::test]
async fn secrecy_cases_fail_on_a_gateway_that_echoes_secrets_in_details() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::LeaksSecrets);
    let url = serve(app).await;
    let outcomes = run_all(&ctx_config(&url, double.kube.clone())).await;
    outcomes.assert_exactly_failed(&[
        "security::problem_detail_never_echoes_secrets",
        "security::unknown_token_is_401_and_not_echoed",
    ]);
    double.shutdown().await;
}

/// Events counted under the alerts' `source_type`: the received counter still grows, so only the
/// case that requires growth in a series other than the alerts' (told apart by severity `info`,
/// which only alerts have) notices.
#[tokio::test]
async fn event_metrics_case_fails_on_a_gateway_that_counts_events_as_alerts() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::CountsEventsAsAlerts);
    let url = serve(app).await;
    let outcomes = run_all(&ctx_config(&url, double.kube.clone())).await;
    outcomes.assert_exactly_failed(&["metrics::event_signals_are_counted"]);
    double.shutdown().await;
}

/// The cases that send many signals at once, where the gateway may shed some (503 with
/// `Retry-After`, contract §3 step 6).
const UNDER_LOAD: &[&str] =
    &["health::health_stays_200_during_signal_burst", "load::hundred_distinct_signals_make_hundred_requests"];

/// A double answering 30% of signal requests 503 with `Retry-After` (the seed fixes which).
async fn shedding_double() -> RunningDouble {
    let faults = Faults { signal_503_fraction: 0.3, seed: 11, ..Faults::default() };
    let config = DoubleConfig { tokens: vec![TOKEN.to_owned()], faults, ..DoubleConfig::default() };
    fixtures::double::start(config).await.expect("the shedding double starts")
}

/// Shedding load is within the contract: the burst tolerates it, the load case sends again.
#[tokio::test]
async fn load_cases_pass_on_a_gateway_that_sheds_signals_with_retry_after() {
    let double = shedding_double().await;
    let outcomes = run_named(&ctx_config(&double.url, double.kube.clone()), UNDER_LOAD).await;
    outcomes.assert_exactly_failed(&[]);
    double.shutdown().await;
}

/// A 503 without `Retry-After` is a server error, not shedding: both cases fail.
#[tokio::test]
async fn load_cases_fail_on_a_gateway_that_sheds_signals_without_retry_after() {
    let double = shedding_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::DropsRetryAfter);
    let url = serve(app).await;
    let outcomes = run_named(&ctx_config(&url, double.kube.clone()), UNDER_LOAD).await;
    outcomes.assert_exactly_failed(UNDER_LOAD);
    double.shutdown().await;
}
