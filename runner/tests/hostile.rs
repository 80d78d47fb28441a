//! The runner against targets and moments that try to make it lie or leak: redirects off the
//! target, a kill during the health gate (the report must still be this run's), SIGHUP, leftover
//! temp files of a killed writer. Each test fails on a runner without the matching guard.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::*;
use tokio::io::BufReader;

fn arg(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn property<'a>(report: &'a quick_junit::Report, name: &str) -> Option<&'a str> {
    report.test_suites.iter().flat_map(|s| &s.properties).find(|p| p.name.as_str() == name).map(|p| p.value.as_str())
}

/// Answers every request with `answer` (a whole HTTP/1.1 response) on 127.0.0.1; counts requests.
fn fixed_server(answer: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}")));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, hits)
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

/// A loopback server reading one request per connection and handing its path and the stream to
/// `answer`; returns its URL.
fn path_server(answer: fn(&str, &mut std::net::TcpStream, &'static str), body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}")));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let n = stream.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                answer(&path, &mut stream, body);
            });
        }
    });
    url
}

/// Whether `path` is the health listener's (readiness or liveness).
fn is_health(path: &str) -> bool {
    path.ends_with("/health") || path.ends_with("/healthz") || path.ends_with("/readyz")
}

/// Answers readiness and health 200, everything else 500 with `body`.
fn hostile_gateway(body: &'static str) -> String {
    path_server(
        |path, stream, body| {
            let (status, body) = if is_health(path) { ("200 OK", "{}") } else { ("500 Oops", body) };
            let answer =
                format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes());
        },
        body,
    )
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

/// Readiness and liveness 200; every other request gets a 500 whose chunked body never ends.
fn endless_gateway() -> String {
    path_server(
        |path, stream, _| {
            if is_health(path) {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                return;
            }
            let _ = stream.write_all(b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n");
            let chunk = format!("10000\r\n{}\r\n", "A".repeat(0x10000));
            // Bounded on our side too: at most 4 GiB, or until the runner hangs up.
            for _ in 0..65536 {
                if stream.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
            }
        },
        "",
    )
}

#[tokio::test]
async fn an_endless_answer_is_cut_and_the_report_stays_small() {
    let url = endless_gateway();
    let (_dir, junit) = junit_path();
    let args = ["validation::", "--gateway-url", &url, "--kube", "none", "--timeout", "30s", "-j", "2"];
    let output = run(&[&args[..], &["--junit", &arg(&junit)]].concat()).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{}", &stderr[..stderr.len().min(4000)]);
    assert!(stderr.len() < 10 * 1024 * 1024, "console output {} bytes", stderr.len());
    let size = std::fs::metadata(&junit).map(|m| m.len()).unwrap_or(u64::MAX);
    assert!(size < 10 * 1024 * 1024, "JUnit is {size} bytes");
    let report = read_junit(&junit);
    let failed: Vec<_> = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .filter(|c| matches!(&c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
        .collect();
    assert!(!failed.is_empty());
    for case in failed {
        let timed_out = matches!(&case.status, quick_junit::TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "timeout");
        assert!(!timed_out, "{} waited for the endless body instead of cutting it", case.name.as_str());
    }
    assert_valid_junit4(&junit);
}
