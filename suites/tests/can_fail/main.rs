//! Proof the gateway cases can fail: every registered case is run (as the runner runs it)
//! against the contract double, where all must pass, and against deliberately wrong gateways,
//! where the cases covering the broken rule must fail and, for the one-fault proxies, only those.
//! Each wrong gateway gets its own fresh double and cluster.

mod doubles;
mod harness;
mod rewrites;

use doubles::{Fault, always_ok, proxy, serve};
use fixtures::double::{DoubleConfig, RunningDouble};
use harness::{ctx_config, run_all, run_behind_proxy, run_concurrently};

/// The contract double, sending its audit events to a DataStorage double of its own (left
/// running until the test's runtime ends).
async fn contract_double() -> RunningDouble {
    double_with(DoubleConfig::default()).await
}

/// A double configured as `config`, with its own DataStorage double.
async fn double_with(config: DoubleConfig) -> RunningDouble {
    let datastorage = fixtures::datastorage::start(Default::default()).await.expect("the DataStorage double starts");
    let config = DoubleConfig { datastorage_url: Some(datastorage.url.clone()), ..config };
    std::mem::forget(datastorage);
    fixtures::double::start(config).await.expect("the contract double starts")
}

/// A gateway without a throttle (no in-flight limit): only the throttle case notices.
#[tokio::test]
async fn throttle_case_fails_on_a_gateway_without_a_throttle() {
    let double = double_with(DoubleConfig { max_concurrent_requests: Some(0), ..DoubleConfig::default() }).await;
    let outcomes = run_all(&ctx_config(&double.url, double.kube.clone(), Some(&double)).await).await;
    outcomes.assert_exactly_failed(&["load::requests_over_the_in_flight_limit_are_429"]);
    double.shutdown().await;
}

#[tokio::test]
async fn every_case_passes_on_the_contract_double() {
    let double = contract_double().await;
    let outcomes = run_all(&ctx_config(&double.url, double.kube.clone(), Some(&double)).await).await;
    assert!(outcomes.0.len() >= 80, "only {} cases registered", outcomes.0.len());
    outcomes.assert_exactly_failed(&[]);
    double.shutdown().await;
}

/// Its `{}` is no answer the contract knows: every case fails there. Health and metrics are a
/// second such server, as a gateway's own listeners are.
#[tokio::test]
async fn every_case_fails_on_a_gateway_answering_200_to_everything() {
    let url = serve(always_ok()).await;
    let listeners = serve(always_ok()).await;
    let kube = fixtures::cluster::in_memory().await.expect("in-memory cluster");
    let config = (*ctx_config(&url, kube, None).await).clone().with_listeners(&listeners, &listeners);
    let outcomes = run_all(&std::sync::Arc::new(config)).await;
    let all: Vec<&str> = outcomes.0.keys().copied().filter(|n| !harness::SKIPPED_IN_PROCESS.contains(n)).collect();
    outcomes.assert_exactly_failed(&all);
}

/// The cases that need a repeat to be a duplicate.
const NEEDS_DEDUPLICATION: &[&str] = &[
    "audit::alert_events_carry_payload_labels_and_annotations",
    "audit::annotated_alert_events_carry_its_labels_and_annotations",
    "audit::repeat_is_audited_as_deduplicated_with_count",
    "dedup::alert_and_event_about_one_resource_are_one_incident",
    "dedup::blocked_phase_stays_duplicate",
    "dedup::concurrent_repeats_make_no_second_request",
    "dedup::duplicate_answer_carries_metadata",
    "dedup::occurrence_count_grows_with_each_repeat",
    "dedup::pending_phase_stays_duplicate",
    "dedup::processing_phase_stays_duplicate",
    "dedup::repeat_alert_is_duplicate",
    "dedup::two_alertnames_about_one_resource_are_one_incident",
    "events::repeated_event_is_duplicate",
    "ingestion::pods_of_one_deployment_are_one_incident",
    "metrics::deduplicated_counter_grows",
];

#[tokio::test]
async fn dedup_cases_fail_on_a_gateway_that_never_deduplicates() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::NeverDeduplicates);
    let url = serve(app).await;
    let outcomes = run_behind_proxy(&ctx_config(&url, double.kube.clone(), Some(&double)).await).await;
    outcomes.assert_exactly_failed(NEEDS_DEDUPLICATION);
    double.shutdown().await;
}

/// The cases that need a signal to be refused with a 4xx.
const NEEDS_REFUSAL: &[&str] = &[
    "batch::all_dropped_batch_is_400",
    "events::event_about_missing_object_is_400",
    "events::event_without_object_kind_is_400",
    "events::event_without_object_name_is_400",
    "events::event_without_reason_is_400",
    "events::malformed_event_is_400",
    "events::normal_event_is_400",
    "events::unknown_event_type_is_400",
    "ingestion::alert_about_a_missing_pod_is_400",
    "metrics::runtime_families_served_after_invalid_post",
    "security::auth_is_checked_before_other_checks",
    "security::cross_origin_answers_carry_allow_origin",
    "security::missing_token_is_401",
    "security::problem_detail_never_echoes_secrets",
    "security::unbound_account_is_403_on_both_routes",
    "security::unknown_token_is_401_and_not_echoed",
    "validation::alert_without_starts_at_or_stamp_is_400",
    "validation::alerts_of_the_wrong_type_are_400_problem",
    "validation::body_over_100_kib_is_400_parse_failure",
    "validation::body_over_256_kib_is_413",
    "validation::empty_body_is_400_problem",
    "validation::empty_or_missing_alerts_is_400_problem",
    "validation::event_without_timestamps_is_400",
    "validation::freshness_is_checked_before_content_type",
    "validation::future_x_timestamp_is_400",
    "validation::malformed_json_is_400_problem",
    "validation::missing_alertname_is_400_problem",
    "validation::non_json_content_type_is_415_with_accept",
    "validation::non_numeric_or_negative_x_timestamp_is_400",
    "validation::old_x_timestamp_is_400",
    "validation::permanent_errors_are_answered_without_retry_delay",
    "validation::stale_event_is_400",
];

#[tokio::test]
async fn validation_cases_fail_on_a_gateway_that_skips_validation() {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), Fault::SkipsValidation);
    let url = serve(app).await;
    let outcomes = run_behind_proxy(&ctx_config(&url, double.kube.clone(), Some(&double)).await).await;
    outcomes.assert_exactly_failed(NEEDS_REFUSAL);
    double.shutdown().await;
}

/// Details are generic (contract §2): a gateway that appends the request (body and token) to
/// them fails every case that reads a handler's detail, not only the secrecy cases.
#[tokio::test]
async fn secrecy_cases_fail_on_a_gateway_that_echoes_secrets_in_details() {
    only_these_fail(
        Fault::LeaksSecrets,
        &[
            "batch::all_dropped_batch_is_400",
            "events::event_about_missing_object_is_400",
            "events::event_without_object_kind_is_400",
            "events::event_without_object_name_is_400",
            "events::event_without_reason_is_400",
            "events::malformed_event_is_400",
            "events::normal_event_is_400",
            "events::unknown_event_type_is_400",
            "ingestion::alert_about_a_missing_pod_is_400",
            "security::problem_detail_never_echoes_secrets",
            "security::unbound_account_is_403_on_both_routes",
            "security::unknown_token_is_401_and_not_echoed",
            "validation::alerts_of_the_wrong_type_are_400_problem",
            "validation::body_over_100_kib_is_400_parse_failure",
            "validation::empty_body_is_400_problem",
            "validation::empty_or_missing_alerts_is_400_problem",
            "validation::malformed_json_is_400_problem",
            "validation::missing_alertname_is_400_problem",
            "validation::permanent_errors_are_answered_without_retry_delay",
        ],
    )
    .await;
}

/// Events counted under the alerts' `source_type`: the received counter still grows, so only the
/// case that requires growth in a series other than the alerts' (told apart by severity `info`,
/// which only alerts have) notices.
#[tokio::test]
async fn event_metrics_case_fails_on_a_gateway_that_counts_events_as_alerts() {
    let double = contract_double().await;
    // The wrong metrics are served by the metrics listener: the proxy stands in front of it.
    let metrics = proxy(&double.metrics_url, double.kube.clone(), double.namespace(), Fault::CountsEventsAsAlerts);
    let metrics_url = serve(metrics).await;
    let config = ctx_config(&double.url, double.kube.clone(), Some(&double)).await;
    let config = std::sync::Arc::new((*config).clone().with_listeners(&double.health_url, &metrics_url));
    let outcomes = run_all(&config).await;
    outcomes.assert_exactly_failed(&["metrics::event_signals_are_counted"]);
    double.shutdown().await;
}

/// Metrics without the runtime families: only the case that asks for them notices.
#[tokio::test]
async fn runtime_families_case_fails_on_a_gateway_without_them() {
    let double = contract_double().await;
    let metrics = proxy(&double.metrics_url, double.kube.clone(), double.namespace(), Fault::HidesRuntimeFamilies);
    let metrics_url = serve(metrics).await;
    let config = ctx_config(&double.url, double.kube.clone(), Some(&double)).await;
    let config = std::sync::Arc::new((*config).clone().with_listeners(&double.health_url, &metrics_url));
    let outcomes = run_all(&config).await;
    outcomes.assert_exactly_failed(&["metrics::runtime_families_served_after_invalid_post"]);
    double.shutdown().await;
}

/// Runs every case against a proxy with `fault` in front of a fresh contract double and expects
/// exactly `failing` to fail.
async fn only_these_fail(fault: Fault, failing: &[&str]) {
    let double = contract_double().await;
    let app = proxy(&double.url, double.kube.clone(), double.namespace(), fault);
    let url = serve(app).await;
    let outcomes = run_behind_proxy(&ctx_config(&url, double.kube.clone(), Some(&double)).await).await;
    outcomes.assert_exactly_failed(failing);
    double.shutdown().await;
}

#[tokio::test]
async fn missing_object_cases_fail_on_a_gateway_that_creates_requests_for_them() {
    only_these_fail(
        Fault::CreatesMissingObjects,
        &[
            "batch::all_dropped_batch_is_400",
            "batch::partial_batch_answers_201",
            "events::event_about_missing_object_is_400",
            "ingestion::alert_about_a_missing_pod_is_400",
        ],
    )
    .await;
}

#[tokio::test]
async fn scope_cases_fail_on_a_gateway_that_ignores_scope() {
    only_these_fail(
        Fault::IgnoresScope,
        &[
            "scope::batch_with_unmanaged_alert_reports_rejected",
            "scope::opted_out_pod_in_managed_namespace_is_rejected",
            "scope::rejected_counter_grows",
            "scope::unmanaged_event_is_rejected",
            "scope::unmanaged_namespace_is_rejected",
        ],
    )
    .await;
}

#[tokio::test]
async fn cors_cases_fail_on_a_gateway_without_cors() {
    only_these_fail(
        Fault::DropsCors,
        &["security::cors_preflight_needs_no_token", "security::cross_origin_answers_carry_allow_origin"],
    )
    .await;
}

/// A gateway that sends DataStorage nothing (the harness gives the cases an empty DataStorage):
/// every audit case fails. (Nothing else depends on audit, as the contract double's run shows;
/// the audit cases run at once here, each waiting out its deadline.)
#[tokio::test]
async fn audit_cases_fail_on_a_gateway_that_sends_no_audit_events() {
    let double = fixtures::double::start(DoubleConfig::default()).await.expect("the double starts");
    assert!(double.datastorage_url().is_none(), "this double has no DataStorage to send to");
    let outcomes =
        run_concurrently(&ctx_config(&double.url, double.kube.clone(), Some(&double)).await, "audit::").await;
    let audit: Vec<&str> = outcomes.0.keys().copied().collect();
    assert!(audit.len() >= 4, "{audit:?}");
    outcomes.assert_exactly_failed(&audit);
    double.shutdown().await;
}

#[tokio::test]
async fn severity_cases_fail_on_a_gateway_that_normalizes_severity() {
    only_these_fail(
        Fault::NormalizesSeverity,
        // The audit case sees the rewritten alert's labels in the event.
        &[
            "audit::alert_events_carry_payload_labels_and_annotations",
            "ingestion::severity_is_passed_through",
            "metrics::received_counter_grows",
        ],
    )
    .await;
}

#[tokio::test]
async fn request_id_case_fails_on_a_gateway_that_echoes_it() {
    only_these_fail(Fault::EchoesRequestId, &["security::inbound_request_id_is_not_echoed"]).await;
}

#[tokio::test]
async fn label_cases_fail_on_a_gateway_with_v1_labels() {
    only_these_fail(Fault::UsesV1Labels, V1_LABEL_CASES).await;
}

/// The cases that find RemediationRequests by the v2 managed-by label, or check it.
const V1_LABEL_CASES: &[&str] = &[
    "dedup::cancelled_phase_allows_new_request",
    "dedup::completed_phase_allows_new_request",
    "dedup::concurrent_repeats_make_no_second_request",
    "dedup::failed_phase_allows_new_request",
    "dedup::skipped_phase_allows_new_request",
    "dedup::timed_out_phase_allows_new_request",
    "ingestion::remediation_request_metadata_and_initial_status",
    "load::hundred_distinct_signals_make_hundred_requests",
];

#[tokio::test]
async fn batch_cases_fail_on_a_gateway_with_v1_results() {
    only_these_fail(
        Fault::AnswersV1Results,
        &[
            "batch::batch_summary_counts_duplicates_and_rejections",
            "batch::multi_alert_webhook_answers_207_per_alert",
            "scope::batch_with_unmanaged_alert_reports_rejected",
        ],
    )
    .await;
}

#[tokio::test]
async fn terminal_phase_cases_fail_on_a_gateway_that_deduplicates_against_them() {
    only_these_fail(
        Fault::DeduplicatesAgainstTerminal,
        &[
            "dedup::cancelled_phase_allows_new_request",
            "dedup::completed_phase_allows_new_request",
            "dedup::failed_phase_allows_new_request",
            "dedup::skipped_phase_allows_new_request",
            "dedup::timed_out_phase_allows_new_request",
        ],
    )
    .await;
}
