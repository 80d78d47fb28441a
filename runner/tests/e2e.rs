//! The runner binary end to end: exit codes, listing, partitions, the health gate, timeouts,
//! interruption and JUnit validity.

mod support;

use std::time::{Duration, Instant};

use quick_junit::TestCaseStatus;
use support::*;
use tokio::io::BufReader;

async fn listed(args: &[&str]) -> Vec<String> {
    let mut all = vec!["--list", "--format", "terse"];
    all.extend_from_slice(args);
    let output = run(&all).await;
    assert!(output.status.success(), "{:?}", texts(&output));
    let (stdout, _) = texts(&output);
    stdout
        .lines()
        .map(|l| l.strip_suffix(": test").unwrap_or_else(|| panic!("not libtest terse: {l}")).to_owned())
        .collect()
}

#[tokio::test]
async fn embedded_run_passes_and_junit_has_every_registered_case() {
    let registered = listed(&[]).await;
    assert!(registered.len() >= 80, "v2 has at least 80 cases: {registered:?}");
    let (_dir, junit) = junit_path();
    let output = run(&["--junit", junit.to_str().unwrap_or_default()]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.lines().next().unwrap_or_default().contains("embedded gateway double"), "{stderr}");
    assert!(stderr.contains("workers: ") && stderr.contains("junit: "), "{stderr}");
    let report = read_junit(&junit);
    let cases: Vec<_> = report.test_suites.iter().flat_map(|s| s.test_cases.iter()).collect();
    assert_eq!(cases.len(), registered.len());
    // The pod-log case has no pod to read on the embedded double: it skips, saying why.
    let passed_or_podless = |c: &&quick_junit::TestCase| {
        matches!(c.status, TestCaseStatus::Success { .. })
            || (c.name.as_str().starts_with("logs::") && matches!(c.status, TestCaseStatus::Skipped { .. }))
    };
    assert!(cases.iter().all(passed_or_podless), "{cases:#?}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn closed_port_fails_the_gate_with_exit_2_and_a_junit_record() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (_dir, junit) = junit_path();
    let started = Instant::now();
    let output =
        run(&["--gateway-url", &url, "--health-timeout", "1s", "--junit", junit.to_str().unwrap_or_default()]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "gate took {:?}", started.elapsed());
    assert!(stderr.contains(&format!("{url}/readyz")) && stderr.contains("--health-url"), "{stderr}");
    let report = read_junit(&junit);
    let setup = report.test_suites.iter().find(|s| s.name.as_str() == "@setup");
    let gate = setup.and_then(|s| s.test_cases.iter().find(|c| c.name.as_str() == "health-gate"));
    assert!(matches!(gate.map(|c| &c.status), Some(TestCaseStatus::NonSuccess { .. })), "{report:#?}");
    let skipped = report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .filter(|c| matches!(c.status, TestCaseStatus::Skipped { .. }));
    assert_eq!(skipped.count(), listed(&[]).await.len());
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn usage_errors_exit_2_and_empty_selection_exits_4() {
    for args in [
        &["--partition", "3/2"][..],
        &["-j", "0"],
        &["--label-filter", "(dedup"],
        &["--gateway-url", "nope"],
        &["--no-such-flag"],
    ] {
        let output = run(args).await;
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("expected") || stderr.contains("unexpected argument"), "{args:?}: {stderr}");
    }
    let output = run(&["no-case-has-this-name"]).await;
    assert_eq!(output.status.code(), Some(4), "{:?}", texts(&output));
    assert_eq!(run(&["no-case-has-this-name", "--allow-empty"]).await.status.code(), Some(0));
}

#[tokio::test]
async fn list_prints_libtest_lines_and_partitions_cover_the_list() {
    let all = listed(&[]).await;
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "duplicate names in {all:?}");
    for kind in ["slice", "hash"] {
        let mut union = Vec::new();
        for k in 1..=3 {
            union.extend(listed(&["--partition", &format!("{kind}:{k}/3")]).await);
        }
        union.sort();
        assert_eq!(union, sorted, "{kind} shards must be disjoint and cover the list");
    }
    let pretty = run(&["--list"]).await;
    assert!(texts(&pretty).0.contains(&format!("{} tests, 0 benchmarks", all.len())));
}

#[tokio::test]
async fn timeouts_fail_cases_without_hanging_the_run() {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    let output = run(&[
        "validation::m",
        "--gateway-url",
        &url,
        "--kube",
        "none",
        "--timeout",
        "1s",
        "--junit",
        junit.to_str().unwrap_or_default(),
    ])
    .await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TIMEOUT"), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(xml.contains(r#"type="timeout""#), "{xml}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn sigint_mid_run_exits_130_with_valid_junit() {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    let mut child = command(&["--gateway-url", &url, "--kube", "none", "--junit", junit.to_str().unwrap_or_default()])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "healthy after").await;
    let pid = child.id().unwrap_or_else(|| panic!("no pid")).to_string();
    let killed = std::process::Command::new("kill").args(["-INT", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()));
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;
    let code = status.ok().and_then(Result::ok).and_then(|s| s.code());
    assert_eq!(code, Some(130));
    let report = read_junit(&junit);
    // Cases cut off while running are errors (as Ginkgo writes them), and the run itself carries a
    // failing `@run` entry: no JUnit reader shows an interrupted run as green.
    let cut_off = |c: &&quick_junit::TestCase| {
        matches!(&c.status, TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Error, ty: Some(t), .. }
            if t.as_str() == "interrupted")
    };
    let cases: Vec<_> = report.test_suites.iter().flat_map(|s| s.test_cases.iter()).collect();
    assert!(cases.iter().any(|c| c.name.as_str() == "run" && cut_off(c)), "{report:#?}");
    // Cases running at the signal (if any had started) are interrupted errors too; the pool's
    // tests pin that deterministically. None may have passed: every signal hangs.
    assert!(
        cases
            .iter()
            .filter(|c| c.classname.as_ref().is_some_and(|k| k.as_str() == "validation"))
            .all(|c| !matches!(c.status, TestCaseStatus::Success { .. })),
        "{report:#?}"
    );
    assert!(report.errors > 0);
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn hostile_output_still_makes_valid_junit() {
    let url = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let output =
        run(&["validation::", "--gateway-url", &url, "--kube", "none", "--junit", junit.to_str().unwrap_or_default()])
            .await;
    assert_eq!(output.status.code(), Some(1), "{:?}", texts(&output));
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(xml.contains("cdata-end:]]&gt;"), "the log with the garbage body is in system-out:\n{xml}");
    assert!(!xml.contains('\u{FFFE}') && !xml.contains('\u{0}') && !xml.contains('\u{1b}'));
    read_junit(&junit);
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn merge_junit_combines_real_shard_reports() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut inputs = Vec::new();
    for k in 1..=3 {
        let path = dir.path().join(format!("shard-{k}.xml"));
        let output = run(&["--partition", &format!("slice:{k}/3"), "--junit", path.to_str().unwrap_or_default()]).await;
        assert_eq!(output.status.code(), Some(0), "{:?}", texts(&output));
        inputs.push(path.to_str().unwrap_or_default().to_owned());
    }
    // The same shard twice must not duplicate its cases.
    inputs.push(inputs[0].clone());
    let merged = dir.path().join("merged.xml");
    let mut args = vec!["merge-junit", merged.to_str().unwrap_or_default()];
    args.extend(inputs.iter().map(String::as_str));
    let output = run(&args).await;
    assert!(output.status.success(), "{:?}", texts(&output));
    let report = read_junit(&merged);
    let names: Vec<&str> = report.test_suites.iter().flat_map(|s| &s.test_cases).map(|c| c.name.as_str()).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "no case twice: {names:?}");
    assert_eq!(names.len(), listed(&[]).await.len());
    assert_eq!(report.tests, names.len());
    for k in 1..=3 {
        let label = format!("slice:{k}/3");
        assert!(report.test_suites.iter().any(|s| s.properties.iter().any(|p| p.value.as_str() == label)), "{label}");
    }
    assert_valid_junit4(&merged);
    let bad = run(&["merge-junit", merged.to_str().unwrap_or_default(), "/nonexistent/shard.xml"]).await;
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn repeat_runs_the_selection_again_and_dry_run_sends_nothing() {
    let (_dir, junit) = junit_path();
    let output = run(&["health::health_answers", "--repeat", "1", "--junit", junit.to_str().unwrap_or_default()]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--- run 2 of the selection ---"), "{stderr}");
    let report = read_junit(&junit);
    let iteration = report.test_suites.iter().flat_map(|s| &s.properties).find(|p| p.name.as_str() == "iteration");
    assert_eq!(iteration.map(|p| p.value.as_str()), Some("2"));
    assert_eq!(report.tests, 1, "JUnit holds the last run only");

    let (_dir2, untouched) = junit_path();
    let dry =
        run(&["--dry-run", "--label-filter", "load || health", "--junit", untouched.to_str().unwrap_or_default()])
            .await;
    let (stdout, _) = texts(&dry);
    assert_eq!(dry.status.code(), Some(0), "{stdout}");
    let selected = listed(&["--label-filter", "load || health"]).await.len();
    assert!(selected >= 2, "the filter selects load and health cases");
    assert!(stdout.contains(&format!("dry run: {selected} of")), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("serial") && l.contains("load::")), "{stdout}");
    assert!(!untouched.exists(), "a dry run writes no report");
}

#[tokio::test]
async fn trace_has_setup_gate_and_a_span_per_case_on_worker_lanes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let trace = dir.path().join("trace.json");
    let junit = dir.path().join("junit.xml");
    let output = run(&[
        "health::",
        "-j",
        "2",
        "--trace",
        trace.to_str().unwrap_or_default(),
        "--junit",
        junit.to_str().unwrap_or_default(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{:?}", texts(&output));
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("trace is not JSON: {e}"));
    let spans: Vec<&serde_json::Value> =
        value["traceEvents"].as_array().into_iter().flatten().filter(|e| e["ph"] == "X").collect();
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"setup") && names.contains(&"health gate"), "{names:?}");
    let cases: Vec<&&serde_json::Value> = spans.iter().filter(|s| s["tid"].as_u64().is_some_and(|t| t >= 1)).collect();
    assert_eq!(cases.len(), listed(&["health::"]).await.len(), "{names:?}");
    assert!(cases.iter().all(|s| s["tid"].as_u64().is_some_and(|t| t <= 2)), "one lane per worker");
}

#[tokio::test]
async fn the_token_never_shows_in_output_or_junit() {
    let url = fake_gateway(Behaviour::EchoAuth);
    let secret = "s3cr3t-bearer-9f8e7d";
    let (output, _dir, junit) = run_with_token("validation::malformed_json", &url, secret).await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(xml.contains("[REDACTED]"), "the echoed token is in the log, redacted:\n{xml}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("junit", &xml)] {
        assert!(!text.contains(secret), "{what} shows the token:\n{text}");
    }
}

#[tokio::test]
async fn a_kubeconfig_for_a_tls_cluster_does_not_crash_the_runner() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kubeconfig = dir.path().join("kubeconfig");
    let port = closed_port();
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kind\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\n\
         contexts:\n- name: kind\n  context:\n    cluster: kind\n    user: admin\ncurrent-context: kind\nusers:\n- name: admin\n  user:\n    token: abc\n"
    );
    std::fs::write(&kubeconfig, yaml).unwrap_or_else(|e| panic!("{e}"));
    let junit = dir.path().join("junit.xml");
    let url = format!("http://127.0.0.1:{}", closed_port());
    let mut cmd =
        command(&["--gateway-url", &url, "--health-timeout", "1s", "--junit", junit.to_str().unwrap_or_default()]);
    cmd.env("KUBECONFIG", &kubeconfig);
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = texts(&output);
    // The kubeconfig is loaded and used (to make the suite's account), and the unreachable API
    // server is a clear set-up error with exit 2, not a panic.
    assert_eq!(output.status.code(), Some(2), "set-up fails, nothing panics: {stderr}");
    assert!(stderr.contains("could not create ServiceAccount") && stderr.contains("--token-file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn an_empty_selection_replaces_a_stale_report() {
    let (_dir, junit) = junit_path();
    let stale = run(&["health::health_answers", "--junit", junit.to_str().unwrap_or_default()]).await;
    assert_eq!(stale.status.code(), Some(0));
    assert_eq!(read_junit(&junit).tests, 1);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&junit).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    assert_eq!(mode, 0o644, "reports are readable by a publisher running as another user");
    let empty = run(&["no-case-has-this-name", "--junit", junit.to_str().unwrap_or_default()]).await;
    assert_eq!(empty.status.code(), Some(4));
    assert_eq!(read_junit(&junit).tests, 0, "the old all-pass report does not stand for this run");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn each_repeated_run_uses_fresh_names() {
    let (_dir, junit) = junit_path();
    let output = run(&[
        "--exact",
        "ingestion::created_answer_has_contract_fields",
        "--nocapture",
        "--repeat",
        "1",
        "--junit",
        junit.to_str().unwrap_or_default(),
    ])
    .await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let fingerprints = |text: &str| -> Vec<String> {
        text.split("\"fingerprint\":\"").skip(1).filter_map(|rest| rest.get(..64)).map(str::to_owned).collect()
    };
    let (first, second) = stderr.split_once("--- run 2 of the selection ---").unwrap_or_else(|| panic!("{stderr}"));
    let (first, second) = (fingerprints(first), fingerprints(second));
    assert!(!first.is_empty() && !second.is_empty(), "{stderr}");
    assert!(first.iter().all(|f| !second.contains(f)), "run 2 reused run 1's resources: {first:?} / {second:?}");
}

#[tokio::test]
async fn signal_cases_without_cluster_access_are_skipped_with_how_to_get_it() {
    let url = fake_gateway(Behaviour::Garbage);
    let (_dir, junit) = junit_path();
    let output =
        run(&["scope::", "--gateway-url", &url, "--kube", "none", "--junit", junit.to_str().unwrap_or_default()]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "skips are not failures: {stderr}");
    let report = read_junit(&junit);
    let cases: Vec<_> = report.test_suites.iter().flat_map(|s| s.test_cases.iter()).collect();
    assert_eq!(cases.len(), listed(&["scope::"]).await.len(), "{cases:#?}");
    for case in cases {
        let TestCaseStatus::Skipped { description: Some(reason), .. } = &case.status else {
            panic!("{} was not skipped: {:?}", case.name.as_str(), case.status)
        };
        assert!(
            reason.as_str().contains("KUBECONFIG") && reason.as_str().contains("--kube in-cluster"),
            "{}",
            reason.as_str()
        );
    }
}

/// `--until-it-fails` over cases that all skip stops after one run: such a run can never fail.
#[tokio::test]
async fn until_it_fails_stops_when_every_case_skipped() {
    let (_dir, junit) = junit_path();
    let output =
        run(&["logs::gateway_pod_logs_json_lines", "--exact", "--until-it-fails", "--junit", &arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 skipped"), "{stderr}");
}
