//! The parsers' verdicts against the runner's exit code. Every report is read two ways CI
//! systems read JUnit: junitparser's (the `failures` and `errors` attributes of each
//! `<testsuite>`) and GitLab's `junit.rb` (a `<testcase>` with a `<failure>` or `<error>` child
//! failed; `flakyFailure`/`rerunFailure` are not looked at). For pass, fail, flaky (pass and
//! fail), timeout, gate failure, target set-up failure, SIGINT, suite timeout and merged shards: a report whose exit
//! code is 0 has no failure in either reading, any other has at least one in both.

mod support;

use std::path::Path;

use quick_xml::events::Event;
use support::*;
use tokio::io::BufReader;

/// Failed cases (failures plus errors) as junitparser counts them: the suites' attributes.
fn junitparser_failed(xml: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut failed = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"testsuite" => {
                for name in ["failures", "errors"] {
                    let value = e.try_get_attribute(name).ok().flatten();
                    let count = value.and_then(|a| String::from_utf8_lossy(&a.value).parse::<usize>().ok());
                    failed += count.unwrap_or(0);
                }
            }
            Ok(Event::Eof) => return failed,
            Ok(_) => {}
            Err(e) => panic!("junitparser would refuse this report: {e}\n{xml}"),
        }
    }
}

/// Failed cases as GitLab's reading counts them: testcases with a `failure` or `error` child.
fn gitlab_failed(xml: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut path, mut failed, mut this_case) = (Vec::<Vec<u8>>::new(), 0, false);
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("GitLab would refuse this report: {e}\n{xml}"));
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_vec();
                let in_case = path.last().is_some_and(|p| p == b"testcase");
                this_case |= in_case && (name == b"failure" || name == b"error");
                if name == b"testcase" {
                    this_case = false;
                }
                if empty && name == b"testcase" {
                    continue;
                }
                if !empty {
                    path.push(name);
                }
            }
            Event::End(e) => {
                if e.local_name().as_ref() == b"testcase" {
                    failed += usize::from(this_case);
                }
                path.pop();
            }
            Event::Eof => return failed,
            _ => {}
        }
    }
}

/// Asserts that both readings of the report at `path` agree with `exit`.
fn assert_readers_agree(scenario: &str, exit: Option<i32>, path: &Path) {
    let xml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{scenario}: no report: {e}"));
    let (junitparser, gitlab) = (junitparser_failed(&xml), gitlab_failed(&xml));
    match exit {
        Some(0) => assert_eq!((junitparser, gitlab), (0, 0), "{scenario}: exit 0 but the report is red\n{xml}"),
        _ => assert!(
            junitparser >= 1 && gitlab >= 1,
            "{scenario}: exit {exit:?} but junitparser sees {junitparser} and GitLab {gitlab} failures\n{xml}"
        ),
    }
}

/// Runs the runner with `args` plus `--junit PATH`; the exit code and the report's path.
async fn judged(scenario: &str, dir: &Path, args: &[&str]) -> (Option<i32>, std::path::PathBuf) {
    let path = dir.join(format!("{scenario}.xml"));
    let junit = path.to_string_lossy().into_owned();
    let output = run(&[args, &["--junit", &junit]].concat()).await;
    assert_readers_agree(scenario, output.status.code(), &path);
    (output.status.code(), path)
}

#[test]
fn the_readings_count_what_ci_parsers_count() {
    let xml = r#"<testsuites><testsuite name="s" tests="3" failures="1" errors="1">
        <testcase name="a"><flakyFailure message="x"/></testcase>
        <testcase name="b"><failure message="y">text</failure><rerunFailure/></testcase>
        <testcase name="c"><error/></testcase><testcase name="d"/></testsuite></testsuites>"#;
    assert_eq!((junitparser_failed(xml), gitlab_failed(xml)), (2, 2));
}

#[tokio::test]
async fn pass_fail_and_timeout() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (exit, _) = judged("pass", dir.path(), &["validation::"]).await;
    assert_eq!(exit, Some(0));
    let garbage = fake_gateway(Behaviour::Garbage);
    let (exit, _) = judged("fail", dir.path(), &["validation::", "--gateway-url", &garbage, "--kube", "none"]).await;
    assert_eq!(exit, Some(1));
    let slow = ["validation::m", "--double-fault", "latency=3s", "--timeout", "1s"];
    let (exit, _) = judged("timeout", dir.path(), &slow).await;
    assert_eq!(exit, Some(1));
}

#[tokio::test]
async fn flaky_cases_pass_or_fail_as_the_flag_says() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // One worker, name order and a seed make the sequence of 503s the same on every run.
    let args = ["--label-filter", "events", "-j", "1", "--order", "name", "--retries", "10"];
    let args = [&args[..], &["--double-fault", "fail-fraction=0.3,seed=7"]].concat();
    let (exit, path) = judged("flaky-pass", dir.path(), &args).await;
    assert_eq!(exit, Some(0));
    let xml = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(xml.contains("<flakyFailure"), "the run had no flaky case to judge: {xml}");
    let (exit, _) = judged("flaky-fail", dir.path(), &[&args[..], &["--flaky-result", "fail"]].concat()).await;
    assert_eq!(exit, Some(1));
}

#[tokio::test]
async fn gate_failure_and_suite_timeout() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let args = ["--gateway-url", &closed, "--kube", "none", "--health-timeout", "1s"];
    let (exit, _) = judged("gate", dir.path(), &args).await;
    assert_eq!(exit, Some(2));
    let hang = fake_gateway(Behaviour::Hang);
    let args = ["--gateway-url", &hang, "--kube", "none", "--suite-timeout", "1s"];
    let (exit, _) = judged("suite-timeout", dir.path(), &args).await;
    assert_eq!(exit, Some(1));
}

#[tokio::test]
async fn target_setup_failure() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("setup.xml");
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let junit = path.to_string_lossy().into_owned();
    // Outside a pod `--kube in-cluster` has no credentials: the target cannot be set up.
    let mut cmd = command(&["--gateway-url", &closed, "--kube", "in-cluster", "--junit", &junit]);
    cmd.env_remove("KUBERNETES_SERVICE_HOST").env_remove("KUBERNETES_SERVICE_PORT");
    let output = tokio::time::timeout(DEADLINE, cmd.output()).await.unwrap_or_else(|_| panic!("runner hung"));
    let output = output.unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: --kube in-cluster"), "{stderr}");
    assert_readers_agree("setup", output.status.code(), &path);
}

#[tokio::test]
async fn sigint() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("sigint.xml");
    let hang = fake_gateway(Behaviour::Hang);
    let junit = path.to_string_lossy().into_owned();
    let mut child = command(&["--gateway-url", &hang, "--kube", "none", "--junit", &junit])
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let mut stderr = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("no stderr")));
    wait_for_line(&mut stderr, "healthy after").await;
    let pid = child.id().unwrap_or_else(|| panic!("no pid")).to_string();
    let sent = std::process::Command::new("kill").args(["-INT", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()));
    let status = tokio::time::timeout(DEADLINE, child.wait()).await;
    let exit = status.ok().and_then(Result::ok).and_then(|s| s.code());
    assert_eq!(exit, Some(130));
    assert_readers_agree("sigint", exit, &path);
}

#[tokio::test]
async fn merged_shards_are_red_when_one_shard_is() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (pass, passed) = judged("shard-pass", dir.path(), &["validation::", "--partition", "slice:1/2"]).await;
    assert_eq!(pass, Some(0));
    let hang = fake_gateway(Behaviour::Hang);
    let cut = ["validation::", "--gateway-url", &hang, "--kube", "none", "--suite-timeout", "1s"];
    let (cut_exit, cut_short) =
        judged("shard-cut", dir.path(), &[&cut[..], &["--partition", "slice:2/2"]].concat()).await;
    assert_eq!(cut_exit, Some(1));
    for (name, inputs, exit) in [("merged-green", vec![&passed], 0), ("merged-red", vec![&passed, &cut_short], 1)] {
        let merged = dir.path().join(format!("{name}.xml"));
        let mut args = vec!["merge-junit".to_owned(), merged.to_string_lossy().into_owned()];
        args.extend(inputs.iter().map(|p| p.to_string_lossy().into_owned()));
        let output = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
        assert!(output.status.success(), "{:?}", texts(&output));
        // CI fails a sharded job when a shard failed: the merged report must say the same.
        assert_readers_agree(name, Some(exit), &merged);
    }
}
