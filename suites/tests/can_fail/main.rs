//! Proof the gateway cases can fail: every registered case is run (as the runner runs it)
//! against the contract double, where all must pass, and against deliberately wrong gateways,
//! where the cases covering the broken rule must fail and, for the one-fault proxies, only those.
//! Each wrong gateway gets its own fresh double and cluster.

mod doubles;
mod harness;

use doubles::{Fault, always_ok, proxy, serve};
use fixtures::double::{DoubleConfig, RunningDouble};
use harness::{TOKEN, ctx_config, run_all};

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
