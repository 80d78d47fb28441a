//! Deduplication (contract §6): repeats are 202 duplicates that bump `occurrenceCount` while the
//! incident is in progress; a terminal phase lets the next signal create a new resource, unless
//! its outcome asks for manual review or its backoff has not passed; concurrent repeats make one
//! resource; the fingerprint is the target resource, not the signal.

use fixtures::crd::TERMINAL_PHASES;
use fixtures::payloads::{Event, Webhook};
use serde_json::{Value, json};

use super::support::{
    alert_created, cleaning_up, expect_created, expect_duplicate, parse_time, pod_alert, rrs_with_fingerprint,
    set_phase, set_status, str_field, wait_for_occurrences, wait_for_rr, world_with_pod,
};
use crate::{Ctx, Failure, case};

/// Identical signals sent at once by the concurrency case.
const CONCURRENT: usize = 10;
/// How long the concurrent repeats' count may take to show (upstream's own bound).
const COUNTED_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Upstream rule: `processing/phase_checker.go` — a repeat while the RR is not terminal is a 202
/// duplicate of it and its `occurrenceCount` grows (`test/e2e/gateway/36_deduplication_state_test.go`).
async fn repeat_alert_is_duplicate(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "repeat", "worker-0").await?;
        let webhook = Webhook::with_alert(pod_alert("CrashLooping", "worker-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        let (second, _) = expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        Failure::ensure_eq("remediationRequestName", second.name.as_str(), first.name.as_str())?;
        wait_for_occurrences(&ctx, &first.name, 2).await.map(drop)
    })
    .await
}
case!(repeat_alert_is_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `response_types.go` (`NewDuplicateResponseFromRR`) — a duplicate answer carries
/// `metadata{count, remediationRequestRef: <ns>/<name>, firstOccurrence, lastOccurrence}`.
async fn duplicate_answer_carries_metadata(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "dupmeta", "disk-0").await?;
        let webhook = Webhook::with_alert(pod_alert("DiskFilling", "disk-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        let (second, count) = expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        Failure::ensure_eq("fingerprint of the repeat", second.fingerprint.as_str(), first.fingerprint.as_str())?;
        Failure::ensure_eq("metadata.count", count, 2)?;
        let metadata = second.body.get("metadata").cloned().unwrap_or(Value::Null);
        let reference = format!("{}/{}", ctx.config().controller_namespace, first.name);
        Failure::ensure_eq(
            "metadata.remediationRequestRef",
            str_field(&metadata, "remediationRequestRef")?,
            &reference,
        )?;
        let first_seen = parse_time("metadata.firstOccurrence", str_field(&metadata, "firstOccurrence")?)?;
        let last_seen = parse_time("metadata.lastOccurrence", str_field(&metadata, "lastOccurrence")?)?;
        Failure::ensure(last_seen >= first_seen, || {
            format!("lastOccurrence {last_seen} before firstOccurrence {first_seen}")
        })
    })
    .await
}
case!(duplicate_answer_carries_metadata, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/status_updater.go` — each repeat adds one to `occurrenceCount`,
/// moves `lastSeenAt` on and keeps `firstSeenAt`.
async fn occurrence_count_grows_with_each_repeat(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "flap", "flap-0").await?;
        let webhook = Webhook::with_alert(pod_alert("Flapping", "flap-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        let created = wait_for_occurrences(&ctx, &first.name, 1).await?.status.and_then(|s| s.deduplication);
        let created = created.ok_or_else(|| Failure::new("status.deduplication is not written after create"))?;
        for expected in 2..=5 {
            let (repeat, count) = expect_duplicate(&ctx.post_alert(&webhook).await?)?;
            Failure::ensure_eq("remediationRequestName of the repeat", repeat.name.as_str(), first.name.as_str())?;
            Failure::ensure_eq("metadata.count", count, expected)?;
        }
        let rr = wait_for_occurrences(&ctx, &first.name, 5).await?;
        let now = rr.status.and_then(|s| s.deduplication).unwrap_or_default();
        Failure::ensure_eq("firstSeenAt", &now.first_seen_at, &created.first_seen_at)?;
        let before = parse_time("lastSeenAt after create", &created.last_seen_at)?;
        let after = parse_time("lastSeenAt after repeats", &now.last_seen_at)?;
        Failure::ensure(after >= before, || format!("lastSeenAt went back from {before} to {after}"))
    })
    .await
}
case!(occurrence_count_grows_with_each_repeat, area = "dedup", labels = ["dedup"], needs_cluster);

/// Creates an incident, writes `phase`, repeats the signal: a duplicate while in progress, a new
/// resource (the old one kept) once terminal (`processing/phase_checker.go`).
async fn repeat_after_phase(ctx: Ctx, phase: &'static str) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "phase", "phase-0").await?;
        let webhook = Webhook::with_alert(pod_alert("PhaseCheck", "phase-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        set_phase(&ctx, &first.name, phase).await?;
        let answer = ctx.post_alert(&webhook).await?;
        if TERMINAL_PHASES.contains(&phase) {
            let second = expect_created(&answer, &cleanup)
                .map_err(|f| Failure::new(format!("after phase {phase} the repeat must be new: {}", f.message)))?;
            Failure::ensure(second.name != first.name, || format!("phase {phase}: same resource {}", first.name))?;
            Failure::ensure_eq(
                "fingerprint of the new incident",
                second.fingerprint.as_str(),
                first.fingerprint.as_str(),
            )?;
            let old = wait_for_rr(&ctx, &first.name).await?;
            Failure::ensure_eq("phase of the old resource (old ones stay)", old.phase(), phase)?;
            let all = rrs_with_fingerprint(&ctx, &first.fingerprint).await?;
            Failure::ensure_eq("resources with this fingerprint", all.len(), 2)
        } else {
            let (repeat, count) = expect_duplicate(&answer).map_err(|f| {
                Failure::new(format!("phase {phase} is in progress, the repeat must be a duplicate: {}", f.message))
            })?;
            Failure::ensure_eq("remediationRequestName of the repeat", repeat.name.as_str(), first.name.as_str())?;
            Failure::ensure_eq("metadata.count", count, 2)?;
            let rr = wait_for_occurrences(&ctx, &first.name, 2).await?;
            Failure::ensure_eq("status.overallPhase (untouched by the gateway)", rr.phase(), phase)
        }
    })
    .await
}

/// Upstream rule: `processing/phase_checker.go` — `Pending` is not terminal: duplicate.
async fn pending_phase_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Pending").await
}
case!(pending_phase_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — `Processing` is not terminal: duplicate.
async fn processing_phase_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Processing").await
}
case!(processing_phase_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — `Blocked` (a CRD enum value) is not terminal:
/// duplicate.
async fn blocked_phase_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Blocked").await
}
case!(blocked_phase_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — after `Completed` a repeat makes a new RR.
async fn completed_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Completed").await
}
case!(completed_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — after `Failed` a repeat makes a new RR.
async fn failed_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Failed").await
}
case!(failed_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — after `TimedOut` a repeat makes a new RR.
async fn timed_out_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "TimedOut").await
}
case!(timed_out_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — after `Skipped` a repeat makes a new RR.
async fn skipped_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Skipped").await
}
case!(skipped_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — after `Cancelled` a repeat makes a new RR.
async fn cancelled_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Cancelled").await
}
case!(cancelled_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — once an RR exists, concurrent repeats are all
/// duplicates of it and no second RR appears. As upstream's own case does
/// (`test/e2e/gateway/35_deduplication_edge_cases_test.go`), the first signal goes alone: the
/// Lease lock is re-entrant within one gateway pod, so simultaneous *first* signals are not
/// serialized there. Afterwards `occurrenceCount` counts every repeat (upstream: `>= 1 + repeats`).
async fn concurrent_repeats_make_no_second_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "herd", "herd-0").await?;
        let webhook = Webhook::with_alert(pod_alert("Thundering", "herd-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        wait_for_rr(&ctx, &first.name).await?;
        let answers = futures::future::join_all((0..CONCURRENT).map(|_| ctx.post_alert(&webhook))).await;
        for answer in answers {
            let (repeat, _) = expect_duplicate(&answer?)?;
            Failure::ensure_eq(
                "remediationRequestName of a concurrent repeat",
                repeat.name.as_str(),
                first.name.as_str(),
            )?;
        }
        let all = rrs_with_fingerprint(&ctx, &first.fingerprint).await?;
        Failure::ensure_eq("resources with this fingerprint", all.len(), 1)?;
        // Repeats are counted and none twice. Not necessarily every one: the gateway retries a
        // conflicting status write only a few times (`processing/status_updater.go`, client-go's
        // default backoff) and answers 202 for a repeat whose count was lost, so many writers at
        // once can lose some (upstream's own spec of this allows itself three attempts).
        let most = i64::try_from(CONCURRENT + 1).unwrap_or(i64::MAX);
        let api = super::support::rr_api(&ctx)?;
        crate::eventually(COUNTED_DEADLINE, super::support::API_INTERVAL, || async {
            let rr = api.get(&first.name).await?;
            let written = rr.status.as_ref().and_then(|s| s.deduplication.as_ref());
            let count = written.map_or(0, |d| d.occurrence_count);
            Failure::ensure((2..=most).contains(&count), || {
                format!("status.deduplication.occurrenceCount {count}, want 2..={most} (the first, at least one repeat, none twice)")
            })
        })
        .await
    })
    .await
}
case!(concurrent_repeats_make_no_second_request, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `types/fingerprint.go` — the fingerprint is the target's, whatever the source:
/// an Event about an alerted Pod is a duplicate.
async fn alert_and_event_about_one_resource_are_one_incident(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "shared", "shared-0").await?;
        let alert = Webhook::with_alert(pod_alert("PodNotReady", "shared-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &alert).await?;
        let event = Event::warning("BackOff", "Pod", "shared-0", world.namespace());
        let (second, count) = expect_duplicate(&ctx.post_event(&event).await?)?;
        Failure::ensure_eq("fingerprint of the event", second.fingerprint.as_str(), first.fingerprint.as_str())?;
        Failure::ensure_eq("remediationRequestName of the event", second.name.as_str(), first.name.as_str())?;
        Failure::ensure_eq("metadata.count", count, 2)
    })
    .await
}
case!(alert_and_event_about_one_resource_are_one_incident, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `types/fingerprint.go` — two alert names about one Pod share a fingerprint.
async fn two_alertnames_about_one_resource_are_one_incident(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "twonames", "busy-0").await?;
        let cpu = Webhook::with_alert(pod_alert("HighCPU", "busy-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &cpu).await?;
        let memory = Webhook::with_alert(pod_alert("HighMemory", "busy-0", world.namespace()));
        let (second, _) = expect_duplicate(&ctx.post_alert(&memory).await?)?;
        Failure::ensure_eq("fingerprint of the second alert", second.fingerprint.as_str(), first.fingerprint.as_str())?;
        Failure::ensure_eq("remediationRequestName", second.name.as_str(), first.name.as_str())
    })
    .await
}
case!(two_alertnames_about_one_resource_are_one_incident, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `types/fingerprint.go` — the namespace is part of the fingerprint.
async fn same_name_in_two_namespaces_gets_two_fingerprints(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let mut answers = Vec::new();
        for tag in ["blue", "green"] {
            let world = world_with_pod(&ctx, tag, "twin-0").await?;
            let webhook = Webhook::with_alert(pod_alert("TwinAlert", "twin-0", world.namespace()));
            answers.push(alert_created(&ctx, &cleanup, &webhook).await?);
        }
        Failure::ensure(answers[0].fingerprint != answers[1].fingerprint, || {
            format!("both namespaces got fingerprint {}", answers[0].fingerprint)
        })?;
        Failure::ensure(answers[0].name != answers[1].name, || format!("both got resource {}", answers[0].name))
    })
    .await
}
case!(same_name_in_two_namespaces_gets_two_fingerprints, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `types/fingerprint.go` — different Pods, different fingerprints.
async fn different_resources_get_different_fingerprints(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = ctx.world("leftright").await?;
        let mut fingerprints = Vec::new();
        for tag in ["left", "right"] {
            let pod = world.pod(tag).await?;
            let webhook = Webhook::with_alert(pod_alert("DiskPressure", &pod, world.namespace()));
            fingerprints.push(alert_created(&ctx, &cleanup, &webhook).await?.fingerprint);
        }
        Failure::ensure(fingerprints[0] != fingerprints[1], || {
            format!("both resources got fingerprint {}", fingerprints[0])
        })
    })
    .await
}
case!(different_resources_get_different_fingerprints, area = "dedup", labels = ["dedup"], needs_cluster);

/// Creates an incident, ends it with the terminal `status` (a merge patch of `status`), repeats
/// the signal and expects a duplicate of the ended RR.
async fn repeat_after_terminal_status_is_duplicate(ctx: Ctx, status: Value) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let world = world_with_pod(&ctx, "held", "held-0").await?;
        let webhook = Webhook::with_alert(pod_alert("HeldBack", "held-0", world.namespace()));
        let first = alert_created(&ctx, &cleanup, &webhook).await?;
        set_status(&ctx, &first.name, &status).await?;
        let (repeat, _) = expect_duplicate(&ctx.post_alert(&webhook).await?).map_err(|f| {
            Failure::new(format!("after status {status} the repeat must be a duplicate: {}", f.message))
        })?;
        Failure::ensure_eq("remediationRequestName of the repeat", repeat.name, first.name)
    })
    .await
}

/// Upstream rule: `processing/phase_checker.go` — a terminal RR whose outcome is
/// `ManualReviewRequired` still deduplicates.
async fn manual_review_outcome_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    let status = json!({ "overallPhase": "Completed", "completionStatus": { "outcome": "ManualReviewRequired" } });
    repeat_after_terminal_status_is_duplicate(ctx, status).await
}
case!(manual_review_outcome_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

/// Upstream rule: `processing/phase_checker.go` — a terminal RR whose
/// `routingStatus.nextAllowedExecution` is still ahead (backoff) still deduplicates.
async fn backoff_before_next_allowed_execution_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).round(jiff::Unit::Second);
    let later = later.map(|t| t.to_string()).unwrap_or_default();
    let status = json!({ "overallPhase": "Failed", "routingStatus": { "nextAllowedExecution": later } });
    repeat_after_terminal_status_is_duplicate(ctx, status).await
}
case!(backoff_before_next_allowed_execution_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);
