//! Deduplication (contract §6): repeats are 202 duplicates that bump `occurrenceCount` while the
//! incident is in progress; a terminal phase lets the next signal create a new resource;
//! concurrent repeats make one resource; the fingerprint is the target resource, not the signal.

use fixtures::crd::TERMINAL_PHASES;
use fixtures::payloads::{Event, Webhook};
use serde_json::Value;

use super::support::{
    SIGNAL_NAMESPACE, cleaning_up, deployment_alert, expect_created, expect_duplicate, parse_time,
    rrs_with_fingerprint, set_phase, skip_if_rejected, str_field, wait_for_occurrences, wait_for_rr,
};
use crate::{Ctx, Failure, case};

/// Identical signals sent at once by the concurrency case.
const CONCURRENT: usize = 10;

async fn repeat_alert_is_duplicate(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let webhook = Webhook::with_alert(deployment_alert("CrashLooping", &ctx.unique("worker"), SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
        let (second, _) = expect_duplicate(&ctx.post_alert(&webhook).await?)?;
        Failure::ensure_eq("remediationRequestName", second.name.as_str(), first.name.as_str())?;
        wait_for_occurrences(&ctx, &first.name, 2).await.map(drop)
    })
    .await
}
case!(repeat_alert_is_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

async fn duplicate_answer_carries_metadata(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let webhook = Webhook::with_alert(deployment_alert("DiskFilling", &ctx.unique("meta"), SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
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
case!(duplicate_answer_carries_metadata, area = "dedup", labels = ["dedup"]);

async fn occurrence_count_grows_with_each_repeat(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let webhook = Webhook::with_alert(deployment_alert("Flapping", &ctx.unique("flap"), SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
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
/// resource (the old one kept) once terminal.
async fn repeat_after_phase(ctx: Ctx, phase: &'static str) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let webhook = Webhook::with_alert(deployment_alert("PhaseCheck", &ctx.unique("phase"), SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?;
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

async fn pending_phase_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Pending").await
}
case!(pending_phase_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

async fn processing_phase_stays_duplicate(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Processing").await
}
case!(processing_phase_stays_duplicate, area = "dedup", labels = ["dedup"], needs_cluster);

async fn unknown_phase_counts_as_in_progress(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "AwaitingE2eApproval").await
}
case!(unknown_phase_counts_as_in_progress, area = "dedup", labels = ["dedup"], needs_cluster);

async fn completed_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Completed").await
}
case!(completed_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn failed_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Failed").await
}
case!(failed_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn timed_out_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "TimedOut").await
}
case!(timed_out_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn skipped_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Skipped").await
}
case!(skipped_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn cancelled_phase_allows_new_request(ctx: Ctx) -> Result<(), Failure> {
    repeat_after_phase(ctx, "Cancelled").await
}
case!(cancelled_phase_allows_new_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn concurrent_identical_signals_make_one_request(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let webhook = Webhook::with_alert(deployment_alert("Thundering", &ctx.unique("herd"), SIGNAL_NAMESPACE));
        let answers = futures::future::join_all((0..CONCURRENT).map(|_| ctx.post_alert(&webhook))).await;
        let mut names = Vec::new();
        let mut statuses = Vec::new();
        for answer in answers {
            let answer = answer?;
            skip_if_rejected(&answer)?;
            statuses.push(answer.status);
            let body = answer.json()?;
            let name = str_field(&body, "remediationRequestName")?.to_owned();
            cleanup.track(&name);
            names.push(name);
        }
        let created = statuses.iter().filter(|s| **s == 201).count();
        let duplicates = statuses.iter().filter(|s| **s == 202).count();
        Failure::ensure(created == 1 && duplicates == CONCURRENT - 1, || {
            format!("expected one 201 and {} 202, got {statuses:?}", CONCURRENT - 1)
        })?;
        names.sort();
        names.dedup();
        Failure::ensure_eq("distinct remediationRequestName values", names.len(), 1)?;
        let rr = wait_for_occurrences(&ctx, &names[0], CONCURRENT as i64).await?;
        let all = rrs_with_fingerprint(&ctx, &rr.spec.signal_fingerprint).await?;
        Failure::ensure_eq("resources with this fingerprint", all.len(), 1)
    })
    .await
}
case!(concurrent_identical_signals_make_one_request, area = "dedup", labels = ["dedup"], needs_cluster);

async fn alert_and_event_about_one_resource_are_one_incident(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("shared");
        let alert = Webhook::with_alert(deployment_alert("ReplicasUnavailable", &deployment, SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&alert).await?, &cleanup)?;
        let event = Event::warning("FailedCreate", "Deployment", &deployment, SIGNAL_NAMESPACE);
        let (second, count) = expect_duplicate(&ctx.post_event(&event).await?)?;
        Failure::ensure_eq("fingerprint of the event", second.fingerprint.as_str(), first.fingerprint.as_str())?;
        Failure::ensure_eq("remediationRequestName of the event", second.name.as_str(), first.name.as_str())?;
        Failure::ensure_eq("metadata.count", count, 2)
    })
    .await
}
case!(alert_and_event_about_one_resource_are_one_incident, area = "dedup", labels = ["dedup"]);

async fn two_alertnames_about_one_resource_are_one_incident(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("twonames");
        let cpu = Webhook::with_alert(deployment_alert("HighCPU", &deployment, SIGNAL_NAMESPACE));
        let first = expect_created(&ctx.post_alert(&cpu).await?, &cleanup)?;
        let memory = Webhook::with_alert(deployment_alert("HighMemory", &deployment, SIGNAL_NAMESPACE));
        let (second, _) = expect_duplicate(&ctx.post_alert(&memory).await?)?;
        Failure::ensure_eq("fingerprint of the second alert", second.fingerprint.as_str(), first.fingerprint.as_str())?;
        Failure::ensure_eq("remediationRequestName", second.name.as_str(), first.name.as_str())
    })
    .await
}
case!(two_alertnames_about_one_resource_are_one_incident, area = "dedup", labels = ["dedup"]);

async fn same_name_in_two_namespaces_gets_two_fingerprints(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let deployment = ctx.unique("twins");
        let mut answers = Vec::new();
        for namespace in ["e2e-blue", "e2e-green"] {
            let webhook = Webhook::with_alert(deployment_alert("TwinAlert", &deployment, namespace));
            answers.push(expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?);
        }
        Failure::ensure(answers[0].fingerprint != answers[1].fingerprint, || {
            format!("both namespaces got fingerprint {}", answers[0].fingerprint)
        })?;
        Failure::ensure(answers[0].name != answers[1].name, || format!("both got resource {}", answers[0].name))
    })
    .await
}
case!(same_name_in_two_namespaces_gets_two_fingerprints, area = "dedup", labels = ["dedup"]);

async fn different_resources_get_different_fingerprints(ctx: Ctx) -> Result<(), Failure> {
    cleaning_up(ctx, |ctx, cleanup| async move {
        let mut fingerprints = Vec::new();
        for tag in ["left", "right"] {
            let webhook = Webhook::with_alert(deployment_alert("DiskPressure", &ctx.unique(tag), SIGNAL_NAMESPACE));
            fingerprints.push(expect_created(&ctx.post_alert(&webhook).await?, &cleanup)?.fingerprint);
        }
        Failure::ensure(fingerprints[0] != fingerprints[1], || {
            format!("both resources got fingerprint {}", fingerprints[0])
        })
    })
    .await
}
case!(different_resources_get_different_fingerprints, area = "dedup", labels = ["dedup"]);
