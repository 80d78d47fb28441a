//! The runner against targets and moments that try to make it lie or leak: redirects off the
//! target, a kill during the health gate (the report must still be this run's), SIGHUP, leftover
//! temp files of a killed writer, remote text posing as workflow commands; `bounds` holds what
//! the target sends in bulk (memory, report size, the token across the log cut). Each test fails
//! on a runner without the matching guard.

mod support;

#[path = "hostile/bounds.rs"]
mod bounds;
#[path = "hostile/servers.rs"]
mod servers;

use std::sync::atomic::Ordering;

use servers::*;
use support::*;
use tokio::io::BufReader;

fn property<'a>(report: &'a quick_junit::Report, name: &str) -> Option<&'a str> {
    report.test_suites.iter().flat_map(|s| &s.properties).find(|p| p.name.as_str() == name).map(|p| p.value.as_str())
}

#[tokio::test]
async fn a_redirect_off_the_target_is_an_answer_not_a_hop() {
    let healthy = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_owned();
    let (elsewhere, elsewhere_hits) = fixed_server(healthy);
    let redirect =
        format!("HTTP/1.1 302 Found\r\nLocation: {elsewhere}/health\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let (target, _) = fixed_server(redirect);
    let (_dir, junit) = junit_path();
    let output =
        run(&["--gateway-url", &target, "--kube", "none", "--health-timeout", "1s", "--junit", &arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "a 302 is not healthy: {stderr}");
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0, "the runner followed the redirect: {stderr}");
}

#[tokio::test]
async fn a_run_killed_during_the_gate_leaves_its_own_report_not_the_last_one() {
    let (_dir, junit) = junit_path();
    let old = "<testsuites name=\"an earlier run\" tests=\"70\"/>";
    std::fs::create_dir_all(junit.with_file_name("")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&junit, old).unwrap_or_else(|e| panic!("{e}"));
    let leftover = junit.with_file_name(".junit.xml.partial-Ab12Cd");
    std::fs::write(&leftover, "half a report").unwrap_or_else(|e| panic!("{e}"));
    let gateway = format!("http://127.0.0.1:{}", closed_port());
    let mut child =
        command(&["--gateway-url", &gateway, "--kube", "none", "--health-timeout", "60s", "--junit", &arg(&junit)])
            .spawn()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "health").await;
    let _ = child.start_kill();
    let _ = tokio::time::timeout(DEADLINE, child.wait()).await;
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(!xml.contains("an earlier run"), "the earlier run's report survived: {xml}");
    assert_eq!(property(&read_junit(&junit), "complete"), Some("false"), "{xml}");
    assert_valid_junit4(&junit);
    assert!(!leftover.exists(), "a killed writer's temp file is left next to the report");
}

#[tokio::test]
async fn sighup_stops_the_run_like_sigterm_with_an_interrupted_report() {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    let mut child = command(&["--gateway-url", &url, "--kube", "none", "--junit", &arg(&junit)])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "healthy after").await;
    let pid = child.id().unwrap_or_else(|| panic!("no pid")).to_string();
    let sent = std::process::Command::new("kill").args(["-HUP", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;
    assert_eq!(status.ok().and_then(Result::ok).and_then(|s| s.code()), Some(130));
    let report = read_junit(&junit);
    assert_eq!(property(&report, "complete"), Some("false"));
    assert!(report.errors > 0, "{report:#?}");
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn a_reached_suite_timeout_is_red_in_the_report_too() {
    let url = fake_gateway(Behaviour::Hang);
    let (_dir, junit) = junit_path();
    let output =
        run(&["--gateway-url", &url, "--kube", "none", "--suite-timeout", "1s", "--junit", &arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report = read_junit(&junit);
    assert_eq!(property(&report, "complete"), Some("false"));
    let run_entry = report.test_suites.iter().flat_map(|s| &s.test_cases).find(|c| c.name.as_str() == "run");
    assert!(
        run_entry.is_some_and(|c| matches!(&c.status, quick_junit::TestCaseStatus::NonSuccess { .. })),
        "{report:#?}"
    );
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn on_github_only_the_runners_own_lines_are_workflow_commands() {
    let url =
        hostile_gateway("bad\n::add-mask::x\r\n  ::error file=a.rs,line=1::owned\n::stop-commands::t\n\u{1b}]0;t\u{7}");
    let (dir, junit) = junit_path();
    let summary = dir.path().join("summary.md");
    let mut cmd = command(&["validation::", "--gateway-url", &url, "--kube", "none", "--junit", &arg(&junit)]);
    cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary);
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let commands: Vec<&str> =
        stdout.lines().chain(stderr.lines()).filter(|l| l.trim_start().starts_with("::")).collect();
    assert!(!commands.is_empty(), "failed cases are annotated: {stderr}");
    for line in &commands {
        assert!(line.starts_with("::error file=suites/src/gateway/"), "a line not of the runner's own: {line}");
        assert!(line.contains(",line=") && line.contains(",title=validation%3A%3A"), "{line}");
        assert!(!line.contains("::add-mask::") && !line.contains("::stop-commands::"), "{line}");
    }
    assert!(!stderr.contains('\u{1b}'), "escape bytes reached the console");
    let md = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(md.starts_with("### ❌ gateway e2e") && md.contains("| failed case | why |"), "{md}");
}

#[tokio::test]
async fn libtest_json_on_stdout_one_event_per_line() {
    let (_dir, junit) = junit_path();
    let output = run(&[
        "--format",
        "json",
        "-Z",
        "unstable-options",
        "--exact",
        "no::such::case",
        "--allow-empty",
        "--junit",
        &arg(&junit),
    ])
    .await;
    assert_eq!(output.status.code(), Some(0));
    let url = fake_gateway(Behaviour::Garbage);
    let output = run(&[
        "validation::",
        "--gateway-url",
        &url,
        "--kube",
        "none",
        "--format",
        "json",
        "-Z",
        "unstable-options",
        "--junit",
        &arg(&junit),
    ])
    .await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let events: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert_eq!(events.first().map(|e| e["event"].clone()), Some("started".into()), "{stdout}");
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!((last["type"].as_str(), last["event"].as_str()), (Some("suite"), Some("failed")), "{stdout}");
    let finished = events.iter().filter(|e| e["type"] == "test" && e["event"] != "started").count();
    assert_eq!(Some(finished as u64), events[0]["test_count"].as_u64(), "one finish per case: {stdout}");
    assert!(events.iter().any(|e| e["event"] == "failed" && e["stdout"].is_string()));
}

#[tokio::test]
async fn gateway_bytes_reach_the_console_as_visible_escapes_only() {
    let url =
        hostile_gateway("clear:\u{1b}[2J\u{1b}[H title:\u{1b}]0;pwned\u{7} nul:\u{0} cr:\r bs:\u{8} csi:\u{9b}2J");
    let (_dir, junit) = junit_path();
    let args = ["validation::", "--gateway-url", &url, "--kube", "none", "--nocapture", "--junit", &arg(&junit)];
    let output = run(&args).await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("clear:"), "the body is shown: {stderr}");
    for text in [&stdout, &stderr] {
        let raw = text.chars().find(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{0}' | '\u{8}' | '\r' | '\u{9b}'));
        assert_eq!(raw, None, "a raw control character reached the console");
    }
}

/// A SIGTERM while set-up waits on a cluster that never answers ends the run at once with 130 and
/// a report that says it was cut short, not a process killed by the signal.
#[tokio::test]
async fn a_signal_during_set_up_ends_the_run_with_its_report() {
    let (asked_tx, asked) = std::sync::mpsc::channel::<()>();
    let (_hold, held) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Arc::new(std::sync::Mutex::new(held));
    let api = server(move |_, _| {
        let _ = asked_tx.send(());
        // Never answers: holds the connection until the test ends.
        let _ = held.lock().map(|held| held.recv());
    });
    let (dir, junit) = junit_path();
    let kubeconfig = dir.path().join("kubeconfig");
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {api}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
         current-context: c\nusers:\n- name: u\n  user:\n    token: abc\n"
    );
    std::fs::write(&kubeconfig, yaml).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://127.0.0.1:{}", closed_port());
    let mut cmd = command(&["--gateway-url", &url, "--junit", &arg(&junit)]);
    cmd.env("KUBECONFIG", &kubeconfig);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let waited = tokio::task::spawn_blocking(move || asked.recv_timeout(DEADLINE).is_ok()).await;
    assert!(waited.is_ok_and(|w| w), "set-up never asked the cluster");
    let pid = child.id().unwrap_or_else(|| panic!("no pid")).to_string();
    let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output()).await;
    let output = output.unwrap_or_else(|_| panic!("runner hung")).unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(xml.contains("interrupted by SIGTERM (during set-up)"), "{xml}");
    assert!(xml.contains(r#"name="complete" value="false""#), "{xml}");
}
