//! The GitHub workflow, read as YAML: pinned actions, least privilege, timeouts, the shard matrix
//! from one SHARDS value, the cargo cache, a report job that publishes what exists (with flaky
//! cases), artifacts on failure; `ci/report-shards.sh` run against stubs. actionlint and zizmor
//! run in `pipeline/linters.rs`.

use std::process::Command;

use serde_yaml_ng::Value;

use super::{Stubs, make_targets, read, root};

pub const WORKFLOW: &str = ".github/workflows/e2e-gateway.yml";

fn workflow() -> Value {
    serde_yaml_ng::from_str(&read(WORKFLOW)).unwrap_or_else(|e| panic!("workflow: {e}"))
}

fn jobs(workflow: &Value) -> Vec<(String, Value)> {
    let jobs = workflow.get("jobs").and_then(Value::as_mapping).unwrap_or_else(|| panic!("no jobs"));
    jobs.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.clone())).collect()
}

fn steps(job: &Value) -> Vec<Value> {
    job["steps"].as_sequence().cloned().unwrap_or_default()
}

fn uses(step: &Value) -> &str {
    step.get("uses").and_then(Value::as_str).unwrap_or_default()
}

fn run(step: &Value) -> &str {
    step.get("run").and_then(Value::as_str).unwrap_or_default()
}

/// `true` written as a YAML bool or as the string GitHub passes to actions.
fn is_true(value: &Value) -> bool {
    value.as_bool() == Some(true) || value.as_str() == Some("true")
}

fn step_using<'a>(steps: &'a [Value], action: &str) -> Option<&'a Value> {
    steps.iter().find(|s| uses(s).starts_with(&format!("{action}@")))
}

#[test]
fn workflow_calls_only_existing_targets_and_scripts() {
    let workflow = workflow();
    let targets = make_targets();
    let runs: Vec<String> = jobs(&workflow).iter().flat_map(|(_, j)| steps(j)).map(|s| run(&s).to_owned()).collect();
    assert!(runs.iter().any(|r| r.contains(".ci/run")), "the test job runs .ci/run (make test): {runs:?}");
    assert!(runs.iter().any(|r| r.contains("PARTITION=\"slice:$SHARD/$SHARDS\"")), "{runs:?}");
    for run in &runs {
        let words: Vec<&str> = run.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "make" {
                assert!(
                    targets.iter().any(|t| t == pair[1]),
                    "workflow calls make {} which the Makefile lacks",
                    pair[1]
                );
            }
            if pair[0] == "bash" {
                assert!(root().join(pair[1]).is_file(), "workflow calls missing {}", pair[1]);
            }
        }
    }
}

#[test]
fn every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment() {
    let text = read(WORKFLOW);
    let mut pinned = 0;
    for line in text.lines().filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:")) {
        let spec = line.split_once("uses:").map(|(_, s)| s.trim()).unwrap_or_default();
        let (action, rest) = spec.split_once('@').unwrap_or_else(|| panic!("no @ in {line}"));
        let (sha, comment) = rest.split_once(" # ").unwrap_or_else(|| panic!("no version comment: {line}"));
        assert!(action.contains('/'), "{line}");
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "not a full commit SHA: {line}"
        );
        let version = comment.trim();
        assert!(
            version.starts_with('v') && version[1..].starts_with(|c: char| c.is_ascii_digit()),
            "the comment names the release: {line}"
        );
        pinned += 1;
    }
    let steps_with_uses = jobs(&workflow()).iter().flat_map(|(_, j)| steps(j)).filter(|s| !uses(s).is_empty()).count();
    assert!(pinned > 0);
    assert_eq!(pinned, steps_with_uses, "every `uses:` is written on its own checked line");
}

#[test]
fn token_is_read_only_by_default_and_only_the_report_job_writes_checks() {
    let workflow = workflow();
    let top = workflow["permissions"].as_mapping().unwrap_or_else(|| panic!("no top-level permissions"));
    assert_eq!(top.len(), 1, "{top:?}");
    assert_eq!(workflow["permissions"]["contents"], "read");
    for (name, job) in jobs(&workflow) {
        let grants = job.get("permissions").unwrap_or_else(|| panic!("job {name} has no permissions"));
        let grants = grants.as_mapping().unwrap_or_else(|| panic!("job {name}: permissions must be a map"));
        for (scope, level) in grants {
            let scope = scope.as_str().unwrap_or_default();
            match level.as_str() {
                Some("read") | Some("none") => {}
                Some("write") => assert!(name == "report" && scope == "checks", "{name} may not write {scope}"),
                other => panic!("{name}: {scope}: {other:?}"),
            }
        }
    }
    assert!(!read(WORKFLOW).contains("write-all"));
}

#[test]
fn checkouts_do_not_persist_credentials_and_every_job_has_a_timeout() {
    let mut checkouts = 0;
    for (name, job) in jobs(&workflow()) {
        let minutes = job["timeout-minutes"].as_u64().unwrap_or_else(|| panic!("job {name} has no timeout-minutes"));
        assert!((1..=60).contains(&minutes), "{name}: {minutes} minutes");
        for step in steps(&job).iter().filter(|s| uses(s).starts_with("actions/checkout@")) {
            let persist = &step["with"]["persist-credentials"];
            assert_eq!(persist.as_bool(), Some(false), "{name}: checkout needs persist-credentials: false");
            checkouts += 1;
        }
    }
    assert!(checkouts >= 3, "{checkouts}");
}

#[test]
fn shard_matrix_is_derived_from_the_one_shards_value() {
    let workflow = workflow();
    assert_eq!(workflow["env"]["SHARDS"].as_str(), Some("3"), "SHARDS is a workflow-level string");
    let e2e = &workflow["jobs"]["e2e"];
    let matrix = e2e["strategy"]["matrix"]["shard"].as_str().unwrap_or_else(|| panic!("shard is not an expression"));
    let inner = matrix.trim().trim_start_matches("${{").trim_end_matches("}}").trim();
    let reference =
        inner.strip_prefix("fromJSON(").and_then(|r| r.strip_suffix(')')).unwrap_or_else(|| panic!("{matrix}"));
    let parts: Vec<&str> = reference.split('.').collect();
    let ["needs", job, "outputs", output] = parts.as_slice() else { panic!("{reference}") };
    let needs: Vec<&str> = e2e["needs"].as_sequence().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(needs.contains(job), "e2e needs {job}: {needs:?}");
    let producer = &workflow["jobs"][*job];
    let expression = producer["outputs"][*output].as_str().unwrap_or_default();
    let step_id = expression.split('.').nth(1).unwrap_or_else(|| panic!("{expression}"));
    let step = steps(producer).into_iter().find(|s| s["id"].as_str() == Some(step_id));
    let script = run(&step.unwrap_or_else(|| panic!("no step {step_id}"))).to_owned();

    for shards in [1u32, 4] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let output_file = dir.path().join("output");
        let status = Command::new("bash")
            .args(["-c", &script])
            .env("SHARDS", shards.to_string())
            .env("GITHUB_OUTPUT", &output_file)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "{script}");
        let written = std::fs::read_to_string(&output_file).unwrap_or_default();
        let list = written.trim().strip_prefix(&format!("{output}=")).unwrap_or_else(|| panic!("{written}"));
        let list: Vec<u32> = serde_json::from_str(list).unwrap_or_else(|e| panic!("{list}: {e}"));
        assert_eq!(list, (1..=shards).collect::<Vec<_>>());
    }
}

#[test]
fn every_job_that_installs_rust_restores_the_cargo_cache() {
    let mut cached = 0;
    for (name, job) in jobs(&workflow()) {
        let steps = steps(&job);
        let Some(toolchain) = steps.iter().position(|s| run(s).contains("rustup toolchain install stable")) else {
            continue;
        };
        let cache = steps.iter().position(|s| uses(s).starts_with("Swatinem/rust-cache@"));
        assert!(cache.is_some_and(|c| c > toolchain), "{name}: no cargo cache after the toolchain");
        cached += 1;
    }
    assert!(cached >= 3, "{cached}");
    assert!(!read(WORKFLOW).contains("rust-toolchain@"), "rustup on the runner image installs the toolchain");
}

#[test]
fn e2e_uploads_its_report_always_and_the_cluster_artifacts_on_failure() {
    let workflow = workflow();
    let steps = steps(&workflow["jobs"]["e2e"]);
    let uploads: Vec<&Value> = steps.iter().filter(|s| uses(s).starts_with("actions/upload-artifact@")).collect();
    let junit = uploads.iter().find(|s| s["with"]["path"].as_str().is_some_and(|p| p.ends_with(".xml")));
    let junit = junit.unwrap_or_else(|| panic!("no JUnit upload"));
    assert_eq!(junit["if"].as_str(), Some("always()"));
    assert_ne!(junit["with"]["if-no-files-found"].as_str(), Some("error"), "a missing report is the report job's call");
    let artifacts = uploads.iter().find(|s| s["with"]["path"].as_str() == Some("target/e2e/artifacts"));
    let artifacts = artifacts.unwrap_or_else(|| panic!("target/e2e/artifacts is not uploaded"));
    assert_eq!(artifacts["if"].as_str(), Some("failure()"));
    // A hung run times out as a step (a failure, so the steps below run), not as the job.
    let job_minutes = workflow["jobs"]["e2e"]["timeout-minutes"].as_u64().unwrap_or_default();
    let suite = steps.iter().find(|s| run(s).contains("make test-e2e-gateway")).unwrap_or_else(|| panic!("no run"));
    let step_minutes = suite["timeout-minutes"].as_u64().unwrap_or_else(|| panic!("the suite step has no timeout"));
    assert!(step_minutes + 10 <= job_minutes, "{step_minutes} of {job_minutes} minutes leaves no time to collect");
    let collect = steps.iter().find(|s| run(s).contains("ci/collect-artifacts.sh"));
    let condition = collect.and_then(|s| s["if"].as_str()).unwrap_or_else(|| panic!("no collect step"));
    assert!(condition.contains("failure()"), "{condition}");
    assert!(read("ci/test-e2e-gateway.sh").contains("ci/collect-artifacts.sh"));
}

#[test]
fn report_job_publishes_what_exists_with_flaky_cases() {
    let workflow = workflow();
    let report = &workflow["jobs"]["report"];
    assert!(report["if"].as_str().is_some_and(|c| c.contains("always()")), "{:?}", report["if"]);
    let needs: Vec<&str> = report["needs"].as_sequence().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(needs.contains(&"e2e"), "{needs:?}");
    let steps = steps(report);
    let download = step_using(&steps, "actions/download-artifact").unwrap_or_else(|| panic!("no download"));
    assert_eq!(download["with"]["pattern"].as_str(), Some("junit-shard-*"));
    let merge = steps.iter().find(|s| run(s).contains("ci/report-shards.sh")).unwrap_or_else(|| panic!("no merge"));
    assert_eq!(merge["env"]["E2E_RESULT"].as_str(), Some("${{ needs.e2e.result }}"));
    let publish = step_using(&steps, "mikepenz/action-junit-report").unwrap_or_else(|| panic!("no publish step"));
    assert!(publish["if"].as_str().is_some_and(|c| c.contains("steps.merge.outputs.found")), "{publish:?}");
    for input in ["include_passed", "flaky_summary", "fail_on_failure", "require_tests"] {
        assert!(is_true(&publish["with"][input]), "{input} must be true: {publish:?}");
    }
    let fork_guard = publish["with"]["annotate_only"].as_str().unwrap_or_default();
    assert!(fork_guard.contains("head.repo.fork"), "fork PRs cannot write checks: {fork_guard}");
    let e2e_steps = self::steps(&workflow["jobs"]["e2e"]);
    let shard_upload =
        e2e_steps.iter().filter_map(|s| s["with"]["name"].as_str()).find(|n| n.starts_with("junit-shard-"));
    assert!(shard_upload.is_some(), "the e2e job uploads what the report job downloads");
}

/// Runs ci/report-shards.sh on `reports` (file names) with a stub `cargo`.
fn report_shards(reports: &[&str], e2e_result: &str) -> (bool, String, String) {
    let stubs = Stubs::new();
    let calls = stubs.path().join("cargo.log");
    stubs.add("cargo", &format!("echo \"$*\" >> '{}'", calls.display()));
    let shards = stubs.path().join("shards");
    std::fs::create_dir_all(&shards).unwrap_or_else(|e| panic!("{e}"));
    for name in reports {
        std::fs::write(shards.join(name), "<testsuites/>").unwrap_or_else(|e| panic!("{e}"));
    }
    let output = stubs.path().join("github-output");
    let out = stubs
        .bash("ci/report-shards.sh")
        .args([stubs.path().join("junit.xml"), shards])
        .arg(e2e_result)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap_or_else(|e| panic!("report-shards.sh: {e}"));
    let found = std::fs::read_to_string(&output).unwrap_or_default();
    (out.status.success(), found.trim().to_owned(), std::fs::read_to_string(&calls).unwrap_or_default())
}

#[test]
fn report_shards_merges_some_and_fails_on_none_unless_e2e_failed() {
    let (ok, found, cargo) = report_shards(&["junit-1.xml", "junit-3.xml"], "failure");
    assert!(ok && found == "found=true", "{found}");
    assert!(cargo.contains("merge-junit") && cargo.contains("junit-1.xml") && cargo.contains("junit-3.xml"), "{cargo}");

    let (ok, found, cargo) = report_shards(&[], "failure");
    assert!(ok && found == "found=false" && cargo.is_empty(), "a failed e2e job carries the failure: {found}");
    for result in ["skipped", "cancelled", "success"] {
        let (ok, found, _) = report_shards(&[], result);
        assert!(!ok && found == "found=false", "no reports and e2e {result} must fail the report job");
    }
}
