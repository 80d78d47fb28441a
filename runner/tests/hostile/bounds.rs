//! What a target sends in bulk cannot make the runner grow or leak: an endless or huge answer is
//! cut (peak memory under 100 MB, JUnit and console under 10 MB), a Bearer token echoed at every
//! offset around the case log's cut never shows, a redirect is the case's answer, and a report
//! that cannot be written at the end fails an otherwise passing run.

use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::servers::*;
use crate::support::*;

/// Peak memory the runner may reach whatever the target sends.
const MAX_PEAK_RSS: u64 = 100 * 1024 * 1024;
/// Largest JUnit report or console output whatever the target sends.
const MAX_REPORT_BYTES: u64 = 10 * 1024 * 1024;
/// Characters of an answer body the suites copy into a case log.
const LOG_CUT: usize = 2048;

/// The runner process's peak resident memory so far (`VmHWM`, bytes), or `None` once it is gone
/// (or before it has become the runner: between fork and exec it is a copy of this test).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.strip_prefix("Name:").is_some_and(|n| n.trim() == "runner"))?;
    let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim();
    kib.parse::<u64>().ok().map(|k| k * 1024)
}

/// Runs the runner with `args`, sampling its peak memory until it exits; the output and the
/// highest peak seen.
async fn run_sampling_memory(args: &[&str]) -> (Output, u64) {
    let child = command(args).spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let pid = child.id().unwrap_or_else(|| panic!("no pid"));
    let mut output = std::pin::pin!(child.wait_with_output());
    let mut deadline = std::pin::pin!(tokio::time::sleep(DEADLINE));
    let mut sample = tokio::time::interval(Duration::from_millis(10));
    let mut peak = 0;
    loop {
        tokio::select! {
            done = &mut output => return (done.unwrap_or_else(|e| panic!("{e}")), peak),
            _ = sample.tick() => peak = peak.max(peak_rss(pid).unwrap_or(0)),
            () = &mut deadline => panic!("runner did not finish within {DEADLINE:?}: {args:?}"),
        }
    }
}

/// Runs the validation cases against `url` and asserts the run stayed within bounds.
async fn assert_bounded_against(url: &str, what: &str) {
    let (_dir, junit) = junit_path();
    let args = ["validation::", "--gateway-url", url, "--kube", "none", "--timeout", "30s", "-j", "2"];
    let (output, peak) = run_sampling_memory(&[&args[..], &["--junit", &arg(&junit)]].concat()).await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{what}: {}", &stderr[..stderr.len().min(4000)]);
    assert!(peak > 0, "{what}: no memory sample was taken");
    assert!(peak < MAX_PEAK_RSS, "{what}: peak memory {} MiB", peak >> 20);
    let console = (stdout.len() + stderr.len()) as u64;
    assert!(console < MAX_REPORT_BYTES, "{what}: console output {console} bytes");
    let size = std::fs::metadata(&junit).map(|m| m.len()).unwrap_or(u64::MAX);
    assert!(size < MAX_REPORT_BYTES, "{what}: JUnit is {size} bytes");
    let report = read_junit(&junit);
    let failed: Vec<_> = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .filter(|c| matches!(&c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
        .collect();
    assert!(!failed.is_empty(), "{what}");
    for case in failed {
        let timed_out = matches!(&case.status, quick_junit::TestCaseStatus::NonSuccess { ty: Some(t), .. } if t.as_str() == "timeout");
        assert!(!timed_out, "{what}: {} waited for the whole body instead of cutting it", case.name.as_str());
    }
    assert_valid_junit4(&junit);
}

#[tokio::test]
async fn an_endless_answer_is_cut_and_memory_and_reports_stay_small() {
    assert_bounded_against(&endless_gateway(), "endless chunked body").await;
}

#[tokio::test]
async fn a_50_mib_answer_is_cut_and_memory_and_reports_stay_small() {
    assert_bounded_against(&huge_gateway(50), "50 MiB body").await;
}

#[tokio::test]
async fn a_token_echoed_at_every_offset_around_the_log_cut_never_shows() {
    let (url, echoed) = token_echo_gateway(LOG_CUT);
    let token = "Qz7vK2pX9wL4";
    let (output, _dir, junit) = run_with_token("validation::", &url, token).await;
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(echoed.load(Ordering::SeqCst) >= token.len() + 3, "not every offset was sent");
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(stderr.contains("[RE"), "the logs show the echo, redacted: {stderr}");
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("junit", &xml)] {
        assert!(!text.contains(&token[..3]), "{what} shows a piece of the token");
    }
}

#[tokio::test]
async fn a_redirect_answered_to_a_case_is_its_answer_and_nothing_goes_elsewhere() {
    let (elsewhere, elsewhere_hits) = fixed_server(answer("200 OK", "{}"));
    let redirect =
        format!("HTTP/1.1 302 Found\r\nLocation: {elsewhere}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let target = server(move |head, stream| {
        let text = if is_health(head) { answer("200 OK", "{}") } else { redirect.clone() };
        let _ = std::io::Write::write_all(stream, text.as_bytes());
    });
    let (_dir, junit) = junit_path();
    let output = run(&["validation::", "--gateway-url", &target, "--kube", "none", "--junit", &arg(&junit)]).await;
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0, "a case followed the redirect: {stderr}");
    assert!(stderr.contains("got 302"), "the case saw the 302: {stderr}");
}

#[tokio::test]
async fn a_report_that_cannot_be_written_at_the_end_fails_a_passing_run() {
    let (url, asked, release) = held_liveness_gateway();
    let (dir, junit) = junit_path();
    let junit_arg = arg(&junit);
    let args =
        ["health::health_answers_200_json", "--exact", "--gateway-url", &url, "--kube", "none", "--junit", &junit_arg];
    // The same run passes while the report's directory stays in place.
    release.send(()).unwrap_or_else(|e| panic!("{e}"));
    let output = run(&args).await;
    assert_eq!(output.status.code(), Some(0), "{}", texts(&output).1);
    while asked.try_recv().is_ok() {}
    let child = command(&args).spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let waited = tokio::task::spawn_blocking(move || asked.recv_timeout(DEADLINE).is_ok()).await;
    assert!(waited.is_ok_and(|w| w), "the case never asked for liveness");
    // While the case waits for its answer, the report's directory becomes a plain file.
    let out_dir = junit.parent().unwrap_or_else(|| panic!("no parent")).to_path_buf();
    std::fs::remove_dir_all(&out_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&out_dir, "not a directory").unwrap_or_else(|e| panic!("{e}"));
    release.send(()).unwrap_or_else(|e| panic!("{e}"));
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output()).await;
    let output = output.unwrap_or_else(|_| panic!("runner hung")).unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = texts(&output);
    assert!(stderr.contains("1 passed"), "the case itself passed: {stderr}");
    assert!(stderr.contains("could not write the JUnit report"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    drop(dir);
}
